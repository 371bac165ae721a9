"""What the served backends (openai, vllm) share: prompt log-probabilities of echoed texts -> TokenStats, with the
same conventions as the exact engine (lm/statistics.py): the tokenizer's own defaults (BOS only where the tokenizer
adds one), token 0 never scored, texts longer than the window scored in the same overlapping windows, each token
exactly once.

A backend supplies ``Echo``s: for a text (or a list of token ids) the server tokenises, it returns the token ids,
their character offsets in the text, the log-probability of each token given the ones before (token 0 has none),
and the ``top_k`` most likely alternatives at each position. From these:
- ``logprob``: exact;
- ``rank``: exact where the backend knows it (vLLM's engine); from top-k lists it is exact when the observed token
  is among the top k and otherwise the lower bound k + 1;
- ``mu`` and ``sigma`` (full-vocabulary moments) are unknown: NaN. Scores that need them are refused, or computed
  approximately from the top-k alternatives (scores/approximate.py) and labelled "approx.".
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from ..interface import MissingCapability
from ..token_stats import ScoringCancelled, ScoringSettings, TokenStats, plan_windows

PROBE_TEXT = "The quick brown fox, café naïve, 42 times.\n\tEnd"


class TooLong(Exception):
    """The server refused a prompt longer than its context."""


@dataclass
class Echo:
    """One echoed prompt. ``ids`` (n,) int64; ``offsets`` (n, 2) character offsets in the prompt text (for a prompt
    of token ids: in the text those ids decode to); ``logprob`` (n,) float64 with NaN at position 0; ``rank`` (n,)
    int64 (0 at position 0); ``top_ids`` / ``top_logprobs`` (n, k) sorted by decreasing log-probability (row 0
    unused); ``pieces``: the text of each token where the server said it (else None)."""

    ids: np.ndarray
    offsets: np.ndarray
    logprob: np.ndarray
    rank: np.ndarray
    top_ids: np.ndarray
    top_logprobs: np.ndarray
    pieces: list[str | None] | None = None
    exact_ranks: bool = False


def rank_from_top(observed_logprob: float, top_logprobs: np.ndarray, observed_in_top: bool) -> int:
    """1 + the number of listed alternatives more likely than the observed token; exact when the observed token is
    in the list (or the list is the whole vocabulary), else the lower bound len(list) + 1."""
    if not observed_in_top:
        return int(len(top_logprobs)) + 1
    return 1 + int(np.sum(top_logprobs > observed_logprob))


class ServedModel:
    """A LanguageModel whose statistics come from echoed prompts (openai, vllm). Subclasses implement
    ``_echo_text``, ``_echo_ids`` and ``_token_ids_offsets`` and set ``name``, ``spec``, ``identity``,
    ``context_length``, ``capabilities``, ``concurrency``."""

    name: str
    spec: str
    identity: str
    context_length: int
    capabilities: frozenset[str]
    concurrency: int = 1
    backend: str = "served"

    def __init__(self) -> None:
        self._echoes: OrderedDict[str, Echo] = OrderedDict()
        self._pieces: dict[int, str] = {}
        self._lock = threading.Lock()

    # -- to implement -------------------------------------------------------------------------------------------
    def _echo_text(self, text: str, top_k: int) -> Echo:
        raise NotImplementedError

    def _echo_ids(self, ids: Sequence[int], top_k: int) -> Echo:
        raise NotImplementedError

    def _token_ids_offsets(self, text: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Token ids of a text too long for one echo, with their offsets when the backend can tell them."""
        raise NotImplementedError

    def _detokenize(self, token_id: int) -> str | None:
        return None

    # -- the model interface --------------------------------------------------------------------------------------
    def tokenize(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Token ids (n,) and character offsets (n, 2), as the server tokenises ``text``."""
        try:
            echo = self._echo(text, 0)
            return echo.ids, echo.offsets
        except TooLong:
            ids, offsets = self._token_ids_offsets(text)
            return ids, offsets if offsets is not None else self._window_offsets(text, ids, 0)[0]

    def count_tokens(self, text: str, *, special_tokens: bool = True) -> int:
        ids, offsets = self.tokenize(text)
        if special_tokens:
            return len(ids)
        return int(np.sum(offsets[:, 1] > offsets[:, 0])) if len(ids) else 0  # special tokens cover no text

    def same_tokenizer(self, other) -> bool:
        """True when ``other`` splits a probe text (words, accents, digits, whitespace) into the same token ids."""
        if other is self:
            return True
        try:
            return np.array_equal(self.tokenize(PROBE_TEXT)[0], other.tokenize(PROBE_TEXT)[0])
        except Exception:  # a model that cannot tokenise cannot share a tokenizer
            return False

    def token_text(self, token_id: int) -> str:
        token_id = int(token_id)
        piece = self._pieces.get(token_id)
        if piece is None:
            piece = self._detokenize(token_id)
            if piece is not None:
                self._pieces[token_id] = piece
        return piece if piece is not None else f"<token {token_id}>"

    def gradient_norms(self, text: str, settings: ScoringSettings = ScoringSettings()) -> np.ndarray:
        from ..interface import GRADIENTS, require

        require(self, GRADIENTS, "The gradient norm")
        raise AssertionError("unreachable")

    def greedy_continuations(self, prompts: Sequence[str], max_new_tokens: int) -> list[str]:
        from ..interface import GENERATION, require

        require(self, GENERATION, "Generation")
        raise AssertionError("unreachable")

    def sampled_continuations(self, prompt: str, **options) -> list[str]:
        from ..interface import GENERATION, require

        require(self, GENERATION, "Generation")
        raise AssertionError("unreachable")

    def token_statistics(self, texts: Sequence[str], settings: ScoringSettings = ScoringSettings(), *,
                         progress: Callable[[int, int], None] | None = None,
                         should_stop: Callable[[], bool] | None = None, observer=None) -> list[TokenStats]:
        out: list[TokenStats | None] = [None] * len(texts)
        for i, stats in self.iter_token_statistics(texts, settings, progress=progress, should_stop=should_stop,
                                                   observer=observer):
            out[i] = stats
        return out  # type: ignore[return-value]

    def iter_token_statistics(self, texts: Sequence[str], settings: ScoringSettings = ScoringSettings(), *,
                              progress: Callable[[int, int], None] | None = None,
                              should_stop: Callable[[], bool] | None = None, observer=None,
                              **_engine_options) -> Iterator[tuple[int, TokenStats]]:
        """Yield ``(index, TokenStats)`` as each text is finished (requests run ``concurrency`` at a time, so rows
        come in the order the server answers). ``progress(tokens_done, tokens_total)`` counts scored tokens; the
        total is estimated (4 characters a token) until every text has answered."""
        if observer is not None:
            raise MissingCapability(f"An observer model needs the full next-token distribution, which {self.name} "
                                    f"({self.spec}) does not return; use an hf model for binoculars.")
        estimates = [max(len(t) // 4, 1) for t in texts]
        done = 0
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            pending = {pool.submit(self.text_statistics, text, settings): i for i, text in enumerate(texts)}
            try:
                while pending:
                    if should_stop is not None and should_stop():
                        raise ScoringCancelled("Scoring was cancelled.")
                    finished, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in finished:
                        i = pending.pop(future)
                        stats = future.result()
                        estimates[i] = stats.n_scored
                        done += stats.n_scored
                        yield i, stats
                        if progress is not None:
                            progress(done, max(sum(estimates), done))
            finally:
                for future in pending:
                    future.cancel()

    # -- statistics of one text -----------------------------------------------------------------------------------
    def text_statistics(self, text: str, settings: ScoringSettings = ScoringSettings()) -> TokenStats:
        """TokenStats of one text: one echo when it fits the window, else the window plan of lm/statistics.py."""
        window, stride = settings.resolve(self.context_length)
        k = settings.top_k
        full = None
        try:
            full = self._echo(text, k)
        except TooLong:
            pass
        if full is not None and len(full.ids) <= window:
            return _assemble(text, full.ids, full.offsets, [(1, full, 1)], k)
        ids, known = (full.ids, full.offsets) if full is not None else self._token_ids_offsets(text)
        offsets, parts = self._window_offsets(text, ids, k, window, stride, known)
        return _assemble(text, ids, offsets, parts, k)

    def _window_offsets(self, text: str, ids: np.ndarray, k: int, window: int | None = None,
                        stride: int | None = None, known: np.ndarray | None = None):
        """Score ``ids`` window by window; returns (offsets (n, 2), parts). Without ``known`` offsets, they are
        chained from the windows: each window starts on a token an earlier window already placed."""
        if window is None:
            window, stride = ScoringSettings().resolve(self.context_length)
        full = known is not None
        offsets = known.copy() if full else np.zeros((len(ids), 2), dtype=np.int64)
        parts = []
        for start, end, first in plan_windows(len(ids), window, stride):
            echo = self._echo_ids(ids[start:end], k)
            if not np.array_equal(echo.ids, ids[start:end]):
                raise ValueError(f"{self.name} ({self.spec}) changed the tokens of a window it was sent as token "
                                 "ids, so its log-probabilities would not belong to this text.")
            if not full:
                base = offsets[start, 0] - echo.offsets[0, 0] if start else 0
                offsets[first if start else 0:end] = echo.offsets[first - start if start else 0:] + base
            parts.append((first, echo, first - start))
        if not full:
            np.clip(offsets, 0, len(text), out=offsets)
        return offsets, parts

    def _echo(self, text: str, top_k: int) -> Echo:
        """The echo of a text, remembered (the last 512 texts) so that counting tokens then scoring costs one
        request; an echo with more alternatives than asked for serves (``_assemble`` keeps the first ``top_k``)."""
        with self._lock:
            hit = self._echoes.get(text)
            if hit is not None and hit.top_ids.shape[1] >= top_k:
                self._echoes.move_to_end(text)
                return hit
        echo = self._echo_text(text, top_k)
        with self._lock:
            self._echoes[text] = echo
            while len(self._echoes) > 512:
                self._echoes.popitem(last=False)
            if echo.pieces:
                for token_id, piece in zip(echo.ids, echo.pieces):
                    if piece is not None:
                        self._pieces.setdefault(int(token_id), piece)
        return echo


def _assemble(text: str, ids: np.ndarray, offsets: np.ndarray, parts: list[tuple[int, Echo, int]],
              top_k: int) -> TokenStats:
    """TokenStats from window echoes: ``parts`` are (first scored token, echo, its index in the echo)."""
    logprob, rank, top_ids, top_lp = [], [], [], []
    for _, echo, local in sorted(parts, key=lambda p: p[0]):
        logprob.append(echo.logprob[local:])
        rank.append(echo.rank[local:])
        top_ids.append(echo.top_ids[local:, :top_k])
        top_lp.append(echo.top_logprobs[local:, :top_k])
    n = max(len(ids) - 1, 0)

    def cat(pieces, dtype, width=None):
        if pieces:
            return np.concatenate(pieces).astype(dtype, copy=False)
        return np.zeros((0,) if width is None else (0, width), dtype=dtype)

    lp = cat(logprob, np.float32)
    ranks = cat(rank, np.int64)
    if parts and not parts[0][1].exact_ranks:
        # ranks from top-k lists: exact up to k, then the bound k + 1; an echo remembered with more alternatives
        # than asked for must give the same numbers as a fresh one (cache keys hold top_k)
        ranks = np.minimum(ranks, top_k + 1) if top_k else np.zeros_like(ranks)
    return TokenStats(text=text, token_ids=np.asarray(ids, dtype=np.int64),
                      offsets=np.asarray(offsets, dtype=np.int64).reshape(-1, 2), logprob=lp,
                      mu=np.full(n, np.nan, dtype=np.float32), sigma=np.full(n, np.nan, dtype=np.float32),
                      rank=ranks, top_ids=cat(top_ids, np.int64, top_k),
                      top_logprobs=cat(top_lp, np.float32, top_k))


def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet (one printable character per byte), inverted: character -> byte."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = [], 0
    for b in range(256):
        if b in printable:
            chars.append(chr(b))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return {c: b for b, c in enumerate(chars)}


_BYTES = _byte_decoder()


def byte_level_offsets(text: str, token_strings: Sequence[str]) -> np.ndarray | None:
    """Character offsets (n, 2) of byte-level BPE tokens (vocabulary strings such as 'Ġworld') in ``text``, in the
    convention of Hugging Face's fast tokenizers: a token covers the characters its bytes belong to, so the tokens
    of one multi-byte character share its span. Leading tokens that are not part of the text (BOS) get (0, 0).
    None when the strings are not byte-level or do not spell ``text`` exactly."""
    encoded = text.encode("utf-8")
    char_of_byte = np.zeros(len(encoded) + 1, dtype=np.int64)
    position = 0
    for i, ch in enumerate(text):
        width = len(ch.encode("utf-8"))
        char_of_byte[position: position + width] = i
        position += width
    char_of_byte[len(encoded)] = len(text)
    spans, cursor = [], 0
    for j, piece in enumerate(token_strings):
        try:
            raw = bytes(_BYTES[c] for c in piece)
        except KeyError:
            return None
        if not raw or encoded[cursor: cursor + len(raw)] != raw:
            if cursor == 0 and j == 0:  # a special token before the text (BOS)
                spans.append((0, 0))
                continue
            return None
        spans.append((int(char_of_byte[cursor]), int(char_of_byte[cursor + len(raw) - 1]) + 1))
        cursor += len(raw)
    if cursor != len(encoded):
        return None
    return np.asarray(spans, dtype=np.int64).reshape(-1, 2)
