"""The openai and chat backends against a real vLLM server on the default model (the session fixture
``vllm_server`` starts scripts/vllm-server.sh): scores, approximations, refusals, generation."""

import math

import numpy as np
import pytest

from provenance.documents import Document
from provenance.ghost.detection import last_k_test
from provenance.ghost.generator import GhostGenerator
from provenance.ghost.registry import make_entry
from provenance.lm.backends import load_model
from provenance.lm.interface import MissingCapability
from provenance.lm.token_stats import ScoringSettings
from provenance.scores import registry
from provenance.scores.table import score_documents

TEXTS = ["The committee published its findings on Tuesday, and the report was read aloud in the hall.",
         "Seven letters from Marseille waited in the archive until Ada found them in March."]


@pytest.fixture(scope="module")
def served(vllm_server):
    return load_model(f"openai:{vllm_server}#default")


@pytest.fixture(scope="module")
def chat(vllm_server):
    return load_model(f"chat:{vllm_server}#default")


def test_default_scores_on_a_server_use_the_approximation_and_say_so(served, default_model):
    docs = [Document(f"d{i}", t) for i, t in enumerate(TEXTS)]
    rows = []
    result = score_documents(served, docs, on_row=rows.append)
    assert "minkpp_approx" in result.table.columns and "minkpp" not in result.table.columns
    assert registry.is_approximate("minkpp_approx") and "approx." in registry.label("minkpp_approx")
    assert len(rows) == 2 and result.table[["loss", "zlib", "mink", "lowercase", "minkpp_approx"]].notna().all().all()
    exact = score_documents(default_model, docs)
    np.testing.assert_allclose(result.table["loss"], exact.table["loss"], rtol=1e-4)
    # the approximation follows the exact score closely enough to order these two texts the same way
    assert np.sign(np.diff(result.table["minkpp_approx"])) == np.sign(np.diff(exact.table["minkpp"]))


def test_scores_a_server_cannot_compute_are_refused_with_the_reason(served, default_model):
    docs = [Document("d", TEXTS[0])]
    with pytest.raises(MissingCapability, match=r"gradients.*the openai backend does not return for default"):
        score_documents(served, docs, ["gradnorm"])
    with pytest.raises(MissingCapability, match="openai backend"):
        score_documents(served, docs, ["binoculars"], observer=default_model)


def test_top_k_and_ranks_from_the_server(served, default_model):
    settings = ScoringSettings(top_k=5)
    remote = served.token_statistics(TEXTS[:1], settings)[0]
    exact = default_model.token_statistics(TEXTS[:1], settings)[0]
    assert np.array_equal(remote.top_ids, exact.top_ids)
    np.testing.assert_allclose(remote.top_logprobs, exact.top_logprobs, atol=1e-3)
    inside = exact.rank <= 5
    assert np.array_equal(remote.rank[inside], exact.rank[inside])  # exact within the top k
    assert (remote.rank[~inside] == 6).all() and (exact.rank[~inside] >= 6).all()  # a lower bound beyond it
    assert np.isnan(remote.mu).all()  # no full-vocabulary moments from a server


def test_openai_generates_like_the_exact_engine(served, default_model):
    prompts = ["Once upon a time", "The capital of France is"]
    assert served.greedy_continuations(prompts, 6) == default_model.greedy_continuations(prompts, 6)
    assert len(served.sampled_continuations("Once upon a time", num_samples=2, max_new_tokens=5, seed=3)) == 2


def test_the_key_is_not_in_anything_kept(vllm_server, monkeypatch):
    monkeypatch.setenv("PROVENANCE_OPENAI_API_KEY", "sk-local-test-key")
    model = load_model(f"openai:{vllm_server}#default")  # vLLM started without a key accepts any
    kept = repr(model.describe()) + model.identity + model.spec + model.name
    assert "sk-local-test-key" not in kept


def test_chat_generation_and_refusals(chat):
    greedy = chat.greedy_continuations(["Once upon a time", "The capital of France is"], 8)
    assert len(greedy) == 2 and all(isinstance(g, str) and g for g in greedy)
    assert chat.greedy_continuations(["Once upon a time"], 8) == greedy[:1]  # greedy is deterministic
    samples = chat.sampled_continuations("Once upon a time", num_samples=3, max_new_tokens=8, seed=1)
    assert len(samples) == 3
    assert chat.count_tokens("Hello world") == 2  # the server's /tokenize
    with pytest.raises(MissingCapability, match="chat backend"):
        score_documents(chat, [Document("d", TEXTS[0])])


def test_chat_runs_the_black_box_methods(chat):
    table = score_documents(chat, [Document("d", " ".join(TEXTS * 3))], ["ngram_coverage"]).table
    assert math.isfinite(table.loc[0, "ngram_coverage"]) and table.loc[0, "ngram_coverage"] >= 0
    assert math.isnan(table.loc[0, "nll"]) and table.loc[0, "tokens"] > 0
    entry = make_entry("Venue sibling vastly untimely employed barrette.", GhostGenerator())
    hits = last_k_test(chat, [entry], [1, 2])
    assert {"last_1_hit", "last_2_hit"} <= set(hits.columns)
    assert all(isinstance(o, str) for o in hits["last_2_output"])
    assert not hits["last_2_hit"].any()  # a passphrase drawn today cannot be reproduced from its first words
