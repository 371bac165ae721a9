"""Giving a model's memory back once a caller is done with it (several models questioned one after another)."""

from __future__ import annotations

import gc


def release_model(model: object) -> None:
    """Close what ``model`` holds open (a backend with a ``close`` method: a server session, an engine) and return
    freed accelerator memory to the device. The caller must drop its own references to ``model`` first or right
    after; weights still referenced elsewhere (a dashboard's cached model) stay loaded."""
    close = getattr(model, "close", None)
    if callable(close):
        close()
    gc.collect()
    try:
        import torch
    except ImportError:  # a backend without torch has no accelerator cache to empty
        return
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
