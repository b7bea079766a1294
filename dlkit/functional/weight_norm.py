"""Weight normalization: a weight written as a length times a direction, ``w = g * v / ||v||``.

Instead of the activations, weight norm reparametrizes the *weights*: each output unit's
weight vector is split into its length ``g`` (a learned scalar) and its direction
``v / ||v||``. Gradient descent on ``(v, g)`` then changes a unit's scale and its direction
through separate parameters, which conditions the optimization much like batch norm does, at
no cost per example and with no dependence on the batch. It matches torch's
``torch._weight_norm(v, g, dim)`` (behind ``torch.nn.utils.parametrizations.weight_norm``).
"""

from __future__ import annotations

from typing import Any

from .._validate import check_axis, check_floats
from ..backend import namespace

__all__ = ["weightnorm_forward", "weightnorm_backward"]


def _norm_axes(v: Any, dim: int | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes the norm runs over and the shape ``g`` must have."""
    if dim is None:
        return tuple(range(v.ndim)), (1,) * v.ndim
    dim = check_axis(dim, v.ndim, "dim")
    axes = tuple(a for a in range(v.ndim) if a != dim)
    return axes, tuple(v.shape[a] if a == dim else 1 for a in range(v.ndim))


def weightnorm_forward(v: Any, g: Any, *, dim: int | None = 0) -> tuple[Any, tuple[Any, ...]]:
    """``w = g * v / ||v||``, the norm over every axis of ``v`` except ``dim``.

    Args:
        v: the direction parameter, any shape with at least one axis, e.g. a dlkit ``Linear``
            weight ``(D, M)`` (use ``dim=1``: one norm per output unit, over its ``D``
            inputs), a torch ``nn.Linear`` weight ``(M, D)`` (``dim=0``, torch's default) or
            a convolution weight ``(F, C, KH, KW)`` (``dim=0``: one norm per filter).
        g: the lengths, ``v``'s shape with size 1 on every axis but ``dim`` (``(1, M)`` for
            ``v`` ``(D, M)`` and ``dim=1``), as torch stores it.
        dim: the axis that keeps one norm per index; ``None`` for a single norm of the whole
            tensor (``g`` then has shape ``(1, ..., 1)``). Note that torch's low-level
            ``_weight_norm`` spells "whole tensor" as ``dim=-1``; here ``-1`` is the last axis.

    Returns:
        ``(w, cache)``: ``w`` of ``v``'s shape, and ``cache = (v, g, norm, dim)`` with the
        norms ``||v||`` of ``g``'s shape. A direction of length 0 has no direction and raises
        a ``ValueError``.
    """
    v, g = check_floats(v=v, g=g)
    if v.ndim == 0:
        raise ValueError("v must have at least one axis; got a 0-D array")
    axes, g_shape = _norm_axes(v, dim)
    if tuple(g.shape) != g_shape:
        raise ValueError(
            f"g must have shape {g_shape} (v's shape {tuple(v.shape)} with size 1 on every "
            f"axis but dim={dim}); got shape {tuple(g.shape)}"
        )
    xp = namespace(v)
    norm = xp.sqrt(xp.sum(v * v, axis=axes, keepdims=True))  # g's shape
    if not bool(xp.all(norm > 0)):
        raise ValueError(
            "v has a slice of norm 0 along the normalized axes: a zero vector has no direction"
        )
    return g * (v / norm), (v, g, norm, dim)


def weightnorm_backward(dw: Any, cache: tuple[Any, ...]) -> tuple[Any, Any]:
    """Backward pass of :func:`weightnorm_forward`.

    With the direction ``u = v / ||v||`` (so ``w = g u``):

    * ``dg = sum(dw * u)`` over the normed axes: how much the loss wants the unit longer;
    * ``dv = (g / ||v||) * (dw - u * dg)``: the part of ``dw`` along ``u`` is removed, because
      stretching ``v`` does not change ``w``; only turning it does.

    Returns:
        ``(dv, dg)`` of the shapes of ``v`` and ``g``.
    """
    if not (isinstance(cache, tuple) and len(cache) == 4):
        raise TypeError("cache must be the (v, g, norm, dim) tuple from weightnorm_forward")
    v, g, norm, dim = cache
    dw, v = check_floats(dw=dw, v=v)
    if tuple(dw.shape) != tuple(v.shape):
        raise ValueError(
            f"dw must have the weight's shape {tuple(v.shape)}; got shape {tuple(dw.shape)}"
        )
    axes, _ = _norm_axes(v, dim)
    xp = namespace(dw)
    u = v / norm
    dg = xp.sum(dw * u, axis=axes, keepdims=True)  # g's shape
    dv = (g / norm) * (dw - u * dg)
    return dv, dg
