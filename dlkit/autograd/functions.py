"""The differentiable ops of the tensor autograd, each a :class:`Function` over arrays.

Layer maths is not written again here: activations, the affine layer and the losses call
the ``dlkit.functional`` kernels (``*_forward`` / ``*_backward``), so one implementation
serves the notebooks, the functional API and the autograd. Each op also has a lower-case
function (``add(a, b)``, ``relu(x)``, ...) that takes and returns tensors.
"""

from __future__ import annotations

import numbers
from typing import Any

from .._validate import check_axis
from ..backend import namespace
from .function import Context, Function, unbroadcast
from .tensor import Tensor

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "matmul", "sum", "mean", "reshape", "transpose",
    "exp", "log", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax",
    "affine", "softmax_cross_entropy", "mse_loss",
]  # fmt: skip

# -- arithmetic (broadcasting: gradients are summed back to each operand's shape) -----------


class Add(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a.shape, b.shape)
        return a + b

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, Any]:
        sa, sb = ctx.saved_values
        return unbroadcast(dout, sa), unbroadcast(dout, sb)


class Sub(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a.shape, b.shape)
        return a - b

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, Any]:
        sa, sb = ctx.saved_values
        return unbroadcast(dout, sa), unbroadcast(-dout, sb)


class Mul(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, Any]:
        a, b = ctx.saved_values
        return unbroadcast(dout * b, a.shape), unbroadcast(dout * a, b.shape)


class Div(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, Any]:
        a, b = ctx.saved_values
        return unbroadcast(dout / b, a.shape), unbroadcast(-dout * a / (b * b), b.shape)


class Neg(Function):
    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        return -a

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        return (-dout,)


class Pow(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, *, exponent: float) -> Any:
        ctx.save_for_backward(a)
        ctx.options["exponent"] = exponent
        return a**exponent

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        (a,) = ctx.saved_values
        k = ctx.options["exponent"]
        return (dout * k * a ** (k - 1),)


class MatMul(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(
                "matmul needs operands with at least 2 dimensions, (..., N, D) @ (..., D, M); "
                f"got shapes {tuple(a.shape)} and {tuple(b.shape)}"
            )
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(
                f"matmul of shapes {tuple(a.shape)} and {tuple(b.shape)}: the last axis of "
                f"the first ({a.shape[-1]}) must equal the second-to-last of the second "
                f"({b.shape[-2]})"
            )
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, Any]:
        a, b = ctx.saved_values
        xp = namespace(a)
        da = dout @ xp.swapaxes(b, -1, -2)  # (..., N, M) @ (..., M, D) -> (..., N, D)
        db = xp.swapaxes(a, -1, -2) @ dout  # (..., D, N) @ (..., N, M) -> (..., D, M)
        return unbroadcast(da, a.shape), unbroadcast(db, b.shape)


# -- reductions and shapes -------------------------------------------------------------------


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    return tuple(sorted(check_axis(a, ndim) for a in axes))


def _expand(dout: Any, shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool) -> Any:
    """Broadcast a reduced gradient back over the reduced ``axes`` of ``shape``."""
    xp = namespace(dout)
    if not keepdims:
        kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
        dout = xp.reshape(dout, kept)
    return xp.broadcast_to(dout, shape)


class Sum(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, *, axis: Any = None, keepdims: bool = False) -> Any:
        axes = _axes(axis, a.ndim)
        ctx.save_for_backward(tuple(a.shape), axes, keepdims)
        return namespace(a).sum(a, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        shape, axes, keepdims = ctx.saved_values
        return (_expand(dout, shape, axes, keepdims),)


class Mean(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, *, axis: Any = None, keepdims: bool = False) -> Any:
        axes = _axes(axis, a.ndim)
        count = 1
        for i in axes:
            count *= int(a.shape[i])
        if count == 0:
            raise ValueError(f"mean over an empty axis of shape {tuple(a.shape)} is undefined")
        ctx.save_for_backward(tuple(a.shape), axes, keepdims, count)
        return namespace(a).mean(a, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        shape, axes, keepdims, count = ctx.saved_values
        return (_expand(dout / count, shape, axes, keepdims),)


class Reshape(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, *, shape: tuple[int, ...]) -> Any:
        ctx.save_for_backward(tuple(a.shape))
        return namespace(a).reshape(a, tuple(shape))

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        return (namespace(dout).reshape(dout, ctx.saved_values[0]),)


class Transpose(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, *, axes: Any = None) -> Any:
        axes = tuple(reversed(range(a.ndim))) if axes is None else tuple(axes)
        if sorted(check_axis(i, a.ndim) for i in axes) != list(range(a.ndim)):
            raise ValueError(f"axes must be a permutation of 0..{a.ndim - 1}; got {axes}")
        axes = tuple(check_axis(i, a.ndim) for i in axes)
        ctx.save_for_backward(axes)
        return namespace(a).permute_dims(a, axes)

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        (axes,) = ctx.saved_values
        inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))
        return (namespace(dout).permute_dims(dout, inverse),)


def add(a: Tensor, b: Tensor) -> Tensor:
    return Add.apply(a, b)


def sub(a: Tensor, b: Tensor) -> Tensor:
    return Sub.apply(a, b)


def mul(a: Tensor, b: Tensor) -> Tensor:
    return Mul.apply(a, b)


def div(a: Tensor, b: Tensor) -> Tensor:
    return Div.apply(a, b)


def neg(a: Tensor) -> Tensor:
    return Neg.apply(a)


def pow(a: Tensor, exponent: float) -> Tensor:  # noqa: A001 (the operator's name)
    """``a ** exponent`` for a constant real exponent."""
    if isinstance(exponent, bool) or not isinstance(exponent, numbers.Real):
        raise TypeError(f"exponent must be a real number; got {type(exponent).__name__}")
    return Pow.apply(a, exponent=float(exponent))


def matmul(a: Tensor, b: Tensor) -> Tensor:
    return MatMul.apply(a, b)


def sum(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return Sum.apply(a, axis=axis, keepdims=keepdims)


def mean(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    return Mean.apply(a, axis=axis, keepdims=keepdims)


def reshape(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    return Reshape.apply(a, shape=tuple(shape))


def transpose(a: Tensor, axes: Any = None) -> Tensor:
    return Transpose.apply(a, axes=axes)


from .nn_functions import (  # noqa: E402  (re-exported: one namespace of ops)
    affine,
    exp,
    gelu,
    leaky_relu,
    log,
    log_softmax,
    mse_loss,
    relu,
    sigmoid,
    softmax,
    softmax_cross_entropy,
    tanh,
)
