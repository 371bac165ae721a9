"""Cache of TokenStats keyed by model identity, scoring settings and text hash: the same text twice costs nothing.

Entries live in memory (bounded by a token budget, least recently used evicted first) and, when a directory is
given, on disk as ``.npz`` files of plain arrays (loaded with ``allow_pickle=False``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..files import atomic_writer, sha256_text
from .interface import LanguageModel
from .token_stats import ScoringSettings, TokenStats


def stats_key(model: LanguageModel, text: str, settings: ScoringSettings,
              observer: LanguageModel | None = None) -> str:
    parts = [model.identity, settings.key(model.context_length), observer.identity if observer else "-",
             sha256_text(text)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


class StatsCache:
    """Thread-safe TokenStats cache. ``max_tokens`` bounds the memory tier; ``directory`` adds a disk tier."""

    def __init__(self, directory: str | Path | None = None, max_tokens: int = 2_000_000):
        self.directory = Path(directory) if directory else None
        self.max_tokens = max_tokens
        self._memory: OrderedDict[str, TokenStats] = OrderedDict()
        self._tokens = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str, text: str) -> TokenStats | None:
        with self._lock:
            stats = self._memory.get(key)
            if stats is not None:
                self._memory.move_to_end(key)
                self.hits += 1
                return stats
        stats = self._read_disk(key, text)
        with self._lock:
            if stats is None:
                self.misses += 1
            else:
                self.hits += 1
        if stats is not None:
            self._remember(key, stats)
        return stats

    def put(self, key: str, stats: TokenStats) -> None:
        self._remember(key, stats)
        self._write_disk(key, stats)

    def _remember(self, key: str, stats: TokenStats) -> None:
        with self._lock:
            if key in self._memory:
                return
            self._memory[key] = stats
            self._tokens += stats.n_tokens
            while self._tokens > self.max_tokens and len(self._memory) > 1:
                _, old = self._memory.popitem(last=False)
                self._tokens -= old.n_tokens

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.npz"

    def _read_disk(self, key: str, text: str) -> TokenStats | None:
        if self.directory is None or not self._path(key).is_file():
            return None
        try:
            with np.load(self._path(key), allow_pickle=False) as data:
                return TokenStats(text=text, **{name: data[name] for name in data.files})
        except (OSError, ValueError, TypeError, KeyError):
            return None  # a damaged cache entry is recomputed, never trusted

    def _write_disk(self, key: str, stats: TokenStats) -> None:
        if self.directory is None:
            return
        with atomic_writer(self._path(key)) as handle:  # a reader never sees half an entry
            np.savez(handle, **stats.arrays())


def cached_token_statistics(
    model: LanguageModel,
    texts: Sequence[str],
    settings: ScoringSettings = ScoringSettings(),
    cache: StatsCache | None = None,
    *,
    observer: LanguageModel | None = None,
    on_result: Callable[[int, TokenStats], None] | None = None,
    **kwargs,
) -> list[TokenStats]:
    """Like ``scoring.token_statistics`` but served from ``cache`` where possible; only misses are computed.

    Duplicate texts in one call are computed once. ``on_result(index, stats)`` is called for every text as soon as
    its statistics are available (cached ones first). Other keyword arguments go to the model's
    ``iter_token_statistics`` (for hf models: batching options of lm/statistics.py).
    """
    out: list[TokenStats | None] = [None] * len(texts)
    todo: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        key = stats_key(model, text, settings, observer)
        hit = cache.get(key, text) if cache is not None else None
        if hit is not None:
            out[i] = hit
            if on_result:
                on_result(i, hit)
        else:
            todo.setdefault(key, []).append(i)
    keys = list(todo)
    missing = [texts[todo[k][0]] for k in keys]
    for j, stats in model.iter_token_statistics(missing, settings, observer=observer, **kwargs):
        if cache is not None:
            cache.put(keys[j], stats)
        for i in todo[keys[j]]:
            out[i] = stats
            if on_result:
                on_result(i, stats)
    return out  # type: ignore[return-value]
