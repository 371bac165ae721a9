"""Investigations that are never lost: every input, setting, score row, verdict and artifact in one SQLite file.

An *investigation* is one question asked of one model: its documents (name, text, SHA-256), the model spec and
identity, the settings (JSON), one result row per document (scores, or the sentence saying why it could not be
scored), an optional verdict, and named JSON *artifacts* other features attach (calibration results, ghost
detection tables, ...). Rows are committed the moment they are computed, so killing the process loses at most the
batch in flight, and the use cases of this package (``scoring``, ``reference``, ``labelled``, ``ghost_test``)
resume an interrupted run by skipping documents already done.

Documents and rows belong to a *collection* of their investigation: ``MAIN`` holds the documents the question is
about (the suspect set, the labelled set); others hold the texts they are compared with (``REFERENCE``, the null
draws of a ghost test). Names are unique within a collection; counts, listings and comparisons read ``MAIN``.
This module only keeps and reads things; it runs no model and computes no score.

The database is in WAL mode (readers never block the writer; the CLI and the dashboard can use the same file at
once) and every thread gets its own connection, so one ``InvestigationStore`` can be shared by all dashboard
sessions. Location: the ``path`` argument, else ``$PROVENANCE_STORE``, else
``~/.cache/provenance/investigations.sqlite``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .. import paths
from ..documents import Document, unique_names
from ..files import sha256_text
from ..verdicts.verdict import Verdict
from .records import (Investigation, Kind, dumps, investigation_from_row, load_artifact, ordered_frame, table_json,
                      to_jsonable)

# Migrations are decided by the columns a file has, not by this number: schema 2 gained the investigations'
# ``kind`` column as an addition older readers ignore (``_add_kind``).
SCHEMA_VERSION = 2

# Lifecycle of an investigation.
CREATED, RUNNING, COMPLETE, INTERRUPTED, FAILED = "created", "running", "complete", "interrupted", "failed"
STATUSES = (CREATED, RUNNING, COMPLETE, INTERRUPTED, FAILED)

# Result row kinds: a row of scores, or a document that cannot be scored (the row holds the reason).
SCORED, UNSCORABLE = "scored", "error"

# Collections: the investigation's own documents, and the reference set they are compared with.
MAIN, REFERENCE = "main", "reference"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS investigations (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL,
    message        TEXT NOT NULL DEFAULT '',
    model_spec     TEXT NOT NULL DEFAULT '',
    model_identity TEXT NOT NULL DEFAULT '',
    model_info     TEXT NOT NULL DEFAULT '{}',
    settings       TEXT NOT NULL DEFAULT '{}',
    verdict        TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    kind           TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS documents (
    investigation_id TEXT NOT NULL REFERENCES investigations(id) ON DELETE CASCADE,
    collection       TEXT NOT NULL DEFAULT 'main',
    position         INTEGER NOT NULL,
    name             TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    text             TEXT NOT NULL,
    added_at         TEXT NOT NULL,
    PRIMARY KEY (investigation_id, collection, name)
);
CREATE TABLE IF NOT EXISTS results (
    investigation_id TEXT NOT NULL REFERENCES investigations(id) ON DELETE CASCADE,
    collection       TEXT NOT NULL DEFAULT 'main',
    document         TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    row              TEXT NOT NULL,
    computed_at      TEXT NOT NULL,
    PRIMARY KEY (investigation_id, collection, document)
);
CREATE TABLE IF NOT EXISTS artifacts (
    investigation_id TEXT NOT NULL REFERENCES investigations(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    data             TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (investigation_id, name)
);
"""


class StoreError(ValueError):
    """A problem with the investigation store the user can act on (unknown investigation, name taken, ...)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class InvestigationStore:
    """Thread-safe access to the investigations database (one SQLite connection per thread, WAL mode).

    Parameters
    ----------
    path: the SQLite file; None for ``paths.store_path()``. Folders are created as needed.
    timeout: seconds a writer waits for another writer (another thread or process) before giving up.
    """

    def __init__(self, path: str | Path | None = None, *, timeout: float = 30.0):
        self.path = Path(path).expanduser() if path is not None else paths.store_path()
        self.timeout = timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._connection()
        try:
            con.executescript(_SCHEMA)  # idempotent; executescript manages its own transaction
            with self._write() as write:
                _add_collections(write)
                _add_kind(write)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"The investigation store {self.path} could not be opened ({exc}); move the file "
                             f"away or choose another location with ${paths.STORE_ENV}.") from exc

    # ------------------------------------------------------------------------------------------ connections

    def _connection(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            try:
                con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                                      check_same_thread=False)
                con.execute("PRAGMA journal_mode = WAL")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"The investigation store {self.path} could not be opened ({exc}); move the file "
                                 f"away or choose another location with ${paths.STORE_ENV}.") from exc
            con.execute("PRAGMA synchronous = NORMAL")  # durable across process crashes in WAL mode
            con.execute("PRAGMA foreign_keys = ON")
            con.execute("PRAGMA secure_delete = ON")  # deleted texts are overwritten, not left in free pages
            con.row_factory = sqlite3.Row
            self._local.con = con
            with self._lock:
                self._connections.append(con)
        return con

    def _write(self):
        """A context manager for one write transaction (BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error)."""
        return _Transaction(self._connection())

    def _read(self, sql: str, params: Sequence = ()) -> list[sqlite3.Row]:
        return self._connection().execute(sql, params).fetchall()

    def close(self) -> None:
        """Close every connection this store opened (in any thread)."""
        with self._lock:
            for con in self._connections:
                try:
                    con.close()
                except sqlite3.Error:
                    pass
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> InvestigationStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def journal_mode(self) -> str:
        return str(self._read("PRAGMA journal_mode")[0][0])

    # ------------------------------------------------------------------------------------------ investigations

    def create(self, name: str | None = None, *, model_spec: str = "", model_identity: str = "",
               model_info: dict | None = None, settings: dict | None = None,
               kind: Kind = Kind.DOCUMENTS, existing_ok: bool = False) -> Investigation:
        """Create an empty investigation of this ``kind`` (what it asks, see ``records.Kind``); ``name`` defaults
        to 'Investigation <date time>' (made unique).

        A name already taken raises StoreError, or with ``existing_ok`` returns that investigation: the check and
        the insert are one write transaction, so processes creating the same new name at once all get the one
        investigation (find-or-create), never "already exists"."""
        automatic = not (name or "").strip()
        name = f"Investigation {datetime.now().strftime('%Y-%m-%d %H:%M')}" if automatic else name.strip()
        inv_id = uuid.uuid4().hex[:12]
        now = _now()
        with self._write() as con:
            taken = con.execute("SELECT id FROM investigations WHERE name = ?", (name,)).fetchone()
            if taken is not None and not automatic:
                if not existing_ok:
                    raise StoreError(f"An investigation named '{name}' already exists; choose another name.")
                inv_id = taken["id"]
            else:
                name = self._unique(con, name)
                con.execute(
                    "INSERT INTO investigations (id, name, status, model_spec, model_identity, model_info, settings, "
                    "created_at, updated_at, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (inv_id, name, CREATED, model_spec, model_identity, dumps(model_info or {}),
                     dumps(settings or {}), now, now, Kind(kind).value))
        return self.get(inv_id)

    @staticmethod
    def _name_taken(con: sqlite3.Connection, name: str) -> bool:
        return con.execute("SELECT 1 FROM investigations WHERE name = ?", (name,)).fetchone() is not None

    @classmethod
    def _unique(cls, con: sqlite3.Connection, base: str) -> str:
        """``base``, or ``base (2)``, ``base (3)``, ... : the first name no investigation has."""
        name, n = base, 1
        while cls._name_taken(con, name):
            n += 1
            name = f"{base} ({n})"
        return name

    def unused_name(self, base: str) -> str:
        """A name no investigation has yet: ``base``, else ``base (2)``, ... (for a default name offered to a user,
        which must not resume somebody else's investigation of that name)."""
        return self._unique(self._connection(), base)

    def find(self, ref: str) -> Investigation | None:
        """The investigation with this id or (else) this name, or None."""
        rows = self._read("SELECT id FROM investigations WHERE id = ?", (ref,)) or \
            self._read("SELECT id FROM investigations WHERE name = ?", (ref,))
        return self.get(rows[0]["id"]) if rows else None

    def get(self, ref: str | Investigation) -> Investigation:
        """The investigation with this id or name; StoreError if there is none."""
        inv_id = ref.id if isinstance(ref, Investigation) else ref
        rows = self._read(_SELECT_INVESTIGATIONS + " WHERE i.id = ?", (inv_id,))
        if not rows and not isinstance(ref, Investigation):
            rows = self._read(_SELECT_INVESTIGATIONS + " WHERE i.name = ?", (inv_id,))
        if not rows:
            raise StoreError(f"There is no investigation '{inv_id}' in {self.path}. "
                             "List them with: python -m provenance investigations list")
        return investigation_from_row(rows[0])

    def list(self) -> list[Investigation]:
        """All investigations, most recently updated first."""
        rows = self._read(_SELECT_INVESTIGATIONS + " ORDER BY i.updated_at DESC, i.created_at DESC")
        return [investigation_from_row(r) for r in rows]

    def table(self) -> pd.DataFrame:
        """All investigations as a table for display: id, name, status, model, kind (``records.Kind`` value),
        documents, scored, unscorable, pending, verdict (its label), created_at, updated_at."""
        columns = ["id", "name", "status", "model", "kind", "documents", "scored", "unscorable", "pending", "verdict",
                   "created_at", "updated_at"]
        rows = [{"id": i.id, "name": i.name, "status": i.status, "model": i.model_name, "kind": i.kind.value,
                 "documents": i.n_documents,
                 "scored": i.n_scored, "unscorable": i.n_unscorable, "pending": i.n_pending,
                 "verdict": i.verdict.label.value if i.verdict else "", "created_at": i.created_at,
                 "updated_at": i.updated_at} for i in self.list()]
        return pd.DataFrame(rows, columns=columns)

    def rename(self, ref: str, new_name: str) -> Investigation:
        """Give an investigation a new, unique name."""
        inv = self.get(ref)
        new_name = (new_name or "").strip()
        if not new_name:
            raise StoreError("A name cannot be empty.")
        with self._write() as con:
            other = con.execute("SELECT id FROM investigations WHERE name = ?", (new_name,)).fetchone()
            if other is not None and other["id"] != inv.id:
                raise StoreError(f"An investigation named '{new_name}' already exists; choose another name.")
            con.execute("UPDATE investigations SET name = ?, updated_at = ? WHERE id = ?", (new_name, _now(), inv.id))
        return self.get(inv.id)

    def delete(self, ref: str) -> None:
        """Delete an investigation with its documents, results and artifacts (texts are overwritten on disk)."""
        inv = self.get(ref)
        with self._write() as con:
            con.execute("DELETE FROM investigations WHERE id = ?", (inv.id,))

    def set_status(self, ref: str, status: str, message: str = "") -> None:
        """Record the lifecycle state (created, running, complete, interrupted, failed) and a sentence about it."""
        if status not in STATUSES:
            raise StoreError(f"Unknown status '{status}'; use one of {', '.join(STATUSES)}.")
        inv = self.get(ref)
        with self._write() as con:
            con.execute("UPDATE investigations SET status = ?, message = ?, updated_at = ? WHERE id = ?",
                        (status, message, _now(), inv.id))

    def update_metadata(self, ref: str, *, model_spec: str | None = None, model_identity: str | None = None,
                        model_info: dict | None = None, settings: dict | None = None) -> Investigation:
        """Set the model facts and/or settings of an investigation (fields left None are unchanged)."""
        inv = self.get(ref)
        values = {"model_spec": model_spec, "model_identity": model_identity,
                  "model_info": None if model_info is None else dumps(model_info),
                  "settings": None if settings is None else dumps(settings)}
        values = {k: v for k, v in values.items() if v is not None}
        if values:
            assignments = ", ".join(f"{k} = ?" for k in values)
            with self._write() as con:
                con.execute(f"UPDATE investigations SET {assignments}, updated_at = ? WHERE id = ?",
                            (*values.values(), _now(), inv.id))
        return self.get(inv.id)

    def set_kind(self, ref: str, kind: Kind) -> Investigation:
        """Record what the investigation asks (``records.Kind``), e.g. when documents scored on their own are later
        compared with a reference set."""
        inv = self.get(ref)
        with self._write() as con:
            con.execute("UPDATE investigations SET kind = ?, updated_at = ? WHERE id = ?",
                        (Kind(kind).value, _now(), inv.id))
        return self.get(inv.id)

    def set_verdict(self, ref: str, verdict: Verdict | None) -> None:
        """Store the investigation-level verdict (as ``Verdict.to_dict``); None clears it. It is read back as the
        same Verdict value (``Investigation.verdict``)."""
        inv = self.get(ref)
        with self._write() as con:
            con.execute("UPDATE investigations SET verdict = ?, updated_at = ? WHERE id = ?",
                        (None if verdict is None else dumps(verdict.to_dict()), _now(), inv.id))

    # ------------------------------------------------------------------------------------------ documents

    def add_documents(self, ref: str, documents: Sequence[Document], *, collection: str = MAIN) -> list[Document]:
        """Add documents to a collection (names made unique first). A document already present with the same name
        and text is kept as is; one whose text changed replaces the old text and its result is discarded (it must
        be re-scored). Returns the documents as stored (unique names)."""
        inv = self.get(ref)
        documents = unique_names(documents)
        now = _now()
        with self._write() as con:
            existing = {r["name"]: r["sha256"] for r in
                        con.execute("SELECT name, sha256 FROM documents WHERE investigation_id = ? AND collection = ?",
                                    (inv.id, collection))}
            position = con.execute("SELECT COALESCE(MAX(position), -1) FROM documents WHERE investigation_id = ? "
                                   "AND collection = ?", (inv.id, collection)).fetchone()[0]
            for doc in documents:
                digest = sha256_text(doc.text)
                if existing.get(doc.name) == digest:
                    continue
                if doc.name in existing:
                    con.execute("UPDATE documents SET sha256 = ?, text = ?, added_at = ? WHERE investigation_id = ? "
                                "AND collection = ? AND name = ?",
                                (digest, doc.text, now, inv.id, collection, doc.name))
                    con.execute("DELETE FROM results WHERE investigation_id = ? AND collection = ? AND document = ?",
                                (inv.id, collection, doc.name))
                else:
                    position += 1
                    con.execute("INSERT INTO documents (investigation_id, collection, position, name, sha256, text, "
                                "added_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                (inv.id, collection, position, doc.name, digest, doc.text, now))
                existing[doc.name] = digest
            con.execute("UPDATE investigations SET updated_at = ? WHERE id = ?", (now, inv.id))
        return documents

    def documents(self, ref: str, *, collection: str = MAIN) -> list[Document]:
        """The documents of a collection in the order they were added."""
        inv = self.get(ref)
        rows = self._read("SELECT name, text FROM documents WHERE investigation_id = ? AND collection = ? "
                          "ORDER BY position", (inv.id, collection))
        return [Document(r["name"], r["text"]) for r in rows]

    def documents_table(self, ref: str, *, collection: str = MAIN) -> pd.DataFrame:
        """Documents without their texts: position, name, sha256, characters, status ('scored', 'error', 'pending')."""
        inv = self.get(ref)
        rows = self._read(
            "SELECT d.position, d.name, d.sha256, LENGTH(d.text) AS characters, "
            "COALESCE(r.kind, 'pending') AS status FROM documents d LEFT JOIN results r "
            "ON r.investigation_id = d.investigation_id AND r.collection = d.collection AND r.document = d.name "
            "AND r.sha256 = d.sha256 WHERE d.investigation_id = ? AND d.collection = ? ORDER BY d.position",
            (inv.id, collection))
        return pd.DataFrame([dict(r) for r in rows], columns=["position", "name", "sha256", "characters", "status"])

    def collections(self, ref: str) -> dict[str, int]:
        """Collection name -> number of documents in it, for every collection of the investigation."""
        inv = self.get(ref)
        rows = self._read("SELECT collection, COUNT(*) AS n FROM documents WHERE investigation_id = ? "
                          "GROUP BY collection ORDER BY MIN(added_at), collection", (inv.id,))
        return {r["collection"]: r["n"] for r in rows}

    def pending_documents(self, ref: str, documents: Sequence[Document], *,
                          collection: str = MAIN) -> list[Document]:
        """The documents (from ``documents``) that have no result yet in this collection, by name and text hash:
        what a resumed run still has to score."""
        done = self.done_keys(ref, collection=collection)
        return [d for d in unique_names(documents) if (d.name, sha256_text(d.text)) not in done]

    def done_keys(self, ref: str, *, collection: str = MAIN) -> set[tuple[str, str]]:
        """(document name, text SHA-256) of every document of a collection with a result (scored or unscorable)."""
        inv = self.get(ref)
        rows = self._read("SELECT document, sha256 FROM results WHERE investigation_id = ? AND collection = ?",
                          (inv.id, collection))
        return {(r["document"], r["sha256"]) for r in rows}

    # ------------------------------------------------------------------------------------------ results

    def add_result(self, ref: str, row: dict, *, text: str | None = None, sha256: str | None = None,
                   collection: str = MAIN) -> None:
        """Store (or replace) one document's score row, committed immediately. ``row['document']`` names the
        document; its text hash is taken from ``sha256``, ``text``, or the stored document of that name."""
        digest = sha256 if sha256 is not None else (sha256_text(text) if text is not None else None)
        self._put_rows(ref, [(dict(row), SCORED)], None if digest is None else [digest], collection)

    def add_results(self, ref: str, rows: Sequence[dict], *, hashes: Sequence[str] | None = None,
                    collection: str = MAIN) -> None:
        """Store several score rows in one transaction (a batch); ``hashes`` are their texts' SHA-256 (else
        looked up from the stored documents of those names)."""
        self._put_rows(ref, [(dict(r), SCORED) for r in rows], hashes, collection)

    def add_unscorable(self, ref: str, document: str, message: str, *, sha256: str | None = None,
                       collection: str = MAIN) -> None:
        """Record that a document cannot be scored (e.g. too short) and why; it counts as done when resuming."""
        self._put_rows(ref, [({"document": document, "error": message}, UNSCORABLE)],
                       None if sha256 is None else [sha256], collection)

    def _put_rows(self, ref: str, rows: Sequence[tuple[dict, str]], hashes: Sequence[str] | None,
                  collection: str) -> None:
        inv = self.get(ref)
        now = _now()
        with self._write() as con:
            for i, (row, kind) in enumerate(rows):
                name = row.get("document")
                if not isinstance(name, str):
                    raise StoreError("A result row needs a 'document' name.")
                digest = hashes[i] if hashes is not None else None
                if digest is None:
                    found = con.execute("SELECT sha256 FROM documents WHERE investigation_id = ? AND collection = ? "
                                        "AND name = ?", (inv.id, collection, name)).fetchone()
                    if found is None:
                        raise StoreError(f"The investigation has no document named '{name}'; add it first.")
                    digest = found["sha256"]
                con.execute("INSERT OR REPLACE INTO results (investigation_id, collection, document, sha256, kind, "
                            "row, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (inv.id, collection, name, digest, kind, dumps(row), now))
            con.execute("UPDATE investigations SET updated_at = ? WHERE id = ?", (now, inv.id))

    def update_result_fields(self, ref: str, document: str, fields: dict, *, collection: str = MAIN) -> None:
        """Merge extra columns (e.g. a per-document ``p_value`` or ``verdict``) into a stored score row."""
        self.set_result_fields(ref, {document: fields}, collection=collection)

    def set_result_fields(self, ref: str, fields: Mapping[str, Mapping], *, drop: Sequence[str] = (),
                          collection: str = MAIN) -> None:
        """In one transaction: remove the keys ``drop`` from every score row of the collection (fields an earlier
        computation added that no longer apply), then merge ``fields[document]`` into each named document's row.
        A StoreError names the first document without a score row (nothing is changed then)."""
        inv = self.get(ref)
        with self._write() as con:
            rows = {r["document"]: json.loads(r["row"]) for r in con.execute(
                "SELECT document, row FROM results WHERE investigation_id = ? AND collection = ? AND kind = ?",
                (inv.id, collection, SCORED))}
            missing = [d for d in fields if d not in rows]
            if missing:
                raise StoreError(f"The investigation has no score row for '{missing[0]}'.")
            for document, row in rows.items():
                changed = [k for k in drop if k in row]
                for key in changed:
                    del row[key]
                if document in fields:
                    row.update(to_jsonable(dict(fields[document])))
                elif not changed:
                    continue
                con.execute("UPDATE results SET row = ? WHERE investigation_id = ? AND collection = ? AND document = ?",
                            (dumps(row), inv.id, collection, document))

    def results(self, ref: str, *, collection: str = MAIN) -> pd.DataFrame:
        """One row per scored document of a collection, in document order: ``document, tokens, nll, perplexity``,
        the score columns, then any extra columns, plus ``sha256``. Only rows for the documents' current texts
        count."""
        inv = self.get(ref)
        rows = self._read(
            "SELECT r.row, r.sha256 FROM results r JOIN documents d ON d.investigation_id = r.investigation_id "
            "AND d.collection = r.collection AND d.name = r.document AND d.sha256 = r.sha256 "
            "WHERE r.investigation_id = ? AND r.collection = ? AND r.kind = ? ORDER BY d.position",
            (inv.id, collection, SCORED))
        records = []
        for r in rows:
            record = json.loads(r["row"])
            record["sha256"] = r["sha256"]
            records.append(record)
        return ordered_frame(records, inv.settings.get("scores"))

    def unscorable(self, ref: str, *, collection: str = MAIN) -> dict[str, str]:
        """Document name -> the sentence saying why it could not be scored."""
        inv = self.get(ref)
        rows = self._read("SELECT r.document, r.row FROM results r JOIN documents d ON d.investigation_id = "
                          "r.investigation_id AND d.collection = r.collection AND d.name = r.document "
                          "AND d.sha256 = r.sha256 WHERE r.investigation_id = ? AND r.collection = ? AND r.kind = ? "
                          "ORDER BY d.position", (inv.id, collection, UNSCORABLE))
        return {r["document"]: json.loads(r["row"]).get("error", "") for r in rows}

    # ------------------------------------------------------------------------------------------ artifacts

    def put_artifact(self, ref: str, name: str, value) -> None:
        """Attach a named result to an investigation (replacing one of the same name): a DataFrame (stored as a
        table) or any JSON-able value (dicts, lists, numbers, strings; numpy values are converted)."""
        self.put_artifacts(ref, {name: value})

    def put_artifacts(self, ref: str, artifacts: Mapping[str, object]) -> None:
        """Several ``put_artifact`` in one transaction; a None value deletes the artifact of that name instead, so
        a computation that found nothing this time leaves nothing of an earlier run behind."""
        inv = self.get(ref)
        encoded = {}
        for name, value in artifacts.items():
            if isinstance(value, pd.DataFrame):
                encoded[name] = ("frame", table_json(value))
            elif value is not None:
                encoded[name] = ("json", dumps(value))
        with self._write() as con:
            for name in artifacts:
                if name in encoded:
                    con.execute("INSERT OR REPLACE INTO artifacts (investigation_id, name, kind, data, updated_at) "
                                "VALUES (?, ?, ?, ?, ?)", (inv.id, name, *encoded[name], _now()))
                else:
                    con.execute("DELETE FROM artifacts WHERE investigation_id = ? AND name = ?", (inv.id, name))

    def get_artifact(self, ref: str, name: str, default=None):
        """A stored artifact (a DataFrame for tables), or ``default`` when there is none of that name."""
        inv = self.get(ref)
        rows = self._read("SELECT kind, data FROM artifacts WHERE investigation_id = ? AND name = ?", (inv.id, name))
        if not rows:
            return default
        return load_artifact(rows[0]["kind"], rows[0]["data"])

    def artifacts(self, ref: str) -> dict:
        """All artifacts of an investigation by name."""
        inv = self.get(ref)
        rows = self._read("SELECT name, kind, data FROM artifacts WHERE investigation_id = ? ORDER BY name",
                          (inv.id,))
        return {r["name"]: load_artifact(r["kind"], r["data"]) for r in rows}

    def delete_artifact(self, ref: str, name: str) -> None:
        inv = self.get(ref)
        with self._write() as con:
            con.execute("DELETE FROM artifacts WHERE investigation_id = ? AND name = ?", (inv.id, name))


_SELECT_INVESTIGATIONS = """
SELECT i.*,
  (SELECT COUNT(*) FROM documents d WHERE d.investigation_id = i.id AND d.collection = 'main') AS n_documents,
  (SELECT COUNT(*) FROM results r JOIN documents d ON d.investigation_id = r.investigation_id
     AND d.collection = r.collection AND d.name = r.document AND d.sha256 = r.sha256
     WHERE r.investigation_id = i.id AND r.collection = 'main' AND r.kind = 'scored') AS n_scored,
  (SELECT COUNT(*) FROM results r JOIN documents d ON d.investigation_id = r.investigation_id
     AND d.collection = r.collection AND d.name = r.document AND d.sha256 = r.sha256
     WHERE r.investigation_id = i.id AND r.collection = 'main' AND r.kind = 'error') AS n_unscorable
FROM investigations i"""


def _add_collections(con: sqlite3.Connection) -> None:
    """Bring a store written before collections existed (schema 1) up to date, inside the caller's transaction:
    the documents and results tables are rebuilt with a ``collection`` column (every old row in ``MAIN``) and the
    collection in their keys. Stores already up to date are left alone."""
    for table in ("documents", "results"):
        columns = [r["name"] for r in con.execute(f"PRAGMA table_info({table})")]
        if "collection" in columns:
            continue
        con.execute(f"ALTER TABLE {table} RENAME TO {table}_schema1")
        con.execute(_table_sql(table))
        kept = ", ".join(columns)
        con.execute(f"INSERT INTO {table} (collection, {kept}) SELECT '{MAIN}', {kept} FROM {table}_schema1")
        con.execute(f"DROP TABLE {table}_schema1")


def _add_kind(con: sqlite3.Connection) -> None:
    """Bring a store written before kinds were recorded up to date, inside the caller's transaction:
    add the ``kind`` column and fill it from what each use case recorded (a ghost test's settings and detection
    table, a labelled evaluation's table, a reference collection); the rest are documents."""
    columns = [r["name"] for r in con.execute("PRAGMA table_info(investigations)")]
    if "kind" in columns:
        return
    con.execute("ALTER TABLE investigations ADD COLUMN kind TEXT NOT NULL DEFAULT ''")
    has_artifact = ("EXISTS (SELECT 1 FROM artifacts a WHERE a.investigation_id = investigations.id "
                    "AND a.name IN (?, ?))")
    con.execute(
        f"UPDATE investigations SET kind = CASE WHEN {has_artifact} THEN ? WHEN {has_artifact} THEN ? "
        "WHEN EXISTS (SELECT 1 FROM documents d WHERE d.investigation_id = investigations.id AND d.collection = ?) "
        f"OR {has_artifact} THEN ? ELSE ? END",
        ("ghost_detection", "ghost_test_settings", Kind.GHOST.value,
         "labelled_evaluation", "labelled_evaluation_settings", Kind.LABELLED.value,
         REFERENCE, "set_comparison", "set_comparison", Kind.REFERENCE.value, Kind.DOCUMENTS.value))


def _table_sql(table: str) -> str:
    """The CREATE TABLE statement of one table, as ``_SCHEMA`` writes it."""
    start = _SCHEMA.index(f"CREATE TABLE IF NOT EXISTS {table} (")
    return _SCHEMA[start: _SCHEMA.index(");", start) + 2]


class _Transaction:
    """BEGIN IMMEDIATE on enter; COMMIT on success, ROLLBACK on error (autocommit connections)."""

    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def __enter__(self) -> sqlite3.Connection:
        self.con.execute("BEGIN IMMEDIATE")
        return self.con

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.con.execute("COMMIT")
        else:
            self.con.execute("ROLLBACK")
