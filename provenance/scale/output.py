"""The output folder of a scaled scoring run: a manifest and Parquet shards, written so that a killed run resumes.

Layout of ``DIR``:
- ``manifest.json``: what the numbers depend on (model spec and identity, scores, k, windows, reference and observer
  models, dtype), the row columns, every input named by a run, and one entry per run (engine settings, counts,
  status). A run whose settings differ from the manifest's is refused with a sentence naming what differs.
- ``part-<time>-<random>.parquet``: one shard per scored batch, written atomically (``files.atomic_writer``: a
  temporary file renamed into place), so a shard is there whole or not at all. Columns: those of the
  single-process ``score`` (``document, tokens, nll, perplexity`` and one per score) plus ``sha256`` (of the text;
  with the document name, the key a resumed run skips) and ``error`` (null, or the sentence saying why that document
  or line has no scores: unreadable, empty, too short). The model identity is in each shard's Parquet metadata.

A batch retried by the engine after a worker died may have been written twice; ``read_rows`` keeps one row per key.
Nothing here imports Ray or runs a model.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from ..files import atomic_write_text, atomic_writer
from ..scores.table import BASE_COLUMNS

MANIFEST = "manifest.json"
SHARD_PREFIX = "part-"
FORMAT = "provenance scores"
FORMAT_VERSION = 1
KEY_COLUMNS = ("document", "sha256")
EXTRA_COLUMNS = ["sha256", "error"]
IDENTITY_METADATA = b"provenance_model_identity"
# Settings that change the numbers: a run into a folder must match the manifest on every one of them.
NUMBER_SETTINGS = ("model", "scores", "k", "window", "stride", "top_k", "max_window", "ref_model", "observer",
                   "dtype", "trust_remote_code")


class OutputFolderError(ValueError):
    """The output folder cannot take this run (other settings, not a scoring run's folder, damaged manifest)."""


def row_columns(scores: Sequence[str]) -> list[str]:
    """Columns of every shard: the single-process ``score`` columns, then ``sha256`` and ``error``."""
    return BASE_COLUMNS + [s for s in dict.fromkeys(scores)] + EXTRA_COLUMNS


def arrow_schema(columns: Sequence[str]):
    """The Parquet schema of a shard: text for ``document``, ``sha256``, ``error``; int64 for ``tokens``; float64
    for every number (nullable: an error row has none)."""
    import pyarrow as pa

    types = {"document": pa.string(), "sha256": pa.string(), "error": pa.string(), "tokens": pa.int64()}
    return pa.schema([(c, types.get(c, pa.float64())) for c in columns])


def row_key(document: str, sha256: str) -> str:
    """The resume key of a row: its document name and text hash (a document whose text changed is scored again)."""
    return f"{document}\x00{sha256}"


def read_manifest(folder: str | Path) -> dict | None:
    """The folder's manifest, or None when it has none; a damaged one is an OutputFolderError."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutputFolderError(f"The manifest of {folder} could not be read ({exc}); it is not a finished "
                                "scoring run's folder.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise OutputFolderError(f"{folder} holds a {MANIFEST} that was not written by provenance's scoring engine.")
    if manifest.get("version", 0) > FORMAT_VERSION:
        raise OutputFolderError(f"{folder} was written by a newer version of provenance (format "
                                f"{manifest.get('version')}); update provenance to read it.")
    return manifest


def write_manifest(folder: str | Path, manifest: dict) -> Path:
    """Write the manifest atomically (a reader sees the old one or the new one, never half)."""
    return atomic_write_text(Path(folder) / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def open_output(folder: str | Path, settings: dict, inputs: Iterable[str | Path]) -> dict:
    """Prepare ``folder`` for a run with ``settings`` (a dict with every key of ``NUMBER_SETTINGS``) over ``inputs``
    and return its manifest (written). A new or empty folder gets a new manifest; a folder of an earlier run must
    have the same settings (else an OutputFolderError names the differences); any other non-empty folder is
    refused, so a run never mixes its shards into unrelated files."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputFolderError(f"{folder} is a file; --out must name a folder for the Parquet shards.")
    manifest = read_manifest(folder) if folder.is_dir() else None
    if manifest is None:
        if folder.is_dir() and any(p for p in folder.iterdir() if not p.name.startswith(".")):
            raise OutputFolderError(f"{folder} already holds files and is not the output of a scoring run; choose a "
                                    "new or empty folder.")
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, "settings": {k: settings[k] for k in NUMBER_SETTINGS},
                    "columns": row_columns(settings["scores"]), "model_identity": None, "inputs": [], "runs": []}
    else:
        check_settings(folder, manifest, settings)
    known = manifest.setdefault("inputs", [])
    known.extend(str(Path(p).resolve()) for p in inputs if str(Path(p).resolve()) not in known)
    write_manifest(folder, manifest)
    return manifest


def check_settings(folder: str | Path, manifest: dict, settings: dict) -> None:
    """Refuse (OutputFolderError) a run whose number-changing settings differ from the folder's manifest."""
    before = manifest.get("settings", {})
    changed = [k for k in NUMBER_SETTINGS if _canonical(before.get(k)) != _canonical(settings.get(k))]
    if changed:
        details = "; ".join(f"{k}: {before.get(k)!r} there, {settings.get(k)!r} now" for k in changed)
        raise OutputFolderError(f"{folder} holds scores computed with other settings ({details}); rows of different "
                                "settings cannot be mixed. Use the same settings to resume it, or another folder.")


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True)


def record_identity(folder: str | Path, manifest: dict, identity: str) -> dict:
    """Keep the model identity the workers reported in the manifest (first time), or refuse a different one: an
    actor that loaded other weights (another file under the same path on another node) must not add rows."""
    known = manifest.get("model_identity")
    if known and known != identity:
        raise OutputFolderError(f"The model loaded now (identity {identity[:12]}) is not the one this folder was "
                                f"scored with ({known[:12]}): the weights under '{manifest['settings']['model']}' "
                                "changed, or differ between machines of the cluster. Use the same weights everywhere "
                                "to resume, or another folder.")
    if not known:
        manifest["model_identity"] = identity
        write_manifest(folder, manifest)
    return manifest


def shard_paths(folder: str | Path) -> list[Path]:
    """The finished shards of a folder, sorted (temporary files of shards being written start with '.')."""
    folder = Path(folder)
    return sorted(folder.glob(f"{SHARD_PREFIX}*.parquet")) if folder.is_dir() else []


def write_shard(folder: str | Path, rows: Sequence[dict], columns: Sequence[str], identity: str) -> Path:
    """Write ``rows`` (dicts with the keys of ``columns``; missing keys are null) as one new shard, atomically;
    ``identity`` goes into the file's metadata. Returns the shard's path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(columns).with_metadata({IDENTITY_METADATA: identity.encode()})
    table = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows], schema=schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    path = Path(folder) / f"{SHARD_PREFIX}{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
    with atomic_writer(path) as fh:
        fh.write(buffer.getvalue())
    return path


def shard_identity(path: str | Path) -> str | None:
    """The model identity written into a shard's metadata, or None."""
    import pyarrow.parquet as pq

    value = (pq.read_schema(path).metadata or {}).get(IDENTITY_METADATA)
    return value.decode() if value else None


def done_keys(folder: str | Path) -> set[str]:
    """Keys (``row_key``) of every row the folder's shards hold: what a resumed run skips. Only the two key columns
    are read, shard by shard."""
    import pyarrow.parquet as pq

    keys: set[str] = set()
    for path in shard_paths(folder):
        table = pq.read_table(path, columns=list(KEY_COLUMNS))
        keys.update(row_key(d, s) for d, s in zip(table.column("document").to_pylist(),
                                                  table.column("sha256").to_pylist()))
    return keys


def read_rows(folder: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Every row of the folder's shards as one table (``columns`` of the manifest, in that order), one row per
    document and text hash (a batch written twice by a retried task counts once)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    manifest = read_manifest(folder)
    if manifest is None:
        raise OutputFolderError(f"{folder} is not the output of a scoring run (it has no {MANIFEST}).")
    columns = list(columns or manifest["columns"])
    shards = shard_paths(folder)
    if not shards:
        return pd.DataFrame({c: pd.Series(dtype=arrow_schema([c]).field(c).type.to_pandas_dtype())
                             for c in columns})
    try:
        table = pa.concat_tables([pq.read_table(p, columns=columns, schema=arrow_schema(columns)) for p in shards])
    except (OSError, pa.ArrowException) as exc:
        raise OutputFolderError(f"A shard of {folder} could not be read ({exc}).") from exc
    frame = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    return frame.drop_duplicates(subset=list(KEY_COLUMNS), keep="first").reset_index(drop=True)


def read_shard(path: str | Path) -> pd.DataFrame:
    """The rows of one shard, as written (for checks and tests; ``read_rows`` reads a whole folder)."""
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pandas()


def add_run(folder: str | Path, manifest: dict, run: dict) -> dict:
    """Append one run's record (engine settings, counts, status) to the manifest and write it."""
    manifest.setdefault("runs", []).append(run)
    write_manifest(folder, manifest)
    return manifest
