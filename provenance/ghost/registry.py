"""Step 2 of ghost sentences: the owner's registry of identifiers and the commitments that date them.

Each registered identifier (``GhostEntry``) carries its generator settings, creation time (UTC), a SHA-256
commitment ``sha256(salt || identifier)`` with a fresh 16-byte salt, and a date commitment
``sha256(salt || commitment || created)`` that binds the creation time to it (the salt is secret, so no one else can
move the date and keep the date commitment). Entries registered before date commitments existed have none: they
still verify, and ``undated_entries`` names them so that ``ghost verify`` can say their dates are not covered.
Publishing ``public_commitments`` now lets the owner prove later (``verify_against_published``) that an identifier
existed before a model was released, without revealing it. Registries are JSON files, checked on reading
(``registry_from_dict``, ``verify_registry``) and written atomically.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from ..files import atomic_write_text
from .generator import GhostError, GhostGenerator, generate_identifiers, load_wordlist

REGISTRY_FORMAT = "provenance-ghost-registry"
FORMAT_VERSION = 1
SALT_BYTES = 16


class RegistryError(GhostError):
    """A registry file that is malformed, or whose entries do not match their commitments."""


def commitment(identifier: str, salt_hex: str) -> str:
    """SHA-256 hex digest of the salt bytes followed by the identifier's UTF-8 bytes."""
    return hashlib.sha256(bytes.fromhex(salt_hex) + identifier.encode("utf-8")).hexdigest()


def date_commitment(commitment_hex: str, created: str, salt_hex: str) -> str:
    """SHA-256 hex digest of the salt bytes, the commitment's 64 hex digits (ASCII) and the creation time's UTF-8
    bytes: binds the creation time to the identifier (the commitment has a fixed length, so the parts cannot
    shift)."""
    return hashlib.sha256(bytes.fromhex(salt_hex) + commitment_hex.encode("ascii")
                          + created.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class GhostEntry:
    """One registered identifier. ``id`` is 'ghost-' plus the first 12 hex digits of the commitment;
    ``date_commitment`` binds ``created`` to it ('' for entries registered before date commitments existed)."""

    id: str
    identifier: str
    generator: GhostGenerator
    created: str
    salt: str
    commitment: str
    date_commitment: str = ""

    def to_dict(self) -> dict:
        out = {"id": self.id, "identifier": self.identifier, "generator": self.generator.to_dict(),
               "created": self.created, "salt": self.salt, "commitment": self.commitment}
        if self.date_commitment:
            out["date_commitment"] = self.date_commitment
        return out


def make_entry(identifier: str, generator: GhostGenerator, *, created: datetime | None = None) -> GhostEntry:
    """Register one identifier: fresh 16-byte salt from ``secrets``, commitment, creation time (UTC, ISO 8601) and
    the date commitment that binds that time to it."""
    salt = secrets.token_hex(SALT_BYTES)
    digest = commitment(identifier, salt)
    when = (created or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")
    return GhostEntry(id="ghost-" + digest[:12], identifier=identifier, generator=generator, created=when,
                      salt=salt, commitment=digest, date_commitment=date_commitment(digest, when, salt))


def entries_from_lines(text: str, generator: GhostGenerator) -> list[GhostEntry]:
    """One entry (``make_entry``) per non-empty line of ``text``, e.g. identifiers pasted by an owner who kept no
    registry; a GhostError names the first line that ``generator`` cannot have made (the test would not be exact)."""
    entries = [make_entry(line.strip(), generator) for line in text.splitlines() if line.strip()]
    for entry in entries:
        generator.split(entry.identifier)
    return entries


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
    """What the owner may publish now: commitments, creation times and date commitments, without identifiers or
    salts."""
    rows = []
    for e in registry.entries:
        row = {"commitment": e.commitment, "created": e.created}
        if e.date_commitment:
            row["date_commitment"] = e.date_commitment
        rows.append(row)
    return {"format": REGISTRY_FORMAT + "-commitments", "version": FORMAT_VERSION, "commitments": rows}


def save_commitments(registry: Registry, path: str | Path) -> Path:
    """Write ``public_commitments(registry)`` as JSON: the file to publish."""
    return write_json(public_commitments(registry), path)


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
    dated = raw.get("date_commitment", "")
    if "date_commitment" in raw and not (isinstance(dated, str) and re.fullmatch(r"[0-9a-f]{64}", dated)):
        raise RegistryError(f"{where}: the date commitment must be a SHA-256 digest (64 lower-case hex digits).")
    try:
        datetime.fromisoformat(raw["created"])
    except ValueError as exc:
        raise RegistryError(f"{where}: the creation time '{raw['created']}' is not an ISO 8601 time.") from exc
    return GhostEntry(id=raw["id"], identifier=raw["identifier"], generator=generator, created=raw["created"],
                      salt=raw["salt"], commitment=raw["commitment"], date_commitment=dated)


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
    matches its commitment, a creation time that no longer matches its date commitment, an id that does not match
    its commitment, repeated ids or identifiers, or an identifier its generator settings could not have produced.
    Entries without a date commitment (older registries) are not problems; ``undated_entries`` lists them."""
    problems, seen_ids, seen_identifiers = [], set(), set()
    for i, e in enumerate(registry.entries, start=1):
        if commitment(e.identifier, e.salt) != e.commitment:
            problems.append(f"entry {i} ({e.id}): the identifier or salt does not match its SHA-256 commitment, so "
                            "it was changed after registration.")
        elif e.date_commitment and date_commitment(e.commitment, e.created, e.salt) != e.date_commitment:
            problems.append(f"entry {i} ({e.id}): the creation time {e.created} does not match its date "
                            "commitment, so it was changed after registration.")
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


def undated_entries(registry: Registry) -> list[str]:
    """Ids of entries whose creation time is not covered by a commitment (registered by an older version of this
    program): their date is only the owner's word, unless a published commitments file dates them."""
    return [e.id for e in registry.entries if not e.date_commitment]


def verify_against_published(registry: Registry, published: dict) -> pd.DataFrame:
    """Check each entry against commitments published earlier (the output of ``public_commitments``).

    Returns one row per entry: ``id, created, commitment_ok`` (salt and identifier open the commitment),
    ``date_covered`` (a date commitment binds ``created``, and matches the published one when that file has one) and
    ``published`` (the commitment is in the published list, with the published creation time in
    ``published_created``). An entry with ``commitment_ok`` and ``published`` proves the identifier existed when the
    list was published.
    """
    rows_in = published.get("commitments") if isinstance(published, dict) else None
    if not isinstance(rows_in, list) or not all(isinstance(r, dict) and "commitment" in r for r in rows_in):
        raise RegistryError("The published commitments file is not a list of commitments made by 'ghost new'.")
    when = {r["commitment"]: r.get("created", "") for r in rows_in}
    dated = {r["commitment"]: r.get("date_commitment", "") for r in rows_in}
    rows = []
    for e in registry.entries:
        covered = bool(e.date_commitment) and date_commitment(e.commitment, e.created, e.salt) == e.date_commitment \
            and dated.get(e.commitment, "") in ("", e.date_commitment)
        rows.append({"id": e.id, "created": e.created,
                     "commitment_ok": commitment(e.identifier, e.salt) == e.commitment, "date_covered": covered,
                     "published": e.commitment in when, "published_created": when.get(e.commitment, "")})
    return pd.DataFrame(rows, columns=["id", "created", "commitment_ok", "date_covered", "published",
                                       "published_created"])


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
    except RecursionError as exc:
        raise RegistryError(f"The {what} {path} is nested too deeply to be a {what}; it is damaged or was not "
                            "written by this program.") from exc


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


def write_json(data: dict, path: str | Path) -> Path:
    """Write ``data`` as indented UTF-8 JSON, atomically (``files.atomic_write_text``: a crash leaves the old file or
    the new one, never half of one), creating the folder when needed; returns the path."""
    return atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def save_registry(registry: Registry, path: str | Path) -> Path:
    """Write the registry as JSON (atomically: a crash never leaves half a registry)."""
    return write_json(registry.to_dict(), path)
