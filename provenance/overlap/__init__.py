"""Corpus overlap: is my text inside this dataset? A MinHash LSH index of a reference corpus, with exact checks.

A reference corpus (a folder, a .jsonl / .csv / .parquet table with a text column, a .zip of those) is cut into
word n-gram shingles (default 5 words, case-folded, punctuation ignored). Each document gets a MinHash signature
(datasketch's ``affine32`` scheme, default 128 permutations) and goes into two datasketch indexes:

- ``MinHashLSH`` finds near-duplicates: documents whose shingle sets have a high Jaccard similarity;
- ``MinHashLSHEnsemble`` finds containment: corpus documents that contain most of a (shorter) query document.

Candidates from either are verified exactly against the stored corpus text (exact n-gram Jaccard and containment),
and the longest matching word spans are located in both texts (character offsets), so every match can be checked
by reading it.

On disk an index is a folder: ``overlap-index.json`` (format marker, version, parameters, a SHA-256 per file) and
shards of ``.npz`` arrays (signatures, set sizes, text offsets; loaded with ``allow_pickle=False``), ``.names.json``
and ``.texts`` (the corpus texts, UTF-8). Nothing is unpickled, so opening an index someone hands you runs no code.
Adding documents writes a new shard; the LSH structures are rebuilt from the signatures on load, or kept in Redis
(``storage_config={"type": "redis", "redis": {"host": ..., "port": ...}}``) where they persist between runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import re
import time
import uuid
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from datasketch import MinHash, MinHashLSH, MinHashLSHEnsemble
from datasketch.lshensemble_partition import optimal_partitions

from ..documents import (Document, IngestError, IngestLimits, documents_from_bytes, expand_paths, read_file,
                     unique_names)

log = logging.getLogger(__name__)

FORMAT_NAME = "provenance.overlap-index"
FORMAT_VERSION = 1
MANIFEST_NAME = "overlap-index.json"
TOKENIZER_NAME = "casefold-words-v1"  # how texts become shingles; part of the format
SCHEME = "affine32"  # datasketch's MinHash permutation scheme (uint32 hash values)
CORPUS_SUFFIXES = {".parquet", ".zip"}  # read here; everything else goes through ingest.documents_from_bytes

_WORD_RE = re.compile(r"\w+")
_SHARD_NAME_RE = re.compile(r"^shard-[0-9]{6}-[0-9a-f]{8}$")
_SIGNATURE_BATCH_SHINGLES = 8192  # shingles permuted per numpy batch (8192 x 128 perms x 4 bytes = 4 MiB: cache-sized)
_LSH_BUFFER = 10_000  # documents per insertion session (one Redis pipeline flush)
_MAX_SEED_POSITIONS = 64  # span search: positions followed per repeated n-gram, bounds repetitive texts

# A reference corpus is larger than an upload: per-file and per-archive limits sized for corpora (still finite, so a
# zip bomb fails with a message instead of filling memory).
CORPUS_LIMITS = IngestLimits(max_file_bytes=2 * 2**30, max_archive_members=1_000_000, max_archive_bytes=16 * 2**30,
                             max_compression_ratio=200.0)

ProgressFn = Callable[[int, int], None]
StopFn = Callable[[], bool]


class OverlapIndexError(ValueError):
    """An index folder that cannot be used (missing, damaged, foreign, or built with other settings); the message
    is a sentence for the user."""


@dataclass(frozen=True)
class IndexParams:
    """Settings fixed when an index is created (every document in it is hashed the same way).

    ngram: words per shingle. num_perm: MinHash permutations (the standard error of an estimated Jaccard J is
    about sqrt(J (1 - J) / num_perm)). seed: MinHash permutation seed. jaccard_threshold: the MinHashLSH
    near-duplicate threshold. containment_threshold: the MinHashLSHEnsemble containment threshold.
    ensemble_partitions, ensemble_max_r: datasketch's ``num_part`` and ``m`` for the ensemble (every document sits
    in one partition). ensemble_recall_weight: weight of false negatives when datasketch picks the ensemble's bands
    (0.5 = its default). At 0.5 a query is found reliably inside documents up to about twice its length; an excerpt
    of a document 5-20 times longer (Jaccard 0.05-0.2) needs about 0.9, which stores about 3.5 times as many LSH
    entries per document (memory).
    """

    ngram: int = 5
    num_perm: int = 128
    seed: int = 1
    jaccard_threshold: float = 0.5
    containment_threshold: float = 0.8
    ensemble_partitions: int = 16
    ensemble_max_r: int = 4
    ensemble_recall_weight: float = 0.5

    def validate(self) -> IndexParams:
        """Raise ValueError with a sentence when a setting is out of range; return self."""
        if not isinstance(self.ngram, int) or not 1 <= self.ngram <= 64:
            raise ValueError(f"The n-gram size must be a whole number from 1 to 64; got {self.ngram!r}.")
        if not isinstance(self.num_perm, int) or not 16 <= self.num_perm <= 1024:
            raise ValueError(f"The number of permutations must be a whole number from 16 to 1024; got "
                             f"{self.num_perm!r}.")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"The MinHash seed must be a non-negative whole number; got {self.seed!r}.")
        for name in ("jaccard_threshold", "containment_threshold"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
                raise ValueError(f"The {name.replace('_', ' ')} must be between 0 and 1 (exclusive); got {value!r}.")
        if not isinstance(self.ensemble_partitions, int) or not 1 <= self.ensemble_partitions <= 64:
            raise ValueError("The number of ensemble partitions must be a whole number from 1 to 64.")
        if not isinstance(self.ensemble_max_r, int) or not 2 <= self.ensemble_max_r <= min(16, self.num_perm):
            raise ValueError("The ensemble's largest band size (m) must be a whole number from 2 to 16.")
        w = self.ensemble_recall_weight
        if not isinstance(w, (int, float)) or not 0.0 < w < 1.0 or (1.0 - w) + w != 1.0:
            raise ValueError(f"The ensemble's recall weight must be between 0 and 1, e.g. 0.5 or 0.9; got {w!r}.")
        return self


# ----------------------------------------------------------------------------------------------------------------
# Texts -> words -> shingles -> MinHash signatures


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


def shingles(words: Sequence[str], n: int) -> list[str]:
    """Word n-grams joined by single spaces, in text order (with repeats).

    A text with fewer than ``n`` (but at least one) words is one shingle of all its words, so short texts can
    still match; a text without words has no shingles.
    """
    if not words:
        return []
    if len(words) < n:
        return [" ".join(words)]
    return [" ".join(words[i: i + n]) for i in range(len(words) - n + 1)]


def shingle_hashes(items: Iterable[str]) -> np.ndarray:
    """Unique 32-bit hashes of shingles, shape (n_unique,), uint32.

    The hash is datasketch's default ``sha1_hash32`` (first 4 bytes of SHA-1 of the UTF-8 text, little-endian), so
    signatures equal those of ``datasketch.MinHash.update_batch`` on the encoded shingles.
    """
    sha1 = hashlib.sha1
    blob = b"".join(sha1(s.encode("utf-8")).digest()[:4] for s in items)
    return np.unique(np.frombuffer(blob, dtype="<u4").astype(np.uint32))


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch's affine32 scheme applies it before permuting."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def permutations(num_perm: int, seed: int) -> np.ndarray:
    """datasketch's affine32 permutation parameters for (num_perm, seed), shape (2, num_perm), uint32."""
    return MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations


def minhash_signatures(hash_sets: Sequence[np.ndarray], num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """MinHash signatures of sets of 32-bit hashes, vectorised over sets.

    Parameters
    ----------
    hash_sets: one uint32 array per set (from ``shingle_hashes``); every set must be non-empty.

    Returns an array of shape (n_sets, num_perm), uint32, equal to ``datasketch.MinHash(num_perm, seed).hashvalues``
    after ``update_batch`` with the same items.
    """
    a, b = permutations(num_perm, seed)
    out = np.empty((len(hash_sets), num_perm), dtype=np.uint32)
    start = 0
    while start < len(hash_sets):
        stop, total = start, 0
        while stop < len(hash_sets) and (stop == start or total + len(hash_sets[stop]) <= _SIGNATURE_BATCH_SHINGLES):
            total += len(hash_sets[stop])
            stop += 1
        batch = hash_sets[start:stop]
        lengths = np.array([len(h) for h in batch], dtype=np.int64)
        if np.any(lengths == 0):
            raise ValueError("Every set needs at least one element to have a MinHash signature.")
        mixed = _fmix32(np.concatenate(batch).astype(np.uint32, copy=False))
        permuted = np.multiply.outer(mixed, a)  # (n_items, num_perm), wraps mod 2^32
        permuted += b
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        out[start:stop] = np.minimum.reduceat(permuted, offsets, axis=0)
        start = stop
    return out


def text_signature(text: str, params: IndexParams) -> tuple[np.ndarray, int] | None:
    """(signature of shape (num_perm,) uint32, number of unique shingles) of one text, or None if it has no words."""
    hashes = shingle_hashes(shingles(words(text), params.ngram))
    if len(hashes) == 0:
        return None
    return minhash_signatures([hashes], params.num_perm, params.seed)[0], int(len(hashes))


def estimated_jaccard(signature: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Fraction of equal MinHash values: shape (num_perm,) against (k, num_perm) -> (k,) float64 in [0, 1]."""
    return np.mean(others == signature[None, :], axis=1, dtype=np.float64)


def containment_from_jaccard(jaccard: np.ndarray, size_query: int, size_other: np.ndarray) -> np.ndarray:
    """|Q n X| / |Q| from a Jaccard similarity and the two set sizes: |Q n X| = J (|Q| + |X|) / (1 + J).

    Shapes broadcast; the result is clipped to [0, 1].
    """
    jaccard = np.asarray(jaccard, dtype=np.float64)
    inter = jaccard * (size_query + np.asarray(size_other, dtype=np.float64)) / (1.0 + jaccard)
    return np.clip(inter / max(size_query, 1), 0.0, 1.0)


# ----------------------------------------------------------------------------------------------------------------
# Exact verification and matching spans


@dataclass(frozen=True)
class Span:
    """A run of identical words in two texts: character offsets [start, end) in each, and its length in words."""

    words: int
    query_start: int
    query_end: int
    match_start: int
    match_end: int


def exact_overlap(query_words: Sequence[str], match_words: Sequence[str], n: int) -> dict[str, float | int]:
    """Exact n-gram set overlap of two word sequences.

    Returns ``jaccard`` = |Q n X| / |Q u X|, ``containment`` = |Q n X| / |Q| (how much of the query is inside the
    match), ``match_containment`` = |Q n X| / |X|, and the set sizes ``shared``, ``query_ngrams``, ``match_ngrams``.
    """
    q, x = set(shingles(query_words, n)), set(shingles(match_words, n))
    shared = len(q & x)
    union = len(q) + len(x) - shared
    return {
        "jaccard": shared / union if union else 0.0,
        "containment": shared / len(q) if q else 0.0,
        "match_containment": shared / len(x) if x else 0.0,
        "shared": shared,
        "query_ngrams": len(q),
        "match_ngrams": len(x),
    }


def maximal_matches(a: Sequence[str], b: Sequence[str], min_words: int) -> list[tuple[int, int, int]]:
    """All maximal runs of equal words shared by ``a`` and ``b`` that are at least ``min_words`` long.

    Seed-and-extend: every ``min_words``-gram of ``b`` found in ``a`` is extended forward along its diagonal;
    a seed inside an already extended run is skipped. Returns (start in a, start in b, length) tuples. Each
    n-gram follows at most 64 of its positions in ``a``, which bounds the work on very repetitive texts.
    """
    min_words = max(1, min_words)
    if len(a) < min_words or len(b) < min_words:
        return []
    seeds: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i in range(len(a) - min_words + 1):
        positions = seeds[tuple(a[i: i + min_words])]
        if len(positions) < _MAX_SEED_POSITIONS:
            positions.append(i)
    reached: dict[int, int] = {}  # diagonal (i - j) -> first b position after the last run extended on it
    runs = []
    for j in range(len(b) - min_words + 1):
        for i in seeds.get(tuple(b[j: j + min_words]), ()):
            if reached.get(i - j, -1) > j:
                continue
            k = min_words
            while i + k < len(a) and j + k < len(b) and a[i + k] == b[j + k]:
                k += 1
            reached[i - j] = j + k
            runs.append((i, j, k))
    return runs


def matching_spans(query_text: str, match_text: str, *, min_words: int = 5, max_spans: int = 5) -> list[Span]:
    """The longest runs of identical words (case-folded, punctuation ignored) shared by two texts.

    Longest first, at most ``max_spans``, no two overlapping in the query; each has character offsets in both
    texts so a page can highlight them side by side.
    """
    qw, qs = word_spans(query_text)
    mw, ms = word_spans(match_text)
    runs = sorted(maximal_matches(qw, mw, min_words), key=lambda r: (-r[2], r[0], r[1]))
    chosen: list[Span] = []
    taken = np.zeros(len(qw), dtype=bool)
    for i, j, k in runs:
        if len(chosen) >= max_spans:
            break
        if taken[i: i + k].any():
            continue
        taken[i: i + k] = True
        chosen.append(Span(words=k, query_start=int(qs[i, 0]), query_end=int(qs[i + k - 1, 1]),
                           match_start=int(ms[j, 0]), match_end=int(ms[j + k - 1, 1])))
    return chosen


# ----------------------------------------------------------------------------------------------------------------
# Reading a reference corpus


def corpus_suffixes() -> set[str]:
    """File types a corpus may contain: whatever ingest reads, plus .parquet tables and .zip archives."""
    from .. import documents as ingest

    return set(ingest.SUPPORTED_SUFFIXES) | CORPUS_SUFFIXES


def parquet_documents(name: str, source: str | Path | bytes, *, text_column: str = "text", id_column: str = "id",
                      batch_rows: int = 10_000) -> tuple[list[Document], list[IngestError]]:
    """Documents from a Parquet table with a text column (read in batches of rows); never raises for bad content.

    Document names are ``name:id`` when an ``id`` column is present, else ``name:row`` (1-based row number).
    Rows with an empty or missing text are counted in one error.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(pa.BufferReader(source) if isinstance(source, bytes) else str(source))
        columns = handle.schema_arrow.names
        if text_column not in columns:
            return [], [IngestError(name, f"the table has no '{text_column}' column (it has: "
                                          f"{', '.join(columns[:10]) or 'none'}).")]
        wanted = [text_column] + ([id_column] if id_column in columns and id_column != text_column else [])
        docs, empty, first_empty, row = [], 0, 0, 0
        for batch in handle.iter_batches(batch_size=batch_rows, columns=wanted):
            data = batch.to_pydict()
            ids = data.get(id_column, [None] * batch.num_rows)
            for text, ident in zip(data[text_column], ids):
                row += 1
                if not isinstance(text, str) or not text.strip():
                    empty += 1
                    first_empty = first_empty or row
                    continue
                docs.append(Document(f"{name}:{ident}" if ident not in (None, "") else f"{name}:{row}", text))
    except (OSError, ValueError, pa.ArrowException) as exc:
        return [], [IngestError(name, f"could not be read as a Parquet table ({exc}).")]
    errors = []
    if empty:
        errors.append(IngestError(name, f"{empty} row(s) have an empty or non-text '{text_column}' value "
                                        f"(first: row {first_empty}); they were skipped."))
    if not docs and not errors:
        errors.append(IngestError(name, "the table has no rows."))
    return docs, errors


def zip_documents(path: str | Path, *, text_column: str = "text", id_column: str = "id",
                  limits: IngestLimits = CORPUS_LIMITS) -> tuple[list[Document], list[IngestError]]:
    """Documents from every supported file inside a .zip archive, read member by member from disk.

    Unlike ``ingest`` (which reads uploads whole), the archive is never loaded into memory at once, and Parquet
    members are read too. Nested archives are not opened. ``limits`` caps each member (``max_file_bytes``), the
    total (``max_archive_bytes``), the member count and the compression ratio of large members, so a zip bomb
    fails with an error. Names are ``archive.zip:member/path``.
    """
    path = Path(path)
    docs: list[Document] = []
    errors: list[IngestError] = []
    suffixes = corpus_suffixes() - {".zip"}
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
        return [], [IngestError(str(path), f"is not a readable zip archive ({exc}).")]
    if len(infos) > limits.max_archive_members:
        archive.close()
        return [], [IngestError(str(path), f"holds {len(infos)} files, more than the limit of "
                                           f"{limits.max_archive_members}; split it into smaller archives.")]
    total = 0
    with archive:
        for info in infos:
            member = f"{path}:{info.filename}"
            base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
            if info.is_dir() or base.startswith(".") or info.filename.startswith("__MACOSX/"):
                continue
            suffix = Path(base).suffix.lower()
            if suffix == ".zip":
                errors.append(IngestError(member, "archives inside archives are not opened; unpack it first."))
                continue
            if suffix not in suffixes:
                continue
            if info.file_size > limits.max_file_bytes:
                errors.append(IngestError(member, f"is larger than {limits.max_file_bytes // 2**20} MiB "
                                                  "uncompressed; it was skipped."))
                continue
            if (info.file_size > limits.ratio_check_min_bytes
                    and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)):
                errors.append(IngestError(member, f"compresses more than {limits.max_compression_ratio:.0f} to 1, "
                                                  "which is how 'zip bombs' work, so it was skipped."))
                continue
            try:
                with archive.open(info) as fh:
                    data = fh.read(min(limits.max_file_bytes, info.file_size) + 1)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
                errors.append(IngestError(member, f"could not be unpacked ({exc})."))
                continue
            if len(data) > info.file_size:
                errors.append(IngestError(member, "unpacks to more than its declared size; it was skipped (a 'zip "
                                                  "bomb' safeguard)."))
                continue
            total += len(data)
            if total > limits.max_archive_bytes:
                errors.append(IngestError(str(path), f"unpacks to more than {limits.max_archive_bytes // 2**30} GiB; "
                                                     "the rest of it was not read."))
                break
            got, errs = _documents_from_data(member, data, text_column, id_column, limits)
            docs.extend(got)
            errors.extend(errs)
    if not docs and not errors:
        errors.append(IngestError(str(path), "the archive holds no supported files."))
    return docs, errors


def _documents_from_data(name: str, data: bytes, text_column: str, id_column: str,
                         limits: IngestLimits) -> tuple[list[Document], list[IngestError]]:
    if Path(name).suffix.lower() == ".parquet":
        return parquet_documents(name, data, text_column=text_column, id_column=id_column)
    return documents_from_bytes(name, data, text_column=text_column, id_column=id_column, limits=limits)


def read_corpus(paths: str | Path | Sequence[str | Path], *, text_column: str = "text", id_column: str = "id",
                limits: IngestLimits = CORPUS_LIMITS) -> tuple[list[Document], list[IngestError]]:
    """Read a reference corpus: files, folders (recursively) and .zip archives of anything ingest reads, plus
    .parquet tables with a text column. Unreadable inputs become IngestErrors; the rest always survive.

    ``limits`` are ingest's safety limits, sized for corpora by default. Returns documents with unique names, in a
    stable order (folders sorted by path).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files, errors = expand_paths(paths, suffixes=corpus_suffixes(), include_hidden=False)
    docs: list[Document] = []
    for file in files:
        if file.suffix.lower() == ".zip":
            got, errs = zip_documents(file, text_column=text_column, id_column=id_column, limits=limits)
        elif file.suffix.lower() == ".parquet":
            got, errs = parquet_documents(str(file), file, text_column=text_column, id_column=id_column)
        else:
            data = read_file(file, limits)
            if isinstance(data, IngestError):
                errors.append(data)
                continue
            got, errs = documents_from_bytes(str(file), data, text_column=text_column, id_column=id_column,
                                             limits=limits)
        docs.extend(got)
        errors.extend(errs)
    return unique_names(docs), errors


# ----------------------------------------------------------------------------------------------------------------
# The index


@dataclass(eq=False)
class _Shard:
    """A block of consecutive documents: on disk (``directory`` set) or still only in memory (``texts`` set)."""

    name: str
    n: int
    directory: Path | None = None
    offsets: np.ndarray | None = None  # (n + 1,) int64 byte offsets into the .texts file
    texts: list[str] | None = None
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256, once written

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


@dataclass
class AddReport:
    """What ``add_documents`` did: documents added, those skipped (name -> reason), seconds, and whether it was
    stopped early by ``should_stop``."""

    added: int
    skipped: dict[str, str]
    seconds: float
    stopped: bool = False


class OverlapIndex:
    """MinHash signatures of a reference corpus, its texts, and datasketch LSH structures built from them.

    Create one with ``OverlapIndex(params)`` or ``build_index``, open a saved one with ``load_index``. The
    near-duplicate ``MinHashLSH`` is kept up to date as documents are added; the containment ``MinHashLSHEnsemble``
    (which datasketch can only build in one go) is built on first use and rebuilt after additions; ``prepare``
    builds both up front with progress.
    """

    def __init__(self, params: IndexParams = IndexParams(), *, storage_config: dict | None = None):
        self.params = params.validate()
        self.storage_config = _check_storage_config(storage_config)
        self.uuid = uuid.uuid4().hex
        self.path: Path | None = None
        self.created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self._perms = permutations(params.num_perm, params.seed)
        self._signatures = np.empty((0, params.num_perm), dtype=np.uint32)
        self._sizes = np.empty(0, dtype=np.int64)
        self._names: list[str] = []
        self._shards: list[_Shard] = []
        self._starts = np.zeros(1, dtype=np.int64)  # first document id of each shard, plus the total
        self._lsh: MinHashLSH | None = None
        self._lsh_count = 0
        self._ensemble: MinHashLSHEnsemble | None = None
        self._ensemble_count = -1
        self._pool = None  # one Redis connection pool shared by every LSH table (datasketch opens one per table)

    # -- facts ---------------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._names)

    @property
    def signatures(self) -> np.ndarray:
        """MinHash values of every document, shape (n_documents, num_perm), uint32 (read-only view)."""
        view = self._signatures.view()
        view.flags.writeable = False
        return view

    @property
    def sizes(self) -> np.ndarray:
        """Number of unique shingles of every document, shape (n_documents,), int64."""
        return self._sizes.copy()

    @property
    def names(self) -> list[str]:
        """Document names, in id order."""
        return list(self._names)

    def document_name(self, doc_id: int) -> str:
        """Name of document ``doc_id`` (0-based, in the order documents were added)."""
        return self._names[doc_id]

    def document_text(self, doc_id: int) -> str:
        """Full text of document ``doc_id``, from memory or re-read from the index folder."""
        if not 0 <= doc_id < len(self):
            raise IndexError(f"There is no document {doc_id} in an index of {len(self)} documents.")
        s = int(np.searchsorted(self._starts, doc_id, side="right")) - 1
        return self._shards[s].text(doc_id - int(self._starts[s]))

    def describe(self) -> dict:
        """Plain facts for display: documents, parameters, storage, folder, unsaved documents."""
        saved = sum(sh.n for sh in self._shards if sh.directory is not None and sh.directory == self.path)
        return {"documents": len(self), "unsaved_documents": len(self) - saved, "path": str(self.path or ""),
                "storage": (self.storage_config or {"type": "dict"})["type"], **asdict(self.params)}

    # -- adding --------------------------------------------------------------------------------------------------

    def add_documents(self, documents: Sequence[Document], *, progress: ProgressFn | None = None,
                      should_stop: StopFn | None = None, batch_size: int = 2000) -> AddReport:
        """Hash documents and add them (in memory; ``save`` writes them to disk as a new shard). The LSH
        structures catch up on the next ``prepare`` or query.

        ``progress(done, total)`` counts documents; ``should_stop()`` is checked between batches of
        ``batch_size`` documents, and what was hashed before it returned True stays added. Documents without
        any word are skipped and reported.
        """
        t0 = time.time()
        skipped: dict[str, str] = {}
        total, done, stopped = len(documents), 0, False
        texts: list[str] = []
        names: list[str] = []
        for lo in range(0, total, batch_size):
            if should_stop is not None and should_stop():
                stopped = True
                break
            batch = documents[lo: lo + batch_size]
            hash_sets = []
            for doc in batch:
                hashes = shingle_hashes(shingles(words(doc.text), self.params.ngram))
                if len(hashes) == 0:
                    skipped[doc.name] = "it has no words to compare."
                    continue
                hash_sets.append(hashes)
                texts.append(doc.text)
                names.append(doc.name)
            if hash_sets:
                self._signatures = np.concatenate(
                    [self._signatures, minhash_signatures(hash_sets, self.params.num_perm, self.params.seed)])
                self._sizes = np.concatenate([self._sizes, [len(h) for h in hash_sets]])
            done += len(batch)
            if progress is not None:
                progress(done, total)
        if texts:
            self._names.extend(names)
            self._shards.append(_Shard(name=_new_shard_name(len(self._shards)), n=len(texts), texts=texts))
            self._starts = np.append(self._starts, self._starts[-1] + len(texts))
        return AddReport(added=len(texts), skipped=skipped, seconds=time.time() - t0, stopped=stopped)

    # -- LSH structures ------------------------------------------------------------------------------------------

    def prepare(self, *, containment: bool = True, progress: ProgressFn | None = None) -> None:
        """Build (or bring up to date) the LSH structures now, reporting ``progress(done, total)`` in documents."""
        self._update_lsh(progress)
        if containment:
            self._update_ensemble(progress)

    def _minhash(self, doc_id: int) -> MinHash:
        return MinHash(num_perm=self.params.num_perm, seed=self.params.seed, hashvalues=self._signatures[doc_id],
                       permutations=self._perms, scheme=SCHEME)

    def _key(self, doc_id: int):
        # Redis tables hold bytes keys (prepickle=False: nothing read back from Redis is ever unpickled).
        return str(doc_id).encode() if self.storage_config else doc_id

    def _storage(self, part: str) -> dict:
        if not self.storage_config:
            return {"type": "dict"}
        return {"type": "redis", "redis": {"connection_pool": self._connection_pool()},
                "redis_buffer": {"transaction": False}, "basename": f"{self.redis_prefix}:{part}".encode()}

    @property
    def redis_prefix(self) -> str:
        """Prefix of every Redis key this index writes (``provenance-overlap:<index uuid>``)."""
        return f"provenance-overlap:{self.uuid}"

    def _update_lsh(self, progress: ProgressFn | None = None) -> None:
        n = len(self)
        if self._lsh is None:
            self._lsh = MinHashLSH(threshold=self.params.jaccard_threshold, num_perm=self.params.num_perm,
                                   storage_config=self._storage("lsh"), prepickle=False)
            self._lsh_count = 0
            if self.storage_config:
                stored = _redis_int(self._redis(), f"{self.redis_prefix}:lsh:count")
                if stored > n:  # tables from a longer version of this index (e.g. an unsaved append): start over
                    self.drop_storage()
                    self._lsh = MinHashLSH(threshold=self.params.jaccard_threshold, num_perm=self.params.num_perm,
                                           storage_config=self._storage("lsh"), prepickle=False)
                else:
                    self._lsh_count = stored
        for lo in range(self._lsh_count, n, _LSH_BUFFER):
            hi = min(n, lo + _LSH_BUFFER)
            with self._lsh.insertion_session(buffer_size=_LSH_BUFFER) as session:
                for i in range(lo, hi):
                    session.insert(self._key(i), self._minhash(i), check_duplication=False)
            self._lsh_count = hi
            if self.storage_config:
                self._redis().set(f"{self.redis_prefix}:lsh:count", hi)
            if progress is not None:
                progress(hi, n)

    def _update_ensemble(self, progress: ProgressFn | None = None) -> None:
        n = len(self)
        if n == 0 or self._ensemble_count == n:
            return
        part = f"ens:{n}"
        ensemble = MinHashLSHEnsemble(threshold=self.params.containment_threshold, num_perm=self.params.num_perm,
                                      num_part=self.params.ensemble_partitions, m=self.params.ensemble_max_r,
                                      weights=(1.0 - self.params.ensemble_recall_weight,
                                               self.params.ensemble_recall_weight),
                                      storage_config=self._storage(part), prepickle=False)
        bounds_key = f"{self.redis_prefix}:{part}:bounds"
        stored = self._redis().get(bounds_key) if self.storage_config else None
        if stored is not None:  # a complete ensemble for exactly these documents is already in Redis
            bounds = json.loads(stored)
            ensemble.lowers, ensemble.uppers = bounds["lowers"], bounds["uppers"]
        else:
            if self.storage_config:
                _redis_delete_prefix(self._redis(), f"{self.redis_prefix}:ens:")
            self._fill_ensemble(ensemble, progress)
            if self.storage_config:
                self._redis().set(bounds_key, json.dumps({"lowers": ensemble.lowers, "uppers": ensemble.uppers}))
        self._ensemble, self._ensemble_count = ensemble, n

    def _fill_ensemble(self, ensemble: MinHashLSHEnsemble, progress: ProgressFn | None) -> None:
        """datasketch's ``MinHashLSHEnsemble.index`` (same partitions), but with buffered insertion sessions so a
        Redis-backed ensemble is filled in pipelines instead of one round trip per band and document."""
        sizes, counts = np.array(sorted(Counter(self._sizes.tolist()).items())).T
        partitions = optimal_partitions(sizes, counts, len(ensemble.indexes))
        for i, (lower, upper) in enumerate(partitions):
            ensemble.lowers[i], ensemble.uppers[i] = int(lower), int(upper)
        uppers = np.array([int(u) for _, u in partitions])
        part_of = np.searchsorted(uppers, self._sizes, side="left")
        n, done = len(self), 0
        for p in range(len(partitions)):
            ids = np.flatnonzero(part_of == p)
            for lo in range(0, len(ids), _LSH_BUFFER):
                chunk = [(self._key(int(i)), self._minhash(int(i))) for i in ids[lo: lo + _LSH_BUFFER]]
                for lsh in ensemble.indexes[p].values():
                    with lsh.insertion_session(buffer_size=_LSH_BUFFER) as session:
                        for key, mh in chunk:
                            session.insert(key, mh, check_duplication=False)
                done += len(chunk)
                if progress is not None:
                    progress(done, n)

    def candidates(self, signature: np.ndarray, size: int, *, containment: bool = True) -> dict[int, str]:
        """Document ids the LSH structures return for one query signature (shape (num_perm,), uint32) with
        ``size`` unique shingles: id -> 'jaccard', 'containment' or 'both' (which structure found it)."""
        self._update_lsh()
        mh = MinHash(num_perm=self.params.num_perm, seed=self.params.seed, hashvalues=signature,
                     permutations=self._perms, scheme=SCHEME)
        found: dict[int, str] = {}
        for key in self._lsh.query(mh):
            found[int(key)] = "jaccard"
        if containment and len(self):
            self._update_ensemble()
            for key in self._ensemble.query(mh, max(1, int(size))):
                doc_id = int(key)
                found[doc_id] = "both" if found.get(doc_id) == "jaccard" else "containment"
        return {i: how for i, how in found.items() if 0 <= i < len(self)}

    # -- Redis ---------------------------------------------------------------------------------------------------

    def _connection_pool(self):
        if self._pool is None:
            import redis

            self._pool = redis.ConnectionPool(**_redis_params(self.storage_config["redis"]))
        return self._pool

    def _redis(self):
        import redis

        return redis.Redis(connection_pool=self._connection_pool())

    def drop_storage(self) -> int:
        """Delete every Redis key of this index (its LSH tables); return how many were deleted. No-op in memory."""
        self._lsh, self._lsh_count, self._ensemble, self._ensemble_count = None, 0, None, -1
        if not self.storage_config:
            return 0
        return _redis_delete_prefix(self._redis(), f"{self.redis_prefix}:")

    # -- saving --------------------------------------------------------------------------------------------------

    def save(self, directory: str | Path | None = None) -> Path:
        """Write the index to a folder (created if needed) and return it.

        Into its own folder only new documents are written (as one new shard); into another folder everything is
        written. The manifest is replaced atomically, so a crash never leaves a half-written index behind.
        """
        directory = Path(directory) if directory is not None else self.path
        if directory is None:
            raise OverlapIndexError("Choose a folder to save the index in.")
        if directory.exists() and not directory.is_dir():
            raise OverlapIndexError(f"{directory} is a file; an index is saved as a folder.")
        manifest_path = directory / MANIFEST_NAME
        if manifest_path.exists() and directory != self.path:
            other = _read_manifest(directory)
            if other.get("uuid") != self.uuid:
                raise OverlapIndexError(f"{directory} already holds another overlap index; open it to add "
                                        "documents, or choose an empty folder.")
        directory.mkdir(parents=True, exist_ok=True)
        for number, shard in enumerate(self._shards):
            if shard.directory != directory:
                _write_shard(shard, directory, self._signatures, self._sizes, self._names, self._starts, number)
        manifest = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "uuid": self.uuid,
            "created": self.created,
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "tokenizer": TOKENIZER_NAME,
            "minhash": {"scheme": SCHEME, "hash": "sha1_hash32"},
            "params": asdict(self.params),
            "documents": len(self),
            "storage": _public_storage(self.storage_config),
            "shards": [{"name": sh.name, "documents": sh.n, "files": sh.files} for sh in self._shards],
        }
        tmp = manifest_path.with_name(MANIFEST_NAME + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.replace(tmp, manifest_path)
        self.path = directory
        return directory


def _new_shard_name(number: int) -> str:
    return f"shard-{number:06d}-{uuid.uuid4().hex[:8]}"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_shard(shard: _Shard, directory: Path, signatures: np.ndarray, sizes: np.ndarray, names: list[str],
                 starts: np.ndarray, number: int) -> None:
    """Write one shard's three files into ``directory`` and point the shard at them."""
    lo, hi = int(starts[number]), int(starts[number + 1])
    texts_path = directory / f"{shard.name}.texts"
    offsets = np.zeros(shard.n + 1, dtype=np.int64)
    with open(texts_path, "wb") as fh:
        for j in range(shard.n):
            data = shard.text(j).encode("utf-8")
            fh.write(data)
            offsets[j + 1] = offsets[j] + len(data)
    buf = io.BytesIO()
    np.savez(buf, signatures=signatures[lo:hi], sizes=sizes[lo:hi], offsets=offsets)
    (directory / f"{shard.name}.npz").write_bytes(buf.getvalue())
    (directory / f"{shard.name}.names.json").write_text(json.dumps(names[lo:hi], ensure_ascii=False),
                                                         encoding="utf-8")
    shard.files = {f"{shard.name}{ext}": _sha256_file(directory / f"{shard.name}{ext}")
                   for ext in (".npz", ".names.json", ".texts")}
    shard.directory, shard.offsets, shard.texts = directory, offsets, None


def _check_storage_config(config: dict | None) -> dict | None:
    """None / {'type': 'dict'} -> None (in memory); a Redis config is checked and returned."""
    if not config or config.get("type", "dict") == "dict":
        return None
    if config.get("type") != "redis" or not isinstance(config.get("redis"), dict):
        raise ValueError("The LSH storage must be in memory or Redis: {'type': 'redis', 'redis': {'host': ..., "
                         "'port': ...}}.")
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError as exc:
        raise ValueError("Redis storage needs the 'redis' Python package (pip install redis).") from exc
    params = _redis_params(config["redis"])
    try:
        redis.Redis(**{**params, "retry": Retry(NoBackoff(), 0)}).ping()  # fail fast, no retries
    except redis.RedisError as exc:
        where = f"{params.get('host', 'localhost')}:{params.get('port', 6379)}"
        raise ValueError(f"Could not reach the Redis server at {where} ({exc}); start it or check host and port.") \
            from exc
    return {"type": "redis", "redis": dict(config["redis"])}


def _redis_params(config: dict) -> dict:
    """datasketch's Redis parameter convention: a value {'env': NAME, 'default': x} is read from the environment."""
    out = {}
    for key, value in config.items():
        if isinstance(value, dict) and "env" in value:
            value = os.getenv(value["env"], value.get("default"))
        out[key] = value
    return out


def _public_storage(config: dict | None) -> dict:
    """What the manifest records about storage: type, and host / port / db for Redis (never a password)."""
    if not config:
        return {"type": "dict"}
    return {"type": "redis", "redis": {k: v for k, v in config["redis"].items() if k in ("host", "port", "db")}}


def _redis_int(client, key: str) -> int:
    value = client.get(key)
    return int(value) if value is not None else 0


def _redis_delete_prefix(client, prefix: str) -> int:
    deleted, batch = 0, []
    for key in client.scan_iter(match=prefix.encode() + b"*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted


# ----------------------------------------------------------------------------------------------------------------
# Loading


def _read_manifest(directory: Path) -> dict:
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
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise OverlapIndexError(f"{path} is not a provenance overlap index (its format marker is missing or "
                                "different).")
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise OverlapIndexError(f"{path} was written by a newer version of provenance (format {version!r}); "
                                f"this version reads format {FORMAT_VERSION}. Upgrade provenance.")
    return manifest


def _damaged(directory: Path, what: str) -> OverlapIndexError:
    return OverlapIndexError(f"The overlap index in {directory} is damaged: {what}. Rebuild it from the corpus.")


def load_index(directory: str | Path, *, storage_config: dict | None = None,
               progress: ProgressFn | None = None) -> OverlapIndex:
    """Open a saved index: check every file against its SHA-256 and shape, then rebuild the near-duplicate LSH.

    ``storage_config`` overrides the storage recorded in the manifest (e.g. another Redis host); with Redis, LSH
    tables already there for this index are reused and only missing documents are inserted. Raises
    OverlapIndexError with a sentence when the folder is missing, foreign, damaged or from a newer version.
    No file is unpickled (``np.load(..., allow_pickle=False)``, JSON otherwise).
    """
    directory = Path(directory)
    if not directory.is_dir():
        if directory.is_file():
            raise OverlapIndexError(f"{directory} is a file; an overlap index is a folder holding {MANIFEST_NAME}.")
        raise OverlapIndexError(f"There is no overlap index at {directory} (no such folder).")
    if not (directory / MANIFEST_NAME).is_file():
        raise OverlapIndexError(f"{directory} is not an overlap index folder (it has no {MANIFEST_NAME}); build "
                                "one with 'python -m provenance overlap build'.")
    manifest = _read_manifest(directory)
    try:
        params = IndexParams(**manifest["params"]).validate()
        if manifest.get("tokenizer") != TOKENIZER_NAME or manifest.get("minhash", {}).get("scheme") != SCHEME:
            raise ValueError("it was hashed with another tokenizer or MinHash scheme")
        entries = manifest["shards"]
        n_docs = int(manifest["documents"])
        if not isinstance(entries, list) or not re.fullmatch(r"[0-9a-f]{32}", str(manifest["uuid"])):
            raise ValueError("the shard list or identifier is malformed")
    except (KeyError, TypeError, ValueError) as exc:
        raise _damaged(directory, f"its manifest is incomplete ({exc})") from exc
    config = storage_config if storage_config is not None else manifest.get("storage")
    index = OverlapIndex(params, storage_config=config)
    index.uuid, index.created = manifest["uuid"], str(manifest.get("created", ""))
    sigs, sizes, names = [], [], []
    for entry in entries:
        shard = _load_shard(directory, entry, params)
        sig, size, shard_names = shard.pop("signatures"), shard.pop("sizes"), shard.pop("names")
        sigs.append(sig)
        sizes.append(size)
        names.extend(shard_names)
        index._shards.append(_Shard(**shard))
    if len(names) != n_docs:
        raise _damaged(directory, f"the manifest lists {n_docs} documents but the shards hold {len(names)}")
    if sigs:
        index._signatures = np.concatenate(sigs)
        index._sizes = np.concatenate(sizes)
    index._names = names
    index._starts = np.concatenate([[0], np.cumsum([sh.n for sh in index._shards])]).astype(np.int64)
    index.path = directory
    index._update_lsh(progress)
    return index


def _load_shard(directory: Path, entry: dict, params: IndexParams) -> dict:
    """Verify and read one shard; returns _Shard fields plus 'signatures', 'sizes' and 'names'."""
    try:
        name, n, files = entry["name"], int(entry["documents"]), dict(entry["files"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _damaged(directory, f"a shard entry is malformed ({exc})") from exc
    if not isinstance(name, str) or not _SHARD_NAME_RE.match(name):
        raise _damaged(directory, f"the shard name {name!r} is not one this program writes")
    for ext in (".npz", ".names.json", ".texts"):
        path = directory / f"{name}{ext}"
        if not path.is_file():
            raise _damaged(directory, f"the file {path.name} is missing")
        if _sha256_file(path) != files.get(path.name):
            raise _damaged(directory, f"the file {path.name} changed after it was written (checksum mismatch)")
    try:
        with np.load(directory / f"{name}.npz", allow_pickle=False) as data:
            signatures, sizes, offsets = data["signatures"], data["sizes"], data["offsets"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise _damaged(directory, f"{name}.npz could not be read safely ({exc})") from exc
    if signatures.dtype != np.uint32 or signatures.shape != (n, params.num_perm):
        raise _damaged(directory, f"{name}.npz holds signatures of shape {signatures.shape} ({signatures.dtype}), "
                                  f"expected ({n}, {params.num_perm}) uint32")
    if sizes.shape != (n,) or offsets.shape != (n + 1,) or sizes.dtype.kind != "i" or offsets.dtype.kind != "i":
        raise _damaged(directory, f"{name}.npz holds arrays of the wrong shape or type")
    text_bytes = (directory / f"{name}.texts").stat().st_size
    if offsets[0] != 0 or np.any(np.diff(offsets) < 0) or offsets[-1] != text_bytes or np.any(sizes < 1):
        raise _damaged(directory, f"{name}.npz does not match {name}.texts")
    try:
        names = json.loads((directory / f"{name}.names.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _damaged(directory, f"{name}.names.json is not valid JSON") from exc
    if not isinstance(names, list) or len(names) != n or not all(isinstance(x, str) for x in names):
        raise _damaged(directory, f"{name}.names.json does not hold {n} names")
    return {"name": name, "n": n, "directory": directory, "offsets": offsets.astype(np.int64),
            "files": files, "signatures": signatures, "sizes": sizes.astype(np.int64), "names": names}


# ----------------------------------------------------------------------------------------------------------------
# Building and querying (the functions the CLI and the dashboard page call)


def build_index(corpus: str | Path | Sequence[str | Path] | Sequence[Document], directory: str | Path | None = None,
                *, params: IndexParams = IndexParams(), append: bool = False, storage_config: dict | None = None,
                text_column: str = "text", id_column: str = "id", containment: bool = True,
                limits: IngestLimits = CORPUS_LIMITS,
                progress: ProgressFn | None = None, should_stop: StopFn | None = None,
                ) -> tuple[OverlapIndex, list[IngestError]]:
    """Build an index from a corpus (paths or Documents), or add the corpus to the index in ``directory``.

    With ``directory`` the index is saved there; an existing index there is only extended when ``append`` is
    True (its own parameters are kept). ``containment`` also builds the containment ensemble now. Progress is
    ``progress(done, total)`` in documents, phase after phase, each ending with done == total: when appending,
    first re-opening the existing index (its near-duplicate LSH), then hashing, then each LSH structure. Returns
    the index and one IngestError per input or document that could not be used.
    """
    if corpus and all(isinstance(d, Document) for d in corpus):
        documents, errors = list(corpus), []
    else:
        documents, errors = read_corpus(corpus, text_column=text_column, id_column=id_column, limits=limits)
    existing = directory is not None and (Path(directory) / MANIFEST_NAME).exists()
    if existing and not append:
        raise OverlapIndexError(f"{directory} already holds an overlap index; add to it with append (--append) "
                                "or choose a new folder.")
    if existing:
        index = load_index(directory, storage_config=storage_config, progress=progress)
    else:
        index = OverlapIndex(params, storage_config=storage_config)
    report = index.add_documents(documents, progress=progress, should_stop=should_stop)
    errors.extend(IngestError(name, reason) for name, reason in report.skipped.items())
    if len(index) == 0:
        raise OverlapIndexError("No document of the corpus could be read, so no index was built.")
    if not report.stopped:
        index.prepare(containment=containment, progress=progress)
    if directory is not None:
        index.save(directory)
    return index, errors


MATCH_COLUMNS = ["document", "match", "match_id", "found_by", "jaccard_est", "containment_est", "jaccard_exact",
                 "containment_exact", "match_containment_exact", "shared_ngrams", "query_ngrams", "match_ngrams",
                 "longest_span_words", "longest_span", "verified"]
SPAN_COLUMNS = ["document", "match", "match_id", "rank", "words", "query_start", "query_end", "match_start",
                "match_end", "text"]


@dataclass
class OverlapResult:
    """Query results: ``matches`` (one row per document and matching corpus document, MATCH_COLUMNS), ``spans``
    (one row per matching span, SPAN_COLUMNS, character offsets into the query and the corpus text), and one
    sentence per query document that could not be compared."""

    matches: pd.DataFrame
    spans: pd.DataFrame
    errors: dict[str, str]


def query_index(index: OverlapIndex, documents: Sequence[Document], *, min_jaccard: float | None = None,
                min_containment: float | None = None, containment: bool = True, only_verified: bool = True,
                max_candidates: int = 50, max_spans: int = 5, progress: ProgressFn | None = None,
                should_stop: StopFn | None = None, on_row: Callable[[dict], None] | None = None) -> OverlapResult:
    """Find corpus documents that near-duplicate or contain each query document, verified exactly.

    Candidates come from the LSH (Jaccard) and, with ``containment``, the LSH Ensemble; each gets MinHash
    estimates (``jaccard_est``, ``containment_est`` = share of the query's n-grams estimated inside the match),
    then exact n-gram Jaccard / containment from the stored text and its longest matching spans. A match is
    ``verified`` when its exact Jaccard >= ``min_jaccard`` or exact containment >= ``min_containment`` (defaults:
    the index's thresholds); with ``only_verified`` the others are left out. At most ``max_candidates`` candidates
    per document are verified, best estimate first. ``progress(done, total)`` counts query documents,
    ``should_stop()`` ends early, ``on_row(row)`` receives each match row as it is ready.
    """
    p = index.params
    min_jaccard = p.jaccard_threshold if min_jaccard is None else min_jaccard
    min_containment = p.containment_threshold if min_containment is None else min_containment
    documents = unique_names(documents)
    if len(index):
        index.prepare(containment=containment)
    rows, span_rows, errors = [], [], {}
    for done, doc in enumerate(documents, start=1):
        if should_stop is not None and should_stop():
            break
        q_words = words(doc.text)
        q_hashes = shingle_hashes(shingles(q_words, p.ngram))
        if len(q_hashes) == 0:
            errors[doc.name] = f"{doc.name}: it has no words to compare."
        elif len(index):
            signature = minhash_signatures([q_hashes], p.num_perm, p.seed)[0]
            found = index.candidates(signature, len(q_hashes), containment=containment)
            ids = np.array(sorted(found), dtype=np.int64)
            j_est = estimated_jaccard(signature, index._signatures[ids]) if len(ids) else np.empty(0)
            c_est = containment_from_jaccard(j_est, len(q_hashes), index._sizes[ids]) if len(ids) else np.empty(0)
            order = np.lexsort((ids, -np.maximum(j_est, c_est)))[:max_candidates]
            for k in order:
                doc_id = int(ids[k])
                match_text = index.document_text(doc_id)
                exact = exact_overlap(q_words, words(match_text), p.ngram)
                verified = exact["jaccard"] >= min_jaccard or exact["containment"] >= min_containment
                if only_verified and not verified:
                    continue
                spans = matching_spans(doc.text, match_text, min_words=min(p.ngram, len(q_words)),
                                       max_spans=max_spans)
                name = index.document_name(doc_id)
                for rank, s in enumerate(spans, start=1):
                    span_rows.append({"document": doc.name, "match": name, "match_id": doc_id, "rank": rank,
                                      "words": s.words, "query_start": s.query_start, "query_end": s.query_end,
                                      "match_start": s.match_start, "match_end": s.match_end,
                                      "text": doc.text[s.query_start: s.query_end]})
                row = {"document": doc.name, "match": name, "match_id": doc_id, "found_by": found[doc_id],
                       "jaccard_est": float(j_est[k]), "containment_est": float(c_est[k]),
                       "jaccard_exact": exact["jaccard"], "containment_exact": exact["containment"],
                       "match_containment_exact": exact["match_containment"], "shared_ngrams": exact["shared"],
                       "query_ngrams": exact["query_ngrams"], "match_ngrams": exact["match_ngrams"],
                       "longest_span_words": spans[0].words if spans else 0,
                       "longest_span": doc.text[spans[0].query_start: spans[0].query_end] if spans else "",
                       "verified": bool(verified)}
                rows.append(row)
                if on_row is not None:
                    on_row(row)
        if progress is not None:
            progress(done, len(documents))
    matches = pd.DataFrame(rows, columns=MATCH_COLUMNS)
    if len(matches):
        matches = matches.sort_values(["document", "containment_exact", "jaccard_exact"],
                                      ascending=[True, False, False], kind="stable").reset_index(drop=True)
    return OverlapResult(matches=matches, spans=pd.DataFrame(span_rows, columns=SPAN_COLUMNS), errors=errors)


def jaccard_standard_error(jaccard: float, num_perm: int) -> float:
    """Standard error of a MinHash Jaccard estimate: sqrt(J (1 - J) / num_perm)."""
    return math.sqrt(max(jaccard * (1.0 - jaccard), 0.0) / num_perm)
