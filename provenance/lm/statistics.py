"""One batched forward pass per text -> per-token statistics (TokenStats, defined in token_stats.py).

Conventions (design.md, "Token statistics"):
- the text is tokenised with the tokenizer's own defaults; token 0 is never scored, token t >= 1 is scored given
  tokens < t;
- for each scored token: logprob l_t = log p_t(x_t), mu_t = sum_v p_t(v) log p_t(v), sigma_t = the standard deviation
  of log p_t(v) under p_t, rank_t = 1 + #{v : p_t(v) > p_t(x_t)}; all natural-log units;
- texts longer than ``window`` tokens are scored in overlapping windows advancing by ``stride`` tokens; each window
  scores only tokens no earlier window scored, so every token is scored exactly once, with between
  ``window - stride`` and ``window - 1`` tokens of left context.

Memory: the model's hidden states are computed for a whole batch, but the vocabulary projection, log-softmax (float32)
and statistics are computed ``chunk`` positions at a time, so peak memory does not grow with
batch x length x vocabulary.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .loading import LoadedModel
from .token_stats import ScoringCancelled, ScoringSettings, TokenStats, no_scored_tokens_error, plan_windows


# Thread safety (several dashboard sessions share one loaded model):
# - forward passes (iter_token_statistics) only read the weights, under torch.inference_mode, so any number of
#   threads may score on one model at once; tests/test_concurrency.py checks this against sequential runs;
# - parameter_gradient_norms flips requires_grad and accumulates into .grad of the *shared* parameters, so two
#   concurrent calls on one model would mix their gradients: calls are serialised per model by gradient_lock;
# - seeded sampling (torch.manual_seed inside fork_rng) uses the process-wide torch RNG, so two threads sampling at
#   once would draw from each other's seeded stream: hold SEEDED_RNG_LOCK around seeding and sampling.
SEEDED_RNG_LOCK = threading.RLock()
_GRADIENT_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_GRADIENT_LOCKS_GUARD = threading.Lock()


def gradient_lock(net: torch.nn.Module) -> threading.Lock:
    """The lock that serialises gradient computations on one model's shared parameters."""
    with _GRADIENT_LOCKS_GUARD:
        lock = _GRADIENT_LOCKS.get(net)
        if lock is None:
            lock = _GRADIENT_LOCKS[net] = threading.Lock()
        return lock


@dataclass
class _Segment:
    text_index: int
    start: int  # first token of the window
    end: int  # one past the last token of the window
    first_target: int  # first token (absolute index) this window scores; tokens first_target..end-1


def _logits_from_hidden(model: LoadedModel, hidden: torch.Tensor) -> torch.Tensor:
    """Apply the output head (and any logit scaling the architecture defines) to hidden states (N, H)."""
    net = model.model
    logits = net.get_output_embeddings()(hidden).float()
    cfg = net.config
    if getattr(cfg, "logit_scale", None):  # Cohere
        logits = logits * cfg.logit_scale
    if getattr(cfg, "logits_scaling", None):  # Granite
        logits = logits / cfg.logits_scaling
    cap = getattr(cfg, "final_logit_softcapping", None)  # Gemma 2/3
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def position_statistics(logits: torch.Tensor, targets: torch.Tensor, top_k: int = 0) -> dict[str, torch.Tensor]:
    """Statistics of next-token distributions. logits (N, V) float32, targets (N,) -> dict of (N,) tensors.

    logprob = log p(target); mu = sum_v p log p (minus the entropy); sigma = sqrt(sum_v p (log p - mu)^2) (the
    centred form of design.md's sqrt(sum p (log p)^2 - mu^2), more accurate in float32); rank = 1 + #{v: p(v) >
    p(target)}. One exponential per entry: log p = s - log Z with s = logits - max and Z = sum exp(s), and the
    variance of log p equals the variance of s because they differ by a constant. ``logits`` is not modified.
    """
    shifted = logits - logits.max(-1, keepdim=True).values  # <= 0
    p = shifted.exp()
    z = p.sum(-1, keepdim=True)
    log_z = z.log()
    p.div_(z)
    target_shifted = shifted.gather(-1, targets[:, None])
    mean_shifted = (p * shifted).sum(-1, keepdim=True)
    variance = (shifted - mean_shifted).square_().mul_(p).sum(-1)
    out = {"logprob": (target_shifted - log_z)[:, 0], "mu": (mean_shifted - log_z)[:, 0],
           "sigma": variance.clamp_min(0).sqrt(), "rank": (shifted > target_shifted).sum(-1) + 1}
    if top_k:
        top, top_ids = shifted.topk(min(top_k, shifted.shape[-1]), dim=-1)
        out["top_logprobs"], out["top_ids"] = top - log_z, top_ids
    return out


def default_chunk(vocab_size: int, budget_bytes: int = 96 * 2**20) -> int:
    """Positions whose logits are projected at once: large enough that the output matrix is streamed from memory
    rarely, small enough that a few float32 (chunk, V) tensors stay within ``budget_bytes``."""
    return max(8, int(budget_bytes // (2 * 4 * vocab_size)))


def default_block(vocab_size: int, cache_bytes: int = 2 * 2**20) -> int:
    """Positions whose statistics are computed together: one float32 (block, V) tensor about the size of a CPU's
    cache, so the several passes over it do not go back to main memory (measured: about 5x faster than whole
    chunks for a 49k vocabulary)."""
    return max(1, int(cache_bytes // (4 * vocab_size)))


def default_batching(device: torch.device) -> tuple[int, int]:
    """(max tokens per batch, max rows per batch) for a device.

    On CPU one window per forward pass: padded batches gain nothing there and the attention mask they need costs
    more than it saves (measured with bench/throughput.py: 4096-token padded batches ran about 15% slower than one
    document at a time). Accelerators need wide batches to be busy.
    """
    if device.type == "cpu":
        return 4096, 1
    return 32768, 64


def _batches(segments: list[_Segment], max_batch_tokens: int, max_batch_size: int) -> list[list[_Segment]]:
    """Group segments of similar length (longest first) so padding is small and each batch fits the token budget."""
    order = sorted(segments, key=lambda s: s.end - s.start, reverse=True)
    batches, current = [], []
    for seg in order:
        length = seg.end - seg.start
        longest = (current[0].end - current[0].start) if current else length
        if current and (longest * (len(current) + 1) > max_batch_tokens or len(current) >= max_batch_size):
            batches.append(current)
            current = []
        current.append(seg)
    if current:
        batches.append(current)
    return batches


def iter_token_statistics(
    model: LoadedModel,
    texts: Sequence[str],
    settings: ScoringSettings = ScoringSettings(),
    *,
    max_batch_tokens: int | None = None,
    max_batch_size: int | None = None,
    chunk: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    observer: LoadedModel | None = None,
) -> Iterator[tuple[int, TokenStats]]:
    """Score texts and yield ``(index, TokenStats)`` as each text is finished (not in input order).

    With ``observer`` (a second model with the same tokenizer), each TokenStats also carries ``xent``, the
    cross-entropy from the observer's next-token distribution to this model's, computed on the same windows.

    ``progress(tokens_done, tokens_total)`` is called after every batch; when ``should_stop()`` returns True
    between batches, ScoringCancelled is raised (texts already yielded stay valid). Batching and chunking change
    speed and memory, never the numbers (up to float rounding).
    """
    window, stride = settings.resolve(model.context_length)
    if observer is not None:
        require_shared_tokenizer(model, observer)
        window = min(window, observer.context_length)
        stride = min(stride, window - 1)
    default_tokens, default_size = default_batching(model.device)
    max_batch_tokens = max(max_batch_tokens or default_tokens, window)
    max_batch_size = max_batch_size or default_size
    tokenised = [model.tokenize(t) for t in texts]
    segments: list[_Segment] = []
    remaining = [0] * len(texts)
    for i, (ids, _) in enumerate(tokenised):
        for start, end, first in plan_windows(len(ids), window, stride):
            segments.append(_Segment(i, start, end, first))
            remaining[i] += 1
    parts: list[dict[str, list[np.ndarray]]] = [dict() for _ in texts]
    for i, n in enumerate(remaining):
        if n == 0:  # nothing to score: deliver an empty TokenStats, attacks raise the user-facing error
            yield i, _assemble(texts[i], tokenised[i], {}, settings.top_k)
    total = sum(max(len(ids) - 1, 0) for ids, _ in tokenised)
    done = 0
    pad_id = model.tokenizer.pad_token_id if model.tokenizer.pad_token_id is not None else 0
    chunk = chunk or default_chunk(logits_width(model))
    for batch in _batches(segments, max_batch_tokens, max_batch_size):
        if should_stop is not None and should_stop():
            raise ScoringCancelled("Scoring was cancelled.")
        results = _score_batch(model, batch, tokenised, pad_id, chunk, settings.top_k, observer)
        for seg, stats in zip(batch, results):
            for name, arr in stats.items():
                parts[seg.text_index].setdefault(name, []).append((seg.first_target, arr))
            remaining[seg.text_index] -= 1
            done += seg.end - seg.first_target
            if remaining[seg.text_index] == 0:
                i = seg.text_index
                yield i, _assemble(texts[i], tokenised[i], parts[i], settings.top_k)
                parts[i] = {}
        if progress is not None:
            progress(done, total)


def _assemble(text: str, tokenised: tuple[np.ndarray, np.ndarray], parts: dict, top_k: int) -> TokenStats:
    ids, offsets = tokenised

    def join(name: str, dtype, width: int | None = None) -> np.ndarray:
        pieces = [arr for _, arr in sorted(parts.get(name, []), key=lambda x: x[0])]
        if pieces:
            return np.concatenate(pieces).astype(dtype, copy=False)
        return np.zeros((0,) if width is None else (0, width), dtype=dtype)

    return TokenStats(
        text=text, token_ids=ids, offsets=offsets,
        logprob=join("logprob", np.float32), mu=join("mu", np.float32), sigma=join("sigma", np.float32),
        rank=join("rank", np.int64),
        top_ids=join("top_ids", np.int64, top_k), top_logprobs=join("top_logprobs", np.float32, top_k),
        xent=join("xent", np.float32),
    )


@torch.inference_mode()
def _score_batch(model: LoadedModel, batch: list[_Segment], tokenised, pad_id: int, chunk: int,
                 top_k: int, observer: LoadedModel | None = None) -> list[dict[str, np.ndarray]]:
    """One padded forward pass over a batch of windows; statistics for the positions each window scores."""
    longest = max(s.end - s.start for s in batch)
    input_ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
    attention = torch.zeros((len(batch), longest), dtype=torch.long)
    rows, cols, targets, owner = [], [], [], []
    for b, seg in enumerate(batch):
        ids = torch.from_numpy(tokenised[seg.text_index][0][seg.start:seg.end])
        input_ids[b, : len(ids)] = ids
        attention[b, : len(ids)] = 1
        # hidden state at window position j predicts the token at j + 1
        first = seg.first_target - seg.start
        positions = torch.arange(first - 1, seg.end - seg.start - 1)
        rows.append(torch.full_like(positions, b))
        cols.append(positions)
        targets.append(ids[first:])
        owner.append(len(positions))
    flat_rows, flat_cols, flat_targets = torch.cat(rows), torch.cat(cols), torch.cat(targets)
    selected = _scored_hidden(model, input_ids, attention, flat_rows, flat_cols)
    observed = _scored_hidden(observer, input_ids, attention, flat_rows, flat_cols) if observer else None
    flat_targets = flat_targets.to(model.device)
    block = default_block(logits_width(model)) if model.device.type == "cpu" else chunk
    collected: dict[str, list[torch.Tensor]] = {}
    for lo in range(0, len(flat_targets), chunk):
        logits = _logits_from_hidden(model, selected[lo: lo + chunk])
        obs_logits = (_logits_from_hidden(observer, observed[lo: lo + chunk]).to(logits.device)
                      if observed is not None else None)
        for b in range(0, len(logits), block):
            rows = slice(b, b + block)
            stats = position_statistics(logits[rows], flat_targets[lo: lo + chunk][rows].to(logits.device), top_k)
            if obs_logits is not None:
                stats["xent"] = -(torch.softmax(obs_logits[rows], -1) * torch.log_softmax(logits[rows], -1)).sum(-1)
            for name, value in stats.items():
                collected.setdefault(name, []).append(value.cpu())
    merged = {name: torch.cat(vals).numpy() for name, vals in collected.items()}
    out, lo = [], 0
    for n in owner:
        out.append({name: arr[lo: lo + n] for name, arr in merged.items()})
        lo += n
    return out


def logits_width(model: LoadedModel) -> int:
    """Number of logits per position (the output layer's rows; can exceed the tokenizer's vocabulary)."""
    return int(model.model.get_output_embeddings().weight.shape[0])


def _scored_hidden(model: LoadedModel, input_ids: torch.Tensor, attention: torch.Tensor, rows: torch.Tensor,
                   cols: torch.Tensor) -> torch.Tensor:
    """Final hidden states (N, H) at the scored positions only, from one padded forward pass of the base model."""
    device = model.device
    # Without padding, no mask: attention then takes its causal fast path (a mask of ones forces the general one).
    mask = None if bool(attention.all()) else attention.to(device)
    hidden = model.model.base_model(input_ids=input_ids.to(device), attention_mask=mask,
                                    use_cache=False).last_hidden_state
    return hidden[rows.to(hidden.device), cols.to(hidden.device)]  # the last layer's device (device_map="auto")


def require_shared_tokenizer(model: LoadedModel, other: LoadedModel) -> None:
    """Raise a user-facing error unless two models tokenise identically (same vocabulary)."""
    if not model.same_tokenizer(other):
        raise ValueError(f"{model.name} and {other.name} use different tokenizers; this score needs two models "
                         "that share one tokenizer (for example a base model and its fine-tune).")


def token_statistics(model: LoadedModel, texts: Sequence[str], settings: ScoringSettings = ScoringSettings(),
                     **kwargs) -> list[TokenStats]:
    """TokenStats for each text, in input order (see ``iter_token_statistics`` for the keyword arguments)."""
    out: list[TokenStats | None] = [None] * len(texts)
    for i, stats in iter_token_statistics(model, texts, settings, **kwargs):
        out[i] = stats
    return out  # type: ignore[return-value]


def parameter_gradient_norms(model: LoadedModel, text: str, settings: ScoringSettings = ScoringSettings()
                             ) -> np.ndarray:
    """L-infinity norm of d NLL / d theta for every parameter tensor (white-box; one forward + backward per window).

    NLL is the mean over all scored tokens of the text, so windows are weighted by how many tokens they score.
    Returns an array (n_parameter_tensors,), float64. Parameters are left unchanged and gradients are cleared.
    """
    ids, _ = model.tokenize(text)
    window, stride = settings.resolve(model.context_length)
    plan = plan_windows(len(ids), window, stride)
    if not plan:
        raise no_scored_tokens_error(text, len(ids))
    net = model.model
    with gradient_lock(net):  # .grad and requires_grad live on the shared parameters (see "Thread safety" above)
        return _gradient_norms(model, ids, plan)


def _gradient_norms(model: LoadedModel, ids: np.ndarray, plan: list[tuple[int, int, int]]) -> np.ndarray:
    net = model.model
    params = [p for p in net.parameters()]
    flags = [p.requires_grad for p in params]
    n_scored = len(ids) - 1
    try:
        for p in params:
            p.requires_grad_(True)
            p.grad = None
        for start, end, first in plan:
            window_ids = torch.from_numpy(ids[start:end])[None].to(model.device)
            logits = net(input_ids=window_ids, use_cache=False).logits[0].float()
            first_local = first - start
            lp = torch.log_softmax(logits[first_local - 1: -1], -1)
            target = window_ids[0, first_local:]
            (-lp.gather(-1, target[:, None]).sum() / n_scored).backward()
        return np.array([float(p.grad.abs().max()) if p.grad is not None else 0.0 for p in params])
    finally:
        for p, flag in zip(params, flags):
            p.grad = None
            p.requires_grad_(flag)
