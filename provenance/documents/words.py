"""Words: the one definition of a word used by corpus overlap and n-gram coverage.

A word is a run of word characters (letters, digits, underscore in any script, Python's ``\\w``), case-folded;
punctuation and spacing between words are ignored.
"""

from __future__ import annotations

import re

import numpy as np

_WORD_RE = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Case-folded words of a text: runs of word characters (letters, digits, underscore), punctuation dropped."""
    return [w.casefold() for w in _WORD_RE.findall(text)]


def word_spans(text: str) -> tuple[list[str], np.ndarray]:
    """Case-folded words of a text and their character spans.

    Returns (words, spans): ``words[i]`` is the i-th run of word characters (letters, digits, underscore) case-folded;
    ``spans`` has shape (n_words, 2), int64, the [start, end) character offsets of each word in ``text``.
    """
    matches = list(_WORD_RE.finditer(text))
    words = [m.group().casefold() for m in matches]
    spans = np.array([m.span() for m in matches], dtype=np.int64).reshape(-1, 2)
    return words, spans
