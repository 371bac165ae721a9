"""Step 1 of ghost sentences: the passphrase generator.

EFF wordlists shipped in ``xkcdpass`` (``load_wordlist``), the generator settings (``GhostGenerator``: number of words,
capitalisation, separator, lead-in, tag, end mark) that render a list of words into an identifier and split it back,
and ``generate_identifiers``, which draws distinct identifiers with ``secrets`` unless a seeded ``rng`` is given.
``GhostError`` is the base of every ghost-sentence error: a sentence the user can act on.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_WORDS = 6
WORDLISTS = {"eff-long": "eff-long", "eff-short": "eff-short", "eff-special": "eff-special"}
CASES = ("lower", "sentence", "title", "upper")
END_MARKS = ("", ".", "!", "?", ";")
_MAX_ELEMENT_CHARS = 80


class GhostError(ValueError):
    """A ghost-sentence problem the user can fix; the message is a sentence for them."""



@lru_cache(maxsize=None)
def load_wordlist(name: str = "eff-long") -> tuple[str, ...]:
    """The words of one EFF wordlist shipped in ``xkcdpass``, lower-case letters only (hyphenated entries such as
    't-shirt' are dropped so every word is one whitespace-free run of letters). eff-long has 7772 such words."""
    if name not in WORDLISTS:
        raise GhostError(f"Unknown wordlist '{name}'. Choose one of: {', '.join(WORDLISTS)}.")
    import xkcdpass

    path = Path(xkcdpass.__file__).parent / "static" / WORDLISTS[name]
    words = sorted({w.strip() for w in path.read_text(encoding="utf-8").split() if re.fullmatch(r"[a-z]+", w.strip())})
    if len(words) < 1000:
        raise GhostError(f"The wordlist {name} at {path} has only {len(words)} usable words; reinstall xkcdpass.")
    return tuple(words)


@dataclass(frozen=True)
class GhostGenerator:
    """Settings of the passphrase generator; identifiers and their null draws come from the same settings.

    A rendered identifier is ``[lead_in ]W1 W2 ... Ww[ tag][end]`` with words joined by ``separator`` and cased by
    ``case``: "lower" (all lower case), "sentence" (first word capitalised, unless a lead-in comes first),
    "title" (every word), "upper". The default reads as a sentence of its own: "Venue sibling vastly untimely
    employed barrette." 
    ``lead_in`` is a short natural opener such as "Note:"; ``tag`` a short user tag such as "(acme)"; ``end`` one of
    "", ".", "!", "?", ";".
    """

    wordlist: str = "eff-long"
    words: int = DEFAULT_WORDS
    case: str = "sentence"
    separator: str = " "
    lead_in: str = ""
    tag: str = ""
    end: str = "."

    def __post_init__(self) -> None:
        load_wordlist(self.wordlist)
        if not isinstance(self.words, int) or not 3 <= self.words <= 32:
            raise GhostError(f"The number of words must be an integer from 3 to 32; got {self.words!r}.")
        if self.case not in CASES:
            raise GhostError(f"Unknown capitalisation '{self.case}'. Choose one of: {', '.join(CASES)}.")
        if self.separator not in (" ", "-", "_", ", "):
            raise GhostError("The word separator must be one of ' ', '-', '_' or ', '.")
        if self.end not in END_MARKS:
            raise GhostError(f"The end punctuation must be one of {', '.join(repr(e) for e in END_MARKS)}.")
        for label, value in (("lead-in", self.lead_in), ("tag", self.tag)):
            if len(value) > _MAX_ELEMENT_CHARS or any(c in value for c in "\r\n\t") or value != value.strip():
                raise GhostError(f"The {label} must be one line of at most {_MAX_ELEMENT_CHARS} characters without "
                                 "leading or trailing spaces.")

    @property
    def bits(self) -> float:
        """Entropy of one identifier in bits: words * log2(wordlist size)."""
        return self.words * math.log2(len(load_wordlist(self.wordlist)))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> GhostGenerator:
        if not isinstance(data, dict):
            raise GhostError("Generator settings must be a JSON object.")
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise GhostError(f"Unknown generator setting(s): {', '.join(sorted(unknown))}.")
        return cls(**data)

    def key(self) -> str:
        """A stable string identifying these settings (part of the null-draw cache key)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def draw_words(self, rng=None) -> list[str]:
        """``words`` words drawn uniformly with replacement (``secrets.SystemRandom`` unless ``rng`` is given)."""
        rng = rng or secrets.SystemRandom()
        vocab = load_wordlist(self.wordlist)
        return [rng.choice(vocab) for _ in range(self.words)]

    def cased(self, words: Sequence[str]) -> list[str]:
        if self.case == "upper":
            return [w.upper() for w in words]
        if self.case == "title":
            return [w.capitalize() for w in words]
        if self.case == "sentence" and not self.lead_in:
            return [words[0].capitalize(), *words[1:]]
        return list(words)

    def parts(self, words: Sequence[str]) -> tuple[str, list[str], str]:
        """(prefix, cased words, suffix): the text before the words (lead-in and a space, or ''), the words, and the
        text after them (a space and the tag, then the end mark)."""
        prefix = f"{self.lead_in} " if self.lead_in else ""
        suffix = (f" {self.tag}" if self.tag else "") + self.end
        return prefix, self.cased(words), suffix

    def render(self, words: Sequence[str]) -> str:
        prefix, cased, suffix = self.parts(words)
        return prefix + self.separator.join(cased) + suffix

    def split(self, identifier: str) -> tuple[str, list[str], str]:
        """Inverse of ``render``: (prefix, cased words, suffix) of an identifier made by these settings."""
        prefix, _, suffix = self.parts(["x"] * self.words)
        if not (identifier.startswith(prefix) and identifier.endswith(suffix)):
            raise GhostError(f"'{identifier}' was not made with these generator settings.")
        body = identifier[len(prefix): len(identifier) - len(suffix)]
        words = body.split(self.separator)
        if len(words) != self.words:
            raise GhostError(f"'{identifier}' has {len(words)} words; its generator settings say {self.words}.")
        return prefix, words, suffix

    def draw(self, rng=None) -> str:
        """One rendered identifier."""
        return self.render(self.draw_words(rng))


def generate_identifiers(generator: GhostGenerator, n: int, *, exclude: Iterable[str] = (), rng=None) -> list[str]:
    """``n`` distinct identifiers, none in ``exclude``. ``rng`` defaults to ``secrets.SystemRandom()``; pass a seeded
    ``random.Random`` only for reproducible experiments (never for identifiers you publish)."""
    if n < 1:
        raise GhostError(f"The number of identifiers must be at least 1; got {n}.")
    taken = set(exclude)
    out: list[str] = []
    for _ in range(100 * n + 100):
        candidate = generator.draw(rng)
        if candidate not in taken:
            taken.add(candidate)
            out.append(candidate)
            if len(out) == n:
                return out
    raise GhostError(f"Could not draw {n} new identifiers; the generator has too little variety.")
