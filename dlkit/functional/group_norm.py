"""Group and instance normalization: statistics per example, over groups of channels.

Group norm splits the ``C`` channels of each example into ``G`` groups of ``C / G`` and
standardizes each group over its channels and pixels. It needs no batch statistics, so it
works the same for a batch of 1 as of 1,000, in training and in evaluation. Its two
extremes are named layers of their own:

* ``G = 1``: one group holding every channel, layer norm over ``(C, H, W)`` (with a
  per-channel ``gamma`` rather than one per entry);
* ``G = C``: one channel per group, **instance norm**: every image and channel standardized
  on its own, which removes each image's per-channel contrast, the "style" of style transfer.

So :func:`instancenorm_forward` is :func:`groupnorm_forward` with ``num_groups = C``, and the
maths lives in one place. Both match ``torch.nn.functional.group_norm`` / ``instance_norm``.
"""

from __future__ import annotations

import math
from typing import Any

from .._validate import check_floats, check_shape
from ..backend import namespace
from .normalization import (
    _per_channel,
    check_eps,
    standardize,
    standardize_backward,
    unpack_cache,
)

__all__ = [
    "groupnorm_forward",
    "groupnorm_backward",
    "instancenorm_forward",
    "instancenorm_backward",
]


def _check_affine(x: Any, gamma: Any, beta: Any) -> tuple[Any, Any, Any]:
    """Check ``x`` ``(N, C, ...)`` and ``gamma``, ``beta`` (both ``(C,)`` or both ``None``)."""
    if (gamma is None) != (beta is None):
        raise ValueError(
            "gamma and beta must both be arrays of shape (C,) or both None (no affine step); "
            f"got gamma {'None' if gamma is None else 'an array'} and "
            f"beta {'None' if beta is None else 'an array'}"
        )
    if gamma is None:
        (x,) = check_floats(x=x)
    else:
        x, gamma, beta = check_floats(x=x, gamma=gamma, beta=beta)
    if x.ndim < 2:
        raise ValueError(
            f"x must be (N, C, ...), e.g. (N, C, H, W); got {x.ndim}-D shape {tuple(x.shape)}"
        )
    if gamma is not None:
        check_shape(gamma, "gamma", (x.shape[1],), names=("C",))
        check_shape(beta, "beta", (x.shape[1],), names=("C",))
    return x, gamma, beta


def _grouped(a: Any, num_groups: int) -> Any:
    """``(N, C, *spatial)`` viewed as ``(N, G, C / G * prod(spatial))``: one row per group."""
    return namespace(a).reshape(a, (a.shape[0], num_groups, -1))


def groupnorm_forward(
    x: Any, gamma: Any, beta: Any, num_groups: int, *, eps: float = 1e-5
) -> tuple[Any, tuple[Any, Any, Any, int]]:
    """Group normalization of ``x`` ``(N, C, ...)`` in ``num_groups`` groups of channels.

    Args:
        x: ``(N, C)``, ``(N, C, L)`` or ``(N, C, H, W)``.
        gamma, beta: per-channel scale and shift, shape ``(C,)``, or both ``None`` (no
            affine step: ``out = xhat``).
        num_groups: ``G``, which must divide ``C``; consecutive channels form a group
            (channels ``0 .. C/G - 1`` are group 0, as in torch).
        eps: added to the variance before the square root.

    Returns:
        ``(out, cache)``: ``out`` of ``x``'s shape; ``cache = (xhat, gamma, inv_std,
        num_groups)`` with ``xhat`` of ``x``'s shape and ``inv_std`` of shape ``(N, G, 1)``.
    """
    if isinstance(num_groups, bool) or not isinstance(num_groups, int):
        raise TypeError(f"num_groups must be an int; got {type(num_groups).__name__}")
    eps = check_eps(eps)
    x, gamma, beta = _check_affine(x, gamma, beta)
    c = x.shape[1]
    if num_groups < 1 or c % num_groups:
        raise ValueError(
            f"num_groups must be a positive divisor of the number of channels C={c} "
            f"(x has shape {tuple(x.shape)}); got num_groups={num_groups}"
        )
    xp = namespace(x)
    groups = _grouped(x, num_groups)  # (N, G, C/G * H * W)
    xhat_g, _, _, inv_std = standardize(groups, (2,), eps)  # inv_std (N, G, 1)
    xhat = xp.reshape(xhat_g, tuple(x.shape))
    out = xhat if gamma is None else _per_channel(gamma, x.ndim) * xhat + _per_channel(beta, x.ndim)
    return out, (xhat, gamma, inv_std, num_groups)


def groupnorm_backward(dout: Any, cache: tuple[Any, Any, Any, int]) -> tuple[Any, Any, Any]:
    """Backward pass of :func:`groupnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)``: ``dx`` of ``x``'s shape by the compact formula inside each
        group, and ``dgamma``, ``dbeta`` of shape ``(C,)`` (``None`` without an affine step).
    """
    dout, xhat, gamma, inv_std, num_groups = unpack_cache(
        dout, cache, ("xhat", "gamma", "inv_std", "num_groups"), "groupnorm_forward"
    )
    xp = namespace(dout)
    if gamma is None:
        dgamma = dbeta = None
        dxhat = dout
    else:
        axes = (0, *range(2, dout.ndim))
        dgamma = xp.sum(dout * xhat, axis=axes)  # (C,)
        dbeta = xp.sum(dout, axis=axes)  # (C,)
        dxhat = dout * _per_channel(gamma, dout.ndim)
    dx_g = standardize_backward(
        _grouped(dxhat, num_groups), _grouped(xhat, num_groups), inv_std, (2,)
    )
    return xp.reshape(dx_g, tuple(dout.shape)), dgamma, dbeta


def instancenorm_forward(
    x: Any, gamma: Any = None, beta: Any = None, *, eps: float = 1e-5
) -> tuple[Any, tuple[Any, Any, Any, int]]:
    """Instance normalization: each example and channel of ``x`` ``(N, C, ...)`` on its own.

    Group norm with ``C`` groups. ``gamma`` and ``beta`` (``(C,)``) are optional, as torch's
    ``InstanceNorm2d(affine=False)`` default; there are no running statistics (torch's
    default ``track_running_stats=False``), so evaluation computes the same thing. Needs
    more than one spatial position: a single value per channel would normalize to 0.

    Returns:
        ``(out, cache)`` as :func:`groupnorm_forward`.
    """
    x_checked, _, _ = _check_affine(x, gamma, beta)
    spatial = math.prod(x_checked.shape[2:])
    if spatial <= 1:
        raise ValueError(
            "instance norm needs more than one spatial position per channel, e.g. x of shape "
            f"(N, C, H, W) with H * W > 1; got shape {tuple(x_checked.shape)}"
        )
    return groupnorm_forward(x, gamma, beta, x_checked.shape[1], eps=eps)


def instancenorm_backward(dout: Any, cache: tuple[Any, Any, Any, int]) -> tuple[Any, Any, Any]:
    """Backward pass of :func:`instancenorm_forward`: ``(dx, dgamma, dbeta)``."""
    return groupnorm_backward(dout, cache)
