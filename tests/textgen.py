"""Synthetic texts for tests: one generator, so members and non-members can come from the same process."""

import random

WORDS = ("the a cat dog bird sat ran flew on under over mat rug house tree river big small red blue green "
         "quickly slowly happily old young bright dark near far and but then").split()


def random_sentences(n: int, length: int = 40, seed: int = 0) -> list[str]:
    """n texts of ``length`` words from a small fixed vocabulary, each ending with a full stop."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(length)).capitalize() + "." for _ in range(n)]
