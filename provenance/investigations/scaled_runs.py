"""A scaled run's output folder opened as an investigation: the use case behind ``investigations import``, ``score
--engine ray --investigation``, ``sets compare --engine ray`` and the History page's "Open a scored folder".

``import_scored_folder`` reads a folder written by ``scale.ray_engine`` (its manifest and Parquet shards; nothing in
it is executed, and only its rows and manifest are read), takes the texts of the scored documents from the corpus
the manifest names (read with the same readers as the run, kept only where the text hash matches the row), and
records everything in one investigation: documents, score rows, unscorable documents, unreadable inputs (artifact
``ingest_errors``). With a ``reference`` folder (the same model and settings, texts the model cannot have seen) the
rows go to the ``REFERENCE`` collection and the comparison is made as for any investigation
(``reference.record_comparison``: shift check, per-document p-values and verdicts, the set-level test). Importing
again adds what is new (a resumed run's rows) and compares again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..documents import Document, IngestError
from ..scale.corpus import corpus_texts
from ..scale.output import EXTRA_COLUMNS, OutputFolderError, read_manifest, read_rows
from ..verdicts.dataset_inference import DEFAULT_SPLITS
from ..verdicts.pvalues import DEFAULT_FPR, DEFAULT_MIN_TOKENS
from ..verdicts.sets import DEFAULT_SET_TEST, SetComparison
from ..verdicts.shift import DEFAULT_SHIFT_THRESHOLD
from .records import Investigation, Kind
from .reference import record_comparison
from .scoring import record_ingest_errors
from .store import COMPLETE, MAIN, REFERENCE, InvestigationStore, StoreError


@dataclass
class ImportedFolder:
    """One folder's part of an import: rows added now, rows already in the investigation, and scored rows left out
    because their text is no longer in the corpus the manifest names (moved or changed)."""

    folder: str
    added: int
    already: int
    missing_text: int


@dataclass
class ImportedRun:
    """What ``import_scored_folder`` returns: the investigation after the import, each folder's counts, and the
    comparison with the reference folder (None without one, or when a set has no scored row)."""

    investigation: Investigation
    suspect: ImportedFolder
    reference: ImportedFolder | None
    comparison: SetComparison | None

    def sentence(self) -> str:
        parts = [_folder_sentence("Imported", self.suspect)]
        if self.reference is not None:
            parts.append(_folder_sentence("Reference set:", self.reference))
        if self.comparison is not None:
            parts.append(f"Verdict for the set: {self.comparison.verdict.words()}.")
        return " ".join(parts)


def _folder_sentence(lead: str, part: ImportedFolder) -> str:
    text = f"{lead} {part.added} new row(s) from {part.folder} ({part.already} were already there)."
    if part.missing_text:
        text += (f" {part.missing_text} scored document(s) were left out: their text is no longer in the corpus the "
                 "run read (moved or changed).")
    return text


def scored_folder_settings(folder: str | Path) -> dict:
    """The manifest of a scaled run's folder, or a ValueError sentence when ``folder`` is not one."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise OutputFolderError(f"There is no folder at {path}.")
    manifest = read_manifest(path)
    if manifest is None:
        raise OutputFolderError(f"{path} is not the output of a scoring run (it has no manifest.json); give the "
                                "folder named by --out of 'score --engine ray'.")
    return manifest


def import_scored_folder(store: InvestigationStore, folder: str | Path, *, investigation: str | None = None,
                         reference: str | Path | None = None, fpr: float = DEFAULT_FPR,
                         min_tokens: int = DEFAULT_MIN_TOKENS, n_splits: int = DEFAULT_SPLITS,
                         shift_threshold: float = DEFAULT_SHIFT_THRESHOLD, seed: int = 0,
                         verdict_scores: Sequence[str] | None = None, set_test: str = DEFAULT_SET_TEST,
                         ) -> ImportedRun:
    """Open the scaled run in ``folder`` as the investigation ``investigation`` (id or name; default: the folder's
    name), with ``reference`` (another run's folder, same model and settings) as its reference set; see the module
    docstring. The comparison settings are those of ``reference.compare_with_reference``."""
    folder = Path(folder).expanduser()
    manifest = scored_folder_settings(folder)
    ref_manifest = scored_folder_settings(reference) if reference is not None else None
    if ref_manifest is not None:
        _same_numbers(manifest, ref_manifest, folder, Path(reference))
    settings = manifest["settings"]
    scores = list(settings["scores"])
    kind = Kind.REFERENCE if reference is not None else Kind.DOCUMENTS
    inv = _open(store, investigation or folder.resolve().name, manifest, kind)
    suspect = _import_rows(store, inv.id, folder, manifest, MAIN)
    part_reference = _import_rows(store, inv.id, Path(reference), ref_manifest, REFERENCE) \
        if ref_manifest is not None else None
    comparison = None
    if part_reference is not None:
        comparison, outcome = record_comparison(store, inv.id, scores, fpr=fpr, min_tokens=min_tokens,
                                                n_splits=n_splits, shift_threshold=shift_threshold, seed=seed,
                                                verdict_scores=verdict_scores, set_test=set_test)
    result = ImportedRun(investigation=inv, suspect=suspect, reference=part_reference, comparison=comparison)
    store.set_status(inv.id, COMPLETE, result.sentence())
    result.investigation = store.get(inv.id)
    return result


def _same_numbers(manifest: dict, other: dict, folder: Path, reference: Path) -> None:
    if manifest["settings"] != other["settings"] or (
            manifest.get("model_identity") and other.get("model_identity")
            and manifest["model_identity"] != other["model_identity"]):
        raise OutputFolderError(f"{reference} was scored with another model or other settings than {folder}; a "
                                "reference set must be scored exactly like the suspect set.")


def _open(store: InvestigationStore, name: str, manifest: dict, kind: Kind) -> Investigation:
    """Find or create the investigation; an existing one must hold this model and these settings."""
    settings = manifest["settings"]
    record = {"scores": list(settings["scores"]), "k": float(settings["k"]), "window": settings["window"],
              "stride": settings["stride"], "top_k": settings["top_k"], "max_window": settings["max_window"],
              "ref_model": {"spec": settings["ref_model"], "identity": None} if settings["ref_model"] else None,
              "observer": {"spec": settings["observer"], "identity": None} if settings["observer"] else None}
    identity = manifest.get("model_identity") or ""
    info = {"name": settings["model"], "spec": settings["model"], "engine": "ray"}
    inv = store.create(name, model_spec=settings["model"], model_identity=identity, model_info=info,
                       settings=record, kind=kind, existing_ok=True)
    if inv.model_identity and identity and inv.model_identity != identity or inv.settings and inv.settings != record:
        raise StoreError(f"The investigation '{inv.name}' holds scores of another model or other settings; import "
                         "the folder under another name.")
    if inv.kind != kind:
        inv = store.set_kind(inv.id, kind) if kind == Kind.REFERENCE and inv.kind == Kind.DOCUMENTS else inv
    return inv


def _import_rows(store: InvestigationStore, investigation_id: str, folder: Path, manifest: dict,
                 collection: str) -> ImportedFolder:
    rows = read_rows(folder)
    failed = rows["error"].notna()
    texts = corpus_texts(manifest.get("inputs", []))
    readable = rows["document"].map(texts.get)
    matches = readable.notna() & (readable.map(_sha, na_action="ignore") == rows["sha256"])
    unreadable = rows[failed & ~rows["document"].isin(texts)]  # files and lines that could not be read
    record_ingest_errors(store, investigation_id, [IngestError(d, e) for d, e in
                                                   zip(unreadable["document"], unreadable["error"])])
    kept = rows[matches]
    docs = [Document(name, texts[name]) for name in kept["document"]]
    store.add_documents(investigation_id, docs, collection=collection)
    done = store.done_keys(investigation_id, collection=collection)
    new = kept[[(d, s) not in done for d, s in zip(kept["document"], kept["sha256"])]]
    scored = new[new["error"].isna()]
    store.add_results(investigation_id, [_plain_row(r) for r in scored.drop(columns=EXTRA_COLUMNS)
                      .to_dict("records")], hashes=list(scored["sha256"]), collection=collection)
    for row in new[new["error"].notna()].itertuples():
        store.add_unscorable(investigation_id, row.document, row.error, sha256=row.sha256, collection=collection)
    return ImportedFolder(folder=str(folder), added=len(new), already=len(kept) - len(new),
                          missing_text=int((~matches & ~failed).sum()))


def _sha(text: str) -> str:
    from ..files import sha256_text

    return sha256_text(text)


def _plain_row(row: dict) -> dict:
    """A shard row as the store keeps rows: Python numbers, NaN scores as None."""
    out = {}
    for key, value in row.items():
        if value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            value = None
        elif hasattr(value, "item"):
            value = value.item()
        out[key] = int(value) if key == "tokens" and value is not None else value
    return out
