"""``chat:BASE_URL#MODEL``: a chat API (``/v1/chat/completions``), generation only.

A chat API returns generated text and nothing about the likelihood of a given text, so only the black-box methods
work: the last-k words ghost test and the n-gram coverage attack. Every score that needs log-probabilities, ranks,
moments or gradients is refused with a sentence naming the backend and what it lacks.

A chat model answers messages rather than continuing text, so each prompt is sent as the user's message after a
system message asking for the continuation only (``CONTINUE_INSTRUCTION``). Greedy decoding is ``temperature=0``;
sampling sends ``temperature``, ``top_p``, ``seed`` and ``n`` (and ``top_k`` when asked, which vLLM and SGLang
accept). How many tokens a text has is not known without the model's tokenizer: ``count_tokens`` asks the server's
``/tokenize`` (vLLM, SGLang) and otherwise uses the upper estimate of one token per 3 characters, which only sizes
generation budgets.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..interface import GENERATION, LOGPROBS, MissingCapability, check_sampling, require
from ..token_stats import ScoringSettings
from ._http import ApiClient, ClientSettings, ServerError, model_entry

PREFIX = "chat"
CAPABILITIES = frozenset({GENERATION})
SUMMARY = "chat API (/v1/chat/completions): generated text only (last-k ghost test, n-gram coverage)"
CONTINUE_INSTRUCTION = ("Continue the text the user sends, exactly where it stops. Reply with the continuation "
                        "only: no quotation marks, no comment, no repetition of the user's text.")
DEFAULT_CONTEXT = 2048


def load(rest: str, *, spec: str | None = None, client_settings: ClientSettings | None = None, **_ignored):
    from . import split_url_model

    base_url, model = split_url_model(rest, PREFIX)
    return ChatModel(base_url, model, spec=spec or f"{PREFIX}:{rest}", client_settings=client_settings)


class ChatModel:
    """A chat model reached over HTTP (see the module docstring)."""

    backend = PREFIX
    capabilities = CAPABILITIES

    def __init__(self, base_url: str, model: str, *, spec: str, client_settings: ClientSettings | None = None):
        self.base_url, self.model_name, self.spec, self.name = base_url, model, spec, model
        self.client = ApiClient(base_url, client_settings or ClientSettings())
        facts = model_entry(self.client, self.model_name)
        max_len = facts.get("max_model_len")
        self.context_length = int(max_len) if isinstance(max_len, int) and max_len > 1 else DEFAULT_CONTEXT
        self.identity = hashlib.sha256(f"{PREFIX}|{base_url}|{model}|{facts.get('root')}".encode()).hexdigest()[:24]
        self._tokenize_url: str | None = re.sub(r"/v1$", "", base_url) + "/tokenize"

    def describe(self) -> dict:
        return {"name": self.name, "spec": self.spec, "parameters": 0, "parameters_human": "unknown",
                "context_length": self.context_length, "device": f"chat API {self.base_url}", "dtype": "as served",
                "source": PREFIX, "backend": PREFIX}

    # -- what a chat API cannot do: refused with the reason --------------------------------------------------------
    def tokenize(self, text: str):
        require(self, LOGPROBS, "Per-token statistics")

    def token_text(self, token_id: int) -> str:
        return f"<token {int(token_id)}>"

    def same_tokenizer(self, other) -> bool:
        return False

    def token_statistics(self, texts, settings: ScoringSettings = ScoringSettings(), **_options):
        require(self, LOGPROBS, "Likelihood scores (and the ghost perplexity test)")

    def iter_token_statistics(self, texts, settings: ScoringSettings = ScoringSettings(), **_options):
        require(self, LOGPROBS, "Likelihood scores (and the ghost perplexity test)")

    def gradient_norms(self, text: str, settings: ScoringSettings = ScoringSettings()) -> np.ndarray:
        raise MissingCapability(f"The gradient norm needs gradients from the model, which {self.name} ({self.spec}) "
                                "does not provide: a chat API returns generated text only.")

    def count_tokens(self, text: str, *, special_tokens: bool = True) -> int:
        """Tokens of ``text`` by the server's /tokenize, else an upper estimate (one per 3 characters)."""
        if self._tokenize_url is not None:
            try:
                body = self.client.post_absolute(self._tokenize_url, {"model": self.model_name, "prompt": text,
                                                                      "add_special_tokens": special_tokens})
                if isinstance(body, dict) and isinstance(body.get("count"), int):
                    return int(body["count"])
            except ServerError:
                pass
            self._tokenize_url = None  # no such endpoint here: estimate from now on
        return math.ceil(len(text) / 3) + (1 if special_tokens else 0)

    # -- generation -----------------------------------------------------------------------------------------------
    def _messages(self, prompt: str) -> list[dict]:
        return [{"role": "system", "content": CONTINUE_INSTRUCTION}, {"role": "user", "content": prompt}]

    def _chat(self, prompt: str, max_new_tokens: int, **sampling) -> list[str]:
        if max_new_tokens < 1:
            raise ValueError("Ask for at least one new token.")
        payload = {"model": self.model_name, "messages": self._messages(prompt), "max_tokens": int(max_new_tokens)}
        payload.update({k: v for k, v in sampling.items() if v is not None})
        body = self.client.post("chat/completions", payload)
        try:
            choices = sorted(body["choices"], key=lambda c: c.get("index", 0))
            return [str(c["message"].get("content") or "") for c in choices]
        except (KeyError, TypeError, AttributeError):
            raise ServerError(f"The chat API at {self.base_url} answered without a message.") from None

    def greedy_continuations(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        """The greedy (temperature 0) continuation of each prompt, requests running concurrently, in input order."""
        with ThreadPoolExecutor(max_workers=self.client.settings.concurrency) as pool:
            return list(pool.map(lambda p: self._chat(p, max_new_tokens, temperature=0.0)[0], prompts))

    def sampled_continuations(self, prompt: str, *, num_samples: int, max_new_tokens: int, temperature: float = 1.0,
                              top_p: float = 1.0, top_k: int = 0, seed: int = 0) -> list[str]:
        """``num_samples`` sampled continuations in one request (``n``); the server's ``seed`` makes them
        reproducible where the server honours it."""
        check_sampling(num_samples, temperature)
        out = self._chat(prompt, max_new_tokens, temperature=float(temperature), top_p=float(top_p), seed=int(seed),
                         n=int(num_samples), top_k=int(top_k) if top_k else None)
        if len(out) != num_samples:
            raise ServerError(f"The chat API at {self.base_url} returned {len(out)} samples where {num_samples} "
                              "were asked for.")
        return out
