"""Gradient checks, two ways, in float64.

* :func:`check_gradient` compares every element of an analytic gradient with central
  differences ``(f(x + h e_i) - f(x - h e_i)) / 2h`` (small inputs; exact localisation).
* :func:`check_directional` compares one directional derivative along a random unit vector
  ``v``: ``(f(x + h v) - f(x - h v)) / 2h`` against ``<grad, v>`` (any size; one number).

:func:`check_layer_gradients` applies both to a ``forward``/``backward`` pair.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..backend import is_array, to_numpy
from .compare import CheckFailed

__all__ = [
    "numerical_gradient",
    "check_gradient",
    "check_directional",
    "check_layer_gradients",
]


def _require_float64(x: Any, name: str) -> None:
    if not is_array(x):
        raise TypeError(f"{name} must be an array or tensor; got {type(x).__name__}")
    if "float64" not in str(x.dtype):
        raise TypeError(
            f"{name} must be float64 for a gradient check (float32 rounding swamps the "
            f"finite differences); got {x.dtype}"
        )


def _scalar(value: Any, name: str = "f(x)") -> float:
    arr = to_numpy(value)
    if arr.size != 1:
        raise ValueError(f"{name} must return a scalar; got shape {arr.shape}")
    return float(arr.reshape(()))


def numerical_gradient(f: Callable[[Any], Any], x: Any, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f`` at ``x`` (float64).

    ``x`` is perturbed in place, one element at a time, and restored afterwards.
    """
    _require_float64(x, "x")
    grad = np.zeros(tuple(x.shape), dtype=np.float64)
    for idx in np.ndindex(*grad.shape):
        old = float(x[idx])
        x[idx] = old + h
        plus = _scalar(f(x))
        x[idx] = old - h
        minus = _scalar(f(x))
        x[idx] = old
        grad[idx] = (plus - minus) / (2.0 * h)
    return grad


def check_gradient(
    f: Callable[[Any], Any],
    x: Any,
    analytic: Any,
    *,
    name: str = "gradient",
    h: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> None:
    """Element-wise check of ``analytic`` (dL/dx) against central differences of ``f``."""
    if analytic is None:
        raise CheckFailed(f"{name} is None: did your backward pass forget to return it?")
    a = to_numpy(analytic).astype(np.float64)
    if a.shape != tuple(x.shape):
        raise CheckFailed(
            f"{name} has shape {a.shape} but must match its input's shape {tuple(x.shape)}"
        )
    num = numerical_gradient(f, x, h)
    bad = ~np.isclose(a, num, rtol=rtol, atol=atol)
    if bad.any():
        idx = np.unravel_index(int(np.argmax(np.where(bad, np.abs(a - num), -1))), a.shape)
        i = tuple(int(k) for k in idx)
        raise CheckFailed(
            f"{name} does not match the numerical gradient at {int(bad.sum())} of {a.size} "
            f"elements.\n  worst at index {i}: analytic {a[idx]:.8g}, numerical {num[idx]:.8g}"
        )


def check_directional(
    f: Callable[[Any], Any],
    x: Any,
    analytic: Any,
    *,
    rng: np.random.Generator,
    name: str = "gradient",
    h: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
) -> None:
    """Check ``<analytic, v>`` against the directional difference along a random unit ``v``."""
    _require_float64(x, "x")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator, e.g. np.random.default_rng(0)")
    if analytic is None:
        raise CheckFailed(f"{name} is None: did your backward pass forget to return it?")
    a = to_numpy(analytic).astype(np.float64)
    if a.shape != tuple(x.shape):
        raise CheckFailed(f"{name} has shape {a.shape} but must match {tuple(x.shape)}")
    v = rng.standard_normal(a.shape)
    v /= max(np.linalg.norm(v), 1e-300)
    step = v if isinstance(x, np.ndarray) else _like(v, x)
    x0 = x.copy() if isinstance(x, np.ndarray) else x.clone()
    plus = _scalar(f(x0 + h * step))
    minus = _scalar(f(x0 - h * step))
    numeric = (plus - minus) / (2.0 * h)
    predicted = float(np.vdot(a, v))
    if not np.isclose(predicted, numeric, rtol=rtol, atol=atol):
        raise CheckFailed(
            f"{name} fails the directional check: along a random direction v, "
            f"<{name}, v> = {predicted:.8g} but the finite difference gives {numeric:.8g}"
        )


def _like(v: np.ndarray, x: Any) -> Any:
    import torch

    return torch.as_tensor(v, dtype=x.dtype, device=x.device)


def check_layer_gradients(
    forward: Callable[..., tuple[Any, Any]],
    backward: Callable[[Any, Any], Any],
    inputs: Mapping[str, Any],
    *,
    rng: np.random.Generator,
    elementwise: bool = True,
    **kwargs: Any,
) -> None:
    """Check every gradient a ``backward`` returns against its ``forward``.

    ``forward(**inputs, **kwargs)`` returns ``(out, cache)``; ``backward(dout, cache)`` returns
    the gradient for each entry of ``inputs``, in order (a single array if there is one input).
    The scalar checked is ``L = sum(out * dout)`` for a fixed random ``dout``, whose gradient
    w.r.t. ``out`` is exactly ``dout``. Inputs must be float64.
    """
    names = list(inputs)
    for key in names:
        _require_float64(inputs[key], key)
    out, cache = forward(**inputs, **kwargs)
    dout_np = rng.standard_normal(tuple(out.shape))
    dout = dout_np if isinstance(out, np.ndarray) else _like(dout_np, out)
    grads = backward(dout, cache)
    if len(names) == 1 and not isinstance(grads, tuple):
        grads = (grads,)
    if not isinstance(grads, tuple) or len(grads) != len(names):
        raise CheckFailed(
            f"backward must return {len(names)} gradient(s) ({', '.join('d' + n for n in names)})"
            f" in that order; got {type(grads).__name__}"
            + (f" of length {len(grads)}" if isinstance(grads, tuple) else "")
        )
    for key, grad in zip(names, grads, strict=True):

        def loss(value: Any, key: str = key) -> float:
            args = dict(inputs)
            args[key] = value
            return float(np.vdot(to_numpy(forward(**args, **kwargs)[0]), dout_np))

        if elementwise:
            check_gradient(loss, inputs[key], grad, name=f"d{key}")
        else:
            check_directional(loss, inputs[key], grad, rng=rng, name=f"d{key}")
