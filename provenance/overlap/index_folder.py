"""An index on disk: a folder holding ``overlap-index.json`` (format marker, version, parameters, a SHA-256 per file,
and a SHA-256 over the whole manifest) and shards of four files each: ``.npz`` arrays (signatures, set sizes, text
offsets), ``.exact.npz`` (the exact-excerpt index's fingerprints, see ``exact``; both read with
``allow_pickle=False``), ``.names.json`` and ``.texts`` (the corpus texts, UTF-8). Nothing is ever unpickled.

Writers hold an exclusive lock on the folder while they write (``folder_lock``); shard files and temporary files
that no manifest lists (left by a killed build) are removed under that lock by the next save or open
(``remove_orphans``), never while another process is writing."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..files import atomic_write_bytes, atomic_write_text, atomic_writer, sha256_file, sha256_text
from .exact import Fingerprints

if TYPE_CHECKING:
    from .index import IndexParams

FORMAT_NAME = "provenance.overlap-index"
FORMAT_VERSION = 3  # 2: the manifest carries a checksum over all of itself; 3: shards hold an exact-excerpt index
MANIFEST_NAME = "overlap-index.json"

_SHARD_NAME_RE = re.compile(r"^shard-[0-9]{6}-[0-9a-f]{8}$")
SHARD_FILES = (".npz", ".exact.npz", ".names.json", ".texts")
_SHARD_FILE_RE = re.compile(r"^shard-[0-9]{6}-[0-9a-f]{8}\.(npz|exact\.npz|names\.json|texts)$")
# files.atomic_writer's temporary files for shard files and the manifest: '.<name>.<12 hex digits>.tmp'
_TEMP_FILE_RE = re.compile(r"^\.(shard-[0-9]{6}-[0-9a-f]{8}\.(npz|exact\.npz|names\.json|texts)|overlap-index\.json)"
                           r"\.[0-9a-f]{12}\.tmp$")


class OverlapIndexError(ValueError):
    """An index folder that cannot be used (missing, damaged, foreign, or built with other settings); the message
    is a sentence for the user."""



@dataclass(eq=False)
class Shard:
    """A block of consecutive documents: on disk (``directory`` set) or still only in memory (``texts`` set)."""

    name: str
    n: int
    directory: Path | None = None
    offsets: np.ndarray | None = None  # (n + 1,) int64 byte offsets into the .texts file
    texts: list[str] | None = None
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256, once written
    fingerprints: Fingerprints = field(default_factory=Fingerprints.empty)  # the exact-excerpt index (in memory)

    def text(self, j: int) -> str:
        if self.texts is not None:
            return self.texts[j]
        start, stop = int(self.offsets[j]), int(self.offsets[j + 1])
        path = self.directory / f"{self.name}.texts"
        try:
            with open(path, "rb") as fh:
                fh.seek(start)
                data = fh.read(stop - start)
            if len(data) != stop - start:
                raise OSError("the file is shorter than its index says")
            return data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise OverlapIndexError(f"The index's text file {path} is damaged or missing ({exc}); rebuild the "
                                    "index from the corpus.") from exc



def new_shard_name(number: int) -> str:
    """A fresh shard name, 'shard-<number, 6 digits>-<8 random hex digits>' (never reused, even after a crash)."""
    return f"shard-{number:06d}-{uuid.uuid4().hex[:8]}"


def write_shard(shard: Shard, directory: Path, signatures: np.ndarray, sizes: np.ndarray, names: list[str],
                 starts: np.ndarray, number: int) -> None:
    """Write one shard's four files into ``directory`` and point the shard at them."""
    lo, hi = int(starts[number]), int(starts[number + 1])
    texts_path = directory / f"{shard.name}.texts"
    offsets = np.zeros(shard.n + 1, dtype=np.int64)
    with atomic_writer(texts_path) as fh:
        for j in range(shard.n):
            data = shard.text(j).encode("utf-8")
            fh.write(data)
            offsets[j + 1] = offsets[j] + len(data)
    buf = io.BytesIO()
    np.savez(buf, signatures=signatures[lo:hi], sizes=sizes[lo:hi], offsets=offsets)
    atomic_write_bytes(directory / f"{shard.name}.npz", buf.getvalue())
    buf = io.BytesIO()
    np.savez(buf, hashes=shard.fingerprints.hashes, docs=shard.fingerprints.docs)
    atomic_write_bytes(directory / f"{shard.name}.exact.npz", buf.getvalue())
    atomic_write_text(directory / f"{shard.name}.names.json", json.dumps(names[lo:hi], ensure_ascii=False))
    shard.files = {f"{shard.name}{ext}": sha256_file(directory / f"{shard.name}{ext}") for ext in SHARD_FILES}
    shard.directory, shard.offsets, shard.texts = directory, offsets, None



def manifest_checksum(manifest: dict) -> str:
    """SHA-256 over every field of a manifest except ``checksum`` itself, as canonical JSON (keys sorted, no
    spaces), so that re-formatting the file keeps the checksum and changing any value breaks it."""
    body = {key: value for key, value in manifest.items() if key != "checksum"}
    return sha256_text(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def write_manifest(directory: Path, manifest: dict) -> Path:
    """Write ``manifest`` with its checksum into ``directory`` atomically; returns the manifest's path."""
    sealed = {**manifest, "checksum": {"sha256": manifest_checksum(manifest)}}
    return atomic_write_text(directory / MANIFEST_NAME, json.dumps(sealed, indent=1, ensure_ascii=False))


def read_manifest(directory: Path) -> dict:
    """The manifest of the index in ``directory``, as JSON; OverlapIndexError with a sentence when it cannot be read,
    is not an overlap index manifest, was written by another format version, or does not match its checksum."""
    path = directory / MANIFEST_NAME
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise OverlapIndexError(f"Could not read {path} ({exc.strerror}).") from exc
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OverlapIndexError(f"{path} is damaged: it is not valid JSON ({exc}). Rebuild the index from the "
                                "corpus.") from exc
    except RecursionError as exc:
        raise OverlapIndexError(f"{path} is damaged: its JSON is nested too deeply to be an index manifest. "
                                "Rebuild the index from the corpus.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise OverlapIndexError(f"{path} is not a provenance overlap index (its format marker is missing or "
                                "different).")
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise OverlapIndexError(f"{path} was written by a newer version of provenance (format {version!r}); "
                                f"this version reads format {FORMAT_VERSION}. Upgrade provenance.")
    if version < FORMAT_VERSION:
        lacks = ("whose manifest has no checksum, so it cannot be checked" if version < 2 else
                 "which has no exact-excerpt index (verbatim passages of longer documents would be missed)")
        raise OverlapIndexError(f"{path} was written by an older version of provenance (format {version}), {lacks}. "
                                "Rebuild the index from the corpus.")
    recorded = manifest.get("checksum")
    try:
        expected = manifest_checksum(manifest)
    except (RecursionError, ValueError) as exc:  # nested too deeply to write back, or not a number JSON writes
        raise OverlapIndexError(f"{path} is damaged: its contents cannot be checked ({type(exc).__name__}). "
                                "Rebuild the index from the corpus.") from exc
    if not isinstance(recorded, dict) or recorded.get("sha256") != expected:
        raise OverlapIndexError(f"{path} was changed after it was written (its checksum does not match its "
                                "contents), so the index is refused. Rebuild it from the corpus, or get an intact "
                                "copy.")
    return manifest


@contextlib.contextmanager
def folder_lock(directory: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive advisory lock on the index folder itself (no lock file is created) for the block; yields
    True when held. With ``wait=False`` it yields False at once when another process holds it. Where folders
    cannot be locked (no ``fcntl``, or the folder cannot be opened, e.g. read-only media elsewhere) it yields
    False: callers then skip what needs the lock."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks on folders
        yield False
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def remove_orphans(directory: Path, manifest: dict | None = None) -> list[str]:
    """Delete the shard files that ``manifest`` (default: the folder's own, read now) does not list, and leftover
    temporary files of shards and manifests; return the names deleted. Call it holding ``folder_lock``. Only
    names this program writes are ever touched; with a manifest that cannot be read nothing is deleted (in a folder
    without any manifest, every shard file is a leftover)."""
    if manifest is None and not (directory / MANIFEST_NAME).exists():
        manifest = {"shards": []}  # a first build that never finished: none of its shard files is listed
    elif manifest is None:
        try:
            manifest = read_manifest(directory)
        except OverlapIndexError:
            return []
    listed = {name for entry in manifest.get("shards", []) if isinstance(entry, dict)
              for name in (entry.get("files") or {})}
    removed = []
    for path in directory.iterdir():
        name = path.name
        if (_SHARD_FILE_RE.match(name) and name not in listed) or _TEMP_FILE_RE.match(name):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(name)
    return sorted(removed)


def clean_folder(directory: Path) -> list[str]:
    """``remove_orphans`` when no other process is writing to the folder (else nothing); the names deleted."""
    with folder_lock(directory, wait=False) as held:
        return remove_orphans(directory) if held else []


def damaged_index_error(directory: Path, what: str) -> OverlapIndexError:
    """The error for a damaged index folder: ``what`` is wrong, and the index should be rebuilt."""
    return OverlapIndexError(f"The overlap index in {directory} is damaged: {what}. Rebuild it from the corpus.")




def load_shard(directory: Path, entry: dict, params: IndexParams) -> dict:
    """Verify and read one shard; returns Shard fields (fingerprints included) plus 'signatures', 'sizes' and
    'names'."""
    try:
        name, n, files = entry["name"], int(entry["documents"]), dict(entry["files"])
    except (KeyError, TypeError, ValueError) as exc:
        raise damaged_index_error(directory, f"a shard entry is malformed ({exc})") from exc
    if not isinstance(name, str) or not _SHARD_NAME_RE.match(name):
        raise damaged_index_error(directory, f"the shard name {name!r} is not one this program writes")
    for ext in SHARD_FILES:
        path = directory / f"{name}{ext}"
        if not path.is_file():
            raise damaged_index_error(directory, f"the file {path.name} is missing")
        if sha256_file(path) != files.get(path.name):
            raise damaged_index_error(directory, f"the file {path.name} changed after it was written (checksum "
                                                 "mismatch)")
    try:
        with np.load(directory / f"{name}.npz", allow_pickle=False) as data:
            signatures, sizes, offsets = data["signatures"], data["sizes"], data["offsets"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise damaged_index_error(directory, f"{name}.npz could not be read safely ({exc})") from exc
    try:
        with np.load(directory / f"{name}.exact.npz", allow_pickle=False) as data:
            fingerprints = Fingerprints(hashes=data["hashes"], docs=data["docs"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise damaged_index_error(directory, f"{name}.exact.npz could not be read safely ({exc})") from exc
    problem = fingerprints.check(n)
    if problem:
        raise damaged_index_error(directory, f"{name}.exact.npz does not fit its shard: {problem}")
    if signatures.dtype != np.uint32 or signatures.shape != (n, params.num_perm):
        raise damaged_index_error(directory, f"{name}.npz holds signatures of shape {signatures.shape} "
                                             f"({signatures.dtype}), expected ({n}, {params.num_perm}) uint32")
    if sizes.shape != (n,) or offsets.shape != (n + 1,) or sizes.dtype.kind != "i" or offsets.dtype.kind != "i":
        raise damaged_index_error(directory, f"{name}.npz holds arrays of the wrong shape or type")
    text_bytes = (directory / f"{name}.texts").stat().st_size
    if offsets[0] != 0 or np.any(np.diff(offsets) < 0) or offsets[-1] != text_bytes or np.any(sizes < 1):
        raise damaged_index_error(directory, f"{name}.npz does not match {name}.texts")
    try:
        names = json.loads((directory / f"{name}.names.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise damaged_index_error(directory, f"{name}.names.json is not valid JSON") from exc
    if not isinstance(names, list) or len(names) != n or not all(isinstance(x, str) for x in names):
        raise damaged_index_error(directory, f"{name}.names.json does not hold {n} names")
    return {"name": name, "n": n, "directory": directory, "offsets": offsets.astype(np.int64),
            "files": files, "fingerprints": fingerprints, "signatures": signatures, "sizes": sizes.astype(np.int64),
            "names": names}
