"""The ops that the CNN building blocks add: ``concat``, ``pad2d`` and ``depthwise_conv2d``.

* ``concat`` joins tensors along one axis (Inception joins its branches on the channels);
  its backward pass cuts the gradient back into the pieces.
* ``pad2d`` surrounds the two spatial axes with a constant (``-inf`` before a max pool, so
  that a padded pixel never wins, as torch's ``MaxPool2d(padding=...)`` does); its backward
  pass crops.
* ``depthwise_conv2d`` wraps the ``dlkit.functional.depthwise`` kernel pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..backend import is_torch, namespace
from ..functional.depthwise import depthwise_conv2d_backward, depthwise_conv2d_forward
from .function import Context, Function
from .tensor import Tensor

__all__ = ["concat", "pad2d", "depthwise_conv2d"]


class Concat(Function):
    @staticmethod
    def forward(ctx: Context, *arrays: Any, axis: int = 1) -> Any:
        ndim = arrays[0].ndim
        axis = axis + ndim if axis < 0 else axis
        if not 0 <= axis < ndim:
            raise ValueError(f"axis must be in [-{ndim}, {ndim}); got {axis}")
        for i, a in enumerate(arrays):
            same = a.ndim == ndim and all(
                a.shape[k] == arrays[0].shape[k] for k in range(ndim) if k != axis
            )
            if not same:
                raise ValueError(
                    f"concat needs the same shape on every axis but {axis}; tensor 0 has "
                    f"shape {tuple(arrays[0].shape)}, tensor {i} has {tuple(a.shape)}"
                )
        ctx.save_for_backward(axis, [int(a.shape[axis]) for a in arrays])
        return namespace(*arrays).concat(list(arrays), axis=axis)

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, ...]:
        axis, sizes = ctx.saved_values
        grads, start = [], 0
        for size in sizes:  # each piece gets the slice of the gradient that it produced
            index = (slice(None),) * axis + (slice(start, start + size),)
            grads.append(dout[index])
            start += size
        return tuple(grads)


class Pad2d(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, *, pad: int, value: float = 0.0) -> Any:
        ctx.save_for_backward(pad)
        if pad == 0:
            return x
        if is_torch(x):
            import torch

            return torch.nn.functional.pad(x, (pad, pad, pad, pad), value=value)
        widths = ((0, 0),) * (x.ndim - 2) + ((pad, pad), (pad, pad))
        return namespace(x).pad(x, widths, constant_values=value)

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        (pad,) = ctx.saved_values
        if pad == 0:
            return (dout,)
        return (dout[..., pad:-pad, pad:-pad],)


class DepthwiseConv2d(Function):
    @staticmethod
    def forward(
        ctx: Context, x: Any, w: Any, b: Any, *, stride: int = 1, pad: int = 0, dilation: int = 1
    ) -> Any:
        out, cache = depthwise_conv2d_forward(x, w, b, stride, pad, dilation)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, Any, Any]:
        return depthwise_conv2d_backward(dout, ctx.saved_values[0])


def concat(tensors: Sequence[Tensor], axis: int = 1) -> Tensor:
    """Join tensors along ``axis`` (default 1: the channels of ``(N, C, H, W)`` images)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concat needs at least one tensor; got an empty sequence")
    return Concat.apply(*tensors, axis=axis)


def pad2d(x: Tensor, pad: int, value: float = 0.0) -> Tensor:
    """Surround the last two axes of ``x`` with ``pad`` rows and columns of ``value``."""
    if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
        raise ValueError(f"pad must be an integer >= 0; got {pad!r}")
    return Pad2d.apply(x, pad=pad, value=value)


def depthwise_conv2d(
    x: Tensor, w: Tensor, b: Tensor, *, stride: int = 1, pad: int = 0, dilation: int = 1
) -> Tensor:
    """Depthwise convolution of ``x`` ``(N, C, H, W)`` with ``w`` ``(C, 1, KH, KW)``."""
    return DepthwiseConv2d.apply(x, w, b, stride=stride, pad=pad, dilation=dilation)
