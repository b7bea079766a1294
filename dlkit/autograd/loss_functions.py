"""The remaining losses of ``dlkit.functional`` as autograd ops.

``softmax_cross_entropy`` and ``mse_loss`` live in ``nn_functions.py``; this file adds the
losses that the training API (``dlkit.nn.training``) offers by name: cross-entropy with
probability targets, binary cross-entropy from logits, mean absolute error and Huber. Each
forward pass calls the kernel, which already returns ``(loss, dpred)``; the backward pass only
scales that saved gradient by the incoming ``dout`` (:func:`loss_op`, which ``nn_functions.py``
uses for its two losses too). Targets never receive a gradient here, except in the regression
losses, whose ``target`` gets ``-dpred``.
"""

from __future__ import annotations

from typing import Any

from .. import functional as K
from .function import Context, Function
from .tensor import Tensor

__all__ = ["binary_cross_entropy", "categorical_cross_entropy", "huber_loss", "mae_loss"]


def loss_op(name: str, kernel: Any, *, target_grad: bool) -> type[Function]:
    """An op around ``kernel(pred, target, **options) -> (loss, dpred)``.

    The backward pass scales the kernel's own gradient by ``dout``. With ``target_grad`` (the
    regression losses, where ``loss`` depends on ``pred - target``) the target receives
    ``-dpred``; class labels and probability targets receive none.
    """

    def forward(ctx: Context, pred: Any, target: Any, **options: Any) -> Any:
        loss, dpred = kernel(pred, target, **options)
        ctx.save_for_backward(dpred)
        return loss

    def backward(ctx: Context, dout: Any) -> tuple[Any, Any]:
        dpred = ctx.saved_values[0] * dout
        return dpred, (-dpred if target_grad else None)

    return type(
        name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)}
    )


CategoricalCrossEntropy = loss_op(
    "CategoricalCrossEntropy", K.categorical_cross_entropy, target_grad=False
)
BinaryCrossEntropy = loss_op("BinaryCrossEntropy", K.binary_cross_entropy, target_grad=False)
MAELoss = loss_op("MAELoss", K.mae_loss, target_grad=True)
HuberLoss = loss_op("HuberLoss", K.huber_loss, target_grad=True)


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def categorical_cross_entropy(logits: Tensor, targets: Any) -> Tensor:
    """Mean cross-entropy of ``softmax(logits)`` ``(N, C)`` against probability rows
    ``targets`` ``(N, C)`` (one-hot or soft labels); ``targets`` gets no gradient."""
    return CategoricalCrossEntropy.apply(logits, _data(targets))


def binary_cross_entropy(scores: Tensor, y: Any, *, from_logits: bool = True) -> Tensor:
    """Mean binary cross-entropy of ``scores`` ``(N,)`` (logits by default) against float
    targets ``y`` ``(N,)`` in ``[0, 1]``; ``y`` gets no gradient."""
    return BinaryCrossEntropy.apply(scores, _data(y), from_logits=from_logits)


def mae_loss(pred: Tensor, target: Any) -> Tensor:
    """Mean absolute error over all elements (as ``torch.nn.functional.l1_loss``)."""
    return MAELoss.apply(pred, target)


def huber_loss(pred: Tensor, target: Any, delta: float = 1.0) -> Tensor:
    """Mean Huber loss over all elements (as ``torch.nn.functional.huber_loss``)."""
    return HuberLoss.apply(pred, target, delta=delta)
