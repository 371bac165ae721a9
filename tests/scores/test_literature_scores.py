"""The scores from the literature (issue 15) on tiny models: the same numbers whatever the batching, the window or
the cache; declared texts never judged; and, on a tiny model fine-tuned on members, every white- and grey-box new
score separates members from non-members of the same generator (design.md, "Testing the statistics honestly")."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from textgen import pseudo_words, random_sentences, word_documents
from provenance.documents import Document
from provenance.lm.cache import StatsCache
from provenance.lm.token_stats import ScoringSettings
from provenance.scores import registry
from provenance.scores.declared import DeclaredTexts
from provenance.scores.table import score_documents
from provenance.verdicts.roc import auc_score

NEW = ["recall", "conrecall", "dcpdd", "pac", "neighbor", "samia", "camia", "gapk", "tagtab"]
READS_DECLARED = ["recall", "conrecall", "dcpdd", "camia", "tagtab"]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def short_texts():
    texts = random_sentences(10, length=12, seed=31)
    declared = DeclaredTexts(tuple(random_sentences(2, length=8, seed=32)), tuple(random_sentences(2, length=8,
                                                                                                  seed=33)))
    return [Document(f"d{i}", t) for i, t in enumerate(texts[:5])], declared


def test_every_new_score_is_registered_with_its_needs():
    for name in NEW:
        entry = registry.get(name)
        assert entry.label and entry.description and not entry.default
        assert name in registry.extra_scores()
    assert registry.reads_declared(["recall"]) == (True, False)
    assert registry.reads_declared(["conrecall"]) == (True, True)
    assert registry.reads_declared(["pac", "gapk"]) == (False, False)
    assert "generation" in registry.get("samia").capabilities
    assert {"top_k", "moments"} <= registry.get("gapk").capabilities


def test_batch_and_cache_do_not_change_the_scores(tiny_model, short_texts):
    docs, declared = short_texts
    together = score_documents(tiny_model, docs, NEW, declared=declared).table
    assert np.isfinite(together[NEW].to_numpy(dtype=float)).all()
    cache = StatsCache()
    for i, doc in enumerate(docs[:3]):
        alone = score_documents(tiny_model, [doc], NEW, declared=declared, cache=cache).table
        np.testing.assert_allclose(alone[NEW].to_numpy(dtype=float)[0], together[NEW].to_numpy(dtype=float)[i],
                                   rtol=1e-4, atol=1e-6)
    misses = cache.misses
    again = score_documents(tiny_model, docs[:3], NEW, declared=declared, cache=cache).table
    assert cache.misses == misses  # prefixed, perturbed and declared texts were all served from the cache
    np.testing.assert_allclose(again[NEW].to_numpy(dtype=float), together[NEW].to_numpy(dtype=float)[:3],
                               rtol=1e-4, atol=1e-6)


def test_a_window_that_holds_prefix_and_text_changes_nothing(tiny_model, short_texts):
    docs, declared = short_texts  # texts of ~13 tokens, prefixes of ~20: everything fits in 96 and in 128 tokens
    wide = score_documents(tiny_model, docs, NEW, declared=declared, settings=ScoringSettings(window=128)).table
    narrow = score_documents(tiny_model, docs, NEW, declared=declared, settings=ScoringSettings(window=96)).table
    np.testing.assert_allclose(narrow[NEW].to_numpy(dtype=float), wide[NEW].to_numpy(dtype=float), rtol=1e-4,
                               atol=1e-6)


def test_long_texts_in_rolling_windows_get_every_score(tiny_model, short_texts):
    _, declared = short_texts
    long_doc = Document("long", random_sentences(1, length=120, seed=34)[0])  # longer than the 32-token window
    row = score_documents(tiny_model, [long_doc], NEW, declared=declared,
                          settings=ScoringSettings(window=32)).table.iloc[0]
    assert row["tokens"] > 32 and all(math.isfinite(row[s]) for s in NEW)


def test_declared_texts_are_never_judged(tiny_model, short_texts):
    docs, declared = short_texts
    judged = Document("declared", declared.non_members[0])
    table = score_documents(tiny_model, docs[:1] + [judged], ["loss"] + READS_DECLARED, declared=declared).table
    row = table.set_index("document").loc["declared"]
    assert math.isfinite(row["loss"]) and all(math.isnan(row[s]) for s in READS_DECLARED)
    assert table.set_index("document").loc["d0", READS_DECLARED].notna().all()


def test_missing_declared_texts_are_refused_with_a_sentence(tiny_model, short_texts):
    docs, declared = short_texts
    with pytest.raises(ValueError, match="'recall' score needs texts you declare non-members"):
        score_documents(tiny_model, docs, ["recall"])
    with pytest.raises(ValueError, match="'conrecall' score needs texts you declare members"):
        score_documents(tiny_model, docs, ["conrecall"], declared=DeclaredTexts(declared.non_members))


def test_samia_is_seeded(tiny_model, short_texts):
    docs, _ = short_texts
    first = score_documents(tiny_model, docs[:2], ["samia"]).table["samia"].tolist()
    assert first == score_documents(tiny_model, docs[:2], ["samia"]).table["samia"].tolist()


N_TRAIN, N_JUDGED, N_DECLARED = 40, 30, 10


@pytest.fixture(scope="module")
def fine_tuned_experiment(one_torch_thread):
    """A tiny Llama fine-tuned on 40 members; 30 of them are judged against 30 non-members from the same generator
    (split at random from one draw); 10 other members and 10 other non-members are the declared texts."""
    from provenance.lm.training import build_small_model, fine_tune

    vocabulary = pseudo_words(200, seed=41)
    texts = word_documents(vocabulary, N_TRAIN + N_JUDGED + N_DECLARED, length=30, seed=42)
    random.Random(43).shuffle(texts)
    members, non_members = texts[:N_TRAIN], texts[N_TRAIN:]
    base = build_small_model(word_documents(vocabulary, 300, seed=44), vocab_size=1000, context_length=256,
                             name="literature-test")
    model, _ = fine_tune(base, members, epochs=30, learning_rate=3e-3, seed=0)
    declared = DeclaredTexts(tuple(non_members[N_JUDGED:]), tuple(members[N_JUDGED:]))
    docs = ([Document(f"member-{i}", t) for i, t in enumerate(members[:N_JUDGED])]
            + [Document(f"non-member-{i}", t) for i, t in enumerate(non_members[:N_JUDGED])])
    white_grey = [s for s in NEW if s != "samia"]
    table = score_documents(model, docs, ["loss"] + white_grey, declared=declared).table
    labels = table["document"].str.startswith("member").to_numpy(dtype=int)
    return table, labels, white_grey


def test_every_new_white_or_grey_box_score_separates_members(fine_tuned_experiment):
    table, labels, scores = fine_tuned_experiment
    aucs = {s: auc_score(labels, table[s].to_numpy(dtype=float)) for s in ["loss"] + scores}
    assert aucs["loss"] > 0.9, aucs  # the fine-tune memorised the members
    for s in scores:
        assert aucs[s] > 0.7, (s, aucs)
