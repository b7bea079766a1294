"""The arrays that ``fit``, ``evaluate`` and ``predict`` receive: checks and conversions.

The computation runs where the model's parameters live. The data is converted to that
kind (NumPy, or torch on the parameters' device) and, for floats, to their dtype, once per
call; integer labels stay integers. Errors name the argument (``x``, ``y``, ``x_val``...).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import as_array
from ..backend import describe, is_array, is_torch, to_numpy

__all__ = ["as_data", "to_model", "pair", "take", "concat", "check_count", "make_rng"]


def as_data(a: Any, name: str) -> Any:
    """``a`` as an array with at least one example on axis 0 (lists become NumPy)."""
    if isinstance(a, (list, tuple)):
        a = np.asarray(a)  # a list of ints stays integer (labels)
    elif not is_array(a):
        a = as_array(a, name)  # raises the TypeError that names the argument
    if a.ndim == 0 or a.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one example along axis 0; got {describe(a)}")
    return a


def to_model(a: Any, like: Any) -> Any:
    """``a`` on the parameters' kind and device; floats in the parameters' dtype."""
    floating = a.dtype.is_floating_point if is_torch(a) else a.dtype.kind == "f"
    if is_torch(like):
        import torch

        a = torch.as_tensor(a, device=like.device)
        return a.to(like.dtype) if floating else a
    a = to_numpy(a)
    return a.astype(like.dtype, copy=False) if floating else a


def pair(model: Any, x: Any, y: Any, names: tuple[str, str] = ("x", "y")) -> tuple[Any, Any]:
    """``(x, y)`` checked to have one ``y`` per example and moved to the model's kind."""
    x, y = as_data(x, names[0]), as_data(y, names[1])
    if y.shape[0] != x.shape[0]:
        raise ValueError(
            f"{names[1]} must have one entry per example of {names[0]}: {names[0]} has "
            f"N={x.shape[0]} rows; got {names[1]} of shape {tuple(y.shape)}"
        )
    like = model.parameters()[0].data
    return to_model(x, like), to_model(y, like)


def take(a: Any, idx: np.ndarray) -> Any:
    """The rows ``idx`` (NumPy integers) of a NumPy array or a tensor on any device."""
    if is_torch(a):
        import torch

        return a[torch.as_tensor(idx, device=a.device)]
    return a[idx]


def concat(parts: list[Any]) -> Any:
    """The batches' arrays joined along axis 0, NumPy or torch."""
    if is_torch(parts[0]):
        import torch

        return torch.cat(parts)
    return np.concatenate(parts)


def check_count(value: Any, name: str, minimum: int) -> int:
    """An int ``>= minimum`` (``epochs``, ``batch_size``), or a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    return int(value)


def make_rng(rng: Any, seed: Any) -> np.random.Generator:
    """The generator for shuffling: ``rng`` itself, a new one from ``seed``, or a fresh one."""
    if rng is not None and seed is not None:
        raise ValueError("pass rng or seed, not both")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a np.random.Generator, e.g. np.random.default_rng(0); "
                f"got {describe(rng)}"
            )
        return rng
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed must be an int; got {describe(seed)}")
    return np.random.default_rng(seed)
