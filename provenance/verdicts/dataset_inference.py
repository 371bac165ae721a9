"""Dataset inference (Maini et al. 2024): was a suspect set, as a whole, trained on? With its false-positive mode
(reference half against reference half) and a combination of split p-values that is valid however the splits depend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from .checks import require_columns as _require_columns
from .pvalues import DEFAULT_FPR
from .verdict import Verdict, decide
from .shift import ShiftCheck

DEFAULT_SPLITS = 10
MIN_DATASET_DOCUMENTS = 10

P_VALUE_COMBINATION = (
    "twice the median (lower middle value) of the per-split p-values, capped at 1: the quantile aggregation of "
    "Meinshausen, Meier and Buehlmann (2009), valid however strongly the splits depend on each other (they share "
    "documents, so Fisher's method, which assumes independent p-values, would overstate the evidence)"
)


@dataclass
class DatasetInference:
    """Result of a dataset-inference test (suspect set vs reference set; Maini et al. 2024).

    ``p_value`` combines ``split_p_values`` (one one-sided Welch t-test per random split) as described in
    ``combination``. ``n_suspect`` / ``n_reference`` count the documents used (those with every score finite).
    ``weights`` are the logistic-regression coefficients of the standardised scores, averaged over the splits
    (positive = that score pushes towards "suspect"). ``statistics`` are the per-split t statistics. ``dropped``
    names scores left out and why.
    """

    p_value: float
    split_p_values: np.ndarray
    statistics: np.ndarray
    n_suspect: int
    n_reference: int
    weights: dict[str, float]
    dropped: dict[str, str] = field(default_factory=dict)
    combination: str = P_VALUE_COMBINATION

    def verdict(self, fpr: float = DEFAULT_FPR, shift: ShiftCheck | None = None) -> Verdict:
        """The verdict for the whole suspect set at false-positive rate ``fpr`` (inconclusive when ``shift`` says
        the sets are confounded)."""
        return decide(self.p_value, fpr, method=self.method, shift=shift)

    @property
    def method(self) -> str:
        return (f"split-half dataset inference (Maini et al. 2024): {self.n_suspect} suspect against "
                f"{self.n_reference} reference documents over {len(self.split_p_values)} random splits, their "
                "p-values combined as twice their median")

    def details(self) -> str:
        """One line for cards: what the test saw and how it weighed the scores."""
        weights = ", ".join(f"{s} {w:+.2f}" for s, w in self.weights.items())
        return f"{self.n_suspect} suspect and {self.n_reference} reference documents; score weights: {weights}."

    def summary(self) -> dict:
        """Plain values for JSON reports."""
        return {"test": "split-half dataset inference", "p_value": self.p_value, "n_suspect": self.n_suspect, "n_reference": self.n_reference,
                "weights": self.weights, "split_p_values": [float(p) for p in self.split_p_values],
                "dropped": self.dropped, "combination": self.combination}


def combine_split_p_values(p_values: ArrayLike) -> float:
    """Combine p-values from repeated random splits of the same data into one valid p-value.

    Uses twice the lower median, min(1, 2 * p_(ceil(B/2))) for B sorted p-values: by Markov's inequality,
    P(at least half of B p-values <= alpha/2) <= (B * alpha/2) / (B/2) = alpha under the null, whatever the
    dependence between splits (Meinshausen, Meier and Buehlmann 2009, quantile aggregation with gamma = 1/2).
    """
    p = np.sort(np.where(np.isfinite(np.asarray(p_values, dtype=np.float64)), p_values, 1.0))
    if len(p) == 0:
        raise ValueError("No split p-values to combine.")
    return float(min(1.0, 2.0 * p[int(math.ceil(len(p) / 2)) - 1]))


def _score_matrix(table: pd.DataFrame, scores: Sequence[str]) -> np.ndarray:
    return table[list(scores)].to_numpy(dtype=np.float64)


def dataset_inference(suspect: pd.DataFrame, reference: pd.DataFrame, scores: Sequence[str], *,
                      n_splits: int = DEFAULT_SPLITS, clip_quantile: float = 0.025, regularisation: float = 1.0,
                      seed: int = 0) -> DatasetInference:
    """Was the suspect set (as a whole) trained on? Maini et al. 2024, with a valid combination over splits.

    ``suspect`` and ``reference`` are score tables with one column per name in ``scores`` (higher = member). For
    each of ``n_splits`` random splits, each set is halved at random; on the fitting halves every score is clipped
    to its [clip_quantile, 1 - clip_quantile] quantiles and standardised (both fitted on the pooled fitting halves),
    and a logistic regression (inverse regularisation strength ``regularisation``) learns a linear combination that
    separates suspect from reference. The other halves are transformed the same way and the combination is tested
    with a one-sided Welch t-test (suspect higher). The per-split p-values are combined with
    ``combine_split_p_values``. Documents with a missing score are left out; a score that is missing everywhere is
    dropped. Needs at least MIN_DATASET_DOCUMENTS documents in each set.
    """
    from scipy.stats import ttest_ind
    from sklearn.linear_model import LogisticRegression

    if n_splits < 1:
        raise ValueError("Dataset inference needs at least one split.")
    if not 0 <= clip_quantile < 0.5:
        raise ValueError(f"clip_quantile must be in [0, 0.5); got {clip_quantile}.")
    scores = list(dict.fromkeys(scores))
    _require_columns(suspect, scores, "suspect")
    _require_columns(reference, scores, "reference")
    dropped = {}
    kept = []
    for s in scores:
        if not np.isfinite(suspect[s].to_numpy(dtype=np.float64)).any() or \
                not np.isfinite(reference[s].to_numpy(dtype=np.float64)).any():
            dropped[s] = "no document in one of the sets has this score"
        else:
            kept.append(s)
    if not kept:
        raise ValueError("None of the scores could be computed for both sets, so dataset inference cannot run.")
    S, R = _score_matrix(suspect, kept), _score_matrix(reference, kept)
    S, R = S[np.isfinite(S).all(axis=1)], R[np.isfinite(R).all(axis=1)]
    for label, n in (("suspect", len(S)), ("reference", len(R))):
        if n < MIN_DATASET_DOCUMENTS:
            raise ValueError(f"Dataset inference needs at least {MIN_DATASET_DOCUMENTS} scored documents in each "
                             f"set; the {label} set has {n}. Add more documents.")
    rng = np.random.default_rng(seed)
    p_values, statistics, weights = [], [], []
    for _ in range(n_splits):
        s_order, r_order = rng.permutation(len(S)), rng.permutation(len(R))
        s_fit, s_test = S[s_order[: len(S) // 2]], S[s_order[len(S) // 2:]]
        r_fit, r_test = R[r_order[: len(R) // 2]], R[r_order[len(R) // 2:]]
        fit = np.vstack([s_fit, r_fit])
        low, high = np.quantile(fit, [clip_quantile, 1 - clip_quantile], axis=0)
        clipped = np.clip(fit, low, high)
        mean, std = clipped.mean(axis=0), clipped.std(axis=0)
        std = np.where(std > 0, std, 1.0)

        def transform(x: np.ndarray) -> np.ndarray:
            return (np.clip(x, low, high) - mean) / std

        y = np.r_[np.ones(len(s_fit)), np.zeros(len(r_fit))]
        model = LogisticRegression(C=regularisation, class_weight="balanced", solver="newton-cholesky", max_iter=100)
        model.fit(transform(fit), y)
        w = model.coef_[0]
        a, b = transform(s_test) @ w, transform(r_test) @ w
        if np.ptp(a) == 0 and np.ptp(b) == 0:
            t, p = 0.0, 1.0  # the combination is constant: nothing to test
        else:
            t, p = ttest_ind(a, b, equal_var=False, alternative="greater")
        p_values.append(float(p) if np.isfinite(p) else 1.0)
        statistics.append(float(t) if np.isfinite(t) else 0.0)
        weights.append(w)
    mean_w = np.mean(weights, axis=0)
    return DatasetInference(p_value=combine_split_p_values(p_values), split_p_values=np.array(p_values),
                            statistics=np.array(statistics), n_suspect=len(S), n_reference=len(R),
                            weights={s: float(v) for s, v in zip(kept, mean_w)}, dropped=dropped)


def dataset_inference_false_positive(reference: pd.DataFrame, scores: Sequence[str], *, seed: int = 0,
                                     **kwargs) -> DatasetInference:
    """False-positive mode: split the reference set at random into two halves and test one against the other.

    Neither half was trained on, so the p-value should be uniform (non-significant at FPR alpha in all but a
    fraction alpha of seeds). Keyword arguments go to ``dataset_inference``.
    """
    order = np.random.default_rng(seed).permutation(len(reference))
    half = len(reference) // 2
    a, b = reference.iloc[order[:half]], reference.iloc[order[half:]]
    return dataset_inference(a, b, scores, seed=seed, **kwargs)
