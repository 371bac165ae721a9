"""Ghost-sentence registries kept in the investigation store's SQLite file, so that an owner's identifiers outlive
the browser session they were made in (persistence only: a registry is kept as the JSON ``ghost.Registry.to_dict``
writes, and read back by the caller with ``ghost.registry_from_dict``, which checks every commitment).

A registry holds the secret salts that prove an identifier is the owner's: it stays on this machine, in the same
file as the investigations (``InvestigationStore.path``), and the page says so. Each registry records when it last
changed and when it was last downloaded, so a page can warn while the only copy is the one in this file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from .store import InvestigationStore, StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ghost_registries (
    name          TEXT PRIMARY KEY,
    data          TEXT NOT NULL,
    entries       INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    downloaded_at TEXT
);
"""


@dataclass(frozen=True)
class RegistryRecord:
    """One kept registry: its name, JSON form (``ghost.Registry.to_dict``), number of identifiers, when it was
    created, last changed and last downloaded (None: never)."""

    name: str
    data: dict
    entries: int
    created_at: str
    updated_at: str
    downloaded_at: str | None

    @property
    def only_copy_here(self) -> bool:
        """True while the registry changed after its last download (or was never downloaded)."""
        return self.downloaded_at is None or self.downloaded_at < self.updated_at


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class RegistryStore:
    """Ghost registries by name, in the SQLite file of an ``InvestigationStore`` (its connections and
    transactions; safe to share between threads as the store is)."""

    def __init__(self, store: InvestigationStore):
        self.store = store
        with store._write() as con:
            con.execute(_SCHEMA)

    @property
    def path(self):
        """The file the registries are kept in."""
        return self.store.path

    def save(self, name: str, data: dict) -> RegistryRecord:
        """Keep ``data`` (a registry's ``to_dict``) under ``name``, replacing what that name held."""
        name = (name or "").strip()
        if not name:
            raise StoreError("A registry needs a name.")
        entries = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise StoreError("Only a ghost registry (with a list of entries) can be kept.")
        now = _now()
        with self.store._write() as con:
            con.execute("INSERT INTO ghost_registries (name, data, entries, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET data = excluded.data, "
                        "entries = excluded.entries, updated_at = excluded.updated_at",
                        (name, json.dumps(data), len(entries), now, now))
        return self.get(name)

    def get(self, name: str) -> RegistryRecord | None:
        """The registry kept under ``name``, or None."""
        rows = self.store._read("SELECT * FROM ghost_registries WHERE name = ?", (name,))
        return _record(rows[0]) if rows else None

    def names(self) -> list[str]:
        """Every kept registry's name, the most recently changed first."""
        return [r["name"] for r in self.store._read("SELECT name FROM ghost_registries ORDER BY updated_at DESC")]

    def mark_downloaded(self, name: str) -> None:
        """Record that the registry ``name`` was just downloaded (a copy now exists outside this file)."""
        with self.store._write() as con:
            con.execute("UPDATE ghost_registries SET downloaded_at = ? WHERE name = ?", (_now(), name))

    def delete(self, name: str) -> None:
        """Forget the registry ``name`` (its text is overwritten on disk, as the store deletes everything)."""
        if self.get(name) is None:
            raise StoreError(f"There is no kept registry named '{name}'.")
        with self.store._write() as con:
            con.execute("DELETE FROM ghost_registries WHERE name = ?", (name,))


def _record(row) -> RegistryRecord:
    return RegistryRecord(name=row["name"], data=json.loads(row["data"]), entries=int(row["entries"]),
                          created_at=row["created_at"], updated_at=row["updated_at"],
                          downloaded_at=row["downloaded_at"])
