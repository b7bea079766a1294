"""Losses, each returning ``(loss, dpred)``: the mean over the batch (regression losses: over
all elements, as torch) and its gradient with respect to the predictions or scores, so a
training step needs one call.
"""

from __future__ import annotations

from typing import Any

from .._validate import check_float, check_labels, check_same_kind, check_shape
from ..backend import arange_like, namespace
from .activations import log_softmax, sigmoid

__all__ = [
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "huber_loss",
    "mae_loss",
    "mse_loss",
    "softmax_cross_entropy",
    "sparse_categorical_cross_entropy",
]


def binary_cross_entropy(
    scores: Any, y: Any, *, from_logits: bool = True, eps: float = 1e-12
) -> tuple[Any, Any]:
    """Mean binary cross-entropy ``-[y log p + (1 - y) log(1 - p)]`` and its gradient.

    Args:
        scores: logits ``z`` (default) or probabilities ``p`` (``from_logits=False``), shape
            ``(N,)``.
        y: targets in ``[0, 1]`` (usually 0 or 1), shape ``(N,)``, float.
        from_logits: with logits the loss is ``softplus(z) - y z``, exact for any ``z``, and
            the gradient is the famous ``(sigmoid(z) - y) / N``. With probabilities, ``p`` is
            clipped to ``[eps, 1 - eps]`` so that ``log`` stays finite (``eps`` is raised to
            the dtype's machine epsilon where it is smaller, e.g. for float32).

    Returns:
        ``(loss, dscores)``: a 0-d array and the gradient of the loss w.r.t. ``scores``.
    """
    scores, y = check_float(scores, "scores"), check_float(y, "y")
    check_same_kind(scores=scores, y=y)
    sizes = check_shape(scores, "scores", ("N",))
    check_shape(y, "y", ("N",), sizes=sizes)
    n = scores.shape[0]
    if n == 0:
        raise ValueError("scores is empty: the mean loss of zero examples is undefined")
    xp = namespace(scores)
    if from_logits:
        # softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^{-|z|}), never overflows
        softplus = xp.maximum(scores, xp.zeros_like(scores)) + xp.log1p(xp.exp(-xp.abs(scores)))
        loss = xp.mean(softplus - y * scores)
        dscores = (sigmoid(scores) - y) / n
        return loss, dscores
    if bool(xp.any((scores < 0) | (scores > 1))):
        raise ValueError(
            "scores must be probabilities in [0, 1] when from_logits=False; "
            "pass from_logits=True for raw scores"
        )
    eps = max(eps, float(xp.finfo(scores.dtype).eps))  # 1 - 1e-12 rounds to 1 in float32
    p = xp.clip(scores, eps, 1.0 - eps)
    loss = -xp.mean(y * xp.log(p) + (1.0 - y) * xp.log(1.0 - p))
    dscores = (p - y) / (p * (1.0 - p)) / n
    return loss, dscores


def softmax_cross_entropy(logits: Any, y: Any) -> tuple[Any, Any]:
    """Mean softmax cross-entropy from logits, and its gradient.

    Args:
        logits: unnormalised class scores, shape ``(N, C)``.
        y: integer class labels in ``[0, C)``, shape ``(N,)``.

    Returns:
        ``(loss, dlogits)``: ``loss = -mean_i log softmax(logits_i)[y_i]`` (a 0-d array) and
        ``dlogits = (softmax(logits) - onehot(y)) / N`` of shape ``(N, C)``. Computed by
        log-sum-exp on max-shifted logits, so logits of +-1e4 give finite, exact values.
    """
    logits = check_float(logits, "logits")
    if logits.ndim != 2:
        check_shape(logits, "logits", ("N", "C"))
    n, c = logits.shape
    if n == 0:
        raise ValueError("logits is empty: the mean loss of zero examples is undefined")
    y = check_labels(y, "y", n, num_classes=c)
    check_same_kind(logits=logits, y=y)
    xp = namespace(logits)
    shifted = logits - xp.max(logits, axis=1, keepdims=True)  # (N, C), every entry <= 0
    e = xp.exp(shifted)
    total = e.sum(axis=1, keepdims=True)  # (N, 1), in [1, C]: its log is safe
    rows = arange_like(n, logits)
    loss = (xp.log(total[:, 0]) - shifted[rows, y]).sum() / n  # mean of -log softmax[y]
    dlogits = e / (total * n)  # softmax / N, (N, C)
    dlogits[rows, y] -= 1.0 / n
    return loss, dlogits


# -- regression losses ----------------------------------------------------------------------


def _regression_inputs(pred: Any, target: Any) -> tuple[Any, Any, int]:
    """Float arrays of one kind and one shape, non-empty; returns them and their size."""
    pred, target = check_float(pred, "pred"), check_float(target, "target")
    check_same_kind(pred=pred, target=target)
    if tuple(pred.shape) != tuple(target.shape):
        raise ValueError(
            f"target must have the same shape as pred {tuple(pred.shape)}; "
            f"got shape {tuple(target.shape)}"
        )
    size = 1
    for dim in pred.shape:
        size *= int(dim)
    if size == 0:
        raise ValueError("pred is empty: the mean loss of zero elements is undefined")
    return pred, target, size


def mse_loss(pred: Any, target: Any) -> tuple[Any, Any]:
    """Mean squared error ``mean((pred - target)^2)`` and its gradient.

    Args:
        pred: predictions, any shape, float.
        target: targets, the same shape as ``pred``.

    Returns:
        ``(loss, dpred)``: the mean over *all* elements (as ``torch.nn.functional.mse_loss``)
        and ``dpred = 2 (pred - target) / size`` with the shape of ``pred``.
    """
    pred, target, size = _regression_inputs(pred, target)
    xp = namespace(pred)
    diff = pred - target
    return xp.mean(diff * diff), 2.0 * diff / size


def mae_loss(pred: Any, target: Any) -> tuple[Any, Any]:
    """Mean absolute error ``mean(|pred - target|)`` and its (sub)gradient.

    Returns:
        ``(loss, dpred)``: the mean over all elements (as ``torch.nn.functional.l1_loss``)
        and ``dpred = sign(pred - target) / size``; at equality the subgradient 0 is used,
        as torch does.
    """
    pred, target, size = _regression_inputs(pred, target)
    xp = namespace(pred)
    diff = pred - target
    return xp.mean(xp.abs(diff)), xp.sign(diff) / size


def huber_loss(pred: Any, target: Any, delta: float = 1.0) -> tuple[Any, Any]:
    """Huber loss: quadratic for small errors, linear for large ones, and its gradient.

    Per element, with ``r = pred - target``: ``r^2 / 2`` where ``|r| <= delta`` and
    ``delta (|r| - delta / 2)`` elsewhere (as ``torch.nn.functional.huber_loss``).

    Args:
        pred: predictions, any shape, float.
        target: targets, the same shape as ``pred``.
        delta: where the quadratic turns linear, ``> 0``.

    Returns:
        ``(loss, dpred)``: the mean over all elements and ``clip(r, -delta, delta) / size``.
    """
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not delta > 0:
        raise ValueError(f"delta must be a positive number; got {delta!r}")
    pred, target, size = _regression_inputs(pred, target)
    xp = namespace(pred)
    diff = pred - target
    absdiff = xp.abs(diff)
    small = absdiff <= delta
    per_element = xp.where(small, 0.5 * diff * diff, delta * (absdiff - 0.5 * delta))
    return xp.mean(per_element), xp.clip(diff, -delta, delta) / size


# -- cross-entropy with probability targets ------------------------------------------------


def categorical_cross_entropy(logits: Any, targets: Any) -> tuple[Any, Any]:
    """Mean cross-entropy between target distributions and ``softmax(logits)``, and its gradient.

    Args:
        logits: unnormalised class scores, shape ``(N, C)``.
        targets: one probability vector per row (one-hot or soft labels), shape ``(N, C)``,
            float, non-negative, each row summing to 1.

    Returns:
        ``(loss, dlogits)``: ``loss = -mean_i sum_c targets_ic log softmax(logits_i)_c`` and
        ``dlogits = (softmax(logits) - targets) / N``. Stable for any finite logits.
    """
    logits, targets = check_float(logits, "logits"), check_float(targets, "targets")
    check_same_kind(logits=logits, targets=targets)
    sizes = check_shape(logits, "logits", ("N", "C"))
    check_shape(targets, "targets", ("N", "C"), sizes=sizes)
    n = sizes["N"]
    if n == 0:
        raise ValueError("logits is empty: the mean loss of zero examples is undefined")
    xp = namespace(logits)
    if bool(xp.any(targets < 0)):
        raise ValueError("targets must be probabilities (>= 0); got a negative entry")
    row_sums = xp.sum(targets, axis=1)
    tol = 1e-3 if targets.dtype in (xp.float32, xp.float16) else 1e-6
    if bool(xp.any(xp.abs(row_sums - 1.0) > tol)):
        raise ValueError(
            "targets must have rows that sum to 1 (a probability vector per example); "
            "for integer labels use sparse_categorical_cross_entropy"
        )
    logp = log_softmax(logits, axis=1)  # (N, C)
    # 0 * log p is 0 even where p underflows to exp(-inf)
    loss = -xp.sum(xp.where(targets > 0, targets * logp, xp.zeros_like(logp))) / n
    return loss, (xp.exp(logp) - targets) / n


def sparse_categorical_cross_entropy(logits: Any, y: Any) -> tuple[Any, Any]:
    """Cross-entropy with integer labels: the same as :func:`softmax_cross_entropy`.

    Args:
        logits: unnormalised class scores, shape ``(N, C)``.
        y: integer class labels in ``[0, C)``, shape ``(N,)``.

    Returns:
        ``(loss, dlogits)``, equal to ``categorical_cross_entropy(logits, onehot(y))``.
    """
    return softmax_cross_entropy(logits, y)
