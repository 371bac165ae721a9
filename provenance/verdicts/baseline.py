"""The blind baseline beside every AUC: a bag-of-words classifier that never sees the model, evaluated like a score.

Most published membership AUCs measure a distribution shift between members and non-members rather than training
(Meeus et al., Inherent Challenges of Post-Hoc Membership Inference; Das et al., Blind Baselines Beat Membership
Inference Attacks for Foundation Models). So every labelled evaluation gets one more row, ``blind``: the
out-of-fold decision values of the shift check's classifier (``shift.blind_classifier``, the same fit the shift
check already made) evaluated with the same AUC, bootstrap interval, TPR and epsilon columns as the scores. A score
whose AUC interval overlaps the blind row's is marked not distinguishable from the blind baseline
(``INDISTINGUISHABLE_COLUMN``, a boolean): on that sample it does not beat what the texts alone give away.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .roc import DEFAULT_BOOTSTRAP, evaluation_row, roc_points
from .shift import ShiftCheck

BLIND_SCORE_NAME = "blind"
BLIND_LABEL = "blind (bag-of-words, no model)"
INDISTINGUISHABLE_COLUMN = "indistinguishable_from_blind"
INDISTINGUISHABLE_WORDS = "not distinguishable from the blind baseline"
BLIND_EXPLANATION = (
    "The row blind is a bag-of-words classifier that never sees the model (the distribution-shift check's "
    "classifier, cross-validated: each text is scored by a classifier fitted on the other texts only). It measures "
    "how much the texts alone give away about their labels. A score whose AUC interval overlaps the blind row's is "
    "marked 'not distinguishable from the blind baseline': on this sample it does not show more than the difference "
    "between the sets, so its AUC is no evidence of training by itself.")


def shift_labels(shift: ShiftCheck) -> np.ndarray:
    """The labels (n_first + n_second,) of the shift check's texts, first set (members) first: 1, 1, ..., 0, 0."""
    return np.r_[np.ones(shift.n_first, dtype=int), np.zeros(shift.n_second, dtype=int)]


def blind_row(shift: ShiftCheck, *, n_bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = 0) -> dict:
    """The evaluation row (``roc.evaluation_row`` columns) of the blind baseline, from the shift check of members
    (first set) against non-members (second set)."""
    if shift.out_of_fold is None:
        raise ValueError("The shift check was recorded without its out-of-fold predictions; run it again.")
    return evaluation_row(BLIND_SCORE_NAME, shift_labels(shift), shift.out_of_fold, n_bootstrap=n_bootstrap,
                          seed=seed)


def blind_roc(shift: ShiftCheck) -> pd.DataFrame:
    """The blind baseline's ROC points (columns ``score, fpr, tpr, threshold``)."""
    return roc_points(shift_labels(shift), shift.out_of_fold).assign(score=BLIND_SCORE_NAME)[
        ["score", "fpr", "tpr", "threshold"]]


def mark_indistinguishable(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (an evaluation with a ``blind`` row) with the boolean column INDISTINGUISHABLE_COLUMN: True for a
    score whose [auc_low, auc_high] overlaps the blind row's interval; False for the others, for the blind row
    itself and for rows without an interval. All False when there is no blind row. The input is not changed."""
    out = table.copy()
    blind = out[out["score"] == BLIND_SCORE_NAME]
    if blind.empty:
        out[INDISTINGUISHABLE_COLUMN] = False
        return out
    lo, hi = float(blind["auc_low"].iloc[0]), float(blind["auc_high"].iloc[0])
    low = pd.to_numeric(out["auc_low"], errors="coerce")
    high = pd.to_numeric(out["auc_high"], errors="coerce")
    known = low.notna() & high.notna() & math.isfinite(lo) & math.isfinite(hi)
    overlaps = known & (low <= hi) & (high >= lo) & (out["score"] != BLIND_SCORE_NAME)
    out[INDISTINGUISHABLE_COLUMN] = overlaps.astype(bool)
    return out


def comparison_words(row: pd.Series | dict, blind_auc: float | None = None) -> str:
    """The blind-baseline column of one evaluation row in words for tables, cards, reports and the CLI:
    'blind baseline' for the blind row, INDISTINGUISHABLE_WORDS when the intervals overlap, else 'above' or
    'below the blind baseline' (by AUC against ``blind_auc``); empty when there is no blind row or no interval."""
    get = row.get if hasattr(row, "get") else (lambda k, d=None: d)
    if get("score") == BLIND_SCORE_NAME:
        return "blind baseline"
    if bool(get(INDISTINGUISHABLE_COLUMN, False)):
        return INDISTINGUISHABLE_WORDS
    auc = get("auc")
    if blind_auc is None or auc is None or not (math.isfinite(float(auc)) and math.isfinite(float(blind_auc))):
        return ""
    return "above the blind baseline" if float(auc) > float(blind_auc) else "below the blind baseline"


def comparison_column(table: pd.DataFrame) -> list[str]:
    """``comparison_words`` for every row of ``table``."""
    blind = table.loc[table["score"] == BLIND_SCORE_NAME, "auc"]
    blind_auc = float(blind.iloc[0]) if len(blind) else None
    return [comparison_words(row, blind_auc) for _, row in table.iterrows()]


def display_name(score: str) -> str:
    """A row's score name for people: the blind row gets its full label."""
    return BLIND_LABEL if score == BLIND_SCORE_NAME else str(score)


PRIVACY_EXPLANATION = (
    "Epsilon is the privacy budget of differential privacy: a model trained with budget epsilon lets no attack "
    "tell a training text from an unseen one with error rates better than (FPR + e^epsilon FNR >= 1 and the same "
    "with the rates swapped) allows. Each score's attack at its best threshold (chosen on one half of the texts, "
    "measured on the other, both ways round, so that picking the threshold does not flatter it) gives false-positive "
    "and false-negative counts; epsilon_mean and epsilon_lower are the mean and 95% credible lower bound of the "
    "epsilon posterior from Beta posteriors on the two rates (Jeffreys prior; Zanella-Beguelin et al., ICML 2023), "
    "epsilon_cp_lower is the 95% lower bound from Clopper-Pearson intervals (Jagielski et al. 2020), with delta = 0. "
    "These are lower bounds on what training leaked about these texts, for this attack; they say nothing about "
    "how private the model is against better attacks.")


def privacy_budget_sentence(table: pd.DataFrame) -> str | None:
    """One plain sentence about the privacy budget the strongest attack of an evaluation (``table`` with the
    EPSILON_COLUMNS and, optionally, the blind row and INDISTINGUISHABLE_COLUMN) implies, for non-specialists;
    None when no row has an epsilon."""
    if "epsilon_lower" not in table:
        return None
    scores = table[(table["score"] != BLIND_SCORE_NAME)
                   & np.isfinite(pd.to_numeric(table["epsilon_lower"], errors="coerce"))]
    if scores.empty:
        return None
    best = scores.loc[pd.to_numeric(scores["epsilon_lower"]).idxmax()]
    eps, mean, cp = (float(best.get(c, math.nan)) for c in ("epsilon_lower", "epsilon_mean", "epsilon_cp_lower"))
    if eps < 0.05:
        sentence = (f"No attack here shows measurable leakage: even the strongest, {best['score']}, has error rates "
                    f"consistent with a perfectly private model (epsilon = 0; 95% credible lower bound {eps:.2f}).")
    else:
        sentence = (f"The strongest attack here, {best['score']}, is good enough to show that training leaked at "
                    f"least as much about these texts as a differentially private model with epsilon = {eps:.2f} "
                    f"would allow: such a model lets anyone's odds that a given text was trained on grow at most "
                    f"{math.exp(eps):.1f}-fold (95% credible lower bound; posterior mean {mean:.2f}, Clopper-Pearson "
                    f"lower bound {cp:.2f}).")
    if bool(best.get(INDISTINGUISHABLE_COLUMN, False)):
        sentence += (" But a classifier that never sees the model tells members from non-members about as well, so "
                     "this may measure how the two sets differ rather than what the model learned.")
    return sentence


def blind_baseline_sentence(table: pd.DataFrame) -> str | None:
    """One sentence on the blind baseline of an evaluation (None without a blind row): its AUC and how many
    scores it cannot be told apart from."""
    blind = table[table["score"] == BLIND_SCORE_NAME]
    if blind.empty:
        return None
    row = blind.iloc[0]
    marked = mark_indistinguishable(table) if INDISTINGUISHABLE_COLUMN not in table else table
    same = [str(s) for s in marked.loc[marked[INDISTINGUISHABLE_COLUMN].astype(bool), "score"]]
    others = int((marked["score"] != BLIND_SCORE_NAME).sum())
    head = (f"A bag-of-words classifier that never sees the model reaches AUC {row['auc']:.3f} (95% interval "
            f"{row['auc_low']:.3f} to {row['auc_high']:.3f}) on these texts")
    if not same:
        return head + "; every score's interval lies clear of it."
    return (head + f"; {len(same)} of {others} score(s) are not distinguishable from it ({', '.join(same)}), so "
            "their AUCs are no evidence of training by themselves.")
