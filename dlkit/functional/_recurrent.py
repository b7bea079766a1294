"""Shared pieces of the recurrent kernels (``rnn.py``, ``lstm.py``, ``gru.py``).

* :func:`check_step` and :func:`check_sequence` validate the arguments of a step function
  and of a full-sequence function: one kind, one dtype and one device, the ranks, and the
  sizes ``N``, ``T``, ``D``, ``H`` that the arrays must agree on. Every message names the
  argument, the shape expected (with the sizes filled in) and the shape received.
* :func:`check_upstream` checks a backward pass's upstream gradient against its cache.
* Small backend shims that NumPy and torch spell differently: results written with
  ``out=`` (no temporary arrays inside the time loop), time-major transposes, and the
  column scale that turns a sigmoid into a ``tanh`` (:func:`sigmoid_scale`).
* :func:`reusable`: large NumPy buffers handed out again by later calls once nothing
  refers to them any more (fresh multi-megabyte arrays cost page faults).

Layout used inside the full-sequence kernels: **time-major** buffers ``(T, N, ...)``, so the
slab of step ``t`` is one contiguous block ``buf[t]``; inputs and outputs keep the public
batch-major ``(N, T, ...)`` layout.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np

from .._validate import check_floats
from ..backend import is_torch, namespace
from ._windows import contiguous, empty

__all__ = [
    "check_step",
    "check_sequence",
    "check_upstream",
    "check_cache",
    "tanh_into",
    "mul_into",
    "one_minus",
    "time_major",
    "batch_major",
    "sigmoid_scale",
    "reusable",
]


def _shape(a: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in a.shape)


def _expect(a: Any, name: str, expected: tuple[int, ...], labels: str, context: str) -> None:
    """``a.shape == expected`` or a ValueError: ``name must have shape labels = expected``."""
    if _shape(a) != expected:
        raise ValueError(
            f"{name} must have shape {labels} = {expected}{context}; got shape {_shape(a)}"
        )


def _check_weights(weights: dict[str, Any], d: int, h: int, gates: int, context: str) -> None:
    """``Wx`` ``(D, G*H)``, ``Wh`` ``(H, G*H)`` and every bias ``(G*H,)``."""
    g = "" if gates == 1 else str(gates)
    for name, a in weights.items():
        if name == "Wx":
            _expect(a, name, (d, gates * h), f"(D, {g}H)", context)
        elif name == "Wh":
            _expect(a, name, (h, gates * h), f"(H, {g}H)", context)
        else:
            _expect(a, name, (gates * h,), f"({g}H,)", context)


def check_step(
    x: Any, states: dict[str, Any], weights: dict[str, Any], gates: int
) -> tuple[Any, ...]:
    """Validate one time step: ``x`` ``(N, D)``, each state ``(N, H)``, weights of ``gates``.

    Returns ``(x, *states, *weights)`` as checked float arrays, in the order given.
    """
    arrays = check_floats(x=x, **states, **weights)
    x = arrays[0]
    if x.ndim != 2:
        raise ValueError(
            f"x must be 2-D with shape (N, D) (one time step); got {x.ndim}-D shape {_shape(x)}"
            + (". For a whole sequence (N, T, D) use the *_forward function" if x.ndim == 3 else "")
        )
    n, d = _shape(x)
    first = next(iter(states))
    h0 = arrays[1]
    if h0.ndim != 2 or int(h0.shape[0]) != n:
        raise ValueError(
            f"{first} must have shape (N, H) with N = {n} from x of shape {_shape(x)}; "
            f"got shape {_shape(h0)}"
        )
    h = int(h0.shape[1])
    context = f" for x of shape {_shape(x)} and {first} of shape {_shape(h0)}"
    for name, a in list(zip(states, arrays[1:], strict=False))[1:]:
        _expect(a, name, (n, h), "(N, H)", context)
    _check_weights(dict(zip(weights, arrays[1 + len(states) :], strict=True)), d, h, gates, context)
    return arrays


def check_sequence(x: Any, h0: Any, weights: dict[str, Any], gates: int) -> tuple[Any, ...]:
    """Validate a whole sequence: ``x`` ``(N, T, D)`` with ``T >= 1``, ``h0`` ``(N, H)``.

    Returns ``(x, h0, *weights)`` as checked float arrays, in the order given.
    """
    arrays = check_floats(x=x, h0=h0, **weights)
    x, h0 = arrays[0], arrays[1]
    if x.ndim != 3:
        raise ValueError(
            f"x must be 3-D with shape (N, T, D) (batch, time, features); got {x.ndim}-D shape "
            f"{_shape(x)}"
            + (
                ". For one time step use the *_step_forward function" if x.ndim == 2 else ""
            )  # fmt: skip
        )
    n, t, d = _shape(x)
    if t == 0:
        raise ValueError(f"x must have at least one time step (T >= 1); got shape {_shape(x)}")
    if h0.ndim != 2 or int(h0.shape[0]) != n:
        raise ValueError(
            f"h0 must have shape (N, H) with N = {n} from x of shape {_shape(x)}; "
            f"got shape {_shape(h0)}"
        )
    context = f" for x of shape {_shape(x)} and h0 of shape {_shape(h0)}"
    _check_weights(dict(zip(weights, arrays[2:], strict=True)), d, int(h0.shape[1]), gates, context)
    return arrays


def check_cache(cache: Any, cls: type, forward: str) -> None:
    """``cache`` is the ``cls`` tuple that ``forward`` returned."""
    if not isinstance(cache, cls):
        raise TypeError(
            f"cache must be the {cls.__name__} that {forward} returned; got {type(cache).__name__}"
        )


def check_upstream(name: str, grad: Any, like: Any, expected: tuple[int, ...], labels: str) -> Any:
    """An upstream gradient ``grad`` of shape ``expected``, of ``like``'s kind and dtype."""
    grad, _ = check_floats(**{name: grad, "the forward's arrays": like})
    _expect(grad, name, expected, labels, " (the forward's output shape)")
    return grad


# -- backend shims ----------------------------------------------------------------------


def tanh_into(a: Any, out: Any) -> Any:
    """``tanh(a)`` written into ``out`` (``out`` may be ``a``)."""
    if is_torch(out):
        import torch

        return torch.tanh(a, out=out)
    return np.tanh(a, out=out)


def mul_into(a: Any, b: Any, out: Any) -> Any:
    """``a * b`` written into ``out``."""
    if is_torch(out):
        import torch

        return torch.mul(a, b, out=out)
    return np.multiply(a, b, out=out)


def one_minus(a: Any) -> Any:
    """``a <- 1 - a``, in place."""
    if is_torch(a):
        return a.neg_().add_(1.0)
    return np.subtract(1.0, a, out=a)  # a Python float: stays in a's dtype


def time_major(a: Any, *, reuse: bool = False) -> Any:
    """``(N, T, ...)`` -> a contiguous ``(T, N, ...)`` copy (in a :func:`reusable` buffer
    when ``reuse``)."""
    xp = namespace(a)
    swapped = xp.permute_dims(a, (1, 0, *range(2, a.ndim)))
    if not reuse:
        return contiguous(swapped)
    out = reusable(tuple(int(s) for s in swapped.shape), a)
    if is_torch(out):
        return out.copy_(swapped)
    np.copyto(out, swapped)
    return out


def batch_major(a: Any, *, reuse: bool = False) -> Any:
    """``(T, N, ...)`` -> a contiguous ``(N, T, ...)`` copy (the public layout)."""
    return time_major(a, reuse=reuse)


def sigmoid_scale(like: Any, pattern: tuple[float, ...], h: int) -> Any:
    """A ``(G*H,)`` vector with ``pattern[k]`` on the columns of gate ``k``.

    Scaling a gate's weight columns lets one elementwise function serve every gate of the
    ``(N, G*H)`` slab. The GRU scales its sigmoid gates by 0.5 and takes ONE ``tanh``, since
    ``sigmoid(a) = (1 + tanh(a / 2)) / 2``; the LSTM scales by -1 (sigmoid gates) and -2
    (``g``) and takes ONE ``exp``, since ``sigmoid(a) = 1 / (1 + exp(-a))`` and ``tanh(a) =
    2 sigmoid(2 a) - 1``. A sign or a power of 2 is exact in binary floating point, so
    ``x @ (Wx * s)`` is exactly ``(x @ Wx) * s``: no rounding is added.
    """
    s = empty((len(pattern) * h,), like)
    for k, value in enumerate(pattern):
        s[k * h : (k + 1) * h] = value
    return s


# -- buffers reused between calls -------------------------------------------------------

_POOL: dict[tuple[tuple[int, ...], str], list[np.ndarray]] = {}
_POOL_LOCK = threading.Lock()
_PER_SHAPE = 6  # buffers kept per (shape, dtype)
_SHAPES = 32  # (shape, dtype) keys kept; the oldest is dropped beyond


def reusable(shape: tuple[int, ...], like: Any) -> Any:
    """An uninitialised array like ``empty(shape, like)``; for NumPy, if possible, one that
    an earlier call allocated and nobody uses any more.

    A fresh multi-megabyte array costs a page fault per 4 KiB page at its first write: more
    than a third of an LSTM forward pass at N=32, T=40, H=128 (measured). A pooled buffer is
    handed out again only when its reference count shows that nothing outside the pool
    holds it -- no cache, no returned array, no view (a NumPy view keeps its base alive) --
    so an array the caller still has is never overwritten. torch tensors: always fresh.
    """
    if is_torch(like):
        return empty(shape, like)
    key = (shape, like.dtype.str)
    with _POOL_LOCK:
        bufs = _POOL.get(key)
        if bufs is None:
            if len(_POOL) >= _SHAPES:
                del _POOL[next(iter(_POOL))]
            bufs = _POOL[key] = []
        for buf in bufs:
            if sys.getrefcount(buf) == 3:  # held only by `bufs`, `buf` and this call
                return buf
        buf = np.empty(shape, dtype=like.dtype)
        if len(bufs) < _PER_SHAPE:
            bufs.append(buf)
        return buf
