"""Backends: one module per way of reaching a model, chosen by the prefix of the model spec.

``load_model(spec)`` is the ONE place a model spec is parsed (the CLI's ``--model`` / ``--ref-model`` /
``--observer``, the sidebar picker, the benches and any engine that loads several models call it):

- ``default``, a local folder, a ``.gguf`` file or a hub id: the exact ``hf`` backend (as before);
- ``hf:SPEC``: the same, named explicitly;
- ``vllm:SPEC``: vLLM's offline engine in this process (lm/backends/vllm.py);
- ``openai:BASE_URL#MODEL``: an OpenAI-compatible ``/v1/completions`` server that echoes prompt log-probabilities
  (lm/backends/openai.py), e.g. ``openai:http://127.0.0.1:8000/v1#default``;
- ``chat:BASE_URL#MODEL``: a chat API, generation only (lm/backends/chat.py).

A backend is a module in this folder with ``PREFIX`` (the spec prefix), ``CAPABILITIES`` (what it can return,
lm/interface.py), ``SUMMARY`` (one line for people) and ``load(rest, **options) -> LanguageModel``. Adding a backend
means adding a file: the registry below finds every module of the folder. Modules import their heavy dependencies
(torch, vllm, httpx) inside ``load`` so that listing the backends stays cheap.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ..loading import DEFAULT_SPEC, ModelLoadError

HF = "hf"
_PREFIX = re.compile(r"^([a-z][a-z0-9_]*):(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Backend:
    """One backend as the registry knows it (see the module docstring)."""

    prefix: str
    capabilities: frozenset[str]
    summary: str
    module: ModuleType


def _discover() -> dict[str, Backend]:
    found: dict[str, Backend] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        prefix = getattr(module, "PREFIX", None)
        if prefix is None:
            continue  # a helper module, not a backend
        if prefix in found:
            raise RuntimeError(f"Two backend modules claim the prefix '{prefix}'.")
        found[prefix] = Backend(prefix, frozenset(module.CAPABILITIES), module.SUMMARY, module)
    return found


_BACKENDS: dict[str, Backend] | None = None


def backends() -> dict[str, Backend]:
    """Every backend, keyed by its spec prefix (discovered once)."""
    global _BACKENDS
    if _BACKENDS is None:
        _BACKENDS = _discover()
    return _BACKENDS


def parse_spec(spec: str) -> tuple[str, str]:
    """Split a model spec into (backend prefix, the rest). A spec without a known prefix is an ``hf`` spec.

    A local path that exists is always ``hf``, even if its name contains a colon; an unknown prefix on something
    that is not a path is refused with the list of known ones.
    """
    spec = (spec or "").strip()
    if not spec:
        raise ModelLoadError("The model spec is empty: give 'default', a model folder, a hub id, or one of "
                             + ", ".join(f"'{p}:...'" for p in backends()) + ".")
    match = _PREFIX.match(spec)
    if match is None or Path(spec).expanduser().exists():
        return HF, spec
    prefix, rest = match.group(1), match.group(2).strip()
    if prefix in ("http", "https"):
        raise ModelLoadError(f"'{spec}' is a web address, not a model spec: write 'openai:{spec}#MODEL' for an "
                             f"OpenAI-compatible completions server or 'chat:{spec}#MODEL' for a chat API.")
    if prefix not in backends():
        raise ModelLoadError(f"Unknown model backend '{prefix}' in '{spec}'. Known backends: "
                             + ", ".join(sorted(backends())) + ".")
    if not rest:
        raise ModelLoadError(f"The model spec '{spec}' names the {prefix} backend but no model after the colon.")
    return prefix, rest


def backend_of(spec: str) -> Backend:
    """The backend a spec selects."""
    return backends()[parse_spec(spec)[0]]


def load_model(spec: str = DEFAULT_SPEC, **options):
    """Load the model a spec names through its backend (see the module docstring). ``options`` are those of the
    backend's ``load`` (``device``, ``dtype``, ``trust_remote_code`` ...); options a backend does not use are
    ignored, so callers pass the same ones for every spec. Errors are ModelLoadError sentences."""
    prefix, rest = parse_spec(spec)
    return backends()[prefix].module.load(rest, spec=spec, **options)


def split_url_model(rest: str, prefix: str) -> tuple[str, str]:
    """``BASE_URL#MODEL`` -> (base URL without a trailing slash, model name); a sentence when either is missing."""
    url, sep, model = rest.rpartition("#")
    if not sep or not url.strip() or not model.strip():
        raise ModelLoadError(f"Write the {prefix} spec as '{prefix}:BASE_URL#MODEL', for example "
                             f"'{prefix}:http://127.0.0.1:8000/v1#default'; got '{prefix}:{rest}'.")
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise ModelLoadError(f"The {prefix} base URL must start with http:// or https://; got '{url}'.")
    return url, model.strip()
