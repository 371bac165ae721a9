"""The one model interface. Everything outside ``lm/`` reaches a language model through these methods, never
through its network or tokenizer, so a new backend (a served model, an API) is a new module that implements them.

Capabilities say what a backend can return; a score states which it needs (scores/registry.py), and a score whose
need is missing is refused with a sentence that names the backend and the capability.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from .token_stats import ScoringSettings, TokenStats

# What a backend can return (design.md, "Backends and what each can prove").
LOGPROBS = "logprobs"  # log-probability of each observed token
RANKS = "ranks"  # rank of each observed token in the next-token distribution
TOP_K = "top_k"  # the most likely alternatives at each position
MOMENTS = "moments"  # mean and standard deviation of log p over the whole vocabulary (Min-K%++)
GRADIENTS = "gradients"  # gradients of the loss with respect to the weights (white-box)
GENERATION = "generation"  # greedy and sampled continuations
CAPABILITIES = (LOGPROBS, RANKS, TOP_K, MOMENTS, GRADIENTS, GENERATION)
CAPABILITY_WORDS = {
    LOGPROBS: "the log-probability of each token of a given text",
    RANKS: "the exact rank of each token in the next-token distribution",
    TOP_K: "the most likely alternatives at each position (top-k)",
    MOMENTS: "the mean and spread of log-probabilities over the whole vocabulary (full next-token distributions)",
    GRADIENTS: "gradients of the loss with respect to the weights",
    GENERATION: "generated text",
}


@runtime_checkable
class LanguageModel(Protocol):
    """What the rest of the code needs from a model.

    ``identity`` changes whenever the numbers may differ (other weights, other precision, a fine-tuned copy), so
    caches key on it. ``context_length`` is the longest sequence it accepts, in tokens.
    """

    name: str
    spec: str
    identity: str
    context_length: int
    capabilities: frozenset[str]
    backend: str  # the backend prefix of lm/backends/: hf, vllm, openai, chat

    def describe(self) -> dict:
        """Plain facts for display: name, parameters, context length, device, precision."""

    def tokenize(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Token ids (n,) and character offsets (n, 2) of ``text`` with the tokenizer's own defaults."""

    def count_tokens(self, text: str, *, special_tokens: bool = True) -> int:
        """Number of tokens of ``text`` (with or without the special tokens the tokenizer adds)."""

    def same_tokenizer(self, other: LanguageModel) -> bool:
        """True when both models split every text into the same tokens (same vocabulary)."""

    def token_text(self, token_id: int) -> str:
        """The text of one token id."""

    @property
    def vocab_size(self) -> int:
        """Number of token ids (the size of a token-frequency table, DC-PDD's smoothing)."""

    def token_statistics(self, texts: Sequence[str], settings: ScoringSettings = ScoringSettings(), *,
                         progress: Callable[[int, int], None] | None = None,
                         should_stop: Callable[[], bool] | None = None,
                         observer: LanguageModel | None = None) -> list[TokenStats]:
        """TokenStats of each text, in input order (see lm/statistics.py for the conventions)."""

    def iter_token_statistics(self, texts: Sequence[str], settings: ScoringSettings = ScoringSettings(), *,
                              progress: Callable[[int, int], None] | None = None,
                              should_stop: Callable[[], bool] | None = None, observer: LanguageModel | None = None,
                              **engine_options) -> Iterator[tuple[int, TokenStats]]:
        """``(index, TokenStats)`` as each text is finished, in any order; ``engine_options`` tune batching."""

    def gradient_norms(self, text: str, settings: ScoringSettings = ScoringSettings()) -> np.ndarray:
        """L-infinity norm of d NLL / d theta per parameter tensor, shape (n_tensors,)."""

    def greedy_continuations(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        """The greedy continuation of each prompt (new text only), in input order."""

    def sampled_continuations(self, prompt: str, *, num_samples: int, max_new_tokens: int, temperature: float = 1.0,
                              top_p: float = 1.0, top_k: int = 0, seed: int = 0) -> list[str]:
        """``num_samples`` sampled continuations of ``prompt`` (new text only), reproducible for a ``seed``."""


def check_sampling(num_samples: int, temperature: float) -> None:
    """Refuse, with a sentence, a sampling request every backend refuses: no samples, or a temperature <= 0."""
    if num_samples < 1:
        raise ValueError("Ask for at least one sample.")
    if temperature <= 0:
        raise ValueError(f"The sampling temperature must be positive; got {temperature}.")


class MissingCapability(ValueError):
    """A model cannot provide what a score needs; the message names the model and the capability."""


def require(model: LanguageModel, capability: str, what: str) -> None:
    """Raise MissingCapability with a sentence naming the model, its backend and the missing capability unless
    ``model`` declares ``capability`` (``what`` needs it)."""
    if capability not in model.capabilities:
        raise MissingCapability(missing_sentence(model, capability, what))


def missing_sentence(model: LanguageModel, capability: str, what: str) -> str:
    """'<what> needs <capability in words> (<capability>), which the <backend> backend does not return for
    <name> (<spec>).'"""
    backend = getattr(model, "backend", "hf")
    return (f"{what} needs {CAPABILITY_WORDS.get(capability, capability)} ({capability.replace('_', '-')}), which "
            f"the {backend} backend does not return for {model.name} ({model.spec}).")
