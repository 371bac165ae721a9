"""Build small causal LMs from a config and fine-tune causal LMs on a small corpus.

Used by the tests, the ghost-sentence experiment and the dashboard's guided demo. Sizes default to something a
2-core CPU trains in seconds; the same ``fine_tune`` runs on a GPU for real models (bf16 autocast on CUDA).
``fine_tune(..., lora_rank=r)`` trains LoRA-style low-rank adapters instead of all weights and merges them back, so
the returned model has the original architecture and parameter names.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .loading import LoadedModel, wrap_model

log = logging.getLogger(__name__)


def train_tokenizer(corpus: Sequence[str], vocab_size: int = 2000):
    """A byte-level BPE tokenizer trained on ``corpus`` (offline, seconds), wrapped as a fast HF tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(list(corpus), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                                   bos_token="<|endoftext|>")


def build_small_model(corpus: Sequence[str], *, vocab_size: int = 2000, hidden_size: int = 64, layers: int = 2,
                      heads: int = 4, context_length: int = 256, seed: int = 0, name: str = "small-llama",
                      tokenizer=None) -> LoadedModel:
    """A randomly initialised Llama-architecture model (about 0.3-1M parameters with the defaults) and a tokenizer
    trained on ``corpus`` (or the one given). Train it with ``fine_tune`` before use."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = tokenizer or train_tokenizer(corpus, vocab_size)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 4,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                         max_position_embeddings=context_length, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    model = LlamaForCausalLM(config)
    return wrap_model(model, tokenizer, name=name)


class LoRALinear(torch.nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update: y = base(x) + (alpha / r) * x A^T B^T.

    Shapes: A (r, in_features), B (out_features, r). A starts Kaiming-uniform and B at zero, so the wrapped layer
    starts out computing exactly what the base layer does (Hu et al. 2021). Adapters are kept in float32 whatever
    the base dtype, so AdamW updates are not lost to bf16 rounding.
    """

    def __init__(self, base: torch.nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        self.rank = rank
        self.scale = alpha / rank
        device = base.weight.device
        self.lora_a = torch.nn.Parameter(torch.empty(rank, base.in_features, device=device, dtype=torch.float32))
        self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank, device=device, dtype=torch.float32))
        torch.nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = (x.to(self.lora_a.dtype) @ self.lora_a.T) @ self.lora_b.T
        return self.base(x) + (self.scale * update).to(x.dtype)

    @torch.no_grad()
    def merged(self) -> torch.nn.Linear:
        """The base layer with the update folded into its weight: W <- W + (alpha / r) B A."""
        delta = self.scale * (self.lora_b @ self.lora_a)
        self.base.weight.add_(delta.to(self.base.weight.dtype))
        return self.base


def _lora_target_names(net: torch.nn.Module, targets: Sequence[str] | None) -> list[str]:
    head = net.get_output_embeddings() if hasattr(net, "get_output_embeddings") else None
    names = [name for name, module in net.named_modules()
             if isinstance(module, torch.nn.Linear) and module is not head
             and (targets is None or any(t in name for t in targets))]
    if not names:
        raise ValueError("No linear layer matches the LoRA targets"
                         + (f" {', '.join(targets)}" if targets else "") + "; nothing would be trained.")
    return names


def add_lora(net: torch.nn.Module, rank: int, alpha: float | None = None,
             targets: Sequence[str] | None = None) -> list[str]:
    """Wrap linear layers of ``net`` in ``LoRALinear`` in place; return the wrapped module names.

    ``targets``: substrings of module names to adapt (e.g. ("q_proj", "v_proj")); None adapts every
    ``nn.Linear`` except the output head. ``alpha`` defaults to ``2 * rank``.
    """
    if not isinstance(rank, int) or rank < 1:
        raise ValueError(f"The LoRA rank must be a positive integer; got {rank!r}.")
    alpha = float(2 * rank if alpha is None else alpha)
    names = _lora_target_names(net, targets)
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = net.get_submodule(parent_name) if parent_name else net
        setattr(parent, child, LoRALinear(getattr(parent, child), rank, alpha))
    return names


def is_lora_parameter(name: str) -> bool:
    """True for the adapter matrices ``add_lora`` creates."""
    return name.endswith(("lora_a", "lora_b"))


def merge_lora(net: torch.nn.Module) -> int:
    """Fold every ``LoRALinear`` in ``net`` back into a plain ``nn.Linear`` in place; return how many."""
    wrapped = [name for name, module in net.named_modules() if isinstance(module, LoRALinear)]
    for name in wrapped:
        parent_name, _, child = name.rpartition(".")
        parent = net.get_submodule(parent_name) if parent_name else net
        setattr(parent, child, getattr(parent, child).merged())
    return len(wrapped)


@dataclass
class TrainingReport:
    steps: int
    epochs: int
    tokens_seen: int
    seconds: float
    final_loss: float
    losses: list[float]


def trainable_copy(model: LoadedModel, name: str) -> LoadedModel:
    """A private copy of ``model`` to fine-tune (weights deep-copied, the tokenizer shared), so that ``model`` itself,
    e.g. one held in a cache shared by every browser session, is never changed. Its identity derives from the
    original's (training gives the result a new one)."""
    import copy

    return wrap_model(copy.deepcopy(model.model), model.tokenizer, name=name, spec=model.spec,
                      identity_seed=f"copy of {model.identity}")


def training_tokens(model: LoadedModel, texts: Sequence[str], block_size: int = 128) -> int:
    """Tokens one epoch of ``fine_tune`` goes through on ``texts`` (the blocks it cuts, as it tokenises them)."""
    return sum(len(b) for b in _chunks(model, texts, min(block_size, model.context_length)))


def measure_training_rate(model: LoadedModel, texts: Sequence[str], *, lora_rank: int | None = None,
                          batch_size: int = 2, block_size: int = 128, steps: int = 2) -> float:
    """This machine's pace, in tokens per second, at fine-tuning ``model`` as ``fine_tune`` does (LoRA of rank
    ``lora_rank``, or full): a private copy (``trainable_copy``; ``model`` is not changed) trained for one warm-up
    step and ``steps`` timed steps of ``batch_size`` blocks of ``block_size`` tokens from ``texts`` (which should
    hold at least that many tokens). Measured, not assumed: it includes whatever else the machine is busy with."""
    block = min(block_size, model.context_length)
    blocks = _chunks(model, texts, block)
    if not blocks:
        raise ValueError("The training corpus is empty after tokenisation.")
    per_step = sum(len(b) for b in blocks[:batch_size])
    stamps: list[float] = []
    copy_ = trainable_copy(model, f"{model.name} (pace measurement)")
    started = time.perf_counter()
    fine_tune(copy_, texts, epochs=1, batch_size=batch_size, block_size=block, lora_rank=lora_rank,
              progress=lambda *_: stamps.append(time.perf_counter()), should_stop=lambda: len(stamps) > steps)
    if len(stamps) < 2:  # the corpus held a single step: it is timed with its warm-up
        return per_step / max(stamps[0] - started, 1e-6)
    return per_step * (len(stamps) - 1) / max(stamps[-1] - stamps[0], 1e-6)


def _chunks(model: LoadedModel, texts: Sequence[str], block: int) -> list[torch.Tensor]:
    """Tokenise each text (tokenizer defaults) plus EOS, concatenate, cut into blocks of ``block`` tokens."""
    tok = model.tokenizer
    ids: list[int] = []
    for text in texts:
        ids.extend(tok(text, add_special_tokens=True)["input_ids"])
        if tok.eos_token_id is not None:
            ids.append(tok.eos_token_id)
    stream = torch.tensor(ids, dtype=torch.long)
    return [stream[i: i + block] for i in range(0, len(stream) - 1, block) if len(stream[i: i + block]) > 1]


def fine_tune(model: LoadedModel, texts: Sequence[str], *, epochs: int = 3, learning_rate: float = 1e-3,
              batch_size: int = 8, block_size: int = 128, seed: int = 0,
              trainable: Callable[[str], bool] | None = None,
              progress: Callable[[int, int, float], None] | None = None,
              should_stop: Callable[[], bool] | None = None, name: str | None = None,
              lora_rank: int | None = None, lora_alpha: float | None = None,
              lora_targets: Sequence[str] | None = None) -> tuple[LoadedModel, TrainingReport]:
    """Fine-tuning with AdamW on the concatenated corpus, in blocks of ``block_size`` tokens.

    Full fine-tuning by default. ``trainable(parameter_name)`` restricts which parameters are updated (e.g. only the
    last layers); all by default. With ``lora_rank`` r, the base weights stay frozen and only low-rank adapters on
    linear layers are trained (``add_lora``: ``lora_targets`` name substrings, every linear layer but the output head
    by default; scale ``lora_alpha / r``, alpha = 2r by default); the adapters are merged into the weights when
    training ends, so the returned model has exactly the original parameter names and shapes. LoRA usually wants
    a larger ``learning_rate`` than full fine-tuning.
    ``progress(step, total_steps, loss)`` after each step; ``should_stop()`` ends training early.
    Trains ``model.model`` in place and returns it re-wrapped with a new identity (so caches never mix the
    model before and after training) and a report.
    """
    net = model.model
    rng = random.Random(seed)
    torch.manual_seed(seed)
    block = min(block_size, model.context_length)
    blocks = _chunks(model, texts, block)
    if not blocks:
        raise ValueError("The training corpus is empty after tokenisation.")
    if lora_rank is not None:
        if trainable is not None:
            raise ValueError("Give either 'trainable' (full fine-tuning of chosen parameters) or 'lora_rank', "
                             "not both.")
        add_lora(net, lora_rank, lora_alpha, lora_targets)
        trainable = is_lora_parameter

    params = [p for n, p in net.named_parameters() if trainable is None or trainable(n)]
    for n, p in net.named_parameters():
        p.requires_grad_(trainable is None or trainable(n))
    optim = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.0)
    steps_per_epoch = math.ceil(len(blocks) / batch_size)
    total = steps_per_epoch * epochs
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: min(1.0, (s + 1) / max(1, total // 20)))
    pad = model.tokenizer.pad_token_id or 0
    use_autocast = model.device.type == "cuda"
    losses, step, seen, t0 = [], 0, 0, time.time()
    net.train()
    try:
        for _ in range(epochs):
            order = list(range(len(blocks)))
            rng.shuffle(order)
            for lo in range(0, len(order), batch_size):
                if should_stop is not None and should_stop():
                    break
                batch = [blocks[j] for j in order[lo: lo + batch_size]]
                longest = max(len(b) for b in batch)
                ids = torch.full((len(batch), longest), pad, dtype=torch.long)
                labels = torch.full((len(batch), longest), -100, dtype=torch.long)
                mask = torch.zeros((len(batch), longest), dtype=torch.long)
                for r, b in enumerate(batch):
                    ids[r, : len(b)], labels[r, : len(b)], mask[r, : len(b)] = b, b, 1
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_autocast):
                    out = net(input_ids=ids.to(model.device), attention_mask=mask.to(model.device),
                              labels=labels.to(model.device))
                out.loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optim.step()
                sched.step()
                optim.zero_grad(set_to_none=True)
                step += 1
                seen += int(mask.sum())
                losses.append(out.loss.item())
                if progress is not None:
                    progress(step, total, losses[-1])
    finally:
        net.eval()
        merge_lora(net)  # never leave adapters behind, even when training was interrupted
        for p in net.parameters():
            p.requires_grad_(False)
    report = TrainingReport(steps=step, epochs=epochs, tokens_seen=seen, seconds=time.time() - t0,
                            final_loss=float(np.mean(losses[-max(1, steps_per_epoch):])) if losses else math.nan,
                            losses=losses)
    wrapped = wrap_model(net, model.tokenizer, name=name or f"{model.name}+ft", spec=model.spec)
    return wrapped, report
