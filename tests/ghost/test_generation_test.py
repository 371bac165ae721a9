"""The ghost test for a model that only generates text (a chat API): the last-k words test with exact p-values."""

import random

import numpy as np
import pytest

from provenance import ghost
from provenance.ghost.detection import detect, last_k_chance, last_k_prompts
from provenance.ghost.generator import load_wordlist
from provenance.lm.interface import GENERATION, MissingCapability
from provenance.verdicts.verdict import Label


class GenerationOnly:
    """A stand-in for a chat API: greedy continuations only. It 'memorised' the identifiers in ``known`` (answers
    their withheld words) and answers anything else with words drawn from the wordlist."""

    name, spec, identity, context_length = "chat stand-in", "chat:http://127.0.0.1:1/v1#x", "chat-stand-in", 2048
    capabilities = frozenset({GENERATION})

    def __init__(self, known: dict[str, str], seed: int = 0):
        self.known, self.rng = known, random.Random(seed)

    def count_tokens(self, text: str, *, special_tokens: bool = True) -> int:
        return len(text.split())

    def greedy_continuations(self, prompts, max_new_tokens):
        words = load_wordlist("eff-long")
        out = []
        for p in prompts:
            answer = next((rest for start, rest in self.known.items() if p == start), None)
            out.append(answer if answer is not None else " " + " ".join(self.rng.choice(words) for _ in range(3)))
        return out


def _entries(n: int, seed: int):
    generator = ghost.GhostGenerator()
    rng = random.Random(seed)
    return [ghost.make_entry(generator.draw(rng), generator) for _ in range(n)]


def test_the_chance_of_a_hit_by_a_model_that_never_saw_the_identifier():
    generator = ghost.GhostGenerator()
    size = len(load_wordlist(generator.wordlist))
    assert last_k_chance(generator, [1]) == pytest.approx(1 / size)
    assert last_k_chance(generator, [1, 2]) == pytest.approx(1 / size + 1 / size ** 2)


def test_memorised_identifiers_are_evidence_and_others_are_not():
    entries = _entries(4, seed=1)
    known = {}
    for e in entries[:2]:  # the model continues these two exactly with their withheld last word
        prompt, target = last_k_prompts(e, 1)
        known[prompt] = " " + " ".join(target) + "."
    result = detect(GenerationOnly(known), entries, last_k=[1], alpha=0.01)
    table = result.table.set_index("id")
    assert table.loc[[e.id for e in entries[:2]], "last_k_hit"].all()
    assert not table.loc[[e.id for e in entries[2:]], "last_k_hit"].any()
    assert (table.loc[[e.id for e in entries[2:]], "p_value"] == 1.0).all()
    assert result.verdict.label is Label.EVIDENCE and "last-k words test" in result.verdict.method
    assert result.statistic == "last_k" and result.n_null == 0

    untrained = detect(GenerationOnly({}), entries, last_k=[1], alpha=0.01)
    assert untrained.verdict.label is Label.NO_EVIDENCE and untrained.verdict.p_value == pytest.approx(1.0)


def test_the_false_positive_rate_holds_for_a_model_that_guesses():
    """A model guessing words from the very wordlist (the best a model that never saw them can do): over many
    unpublished identifiers, hits happen at the rate last_k_chance says, so p <= alpha at most alpha of the time."""
    entries = _entries(3000, seed=2)
    result = detect(GenerationOnly({}, seed=3), entries[:3000], last_k=[1], alpha=0.05)
    p = result.table["p_value"].to_numpy()
    size = len(load_wordlist("eff-long"))
    assert np.mean(p <= 0.05) <= 0.05
    assert result.table["last_k_hit"].sum() <= 3000 / size * 5 + 3  # about 0.4 expected


def test_a_generation_only_model_refuses_the_reference_test_and_an_empty_k():
    entries = _entries(2, seed=4)
    with pytest.raises(ghost.GhostError, match="generated text only"):
        detect(GenerationOnly({}), entries, last_k=[1], ref_model=GenerationOnly({}))
    with pytest.raises(ghost.GhostError, match="only the last-k words test can run"):
        detect(GenerationOnly({}), entries, last_k=[])


def test_a_model_that_cannot_generate_either_is_refused_with_the_capability():
    model = GenerationOnly({})
    model.capabilities = frozenset()
    with pytest.raises(MissingCapability):
        detect(model, _entries(1, seed=5), last_k=[1])
