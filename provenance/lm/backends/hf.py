"""The exact backend: a Hugging Face causal LM run by this process (lm/loading.py, lm/statistics.py). It returns
the full next-token distribution at every position, so every score is computed exactly."""

from __future__ import annotations

from ..interface import CAPABILITIES as ALL

PREFIX = "hf"
CAPABILITIES = frozenset(ALL)
SUMMARY = "local Hugging Face model run here (exact: every score)"


def load(rest: str, *, spec: str | None = None, device=None, dtype=None, trust_remote_code: bool = False,
         allow_pickle: bool = False, **_ignored):
    """``rest`` is what follows ``hf:`` (or the whole spec without a prefix): 'default', a folder, a .gguf file or
    a hub id. The loaded model keeps the spec as the user wrote it."""
    from ..loading import load_model as load_hf

    model = load_hf(rest, device=device, dtype=dtype, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    if spec and spec != rest:
        model.spec = spec
    return model
