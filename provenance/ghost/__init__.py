"""Ghost sentences: unique random passphrases an owner plants in their texts and later tests a model for.

The four steps (design.md, "Calibration and verdicts"):

1. **Generate** passphrases of natural words, drawn with ``secrets`` from an EFF wordlist (shipped in ``xkcdpass``),
   with optional custom elements (lead-in, capitalisation, user tag, end punctuation). ``GhostGenerator`` holds the
   settings; ``new_entries`` draws N identifiers never already in a registry.
2. **Register** them in a JSON registry with their settings, creation time (UTC) and a SHA-256 commitment
   ``sha256(salt || identifier)``. Publishing the commitments now lets the owner prove later (``verify_registry``,
   ``verify_against_published``) that an identifier existed before a model was released.
3. **Embed** them into .txt, .md, .html and .docx files at the start, the end or random sentence boundaries, with a
   manifest of every placement. For .txt, .md and .html, ``remove_placements`` gives back the original text exactly.
4. **Detect**: (a) the perplexity test ranks each identifier's NLL among M fresh draws from the same generator scored
   the same way; p = (1 + #{null NLL <= observed}) / (M + 1) is exactly uniform when the model never saw the
   identifier, exposure = log2(M + 1) - log2(rank) in bits; Fisher's method combines identifiers. (b) the last-k words
   test prompts with all but the last k words and checks whether greedy decoding reproduces them exactly.

Why six words by default: an EFF long-list word carries log2(7772) = 12.9 bits, so six words give 77.5 bits, the
EFF's own recommendation for a passphrase. At that entropy no one guesses an identifier or writes it by accident
(the chance that any of 10^12 published sentences equals a given identifier is below 10^-11), yet it is only about
12-20 tokens long, so a model can memorise it from a few repetitions, M = 1000 null draws cost about 15k tokens to
score, and the last-3-words test still leaves three words of prompt. Fewer words weaken uniqueness quickly (four words:
51.7 bits); more words add tokens the model must memorise without making the null any more exact.
"""

from __future__ import annotations

import codecs
import copy
import hashlib
import html
import json
import math
import os
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from ..lm.cache import StatsCache, cached_token_statistics
from ..documents import decode_text
from ..lm.loading import LoadedModel
from ..lm.statistics import ScoringSettings, TokenStats

DEFAULT_WORDS = 6
DEFAULT_NULL = 1000
DEFAULT_ALPHA = 0.01
DEFAULT_LAST_K = (1, 2, 3)
WORDLISTS = {"eff-long": "eff-long", "eff-short": "eff-short", "eff-special": "eff-special"}
CASES = ("lower", "sentence", "title", "upper")
END_MARKS = ("", ".", "!", "?", ";")
POSITIONS = ("start", "end", "random")
EMBED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx")
REGISTRY_FORMAT = "provenance-ghost-registry"
MANIFEST_FORMAT = "provenance-ghost-manifest"
FORMAT_VERSION = 1
SALT_BYTES = 16
_MAX_ELEMENT_CHARS = 80


class GhostError(ValueError):
    """A ghost-sentence problem the user can fix; the message is a sentence for them."""


class RegistryError(GhostError):
    """A registry file that is malformed, or whose entries do not match their commitments."""


# ----------------------------------------------------------------------------------------------------------------
# Generation
# ----------------------------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------------------------


def commitment(identifier: str, salt_hex: str) -> str:
    """SHA-256 hex digest of the salt bytes followed by the identifier's UTF-8 bytes."""
    return hashlib.sha256(bytes.fromhex(salt_hex) + identifier.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class GhostEntry:
    """One registered identifier. ``id`` is 'ghost-' plus the first 12 hex digits of the commitment."""

    id: str
    identifier: str
    generator: GhostGenerator
    created: str
    salt: str
    commitment: str

    def to_dict(self) -> dict:
        return {"id": self.id, "identifier": self.identifier, "generator": self.generator.to_dict(),
                "created": self.created, "salt": self.salt, "commitment": self.commitment}


def make_entry(identifier: str, generator: GhostGenerator, *, created: datetime | None = None) -> GhostEntry:
    """Register one identifier: fresh 16-byte salt from ``secrets``, commitment, creation time (UTC, ISO 8601)."""
    salt = secrets.token_hex(SALT_BYTES)
    digest = commitment(identifier, salt)
    when = (created or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")
    return GhostEntry(id="ghost-" + digest[:12], identifier=identifier, generator=generator, created=when,
                      salt=salt, commitment=digest)


@dataclass
class Registry:
    """The owner's private list of identifiers (keep it secret; publish only ``public_commitments``)."""

    entries: list[GhostEntry] = field(default_factory=list)

    @property
    def identifiers(self) -> list[str]:
        return [e.identifier for e in self.entries]

    def get(self, ids: Sequence[str] | None = None) -> list[GhostEntry]:
        """Entries by id (all when ``ids`` is None or empty); an unknown id is an error."""
        if not ids:
            return list(self.entries)
        by_id = {e.id: e for e in self.entries}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise GhostError(f"The registry has no identifier with id {', '.join(missing)}.")
        return [by_id[i] for i in ids]

    def to_dict(self) -> dict:
        return {"format": REGISTRY_FORMAT, "version": FORMAT_VERSION, "entries": [e.to_dict() for e in self.entries]}


def new_entries(registry: Registry, generator: GhostGenerator, n: int, *, rng=None,
                created: datetime | None = None) -> list[GhostEntry]:
    """Draw ``n`` identifiers never in ``registry``, register them (appended to ``registry``) and return them."""
    identifiers = generate_identifiers(generator, n, exclude=registry.identifiers, rng=rng)
    added = [make_entry(i, generator, created=created) for i in identifiers]
    registry.entries.extend(added)
    return added


def public_commitments(registry: Registry) -> dict:
    """What the owner may publish now: commitments and creation times, without identifiers or salts."""
    return {"format": REGISTRY_FORMAT + "-commitments", "version": FORMAT_VERSION,
            "commitments": [{"commitment": e.commitment, "created": e.created} for e in registry.entries]}


def save_commitments(registry: Registry, path: str | Path) -> Path:
    """Write ``public_commitments(registry)`` as JSON: the file to publish."""
    return _write_json(public_commitments(registry), path)


def _entry_from_dict(raw: object, where: str) -> GhostEntry:
    if not isinstance(raw, dict):
        raise RegistryError(f"{where} is not a JSON object.")
    fields = ("id", "identifier", "generator", "created", "salt", "commitment")
    missing = [f for f in fields if f not in raw]
    if missing:
        raise RegistryError(f"{where} lacks the field(s) {', '.join(missing)}.")
    for name in ("id", "identifier", "created", "salt", "commitment"):
        if not isinstance(raw[name], str) or not raw[name]:
            raise RegistryError(f"{where}: '{name}' must be a non-empty string.")
    try:
        generator = GhostGenerator.from_dict(raw["generator"])
    except (GhostError, TypeError) as exc:
        raise RegistryError(f"{where}: its generator settings are invalid ({exc}).") from exc
    if not re.fullmatch(r"[0-9a-f]{%d}" % (2 * SALT_BYTES), raw["salt"]):
        raise RegistryError(f"{where}: the salt must be {2 * SALT_BYTES} lower-case hex digits.")
    if not re.fullmatch(r"[0-9a-f]{64}", raw["commitment"]):
        raise RegistryError(f"{where}: the commitment must be a SHA-256 digest (64 lower-case hex digits).")
    try:
        datetime.fromisoformat(raw["created"])
    except ValueError as exc:
        raise RegistryError(f"{where}: the creation time '{raw['created']}' is not an ISO 8601 time.") from exc
    return GhostEntry(id=raw["id"], identifier=raw["identifier"], generator=generator, created=raw["created"],
                      salt=raw["salt"], commitment=raw["commitment"])


def registry_from_dict(data: object, source: str = "the registry") -> Registry:
    """Parse and check a registry: structure, field types, unique ids and identifiers, and every commitment.

    Raises RegistryError naming the first problem (a malformed file, or an entry changed after registration).
    """
    if not isinstance(data, dict) or data.get("format") != REGISTRY_FORMAT:
        raise RegistryError(f"{source} is not a ghost-sentence registry (its 'format' field is not "
                            f"'{REGISTRY_FORMAT}').")
    if data.get("version") != FORMAT_VERSION:
        raise RegistryError(f"{source} has version {data.get('version')!r}; this program reads version "
                            f"{FORMAT_VERSION}.")
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list):
        raise RegistryError(f"{source} has no list of entries.")
    entries = [_entry_from_dict(raw, f"Entry {i + 1} of {source}") for i, raw in enumerate(raw_entries)]
    registry = Registry(entries)
    problems = verify_registry(registry)
    if problems:
        raise RegistryError(f"{source} has been tampered with or damaged: {problems[0]}"
                            + (f" ({len(problems) - 1} more problem(s))" if len(problems) > 1 else ""))
    return registry


def verify_registry(registry: Registry) -> list[str]:
    """Every problem found, as sentences (empty when the registry is sound): an identifier or salt that no longer
    matches its commitment, an id that does not match its commitment, repeated ids or identifiers, or an identifier
    its generator settings could not have produced."""
    problems, seen_ids, seen_identifiers = [], set(), set()
    for i, e in enumerate(registry.entries, start=1):
        if commitment(e.identifier, e.salt) != e.commitment:
            problems.append(f"entry {i} ({e.id}): the identifier or salt does not match its SHA-256 commitment, so "
                            "it was changed after registration.")
        if e.id != "ghost-" + e.commitment[:12]:
            problems.append(f"entry {i} ({e.id}): the id does not match its commitment.")
        try:
            _, words, _ = e.generator.split(e.identifier)
            vocab = set(load_wordlist(e.generator.wordlist))
            if any(w.lower() not in vocab for w in words):
                raise GhostError("a word is not in the wordlist")
        except GhostError:
            problems.append(f"entry {i} ({e.id}): the identifier could not have been made by its generator settings.")
        if e.id in seen_ids:
            problems.append(f"entry {i}: the id {e.id} appears twice.")
        if e.identifier in seen_identifiers:
            problems.append(f"entry {i} ({e.id}): the same identifier is registered twice.")
        seen_ids.add(e.id)
        seen_identifiers.add(e.identifier)
    return problems


def verify_against_published(registry: Registry, published: dict) -> pd.DataFrame:
    """Check each entry against commitments published earlier (the output of ``public_commitments``).

    Returns one row per entry: ``id, created, commitment_ok`` (salt and identifier open the commitment) and
    ``published`` (the commitment is in the published list, with the published creation time in
    ``published_created``). An entry with both True proves the identifier existed when the list was published.
    """
    rows_in = published.get("commitments") if isinstance(published, dict) else None
    if not isinstance(rows_in, list) or not all(isinstance(r, dict) and "commitment" in r for r in rows_in):
        raise RegistryError("The published commitments file is not a list of commitments made by 'ghost new'.")
    when = {r["commitment"]: r.get("created", "") for r in rows_in}
    rows = []
    for e in registry.entries:
        rows.append({"id": e.id, "created": e.created,
                     "commitment_ok": commitment(e.identifier, e.salt) == e.commitment,
                     "published": e.commitment in when, "published_created": when.get(e.commitment, "")})
    return pd.DataFrame(rows, columns=["id", "created", "commitment_ok", "published", "published_created"])


def _read_json(path: str | Path, what: str) -> object:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise GhostError(f"There is no {what} at {path}.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise GhostError(f"The {what} {path} could not be read ({exc}).") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError(f"The {what} {path} is not valid JSON (line {exc.lineno}: {exc.msg}).") from exc


def load_registry(path: str | Path, *, missing_ok: bool = False) -> Registry:
    """Read and verify a registry file (see ``registry_from_dict``); an absent file is an empty registry only
    when ``missing_ok``."""
    if missing_ok and not Path(path).exists():
        return Registry()
    return registry_from_dict(_read_json(path, "registry"), f"The registry {Path(path).name}")


def load_published(path: str | Path) -> dict:
    data = _read_json(path, "published commitments file")
    if not isinstance(data, dict):
        raise RegistryError(f"{path} is not a published commitments file.")
    return data


def _write_json(data: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def save_registry(registry: Registry, path: str | Path) -> Path:
    """Write the registry as JSON (atomically: a crash never leaves half a registry)."""
    return _write_json(registry.to_dict(), path)


# ----------------------------------------------------------------------------------------------------------------
# Embedding
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """One inserted identifier. ``offset`` is the character offset of ``inserted`` in the marked text (for .docx:
    in the text of paragraph ``paragraph``, or -1 for a paragraph of its own). ``inserted`` is the exact string
    added, including any separating space, newlines or HTML markup."""

    id: str
    position: str
    offset: int
    inserted: str
    paragraph: int | None = None


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*(?=\s)")
_FENCE = re.compile(r"^(```|~~~)", re.M)


def sentence_boundaries(text: str, *, markdown: bool = False) -> list[int]:
    """Character offsets just after each sentence end (., ! or ? plus closing quotes or brackets, followed by
    whitespace), in increasing order. With ``markdown``, boundaries inside fenced code blocks are left out."""
    bounds = [m.end() for m in _SENTENCE_END.finditer(text)]
    if markdown:
        fences = [m.start() for m in _FENCE.finditer(text)]
        blocks = list(zip(fences[0::2], fences[1::2] + [len(text)] * (len(fences) % 2)))
        bounds = [b for b in bounds if not any(lo <= b <= hi for lo, hi in blocks)]
    return bounds


def _choose(bounds: Sequence[int], count: int, rng) -> list[int]:
    """``count`` boundaries, distinct while there are enough, then reused."""
    picks: list[int] = []
    while len(picks) < count:
        pool = list(bounds)
        rng.shuffle(pool)
        picks.extend(pool[: count - len(picks)])
    return picks


def _insert(text: str, inserts: list[tuple[int, int, str, str, str]]) -> tuple[str, list[Placement]]:
    """Apply (offset in ``text``, order, id, string, position) insertions (equal offsets in ``order``); return the
    marked text and the placements with offsets in the marked text."""
    out, placements, last, shift = [], [], 0, 0
    for at, _, ident, string, position in sorted(inserts, key=lambda x: (x[0], x[1])):
        out.append(text[last:at])
        placements.append(Placement(id=ident, position=position, offset=at + shift, inserted=string))
        out.append(string)
        shift += len(string)
        last = at
    out.append(text[last:])
    return "".join(out), placements


def embed_text(text: str, entries: Sequence[GhostEntry], *, position: str = "random", repetitions: int = 1,
               markdown: bool = False, rng=None) -> tuple[str, list[Placement]]:
    """Insert each entry's identifier ``repetitions`` times into plain text or Markdown.

    ``position``: "start" (its own paragraph before the text), "end" (its own paragraph after the last
    non-whitespace character) or "random" (after a sentence end, chosen uniformly among sentence boundaries;
    distinct boundaries while there are enough). Returns the marked text and the placements (offsets in the marked
    text); ``remove_placements`` undoes them exactly. Nothing else in the text changes.
    """
    if position not in POSITIONS:
        raise GhostError(f"Unknown position '{position}'. Choose one of: {', '.join(POSITIONS)}.")
    if repetitions < 1:
        raise GhostError(f"Repetitions must be at least 1; got {repetitions}.")
    rng = rng or secrets.SystemRandom()
    newline = "\r\n" if "\r\n" in text else "\n"
    body_start = 1 if text.startswith("\ufeff") else 0
    body_end = len(text.rstrip())
    inserts = []
    order = 0
    if position == "random":
        bounds = [b for b in sentence_boundaries(text, markdown=markdown) if b < body_end] + [body_end]
        for e in entries:
            for at in _choose(bounds, repetitions, rng):
                inserts.append((at, order, e.id, " " + e.identifier, position))
                order += 1
    else:
        for e in entries:
            for _ in range(repetitions):
                if position == "start":
                    inserts.append((body_start, order, e.id, e.identifier + newline * 2, position))
                else:
                    inserts.append((body_end, order, e.id, newline * 2 + e.identifier, position))
                order += 1
    return _insert(text, inserts)


def remove_placements(marked: str, placements: Sequence[Placement]) -> str:
    """Undo ``embed_text`` / ``embed_html``: cut every placement out of the marked text (checked, not trusted)."""
    text = marked
    for p in sorted(placements, key=lambda p: p.offset, reverse=True):
        if text[p.offset: p.offset + len(p.inserted)] != p.inserted:
            raise GhostError(f"The placement of {p.id} at character {p.offset} is not in this text; was the file "
                             "edited after embedding?")
        text = text[: p.offset] + text[p.offset + len(p.inserted):]
    return text


class _HtmlText(HTMLParser):
    """Character ranges of visible body text in an HTML source (outside head, script, style, pre, code ...)."""

    SKIP = {"head", "script", "style", "title", "pre", "code", "textarea", "template", "noscript"}

    def __init__(self, source: str):
        super().__init__(convert_charrefs=False)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.skip = 0
        self.ranges: list[tuple[int, int]] = []
        self.body_open: int | None = None
        self.body_close: int | None = None

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def handle_starttag(self, tag, attrs):
        if tag == "body" and self.body_open is None:
            self.body_open = self._offset() + len(self.get_starttag_text() or "")
        if tag in self.SKIP:
            self.skip += 1

    def handle_endtag(self, tag):
        if tag == "body":
            self.body_close = self._offset()
        if tag in self.SKIP and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            start = self._offset()
            self.ranges.append((start, start + len(data)))


def embed_html(source: str, entries: Sequence[GhostEntry], *, position: str = "random", repetitions: int = 1,
               rng=None) -> tuple[str, list[Placement]]:
    """Insert identifiers (HTML-escaped) into an HTML source without touching its markup.

    "start" / "end": a ``<p>`` of its own right after ``<body>`` / right before ``</body>`` (the document start or
    end without a body tag); "random": after a sentence end inside visible text. Offsets are in the marked source;
    ``remove_placements`` undoes them exactly.
    """
    if position not in POSITIONS:
        raise GhostError(f"Unknown position '{position}'. Choose one of: {', '.join(POSITIONS)}.")
    if repetitions < 1:
        raise GhostError(f"Repetitions must be at least 1; got {repetitions}.")
    rng = rng or secrets.SystemRandom()
    parser = _HtmlText(source)
    parser.feed(source)
    parser.close()
    if position == "random":
        bounds = sorted({lo + b for lo, hi in parser.ranges
                         for b in sentence_boundaries(source[lo:hi] + " ") if lo + b <= hi})
        if not bounds:
            raise GhostError("The HTML has no sentence ends in its visible text; use position 'start' or 'end'.")
    todo = [e for e in entries for _ in range(repetitions)]
    if position == "random":
        spots = _choose(bounds, len(todo), rng)
    elif position == "start":
        spots = [parser.body_open if parser.body_open is not None else 0] * len(todo)
    else:
        spots = [parser.body_close if parser.body_close is not None else len(source.rstrip())] * len(todo)
    inserts = []
    for order, (e, at) in enumerate(zip(todo, spots)):
        escaped = html.escape(e.identifier, quote=False)
        string = " " + escaped if position == "random" else f"<p>{escaped}</p>"
        inserts.append((at, order, e.id, string, position))
    return _insert(source, inserts)


def embed_docx(path: str | Path, out_path: str | Path, entries: Sequence[GhostEntry], *, position: str = "random",
               repetitions: int = 1, rng=None) -> list[Placement]:
    """Insert identifiers into a Word document and save it to ``out_path``.

    "start" / "end": a plain paragraph of its own before the first / after the last paragraph; "random": after a
    sentence end inside a paragraph, as a run with the formatting of the run it follows. Placements give the
    paragraph index in the marked document and the character offset in that paragraph's text (-1 for a paragraph
    of its own).
    """
    from docx import Document as open_docx
    from docx.text.run import Run

    if position not in POSITIONS:
        raise GhostError(f"Unknown position '{position}'. Choose one of: {', '.join(POSITIONS)}.")
    if repetitions < 1:
        raise GhostError(f"Repetitions must be at least 1; got {repetitions}.")
    rng = rng or secrets.SystemRandom()
    try:
        doc = open_docx(str(path))
    except Exception as exc:  # python-docx raises several types for damaged files
        raise GhostError(f"{Path(path).name} could not be opened as a Word document ({exc}).") from exc
    paragraphs = list(doc.paragraphs)
    if not paragraphs:
        raise GhostError(f"{Path(path).name} has no paragraphs to place identifiers next to.")
    todo = [e for e in entries for _ in range(repetitions)]
    placements: list[Placement] = []
    if position in ("start", "end"):
        added = []
        for e in todo:
            par = paragraphs[0].insert_paragraph_before(e.identifier) if position == "start" \
                else doc.add_paragraph(e.identifier)
            added.append((e, par._p))
        elements = [p._p for p in doc.paragraphs]
        for e, element in added:
            index = next(i for i, el in enumerate(elements) if el is element)
            placements.append(Placement(id=e.id, position=position, offset=-1, inserted=e.identifier,
                                        paragraph=index))
    else:
        candidates = []  # (paragraph index, run index, offset within the run, offset within the paragraph)
        for pi, par in enumerate(paragraphs):
            acc = 0
            for ri, run in enumerate(par.runs):
                for b in sentence_boundaries(run.text + " "):
                    if b <= len(run.text):
                        candidates.append((pi, ri, b, acc + b))
                acc += len(run.text)
        if not candidates:
            raise GhostError(f"{Path(path).name} has no sentence ends inside its text; use position 'start' or "
                             "'end'.")
        picks = _choose(range(len(candidates)), len(todo), rng)
        chosen = sorted(((candidates[c], e) for c, e in zip(picks, todo)), key=lambda x: x[0][:3], reverse=True)
        by_paragraph: dict[int, list[tuple[int, int, GhostEntry]]] = {}
        for order, ((pi, ri, at, par_at), e) in enumerate(chosen):  # last first, so earlier offsets stay valid
            run = paragraphs[pi].runs[ri]
            before, after = run.text[:at], run.text[at:]
            run.text = before
            tail = copy.deepcopy(run._r)
            run._r.addnext(tail)
            mark = copy.deepcopy(run._r)
            run._r.addnext(mark)  # run, mark, tail: a later insertion at the same place lands before this one
            Run(mark, paragraphs[pi]).text = " " + e.identifier
            Run(tail, paragraphs[pi]).text = after
            by_paragraph.setdefault(pi, []).append((par_at, -order, e))
        for pi, items in sorted(by_paragraph.items()):
            shift = 0
            for par_at, _, e in sorted(items, key=lambda x: x[:2]):
                placements.append(Placement(id=e.id, position=position, offset=par_at + shift,
                                            inserted=" " + e.identifier, paragraph=pi))
                shift += len(e.identifier) + 1
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out_path))
    return placements


def plant_corpus(documents: Sequence[str], plan: Sequence[tuple[GhostEntry, int]], *, rng=None) -> list[str]:
    """A training corpus with each ``(entry, count)`` of ``plan`` placed ``count`` times at random sentence
    boundaries, one placement per document while there are enough documents (as an owner planting one identifier
    in several of their texts would). Returns new texts; ``documents`` is not changed. Used by the tests, the
    repetition experiment and the guided demo."""
    if not documents:
        raise GhostError("There are no documents to plant identifiers in.")
    rng = rng or secrets.SystemRandom()
    docs = list(documents)
    for entry, count in plan:
        for i in _choose(range(len(docs)), count, rng):
            docs[i], _ = embed_text(docs[i], [entry], position="random", repetitions=1, rng=rng)
    return docs


def read_utf8_exact(path: str | Path) -> tuple[str, bool]:
    """Text of a UTF-8 file and whether it starts with a byte-order mark, such that writing the text back (with the
    mark) reproduces the file byte for byte. Other encodings are refused with a sentence (byte-exact restoration
    could not be promised)."""
    path = Path(path)
    data = path.read_bytes()
    try:
        text = decode_text(data, str(path))
    except ValueError as exc:
        raise GhostError(f"{path.name}: {exc}") from exc
    bom = data.startswith(codecs.BOM_UTF8)
    if (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8") != data:
        raise GhostError(f"{path.name} is not UTF-8 text; save it as UTF-8 and embed again.")
    return text, bom


def write_utf8_exact(path: str | Path, text: str, bom: bool) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8"))


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def embed_files(paths: Sequence[str | Path], out_dir: str | Path, entries: Sequence[GhostEntry], *,
                position: str = "random", repetitions: int = 1, spread: bool = False,
                rng=None) -> dict:
    """Embed identifiers into each file and write the marked copies (same names) into ``out_dir``.

    Every entry goes into every file, unless ``spread`` deals the entries out round-robin (file i gets entries
    i, i + n_files, ...). Returns the manifest (also what ``save_manifest`` writes): per document its source,
    output, format, SHA-256 of source and output, and the placements.
    """
    if not entries:
        raise GhostError("No identifiers were selected to embed.")
    names = [Path(p).name for p in paths]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise GhostError(f"Several input files are named {', '.join(repeated)}; their marked copies would overwrite "
                         "each other in the output folder. Embed them in separate runs.")
    out_dir = Path(out_dir)
    documents = []
    for i, raw in enumerate(paths):
        path = Path(raw)
        suffix = path.suffix.lower()
        if suffix not in EMBED_SUFFIXES:
            raise GhostError(f"{path.name}: identifiers can be embedded in {', '.join(EMBED_SUFFIXES)} files only.")
        if not path.is_file():
            raise GhostError(f"There is no file at {path}.")
        chosen = list(entries[i:: len(paths)]) if spread else list(entries)
        out = out_dir / path.name
        if out.resolve() == path.resolve():
            raise GhostError(f"The output folder is the folder of {path.name}; choose another so the original stays.")
        if not chosen:
            continue
        if suffix == ".docx":
            placements = embed_docx(path, out, chosen, position=position, repetitions=repetitions, rng=rng)
        else:
            text, bom = read_utf8_exact(path)
            if suffix in (".html", ".htm"):
                marked, placements = embed_html(text, chosen, position=position, repetitions=repetitions, rng=rng)
            else:
                marked, placements = embed_text(text, chosen, position=position, repetitions=repetitions,
                                                markdown=suffix == ".md", rng=rng)
            write_utf8_exact(out, marked, bom)
        documents.append({"source": str(path), "output": str(out), "format": suffix.lstrip("."),
                          "source_sha256": _sha256_file(path), "output_sha256": _sha256_file(out),
                          "placements": [asdict(p) for p in placements]})
    return {"format": MANIFEST_FORMAT, "version": FORMAT_VERSION,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "documents": documents}


def save_manifest(manifest: dict, path: str | Path) -> Path:
    return _write_json(manifest, path)


def placements_from_manifest(document: dict) -> list[Placement]:
    """The placements of one manifest document (``manifest['documents'][i]``)."""
    try:
        return [Placement(**p) for p in document["placements"]]
    except (KeyError, TypeError) as exc:
        raise GhostError("The manifest entry is damaged: its placements cannot be read.") from exc


# ----------------------------------------------------------------------------------------------------------------
# Detection
# ----------------------------------------------------------------------------------------------------------------


def span_nll(stats: TokenStats, start_char: int = 0) -> float:
    """Mean NLL (nats per token) of the scored tokens that end after character ``start_char`` of the scored text,
    i.e. the identifier's tokens when the text is ``context + identifier`` and ``start_char = len(context)``."""
    mask = stats.offsets[1:, 1] > start_char
    if not mask.any():
        raise GhostError(f"The identifier in '{stats.text[:60]}' has no scored token; it is too short to test.")
    return float(-np.mean(stats.logprob[mask], dtype=np.float64))


def identifier_nll(model: LoadedModel, identifiers: Sequence[str], *, context: str = "",
                   settings: ScoringSettings = ScoringSettings(), cache: StatsCache | None = None,
                   **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """NLL of each identifier scored after ``context`` and its number of scored tokens: two arrays of shape (n,),
    float64 NLL in nats per token (lower = more likely) and int64 token counts.

    One batched pass through ``cache.cached_token_statistics``; other keyword arguments (progress, should_stop,
    max_batch_tokens ...) go to ``scoring.iter_token_statistics``.
    """
    texts = [context + ident for ident in identifiers]
    stats = cached_token_statistics(model, texts, settings, cache, **kwargs)
    nll = np.array([span_nll(s, len(context)) for s in stats], dtype=np.float64)
    tokens = np.array([int(np.count_nonzero(s.offsets[1:, 1] > len(context))) for s in stats], dtype=np.int64)
    return nll, tokens


class NullCache:
    """Null draws and their NLLs, per model identity, generator settings, scoring settings and context.

    Kept on disk as small JSON files (texts and NLLs) when ``directory`` is given, else in memory. Asking for more
    draws than cached scores only the extra ones; asking for fewer reuses the first M.
    """

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory else None
        self._memory: dict[str, dict] = {}

    @staticmethod
    def key(model: LoadedModel, generator: GhostGenerator, settings: ScoringSettings, context: str) -> str:
        parts = [model.identity, generator.key(), settings.key(model.context_length),
                 hashlib.sha256(context.encode("utf-8")).hexdigest()]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]

    def load(self, key: str) -> tuple[list[str], list[float]]:
        if key in self._memory:
            entry = self._memory[key]
        elif self.directory is not None and (self.directory / f"{key}.json").is_file():
            try:
                entry = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
                if len(entry["texts"]) != len(entry["nll"]):
                    raise ValueError
            except (OSError, ValueError, KeyError, TypeError):
                return [], []  # a damaged cache file is recomputed, never trusted
            self._memory[key] = entry
        else:
            return [], []
        return list(entry["texts"]), [float(x) for x in entry["nll"]]

    def store(self, key: str, texts: list[str], nll: list[float], meta: dict) -> None:
        entry = {**meta, "texts": texts, "nll": nll}
        self._memory[key] = entry
        if self.directory is not None:
            _write_json(entry, self.directory / f"{key}.json")


def null_nll(model: LoadedModel, generator: GhostGenerator, n_null: int = DEFAULT_NULL, *, context: str = "",
             exclude: Iterable[str] = (), settings: ScoringSettings = ScoringSettings(),
             null_cache: NullCache | None = None, rng=None, **kwargs) -> np.ndarray:
    """NLLs of ``n_null`` fresh identifiers from ``generator`` scored exactly like the tested ones; shape (M,).

    Draws never equal an identifier in ``exclude`` (the registry). Scored in batches by ``identifier_nll``; cached
    in ``null_cache`` when given. Keyword arguments (progress, should_stop ...) go to the scorer.
    """
    if n_null < 1:
        raise GhostError(f"The number of null draws must be at least 1; got {n_null}.")
    key = NullCache.key(model, generator, settings, context)
    texts, values = null_cache.load(key) if null_cache is not None else ([], [])
    excluded = set(exclude)
    keep = [(t, v) for t, v in zip(texts, values) if t not in excluded]
    texts, values = [t for t, _ in keep], [v for _, v in keep]
    if len(texts) < n_null:
        fresh = generate_identifiers(generator, n_null - len(texts), exclude=excluded | set(texts), rng=rng)
        values += identifier_nll(model, fresh, context=context, settings=settings, **kwargs)[0].tolist()
        texts += fresh
        if null_cache is not None:
            null_cache.store(key, texts, values, {"model": model.identity, "model_name": model.name,
                                                  "generator": generator.to_dict(), "context": context,
                                                  "scoring": settings.key(model.context_length)})
    return np.asarray(values[:n_null], dtype=np.float64)


def empirical_p_value(observed: float, null: np.ndarray) -> tuple[float, int]:
    """(p, rank) with rank = 1 + #{null <= observed} and p = rank / (M + 1): small when the observed NLL is lower
    than almost all null NLLs. Exactly uniform on {1/(M+1), ..., 1} when observed and null are exchangeable."""
    rank = 1 + int(np.count_nonzero(null <= observed))
    return rank / (len(null) + 1), rank


def exposure_bits(rank: int, n_null: int) -> float:
    """Exposure (Carlini et al. 2019) in bits: log2(M + 1) - log2(rank); 0 for the least likely, log2(M+1) at most."""
    return math.log2(n_null + 1) - math.log2(rank)


def fisher_combined(p_values: Sequence[float]) -> float:
    """Fisher's method across independent p-values (scipy.stats.combine_pvalues)."""
    from scipy.stats import combine_pvalues

    p = np.asarray(p_values, dtype=np.float64)
    if len(p) == 1:
        return float(p[0])
    return float(combine_pvalues(p, method="fisher").pvalue)


def last_k_prompts(entry: GhostEntry, k: int, context: str = "") -> tuple[str, list[str]]:
    """(prompt, target words): the context and the identifier up to (not including) the separator before its last k
    words, and those k words as rendered."""
    g = entry.generator
    prefix, words, _ = g.split(entry.identifier)
    if not 1 <= k < len(words):
        raise GhostError(f"The last-k words test needs k between 1 and {len(words) - 1} for identifiers of "
                         f"{len(words)} words; got k = {k}.")
    return context + prefix + g.separator.join(words[:-k]), words[-k:]


def _is_hit(continuation: str, separator: str, target: Sequence[str]) -> bool:
    """Exact match: the continuation starts with separator + the target words, not followed by more letters."""
    expected = separator + separator.join(target)
    if separator == " ":
        continuation, expected = " " + continuation.lstrip(" "), " " + expected.lstrip(" ")
    return continuation.startswith(expected) and not continuation[len(expected): len(expected) + 1].isalpha()


def greedy_continuations(model: LoadedModel, prompts: Sequence[str], max_new_tokens: int,
                         batch_size: int = 32) -> list[str]:
    """Greedy (argmax) continuation text of each prompt, ``max_new_tokens`` tokens at most, in input order."""
    import torch

    tok = model.tokenizer
    side = tok.padding_side
    tok.padding_side = "left"
    out: list[str] = []
    try:
        for lo in range(0, len(prompts), batch_size):
            enc = tok(list(prompts[lo: lo + batch_size]), return_tensors="pt", padding=True)
            enc = {k: v.to(model.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
            with torch.inference_mode():
                gen = model.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                           pad_token_id=tok.pad_token_id, num_beams=1)
            new = gen[:, enc["input_ids"].shape[1]:]
            out.extend(tok.batch_decode(new, skip_special_tokens=True))
    finally:
        tok.padding_side = side
    return out


def last_k_test(model: LoadedModel, entries: Sequence[GhostEntry], ks: Sequence[int] = DEFAULT_LAST_K, *,
                context: str = "") -> pd.DataFrame:
    """The last-k words test: for each entry and k, prompt with all but the last k words and decode greedily.

    Returns one row per entry with a boolean column ``last_{k}_hit`` per k (True = the greedy continuation is
    exactly the k withheld words) and the continuation ``last_{k}_output``.
    """
    rows = [{"id": e.id} for e in entries]
    for k in ks:
        prompts, targets = zip(*(last_k_prompts(e, k, context) for e in entries))
        longest = max(len(model.tokenizer(" " + " ".join(t), add_special_tokens=False)["input_ids"]) for t in targets)
        outputs = greedy_continuations(model, prompts, max_new_tokens=longest + 2)
        for row, e, target, output in zip(rows, entries, targets, outputs):
            row[f"last_{k}_hit"] = _is_hit(output, e.generator.separator, target)
            row[f"last_{k}_output"] = output
    return pd.DataFrame(rows)


@dataclass
class GhostDetection:
    """Result of ``detect``.

    ``table``: one row per identifier: ``id, identifier, tokens, nll`` (nats per token), ``null_median_nll``,
    ``rank``, ``p_value``, ``exposure_bits``, ``last_k_hit`` (any k) and ``last_{k}_hit`` per k.
    ``null``: the null NLLs per generator key, shape (M,). ``combined_p``: Fisher's method over ``p_value``.
    ``verdict``: the verdict word(s); ``sentence``: the full verdict sentence with its false-positive rate.
    """

    table: pd.DataFrame
    null: dict[str, np.ndarray]
    combined_p: float
    n_null: int
    alpha: float
    verdict: str
    sentence: str


def verdict_for(combined_p: float, n_identifiers: int, n_null: int, alpha: float) -> tuple[str, str]:
    """(verdict words, sentence) in design.md's words. The false-positive rate is ``alpha`` exactly, because the
    p-values are exact under "never trained on these identifiers"."""
    floor = fisher_combined([1 / (n_null + 1)] * n_identifiers)
    subject = f"{n_identifiers} identifier(s), each ranked among {n_null} fresh draws from its generator"
    if floor > alpha:
        verdict = f"inconclusive (too few null draws: the smallest possible p = {floor:.3g} is above the FPR {alpha:g})"
        return verdict, f"{verdict}. Tested {subject}; use more null draws."
    if combined_p <= alpha:
        verdict = f"evidence of training (p = {combined_p:.3g}, at FPR {alpha:g})"
        return verdict, (f"{verdict}: the model finds these identifiers more likely than fresh ones of the same kind "
                         f"would be by chance. Tested {subject}; a model that never saw them is called 'trained' "
                         f"with probability {alpha:g}.")
    verdict = "no evidence"
    return verdict, (f"{verdict} (p = {combined_p:.3g} > {alpha:g}, the false-positive rate this test is set at): "
                     f"the model finds these identifiers no more likely than fresh ones. Tested {subject}.")


def detect(model: LoadedModel, entries: Sequence[GhostEntry], *, n_null: int = DEFAULT_NULL, context: str = "",
           alpha: float = DEFAULT_ALPHA, last_k: Sequence[int] = DEFAULT_LAST_K,
           settings: ScoringSettings = ScoringSettings(), cache: StatsCache | None = None,
           null_cache: NullCache | None = None, exclude: Iterable[str] = (), rng=None,
           progress: Callable[[int, int], None] | None = None,
           should_stop: Callable[[], bool] | None = None) -> GhostDetection:
    """Test a model for registered identifiers: the perplexity test (exact p-values, exposure, Fisher) and the
    last-k words test (skipped when ``last_k`` is empty).

    Every identifier is ranked among ``n_null`` draws from its own generator settings, scored with the same model,
    ``context`` and scoring settings. The identifiers in ``entries`` and ``exclude`` never appear among the draws.
    ``rng`` draws the nulls (``secrets.SystemRandom()`` by default). Identifiers of one generator share one set of
    draws (cached in ``null_cache``): each p-value is still exactly uniform for an unseen identifier, and the
    dependence this sharing adds between p-values, which Fisher's method assumes independent, shrinks as 1/sqrt(M).
    ``progress(tokens_done, tokens_total)`` reports the scoring of the null draws, the long part.
    """
    if not entries:
        raise GhostError("The registry has no identifiers to test.")
    if not 0 < alpha < 1:
        raise GhostError(f"The false-positive rate must be between 0 and 1; got {alpha}.")
    for e in entries:  # refuse impossible k before any scoring
        for k in last_k:
            last_k_prompts(e, k)
    excluded = set(exclude) | {e.identifier for e in entries}
    observed, tokens = identifier_nll(model, [e.identifier for e in entries], context=context, settings=settings,
                                      cache=cache, should_stop=should_stop)
    nulls: dict[str, np.ndarray] = {}
    for g in dict.fromkeys(e.generator for e in entries):
        nulls[g.key()] = null_nll(model, g, n_null, context=context, exclude=excluded, settings=settings,
                                  null_cache=null_cache, rng=rng, progress=progress, should_stop=should_stop)
    rows = []
    for i, (e, nll) in enumerate(zip(entries, observed)):
        null = nulls[e.generator.key()]
        p, rank = empirical_p_value(float(nll), null)
        rows.append({"id": e.id, "identifier": e.identifier, "tokens": int(tokens[i]), "nll": float(nll),
                     "null_median_nll": float(np.median(null)), "rank": rank, "p_value": p,
                     "exposure_bits": exposure_bits(rank, len(null))})
    table = pd.DataFrame(rows)
    if last_k:
        hits = last_k_test(model, entries, last_k, context=context)
        hit_cols = [f"last_{k}_hit" for k in last_k]
        table["last_k_hit"] = hits[hit_cols].any(axis=1).to_numpy()
        for k in last_k:
            table[f"last_{k}_hit"] = hits[f"last_{k}_hit"].to_numpy()
    combined = fisher_combined(table["p_value"].to_numpy())
    verdict, sentence = verdict_for(combined, len(entries), n_null, alpha)
    return GhostDetection(table=table, null=nulls, combined_p=combined, n_null=n_null, alpha=alpha,
                          verdict=verdict, sentence=sentence)
