"""The document-level meta-classifier over chunk features (Meeus et al. 2024): a cross-validated logistic
regression whose out-of-fold scores are evaluated like any other score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .roc import DEFAULT_BOOTSTRAP, DEFAULT_CONFIDENCE, auc_confidence_interval

@dataclass
class MetaClassifierResult:
    """Cross-validated document-level meta-classifier: AUC with bootstrap interval and the out-of-fold scores (n,)
    (higher = member), which can be evaluated like any other score."""

    auc: float
    auc_low: float
    auc_high: float
    out_of_fold: np.ndarray
    folds: int


def meta_classifier(features: ArrayLike, labels: ArrayLike, *, folds: int = 5,
                    n_bootstrap: int = DEFAULT_BOOTSTRAP, confidence: float = DEFAULT_CONFIDENCE,
                    seed: int = 0) -> MetaClassifierResult:
    """Cross-validated membership classifier over document features (n, f) with labels (n,) (1 = member).

    A standardising scaler and a logistic regression are fitted on the training folds only; each document's score
    is the decision value of the model that did not see it (stratified ``folds``-fold cross-validation), so the AUC
    is an honest estimate of how well unseen documents are told apart.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels).ravel().astype(int)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"Expected features of shape (n, f) for {len(y)} labels; got shape {X.shape}.")
    if not np.isfinite(X).all():
        raise ValueError("Some document features are missing (not finite); score those documents again.")
    smallest = int(min(y.sum(), len(y) - y.sum()))
    if smallest < 2:
        raise ValueError("The meta-classifier needs at least 2 members and 2 non-members.")
    n_folds = max(2, min(folds, smallest))
    cv = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    oof = cross_val_predict(model, X, y, cv=cv, method="decision_function")
    auc, low, high = auc_confidence_interval(y, oof, n_bootstrap=n_bootstrap, confidence=confidence, seed=seed)
    return MetaClassifierResult(auc=auc, auc_low=low, auc_high=high, out_of_fold=oof, folds=n_folds)
