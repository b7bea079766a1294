"""Element-wise maths, activations, the affine layer and losses as autograd ops.

Every backward pass here is a ``dlkit.functional`` kernel: ``relu`` uses
``relu_backward``, ``affine`` uses ``affine_backward``, the losses reuse the gradient their
kernel already returns. Adding an op for a new layer (a convolution, an LSTM step) is the
same few lines around that layer's kernels.
"""

from __future__ import annotations

from typing import Any

from .. import functional as K
from ..backend import namespace
from .function import Context, Function
from .loss_functions import loss_op
from .tensor import Tensor

__all__ = [
    "exp", "log", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax",
    "affine", "softmax_cross_entropy", "mse_loss",
]  # fmt: skip


class Exp(Function):
    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        out = namespace(a).exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        return (dout * ctx.saved_values[0],)


class Log(Function):
    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        ctx.save_for_backward(a)
        return namespace(a).log(a)

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        return (dout / ctx.saved_values[0],)


def _elementwise(name: str, kernel: Any, kernel_backward: Any) -> type[Function]:
    def forward(ctx: Context, a: Any, **options: Any) -> Any:
        ctx.save_for_backward(a)
        ctx.options = options
        return kernel(a, **options)

    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        return (kernel_backward(dout, ctx.saved_values[0], **ctx.options),)

    return type(
        name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)}
    )


ReLU = _elementwise("ReLU", K.relu, K.relu_backward)
LeakyReLU = _elementwise("LeakyReLU", K.leaky_relu, K.leaky_relu_backward)
Sigmoid = _elementwise("Sigmoid", K.sigmoid, K.sigmoid_backward)
Tanh = _elementwise("Tanh", K.tanh, K.tanh_backward)
GELU = _elementwise("GELU", K.gelu, K.gelu_backward)


class Softmax(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, *, axis: int = -1) -> Any:
        out = K.softmax(a, axis=axis)
        ctx.save_for_backward(out, axis)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        out, axis = ctx.saved_values
        return (K.softmax_backward(dout, out, axis=axis),)


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, *, axis: int = -1) -> Any:
        out = K.log_softmax(a, axis=axis)
        ctx.save_for_backward(out, axis)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        out, axis = ctx.saved_values  # d/dx (x - lse(x)) applied to dout: dout - p * sum(dout)
        xp = namespace(out)
        return (dout - xp.exp(out) * xp.sum(dout, axis=axis, keepdims=True),)


class Affine(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, w: Any, b: Any) -> Any:
        out, cache = K.affine_forward(x, w, b)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, Any, Any]:
        # like torch, skip dx when x needs no gradient (the data fed to the first layer)
        needs = ctx.needs_input_grad
        return K.affine_backward(dout, ctx.saved_values[0], input_grad=not needs or needs[0])


SoftmaxCrossEntropy = loss_op("SoftmaxCrossEntropy", K.softmax_cross_entropy, target_grad=False)
MSELoss = loss_op("MSELoss", K.mse_loss, target_grad=True)


def exp(x: Tensor) -> Tensor:
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    return Log.apply(x)


def relu(x: Tensor) -> Tensor:
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(x)


def gelu(x: Tensor) -> Tensor:
    return GELU.apply(x)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    return Softmax.apply(x, axis=axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    return LogSoftmax.apply(x, axis=axis)


def affine(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """``x @ w + b`` for ``x`` ``(N, D)``, ``w`` ``(D, M)``, ``b`` ``(M,)`` (one fused op)."""
    return Affine.apply(x, w, b)


def softmax_cross_entropy(logits: Tensor, y: Any) -> Tensor:
    """Mean softmax cross-entropy of ``logits`` ``(N, C)`` with integer labels ``y`` ``(N,)``."""
    return SoftmaxCrossEntropy.apply(logits, y.data if isinstance(y, Tensor) else y)


def mse_loss(pred: Tensor, target: Any) -> Tensor:
    """Mean squared error over all elements (as ``torch.nn.functional.mse_loss``)."""
    return MSELoss.apply(pred, target)
