"""Convolution and pooling as autograd ops, each a few lines around its functional kernel.

``conv2d`` wraps ``conv2d_forward`` / ``conv2d_backward``, ``max_pool2d`` and ``avg_pool2d``
the pooling kernels: the gradients are the kernels' own, tested against torch there. To
flatten feature maps for a dense layer, ``reshape(x, (x.shape[0], -1))`` already is an op
(the :class:`dlkit.nn.Flatten` module does exactly that).
"""

from __future__ import annotations

from typing import Any

from .. import functional as K
from .function import Context, Function
from .tensor import Tensor

__all__ = ["conv2d", "max_pool2d", "avg_pool2d"]


class Conv2d(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, w: Any, *bias: Any, **geometry: Any) -> Any:
        out, cache = K.conv2d_forward(x, w, bias[0] if bias else None, **geometry)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, ...]:
        # like torch, skip dx when x needs no gradient (the images fed to the first layer)
        needs = ctx.needs_input_grad
        dx, dw, db = K.conv2d_backward(dout, ctx.saved_values[0], input_grad=needs[0])
        return (dx, dw) if db is None else (dx, dw, db)


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, **window: Any) -> Any:
        out, cache = K.maxpool2d_forward(x, **window)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        return (K.maxpool2d_backward(dout, ctx.saved_values[0]),)


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, **window: Any) -> Any:
        out, cache = K.avgpool2d_forward(x, **window)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        return (K.avgpool2d_backward(dout, ctx.saved_values[0]),)


def conv2d(
    x: Tensor, w: Tensor, b: Tensor | None = None, stride: Any = 1, pad: Any = 0, dilation: Any = 1
) -> Tensor:
    """2-D convolution of ``x`` ``(N, C, H, W)`` with filters ``w`` ``(F, C, KH, KW)``.

    ``b`` ``(F,)`` is optional; ``stride``, ``pad`` and ``dilation`` are ints or pairs.
    Returns ``(N, F, OH, OW)``; see :func:`dlkit.functional.conv2d_forward`.
    """
    inputs = (x, w) if b is None else (x, w, b)
    return Conv2d.apply(*inputs, stride=stride, pad=pad, dilation=dilation)


def max_pool2d(x: Tensor, size: Any = 2, stride: Any = None) -> Tensor:
    """Max pooling of ``x`` ``(N, C, H, W)`` over ``size`` windows (``stride`` defaults to
    ``size``). See :func:`dlkit.functional.maxpool2d_forward`."""
    return MaxPool2d.apply(x, size=size, stride=stride)


def avg_pool2d(x: Tensor, size: Any = 2, stride: Any = None, pad: Any = 0) -> Tensor:
    """Average pooling of ``x`` ``(N, C, H, W)`` over ``size`` windows, zero ``pad`` counted
    in the mean. See :func:`dlkit.functional.avgpool2d_forward`."""
    return AvgPool2d.apply(x, size=size, stride=stride, pad=pad)
