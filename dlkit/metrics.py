"""Classification metrics: accuracy, confusion matrix, precision/recall/F1, ROC and AUC;
and :func:`frechet_distance`, which compares two sets of feature vectors (unit 12 judges a
generator's samples with it).

Metrics are evaluation, not training: nothing here needs a gradient, so every function
takes NumPy arrays, lists or torch tensors (copied to the CPU with ``to_numpy``) and returns
NumPy values and Python floats. Labels are integers ``>= 0``; ``y_true`` and the
predictions must have the same length and be non-empty.

The results equal scikit-learn's (``accuracy_score``, ``confusion_matrix``,
``precision_recall_fscore_support(..., zero_division=0)``,
``roc_curve(..., drop_intermediate=False)``, ``roc_auc_score``), which the tests check.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import describe, is_array, to_numpy

__all__ = [
    "accuracy",
    "confusion_matrix",
    "precision_recall_f1",
    "roc_curve",
    "roc_auc",
    "frechet_distance",
]


# -- argument checks -----------------------------------------------------------------------


def _as_numpy(x: Any, name: str) -> np.ndarray:
    if is_array(x):
        return to_numpy(x)
    if isinstance(x, (list, tuple, range)):
        return np.asarray(x)
    raise TypeError(f"{name} must be a NumPy array, a list or a torch tensor; got {describe(x)}")


def _labels(x: Any, name: str) -> np.ndarray:
    """Integer labels ``>= 0`` of shape ``(N,)`` (booleans count as 0/1)."""
    arr = _as_numpy(x, name)
    if arr.size == 0:
        raise ValueError(f"{name} is empty: a metric of zero examples is undefined")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold integer class labels; got dtype {arr.dtype}. "
            f"Convert it with {name}.astype(int)"
        )
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D with shape (N,); got {arr.ndim}-D shape {arr.shape}")
    if arr.min() < 0:
        raise ValueError(f"{name} must hold labels >= 0; got a smallest value of {arr.min()}")
    return arr.astype(np.int64)


def _same_length(y_true: np.ndarray, other: np.ndarray, name: str) -> None:
    if other.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"{name} must have one entry per example, N={y_true.shape[0]} as y_true; "
            f"got shape {other.shape}"
        )


def _binary_problem(y_true: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    y = _labels(y_true, "y_true")
    if y.max() > 1:
        raise ValueError(
            f"y_true must hold binary labels 0 (negative) and 1 (positive); got values up to "
            f"{y.max()}"
        )
    s = _as_numpy(scores, "scores")
    if s.dtype.kind not in "biuf":
        raise TypeError(f"scores must hold numbers; got dtype {s.dtype}")
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D with shape (N,); got {s.ndim}-D shape {s.shape}")
    _same_length(y, s, "scores")
    s = s.astype(np.float64)
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contains NaN or infinite values")
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == y.size:
        only = "positive" if n_pos else "negative"
        raise ValueError(
            f"y_true holds only {only} examples: the ROC curve and AUC need both classes"
        )
    return y, s


# -- metrics -------------------------------------------------------------------------------


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of examples whose predicted label equals the true one.

    Args:
        y_true: integer labels, shape ``(N,)``.
        y_pred: predicted labels ``(N,)``, or class scores ``(N, C)`` (logits or
            probabilities), in which case the prediction is the row's argmax.
    """
    y = _labels(y_true, "y_true")
    pred = _as_numpy(y_pred, "y_pred")
    if pred.ndim == 2:
        _same_length(y, pred, "y_pred")
        if pred.shape[1] == 0:
            raise ValueError(f"y_pred scores must have at least one class; got shape {pred.shape}")
        pred = np.argmax(pred, axis=1)
    elif pred.ndim != 1:
        raise ValueError(
            f"y_pred must be labels of shape (N,) or scores of shape (N, C); "
            f"got {pred.ndim}-D shape {pred.shape}"
        )
    pred = _labels(pred, "y_pred")
    _same_length(y, pred, "y_pred")
    return float(np.mean(y == pred))


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts ``cm[i, j]`` of examples of true class ``i`` predicted as class ``j``.

    Rows are the true classes and columns the predicted ones, as in scikit-learn, so the
    diagonal holds the correct predictions and ``cm.sum(axis=1)`` the class sizes.

    Args:
        y_true: integer labels in ``[0, num_classes)``, shape ``(N,)``.
        y_pred: predicted integer labels, shape ``(N,)``.
        num_classes: the matrix size; by default one more than the largest label seen.

    Returns:
        an ``int64`` array of shape ``(num_classes, num_classes)``.
    """
    y = _labels(y_true, "y_true")
    pred = _labels(y_pred, "y_pred")
    _same_length(y, pred, "y_pred")
    largest = int(max(y.max(), pred.max()))
    if num_classes is None:
        num_classes = largest + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"num_classes must be an int; got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1; got {num_classes}")
    for name, arr in (("y_true", y), ("y_pred", pred)):
        if arr.max() >= num_classes:
            raise ValueError(
                f"{name} must hold labels in [0, {num_classes}); got a largest value of {arr.max()}"
            )
    k = int(num_classes)
    return np.bincount(y * k + pred, minlength=k * k).reshape(k, k)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` where ``den > 0``, else 0 (scikit-learn's ``zero_division=0``)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def precision_recall_f1(
    y_true: Any, y_pred: Any, average: str = "binary", pos_label: int = 1
) -> tuple[float, float, float]:
    """Precision ``TP / (TP + FP)``, recall ``TP / (TP + FN)`` and their harmonic mean F1.

    Args:
        y_true: integer labels, shape ``(N,)``.
        y_pred: predicted integer labels, shape ``(N,)``.
        average: ``"binary"``: the scores of class ``pos_label`` (the labels must be at most
            two classes, one of them ``pos_label`` when there are two); ``"macro"``: the
            unweighted mean of the per-class scores over the classes present in ``y_true``
            or ``y_pred`` (every class counts the same, however rare); ``"micro"``: the
            scores of the pooled counts over those classes (for single-label problems all
            three equal the accuracy).
        pos_label: the positive class for ``average="binary"``.

    Returns:
        ``(precision, recall, f1)`` as floats. Zero division gives 0, as scikit-learn's
        ``zero_division=0``: precision is 0 when nothing was predicted positive, recall is 0
        when there are no positives, and F1 ``= 2 TP / (2 TP + FP + FN)`` is 0 when that
        denominator is.
    """
    y = _labels(y_true, "y_true")
    pred = _labels(y_pred, "y_pred")
    _same_length(y, pred, "y_pred")
    present = np.union1d(y, pred)
    if average == "binary":
        if isinstance(pos_label, bool) or not isinstance(pos_label, (int, np.integer)):
            raise TypeError(f"pos_label must be an int label; got {pos_label!r}")
        if present.size > 2:
            raise ValueError(
                f"average='binary' needs at most two classes; got labels {present.tolist()}. "
                "Use average='macro' or 'micro' for more classes"
            )
        if present.size == 2 and pos_label not in present:
            raise ValueError(f"pos_label={pos_label} is not one of the labels {present.tolist()}")
        classes = np.array([pos_label])
    elif average in ("macro", "micro"):
        classes = present
    else:
        raise ValueError(f"average must be 'binary', 'macro' or 'micro'; got {average!r}")
    tp = np.array([np.sum((y == c) & (pred == c)) for c in classes])
    fp = np.array([np.sum((y != c) & (pred == c)) for c in classes])
    fn = np.array([np.sum((y == c) & (pred != c)) for c in classes])
    if average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return float(precision.mean()), float(recall.mean()), float(f1.mean())


def roc_curve(y_true: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve: false- and true-positive rates at every threshold.

    Predicting "positive" when ``score >= t`` and lowering ``t`` from above the largest
    score down to the smallest one traces the curve from (0, 0) to (1, 1). Tied scores
    cross a threshold together, so a tie moves the curve diagonally.

    Args:
        y_true: binary labels (1 positive, 0 negative), shape ``(N,)``, both classes present.
        scores: higher means "more positive" (logits, probabilities, any real), shape ``(N,)``.

    Returns:
        ``(fpr, tpr, thresholds)``: ``thresholds`` are ``inf`` followed by the distinct
        scores in decreasing order, and ``fpr[k]``, ``tpr[k]`` are the rates when predicting
        positive for ``score >= thresholds[k]``. As scikit-learn's ``roc_curve`` with
        ``drop_intermediate=False``.
    """
    y, s = _binary_problem(y_true, scores)
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    # the last index of every run of equal scores: a threshold passes a whole tie at once
    last = np.r_[np.flatnonzero(np.diff(s_sorted)), s.size - 1]
    tps = np.cumsum(y_sorted)[last]
    fps = (last + 1) - tps
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return fpr, tpr, np.r_[np.inf, s_sorted[last]]


def roc_auc(y_true: Any, scores: Any) -> float:
    """The area under the ROC curve.

    It equals the probability that a random positive scores above a random negative, a tie
    counting 1/2 (the Mann-Whitney U statistic over ``P * N`` pairs), which is how it is
    computed here: from the average ranks of the scores.

    Args:
        y_true: binary labels (1 positive, 0 negative), shape ``(N,)``, both classes present.
        scores: higher means "more positive", shape ``(N,)``.

    Returns:
        the AUC in ``[0, 1]`` as a float: 1 for a perfect ranking, 0.5 for scores that say
        nothing about the label. Equals scikit-learn's ``roc_auc_score``.
    """
    y, s = _binary_problem(y_true, scores)
    order = np.argsort(s, kind="stable")
    s_sorted = s[order]
    # ranks 1..N, with every run of ties given the average of its ranks
    starts = np.r_[0, np.flatnonzero(np.diff(s_sorted)) + 1]
    ends = np.r_[starts[1:], s.size]
    run_rank = (starts + 1 + ends) / 2.0  # mean of starts+1 .. ends
    ranks = np.empty(s.size)
    ranks[order] = np.repeat(run_rank, ends - starts)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


# -- comparing two sets of samples ---------------------------------------------------------


def _features(x: Any, name: str) -> np.ndarray:
    """Finite feature vectors ``(N, D)`` as float64, ``N >= 2`` (a covariance needs two)."""
    arr = _as_numpy(x, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers; got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D with shape (N, D) (one feature vector per row); "
            f"got {arr.ndim}-D shape {arr.shape}"
        )
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(
            f"{name} needs at least 2 rows (a covariance of one sample is undefined) and "
            f"1 column; got shape {arr.shape}"
        )
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return arr


def _sqrt_psd(s: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (via eigh)."""
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(features_a: Any, features_b: Any) -> float:
    """The Frechet distance between Gaussians fitted to two sets of feature vectors.

    Each set gets its mean and covariance (``np.cov``, divided by ``N - 1``); the distance is
    the squared 2-Wasserstein distance between ``N(mu_a, S_a)`` and ``N(mu_b, S_b)``:

    ``||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2})``.

    With features of an Inception network this is the FID of Heusel et al. (2017). The
    trace of the square root is computed stably as
    ``Tr((S_a^{1/2} S_b S_a^{1/2})^{1/2})``, the sum of the square roots of the eigenvalues of
    a symmetric matrix (negative round-off clipped to 0), so it is real and ``>= 0``.

    Args:
        features_a: ``(N, D)`` feature vectors, ``N >= 2``.
        features_b: ``(M, D)``, the same ``D`` (``M`` may differ from ``N``).

    Returns:
        the distance as a float, ``>= 0``; 0 for two sets with the same mean and covariance.
    """
    a = _features(features_a, "features_a")
    b = _features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"features_a and features_b must have the same number of features D; "
            f"got shapes {a.shape} and {b.shape}"
        )
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    s_a = np.atleast_2d(np.cov(a, rowvar=False))
    s_b = np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _sqrt_psd(s_a)
    middle = root_a @ s_b @ root_a
    eig = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    cross = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    value = float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a) + np.trace(s_b) - 2.0 * cross)
    return max(value, 0.0)
