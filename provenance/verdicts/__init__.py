"""Scores -> calibrated verdicts. A score is not a verdict: a verdict says what it was compared with and at what
false-positive rate (design.md, "Calibration and verdicts").

- ``verdict``: the Verdict value and ``decide``, the one path from a p-value to a label;
- ``pvalues``: per-document empirical p-values against a reference set, thresholds, document verdicts;
- ``dataset_inference``: set-level tests (Maini et al. 2024) and their false-positive mode;
- ``shift``: the distribution-shift check (a bag-of-words classifier that never sees the model);
- ``roc``: labelled sets: ROC, AUC with bootstrap intervals, TPR at low FPR, epsilon per score;
- ``baseline``: the blind baseline row beside every AUC (the shift check's classifier evaluated like a score) and
  the scores it cannot be told apart from;
- ``privacy``: the privacy budget (differential-privacy epsilon) an attack's error rates imply: Bayesian posterior
  and Clopper-Pearson lower bound;
- ``meta_classifier``: the document-level classifier over chunk features (scores/chunk_features.py);
- ``sets``: the suspect-vs-reference comparison and the labelled evaluation that put these together.

Everything here is a pure function of score tables, texts or token statistics: no model is loaded or run.
"""

from .baseline import BLIND_SCORE_NAME, INDISTINGUISHABLE_COLUMN, mark_indistinguishable
from .dataset_inference import (DEFAULT_SPLITS, MIN_DATASET_DOCUMENTS, P_VALUE_COMBINATION, DatasetInference,
                                combine_split_p_values, dataset_inference, dataset_inference_false_positive)
from .meta_classifier import MetaClassifierResult, meta_classifier
from .privacy import EPSILON_COLUMNS, EpsilonEstimate, estimate_epsilon
from .pvalues import (DEFAULT_FPR, DEFAULT_MIN_TOKENS, document_verdicts, empirical_p_values, min_reference_size,
                      score_thresholds, threshold_at_fpr)
from .roc import (DEFAULT_BOOTSTRAP, DEFAULT_CONFIDENCE, EVALUATION_COLUMNS, auc_confidence_interval, auc_score,
                  evaluate_scores, evaluation_row, roc_curves, roc_points, tpr_at_fpr)
from .shift import DEFAULT_SHIFT_THRESHOLD, ShiftCheck, blind_scores, shift_check
from .verdict import Label, Verdict, decide, format_p

__all__ = [
    "BLIND_SCORE_NAME", "EPSILON_COLUMNS", "EpsilonEstimate", "INDISTINGUISHABLE_COLUMN", "blind_scores",
    "estimate_epsilon", "mark_indistinguishable",
    "DEFAULT_BOOTSTRAP", "DEFAULT_CONFIDENCE", "DEFAULT_FPR", "DEFAULT_MIN_TOKENS", "DEFAULT_SHIFT_THRESHOLD",
    "DEFAULT_SPLITS", "EVALUATION_COLUMNS", "MIN_DATASET_DOCUMENTS", "P_VALUE_COMBINATION", "DatasetInference",
    "Label", "MetaClassifierResult", "ShiftCheck", "Verdict", "auc_confidence_interval", "auc_score",
    "combine_split_p_values", "dataset_inference", "dataset_inference_false_positive", "decide", "document_verdicts",
    "empirical_p_values", "evaluate_scores", "evaluation_row", "format_p", "meta_classifier", "min_reference_size",
    "roc_curves", "roc_points", "score_thresholds", "shift_check", "threshold_at_fpr", "tpr_at_fpr",
]
