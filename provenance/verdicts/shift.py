"""The distribution-shift check (Meeus et al., Inherent Challenges of Post-Hoc Membership Inference): can a
bag-of-words classifier that never sees the model tell two sets of texts apart? If it can, a "member" verdict may
reflect what the texts say rather than training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .checks import check_fraction as _check_fraction
from .verdict import format_p
from .roc import DEFAULT_BOOTSTRAP, DEFAULT_CONFIDENCE, _auc_rows, auc_confidence_interval

DEFAULT_SHIFT_THRESHOLD = 0.6


@dataclass
class ShiftCheck:
    """Can a bag-of-words classifier (no language model) tell two sets of texts apart?

    ``auc`` is the out-of-fold AUC ("first set" = 1, "second set" = 0) with a bootstrap interval [``auc_low``,
    ``auc_high``] over documents (given the out-of-fold predictions). ``p_value`` is a permutation p-value of the
    AUC under "the set labels are exchangeable" (the whole cross-validation is redone on shuffled labels), which,
    unlike the interval, also covers the noise of fitting the classifier and stays valid for tiny sets.
    ``confounded`` is ``auc > threshold`` and ``p_value <= significance``: the sets differ clearly and by more than
    chance. ``telling_words`` are the words the classifier leans on most (either direction); ``reason`` explains
    the finding in plain words. ``out_of_fold`` (n_first + n_second,): the classifier's out-of-fold decision values,
    first set first (higher = more like the first set): the blind baseline's scores (``baseline``); not part of
    ``summary``.
    """

    auc: float
    auc_low: float
    auc_high: float
    p_value: float
    threshold: float
    significance: float
    confounded: bool
    n_first: int
    n_second: int
    n_permutations: int
    telling_words: list[str]
    reason: str
    out_of_fold: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def sentence(self) -> str:
        """The finding as a sentence for people (``reason`` is the same words as a clause, for verdict reasons)."""
        return self.reason[:1].upper() + self.reason[1:] + "."

    def summary(self) -> dict:
        return {"sentence": self.sentence, "auc": self.auc, "auc_low": self.auc_low, "auc_high": self.auc_high, "p_value": self.p_value,
                "threshold": self.threshold, "significance": self.significance, "confounded": self.confounded,
                "n_first": self.n_first, "n_second": self.n_second, "n_permutations": self.n_permutations,
                "telling_words": self.telling_words, "reason": self.reason}


def bag_of_words(texts: Sequence[str]):
    """Texts -> TF-IDF bags of words (unigrams and bigrams, sublinear term frequencies): a sparse matrix (n, words)
    and the fitted vectoriser. The vocabulary and weights use no labels, so they are fitted on all texts once."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    try:
        return vectoriser.fit_transform(list(texts)), vectoriser
    except ValueError as exc:  # e.g. no word at all in the texts
        raise ValueError(f"The bag-of-words classifier could not read words from the texts ({exc}).") from exc


def blind_classifier():
    """The one classifier that never sees the model: a balanced logistic regression on bags of words. The shift
    check and the blind baseline of every labelled evaluation both use it."""
    from sklearn.linear_model import LogisticRegression

    # liblinear shuffles its coordinate descent: a fixed seed makes the out-of-fold values reproducible
    return LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear", dual=True, max_iter=1000,
                              random_state=0)


def out_of_fold_scores(X, labels: np.ndarray, *, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Out-of-fold decision values (n,) of ``blind_classifier`` on features ``X`` (n, words) for ``labels`` (n,)
    (1 = first set / member, higher = more like the first set): each text is scored by a classifier fitted on the
    other folds only (stratified ``folds``-fold cross-validation, at most the smaller class's size, at least 2)."""
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels, dtype=int)
    smallest = int(min(labels.sum(), len(labels) - labels.sum()))
    cv = StratifiedKFold(n_splits=max(2, min(folds, smallest)), shuffle=True, random_state=seed)
    scores = np.empty(len(labels))
    for train, test in cv.split(X, labels):
        scores[test] = blind_classifier().fit(X[train], labels[train]).decision_function(X[test])
    return scores


def blind_scores(texts: Sequence[str], labels: Sequence[int], *, folds: int = 5, seed: int = 0) -> np.ndarray:
    """The blind attack (no model): out-of-fold bag-of-words decision values (n,) for ``texts`` with ``labels``
    (1 = member, 0 = non-member), oriented higher = member like every score. Needs 2 texts of each label."""
    y = np.asarray(labels, dtype=int)
    if min(int(y.sum()), int(len(y) - y.sum())) < 2:
        raise ValueError("The blind baseline needs at least 2 members and 2 non-members.")
    X, _ = bag_of_words(texts)
    return out_of_fold_scores(X, y, folds=folds, seed=seed)


def shift_check(first: Sequence[str], second: Sequence[str], *, threshold: float = DEFAULT_SHIFT_THRESHOLD,
                significance: float = 0.05, folds: int = 5, n_permutations: int = 100,
                n_bootstrap: int = DEFAULT_BOOTSTRAP, confidence: float = DEFAULT_CONFIDENCE, seed: int = 0,
                names: tuple[str, str] = ("suspect", "reference")) -> ShiftCheck:
    """Distribution-shift check between two sets of texts (e.g. suspect vs reference, members vs non-members).

    Texts become TF-IDF bags of words (unigrams and bigrams; the vocabulary and weights use no labels, so they are
    fitted on all texts once) and a logistic regression predicts which set each text comes from. The AUC of the
    out-of-fold predictions (stratified ``folds``-fold cross-validation) says how well the sets can be told apart
    without any model: near 0.5 they say similar things; above ``threshold`` membership scores may differ because
    the texts differ. Small sets give noisy AUCs, so the AUC is also tested against label permutations (at most
    ``n_permutations``, stopping early once 10 permutations beat it: Besag and Clifford's sequential p-value), and
    the sets count as confounded only when the AUC is above ``threshold`` and its permutation p-value is at most
    ``significance``. ``names`` are used in the explanation.
    """
    _check_fraction(significance, "The significance level")
    texts = list(first) + list(second)
    y = np.r_[np.ones(len(first), dtype=int), np.zeros(len(second), dtype=int)]
    smallest = min(len(first), len(second))
    if smallest < 2:
        raise ValueError(f"The shift check needs at least 2 texts in each set; the {names[0]} set has {len(first)} "
                         f"and the {names[1]} set has {len(second)}.")
    try:
        X, vectoriser = bag_of_words(texts)
    except ValueError as exc:
        raise ValueError(f"The shift check could not read words from the texts ({exc.__cause__}).") from exc

    def out_of_fold(labels: np.ndarray) -> np.ndarray:
        return out_of_fold_scores(X, labels, folds=folds, seed=seed)

    oof = out_of_fold(y)
    auc, low, high = auc_confidence_interval(y, oof, n_bootstrap=n_bootstrap, confidence=confidence, seed=seed)
    rng = np.random.default_rng(seed)
    beaten, done, enough = 0, 0, 10
    while done < n_permutations and beaten < enough:
        shuffled = rng.permutation(y)
        beaten += int(_auc_rows(out_of_fold(shuffled)[None, :], shuffled)[0] >= auc)
        done += 1
    p_value = beaten / done if beaten >= enough else (1 + beaten) / (done + 1)
    full = blind_classifier().fit(X, y)
    vocab = vectoriser.get_feature_names_out()
    words = [str(vocab[i]) for i in np.argsort(-np.abs(full.coef_[0]))[:8]]
    confounded = bool(auc > threshold and p_value <= significance)
    interval = f"AUC {auc:.2f}, {confidence:.0%} interval {low:.2f}-{high:.2f}, permutation p = {format_p(p_value)}"
    if confounded:
        reason = (f"a word-count classifier that never looks at the model tells the {names[0]} texts from the "
                  f"{names[1]} texts apart ({interval}; above {threshold:g}); the two sets differ in what they say "
                  f"(telling words: {', '.join(words[:5])}), so a difference in scores may come from the content, "
                  "not from training")
    elif auc > threshold:
        reason = (f"a word-count classifier seems to tell the {names[0]} texts from the {names[1]} texts apart "
                  f"({interval}), but with {smallest} text(s) in the smaller set this is within chance, so the "
                  "check can neither confirm nor rule out that the sets differ; more texts would settle it")
    else:
        reason = (f"a word-count classifier barely tells the {names[0]} texts from the {names[1]} texts apart "
                  f"({interval}; at most {threshold:g}), so the comparison is not explained by what the texts say")
    return ShiftCheck(auc=auc, auc_low=low, auc_high=high, p_value=p_value, threshold=threshold,
                      significance=significance, confounded=confounded, n_first=len(first), n_second=len(second),
                      n_permutations=done, telling_words=words, reason=reason, out_of_fold=oof)
