"""Ghost sentences, step 1: the passphrase generator (rendering, wordlists, settings, fresh draws)."""

import random

import numpy as np
import pytest

from provenance import ghost


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
