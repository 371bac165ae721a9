"""Parity of the scores from the literature (issue 15) with their reference code: the reference implementation and
ours on the same model and texts, printing the largest relative difference per score.

Nothing of the reference code is copied into this repository. Two ways are used, named in the table:
- ``run``: the reference's own code is imported from a checkout given on the command line and run here. The peer
  tool fast-mia (github.com/Nikkei/fast-mia, ``src/methods/``) runs its methods on vLLM; this script imports its
  method files unchanged with a stand-in for the few vLLM names they import, whose ``generate`` returns what vLLM
  would: the prompt log-probabilities from a plain Hugging Face forward pass (float32, whole text in one window)
  and, for SaMIA, the continuations our sampler drew. CAMIA's signal functions come from ``util_features.py`` of
  github.com/changhongyan123/context_aware_mia; Tag&Tab's keyword selection from ``src/helpers.py`` of
  github.com/sagivantebi/Tag-Tab (its ``datasets`` / ``wordfreq`` imports stubbed: the functions used need neither).
- ``verbatim``: where the reference is a script that cannot be imported (it runs on import or imports packages
  this project does not have), its formula is re-implemented here line for line, with a link to the lines.

Usage (checkouts of the reference repositories, e.g. ``git clone`` or ``git archive`` of each):
    python bench/parity_attacks.py --fast-mia DIR --camia DIR --tagtab DIR [--model tiny|default|PATH]

The table lists, per score, the largest relative difference |ours - reference| / max(|reference|, 1e-12) over the
texts, first with the reference's own conventions reproduced (the formula check), then with this project's
defaults where they differ on purpose (separator, truncation): see each module's docstring and the notes printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import random
import sys
import types
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance.lm.token_stats import ScoringSettings  # noqa: E402
from provenance.scores import camia, dcpdd, perturbation, prefix_attacks, sampling, token_attacks  # noqa: E402


# ---------------------------------------------------------------------------------------------------------------
# The model and the texts


def load(spec: str):
    if spec == "tiny":
        from provenance.lm.training import build_small_model

        rng = random.Random(0)
        words = "the a cat dog bird sat ran on under mat house tree river big small red blue old young and".split()
        corpus = [" ".join(rng.choice(words) for _ in range(40)).capitalize() + "." for _ in range(200)]
        return build_small_model(corpus, vocab_size=400, context_length=1024, name="parity-tiny")
    from provenance.lm.loading import load_model

    return load_model(spec, device="cpu", dtype="float32")


def sample_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    subjects = ["The river", "An old map", "The committee", "A small bakery", "The orchestra", "Our neighbour"]
    verbs = ["crossed", "described", "rebuilt", "ignored", "followed", "painted"]
    objects = ["the northern valley", "a forgotten bridge", "three green doors", "the winter market",
               "an empty station", "the long report"]
    out = []
    for _ in range(n):
        sentences = [f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} on day {rng.randint(1, 99)}."
                     for _ in range(rng.randint(3, 6))]
        out.append(" ".join(sentences))
    return out


def hf_prompt_logprobs(model, text: str) -> tuple[list[int], list[float]]:
    """The reference engine: token ids and per-token log-probabilities (token 1..n-1) of one text from a plain
    forward pass of the Hugging Face network over the whole text, float32."""
    ids = model.tokenizer(text)["input_ids"]
    with torch.no_grad():
        logits = model.model(torch.tensor([ids])).logits[0].float()
    lp = torch.log_softmax(logits[:-1], -1).gather(-1, torch.tensor(ids[1:])[:, None])[:, 0]
    return ids, lp.tolist()


# ---------------------------------------------------------------------------------------------------------------
# A stand-in for the vLLM names fast-mia imports


class _Logprob:
    def __init__(self, value: float):
        self.logprob = value


class _Sample:
    def __init__(self, text: str):
        self.text = text


class _Output:
    def __init__(self, prompt_logprobs=None, samples=()):
        self.prompt_logprobs = prompt_logprobs
        self.outputs = [_Sample(s) for s in samples]


class FakeLLM:
    """``generate(texts, params)`` as vLLM answers it for prompt log-probabilities (first entry None), or with the
    given continuations for prompts found in ``samples``."""

    def __init__(self, model, samples: dict[str, list[str]] | None = None):
        self.model, self.samples = model, samples or {}
        config = types.SimpleNamespace(max_model_len=model.context_length,
                                       hf_config=types.SimpleNamespace(vocab_size=model.vocab_size), model="parity")
        self.llm_engine = types.SimpleNamespace(model_config=config)

    def generate(self, texts, params=None, lora_request=None):
        out = []
        for t in texts:
            if t in self.samples:
                out.append(_Output(samples=self.samples[t]))
                continue
            ids, lp = hf_prompt_logprobs(self.model, t)
            out.append(_Output([None] + [{i: _Logprob(v)} for i, v in zip(ids[1:], lp)]))
        return out


def stub_modules() -> None:
    """Empty stand-ins for the vLLM (and other) names the reference files import but the parts run here never use."""
    names = {"vllm": ["LLM", "SamplingParams"], "vllm.lora": [], "vllm.lora.request": ["LoRARequest"],
             "vllm.outputs": ["RequestOutput"], "vllm.transformers_utils": [],
             "vllm.transformers_utils.tokenizer": ["AnyTokenizer"], "vllm.distributed": [],
             "vllm.distributed.parallel_state": ["destroy_model_parallel"], "datasets": ["load_dataset"],
             "wordfreq": ["word_frequency"]}
    for name, attrs in names.items():
        if name in sys.modules:
            continue
        module = types.ModuleType(name)
        module.__path__ = []
        for a in attrs:
            setattr(module, a, type(a, (), {"__init__": lambda self, *args, **kw: None}))
        sys.modules[name] = module
    sys.modules["vllm"].SamplingParams = lambda **kw: types.SimpleNamespace(**kw)


def import_file(path: Path, name: str, package: str | None = None):
    spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=None)
    module = importlib.util.module_from_spec(spec)
    if package:
        module.__package__ = package
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def fast_mia(root: Path):
    """fast-mia's method modules, imported from a checkout as the package ``fastmia``."""
    stub_modules()
    package = types.ModuleType("fastmia")
    package.__path__ = [str(root / "src" / "methods")]
    sys.modules["fastmia"] = package
    mods = {}
    for name in ("base", "prefix_utils", "recall", "conrecall", "pac", "dcpdd", "samia", "neighbour"):
        mods[name] = import_file(root / "src" / "methods" / f"{name}.py", f"fastmia.{name}", "fastmia")
    return mods


# ---------------------------------------------------------------------------------------------------------------
# Verbatim re-implementations (each links the lines it follows)


def dcpdd_reference(probs: np.ndarray, input_ids: np.ndarray, fre_dis: np.ndarray, a: float) -> float:
    """DC-PDD's ``cal_met`` (github.com/zhang-wei-chao/DC-PDD/blob/main/com_det_sco.py, the lines from "tokens with
    first occurance in text" to ``pred["DC-PDD"]``) with the smoothed table of its ``__main__`` (``fre_dis_smo``),
    which is what the paper defines (the script passes the unsmoothed global by mistake); returned negated, as its
    ``sweep`` negates it for the AUC (higher = member)."""
    indexes = []
    current_ids = []
    for i, input_id in enumerate(input_ids):
        if input_id not in current_ids:
            indexes.append(i)
            current_ids.append(input_id)
    x_pro = probs[indexes]
    x_fre = fre_dis[input_ids[indexes]]
    ce = x_pro * np.log(1 / x_fre)
    ce[ce > a] = a
    return -(-np.mean(ce))


def gapk_reference(model, text: str, ratio: float = 0.2, window: int = 3) -> float:
    """Gap-K% of github.com/meaoww/gap-k/blob/main/mimir.py (``window_lowmean`` and the lines from ``top1_id`` to
    ``scores[f"gapk_{RATIO}"]``): sigma from the centred variance, moving average, mean of the lowest k%."""
    ids = torch.tensor([model.tokenizer(text)["input_ids"]])
    with torch.no_grad():
        logits = model.model(ids).logits
    logits_tv = logits[0, :-1].float()
    true_ids = ids[0, 1:]
    log_probs = torch.nn.functional.log_softmax(logits_tv, dim=-1)
    probs = log_probs.exp()
    token_log_probs = log_probs.gather(dim=-1, index=true_ids.unsqueeze(-1)).squeeze(-1)
    top1_id = torch.argmax(logits_tv, dim=-1)
    top1_logp = log_probs.gather(dim=-1, index=top1_id.unsqueeze(-1)).squeeze(-1)
    gap = token_log_probs - top1_logp
    mu_w = (probs * log_probs).sum(dim=-1)
    var_w = (probs * (log_probs - mu_w.unsqueeze(-1)).pow(2)).sum(dim=-1)
    x = (gap / torch.sqrt(var_w)).numpy().astype(np.float64)
    if x.size < window:
        smoothed = x
    else:
        smoothed = np.convolve(x, np.ones(window, dtype=np.float64) / window, mode="valid")
    k = max(1, int(len(smoothed) * ratio))
    return float(np.mean(np.sort(smoothed)[:k]))


def count_above_pre_reference(x: list[float], cut_off: int) -> float:
    """``count_above_pre`` of github.com/changhongyan123/context_aware_mia/blob/main/run_ours_different_agg.py
    (the loop over ``cut_off in [1000000000, 200, 300]``)."""
    x_pre_mean = [np.mean(x[:t]) for t in range(1, min(cut_off, len(x)))]
    x_cur = [x[t] for t in range(1, min(cut_off, len(x)))]
    return float(np.mean(np.array(x_cur) > np.array(x_pre_mean)))


# ---------------------------------------------------------------------------------------------------------------


PARAMS = types.SimpleNamespace(max_tokens=1, temperature=0.0, top_p=1.0)  # what fast-mia's cache key reads


def rel(ours, ref) -> float:
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-12)))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fast-mia", required=True, type=Path, help="checkout of github.com/Nikkei/fast-mia")
    p.add_argument("--camia", required=True, type=Path, help="checkout of github.com/changhongyan123/context_aware_mia")
    p.add_argument("--tagtab", required=True, type=Path, help="checkout of github.com/sagivantebi/Tag-Tab")
    p.add_argument("--model", default="tiny", help="'tiny' (built here, seconds), 'default' or a model folder")
    p.add_argument("--texts", type=int, default=8, help="texts judged (default 8)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    model = load(args.model)
    texts = sample_texts(args.texts, args.seed)
    non_members = sample_texts(4, args.seed + 1)
    members = sample_texts(4, args.seed + 2)
    fm = fast_mia(args.fast_mia)
    llm = FakeLLM(model)
    settings = ScoringSettings()
    stats = {t: s for t, s in zip(texts, model.token_statistics(texts, settings))}
    rows, notes = [], []

    def stats_of(strings, top_k=0):
        return model.token_statistics(list(strings), ScoringSettings(top_k=top_k))

    # -- loss family sanity: our per-token log-probabilities against the reference engine
    ref_lp = [hf_prompt_logprobs(model, t)[1] for t in texts]
    rows.append(("(token log-probabilities)", "engine", max(rel(stats[t].logprob, r) for t, r in zip(texts, ref_lp)),
                 "our windows / chunks against one plain forward pass"))

    # -- ReCaLL and Con-ReCall (fast-mia run(), with its random prefix choice reproduced)
    sep = model.tokenizer.bos_token or ""
    n_shots = 3

    def our_conditional(prefix_texts: list[str], text: str, joined_with: str = "", tail: str = "") -> float:
        prefix = joined_with.join(prefix_texts) + tail
        return prefix_attacks.conditional_nll(stats_of([prefix + text])[0], len(prefix))

    labels = [1] * len(texts) + [0] * len(non_members)
    random.seed(args.seed)
    shots = random.sample(non_members, n_shots)
    random.seed(args.seed)
    ref = fm["recall"].ReCaLLMethod({"num_shots": n_shots}).run(texts + non_members, labels, llm, model.tokenizer,
                                                                      PARAMS)
    ours = [prefix_attacks.recall_score(stats[t].nll, our_conditional(shots, t, "", sep)) for t in texts]
    rows.append(("recall", "run fast-mia", rel(ours, ref[:len(texts)]), f"prefix joined with nothing + {sep!r}"))
    default = [prefix_attacks.recall_score(stats[t].nll, our_conditional(shots, t, "\n\n", "\n\n")) for t in texts]
    rows.append(("recall (our default)", "run fast-mia", rel(default, ref[:len(texts)]),
                 "prefix texts separated and ended by a blank line"))

    labels_c = [0] * len(texts) + [0] * len(non_members) + [1] * len(members)
    random.seed(args.seed)
    shots_m = random.sample(members, n_shots)
    shots_n = random.sample(texts + non_members, n_shots)  # label 0 in the order given
    random.seed(args.seed)
    ref = fm["conrecall"].CONReCaLLMethod({"num_shots": n_shots}).run(texts + non_members + members, labels_c, llm,
                                                                       model.tokenizer, PARAMS)
    ours = [prefix_attacks.conrecall_score(stats[t].nll, our_conditional(shots_n, t, "", sep),
                                           our_conditional(shots_m, t, "", sep)) for t in texts]
    rows.append(("conrecall", "run fast-mia", rel(ours, ref[:len(texts)]), "same prefixes as the reference drew"))

    # -- PAC (fast-mia run(); its eda uses the global random module: seeded identically per text)
    ref, ours = [], []
    for t in texts:
        random.seed(args.seed)
        ref.append(fm["pac"].PACMethod({}).run([t], llm, PARAMS)[0])
        ours.append(perturbation.pac(stats[t], stats_of(perturbation.augmentations(t, rng=random.Random(args.seed)))))
    rows.append(("pac", "run fast-mia", rel(ours, ref), "same swaps: same algorithm, same seed"))
    pd_ref = [fm["pac"].calculate_polarized_distance(r) for r in ref_lp]
    rows.append(("pac: polarized distance", "run fast-mia", rel([perturbation.polarized_distance(stats[t].logprob)
                                                                   for t in texts], pd_ref), ""))

    # -- DC-PDD (verbatim reference formula; fast-mia's run() for comparison)
    counts = dcpdd.token_counts((model.tokenize(t)[0] for t in non_members), model.vocab_size)
    freq = dcpdd.smoothed_frequencies(counts)
    ref = []
    for t in texts:
        ids, lp = hf_prompt_logprobs(model, t)
        ref.append(dcpdd_reference(np.exp(np.array(lp)), np.array(ids[1:]), freq, 0.01))
    ours = [dcpdd.dcpdd(stats[t], freq) for t in texts]
    rows.append(("dcpdd", "verbatim DC-PDD", rel(ours, ref), "smoothed table, first occurrences, clip 0.01"))
    fm_dc = fm["dcpdd"].DCPDDMethod({})
    fm_ref = [fm_dc.process_output(o, list(model.tokenizer(t)["input_ids"][1:]), counts.tolist())
              for o, t in zip(llm.generate(texts), texts)]
    rows.append(("dcpdd vs fast-mia", "run fast-mia", rel(ours, fm_ref),
                 "fast-mia: raw counts (no smoothing), sign kept as -mean: not the paper's"))

    # -- SaMIA (fast-mia run() on the continuations our sampler drew). The original SaMIA code generated with
    # Hugging Face, whose output repeats the prompt; fast-mia drops the first round(W/2) words of each output to
    # remove it. The stand-in returns prompt + continuation, as that code saw it.
    samples, ours, odd = {}, [], []
    for t in texts:
        prompt, reference = sampling.split_prefix(t)
        drawn = model.sampled_continuations(prompt, num_samples=5, max_new_tokens=48, top_k=50, seed=args.seed)
        # plus one sample that repeats most of the true rest (every third word replaced), so that a model that
        # reproduces nothing still gives the formula something to count
        drawn = drawn[:4] + [" ".join("zzz" if i % 3 == 2 else w for i, w in enumerate(reference))]
        samples[prompt] = [prompt + " " + d for d in drawn]
        ours.append(sampling.samia_from_samples(drawn, reference))
        odd.append(len(t.split()) % 2 == 1)
    fm["base"].BaseMethod.clear_cache()
    llm_s = FakeLLM(model, samples)
    ref = np.array([fm["samia"].SaMIAMethod({"zlib": False}).run([t], llm_s, data_config={"text_length": len(t.split())})[0]
                    for t in texts])
    even = ~np.array(odd)
    rows.append((f"samia ({int(even.sum())} even-W texts)", "run fast-mia",
                 rel(np.array(ours)[even], ref[even]) if even.any() else math.nan, "same samples"))
    rows.append((f"samia ({int((~even).sum())} odd-W texts)", "run fast-mia",
                 rel(np.array(ours)[~even], ref[~even]) if (~even).any() else math.nan,
                 "odd W: the reference's round() (half to even) splits elsewhere than its own int()"))

    # -- Gap-K% (verbatim)
    ours = [token_attacks.gapk(s) for s in stats_of(texts, top_k=1)]
    rows.append(("gapk", "verbatim gap-k", rel(ours, [gapk_reference(model, t) for t in texts]), ""))

    # -- CAMIA signals (run util_features) and the percentile aggregation
    uf = import_file(args.camia / "util_features.py", "camia_util_features")
    x = [list(r) for r in ref_lp]
    labels_ids = [list(model.tokenize(t)[0][1:]) for t in texts]
    ref_sig = np.column_stack([uf.get_loss([r + [0.0] for r in x], 0, -1)]  # [0:-1] drops the last: pad it back
                              + [uf.get_loss(x, 0, c) for c in (200, 300)]
                              + [uf.get_count_above(x, tau, 0, 200) for tau in (-1, -2, -3)]
                              + [uf.get_loss([r + [0.0] for r in x], 0, -1)
                                 / uf.get_token_diversity([i + [-1] for i in labels_ids], 0, -1)]
                              + [uf.get_loss(x, 0, c) / uf.get_token_diversity(labels_ids, 0, c) for c in (200, 300)]
                              + [np.array([count_above_pre_reference(r, c) for r in x]) for c in (10 ** 9, 200, 300)])
    ours_sig = np.vstack([camia.signals(stats[t]) for t in texts])
    rows.append(("camia: signals", "run util_features", rel(ours_sig, ref_sig),
                 "the reference's [0:-1] slices compared on the same tokens (see notes)"))
    population = [camia.signals(s) for s in stats_of(non_members)]
    from scipy.stats import percentileofscore

    pop = np.vstack(population)
    ref = [np.mean([percentileofscore(pop[:, j], v, kind="rank") / 100 for j, v in enumerate(row)])
           for row in ours_sig]
    rows.append(("camia", "verbatim agg", rel([camia.camia(stats[t], population) for t in texts], ref),
                 "mean percentile = the reference's -mean(p) + 1"))

    # -- neighbourhood: fast-mia's final combination on our neighbours
    ours, ref = [], []
    for s in stats_of(texts, top_k=10):
        neighbours = perturbation.neighbour_texts(s, model.token_text, n=5)
        ours.append(perturbation.neighbour_score(s, stats_of(neighbours)))
        method = fm["neighbour"].NeighbourMethod({})
        orig = method.process_output(llm.generate([s.text])[0])
        ref.append(orig - np.mean([method.process_output(o) for o in llm.generate(neighbours)]))
    rows.append(("neighbor (given neighbours)", "run fast-mia", rel(ours, ref),
                 "mean log-likelihood difference; neighbours: our top-k swaps, not BERT's"))

    # -- Tag&Tab keyword selection: the reference's own selection (helpers.bottom_k_entropy_words, applied as its
    # create_line_to_top_words_map and run_all_attacks apply it: the 5 lowest with repeats, as a set, then the 4
    # lowest of those) against ours, on an entropy map that knows every word (counts from the texts and the declared
    # non-members). Compared by the entropies chosen, since the reference orders equal entropies through a set.
    stub_modules()
    helpers = types.ModuleType("tagtab_helpers")  # the file has no-break spaces in its indentation: made plain
    source = (args.tagtab / "src" / "helpers.py").read_text(encoding="utf-8").replace("\u00a0", " ")
    exec(compile(source, str(args.tagtab / "src" / "helpers.py"), "exec"), helpers.__dict__)
    counts_w = token_attacks.word_counts(non_members + texts)
    total = sum(counts_w.values())
    entropy_map = {w: token_attacks.word_entropy(w, counts_w, total) for w in counts_w}
    differ, n_sentences = 0, 0
    for t in texts:
        for sentence in token_attacks._SENTENCE.finditer(t):
            line = sentence.group().strip()
            first = set(helpers.bottom_k_entropy_words(line, entropy_map, token_attacks.TAGTAB_KEYWORDS + 1))
            theirs = helpers.bottom_k_entropy_words(" ".join(first), entropy_map, token_attacks.TAGTAB_KEYWORDS)
            mine = [token_attacks.normalise_word(line[a:b]) for a, b in token_attacks.keyword_spans(line, counts_w)]
            differ += sorted(entropy_map[w] for w in theirs) != sorted(entropy_map[w] for w in mine)
            n_sentences += 1
    rows.append(("tagtab: keywords", "run Tag&Tab helpers", differ / max(n_sentences, 1),
                 f"share of {n_sentences} sentences whose keywords differ (not a relative difference)"))
    with torch.no_grad():
        ours = [token_attacks.tagtab(stats[t], counts_w) for t in texts]
    rows.append(("tagtab", "ours only", math.nan, "the reference's token matching assumes SentencePiece "
                 "tokens with BOS (see notes); not runnable here"))
    notes.append("Tag&Tab: the reference locates keywords by searching the concatenated lower-cased tokens of "
                 "tokenizer.tokenize(text) (it strips only SentencePiece's marker) and reads all_prob at those "
                 "token indices, which lines up only for tokenizers that add a BOS token; ours maps keywords to "
                 f"tokens by character offsets. Our Tag&Tab values here: {np.round(ours, 4).tolist()}")

    print(f"model: {model.name}, {len(texts)} texts, {len(non_members)} declared non-members, "
          f"{len(members)} declared members")
    print(f"{'score':34s} {'reference':20s} {'max rel. diff':>14s}  note")
    for name, how, value, note in rows:
        print(f"{name:34s} {how:20s} {value:14.2e}  {note}")
    for note in notes:
        print("note:", note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
