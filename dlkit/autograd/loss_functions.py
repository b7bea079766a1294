"""The remaining losses of ``dlkit.functional`` as autograd ops.

``softmax_cross_entropy`` and ``mse_loss`` live in ``nn_functions.py``; this file adds the
losses that the training API (``dlkit.nn.training``) offers by name: cross-entropy with
probability targets, binary cross-entropy from logits, mean absolute error and Huber. Each
forward pass calls the kernel, which already returns ``(loss, dpred)``; the backward pass only
scales that saved gradient by the incoming ``dout``. Targets never receive a gradient here,
except in the regression losses, whose ``target`` gets ``-dpred`` as in ``mse_loss``.
"""

from __future__ import annotations

from typing import Any

from .. import functional as K
from .function import Context, Function
from .tensor import Tensor

__all__ = ["binary_cross_entropy", "categorical_cross_entropy", "huber_loss", "mae_loss"]


class CategoricalCrossEntropy(Function):
    @staticmethod
    def forward(ctx: Context, logits: Any, targets: Any) -> Any:
        loss, dlogits = K.categorical_cross_entropy(logits, targets)
        ctx.save_for_backward(dlogits)
        return loss

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, None]:
        return ctx.saved_values[0] * dout, None


class BinaryCrossEntropy(Function):
    @staticmethod
    def forward(ctx: Context, scores: Any, y: Any, *, from_logits: bool = True) -> Any:
        loss, dscores = K.binary_cross_entropy(scores, y, from_logits=from_logits)
        ctx.save_for_backward(dscores)
        return loss

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, None]:
        return ctx.saved_values[0] * dout, None


class MAELoss(Function):
    @staticmethod
    def forward(ctx: Context, pred: Any, target: Any) -> Any:
        loss, dpred = K.mae_loss(pred, target)
        ctx.save_for_backward(dpred)
        return loss

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, Any]:
        dpred = ctx.saved_values[0] * dout
        return dpred, -dpred


class HuberLoss(Function):
    @staticmethod
    def forward(ctx: Context, pred: Any, target: Any, *, delta: float = 1.0) -> Any:
        loss, dpred = K.huber_loss(pred, target, delta=delta)
        ctx.save_for_backward(dpred)
        return loss

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, Any]:
        dpred = ctx.saved_values[0] * dout
        return dpred, -dpred


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
