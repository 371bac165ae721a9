"""Cross-backend parity: the same texts through two backends (e.g. the exact hf engine and a vLLM server) must give
the same tokens, offsets and per-token log-probabilities, and so the same loss-family scores (design.md, "Backends
and what each can prove"). Used by tests/lm/test_parity.py and bench/parity.py, which prints the table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..lm.token_stats import TokenStats
from . import formulas

LOSS_FAMILY = ("loss", "zlib", "mink", "lowercase")


@dataclass
class Parity:
    """How one text's statistics under a backend differ from the reference backend's.

    ``same_ids`` / ``same_offsets``: token ids and character offsets identical (BOS and first token included);
    ``max_logprob_diff``: largest |l_t - l'_t| over scored tokens, nats (inf when the tokens differ);
    ``score_rel_diff``: per loss-family score, |s - s'| / max(|s|, 1e-12)."""

    text: str
    n_tokens: int
    same_ids: bool
    same_offsets: bool
    max_logprob_diff: float
    score_rel_diff: dict[str, float]


def _scores(stats: TokenStats, lower: TokenStats | None) -> dict[str, float]:
    return {"loss": formulas.loss(stats), "zlib": formulas.zlib_score(stats), "mink": formulas.mink(stats),
            "lowercase": 1.0 if lower is None else formulas.lowercase(stats, lower)}


def compare(reference: TokenStats, other: TokenStats, reference_lower: TokenStats | None = None,
            other_lower: TokenStats | None = None) -> Parity:
    """Compare one text's statistics (and, for the lowercase score, those of its lower-cased form)."""
    same_ids = np.array_equal(reference.token_ids, other.token_ids)
    same_offsets = same_ids and np.array_equal(reference.offsets, other.offsets)
    diff = float(np.max(np.abs(reference.logprob.astype(np.float64) - other.logprob.astype(np.float64)),
                        initial=0.0)) if same_ids else math.inf
    a, b = _scores(reference, reference_lower), _scores(other, other_lower)
    rel = {name: abs(a[name] - b[name]) / max(abs(a[name]), 1e-12) for name in LOSS_FAMILY}
    return Parity(reference.text, reference.n_tokens, same_ids, same_offsets, diff, rel)


def compare_models(reference, other, texts: Sequence[str], settings) -> list[Parity]:
    """Statistics of ``texts`` (and their lower-cased forms) under two LanguageModels, compared text by text."""
    lowered = [t.lower() for t in texts]
    ref_stats = reference.token_statistics(list(texts) + lowered, settings)
    other_stats = other.token_statistics(list(texts) + lowered, settings)
    n = len(texts)
    return [compare(ref_stats[i], other_stats[i], ref_stats[n + i], other_stats[n + i]) for i in range(n)]


def parity_table(rows: Sequence[Parity]) -> str:
    """A Markdown table of parity rows (the closing note's table)."""
    lines = ["| text | tokens | same ids | same offsets | max abs logprob diff (nats) | "
             + " | ".join(f"{s} rel diff" for s in LOSS_FAMILY) + " |",
             "|---|---|---|---|---|" + "---|" * len(LOSS_FAMILY)]
    for r in rows:
        preview = r.text[:24].replace("\n", "\\n").replace("|", "/")
        lines.append(f"| {preview!r} | {r.n_tokens} | {r.same_ids} | {r.same_offsets} | {r.max_logprob_diff:.2e} | "
                     + " | ".join(f"{r.score_rel_diff[s]:.1e}" for s in LOSS_FAMILY) + " |")
    return "\n".join(lines)


def parity_texts(long_words: int = 1300, seed: int = 0) -> list[str]:
    """Texts that exercise what servers get wrong: plain prose, accents and characters split across byte-level
    tokens, leading and repeated whitespace, a one-token text's neighbour (two tokens), and a long text of
    ``long_words`` words (about 2060 tokens for 1300 words: beyond a 2048-token server context, so tokenising
    through the server's /tokenize and scoring in windows are exercised)."""
    rng = np.random.default_rng(seed)
    vocabulary = ("the river archive quietly held seven letters from Marseille; nobody read them until March, "
                  "when Ada found 1,204 pages (some torn) and a café receipt dated 1897").split()
    long_text = " ".join(rng.choice(vocabulary, size=long_words))
    return [
        "The committee published its findings on Tuesday, and the report was read aloud in the hall.",
        "Café naïve — 東京 🙂 x; Ünïcödé “quotes” and ½ fractions.",
        "  leading spaces\n\n\ttabs  and   repeated  spaces at the end  ",
        "Hi there",
        long_text,
    ]
