"""Activation functions and their backward passes.

Each activation ``f`` is a plain function of an array. Its backward ``f_backward(dout, x)``
takes the upstream gradient ``dout`` (same shape as ``x``) and the forward's input ``x``
(the whole cache an element-wise activation needs) and returns ``dx = dout * f'(x)``.
Softmax is the exception: its backward needs the output, ``softmax_backward(dout, y)``.

All functions accept NumPy arrays or torch tensors of any shape and return the same kind.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validate import check_axis, check_float, check_same_kind
from ..backend import erf, namespace

__all__ = [
    "sigmoid",
    "sigmoid_backward",
    "relu",
    "relu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "tanh",
    "tanh_backward",
    "gelu",
    "gelu_backward",
    "softmax",
    "softmax_backward",
    "log_softmax",
]

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _softmax_axis(x: Any, axis: int) -> int:
    axis = check_axis(axis, x.ndim)
    if x.shape[axis] == 0:
        raise ValueError(
            f"x has shape {tuple(x.shape)}: softmax over axis {axis} needs at least one entry "
            "there (a distribution over zero classes is undefined)"
        )
    return axis


def _grad_args(dout: Any, x: Any, x_name: str = "x") -> tuple[Any, Any]:
    if (  # the common case in one cheap test; the checks below explain anything else
        type(dout) is np.ndarray
        and type(x) is np.ndarray
        and dout.dtype.kind == "f"
        and x.dtype.kind == "f"
        and dout.shape == x.shape
    ):
        return dout, x
    dout = check_float(dout, "dout")
    x = check_float(x, x_name)
    check_same_kind(dout=dout, **{x_name: x})
    if tuple(dout.shape) != tuple(x.shape):
        raise ValueError(
            f"dout must have the same shape as {x_name}, {tuple(x.shape)}; "
            f"got shape {tuple(dout.shape)}"
        )
    return dout, x


def sigmoid(x: Any) -> Any:
    """``1 / (1 + exp(-x))``, computed without overflow for any ``x``.

    ``exp`` only ever sees ``-|x| <= 0``: for ``x >= 0`` we use ``1 / (1 + e^{-x})`` and for
    ``x < 0`` the equal ``e^{x} / (1 + e^{x})``.
    """
    x = check_float(x, "x")
    xp = namespace(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_backward(dout: Any, x: Any) -> Any:
    """``dout * s * (1 - s)`` with ``s = sigmoid(x)``."""
    dout, x = _grad_args(dout, x)
    s = sigmoid(x)
    return dout * s * (1.0 - s)


def relu(x: Any) -> Any:
    """``max(x, 0)`` element-wise."""
    x = check_float(x, "x")
    if type(x) is np.ndarray:
        return np.maximum(x, 0)  # NaN stays NaN, as in torch
    return namespace(x).maximum(x, 0)


def relu_backward(dout: Any, x: Any) -> Any:
    """Pass ``dout`` where ``x > 0``; zero elsewhere (the derivative at 0 is taken as 0)."""
    dout, x = _grad_args(dout, x)
    return dout * (x > 0)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Any:
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise (torch's default slope 0.01)."""
    x = check_float(x, "x")
    xp = namespace(x)
    return xp.where(x > 0, x, negative_slope * x)


def leaky_relu_backward(dout: Any, x: Any, negative_slope: float = 0.01) -> Any:
    """``dout`` where ``x > 0``, ``negative_slope * dout`` elsewhere."""
    dout, x = _grad_args(dout, x)
    xp = namespace(x)
    return xp.where(x > 0, dout, negative_slope * dout)


def tanh(x: Any) -> Any:
    """The hyperbolic tangent, ``(e^x - e^-x) / (e^x + e^-x)``."""
    x = check_float(x, "x")
    return namespace(x).tanh(x)


def tanh_backward(dout: Any, x: Any) -> Any:
    """``dout * (1 - tanh(x)^2)``."""
    dout, x = _grad_args(dout, x)
    t = namespace(x).tanh(x)
    return dout * (1.0 - t * t)


def gelu(x: Any) -> Any:
    """The exact GELU, ``x * Phi(x)`` with ``Phi`` the standard normal CDF (as torch's default)."""
    x = check_float(x, "x")
    return 0.5 * x * (1.0 + erf(x / _SQRT2))


def gelu_backward(dout: Any, x: Any) -> Any:
    """``dout * (Phi(x) + x * phi(x))`` with ``phi`` the standard normal density."""
    dout, x = _grad_args(dout, x)
    xp = namespace(x)
    cdf = 0.5 * (1.0 + erf(x / _SQRT2))
    pdf = _INV_SQRT_2PI * xp.exp(-0.5 * x * x)
    return dout * (cdf + x * pdf)


def softmax(x: Any, axis: int = -1) -> Any:
    """``exp(x) / sum(exp(x))`` along ``axis``, stable for any magnitude.

    Subtracting the maximum first changes nothing mathematically (the factor ``e^{-max}``
    cancels) but keeps every exponent ``<= 0``, so nothing overflows.
    """
    x = check_float(x, "x")
    axis = _softmax_axis(x, axis)
    xp = namespace(x)
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    e = xp.exp(shifted)
    return e / xp.sum(e, axis=axis, keepdims=True)


def softmax_backward(dout: Any, y: Any, axis: int = -1) -> Any:
    """Gradient through softmax given its OUTPUT ``y``: ``y * (dout - sum(dout * y))``."""
    dout, y = _grad_args(dout, y, "y")
    axis = check_axis(axis, y.ndim)
    xp = namespace(y)
    return y * (dout - xp.sum(dout * y, axis=axis, keepdims=True))


def log_softmax(x: Any, axis: int = -1) -> Any:
    """``x - logsumexp(x)`` along ``axis``: log-probabilities without ever forming tiny numbers."""
    x = check_float(x, "x")
    axis = _softmax_axis(x, axis)
    xp = namespace(x)
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
