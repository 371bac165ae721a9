"""Synthetic texts for tests: one generator, so members and non-members can come from the same process."""

import random

WORDS = ("the a cat dog bird sat ran flew on under over mat rug house tree river big small red blue green "
         "quickly slowly happily old young bright dark near far and but then").split()


def random_sentences(n: int, length: int = 40, seed: int = 0) -> list[str]:
    """n texts of ``length`` words from a small fixed vocabulary, each ending with a full stop."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(length)).capitalize() + "." for _ in range(n)]


def pseudo_words(n: int, seed: int, consonants: str = "bdfgklmnprstvz", vowels: str = "aeiou") -> list[str]:
    """n distinct two-syllable pseudo-words (consonant-vowel syllables)."""
    syllables = [c + v for c in consonants for v in vowels]
    pool = sorted({a + b for a in syllables for b in syllables})
    return random.Random(seed).sample(pool, n)


def word_documents(vocabulary: list[str], n: int, length: int = 30, seed: int = 0) -> list[str]:
    """n texts of ``length`` words drawn uniformly and independently from ``vocabulary`` (one generator)."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(vocabulary) for _ in range(length)) + "." for _ in range(n)]
