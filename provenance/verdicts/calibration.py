"""Calibrated verdicts: p-values against a reference set, dataset inference, the distribution-shift check, ROC/AUC.

A score is not a verdict (design.md, "Calibration and verdicts"). Everything here is a pure function of score tables,
texts or TokenStats: no model is loaded or run, so the dashboard and the CLI call the same code. Conventions:

- every score is oriented "higher = more likely a member" (attacks.py), so every test here is one-sided upwards;
- a *reference set* holds texts the model cannot have seen (written after its release, or never published);
- false-positive rates (FPR) and p-values are fractions in [0, 1], not percentages;
- a *labels* array holds 1 for a member and 0 for a non-member.

Parts:
1. per-document p-values against a reference set, thresholds at a chosen FPR, verdict words;
2. dataset inference (Maini et al. 2024), with its false-positive mode;
3. the distribution-shift check (Meeus et al., Inherent Challenges of Post-Hoc Membership Inference);
4. labelled sets: ROC, AUC with bootstrap confidence interval, TPR at low FPR, and a document-level meta-classifier
   over chunk-level token features (Meeus et al. 2024, Did the Neurons Read your Book?).
Labelled tables (.jsonl / .csv with ``text`` and ``label``) are read by ingest.load_labelled_documents.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..scores.formulas import lowest_k_count, standardised_logprob
from ..lm.statistics import TokenStats

DEFAULT_FPR = 0.05
DEFAULT_MIN_TOKENS = 32
DEFAULT_SHIFT_THRESHOLD = 0.6
DEFAULT_SPLITS = 10
DEFAULT_BOOTSTRAP = 1000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_CHUNK_TOKENS = 128
MIN_DATASET_DOCUMENTS = 10

P_VALUE_COMBINATION = (
    "twice the median (lower middle value) of the per-split p-values, capped at 1: the quantile aggregation of "
    "Meinshausen, Meier and Buehlmann (2009), valid however strongly the splits depend on each other (they share "
    "documents, so Fisher's method, which assumes independent p-values, would overstate the evidence)"
)


# ----------------------------------------------------------------------------------------------------------------
# 1. per-document p-values, thresholds and verdict words


def _finite(values: ArrayLike) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[np.isfinite(arr)]


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


def format_p(p: float) -> str:
    """A p-value for reading: three significant digits, scientific notation below 0.001."""
    if not np.isfinite(p):
        return "n/a"
    return f"{p:.3g}" if p >= 1e-3 else f"{p:.2e}"


def verdict_words(p_value: float, fpr: float, problems: Sequence[str] = ()) -> str:
    """The words of design.md: 'evidence of training (p = ..., at FPR ...)', 'no evidence (...)' or
    'inconclusive (what is missing)' when ``problems`` lists anything. Never a bare yes."""
    if problems:
        return f"inconclusive ({'; '.join(problems)})"
    if not np.isfinite(p_value):
        return "inconclusive (no score could be computed)"
    if p_value <= fpr:
        return f"evidence of training (p = {format_p(p_value)}, at FPR {fpr:g})"
    return f"no evidence (p = {format_p(p_value)}, at FPR {fpr:g})"


def document_verdicts(suspect: pd.DataFrame, reference: pd.DataFrame, scores: Sequence[str], *,
                      fpr: float = DEFAULT_FPR, min_tokens: int = DEFAULT_MIN_TOKENS,
                      shift: ShiftCheck | None = None) -> pd.DataFrame:
    """A verdict for every suspect document, from its scores compared with a reference score table.

    ``suspect`` and ``reference`` are score tables (pipeline.score_documents: columns ``document``, ``tokens`` and
    one column per score). Returns one row per suspect document with columns ``document, tokens``, ``p_<score>``
    (empirical p-value of each score, see ``empirical_p_values``), ``p_value`` (Bonferroni over the scores:
    min(1, k * smallest p) for the k scores that could be computed, valid however the scores correlate) and
    ``verdict`` at false-positive rate ``fpr``. The verdict is inconclusive when the document has fewer than
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
    usable = np.isfinite(p).sum(axis=1)
    smallest = np.min(np.where(np.isfinite(p), p, np.inf), axis=1)
    out["p_value"] = np.where(usable > 0, np.minimum(1.0, usable * smallest), np.nan)
    n_reference = min(len(_finite(reference[s])) for s in scores)
    set_problems = []
    needed = min_reference_size(fpr, len(scores))
    if n_reference < needed:
        floor = min(1.0, len(scores) / (n_reference + 1))
        set_problems.append(
            f"reference set too small: {n_reference} reference texts give p-values no smaller than "
            f"{format_p(floor)}, above FPR {fpr:g}; at least {needed} are needed")
    if shift is not None and shift.confounded:
        set_problems.append(f"confounded sets: {shift.reason}")
    verdicts = []
    for i in range(len(out)):
        problems = []
        if tokens is not None and tokens[i] < min_tokens:
            problems.append(f"too few tokens: {int(tokens[i])} scored, at least {min_tokens} needed")
        verdicts.append(verdict_words(float(out["p_value"].iloc[i]), fpr, problems + set_problems))
    out["verdict"] = verdicts
    return out


# ----------------------------------------------------------------------------------------------------------------
# 2. dataset inference


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

    def verdict(self, fpr: float = DEFAULT_FPR, shift: ShiftCheck | None = None) -> str:
        """Verdict words for the whole suspect set at false-positive rate ``fpr`` (confounded if ``shift`` says so)."""
        problems = [f"confounded sets: {shift.reason}"] if shift is not None and shift.confounded else []
        return verdict_words(self.p_value, fpr, problems)

    def summary(self) -> dict:
        """Plain values for JSON reports."""
        return {"p_value": self.p_value, "n_suspect": self.n_suspect, "n_reference": self.n_reference,
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


# ----------------------------------------------------------------------------------------------------------------
# ROC, AUC and bootstrap intervals


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

    With fewer than 1 / fpr non-members this is the TPR at zero false positives (the strictest reachable point).
    """
    _check_fraction(fpr, "The false-positive rate")
    roc = roc_points(labels, scores)
    return float(roc.loc[roc["fpr"] <= fpr + 1e-12, "tpr"].max())


EVALUATION_COLUMNS = ["score", "auc", "auc_low", "auc_high", "tpr_at_1pct_fpr", "tpr_at_0_1pct_fpr",
                      "n_members", "n_non_members"]


def evaluate_scores(table: pd.DataFrame, labels: ArrayLike, scores: Sequence[str], *,
                    n_bootstrap: int = DEFAULT_BOOTSTRAP, confidence: float = DEFAULT_CONFIDENCE,
                    seed: int = 0) -> pd.DataFrame:
    """Every score of a labelled score table compared the way published tools report it, best first.

    ``table`` has one row per document and one column per score; ``labels`` (n,) holds 1 = member, 0 = non-member.
    Returns one row per score with EVALUATION_COLUMNS: AUC with a bootstrap confidence interval, TPR at 1% and 0.1%
    FPR, and how many members / non-members had that score. Sorted by AUC, highest first; a score that no member
    or no non-member has gets NaN figures and comes last.
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
            rows.append({"score": s, "n_members": int((y[have] == 1).sum()),
                         "n_non_members": int((y[have] == 0).sum())})
    return (pd.DataFrame(rows, columns=EVALUATION_COLUMNS)
            .sort_values("auc", ascending=False, kind="stable", na_position="last").reset_index(drop=True))


def evaluation_row(name: str, labels: ArrayLike, scores: ArrayLike, *, n_bootstrap: int = DEFAULT_BOOTSTRAP,
                   confidence: float = DEFAULT_CONFIDENCE, seed: int = 0) -> dict:
    """One row of ``evaluate_scores`` for a single score array (n,) (also used for the meta-classifier)."""
    y, x = _check_labels(labels, scores)
    auc, low, high = auc_confidence_interval(y, x, n_bootstrap=n_bootstrap, confidence=confidence, seed=seed)
    return {"score": name, "auc": auc, "auc_low": low, "auc_high": high,
            "tpr_at_1pct_fpr": tpr_at_fpr(y, x, 0.01), "tpr_at_0_1pct_fpr": tpr_at_fpr(y, x, 0.001),
            "n_members": int(y.sum()), "n_non_members": int(len(y) - y.sum())}


def roc_curves(table: pd.DataFrame, labels: ArrayLike, scores: Sequence[str]) -> pd.DataFrame:
    """ROC points of every score in one long table (columns ``score, fpr, tpr, threshold``) for plotting."""
    _require_columns(table, scores, "labelled")
    parts = [roc_points(labels, table[s].to_numpy(dtype=np.float64)).assign(score=s) for s in scores]
    return pd.concat(parts, ignore_index=True)[["score", "fpr", "tpr", "threshold"]]


# ----------------------------------------------------------------------------------------------------------------
# 3. distribution-shift check


@dataclass
class ShiftCheck:
    """Can a bag-of-words classifier (no language model) tell two sets of texts apart?

    ``auc`` is the out-of-fold AUC ("first set" = 1, "second set" = 0) with a bootstrap interval [``auc_low``,
    ``auc_high``] over documents (given the out-of-fold predictions). ``p_value`` is a permutation p-value of the
    AUC under "the set labels are exchangeable" (the whole cross-validation is redone on shuffled labels), which,
    unlike the interval, also covers the noise of fitting the classifier and stays valid for tiny sets.
    ``confounded`` is ``auc > threshold`` and ``p_value <= significance``: the sets differ clearly and by more than
    chance. ``telling_words`` are the words the classifier leans on most (either direction); ``reason`` explains
    the finding in plain words.
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

    def summary(self) -> dict:
        return {"auc": self.auc, "auc_low": self.auc_low, "auc_high": self.auc_high, "p_value": self.p_value,
                "threshold": self.threshold, "significance": self.significance, "confounded": self.confounded,
                "n_first": self.n_first, "n_second": self.n_second, "n_permutations": self.n_permutations,
                "telling_words": self.telling_words, "reason": self.reason}


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
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    _check_fraction(significance, "The significance level")
    texts = list(first) + list(second)
    y = np.r_[np.ones(len(first), dtype=int), np.zeros(len(second), dtype=int)]
    smallest = min(len(first), len(second))
    if smallest < 2:
        raise ValueError(f"The shift check needs at least 2 texts in each set; the {names[0]} set has {len(first)} "
                         f"and the {names[1]} set has {len(second)}.")
    try:
        X = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    except ValueError as exc:  # e.g. no word at all in the texts
        raise ValueError(f"The shift check could not read words from the texts ({exc}).") from exc
    cv = StratifiedKFold(n_splits=max(2, min(folds, smallest)), shuffle=True, random_state=seed)

    def classifier() -> LogisticRegression:
        return LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear", dual=True, max_iter=1000)

    def out_of_fold(labels: np.ndarray) -> np.ndarray:
        scores = np.empty(len(labels))
        for train, test in cv.split(X, labels):
            scores[test] = classifier().fit(X[train], labels[train]).decision_function(X[test])
        return scores

    oof = out_of_fold(y)
    auc, low, high = auc_confidence_interval(y, oof, n_bootstrap=n_bootstrap, confidence=confidence, seed=seed)
    rng = np.random.default_rng(seed)
    beaten, done, enough = 0, 0, 10
    while done < n_permutations and beaten < enough:
        shuffled = rng.permutation(y)
        beaten += int(_auc_rows(out_of_fold(shuffled)[None, :], shuffled)[0] >= auc)
        done += 1
    p_value = beaten / done if beaten >= enough else (1 + beaten) / (done + 1)
    full = classifier().fit(X, y)
    vocab = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts).get_feature_names_out()
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
                      n_permutations=done, telling_words=words, reason=reason)


# ----------------------------------------------------------------------------------------------------------------
# 4. document-level meta-classifier over chunk features (Meeus et al. 2024)

LOGPROB_BIN_EDGES = (-np.inf, -12.0, -9.0, -7.0, -5.0, -3.0, -2.0, -1.0, -0.5, -0.1, np.inf)
RANK_BUCKETS = (1, 10, 100, 1000)
CHUNK_FEATURE_NAMES = (
    ["mean_logprob", "std_logprob", "mink_logprob", "mean_z", "mink_z", "mean_log_rank"]
    + [f"frac_rank_le_{r}" for r in RANK_BUCKETS]
    + [f"frac_logprob_bin_{i}" for i in range(len(LOGPROB_BIN_EDGES) - 1)]
)
AGGREGATES = ("mean", "min", "max", "std")
DOCUMENT_FEATURE_NAMES = [f"{agg}_{name}" for agg in AGGREGATES for name in CHUNK_FEATURE_NAMES]


def chunk_features(stats: TokenStats, chunk_tokens: int = DEFAULT_CHUNK_TOKENS, k: float = 0.2) -> np.ndarray:
    """Per-chunk token features of one document: array (n_chunks, len(CHUNK_FEATURE_NAMES)), float64.

    The scored tokens are cut into ceil(n / chunk_tokens) nearly equal chunks. For each chunk: mean and standard
    deviation of the token log-probabilities (nats), the mean of its K lowest (Min-K%), the mean and Min-K% of the
    standardised log-probabilities z_t (Min-K%++), the mean natural log of the rank, the fraction of tokens with
    rank <= 1, 10, 100, 1000 (GLTR buckets) and a normalised histogram of log-probabilities over LOGPROB_BIN_EDGES.
    Higher log-probabilities and lower ranks point towards membership.
    """
    if chunk_tokens < 1:
        raise ValueError(f"chunk_tokens must be at least 1; got {chunk_tokens}.")
    if stats.n_scored == 0:
        raise ValueError("A document without scored tokens has no chunk features.")
    lp = stats.logprob.astype(np.float64)
    z = standardised_logprob(stats)
    rank = stats.rank.astype(np.float64)
    rows = []
    for idx in np.array_split(np.arange(stats.n_scored), math.ceil(stats.n_scored / chunk_tokens)):
        c_lp, c_z, c_rank = lp[idx], z[idx], rank[idx]
        K = lowest_k_count(len(idx), k)
        hist = np.histogram(c_lp, bins=np.array(LOGPROB_BIN_EDGES))[0] / len(idx)
        rows.append(np.r_[c_lp.mean(), c_lp.std(), np.sort(c_lp)[:K].mean(), c_z.mean(), np.sort(c_z)[:K].mean(),
                          np.log(c_rank).mean(), [(c_rank <= r).mean() for r in RANK_BUCKETS], hist])
    return np.array(rows)


def document_features(stats: TokenStats, chunk_tokens: int = DEFAULT_CHUNK_TOKENS, k: float = 0.2) -> np.ndarray:
    """Chunk features aggregated over one document's chunks by mean, min, max and standard deviation:
    array (len(DOCUMENT_FEATURE_NAMES),), float64 (see ``chunk_features``)."""
    chunks = chunk_features(stats, chunk_tokens, k)
    return np.concatenate([chunks.mean(axis=0), chunks.min(axis=0), chunks.max(axis=0), chunks.std(axis=0)])


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


# ----------------------------------------------------------------------------------------------------------------
# helpers


def _check_fraction(value: float, what: str) -> None:
    if not 0 < value < 1:
        raise ValueError(f"{what} must be between 0 and 1 (a fraction, e.g. 0.05); got {value}.")


def _require_columns(table: pd.DataFrame, columns: Sequence[str], which: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"The {which} table has no column for score(s) {', '.join(missing)}; score the documents "
                         "with them first.")
