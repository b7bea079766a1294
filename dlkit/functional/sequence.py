"""Training and generating with sequence models: a masked loss, gradient clipping, sampling.

* :func:`sequence_cross_entropy`: softmax cross-entropy at every time step of a padded
  batch, averaged over the real (unmasked) positions only;
* :func:`clip_grad_norm`: rescale a list of gradients so that their global L2 norm is at most
  ``max_norm``, as ``torch.nn.utils.clip_grad_norm_`` (the cure for exploding gradients);
* :func:`sample`: draw token ids from ``softmax(logits / temperature)`` with an explicit
  generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validate import check_float, check_same_kind
from ..backend import arange_like, asarray_like, describe, is_torch, namespace
from .embedding import check_integers

__all__ = ["sequence_cross_entropy", "clip_grad_norm", "sample"]


def _check_mask(mask: Any, shape: tuple[int, ...], like: Any) -> Any:
    """``mask`` ``(N, T)`` of bools or 0/1 numbers, as a boolean array of ``like``'s kind."""
    if isinstance(mask, (list, tuple)):
        mask = np.asarray(mask)
    if not (isinstance(mask, np.ndarray) or is_torch(mask)):
        raise TypeError(
            f"mask must be a boolean or 0/1 array of shape (N, T); got {describe(mask)}"
        )
    check_same_kind(mask=mask, logits=like)
    if tuple(mask.shape) != shape:
        raise ValueError(f"mask must have shape (N, T) = {shape}; got shape {tuple(mask.shape)}")
    xp = namespace(mask)
    if "bool" in str(mask.dtype):
        return mask
    if not bool(xp.all((mask == 0) | (mask == 1))):
        raise ValueError("mask must hold only True/False or 0/1 (1 where a position counts)")
    return mask != 0


def sequence_cross_entropy(logits: Any, targets: Any, mask: Any = None) -> tuple[Any, Any]:
    """Mean softmax cross-entropy over the unmasked positions of a batch of sequences.

    Args:
        logits: scores ``(N, T, V)``.
        targets: integer ids ``(N, T)``, in ``[0, V)`` wherever ``mask`` is True; padding
            positions may hold anything (a pad id, or ``-100`` as torch's ``ignore_index``).
        mask: ``(N, T)`` booleans or 0/1, True (1) where the position counts; ``None``: all.

    Returns:
        ``(loss, dlogits)``: ``loss = -sum_{mask} log softmax(logits)[target] / M`` (a 0-d
        array) with ``M`` the number of True entries, and ``dlogits`` ``(N, T, V)``:
        ``(softmax - onehot) / M`` at counted positions and exactly zero at padding, whatever
        the logits there (even inf or NaN). The same as ``F.cross_entropy(logits.reshape(-1,
        V), targets_with_-100_at_padding.reshape(-1), ignore_index=-100)``.
    """
    logits = check_float(logits, "logits")
    if logits.ndim != 3:
        raise ValueError(
            f"logits must be 3-D with shape (N, T, V); got {logits.ndim}-D shape "
            f"{tuple(logits.shape)}"
        )
    n, t, v = (int(s) for s in logits.shape)
    targets = check_integers(targets, "targets")
    check_same_kind(targets=targets, logits=logits)
    if tuple(targets.shape) != (n, t):
        raise ValueError(
            f"targets must have shape (N, T) = {(n, t)} for logits of shape {(n, t, v)}; "
            f"got shape {tuple(targets.shape)}"
        )
    xp = namespace(logits)
    if mask is None:
        m = xp.ones((n, t), dtype=xp.bool, device=logits.device) if is_torch(logits) else None
        m = np.ones((n, t), dtype=bool) if m is None else m
    else:
        m = _check_mask(mask, (n, t), logits)
    m = m.reshape(-1)  # (N*T,)
    count = int(m.sum())
    if count == 0:
        raise ValueError(
            "mask has no True entry: the mean loss over zero positions is undefined "
            "(is the batch all padding?)"
        )
    y = targets.reshape(-1)
    y = xp.where(m, y, xp.zeros_like(y))  # padding ids never index anything
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= v:
        raise ValueError(f"targets must be in [0, {v}) at unmasked positions; got {lo} to {hi}")
    flat = logits.reshape(n * t, v)
    shifted = flat - xp.max(flat, axis=1, keepdims=True)  # (N*T, V), every entry <= 0
    e = xp.exp(shifted)
    total = e.sum(axis=1, keepdims=True)  # (N*T, 1)
    rows = arange_like(n * t, logits)
    nll = xp.log(total[:, 0]) - shifted[rows, y]  # (N*T,)
    loss = xp.where(m, nll, xp.zeros_like(nll)).sum() / count
    dlogits = e / total
    dlogits[rows, y] -= 1.0
    dlogits = xp.where(m[:, None], dlogits * (1.0 / count), xp.zeros_like(dlogits))
    return loss, dlogits.reshape(n, t, v)


def clip_grad_norm(grads: Sequence[Any], max_norm: float) -> tuple[list[Any], Any]:
    """Scale a list of gradients down so that their global L2 norm is at most ``max_norm``.

    The norm is over all arrays together, ``sqrt(sum_k sum(g_k^2))``. Every array is
    multiplied by ``min(1, max_norm / (norm + 1e-6))``, exactly the rule of
    ``torch.nn.utils.clip_grad_norm_`` (the ``1e-6`` guards against division by zero), so
    the direction of the update is kept and only its length shrinks.

    Args:
        grads: a list (or tuple) of float arrays or tensors of one kind (``None`` entries,
            parameters without a gradient, are passed through).
        max_norm: the largest allowed norm, ``> 0``.

    Returns:
        ``(clipped, total_norm)``: NEW arrays (the inputs are never modified; assign them
        back, e.g. ``p.grad = g``) in the order given, and the norm BEFORE clipping as a
        0-d array of the gradients' kind (``float(total_norm)`` for a number).
    """
    if isinstance(grads, (np.ndarray,)) or is_torch(grads) or not isinstance(grads, Sequence):
        raise TypeError(f"grads must be a list of arrays, e.g. [dW1, db1]; got {describe(grads)}")
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float, np.number)):
        raise TypeError(f"max_norm must be a number > 0; got {describe(max_norm)}")
    if not max_norm > 0 or math.isnan(max_norm):
        raise ValueError(f"max_norm must be > 0; got {max_norm!r}")
    present = {
        f"grads[{k}]": check_float(g, f"grads[{k}]") for k, g in enumerate(grads) if g is not None
    }
    if not present:
        raise ValueError("grads holds no array: nothing to clip")
    check_same_kind(**present)
    arrays = list(present.values())
    xp = namespace(*arrays)
    total = xp.sqrt(sum(xp.sum(g * g) for g in arrays))  # 0-d
    if is_torch(total):  # no sync with the device: the factor stays a tensor
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        clipped = [None if g is None else g * coef.to(g.dtype) for g in _fill(grads, present)]
    else:  # a Python float keeps float32 arrays float32
        coef = min(1.0, max_norm / (float(total) + 1e-6))
        clipped = [None if g is None else g * coef for g in _fill(grads, present)]
    return clipped, total


def _fill(grads: Sequence[Any], present: dict[str, Any]) -> list[Any]:
    """The checked arrays in the order of ``grads``, ``None`` where ``grads`` had ``None``."""
    return [present.get(f"grads[{k}]") for k in range(len(grads))]


def sample(logits: Any, temperature: float = 1.0, rng: Any = None) -> Any:
    """Draw one id per row from ``softmax(logits / temperature)``.

    Args:
        logits: scores ``(..., V)``, e.g. ``(V,)`` for one next token or ``(N, V)``.
        temperature: ``> 0``. 1 samples the model's distribution; below 1 sharpens it
            (towards the argmax as it goes to 0); above 1 flattens it (towards uniform).
        rng: a ``np.random.Generator`` (any kind of ``logits``: the uniforms are drawn with
            NumPy and moved to the tensor's device, so a seed gives the same ids on every
            backend) or, for tensors, a ``torch.Generator`` on their device. Required.

    Returns:
        integer ids of shape ``logits.shape[:-1]`` (int64, ``logits``'s kind and device).
        By inversion: with ``u ~ U[0, 1)`` per row, the id is the first ``k`` whose
        cumulative probability exceeds ``u``.
    """
    logits = check_float(logits, "logits")
    if logits.ndim < 1 or int(logits.shape[-1]) == 0:
        raise ValueError(f"logits must have shape (..., V) with V >= 1; got {tuple(logits.shape)}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.number)):
        raise TypeError(f"temperature must be a number > 0; got {describe(temperature)}")
    if not (temperature > 0 and math.isfinite(temperature)):
        raise ValueError(
            f"temperature must be a finite number > 0 (use argmax for greedy decoding); "
            f"got {temperature!r}"
        )
    xp = namespace(logits)
    batch = tuple(int(s) for s in logits.shape[:-1])
    if isinstance(rng, np.random.Generator):
        u = asarray_like(rng.random(batch), logits)
    elif is_torch(logits) and type(rng).__name__ == "Generator" and hasattr(rng, "manual_seed"):
        import torch

        u = torch.rand(batch, generator=rng, dtype=logits.dtype, device=logits.device)
    else:
        raise TypeError(
            "rng must be a np.random.Generator, e.g. rng=np.random.default_rng(0) (or a "
            f"torch.Generator for tensors); got {describe(rng)}"
        )
    scaled = logits / temperature
    p = xp.exp(scaled - xp.max(scaled, axis=-1, keepdims=True))  # unnormalised, max entry 1
    cdf = xp.cumulative_sum(p, axis=-1)  # (..., V)
    threshold = u[..., None] * cdf[..., -1:]  # u * total, in [0, total)
    ids = xp.sum(cdf <= threshold, axis=-1)  # the first k with cdf_k > u * total
    ids = xp.minimum(ids, xp.full_like(ids, int(logits.shape[-1]) - 1))  # rounding at the top
    return ids.astype(np.int64, copy=False) if isinstance(ids, np.ndarray) else ids
