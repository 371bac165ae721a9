"""The overlap index: MinHash signatures of a corpus, its texts, the datasketch LSH structures built from them and
the exact-excerpt index (winnowed n-gram fingerprints, ``exact``); building one from a corpus and opening a saved
one."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH, MinHashLSHEnsemble
from datasketch.lshensemble_partition import optimal_partitions

from ..documents import Document, IngestError, IngestLimits
from ..documents.corpus import CORPUS_LIMITS, read_corpus
from ..documents.words import words
from . import exact
from .index_folder import (FORMAT_NAME, FORMAT_VERSION, MANIFEST_NAME, OverlapIndexError, Shard, clean_folder,
                           damaged_index_error, folder_lock, load_shard, new_shard_name, read_manifest,
                           remove_orphans, write_manifest, write_shard)
from .minhash import SCHEME, TOKENIZER_NAME, minhash_signatures, permutations, shingle_hashes, shingles
from .storage import (check_manifest_storage, check_storage_config, manifest_location, public_storage,
                      redis_delete_prefix, redis_int, redis_params)

_LSH_BUFFER = 10_000  # documents per insertion session (one Redis pipeline flush)


ProgressFn = Callable[[int, int], None]
StopFn = Callable[[], bool]


@dataclass(frozen=True)
class IndexParams:
    """Settings fixed when an index is created (every document in it is hashed the same way).

    ngram: words per shingle. num_perm: MinHash permutations (the standard error of an estimated Jaccard J is
    about sqrt(J (1 - J) / num_perm)). seed: MinHash permutation seed. jaccard_threshold: the MinHashLSH
    near-duplicate threshold. containment_threshold: the MinHashLSHEnsemble containment threshold.
    ensemble_partitions, ensemble_max_r: datasketch's ``num_part`` and ``m`` for the ensemble (every document sits
    in one partition). ensemble_recall_weight: weight of false negatives when datasketch picks the ensemble's bands
    (0.5 = its default). At 0.5 a query is found reliably inside documents up to about twice its length by MinHash;
    a text mostly (not wholly) inside a document 5-20 times longer (Jaccard 0.05-0.2) needs about 0.9, which stores
    about 3.5 times as many LSH entries per document (memory); verbatim excerpts are found by the exact-excerpt
    index at any setting. exact_min_words: every verbatim passage of at least this many words that a
    queried document shares with a corpus document is found by the exact-excerpt index, however much longer the
    corpus document is (winnowing with a window of ``exact_min_words - ngram + 1`` n-grams: about
    ``2 / (window + 1)`` fingerprints of 12 bytes per corpus word); at least ``ngram``. The default, 10, is twice
    the default n-gram size.
    """

    ngram: int = 5
    num_perm: int = 128
    seed: int = 1
    jaccard_threshold: float = 0.5
    containment_threshold: float = 0.8
    ensemble_partitions: int = 16
    ensemble_max_r: int = 4
    ensemble_recall_weight: float = 0.5
    exact_min_words: int = 10

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
        m = self.exact_min_words
        if not isinstance(m, int) or isinstance(m, bool) or not self.ngram <= m <= 1000:
            raise ValueError(f"The shortest verbatim passage always found must be a whole number of words from the "
                             f"n-gram size ({self.ngram}) to 1000; got {m!r}.")
        return self



@dataclass
class AddReport:
    """What ``add_documents`` did: documents added, those skipped (name -> reason), seconds (of which
    ``exact_seconds`` went to the exact-excerpt index's fingerprints), and whether it was stopped early by
    ``should_stop``."""

    added: int
    skipped: dict[str, str]
    seconds: float
    stopped: bool = False
    exact_seconds: float = 0.0


class OverlapIndex:
    """MinHash signatures of a reference corpus, its texts, and datasketch LSH structures built from them.

    Create one with ``OverlapIndex(params)`` or ``build_index``, open a saved one with ``load_index``. The
    near-duplicate ``MinHashLSH`` is kept up to date as documents are added; the containment ``MinHashLSHEnsemble``
    (which datasketch can only build in one go) is built on first use and rebuilt after additions; ``prepare``
    builds both up front with progress.
    """

    def __init__(self, params: IndexParams = IndexParams(), *, storage_config: dict | None = None):
        self.params = params.validate()
        self.storage_config = check_storage_config(storage_config)
        self.uuid = uuid.uuid4().hex
        self.path: Path | None = None
        self.created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self._perms = permutations(params.num_perm, params.seed)
        self._signatures = np.empty((0, params.num_perm), dtype=np.uint32)
        self._sizes = np.empty(0, dtype=np.int64)
        self._names: list[str] = []
        self._shards: list[Shard] = []
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

    @property
    def exact_nbytes(self) -> int:
        """Bytes held by the exact-excerpt index (every shard's fingerprint arrays)."""
        return sum(sh.fingerprints.nbytes for sh in self._shards)

    def exact_candidates(self, fingerprints: np.ndarray,
                         limit: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
        """Documents sharing any of a query's winnowed ``fingerprints`` (``exact.text_fingerprints``): (document
        ids, shared fingerprint counts), most shared first, at most ``limit``, and how many share any."""
        return exact.lookup_shards([sh.fingerprints for sh in self._shards], self._starts[:-1], fingerprints, limit)

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
        """Hash documents and add them (in memory; ``save`` writes them to disk as a new shard): MinHash signatures
        and exact-excerpt fingerprints. The LSH structures catch up on the next ``prepare`` or query.

        ``progress(done, total)`` counts documents; ``should_stop()`` is checked between batches of
        ``batch_size`` documents, and what was hashed before it returned True stays added. Documents without
        any word are skipped and reported.
        """
        t0 = time.time()
        skipped: dict[str, str] = {}
        total, done, stopped = len(documents), 0, False
        texts: list[str] = []
        names: list[str] = []
        blocks: list[tuple[exact.Fingerprints, int]] = []
        word_cache = exact.WordHashes()
        exact_seconds = 0.0
        for lo in range(0, total, batch_size):
            if should_stop is not None and should_stop():
                stopped = True
                break
            batch = documents[lo: lo + batch_size]
            hash_sets, word_lists = [], []
            for doc in batch:
                tokens = words(doc.text)
                hashes = shingle_hashes(shingles(tokens, self.params.ngram))
                if len(hashes) == 0:
                    skipped[doc.name] = "it has no words to compare."
                    continue
                hash_sets.append(hashes)
                word_lists.append(tokens)
                texts.append(doc.text)
                names.append(doc.name)
            if hash_sets:
                t1 = time.perf_counter()
                blocks.append((exact.Fingerprints.from_texts(word_lists, self.params.ngram,
                                                             self.params.exact_min_words, word_cache),
                               len(texts) - len(word_lists)))
                exact_seconds += time.perf_counter() - t1
                self._signatures = np.concatenate(
                    [self._signatures, minhash_signatures(hash_sets, self.params.num_perm, self.params.seed)])
                self._sizes = np.concatenate([self._sizes, [len(h) for h in hash_sets]])
            done += len(batch)
            if progress is not None:
                progress(done, total)
        if texts:
            self._names.extend(names)
            t1 = time.perf_counter()
            fingerprints = exact.Fingerprints.concatenate(blocks)
            exact_seconds += time.perf_counter() - t1
            self._shards.append(Shard(name=new_shard_name(len(self._shards)), n=len(texts), texts=texts,
                                      fingerprints=fingerprints))
            self._starts = np.append(self._starts, self._starts[-1] + len(texts))
        return AddReport(added=len(texts), skipped=skipped, seconds=time.time() - t0, stopped=stopped,
                         exact_seconds=exact_seconds)

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
                stored = redis_int(self._redis(), f"{self.redis_prefix}:lsh:count")
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
                redis_delete_prefix(self._redis(), f"{self.redis_prefix}:ens:")
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

            self._pool = redis.ConnectionPool(**redis_params(self.storage_config["redis"]))
        return self._pool

    def _redis(self):
        import redis

        return redis.Redis(connection_pool=self._connection_pool())

    def drop_storage(self) -> int:
        """Delete every Redis key of this index (its LSH tables); return how many were deleted. No-op in memory."""
        self._lsh, self._lsh_count, self._ensemble, self._ensemble_count = None, 0, None, -1
        if not self.storage_config:
            return 0
        return redis_delete_prefix(self._redis(), f"{self.redis_prefix}:")

    # -- saving --------------------------------------------------------------------------------------------------

    def save(self, directory: str | Path | None = None) -> Path:
        """Write the index to a folder (created if needed) and return it.

        Into its own folder only new documents are written (as one new shard); into another folder everything is
        written. The manifest is replaced atomically, so a crash never leaves a half-written index behind; the
        folder is locked while writing, and shard files no manifest lists (left by a killed build, or by this save
        failing half-way) are removed.
        """
        directory = Path(directory) if directory is not None else self.path
        if directory is None:
            raise OverlapIndexError("Choose a folder to save the index in.")
        if directory.exists() and not directory.is_dir():
            raise OverlapIndexError(f"{directory} is a file; an index is saved as a folder.")
        manifest_path = directory / MANIFEST_NAME
        if manifest_path.exists() and directory != self.path:
            other = read_manifest(directory)
            if other.get("uuid") != self.uuid:
                raise OverlapIndexError(f"{directory} already holds another overlap index; open it to add "
                                        "documents, or choose an empty folder.")
        directory.mkdir(parents=True, exist_ok=True)
        with folder_lock(directory):
            return self._save_locked(directory)

    def _save_locked(self, directory: Path) -> Path:
        before = [(shard, (shard.directory, shard.offsets, shard.texts, shard.files)) for shard in self._shards]
        try:
            for number, shard in enumerate(self._shards):
                if shard.directory != directory:
                    write_shard(shard, directory, self._signatures, self._sizes, self._names, self._starts, number)
        except BaseException:
            for shard, (folder, offsets, texts, files) in before:  # the shards are as they were before this save
                shard.directory, shard.offsets, shard.texts, shard.files = folder, offsets, texts, files
            remove_orphans(directory)  # this save's shard files, which no manifest lists
            raise
        manifest = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "uuid": self.uuid,
            "created": self.created,
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "tokenizer": TOKENIZER_NAME,
            "minhash": {"scheme": SCHEME, "hash": "sha1_hash32"},
            "exact": {"hash": exact.HASH_NAME,
                      "window": exact.window_size(self.params.ngram, self.params.exact_min_words)},
            "params": asdict(self.params),
            "documents": len(self),
            "storage": public_storage(self.storage_config),
            "shards": [{"name": sh.name, "documents": sh.n, "files": sh.files} for sh in self._shards],
        }
        write_manifest(directory, manifest)
        remove_orphans(directory, manifest)
        self.path = directory
        return directory



def load_index(directory: str | Path, *, storage_config: dict | None = None,
               progress: ProgressFn | None = None) -> OverlapIndex:
    """Open a saved index: check every file against its SHA-256 and shape, then rebuild the near-duplicate LSH.

    ``storage_config`` is where the LSH tables go, as the user chose it (None: nothing chosen, i.e. in memory). The
    storage recorded in the manifest is never used to connect anywhere: when it names a Redis server and the user
    chose nothing, the index is refused with a sentence (pass that server, or {'type': 'dict'} for memory). With
    Redis, LSH tables already there for this index are reused and only missing documents are inserted. Raises
    OverlapIndexError with a sentence when the folder is missing, foreign, damaged (the whole manifest is checked
    against its checksum) or from another format version. No file is unpickled (``np.load(...,
    allow_pickle=False)``, JSON otherwise).
    """
    directory = Path(directory)
    if not directory.is_dir():
        if directory.is_file():
            raise OverlapIndexError(f"{directory} is a file; an overlap index is a folder holding {MANIFEST_NAME}.")
        raise OverlapIndexError(f"There is no overlap index at {directory} (no such folder).")
    if not (directory / MANIFEST_NAME).is_file():
        raise OverlapIndexError(f"{directory} is not an overlap index folder (it has no {MANIFEST_NAME}); build "
                                "one with 'python -m provenance overlap build'.")
    manifest = read_manifest(directory)
    clean_folder(directory)  # shard files a killed build left behind, unless another process is writing now
    try:
        params = IndexParams(**manifest["params"]).validate()
        if manifest.get("tokenizer") != TOKENIZER_NAME or manifest.get("minhash", {}).get("scheme") != SCHEME:
            raise ValueError("it was hashed with another tokenizer or MinHash scheme")
        if manifest.get("exact") != {"hash": exact.HASH_NAME,
                                     "window": exact.window_size(params.ngram, params.exact_min_words)}:
            raise ValueError("its exact-excerpt index was hashed another way")
        entries = manifest["shards"]
        n_docs = int(manifest["documents"])
        if not isinstance(entries, list) or not re.fullmatch(r"[0-9a-f]{32}", str(manifest["uuid"])):
            raise ValueError("the shard list or identifier is malformed")
        recorded_storage = manifest.get("storage")
        manifest_location(recorded_storage)  # its shape only; nothing is connected
    except (KeyError, TypeError, ValueError) as exc:
        raise damaged_index_error(directory, f"its manifest is incomplete ({exc})") from exc
    try:
        config = check_manifest_storage(recorded_storage, storage_config, str(directory))
    except ValueError as exc:
        raise OverlapIndexError(str(exc)) from exc
    index = OverlapIndex(params, storage_config=config)
    index.uuid, index.created = manifest["uuid"], str(manifest.get("created", ""))
    sigs, sizes, names = [], [], []
    for entry in entries:
        shard = load_shard(directory, entry, params)
        sig, size, shard_names = shard.pop("signatures"), shard.pop("sizes"), shard.pop("names")
        sigs.append(sig)
        sizes.append(size)
        names.extend(shard_names)
        index._shards.append(Shard(**shard))
    if len(names) != n_docs:
        raise damaged_index_error(directory, f"the manifest lists {n_docs} documents but the shards hold {len(names)}")
    if sigs:
        index._signatures = np.concatenate(sigs)
        index._sizes = np.concatenate(sizes)
    index._names = names
    index._starts = np.concatenate([[0], np.cumsum([sh.n for sh in index._shards])]).astype(np.int64)
    index.path = directory
    index._update_lsh(progress)
    return index



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
    if not isinstance(corpus, (str, Path)) and corpus and all(isinstance(d, Document) for d in corpus):
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
