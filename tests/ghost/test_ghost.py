"""Ghost sentences: generation, registry and commitments, embedding round trips, exact-null detection."""

import codecs
import json
import random

import numpy as np
import pytest
from textgen import random_sentences
from scipy.stats import kstest

from provenance import ghost
from provenance.ghost import planting
from provenance.cli import main as cli_main
from provenance.lm.statistics import ScoringSettings, TokenStats

PLANT_COUNTS = (5, 20, 50)
N_PER_COUNT = 2
N_ABSENT = 8
N_DECOYS = 300
N_NULL = 1000


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------------------------------------ generation


def test_generator_renders_custom_elements_and_splits_back():
    g = ghost.GhostGenerator(words=4, case="title", separator="-", lead_in="Note:", tag="(acme)", end="!")
    words = ["apple", "river", "stone", "cloud"]
    text = g.render(words)
    assert text == "Note: Apple-River-Stone-Cloud (acme)!"
    assert g.split(text) == ("Note: ", ["Apple", "River", "Stone", "Cloud"], " (acme)!")
    assert ghost.GhostGenerator().render(words + ["lamp", "fog"]) == "Apple river stone cloud lamp fog."
    assert ghost.GhostGenerator(case="upper", end="").render(words) == "APPLE RIVER STONE CLOUD"
    assert ghost.GhostGenerator().bits == pytest.approx(6 * np.log2(7772))


def test_default_generator_draws_from_the_eff_large_list_with_secrets():
    vocab = set(ghost.load_wordlist("eff-long"))
    assert len(vocab) == 7772
    drawn = [ghost.GhostGenerator().draw() for _ in range(50)]
    assert len(set(drawn)) == 50
    for text in drawn:
        words = text.rstrip(".").lower().split(" ")
        assert len(words) == ghost.DEFAULT_WORDS and set(words) <= vocab
    assert len(ghost.load_wordlist("eff-short")) >= 1290


@pytest.mark.parametrize("bad", [dict(words=2), dict(case="shout"), dict(end=":"), dict(lead_in="a\nb"),
                                 dict(wordlist="klingon"), dict(separator="/")])
def test_bad_generator_settings_are_refused_with_a_sentence(bad):
    with pytest.raises(ghost.GhostError, match=r"\."):
        ghost.GhostGenerator(**bad)


def test_new_entries_never_repeat_an_identifier_already_registered():
    g = ghost.GhostGenerator(wordlist="eff-short", words=3)
    registry = ghost.Registry()
    first = ghost.new_entries(registry, g, 20, rng=random.Random(7))
    # The same seed replays the same draws: every one of them must now be skipped.
    again = ghost.new_entries(registry, g, 20, rng=random.Random(7))
    assert not {e.identifier for e in first} & {e.identifier for e in again}
    assert len(set(registry.identifiers)) == 40


# ------------------------------------------------------------------------------------------------ registry


def test_registry_round_trip_commitments_and_published_proof(tmp_path):
    registry = ghost.Registry()
    entries = ghost.new_entries(registry, ghost.GhostGenerator(lead_in="Note:"), 3)
    path = ghost.save_registry(registry, tmp_path / "reg.json")
    loaded = ghost.load_registry(path)
    assert [e.to_dict() for e in loaded.entries] == [e.to_dict() for e in entries]
    for e in entries:
        assert e.commitment == ghost.commitment(e.identifier, e.salt)
        assert e.id == "ghost-" + e.commitment[:12]
    published = ghost.public_commitments(registry)
    assert not any(e.identifier in json.dumps(published) for e in entries)
    proof = ghost.verify_against_published(loaded, published)
    assert proof["commitment_ok"].all() and proof["published"].all()
    later = ghost.Registry(list(registry.entries))
    ghost.new_entries(later, ghost.GhostGenerator(), 1)
    assert ghost.verify_against_published(later, published)["published"].tolist() == [True, True, True, False]


def _tampered(data: dict, how: str) -> dict:
    data = json.loads(json.dumps(data))
    entry = data["entries"][1]
    if how == "identifier":
        words = entry["identifier"].split(" ")
        words[2] = "banjo" if words[2] != "banjo" else "walrus"
        entry["identifier"] = " ".join(words)
    elif how == "salt":
        entry["salt"] = "0" * 32
    elif how == "duplicate":
        data["entries"].append(data["entries"][0])
    return data


@pytest.mark.parametrize("how", ["identifier", "salt", "duplicate"])
def test_tampered_registry_gives_a_clear_error(tmp_path, how):
    registry = ghost.Registry()
    ghost.new_entries(registry, ghost.GhostGenerator(), 3)
    path = tmp_path / "reg.json"
    path.write_text(json.dumps(_tampered(registry.to_dict(), how)))
    with pytest.raises(ghost.RegistryError, match="tampered with or damaged"):
        ghost.load_registry(path)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"format": "something-else", "version": 1, "entries": []}', "not a ghost-sentence registry"),
    ('{"format": "provenance-ghost-registry", "version": 1, "entries": [{"id": "x"}]}', "lacks the field"),
    ('{"format": "provenance-ghost-registry", "version": 9, "entries": []}', "version 9"),
    ('{"format": "provenance-ghost-registry", "version": 1, "entries": {}}', "no list of entries"),
])
def test_malformed_registry_gives_a_clear_error(tmp_path, content, message):
    path = tmp_path / "reg.json"
    path.write_text(content)
    with pytest.raises(ghost.RegistryError, match=message):
        ghost.load_registry(path)


def test_cli_new_verify_and_tamper(tmp_path, capsys):
    reg, pub = tmp_path / "reg.json", tmp_path / "public.json"
    assert cli_main(["ghost", "new", "--count", "3", "--words", "5", "--registry", str(reg),
                     "--lead-in", "Note:", "--commitments", str(pub)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all(line.split("\t")[1].startswith("Note: ") for line in lines)
    assert len(lines[0].split("\t")[1].split(" ")) == 6  # lead-in + 5 words
    assert cli_main(["ghost", "verify", "--registry", str(reg), "--published", str(pub)]) == 0
    assert cli_main(["ghost", "new", "--count", "1", "--registry", str(reg)]) == 0
    assert cli_main(["ghost", "verify", "--registry", str(reg), "--published", str(pub)]) == 1
    reg.write_text(json.dumps(_tampered(json.loads(reg.read_text()), "identifier")))
    capsys.readouterr()
    assert cli_main(["ghost", "verify", "--registry", str(reg)]) == 2
    assert "tampered with or damaged" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ embedding


@pytest.fixture(scope="module")
def entries():
    registry = ghost.Registry()
    return ghost.new_entries(registry, ghost.GhostGenerator(lead_in="Note:"), 3, rng=random.Random(1))


ORIGINAL = ("# Title\r\n\r\nFirst sentence here. Second one!  Third? \"Quoted.\" End of para.\r\n\r\n"
            "```\r\ncode. not. here.\r\n```\r\nLast line without newline.")


@pytest.mark.parametrize("position", ghost.POSITIONS)
@pytest.mark.parametrize("bom", [False, True])
def test_txt_and_md_round_trip_byte_for_byte(tmp_path, entries, position, bom):
    data = (codecs.BOM_UTF8 if bom else b"") + ORIGINAL.encode("utf-8")
    for suffix in (".txt", ".md"):
        src = tmp_path / f"doc{suffix}"
        src.write_bytes(data)
        manifest = ghost.embed_files([src], tmp_path / "out", entries, position=position, repetitions=3,
                                     rng=random.Random(3))
        doc = manifest["documents"][0]
        marked_bytes = (tmp_path / "out" / src.name).read_bytes()
        assert marked_bytes != data and marked_bytes.startswith(codecs.BOM_UTF8) == bom
        marked, _ = ghost.read_utf8_exact(tmp_path / "out" / src.name)
        for e in entries:
            assert marked.count(e.identifier) == 3
        placements = ghost.placements_from_manifest(json.loads(json.dumps(doc)))
        assert len(placements) == 9
        restored = ghost.remove_placements(marked, placements)
        assert (codecs.BOM_UTF8 if bom else b"") + restored.encode("utf-8") == data
        if suffix == ".md":  # nothing lands inside the fenced code block
            assert "code. not. here." in marked


def test_removing_placements_from_an_edited_file_is_refused(entries):
    marked, placements = ghost.embed_text("One. Two. Three.", entries[:1], rng=random.Random(0))
    with pytest.raises(ghost.GhostError, match="edited after embedding"):
        ghost.remove_placements("X" + marked, placements)


def test_html_round_trip_keeps_markup_and_skips_invisible_text(entries):
    source = ("<!doctype html><html><head><title>A. B. C.</title><style>p. {}</style></head>\n<body>\n"
              "<p>First sentence. Second &amp; third.</p><script>var a = 1. ; b. c</script>\n"
              "<pre>pre. text.</pre><p>Last one.</p>\n</body></html>\n")
    for position in ghost.POSITIONS:
        marked, placements = ghost.embed_html(source, entries, position=position, repetitions=2,
                                              rng=random.Random(4))
        assert ghost.remove_placements(marked, placements) == source
        head, body = marked.split("<body>")
        assert not any(e.identifier in head for e in entries)
        assert "<script>var a = 1. ; b. c</script>" in body and "<pre>pre. text.</pre>" in body
        assert all(body.count(e.identifier) == 2 for e in entries)


def test_docx_embedding_keeps_the_rest_of_the_text(tmp_path, entries):
    docx = pytest.importorskip("docx")
    src = tmp_path / "a.docx"
    d = docx.Document()
    d.add_heading("Heading", 1)
    p = d.add_paragraph("First sentence. Second ")
    p.add_run("bold sentence. More").bold = True
    d.add_paragraph("Last one.")
    d.save(src)
    original = [q.text for q in docx.Document(src).paragraphs]
    for position in ghost.POSITIONS:
        out = tmp_path / position / "a.docx"
        placements = ghost.embed_docx(src, out, entries, position=position, repetitions=2, rng=random.Random(5))
        texts = [q.text for q in docx.Document(out).paragraphs]
        assert sum(t.count(e.identifier) for t in texts for e in entries) == 6
        for pl in sorted(placements, key=lambda pl: (pl.paragraph, pl.offset), reverse=True):
            t = texts[pl.paragraph]
            if pl.offset < 0:
                assert t == pl.inserted
                texts[pl.paragraph] = None
            else:
                assert t[pl.offset: pl.offset + len(pl.inserted)] == pl.inserted
                texts[pl.paragraph] = t[: pl.offset] + t[pl.offset + len(pl.inserted):]
        assert [t for t in texts if t is not None] == original


def test_embedding_refuses_unsupported_and_non_utf8_files(tmp_path, entries):
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(ghost.GhostError, match="can be embedded in"):
        ghost.embed_files([tmp_path / "a.pdf"], tmp_path / "out", entries)
    (tmp_path / "b.txt").write_bytes("caf\u00e9 au lait. Tr\u00e8s bien.".encode("latin-1"))
    with pytest.raises(ghost.GhostError, match="not UTF-8"):
        ghost.embed_files([tmp_path / "b.txt"], tmp_path / "out", entries)


# ------------------------------------------------------------------------------------------------ statistics


def test_p_value_rank_and_exposure_follow_the_definitions():
    null = np.array([1.0, 2.0, 3.0, 4.0])
    assert ghost.empirical_p_value(0.5, null) == (1 / 5, 1)
    assert ghost.empirical_p_value(2.0, null) == (3 / 5, 3)  # ties count against the identifier
    assert ghost.empirical_p_value(9.0, null) == (1.0, 5)
    assert ghost.exposure_bits(1, 1000) == pytest.approx(np.log2(1001))
    assert ghost.exposure_bits(1001, 1000) == 0.0
    assert ghost.fisher_combined([0.5]) == 0.5
    assert ghost.fisher_combined([1e-3, 1e-3]) < 1e-3


def test_span_nll_scores_only_the_identifier_after_its_context():
    stats = TokenStats(text="ctx ab", token_ids=np.arange(4), offsets=np.array([[0, 0], [0, 3], [3, 5], [5, 6]]),
                       logprob=np.array([-9.0, -1.0, -3.0], dtype=np.float32), mu=np.zeros(3), sigma=np.ones(3),
                       rank=np.ones(3, dtype=np.int64))
    assert ghost.span_nll(stats, 0) == pytest.approx(13 / 3)
    assert ghost.span_nll(stats, 3) == pytest.approx(2.0)
    with pytest.raises(ghost.GhostError, match="too short"):
        ghost.span_nll(stats, 6)


def test_verdict_words_and_false_positive_rate():
    assert ghost.verdict_for(1e-5, 3, 1000, 0.01)[0] == "evidence of training (p = 1e-05, at FPR 0.01)"
    words, sentence = ghost.verdict_for(0.3, 3, 1000, 0.01)
    assert words == "no evidence" and "0.01" in sentence
    assert ghost.verdict_for(1 / 51, 1, 50, 0.01)[0].startswith("inconclusive (too few null draws")


def test_embedding_refuses_two_inputs_with_the_same_name(tmp_path, entries):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "doc.txt").write_text("One. Two.")
    with pytest.raises(ghost.GhostError, match="overwrite each other"):
        ghost.embed_files([tmp_path / "a" / "doc.txt", tmp_path / "b" / "doc.txt"], tmp_path / "out", entries)


def test_context_is_scored_but_only_the_identifier_counts(tiny_model):
    ids = ghost.generate_identifiers(ghost.GhostGenerator(), 3, rng=random.Random(2))
    alone, n_alone = ghost.identifier_nll(tiny_model, ids)
    after, n_after = ghost.identifier_nll(tiny_model, ids, context="The cat sat on the mat. ")
    assert np.all(n_after >= n_alone) and np.all(n_after <= n_alone + 1)  # + the token that was first alone
    assert not np.allclose(alone, after)


def test_detect_refuses_a_last_k_as_long_as_the_identifier(tiny_model):
    entries = ghost.new_entries(ghost.Registry(), ghost.GhostGenerator(words=3), 1)
    with pytest.raises(ghost.GhostError, match="k between 1 and 2"):
        ghost.detect(tiny_model, entries, n_null=10, last_k=(1, 3))


# ------------------------------------------------------------------------------------------------ detection


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A tiny model fine-tuned on background text where identifiers are planted 5, 20 and 50 times, 400 decoys from
    the same generator appear once each (so every wordlist word is familiar), and other identifiers are absent.

    The tokenizer is trained on clean background text plus the whole wordlist, never on the planted corpus, so
    planted and fresh identifiers are tokenised alike."""
    rng = random.Random(0)
    generator = ghost.GhostGenerator()
    background = random_sentences(200, length=40, seed=1)
    plan = planting.plan_planting(background, PLANT_COUNTS, per_count=N_PER_COUNT, absent=N_ABSENT,
                                  decoys=N_DECOYS, generator=generator, rng=rng)
    model = planting.small_model_for(background, generator, vocab_size=1000, name="ghost")
    model, report = planting.train_on_plan(model, plan, epochs=8)
    registry = ghost.Registry(list(plan.tested))
    by_count = {c: [e for e in plan.tested if plan.repetitions[e.id] == c] for c in PLANT_COUNTS}
    absent = [e for e in plan.tested if plan.repetitions[e.id] == 0]
    decoys, exclude = plan.decoys, plan.exclude
    # One set of M null draws, scored once and shared by the tests through the cache (as in real use).
    null_dir = tmp_path_factory.mktemp("nulls")
    null_cache = ghost.NullCache(null_dir)
    null = ghost.null_nll(model, generator, N_NULL, exclude=exclude, null_cache=null_cache, rng=random.Random(12))
    return dict(model=model, registry=registry, by_count=by_count, absent=absent, decoys=decoys, exclude=exclude,
                report=report, null_cache=null_cache, null_dir=null_dir, null=null)


def test_pvalues_of_fresh_identifiers_are_uniform(planted):
    """The false-positive rate is what the verdict claims: 200 identifiers the model never saw (drawn from the
    generator whose decoys it did see) get p-values a KS test cannot tell from uniform."""
    model, generator = planted["model"], ghost.GhostGenerator()
    fresh = ghost.generate_identifiers(generator, 200, exclude=planted["exclude"], rng=random.Random(11))
    null = planted["null"]
    assert len(null) == N_NULL and not set(fresh) & set(planted["null_cache"].load(
        ghost.NullCache.key(model, generator, ScoringSettings(), ""))[0])
    observed, _ = ghost.identifier_nll(model, fresh)
    p = np.array([ghost.empirical_p_value(x, null)[0] for x in observed])
    assert kstest(p, "uniform").pvalue > 0.01
    assert 0.0 <= np.mean(p < 0.05) <= 0.1


def test_planted_identifiers_are_detected_and_absent_ones_are_not(planted):
    model = planted["model"]
    entries = [e for c in PLANT_COUNTS for e in planted["by_count"][c]] + planted["absent"]
    result = ghost.detect(model, entries, n_null=N_NULL, exclude=planted["exclude"], null_cache=planted["null_cache"])
    assert np.array_equal(result.null[ghost.GhostGenerator().key()], planted["null"])
    table = result.table.set_index("id")
    floor = 1 / (N_NULL + 1)
    for c in (20, 50):
        ps = table.loc[[e.id for e in planted["by_count"][c]], "p_value"]
        assert (ps < 0.01).all(), f"identifiers planted {c} times: p = {ps.tolist()}"
        assert ps.max() == pytest.approx(floor)
    absent = table.loc[[e.id for e in planted["absent"]]]
    assert (absent["p_value"] >= 0.01).all(), absent["p_value"].tolist()
    assert not absent["last_k_hit"].any()
    high = table.loc[[e.id for e in planted["by_count"][50]]]
    assert high["last_1_hit"].mean() >= 2 / 3
    assert result.verdict.startswith("evidence of training (p = ") and "at FPR 0.01" in result.verdict
    assert set(table.columns) >= {"identifier", "nll", "p_value", "exposure_bits", "last_k_hit", "rank", "tokens"}
    only_absent = ghost.detect(model, planted["absent"], n_null=N_NULL, exclude=planted["exclude"],
                               null_cache=planted["null_cache"], last_k=())
    assert only_absent.verdict == "no evidence", only_absent.sentence


def test_null_draws_are_cached_per_model_and_generator(planted):
    model, generator = planted["model"], ghost.GhostGenerator()
    assert len(list(planted["null_dir"].glob("*.json"))) == 1
    calls = []
    again = ghost.null_nll(model, generator, 300, null_cache=ghost.NullCache(planted["null_dir"]),
                           exclude=planted["exclude"], progress=lambda d, t: calls.append(t))
    assert not calls and np.array_equal(again, planted["null"][:300])  # read back from disk, nothing scored
    other = ghost.null_nll(model, ghost.GhostGenerator(lead_in="Note:"), 20, null_cache=planted["null_cache"],
                           progress=lambda d, t: calls.append(t))
    assert len(other) == 20 and calls and len(list(planted["null_dir"].glob("*.json"))) == 2


def test_batched_greedy_decoding_matches_one_prompt_at_a_time(planted):
    model = planted["model"]
    prompts = [ghost.last_k_prompts(e, 2)[0] for e in planted["by_count"][50] + planted["absent"][:2]]
    batched = ghost.greedy_continuations(model, prompts, max_new_tokens=8)
    single = [ghost.greedy_continuations(model, [p], max_new_tokens=8)[0] for p in prompts]
    assert batched == single


def test_cli_detect_writes_one_row_per_identifier_and_the_combined_p(planted, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROVENANCE_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "model"
    planted["model"].model.save_pretrained(folder, safe_serialization=True)
    planted["model"].tokenizer.save_pretrained(folder)
    reg = tmp_path / "reg.json"
    entries = planted["by_count"][50] + planted["absent"][:1]
    ghost.save_registry(ghost.Registry(entries), reg)
    out = tmp_path / "detect.csv"
    assert cli_main(["ghost", "detect", "--registry", str(reg), "--model", str(folder), "--device", "cpu",
                     "--null", "200", "--out", str(out)]) == 0
    import pandas as pd

    table = pd.read_csv(out)
    assert list(table["id"]) == [e.id for e in entries] + ["combined (Fisher)"]
    assert {"identifier", "nll", "p_value", "last_k_hit"} <= set(table.columns)
    assert table["p_value"].iloc[0] == pytest.approx(1 / 201)
    verdict = capsys.readouterr().out
    assert verdict.startswith("evidence of training (p = ") and "at FPR 0.01" in verdict, verdict
    assert table["verdict"].iloc[-1].startswith("evidence of training")
    assert list((tmp_path / "cache" / "ghost_nulls").glob("*.json"))


def test_cli_embed_writes_marked_copies_and_a_manifest(tmp_path, capsys):
    reg = tmp_path / "reg.json"
    assert cli_main(["ghost", "new", "--count", "2", "--registry", str(reg)]) == 0
    docs = []
    for i in range(2):
        docs.append(tmp_path / f"d{i}.txt")
        docs[-1].write_text(f"Doc {i}. It has sentences. Several of them.\n")
    assert cli_main(["ghost", "embed", *map(str, docs), "--registry", str(reg), "--out-dir", str(tmp_path / "out"),
                     "--repetitions", "2", "--spread"]) == 0
    manifest = json.loads((tmp_path / "out" / "ghost-manifest.json").read_text())
    assert [len(d["placements"]) for d in manifest["documents"]] == [2, 2]
    assert manifest["documents"][0]["placements"][0]["id"] != manifest["documents"][1]["placements"][0]["id"]


@pytest.mark.slow
def test_default_model_fresh_identifiers_are_not_flagged(default_model):
    """Integration on the real model: identifiers drawn now cannot be in its training data."""
    registry = ghost.Registry()
    entries = ghost.new_entries(registry, ghost.GhostGenerator(), 2, rng=random.Random(21))
    result = ghost.detect(default_model, entries, n_null=100, last_k=(1,), rng=random.Random(22))
    assert len(result.table) == 2 and result.table["p_value"].between(1 / 101, 1).all()
    assert result.verdict.startswith(("no evidence", "inconclusive"))
