"""Embeddings: a learned vector per token id, looked up by row.

``embedding_forward(ids, W)`` is ``W[ids]``: the same as multiplying a one-hot matrix by
``W``, without building the one-hot. Its backward pass is therefore a *scatter-add*: row
``v`` of ``dW`` is the sum of the upstream gradients of every position whose id is ``v``.
Ids that repeat (the same character twice in a sentence) must ADD their gradients;
``dW[ids] += dout`` would keep only one of them (NumPy writes each repeated index once), so
the kernel uses ``np.add.at`` (torch: ``index_add_``), which accumulates.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._validate import check_float, check_same_kind
from ..backend import describe, is_torch
from ._windows import zeros

__all__ = ["embedding_forward", "embedding_backward", "check_integers"]


class EmbeddingCache(NamedTuple):
    ids: Any  # integer ids, any shape S
    W: Any  # (V, D), the table (kept for its shape, dtype and device)


def check_integers(a: Any, name: str) -> Any:
    """``a`` as an integer array or tensor (lists become NumPy); bool and floats refused."""
    if isinstance(a, (list, tuple)):
        a = np.asarray(a)
    if isinstance(a, np.ndarray):
        integer = a.dtype.kind in "iu"
    elif is_torch(a):
        integer = not (a.dtype.is_floating_point or a.dtype.is_complex) and "bool" not in str(
            a.dtype
        )
    else:
        raise TypeError(f"{name} must be an integer array or tensor; got {describe(a)}")
    if not integer:
        raise TypeError(
            f"{name} must hold integers (token ids); got dtype {a.dtype}. "
            f"Convert it first, e.g. {name}.astype(np.int64)"
        )
    return a


def _check_range(ids: Any, name: str, size: int, what: str) -> None:
    if ids.numel() if is_torch(ids) else ids.size:
        lo, hi = int(ids.min()), int(ids.max())
        if lo < 0 or hi >= size:
            raise ValueError(
                f"{name} must hold ids in [0, {size}) ({what}); got values from {lo} to {hi}"
            )


def embedding_forward(ids: Any, W: Any) -> tuple[Any, EmbeddingCache]:
    """Row lookup: ``out[...] = W[ids[...]]``.

    Args:
        ids: integer token ids of any shape ``S`` (e.g. ``(N, T)``), each in ``[0, V)``.
        W: the embedding table, ``(V, D)``.

    Returns:
        ``(out, cache)``: ``out`` of shape ``(*S, D)``, ``W``'s dtype, kind and device.
    """
    W = check_float(W, "W")
    if W.ndim != 2:
        raise ValueError(
            f"W must be 2-D with shape (V, D) (one row per token id); got {W.ndim}-D shape "
            f"{tuple(W.shape)}"
        )
    ids = check_integers(ids, "ids")
    check_same_kind(ids=ids, W=W)
    _check_range(ids, "ids", int(W.shape[0]), f"V = {int(W.shape[0])} rows of W")
    return W[ids], EmbeddingCache(ids, W)


def embedding_backward(dout: Any, cache: EmbeddingCache) -> Any:
    """Backward pass of :func:`embedding_forward`: the scatter-add of ``dout`` into ``dW``.

    Args:
        dout: upstream gradient, ``(*S, D)``.
        cache: from :func:`embedding_forward`.

    Returns:
        ``dW`` ``(V, D)``: ``dW[v] = sum of dout[p] over the positions p with ids[p] == v``
        (rows of ids that never occur are zero). There is no gradient for the ids.
    """
    if not isinstance(cache, EmbeddingCache):
        raise TypeError(
            f"cache must be the EmbeddingCache that embedding_forward returned; got "
            f"{type(cache).__name__}"
        )
    ids, W = cache
    dout = check_float(dout, "dout")
    check_same_kind(dout=dout, W=W)
    v, d = (int(s) for s in W.shape)
    expected = (*(int(s) for s in ids.shape), d)
    if tuple(dout.shape) != expected:
        raise ValueError(
            f"dout must have shape (*ids.shape, D) = {expected}; got shape {tuple(dout.shape)}"
        )
    dw = zeros((v, d), dout)  # (V, D)
    flat_ids, rows = ids.reshape(-1), dout.reshape(-1, d)  # (P,), (P, D)
    if is_torch(dw):
        dw.index_add_(0, flat_ids, rows)
    else:
        np.add.at(dw, flat_ids, rows)
    return dw
