"""Per-document p-values against a reference set, thresholds at a chosen false-positive rate, document verdicts.

Conventions: every score is oriented "higher = more likely a member" (scores/formulas.py), so every test here is
one-sided upwards; a *reference set* holds texts the model cannot have seen (written after its release, or never
published); false-positive rates (FPR) and p-values are fractions in [0, 1], not percentages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from .checks import check_fraction as _check_fraction
from .checks import finite as _finite
from .checks import require_columns as _require_columns
from .shift import ShiftCheck
from .rank_tests import conformal_p_values
from .verdict import DEFAULT_FPR, Label, Verdict, decide, format_p

DEFAULT_MIN_TOKENS = 32


def empirical_p_values(scores: ArrayLike, reference: ArrayLike) -> np.ndarray:
    """One-sided empirical p-values of ``scores`` (n,) against ``reference`` scores (m,) of texts never trained on.

    p = (1 + #{reference >= x}) / (m + 1) for each score x (higher score = member, so a small p means the document
    scores higher than nearly every reference text). Under "not trained on" (document and reference exchangeable)
    P(p <= alpha) <= alpha for every alpha. Returns (n,) float64; NaN where the score is NaN. Non-finite reference
    values are left out, so m counts finite ones only. The smallest possible p is 1 / (m + 1).
    """
    x = np.asarray(scores, dtype=np.float64).ravel()
    ref = np.sort(_finite(reference))
    if len(ref) == 0:
        raise ValueError("The reference set has no usable score, so no p-value can be computed.")
    at_least = len(ref) - np.searchsorted(ref, x, side="left")
    p = (1.0 + at_least) / (len(ref) + 1.0)
    return np.where(np.isfinite(x), p, np.nan)


def threshold_at_fpr(reference: ArrayLike, fpr: float) -> float:
    """The score above which a document is called a member at false-positive rate ``fpr``.

    Consistent with ``empirical_p_values``: a score x has p <= fpr exactly when x > threshold. Returns +inf when
    the reference set is too small for that FPR (no score can reach p <= fpr; see ``min_reference_size``).
    """
    _check_fraction(fpr, "The false-positive rate")
    ref = np.sort(_finite(reference))[::-1]
    allowed = int(math.floor(fpr * (len(ref) + 1) + 1e-9)) - 1  # reference texts allowed at or above the score
    if allowed < 0 or len(ref) == 0:
        return math.inf
    if allowed >= len(ref):
        return -math.inf
    return float(ref[allowed])


def score_thresholds(reference: pd.DataFrame, scores: Sequence[str], fpr: float = DEFAULT_FPR) -> dict[str, float]:
    """``threshold_at_fpr`` for each score column of a reference score table (one score at a time)."""
    _require_columns(reference, scores, "reference")
    return {s: threshold_at_fpr(reference[s], fpr) for s in scores}


def min_reference_size(fpr: float, n_scores: int = 1) -> int:
    """Fewest reference texts for which a p-value combined over ``n_scores`` scores (Bonferroni) can reach ``fpr``:
    the smallest m with n_scores / (m + 1) <= fpr."""
    _check_fraction(fpr, "The false-positive rate")
    return max(1, int(math.ceil(n_scores / fpr - 1e-9)) - 1)


def reference_problems(n_reference: int, n_scores: int, fpr: float) -> list[str]:
    """Why no document can be judged at ``fpr`` with ``n_reference`` reference texts and ``n_scores`` scores
    combined by Bonferroni (an empty list when it can)."""
    needed = min_reference_size(fpr, n_scores)
    if n_reference >= needed:
        return []
    floor = min(1.0, n_scores / (n_reference + 1))
    return [f"reference set too small: {n_reference} reference texts give p-values no smaller than "
            f"{format_p(floor)}, above FPR {fpr:g}; at least {needed} are needed"]


def document_method(scores: Sequence[str], n_reference: int) -> str:
    """What a document verdict compared: its scores ranked among the reference texts' scores."""
    what = f"its {scores[0]} score" if len(scores) == 1 else f"its mean rank over {', '.join(scores)}"
    return f"{what} ranked among {n_reference} reference texts the model cannot have seen"


def document_verdicts(suspect: pd.DataFrame, reference: pd.DataFrame, scores: Sequence[str], *,
                      fpr: float = DEFAULT_FPR, min_tokens: int = DEFAULT_MIN_TOKENS,
                      shift: ShiftCheck | None = None) -> pd.DataFrame:
    """A verdict for every suspect document, from its scores compared with a reference score table.

    ``suspect`` and ``reference`` are score tables (pipeline.score_documents: columns ``document``, ``tokens`` and
    one column per score). Returns one row per suspect document with columns ``document, tokens``, ``p_<score>``
    (empirical p-value of each score on its own, see ``empirical_p_values``, for reading), ``p_value`` (the one
    statistic the verdict rests on, fixed before looking at the data: the combined rank of ``scores`` with the
    document pooled with the reference set, ``rank_tests.conformal_p_values``; n reference texts give
    p >= 1 / (n + 1), so ``min_reference_size(fpr)`` of them are needed) and
    the verdict at false-positive rate ``fpr`` as ``verdict_label`` (a ``verdicts.Label`` value: what code reads),
    ``verdict_reasons`` (why it is inconclusive: a list of sentences, empty otherwise) and ``verdict`` (its words,
    for people); ``document_verdict`` turns such a row back into the Verdict value. The verdict is inconclusive when the document has fewer than
    ``min_tokens`` scored tokens, when the reference set is too small to reach ``fpr`` at all, or when ``shift``
    says the two sets are confounded.
    """
    _check_fraction(fpr, "The false-positive rate")
    scores = list(dict.fromkeys(scores))
    if not scores:
        raise ValueError("Choose at least one score for the verdict.")
    _require_columns(suspect, scores, "suspect")
    _require_columns(reference, scores, "reference")
    out = pd.DataFrame({"document": suspect["document"].to_numpy() if "document" in suspect else
                        np.arange(len(suspect))})
    tokens = suspect["tokens"].to_numpy() if "tokens" in suspect else None
    if tokens is not None:
        out["tokens"] = tokens
    p = np.column_stack([empirical_p_values(suspect[s], reference[s]) for s in scores])
    for j, s in enumerate(scores):
        out[f"p_{s}"] = p[:, j]
    out["p_value"] = conformal_p_values(suspect, reference, scores)
    n_reference = int(np.isfinite(reference[scores].to_numpy(dtype=np.float64)).all(axis=1).sum())
    set_problems = reference_problems(n_reference, 1, fpr)
    method = document_method(scores, n_reference)
    verdicts = []
    for i in range(len(out)):
        problems = []
        if tokens is not None and tokens[i] < min_tokens:
            problems.append(f"too few tokens: {int(tokens[i])} scored, at least {min_tokens} needed")
        verdicts.append(decide(float(out["p_value"].iloc[i]), fpr, method=method, problems=problems + set_problems,
                               shift=shift))
    out["verdict_label"] = [v.label.value for v in verdicts]
    out["verdict_reasons"] = [list(v.reasons) for v in verdicts]
    out["verdict"] = [v.words() for v in verdicts]
    return out


def document_verdict(row: Mapping, fpr: float) -> Verdict:
    """One row of ``document_verdicts`` (or a stored result row with those columns) as a Verdict value at the
    false-positive rate ``fpr`` it was decided at."""
    reasons = row.get("verdict_reasons")
    return Verdict(Label(row["verdict_label"]), float(row.get("p_value", math.nan)), fpr,
                   reasons=tuple(str(r) for r in reasons) if isinstance(reasons, (list, tuple)) else ())
