"""One implementation, two array libraries.

Every op in dlkit is written once against an *array namespace* ``xp``: the NumPy module
for NumPy arrays, and a torch namespace with NumPy-style names (``axis=``, ``keepdims=``)
for torch tensors on any device. ``namespace(*arrays)`` picks the right one, so

    xp = namespace(x)
    out = xp.maximum(x, 0)

returns a NumPy array for a NumPy input and a torch tensor on the input's device for a
tensor input. The translation for torch comes from ``array_api_compat``; for NumPy its
functions *are* NumPy's, so the reference path pays nothing for the flexibility.

torch is never imported here: we only recognise a tensor when torch is already loaded.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "namespace",
    "is_torch",
    "is_array",
    "to_numpy",
    "erf",
    "asarray_like",
    "arange_like",
    "describe",
]


def is_torch(x: Any) -> bool:
    """True when ``x`` is a torch tensor (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def is_array(x: Any) -> bool:
    """True for a NumPy array or a torch tensor."""
    return isinstance(x, np.ndarray) or is_torch(x)


def namespace(*arrays: Any) -> ModuleType:
    """The array namespace shared by ``arrays`` (NumPy or torch).

    Python scalars and ``None`` are ignored. Mixing NumPy arrays and torch tensors is an
    error: convert one side explicitly so that no silent device copy happens.
    """
    saw_numpy = saw_torch = False
    for a in arrays:  # a plain loop: this runs on every call of every op
        if type(a) is np.ndarray or isinstance(a, np.ndarray):
            saw_numpy = True
        elif is_torch(a):
            saw_torch = True
    if saw_torch and saw_numpy:
        raise TypeError(
            "arguments mix NumPy arrays and torch tensors: "
            f"got {', '.join(describe(a) for a in arrays if is_array(a))}; "
            "convert them to one kind (e.g. torch.as_tensor(x) or x.cpu().numpy())"
        )
    if saw_torch:
        from array_api_compat import torch as torch_namespace

        return torch_namespace
    return np


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy copy (or view) of ``x``, from any device. Tensors are detached first."""
    if is_torch(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def asarray_like(value: Any, like: Any) -> Any:
    """``value`` as an array of the same kind, dtype and device as ``like``."""
    if is_torch(like):
        import torch

        return torch.as_tensor(value, dtype=like.dtype, device=like.device)
    return np.asarray(value, dtype=like.dtype)


def arange_like(n: int, like: Any) -> Any:
    """``0, 1, ..., n-1`` as integers on the device of ``like`` (for advanced indexing)."""
    if is_torch(like):
        import torch

        return torch.arange(n, device=like.device)
    return np.arange(n)


def erf(x: Any) -> Any:
    """The error function, element-wise, for NumPy arrays and torch tensors."""
    if is_torch(x):
        import torch

        return torch.special.erf(x)
    from scipy.special import erf as scipy_erf

    return scipy_erf(x)


def describe(x: Any) -> str:
    """A short description for error messages: kind, shape, dtype and device."""
    if is_torch(x):
        return f"torch.Tensor(shape={tuple(x.shape)}, dtype={x.dtype}, device={x.device})"
    if isinstance(x, np.ndarray):
        return f"numpy.ndarray(shape={x.shape}, dtype={x.dtype})"
    return f"{type(x).__name__} {x!r}"[:80]
