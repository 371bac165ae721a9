"""Rank tests that use every document: per-document p-values and a set-level test whose false-positive rate is what
it claims, with the power the split-half procedure gives away.

The statistic is fixed before looking at the data: for each chosen score (every score is oriented higher =
member), rank all documents of a pool together (mid-ranks for ties), divide by the pool size, and average over the
scores ("combined rank"). With a single score this is just that score's rank. Because the statistic treats every
member of the pool alike (a symmetric function of the pooled scores), it keeps the exchangeability of "none of
these texts was trained on":

- per document (conformal): the pool is the reference set plus that document; p = (1 + #{reference texts whose
  combined rank >= the document's}) / (n + 1) is valid, and n reference texts can give p = 1 / (n + 1);
- per set: the pool is the suspect set plus the reference set; a one-sided Mann-Whitney U test (suspect higher) of
  the combined ranks is valid, and uses every document (Maini et al.'s split-half test throws half of them away
  for fitting, and their combination over splits costs another factor of two).
Measured on the real default model fine-tuned one epoch on 100 paragraphs (design.md): split-half p = 0.19, a rank
test of one score fixed in advance p = 0.0015 on the same documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .checks import require_columns
from .shift import ShiftCheck
from .verdict import DEFAULT_FPR, Verdict, decide

MIN_RANK_TEST_DOCUMENTS = 5  # per set: fewer cannot reach p < 0.01 with a one-sided U test (5 vs 5 gives 0.004)


def _mid_ranks(values: np.ndarray) -> np.ndarray:
    """Mid-ranks (1-based, ties share their average rank) of each column of ``values`` (n, k)."""
    from scipy.stats import rankdata

    return rankdata(values, axis=0)


def combined_ranks(table: np.ndarray) -> np.ndarray:
    """The combined-rank statistic of each row of a pooled score matrix (n, k) with finite entries: the mean over
    columns of the row's mid-rank divided by n, in (0, 1]; higher = more member-like than the rest of the pool."""
    table = np.asarray(table, dtype=np.float64)
    return _mid_ranks(table).mean(axis=1) / len(table)


def _complete_rows(table: pd.DataFrame, scores: Sequence[str]) -> np.ndarray:
    values = table[list(scores)].to_numpy(dtype=np.float64)
    return values[np.isfinite(values).all(axis=1)]


def conformal_p_values(suspect: pd.DataFrame, reference: pd.DataFrame, scores: Sequence[str]) -> np.ndarray:
    """Per-document p-values (n_suspect,) of the combined-rank statistic, each document pooled with the reference
    set. A document uses the scores it has (NaN where it has none); reference texts missing any of the scores are
    left out. Under "the document is exchangeable with the reference texts" P(p <= alpha) <= alpha."""
    scores = list(dict.fromkeys(scores))
    require_columns(suspect, scores, "suspect")
    require_columns(reference, scores, "reference")
    doc_values = suspect[scores].to_numpy(dtype=np.float64)
    out = np.full(len(suspect), np.nan)
    for i, row in enumerate(doc_values):
        usable = [s for s, v in zip(scores, row) if np.isfinite(v)]
        if not usable:
            continue
        ref = _complete_rows(reference, usable)
        if len(ref) == 0:
            continue
        pooled = np.vstack([ref, row[[scores.index(s) for s in usable]][None, :]])
        statistic = combined_ranks(pooled)
        out[i] = (1.0 + np.count_nonzero(statistic[:-1] >= statistic[-1])) / (len(ref) + 1.0)
    return out


@dataclass
class RankTest:
    """A set-level rank test: suspect set vs reference set on the combined-rank statistic of ``scores``.

    ``p_value``: one-sided Mann-Whitney U (suspect higher). ``auc``: U / (n_suspect * n_reference), the chance a
    suspect document outranks a reference one (0.5 = no difference). Documents missing any score are left out.
    """

    p_value: float
    auc: float
    u_statistic: float
    n_suspect: int
    n_reference: int
    scores: list[str]
    name: str = "rank test"

    @property
    def method(self) -> str:
        what = (f"the score {self.scores[0]}" if len(self.scores) == 1 else
                f"the mean rank over {', '.join(self.scores)}")
        return (f"one-sided Mann-Whitney U rank test of {what} (fixed before looking at the data): "
                f"{self.n_suspect} suspect against {self.n_reference} reference documents, every document used")

    def verdict(self, fpr: float = DEFAULT_FPR, shift: ShiftCheck | None = None) -> Verdict:
        """The verdict for the whole suspect set at false-positive rate ``fpr`` (inconclusive when ``shift`` says
        the sets are confounded)."""
        return decide(self.p_value, fpr, method=self.method, shift=shift)

    def details(self) -> str:
        """One line for cards: what the test saw."""
        return (f"{self.n_suspect} suspect and {self.n_reference} reference documents; a suspect document outranks "
                f"a reference one with probability {self.auc:.2f} (0.5 = no difference).")

    def summary(self) -> dict:
        """Plain values for JSON reports."""
        return {"test": self.name, "p_value": self.p_value, "auc": self.auc, "u_statistic": self.u_statistic,
                "n_suspect": self.n_suspect, "n_reference": self.n_reference, "scores": self.scores,
                "method": self.method}


def rank_test(suspect: pd.DataFrame, reference: pd.DataFrame, scores: Sequence[str]) -> RankTest:
    """Is the suspect set, as a whole, more member-like than the reference set? (see the module docstring).

    ``suspect`` and ``reference`` are score tables with one column per name in ``scores`` (higher = member). Needs
    at least MIN_RANK_TEST_DOCUMENTS documents with every score in each set; raises ValueError with a sentence.
    """
    from scipy.stats import mannwhitneyu

    scores = list(dict.fromkeys(scores))
    if not scores:
        raise ValueError("Choose at least one score for the rank test.")
    require_columns(suspect, scores, "suspect")
    require_columns(reference, scores, "reference")
    s, r = _complete_rows(suspect, scores), _complete_rows(reference, scores)
    for label, n in (("suspect", len(s)), ("reference", len(r))):
        if n < MIN_RANK_TEST_DOCUMENTS:
            raise ValueError(f"The rank test needs at least {MIN_RANK_TEST_DOCUMENTS} scored documents in each set; "
                             f"the {label} set has {n}. Add more documents.")
    statistic = combined_ranks(np.vstack([s, r]))
    a, b = statistic[: len(s)], statistic[len(s):]
    result = mannwhitneyu(a, b, alternative="greater")
    u = float(result.statistic)
    return RankTest(p_value=float(result.pvalue), auc=u / (len(a) * len(b)), u_statistic=u, n_suspect=len(a),
                    n_reference=len(b), scores=scores)


def rank_test_false_positive(reference: pd.DataFrame, scores: Sequence[str], *, seed: int = 0) -> RankTest:
    """False-positive mode: a random half of the reference set against the other half. Neither was trained on, so
    the p-value is uniform: significant at FPR alpha for a fraction alpha of seeds."""
    order = np.random.default_rng(seed).permutation(len(reference))
    half = len(reference) // 2
    return rank_test(reference.iloc[order[:half]], reference.iloc[order[half:]], scores)
