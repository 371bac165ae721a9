"""Scores -> calibrated verdicts for a suspect set against a reference set, and for a labelled set: pure functions of
score tables and texts (the use cases that score and record them are in ``investigations.reference`` and
``investigations.labelled``). The statistics themselves are the pure functions of the other verdicts modules; this
module decides which apply, runs them in the right order (shift check first) and packages the result for tables,
cards and reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..scores.chunk_features import DEFAULT_CHUNK_TOKENS, document_features
from ..scores.formulas import DEFAULT_K
from .baseline import BLIND_SCORE_NAME, blind_roc, blind_row, mark_indistinguishable
from .dataset_inference import (DEFAULT_SPLITS, MIN_DATASET_DOCUMENTS, DatasetInference, dataset_inference,
                                dataset_inference_false_positive)
from .meta_classifier import MetaClassifierResult, meta_classifier
from .pvalues import DEFAULT_FPR, DEFAULT_MIN_TOKENS, document_verdicts, reference_problems, score_thresholds
from .roc import DEFAULT_BOOTSTRAP, evaluate_scores, evaluation_row, roc_curves, roc_points
from .rank_tests import MIN_RANK_TEST_DOCUMENTS, RankTest, rank_test, rank_test_false_positive
from .shift import DEFAULT_SHIFT_THRESHOLD, ShiftCheck, shift_check
from .verdict import Label, Verdict, decide


# Set-level tests: name -> (test, its false-positive mode, fewest documents per set, name for people).
SET_TESTS = {
    "rank": (rank_test, rank_test_false_positive, MIN_RANK_TEST_DOCUMENTS, "rank test"),
    "split_half": (dataset_inference, dataset_inference_false_positive, MIN_DATASET_DOCUMENTS,
                   "split-half dataset inference"),
}
DEFAULT_SET_TEST = "rank"


@dataclass
class SetComparison:
    """Everything a suspect-vs-reference comparison found.

    ``documents``: the suspect score table with ``p_<score>``, ``p_value``, ``verdict_label`` and ``verdict``
    (words) columns added (see ``pvalues.document_verdicts``).
    ``inference``: the set-level test of the whole suspect set (SET_TESTS; None when a set is too small, see
    ``notes``).
    ``false_positive``: the same test on reference half vs reference half (should not be significant).
    ``verdict``: the set-level Verdict, ``fpr`` the false-positive rate it is set at.
    """

    documents: pd.DataFrame
    shift: ShiftCheck | None
    inference: RankTest | DatasetInference | None
    false_positive: RankTest | DatasetInference | None
    thresholds: dict[str, float]
    verdict: Verdict
    fpr: float
    scores: list[str]
    notes: list[str]

    def summary(self) -> dict:
        """Plain values (JSON-ready) for the store, reports and the CLI's summary file."""
        n_evidence = int((self.documents["verdict_label"] == Label.EVIDENCE).sum()) if len(self.documents) else 0
        return {
            "verdict": self.verdict.to_dict(), "fpr": self.fpr, "scores": self.scores,
            "dataset_inference": self.inference.summary() if self.inference else None,
            "false_positive_mode": self.false_positive.summary() if self.false_positive else None,
            "shift_check": self.shift.summary() if self.shift else None,
            # the score above which one document is called a member at this FPR; None: reference set too small
            "thresholds_at_fpr": {k: (float(v) if np.isfinite(v) else None) for k, v in self.thresholds.items()},
            "documents": {"suspect": len(self.documents), "evidence": n_evidence},
            "notes": self.notes,
        }


def _as_computed(name: str, computed: Sequence[str]) -> str:
    """A verdict score chosen by its exact name (``minkpp``) that a backend computed only approximately is judged on
    its approximation (``minkpp_approx``), which keeps its own "approx." label."""
    from ..scores.registry import approximation_of

    approximation = approximation_of(name)
    if name not in computed and approximation is not None and approximation.name in computed:
        return approximation.name
    return name


def compare_sets(suspect_texts: Sequence[str], suspect: pd.DataFrame, reference_texts: Sequence[str],
                 reference: pd.DataFrame, scores: Sequence[str], *, fpr: float = DEFAULT_FPR,
                 min_tokens: int = DEFAULT_MIN_TOKENS, n_splits: int = DEFAULT_SPLITS,
                 shift_threshold: float = DEFAULT_SHIFT_THRESHOLD, seed: int = 0,
                 verdict_scores: Sequence[str] | None = None, set_test: str = DEFAULT_SET_TEST) -> SetComparison:
    """Compare a suspect set with a reference set (texts the model cannot have seen).

    ``suspect`` / ``reference`` are score tables (pipeline.score_documents); the texts feed the distribution-shift
    check, which runs first and marks every verdict confounded when a bag-of-words classifier separates the sets.
    Per-document p-values and verdicts always (one statistic: the combined rank of ``verdict_scores``, default all
    ``scores``, see ``pvalues.document_verdicts``). The set-level test ``set_test`` (SET_TESTS: "rank", the
    default, a one-sided rank test of the same statistic over every document; "split_half", Maini et al.'s dataset
    inference) and its false-positive mode (reference half vs reference half) run when each set has enough
    documents. Every score is oriented higher = member.
    """
    if set_test not in SET_TESTS:
        raise ValueError(f"Unknown set-level test '{set_test}'. Choose one of: {', '.join(SET_TESTS)}.")
    scores = [s for s in dict.fromkeys(scores) if s in suspect and s in reference]
    if not scores:
        raise ValueError("None of the chosen scores was computed for both sets.")
    verdict_scores = [_as_computed(s, scores) for s in dict.fromkeys(verdict_scores or scores)]
    unknown = [s for s in verdict_scores if s not in scores]
    if unknown:
        raise ValueError(f"The verdict scores {', '.join(unknown)} are not among the scores computed "
                         f"({', '.join(scores)}).")
    notes: list[str] = []
    shift = None
    if min(len(suspect_texts), len(reference_texts)) >= 2:
        shift = shift_check(suspect_texts, reference_texts, threshold=shift_threshold, seed=seed)
    else:
        notes.append("The distribution-shift check needs at least 2 texts in each set, so it was not run.")
    documents = document_verdicts(suspect, reference, verdict_scores, fpr=fpr, min_tokens=min_tokens,
                                              shift=shift)
    table = suspect.merge(documents.drop(columns=["tokens"], errors="ignore"), on="document", how="left")
    inference = false_positive = None
    smallest = min(len(suspect), len(reference))
    test, test_false_positive, needed, title = SET_TESTS[set_test]
    # the rank test ranks the same statistic as the document verdicts; split-half fits weights for all scores
    test_scores, options = (verdict_scores, {}) if set_test == "rank" else (scores, {"n_splits": n_splits})
    if smallest >= needed:
        inference = test(suspect, reference, test_scores, **options, **({"seed": seed} if options else {}))
        if len(reference) >= 2 * needed:
            false_positive = test_false_positive(reference, test_scores, seed=seed, **options)
        verdict = inference.verdict(fpr, shift)
    else:
        notes.append(f"Dataset inference needs at least {needed} documents in each set for the {title} "
                     f"(here {len(suspect)} suspect and {len(reference)} reference).")
        n_reference = min(int(np.isfinite(reference[s].to_numpy(dtype=np.float64)).sum()) for s in verdict_scores)
        verdict = set_verdict_from_documents(table, fpr, shift, problems=reference_problems(n_reference, 1, fpr))
    return SetComparison(documents=table, shift=shift, inference=inference, false_positive=false_positive,
                         thresholds=score_thresholds(reference, scores, fpr), verdict=verdict, fpr=fpr,
                         scores=scores, notes=notes)


def set_verdict_from_documents(documents: pd.DataFrame, fpr: float, shift: ShiftCheck | None,
                               problems: Sequence[str] = ()) -> Verdict:
    """Without a set-level test: Simes' combination of the per-document p-values of the documents whose own verdict
    is conclusive, p_set = min_i n p_(i) / i (p_(1) <= ... <= p_(n)).

    Why Simes and not Bonferroni: the documents' p-values are conformal p-values against one shared reference set,
    which are positively dependent (PRDS; Bates et al. 2023, "Testing for outliers with conformal p-values"), and
    under PRDS Simes' test is valid. It is never larger than Bonferroni's n * p_(1), and when every document is
    "evidence" at ``fpr`` on its own, so is the set (Bonferroni could call three documents at p = 0.03 "no evidence"
    together). ``documents`` has ``p_value`` and ``verdict_label`` columns (``pvalues.document_verdicts``);
    ``problems`` are the reasons that hold for every document (e.g. ``pvalues.reference_problems``). When no
    document is conclusive, the set is inconclusive for those reasons."""
    method = "Simes' combination of the conclusive per-document p-values against the reference set"
    if documents.empty or "p_value" not in documents:
        return decide(None, fpr, method=method, problems=list(problems) or ["no document could be compared"],
                      shift=shift)
    conclusive = documents["verdict_label"] != Label.INCONCLUSIVE
    p = documents.loc[conclusive, "p_value"].dropna()
    if p.empty:
        return decide(None, fpr, method=method, shift=shift,
                      problems=list(problems) or ["no document could be judged (each is too short to score "
                                                  "reliably)"])
    return decide(simes(p.to_numpy(dtype=np.float64)), fpr, method=method, problems=problems, shift=shift)


def simes(p_values: np.ndarray) -> float:
    """Simes' combined p-value of ``p_values`` (n,): min over i of n * p_(i) / i, capped at 1."""
    ordered = np.sort(np.asarray(p_values, dtype=np.float64))
    n = len(ordered)
    return float(min(1.0, np.min(n * ordered / np.arange(1, n + 1))))


META_SCORE_NAME = "chunk_meta"


@dataclass
class LabelledEvaluation:
    """Every score evaluated on a labelled set (research mode).

    ``table``: one row per score (and the chunk-feature meta-classifier) with ``score, auc, auc_low, auc_high,
    tpr_at_1pct_fpr, tpr_at_0_1pct_fpr, epsilon_mean, epsilon_lower, epsilon_cp_lower`` (roc.EVALUATION_COLUMNS),
    sorted by AUC, then the blind baseline's row ``blind`` (baseline.py), and the boolean column
    ``indistinguishable_from_blind``. ``roc``: long table ``score, fpr, tpr, threshold`` (the blind row's too).
    ``inference``: the set-level test of members (as suspect) against non-members (None with too few documents).
    ``verdict``: that test's Verdict at ``fpr``, inconclusive when the shift check separates the sets.
    """

    table: pd.DataFrame
    roc: pd.DataFrame
    shift: ShiftCheck
    meta: MetaClassifierResult | None
    inference: RankTest | DatasetInference | None
    n_members: int
    n_non_members: int
    notes: list[str]
    fpr: float = DEFAULT_FPR

    @property
    def verdict(self) -> Verdict | None:
        return self.inference.verdict(self.fpr, self.shift) if self.inference else None

    @property
    def blind(self) -> dict | None:
        """The blind baseline's row (None when there is none)."""
        rows = self.table[self.table["score"] == BLIND_SCORE_NAME]
        return rows.iloc[0].to_dict() if len(rows) else None

    def summary(self) -> dict:
        return {
            "verdict": self.verdict.to_dict() if self.verdict else None, "members": self.n_members, "non_members": self.n_non_members, "shift_check": self.shift.summary(),
            "meta_classifier": None if self.meta is None else {"auc": self.meta.auc, "auc_low": self.meta.auc_low,
                                                               "auc_high": self.meta.auc_high,
                                                               "folds": self.meta.folds},
            "dataset_inference": self.inference.summary() if self.inference else None,
            "blind_baseline": self.blind,
            "scores": self.table.to_dict(orient="records"), "notes": self.notes,
        }


def evaluate_labelled(texts: Sequence[str], labels: Sequence[int], table: pd.DataFrame, scores: Sequence[str], *,
                      stats: dict | None = None, chunk_tokens: int = DEFAULT_CHUNK_TOKENS, k: float = DEFAULT_K,
                      n_bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = 0,
                      set_test: str = DEFAULT_SET_TEST) -> LabelledEvaluation:
    """Evaluate every score on a labelled set: shift check first, then ROC / AUC (bootstrap CI) / TPR at low FPR /
    epsilon per score, the document-level meta-classifier over chunk features (when ``stats``, document name ->
    TokenStats, is given), the blind baseline (the shift check's out-of-fold bag-of-words predictions, evaluated
    like a score, on every labelled text) with each score marked when its AUC interval overlaps the baseline's,
    and the set-level test ``set_test`` (SET_TESTS) of members against non-members.

    ``texts`` and ``labels`` (1 = member, 0 = non-member) are the whole labelled set, for the shift check;
    ``table`` holds the score rows of the documents that could be scored, with a ``label`` column.
    """
    y_all = pd.Series(labels, dtype=int)
    members = [t for t, y in zip(texts, y_all) if y == 1]
    non_members = [t for t, y in zip(texts, y_all) if y == 0]
    if not members or not non_members:
        raise ValueError(f"The labelled set needs both members and non-members; it has {len(members)} member(s) and "
                         f"{len(non_members)} non-member(s).")
    shift = shift_check(members, non_members, seed=seed, names=("member", "non-member"))
    if "label" not in table:
        raise ValueError("The score table needs a 'label' column (1 = member, 0 = non-member).")
    y = table["label"].to_numpy(dtype=int)
    scores = [s for s in dict.fromkeys(scores) if s in table]
    evaluation = evaluate_scores(table, y, scores, n_bootstrap=n_bootstrap, seed=seed)
    roc = roc_curves(table, y, scores)
    notes: list[str] = []
    meta = None
    if stats is not None:
        features = np.stack([document_features(stats[name], chunk_tokens, k) for name in table["document"]])
        try:
            meta = meta_classifier(features, y, n_bootstrap=n_bootstrap, seed=seed)
        except ValueError as exc:
            notes.append(f"Meta-classifier not run: {exc}")
        if meta is not None:
            row = evaluation_row(META_SCORE_NAME, y, meta.out_of_fold, n_bootstrap=n_bootstrap, seed=seed)
            evaluation = pd.concat([evaluation, pd.DataFrame([row])], ignore_index=True)
            roc = pd.concat([roc, roc_points(y, meta.out_of_fold).assign(score=META_SCORE_NAME)],
                            ignore_index=True)
    evaluation = evaluation.sort_values("auc", ascending=False, kind="stable").reset_index(drop=True)
    # the blind baseline comes last, after the scores best first, so that "best" always names a score
    evaluation = mark_indistinguishable(pd.concat([evaluation, pd.DataFrame([blind_row(shift, n_bootstrap=n_bootstrap,
                                                                                       seed=seed)])],
                                                  ignore_index=True))
    roc = pd.concat([roc, blind_roc(shift)], ignore_index=True)
    inference = None
    member_rows, other_rows = table[y == 1], table[y == 0]
    test, _, needed, title = SET_TESTS[set_test]
    if min(len(member_rows), len(other_rows)) >= needed:
        inference = test(member_rows, other_rows, scores, **({"seed": seed} if set_test == "split_half" else {}))
    else:
        notes.append(f"Dataset inference needs at least {needed} members and {needed} non-members for the "
                     f"{title}.")
    return LabelledEvaluation(table=evaluation, roc=roc[["score", "fpr", "tpr", "threshold"]], shift=shift, meta=meta,
                              inference=inference, n_members=int(y.sum()), n_non_members=int(len(y) - y.sum()),
                              notes=notes)
