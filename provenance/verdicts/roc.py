"""Labelled sets (research mode): ROC curves, AUC with a bootstrap confidence interval, TPR at low FPR, per score.

A *labels* array holds 1 for a member and 0 for a non-member; every score is oriented higher = member.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from .checks import check_fraction as _check_fraction
from .checks import require_columns as _require_columns
from .privacy import EPSILON_COLUMNS, estimate_epsilon

DEFAULT_BOOTSTRAP = 1000
DEFAULT_CONFIDENCE = 0.95


def _check_labels(labels: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).ravel().astype(int)
    x = np.asarray(scores, dtype=np.float64).ravel()
    if len(y) != len(x):
        raise ValueError(f"There are {len(y)} labels but {len(x)} scores.")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("Labels must be 1 (member) or 0 (non-member).")
    keep = np.isfinite(x)
    y, x = y[keep], x[keep]
    if y.sum() == 0 or y.sum() == len(y):
        raise ValueError("ROC and AUC need both members and non-members with a score; one of the two is missing.")
    return y, x


def auc_score(labels: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve (ties count one half); 0.5 = chance, 1 = every member above every non-member.
    NaN scores are left out."""
    y, x = _check_labels(labels, scores)
    return float(_auc_rows(x[None, :], y)[0])


def _auc_rows(samples: np.ndarray, y: np.ndarray) -> np.ndarray:
    """AUC of each row of ``samples`` (B, n) against labels (n,), by the rank-sum (Mann-Whitney) formula."""
    from scipy.stats import rankdata

    ranks = rankdata(samples, axis=1)
    n1, n0 = int(y.sum()), int(len(y) - y.sum())
    return (ranks[:, y == 1].sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def auc_confidence_interval(labels: ArrayLike, scores: ArrayLike, *, n_bootstrap: int = DEFAULT_BOOTSTRAP,
                            confidence: float = DEFAULT_CONFIDENCE, seed: int = 0) -> tuple[float, float, float]:
    """(auc, low, high): the AUC and a percentile bootstrap confidence interval at level ``confidence``.

    Members and non-members are resampled separately (stratified), ``n_bootstrap`` times. NaN scores are left out.
    """
    _check_fraction(confidence, "The confidence level")
    y, x = _check_labels(labels, scores)
    auc = float(_auc_rows(x[None, :], y)[0])
    if n_bootstrap < 1:
        return auc, math.nan, math.nan
    rng = np.random.default_rng(seed)
    pos, neg = x[y == 1], x[y == 0]
    y_boot = np.r_[np.ones(len(pos), dtype=int), np.zeros(len(neg), dtype=int)]
    per_batch = max(1, 4_000_000 // len(y))
    aucs = []
    for lo in range(0, n_bootstrap, per_batch):
        b = min(per_batch, n_bootstrap - lo)
        sample = np.hstack([pos[rng.integers(0, len(pos), (b, len(pos)))],
                            neg[rng.integers(0, len(neg), (b, len(neg)))]])
        aucs.append(_auc_rows(sample, y_boot))
    low, high = np.quantile(np.concatenate(aucs), [(1 - confidence) / 2, 1 - (1 - confidence) / 2])
    return auc, float(low), float(high)


def roc_points(labels: ArrayLike, scores: ArrayLike) -> pd.DataFrame:
    """The ROC curve as a table with columns ``fpr, tpr, threshold`` (calling scores >= threshold a member)."""
    from sklearn.metrics import roc_curve

    y, x = _check_labels(labels, scores)
    fpr, tpr, thresholds = roc_curve(y, x, drop_intermediate=False)
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thresholds})


def tpr_at_fpr(labels: ArrayLike, scores: ArrayLike, fpr: float) -> float:
    """Highest true-positive rate on the ROC curve whose false-positive rate is at most ``fpr``.

    With fewer than 1 / fpr non-members this is the TPR at zero false positives (the strictest reachable point),
    not a measurement at ``fpr``: ``fpr_is_measurable`` says whether the sample supports it.
    """
    _check_fraction(fpr, "The false-positive rate")
    roc = roc_points(labels, scores)
    return float(roc.loc[roc["fpr"] <= fpr + 1e-12, "tpr"].max())


# The low-FPR operating points every evaluation reports: column -> false-positive rate.
OPERATING_POINTS = {"tpr_at_1pct_fpr": 0.01, "tpr_at_0_1pct_fpr": 0.001}
# For each operating point, a column saying whether the sample has enough non-members to measure it.
MEASURABLE_COLUMNS = {column: f"{column}_measurable" for column in OPERATING_POINTS}

EVALUATION_COLUMNS = ["score", "auc", "auc_low", "auc_high", "tpr_at_1pct_fpr", "tpr_at_0_1pct_fpr",
                      *EPSILON_COLUMNS, "n_members", "n_non_members", "lowest_measurable_fpr",
                      *MEASURABLE_COLUMNS.values()]


def non_members_needed(fpr: float) -> int:
    """How many non-members a sample needs before a false-positive rate of ``fpr`` can be observed at all:
    ceil(1 / fpr) (one false positive among them is then a rate of at most ``fpr``)."""
    _check_fraction(fpr, "The false-positive rate")
    return int(math.ceil(1.0 / fpr - 1e-9))


def lowest_measurable_fpr(n_non_members: int) -> float:
    """The smallest non-zero false-positive rate ``n_non_members`` non-members can show: 1 / n (NaN for none).
    Below it, the ROC curve only knows FPR 0, so a TPR 'at' a smaller FPR is the TPR at zero false positives."""
    return 1.0 / n_non_members if n_non_members > 0 else math.nan


def fpr_is_measurable(fpr: float, n_non_members: int) -> bool:
    """Whether a sample with ``n_non_members`` non-members supports an operating point at ``fpr``
    (at least ``non_members_needed(fpr)`` of them)."""
    return int(n_non_members) >= non_members_needed(fpr)


def measured_operating_points(table: pd.DataFrame) -> pd.DataFrame:
    """An evaluation table (``evaluate_scores``) for people: each TPR at an operating point the sample cannot
    measure (fewer than 1 / FPR non-members, see ``fpr_is_measurable``) becomes NaN instead of the TPR at zero
    false positives, and ``lowest_measurable_fpr`` is filled in. Tables stored before these columns existed are
    completed from ``n_non_members``. The input is not changed."""
    out = table.copy()
    n0 = pd.to_numeric(out.get("n_non_members", pd.Series(np.nan, index=out.index)), errors="coerce")
    out["lowest_measurable_fpr"] = [lowest_measurable_fpr(int(n)) if np.isfinite(n) else math.nan for n in n0]
    for column, fpr in OPERATING_POINTS.items():
        flag = MEASURABLE_COLUMNS[column]
        out[flag] = [bool(np.isfinite(n) and fpr_is_measurable(fpr, int(n))) for n in n0]
        if column in out:
            out[column] = out[column].where(out[flag])
    return out


def operating_point_note(n_non_members: int) -> str | None:
    """A sentence for tables, figures and reports when some operating point cannot be measured with
    ``n_non_members`` non-members (None when every one can)."""
    missing = [(column, fpr) for column, fpr in OPERATING_POINTS.items()
               if not fpr_is_measurable(fpr, n_non_members)]
    if not missing:
        return None
    needs = " and ".join(f"TPR at {fpr * 100:g}% FPR needs at least {non_members_needed(fpr):,}" for _, fpr in missing)
    lowest = lowest_measurable_fpr(n_non_members)
    floor = f"1/{n_non_members:,} = {lowest:.3g}" if n_non_members > 0 else "undefined"
    return (f"With {n_non_members:,} non-member(s), the lowest false-positive rate this sample can measure is {floor}: "
            f"{needs} non-members, so {'it is' if len(missing) == 1 else 'they are'} shown as n/a (a number there "
            "would only be the true-positive rate at zero false positives).")


def evaluate_scores(table: pd.DataFrame, labels: ArrayLike, scores: Sequence[str], *,
                    n_bootstrap: int = DEFAULT_BOOTSTRAP, confidence: float = DEFAULT_CONFIDENCE,
                    seed: int = 0) -> pd.DataFrame:
    """Every score of a labelled score table compared the way published tools report it, best first.

    ``table`` has one row per document and one column per score; ``labels`` (n,) holds 1 = member, 0 = non-member.
    Returns one row per score with EVALUATION_COLUMNS: AUC with a bootstrap confidence interval, TPR at 1% and 0.1%
    FPR, the privacy budget the score's attack implies (``privacy.estimate_epsilon``: ``epsilon_mean`` and
    ``epsilon_lower``, the Bayesian posterior mean and 95% credible lower bound, and ``epsilon_cp_lower``, the
    Clopper-Pearson 95% lower bound, in nats, delta = 0), how many members / non-members had that score, the lowest
    FPR those non-members can measure and, per operating point, whether it is measurable (``<column>_measurable``;
    see ``measured_operating_points``). Sorted by AUC, highest first; a score that no member or no non-member has
    gets NaN figures and comes last.
    """
    _require_columns(table, scores, "labelled")
    y = np.asarray(labels).ravel()
    if len(y) != len(table):
        raise ValueError(f"There are {len(y)} labels but {len(table)} scored documents.")
    rows = []
    for s in dict.fromkeys(scores):
        x = table[s].to_numpy(dtype=np.float64)
        try:
            rows.append(evaluation_row(s, y, x, n_bootstrap=n_bootstrap, confidence=confidence, seed=seed))
        except ValueError:  # no member or no non-member has this score: report it as missing, keep the others
            have = np.isfinite(x)
            n0 = int((y[have] == 0).sum())
            rows.append({"score": s, "n_members": int((y[have] == 1).sum()), "n_non_members": n0,
                         "lowest_measurable_fpr": lowest_measurable_fpr(n0),
                         **{flag: False for flag in MEASURABLE_COLUMNS.values()}})
    return (pd.DataFrame(rows, columns=EVALUATION_COLUMNS)
            .sort_values("auc", ascending=False, kind="stable", na_position="last").reset_index(drop=True))


def evaluation_row(name: str, labels: ArrayLike, scores: ArrayLike, *, n_bootstrap: int = DEFAULT_BOOTSTRAP,
                   confidence: float = DEFAULT_CONFIDENCE, seed: int = 0) -> dict:
    """One row of ``evaluate_scores`` for a single score array (n,) (also used for the meta-classifier and the
    blind baseline)."""
    y, x = _check_labels(labels, scores)
    auc, low, high = auc_confidence_interval(y, x, n_bootstrap=n_bootstrap, confidence=confidence, seed=seed)
    n0 = int(len(y) - y.sum())
    return {"score": name, "auc": auc, "auc_low": low, "auc_high": high,
            **{column: tpr_at_fpr(y, x, fpr) for column, fpr in OPERATING_POINTS.items()},
            **estimate_epsilon(y, x, seed=seed).columns(),
            "n_members": int(y.sum()), "n_non_members": n0, "lowest_measurable_fpr": lowest_measurable_fpr(n0),
            **{MEASURABLE_COLUMNS[column]: fpr_is_measurable(fpr, n0) for column, fpr in OPERATING_POINTS.items()}}


def roc_curves(table: pd.DataFrame, labels: ArrayLike, scores: Sequence[str]) -> pd.DataFrame:
    """ROC points of every score in one long table (columns ``score, fpr, tpr, threshold``) for plotting."""
    _require_columns(table, scores, "labelled")
    parts = [roc_points(labels, table[s].to_numpy(dtype=np.float64)).assign(score=s) for s in scores]
    return pd.concat(parts, ignore_index=True)[["score", "fpr", "tpr", "threshold"]]
