"""Classification losses, each returning ``(loss, dscores)``: the mean over the batch and
its gradient with respect to the scores, so a training step needs one call.
"""

from __future__ import annotations

from typing import Any

from .._validate import check_float, check_labels, check_same_kind, check_shape
from ..backend import arange_like, namespace
from .activations import log_softmax, sigmoid

__all__ = ["binary_cross_entropy", "softmax_cross_entropy"]


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
        ``dlogits = (softmax(logits) - onehot(y)) / N`` of shape ``(N, C)``. Computed through
        ``log_softmax`` (log-sum-exp), so logits of +-1e4 give finite, exact values.
    """
    logits = check_float(logits, "logits")
    sizes = check_shape(logits, "logits", ("N", "C"))
    n, c = sizes["N"], sizes["C"]
    if n == 0:
        raise ValueError("logits is empty: the mean loss of zero examples is undefined")
    y = check_labels(y, "y", n, num_classes=c)
    check_same_kind(logits=logits, y=y)
    xp = namespace(logits)
    logp = log_softmax(logits, axis=1)  # (N, C)
    rows = arange_like(n, logits)
    loss = -xp.mean(logp[rows, y])
    dlogits = xp.exp(logp)  # softmax, (N, C)
    dlogits[rows, y] -= 1.0
    return loss, dlogits / n
