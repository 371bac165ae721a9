"""Where provenance keeps its files: one place, one set of environment variables.

- ``PROVENANCE_CACHE`` (default ``~/.cache/provenance``): converted models, cached token statistics, cached ghost
  null draws, saved corpus indexes, and the investigations database;
- ``PROVENANCE_STORE``: the investigations database itself, when it should live elsewhere.

Nothing here creates folders; the code that writes a file creates its folder.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "PROVENANCE_CACHE"
STORE_ENV = "PROVENANCE_STORE"


def cache_root() -> Path:
    """``$PROVENANCE_CACHE``, else ``~/.cache/provenance``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "provenance"


def models_dir() -> Path:
    """Converted models (GGUF de-quantised once into safetensors folders)."""
    return cache_root() / "models"


def statistics_cache_dir() -> Path:
    """The disk tier of the token-statistics cache (lm/cache.py)."""
    return cache_root() / "stats"


def ghost_null_cache_dir() -> Path:
    """Null draws of ghost-sentence tests, per model and generator (ghost/detection.py)."""
    return cache_root() / "ghost_nulls"


def indexes_dir() -> Path:
    """Where corpus overlap indexes are saved unless the user names a folder."""
    return cache_root() / "indexes"


def store_path() -> Path:
    """The investigations database: ``$PROVENANCE_STORE``, else ``investigations.sqlite`` in the cache root (so
    moving the cache with ``PROVENANCE_CACHE`` moves the store too)."""
    path = os.environ.get(STORE_ENV)
    return Path(path).expanduser() if path else cache_root() / "investigations.sqlite"
