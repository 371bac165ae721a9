"""Random corpora for the overlap tests: words from a 150-word vocabulary, with punctuation and capitals."""

from __future__ import annotations

import random

from provenance.documents import Document

VOCAB = [f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "pe", "ro", "su", "ti", "va", "ze")
         for b in ("ba", "de", "fi", "go", "hu", "ja", "ke", "li", "mo", "ny", "pa", "qu", "ri", "so", "tu")]


def random_text(rng: random.Random, n_words: int) -> str:
    """Words from a 150-word vocabulary with punctuation and capitals sprinkled in (which shingling ignores)."""
    out = []
    for i in range(n_words):
        w = rng.choice(VOCAB)
        out.append(w.capitalize() if i % 17 == 0 else w)
        if i % 11 == 10:
            out[-1] += rng.choice([",", ".", ";"])
    return " ".join(out)


def corpus(n: int = 200, seed: int = 0) -> list[Document]:
    rng = random.Random(seed)
    return [Document(f"doc{i}", random_text(rng, rng.randint(80, 300))) for i in range(n)]


def perturb(text: str, rng: random.Random, n_changes: int) -> str:
    tokens = text.split()
    for i in rng.sample(range(len(tokens)), n_changes):
        tokens[i] = "changed"
    return " ".join(tokens)
