"""Batch and layer normalization: standardize, then scale and shift.

Both layers compute ``xhat = (x - mean) / sqrt(var + eps)`` and return
``out = gamma * xhat + beta``; they differ only in *which* entries share a mean and a
variance:

* **batch norm** averages over the batch (and, for images, over the pixels): one mean and
  variance per feature or channel, so an example's output depends on the other examples of
  its batch; in evaluation it uses running averages collected during training instead;
* **layer norm** averages over the features of one example: one mean and variance per
  example (per token in a sequence), the same in training and evaluation.

Group and instance norm live in ``group_norm.py``, weight norm in ``weight_norm.py``. Every
function here works on NumPy arrays and torch tensors alike, and matches
``torch.nn.functional.batch_norm`` / ``layer_norm`` (biased variance inside the square root,
``eps`` added to the variance).
"""

from __future__ import annotations

import math
from typing import Any

from .._validate import check_floats, check_shape
from ..backend import is_torch, namespace

__all__ = [
    "batchnorm_forward",
    "batchnorm_backward",
    "layernorm_forward",
    "layernorm_backward",
]


# -- shared pieces (group norm reuses them) ---------------------------------------------


def check_eps(eps: Any) -> float:
    """``eps`` as a finite float ``>= 0``."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float)):
        raise TypeError(f"eps must be a float >= 0, e.g. 1e-5; got {type(eps).__name__} {eps!r}")
    if not (math.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite float >= 0, e.g. 1e-5; got {eps!r}")
    return float(eps)


def standardize(x: Any, axes: tuple[int, ...], eps: float) -> tuple[Any, Any, Any, Any]:
    """``(xhat, mean, var, inv_std)`` with the statistics over ``axes`` (kept as size 1).

    ``var`` is the *biased* variance (divided by the count ``M``, not ``M - 1``): it is the
    variance of the numbers actually being normalized, and what torch uses in this step.
    """
    xp = namespace(x)
    mean = xp.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    var = xp.mean(centered * centered, axis=axes, keepdims=True)
    inv_std = 1.0 / xp.sqrt(var + eps)
    return centered * inv_std, mean, var, inv_std


def standardize_backward(dxhat: Any, xhat: Any, inv_std: Any, axes: tuple[int, ...]) -> Any:
    """Gradient through ``xhat = (x - mean(x)) * inv_std(x)`` when the statistics depend on x.

    With ``M`` entries per group, the compact formula is

    ``dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))``,

    the means over ``axes``: the two subtracted terms are the paths through the mean and
    through the variance.
    """
    xp = namespace(dxhat)
    mean_d = xp.mean(dxhat, axis=axes, keepdims=True)
    mean_dx = xp.mean(dxhat * xhat, axis=axes, keepdims=True)
    return inv_std * (dxhat - mean_d - xhat * mean_dx)


def _detached(a: Any) -> Any:
    """``a`` cut out of torch's autograd graph (a running statistic is not trained)."""
    return a.detach() if is_torch(a) else a


def _bn_axes(x: Any) -> tuple[int, ...]:
    """Every axis but the channel axis 1: ``(0,)`` for ``(N, D)``, ``(0, 2, 3)`` for images."""
    return (0, *range(2, x.ndim))


def _per_channel(a: Any, ndim: int) -> Any:
    """A ``(C,)`` array reshaped to broadcast over ``(N, C, *spatial)``: ``(1, C, 1, ...)``."""
    return namespace(a).reshape(a, (1, a.shape[0]) + (1,) * (ndim - 2))


# -- batch norm -------------------------------------------------------------------------


def unpack_cache(dout: Any, cache: Any, fields: tuple[str, ...], forward: str) -> tuple:
    """``(dout, *cache)`` after checking that ``cache`` is the ``fields`` tuple that ``forward``
    returned and that ``dout`` has the shape of its first field, ``xhat`` (both as floats)."""
    if not (isinstance(cache, tuple) and len(cache) == len(fields)):
        raise TypeError(f"cache must be the ({', '.join(fields)}) tuple from {forward}")
    xhat, *rest = cache
    dout, xhat = check_floats(dout=dout, xhat=xhat)
    if tuple(dout.shape) != tuple(xhat.shape):
        raise ValueError(
            f"dout must have the forward input's shape {tuple(xhat.shape)}; "
            f"got shape {tuple(dout.shape)}"
        )
    return (dout, xhat, *rest)


def batchnorm_forward(
    x: Any,
    gamma: Any,
    beta: Any,
    running_mean: Any = None,
    running_var: Any = None,
    *,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[Any, tuple[Any, Any, Any, bool]]:
    """Batch normalization over every axis but the channel axis 1.

    Args:
        x: ``(N, D)`` features (``BatchNorm1d``), ``(N, C, L)`` sequences or ``(N, C, H, W)``
            images (``BatchNorm2d``): statistics per feature / channel, over the batch and
            every spatial position, so ``M = N * H * W`` numbers share one mean.
        gamma, beta: scale and shift, shape ``(C,)`` (``(D,)`` for features).
        running_mean, running_var: running statistics, shape ``(C,)``, or both ``None``
            (no tracking, as torch's ``track_running_stats=False``: batch statistics always).
        training: normalize with the batch statistics and update the running ones (``True``),
            or with the running statistics (``False``, evaluation).
        momentum: weight of the new batch in the running averages (torch's convention:
            ``running = (1 - momentum) * running + momentum * batch``, so 0.1 keeps 90 % of the
            old value; Keras' ``momentum=0.99`` is the opposite weight).
        eps: added to the variance before the square root.

    Returns:
        ``(out, cache)``: ``out = gamma * xhat + beta`` of ``x``'s shape, with
        ``xhat = (x - mean) / sqrt(var + eps)``; ``cache = (xhat, gamma, inv_std, training)``
        where ``inv_std = 1 / sqrt(var + eps)`` has shape ``(1, C)`` or ``(1, C, 1, 1)``.

    In training the *biased* batch variance (divide by ``M``) normalizes, while the running
    variance is updated with the *unbiased* one (divide by ``M - 1``), an estimate of the
    population variance for evaluation. ``running_mean`` and ``running_var`` are updated
    **in place**, exactly as torch's ``F.batch_norm`` does: they are the module's buffers,
    and updating them where they live means a module, an optimizer or a saved state dict
    always sees the current values without the function returning them. Training with one
    value per channel (``M = 1``) raises a ``ValueError``, as torch does: its variance is 0
    and its unbiased variance undefined.
    """
    if not isinstance(training, bool):
        raise TypeError(f"training must be True or False; got {type(training).__name__}")
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        raise TypeError(f"momentum must be a float in [0, 1]; got {type(momentum).__name__}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(
            f"momentum must be in [0, 1] (torch's convention, e.g. 0.1); got {momentum}"
        )
    eps = check_eps(eps)
    if (running_mean is None) != (running_var is None):
        raise ValueError(
            "running_mean and running_var must both be arrays of shape (C,) or both None; "
            f"got running_mean {'None' if running_mean is None else 'an array'} and "
            f"running_var {'None' if running_var is None else 'an array'}"
        )
    tracked = running_mean is not None
    arrays = {"x": x, "gamma": gamma, "beta": beta}
    if tracked:
        arrays.update(running_mean=running_mean, running_var=running_var)
    checked = check_floats(**arrays)
    x, gamma, beta = checked[:3]
    if x.ndim < 2:
        raise ValueError(
            f"x must be (N, D) or (N, C, H, W) (any (N, C, ...)); got {x.ndim}-D shape "
            f"{tuple(x.shape)}"
        )
    c = x.shape[1]
    for name, a in zip(arrays, checked, strict=True):
        if name != "x":
            check_shape(a, name, (c,), names=("C",))
    axes = _bn_axes(x)
    m = math.prod(x.shape[a] for a in axes)
    if not training:
        if not tracked:
            raise ValueError(
                "running_mean and running_var are None, but evaluation (training=False) "
                "normalizes with them: pass the running statistics, or training=True"
            )
        mean = _per_channel(running_mean, x.ndim)
        inv_std = 1.0 / namespace(x).sqrt(_per_channel(running_var, x.ndim) + eps)
        xhat = (x - mean) * inv_std
    else:
        if m <= 1:
            raise ValueError(
                f"batch norm in training needs more than 1 value per channel; x has shape "
                f"{tuple(x.shape)}, so {m} per channel (use a larger batch, or training=False)"
            )
        xhat, mean, var, inv_std = standardize(x, axes, eps)
        if tracked:
            xp = namespace(x)
            batch_mean = _detached(xp.reshape(mean, (c,)))
            batch_var = _detached(xp.reshape(var, (c,))) * (m / (m - 1))  # unbiased
            running_mean[...] = (1.0 - momentum) * running_mean + momentum * batch_mean
            running_var[...] = (1.0 - momentum) * running_var + momentum * batch_var
    out = _per_channel(gamma, x.ndim) * xhat + _per_channel(beta, x.ndim)
    return out, (xhat, gamma, inv_std, training)


def batchnorm_backward(dout: Any, cache: tuple[Any, Any, Any, bool]) -> tuple[Any, Any, Any]:
    """Backward pass of :func:`batchnorm_forward`.

    Args:
        dout: upstream gradient, ``x``'s shape.
        cache: ``(xhat, gamma, inv_std, training)`` from the forward pass.

    Returns:
        ``(dx, dgamma, dbeta)`` of shapes ``x``, ``(C,)``, ``(C,)``. With ``M`` values per
        channel and ``dxhat = gamma * dout``, training gives the compact formula

        ``dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))``

        (means over the batch and spatial axes); in evaluation the statistics are constants
        and ``dx = dxhat * inv_std``. Always ``dgamma = sum(dout * xhat)``,
        ``dbeta = sum(dout)`` over every axis but 1.
    """
    dout, xhat, gamma, inv_std, training = unpack_cache(
        dout, cache, ("xhat", "gamma", "inv_std", "training"), "batchnorm_forward"
    )
    xp = namespace(dout)
    axes = _bn_axes(dout)
    dgamma = xp.sum(dout * xhat, axis=axes)  # (C,)
    dbeta = xp.sum(dout, axis=axes)  # (C,)
    dxhat = dout * _per_channel(gamma, dout.ndim)
    dx = standardize_backward(dxhat, xhat, inv_std, axes) if training else dxhat * inv_std
    return dx, dgamma, dbeta


# -- layer norm -------------------------------------------------------------------------


def layernorm_forward(
    x: Any, gamma: Any, beta: Any, *, eps: float = 1e-5
) -> tuple[Any, tuple[Any, Any, Any]]:
    """Layer normalization over the trailing axes that ``gamma`` covers.

    Args:
        x: any shape ``(*, *S)`` whose trailing axes ``S`` are ``gamma``'s shape: ``(N, D)``
            with ``gamma`` ``(D,)``, ``(N, T, D)`` tokens with ``gamma`` ``(D,)`` (each token
            on its own), or ``(N, C, H, W)`` with ``gamma`` ``(C, H, W)``.
        gamma, beta: scale and shift of shape ``S`` (torch's ``normalized_shape``).
        eps: added to the variance before the square root.

    Returns:
        ``(out, cache)``: ``out = gamma * xhat + beta`` of ``x``'s shape, the mean and biased
        variance taken over ``S`` for each leading index; ``cache = (xhat, gamma, inv_std)``
        with ``inv_std`` of shape ``(*, 1, ..., 1)``. No running statistics: training and
        evaluation compute the same thing.
    """
    eps = check_eps(eps)
    x, gamma, beta = check_floats(x=x, gamma=gamma, beta=beta)
    k = gamma.ndim
    shape = tuple(x.shape)
    if k == 0 or x.ndim < k or shape[x.ndim - k :] != tuple(gamma.shape):
        raise ValueError(
            f"gamma's shape {tuple(gamma.shape)} (the normalized shape) must be the trailing "
            f"axes of x, e.g. x (N, {', '.join(map(str, gamma.shape))}); got x shape {shape}"
        )
    if tuple(beta.shape) != tuple(gamma.shape):
        raise ValueError(
            f"beta must have gamma's shape {tuple(gamma.shape)}; got shape {tuple(beta.shape)}"
        )
    axes = tuple(range(x.ndim - k, x.ndim))
    xhat, _, _, inv_std = standardize(x, axes, eps)
    return gamma * xhat + beta, (xhat, gamma, inv_std)


def layernorm_backward(dout: Any, cache: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]:
    """Backward pass of :func:`layernorm_forward`.

    Args:
        dout: upstream gradient, ``x``'s shape.
        cache: ``(xhat, gamma, inv_std)`` from the forward pass.

    Returns:
        ``(dx, dgamma, dbeta)``: ``dx`` by the same compact formula as batch norm, with the
        means over the normalized axes; ``dgamma = sum(dout * xhat)`` and
        ``dbeta = sum(dout)`` over the leading axes, of ``gamma``'s shape.
    """
    dout, xhat, gamma, inv_std = unpack_cache(
        dout, cache, ("xhat", "gamma", "inv_std"), "layernorm_forward"
    )
    xp = namespace(dout)
    k = gamma.ndim
    lead = tuple(range(dout.ndim - k))
    axes = tuple(range(dout.ndim - k, dout.ndim))
    dgamma = xp.sum(dout * xhat, axis=lead) if lead else dout * xhat
    dbeta = xp.sum(dout, axis=lead) if lead else dout
    dx = standardize_backward(dout * gamma, xhat, inv_std, axes)
    return dx, dgamma, dbeta
