"""``openai:BASE_URL#MODEL``: any OpenAI-compatible ``/v1/completions`` server that echoes prompt
log-probabilities (vLLM's server, SGLang, hosted endpoints that still allow ``echo`` with ``logprobs``).

Each text is sent once as the prompt with ``echo=True``, ``logprobs=K`` (the observed token's log-probability and
the K most likely alternatives at every position) and ``max_tokens=0`` (or 1 where a server requires at least one
new token; that token is dropped). vLLM's ``return_tokens_as_token_ids`` is asked for, so tokens come back as ids
(``token_id:N``); a server that ignores it returns token strings, which are given ids local to this process.
Texts longer than the server's context are split into the windows of lm/statistics.py and sent as token ids (ids
from the server's ``/tokenize``, which vLLM and SGLang offer).

On loading, one short probe request checks that the server returns prompt log-probabilities at all: llama.cpp's
server and OpenAI's current models do not (they return none, or only for generated tokens), and such a server is
refused with a sentence rather than scored wrongly. The API key comes from PROVENANCE_OPENAI_API_KEY or
OPENAI_API_KEY (lm/backends/_http.py) and is never stored or shown.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence

import numpy as np

from ..interface import GENERATION, LOGPROBS, TOP_K, check_sampling
from ._http import ApiClient, ClientSettings, ServerError, model_entry
from ._served import PROBE_TEXT, Echo, ServedModel, TooLong, byte_level_offsets, rank_from_top

PREFIX = "openai"
CAPABILITIES = frozenset({LOGPROBS, TOP_K, GENERATION})
SUMMARY = "OpenAI-compatible /v1/completions server with echoed prompt log-probabilities (vLLM, SGLang, hosted)"
DEFAULT_CONTEXT = 2048
_TOKEN_ID = re.compile(r"^token_id:(-?\d+)$")
_TOO_LONG = re.compile(r"context length|maximum context|too long|max_model_len|maximum sequence|exceeds", re.I)

NO_PROMPT_LOGPROBS = ("{where} does not return log-probabilities of the prompt's tokens (echo with logprobs), so "
                      "no likelihood score can be computed from it; llama.cpp's server and OpenAI's current models "
                      "are like this. Use a vLLM or SGLang server, an hf model, or the chat backend for "
                      "generation-only tests. ({detail})")


def load(rest: str, *, spec: str | None = None, client_settings: ClientSettings | None = None, **_ignored):
    from . import split_url_model

    base_url, model = split_url_model(rest, PREFIX)
    return OpenAIModel(base_url, model, spec=spec or f"{PREFIX}:{rest}", client_settings=client_settings)


class OpenAIModel(ServedModel):
    """A model behind an OpenAI-compatible completions endpoint (see the module docstring)."""

    backend = PREFIX

    def __init__(self, base_url: str, model: str, *, spec: str, client_settings: ClientSettings | None = None):
        super().__init__()
        self.base_url, self.model_name, self.spec = base_url, model, spec
        self.name = model
        self.client = ApiClient(base_url, client_settings or ClientSettings())
        self.concurrency = self.client.settings.concurrency
        self.capabilities = CAPABILITIES
        self._ids_option = True
        self._ids_mode = False
        self._has_tokenize: bool | None = None
        self._max_tokens = 0
        facts = model_entry(self.client, self.model_name)
        max_len = facts.get("max_model_len")
        self.server_context = int(max_len) if isinstance(max_len, int) and max_len > 1 else None
        self._probe()
        # vLLM counts at least one new token against max_model_len even with max_tokens=0
        self.context_length = (self.server_context or DEFAULT_CONTEXT) - max(1, self._max_tokens)
        seed = json.dumps({k: facts.get(k) for k in ("id", "root", "max_model_len", "owned_by")}, sort_keys=True)
        self.identity = hashlib.sha256(f"{PREFIX}|{base_url}|{model}|{seed}".encode()).hexdigest()[:24]

    def describe(self) -> dict:
        return {"name": self.name, "spec": self.spec, "parameters": 0, "parameters_human": "unknown",
                "context_length": self.context_length, "device": f"server {self.base_url}", "dtype": "as served",
                "source": PREFIX, "backend": PREFIX}

    # -- requests ----------------------------------------------------------------------------------------------
    def _probe(self) -> None:
        """One short echo: learn whether ``max_tokens=0`` and token ids are accepted, and refuse a server that
        returns no prompt log-probabilities."""
        for ids_option, max_tokens in ((True, 0), (True, 1), (False, 0), (False, 1)):
            self._ids_option, self._max_tokens = ids_option, max_tokens
            try:
                body = self.client.post("completions", self._payload(PROBE_TEXT, 1))
            except ServerError as exc:
                if exc.status == 400 and not _TOO_LONG.search(exc.detail or ""):
                    last = exc
                    continue
                raise
            self._parse(body, PROBE_TEXT, 1)  # raises the sentence when no prompt log-probabilities came back
            return
        raise ServerError(NO_PROMPT_LOGPROBS.format(where=f"The server at {self.base_url}", detail=last.detail),
                          last.status, last.detail)

    def _payload(self, prompt: str | list[int], top_k: int, *, ids: bool | None = None) -> dict:
        payload = {"model": self.model_name, "prompt": prompt, "echo": True, "logprobs": max(int(top_k), 0),
                   "max_tokens": self._max_tokens, "temperature": 0.0}
        if self._ids_option if ids is None else ids:
            payload["return_tokens_as_token_ids"] = True
        return payload

    def _completion(self, prompt: str | list[int], top_k: int, *, ids: bool | None = None) -> dict:
        try:
            return self.client.post("completions", self._payload(prompt, top_k, ids=ids))
        except ServerError as exc:
            if exc.status == 400 and _TOO_LONG.search(exc.detail or ""):
                raise TooLong(exc.detail) from None
            raise

    def _echo_text(self, text: str, top_k: int) -> Echo:
        echo = self._parse(self._completion(text, top_k), text, top_k)
        if self._ids_mode:
            echo.offsets = self._offsets(text, echo.ids)
        return echo

    def _echo_ids(self, ids: Sequence[int], top_k: int) -> Echo:
        return self._parse(self._completion([int(i) for i in ids], top_k), None, top_k)

    def _offsets(self, text: str, ids: np.ndarray) -> np.ndarray:
        """Character offsets of ``ids`` in ``text`` when the echo returned token ids (its text_offset then counts
        the 'token_id:N' strings): from the server's /tokenize vocabulary strings when they are byte-level BPE (as
        Hugging Face's fast tokenizers place them), else from a second echo that returns token strings."""
        remote = self._tokenize(text)
        if remote is not None and np.array_equal(remote[0], ids) and remote[1] is not None:
            return remote[1]
        echo = self._parse(self._completion(text, 0, ids=False), text, 0, ids=False)
        if len(echo.ids) != len(ids):
            raise ServerError(f"The server at {self.base_url} tokenised the same text two ways ({len(ids)} and "
                              f"{len(echo.ids)} tokens), so its offsets cannot be trusted.")
        return echo.offsets

    def tokenize(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Ids and offsets from the server's /tokenize when it has one (no forward pass), else from an echo."""
        remote = self._tokenize(text)
        if remote is not None and remote[1] is not None:
            return remote
        return super().tokenize(text)

    def _root_url(self) -> str:
        return re.sub(r"/v1$", "", self.base_url)

    def _tokenize(self, text: str) -> tuple[np.ndarray, np.ndarray | None] | None:
        """(ids, offsets or None) from the server's /tokenize (vLLM, SGLang), or None where there is none."""
        if self._has_tokenize is False:
            return None
        try:
            body = self.client.post_absolute(self._root_url() + "/tokenize", {
                "model": self.model_name, "prompt": text, "return_token_strs": True})
        except ServerError as exc:
            if exc.status in (404, 405, 501):
                self._has_tokenize = False
                return None
            raise
        tokens = body.get("tokens") if isinstance(body, dict) else None
        if not isinstance(tokens, list) or not all(isinstance(t, int) for t in tokens):
            self._has_tokenize = False
            return None
        self._has_tokenize = True
        strings = body.get("token_strs")
        offsets = byte_level_offsets(text, strings) if isinstance(strings, list) else None
        return np.asarray(tokens, dtype=np.int64), offsets

    def _token_ids_offsets(self, text: str) -> tuple[np.ndarray, np.ndarray | None]:
        remote = self._tokenize(text)
        if remote is None:
            raise ValueError(f"This text is longer than the context of {self.name} ({self.context_length} tokens) "
                             f"and the server at {self.base_url} cannot tokenise it (no /tokenize) for windowed "
                             "scoring. Split the text, or use a vLLM or SGLang server.")
        return remote

    def _detokenize(self, token_id: int) -> str | None:
        try:
            body = self.client.post_absolute(self._root_url() + "/detokenize", {"model": self.model_name,
                                                                               "tokens": [int(token_id)]})
        except ServerError:
            return None
        prompt = body.get("prompt") if isinstance(body, dict) else None
        return prompt if isinstance(prompt, str) else None

    # -- generation (plain completions, no echo) --------------------------------------------------------------------
    def _generate(self, prompt: str, max_new_tokens: int, **sampling) -> list[str]:
        if max_new_tokens < 1:
            raise ValueError("Ask for at least one new token.")
        payload = {"model": self.model_name, "prompt": prompt, "max_tokens": int(max_new_tokens)}
        payload.update({k: v for k, v in sampling.items() if v is not None})
        body = self.client.post("completions", payload)
        try:
            return [str(c.get("text") or "") for c in sorted(body["choices"], key=lambda c: c.get("index", 0))]
        except (KeyError, TypeError, AttributeError):
            raise ServerError(f"The server at {self.base_url} answered without a completion.") from None

    def greedy_continuations(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        """The greedy (temperature 0) continuation of each prompt, ``concurrency`` requests at a time, in order."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda p: self._generate(p, max_new_tokens, temperature=0.0)[0], prompts))

    def sampled_continuations(self, prompt: str, *, num_samples: int, max_new_tokens: int, temperature: float = 1.0,
                              top_p: float = 1.0, top_k: int = 0, seed: int = 0) -> list[str]:
        """``num_samples`` sampled continuations in one request (``n``, the server's ``seed``)."""
        check_sampling(num_samples, temperature)
        return self._generate(prompt, max_new_tokens, temperature=float(temperature), top_p=float(top_p),
                              seed=int(seed), n=int(num_samples), top_k=int(top_k) if top_k else None)

    # -- answers -> Echo ---------------------------------------------------------------------------------------
    def _token_id(self, token: str) -> int:
        match = _TOKEN_ID.match(token)
        if match:
            return int(match.group(1))
        if self._ids_mode:
            return -1  # a token string in the offsets-only echo of an ids server: its id is not needed
        with self._lock:  # a server that returns strings: ids local to this process, one per distinct string
            vocab = self.__dict__.setdefault("_string_ids", {})
            if token not in vocab:
                vocab[token] = len(vocab)
                self._pieces[vocab[token]] = token
            return vocab[token]

    def _parse(self, body: dict, text: str | None, top_k: int, *, ids: bool | None = None) -> Echo:
        where = f"The server at {self.base_url} ({self.model_name})"
        try:
            choice = body["choices"][0]
            logprobs = choice.get("logprobs")
        except (KeyError, IndexError, TypeError):
            raise ServerError(f"{where} answered without a completion choice.") from None
        if not isinstance(logprobs, dict) or not logprobs.get("tokens"):
            raise ServerError(NO_PROMPT_LOGPROBS.format(where=where, detail="the answer has no logprobs"))
        tokens = list(logprobs["tokens"])
        values = list(logprobs.get("token_logprobs") or [])
        tops = list(logprobs.get("top_logprobs") or [None] * len(tokens))
        offsets = list(logprobs.get("text_offset") or [])
        n = _prompt_length(body, tokens, self._max_tokens)
        if len(values) < n or len(offsets) < n or any(v is None for v in values[1:n]):
            raise ServerError(NO_PROMPT_LOGPROBS.format(where=where, detail="no log-probability for prompt tokens"))
        if ids is None:  # the probe learns whether this server returns token ids
            self._ids_mode = bool(tokens) and all(_TOKEN_ID.match(str(t)) for t in tokens[:n])
        ids = np.array([self._token_id(t) for t in tokens[:n]], dtype=np.int64)
        lp = np.array([math.nan] + [float(v) for v in values[1:n]], dtype=np.float64)
        k = max(int(top_k), 0)
        top_ids = np.zeros((n, k), dtype=np.int64)
        top_lp = np.full((n, k), -np.inf, dtype=np.float32)
        rank = np.zeros(n, dtype=np.int64)
        for t in range(1, n):
            entries = sorted(((float(v), self._token_id(key)) for key, v in (tops[t] or {}).items()
                              if v is not None), reverse=True)
            best = entries[:k]
            for j, (value, token_id) in enumerate(best):
                top_ids[t, j], top_lp[t, j] = token_id, value
            listed = np.array([v for v, _ in best], dtype=np.float64)
            in_top = any(token_id == ids[t] for _, token_id in best)
            rank[t] = rank_from_top(lp[t], listed, in_top) if k else 0  # 0: not reported without alternatives
        start = np.asarray(offsets[:n], dtype=np.int64)
        end = np.append(start[1:], _prompt_end(text, tokens, offsets, n))
        echo_offsets = np.stack([start, np.maximum(end, start)], axis=1)
        pieces = None if self._ids_mode else tokens[:n]
        return Echo(ids, echo_offsets, lp, rank, top_ids, top_lp, pieces)


def _prompt_length(body: dict, tokens: list, max_tokens: int) -> int:
    """Number of prompt tokens among the echoed ones (the answer may end with ``max_tokens`` generated ones)."""
    usage = body.get("usage") if isinstance(body, dict) else None
    prompt_tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    if isinstance(prompt_tokens, int) and 0 < prompt_tokens <= len(tokens):
        return prompt_tokens
    return max(len(tokens) - max_tokens, 0)


def _prompt_end(text: str | None, tokens: list, offsets: list, n: int) -> int:
    """Character end of the last prompt token: the text's length, or where the first generated token starts."""
    if text is not None:
        return len(text)
    if len(offsets) > n:
        return int(offsets[n])
    last = tokens[n - 1] if n else ""
    return int(offsets[n - 1]) + (0 if _TOKEN_ID.match(str(last)) else len(str(last))) if n else 0
