"""Generation: the one path for greedy and sampled continuations (the last-k ghost test, n-gram coverage, sampling
attacks).

Several dashboard sessions share one loaded model and its tokenizer, so nothing here changes shared state: prompts
are tokenised one by one with the tokenizer's own defaults and left-padded here (the tokenizer's ``padding_side``
is never touched), sampling seeds a forked RNG under ``SEEDED_RNG_LOCK``, and generation runs under
``torch.inference_mode``. Decoded text holds only the new tokens, special tokens removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from .interface import check_sampling
from .statistics import SEEDED_RNG_LOCK

if TYPE_CHECKING:
    from .loading import LoadedModel


def _prompt_ids(model: LoadedModel, prompt: str, room: int) -> list[int]:
    """Token ids of one prompt (tokenizer defaults, special tokens included), cut from the left to ``room`` tokens;
    an empty prompt becomes the BOS (or EOS) token so generation has something to continue."""
    tok = model.tokenizer
    ids = list(tok(prompt, add_special_tokens=True)["input_ids"])[-room:]
    if not ids:
        start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        ids = [int(start)]
    return ids


def _left_padded(model: LoadedModel, prompts: Sequence[str], room: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask), both (len(prompts), longest), prompts right-aligned so every row's next token
    is generated at the same position."""
    rows = [_prompt_ids(model, p, room) for p in prompts]
    longest = max(len(r) for r in rows)
    pad = model.tokenizer.pad_token_id if model.tokenizer.pad_token_id is not None else 0
    ids = torch.full((len(rows), longest), int(pad), dtype=torch.long)
    mask = torch.zeros((len(rows), longest), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, longest - len(row):] = torch.tensor(row, dtype=torch.long)
        mask[i, longest - len(row):] = 1
    return ids.to(model.device), mask.to(model.device)


def _budget(model: LoadedModel, max_new_tokens: int) -> tuple[int, int]:
    """(new tokens, prompt room): the new tokens fit in the context with at least one prompt token."""
    if max_new_tokens < 1:
        raise ValueError("Ask for at least one new token.")
    new = min(max_new_tokens, max(1, model.context_length - 1))
    return new, max(1, model.context_length - new)


def greedy_continuations(model: LoadedModel, prompts: Sequence[str], max_new_tokens: int, *,
                         batch_size: int = 32) -> list[str]:
    """Greedy (argmax) continuation of each prompt, at most ``max_new_tokens`` tokens, in input order.

    Batches of ``batch_size`` prompts are left-padded here; padding is masked, so each continuation equals the one
    the prompt gets alone (up to float rounding in ties).
    """
    if not prompts:
        return []
    new, room = _budget(model, max_new_tokens)
    tok = model.tokenizer
    out: list[str] = []
    for lo in range(0, len(prompts), batch_size):
        ids, mask = _left_padded(model, prompts[lo: lo + batch_size], room)
        with torch.inference_mode():
            generated = model.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=new,
                                             do_sample=False, num_beams=1, pad_token_id=tok.pad_token_id)
        out.extend(tok.batch_decode(generated[:, ids.shape[1]:], skip_special_tokens=True))
    return out


def sampled_continuations(model: LoadedModel, prompt: str, *, num_samples: int, max_new_tokens: int,
                          temperature: float = 1.0, top_p: float = 1.0, top_k: int = 0, seed: int = 0) -> list[str]:
    """``num_samples`` sampled continuations of ``prompt``, each at most ``max_new_tokens`` tokens.

    The prompt is cut from the left to leave room for the new tokens in the model's context. Sampling uses ``seed``
    inside a forked RNG, so the result depends only on the arguments and the global torch RNG is left untouched.
    ``top_k=0`` and ``top_p=1`` sample from the full distribution.
    """
    check_sampling(num_samples, temperature)
    new, room = _budget(model, max_new_tokens)
    tok = model.tokenizer
    ids, mask = _left_padded(model, [prompt], room)
    devices = [model.device.index or 0] if model.device.type == "cuda" else []
    # The torch RNG is process-wide: without the lock, concurrent sessions would sample from each other's stream.
    with SEEDED_RNG_LOCK, torch.random.fork_rng(devices=devices), torch.inference_mode():
        torch.manual_seed(seed)
        generated = model.model.generate(input_ids=ids, attention_mask=mask, do_sample=True, temperature=temperature,
                                         top_p=top_p, top_k=top_k, num_return_sequences=num_samples,
                                         max_new_tokens=new, pad_token_id=tok.pad_token_id,
                                         eos_token_id=tok.eos_token_id)
    return tok.batch_decode(generated[:, ids.shape[1]:], skip_special_tokens=True)
