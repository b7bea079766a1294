"""Regularization kernels: weight penalties and (inverted) dropout.

* :func:`l1_penalty` and :func:`l2_penalty` return ``(penalty, dw)``: the number to add to
  the loss and its gradient with respect to the weights, for one array or a list of them.
* :func:`dropout_forward` returns ``(out, cache)`` and :func:`dropout_backward` turns
  ``(dout, cache)`` into ``dx``, in the ``*_forward`` / ``*_backward`` style of the layers.

Everything works on NumPy arrays and torch tensors alike. Dropout's random mask always comes
from an explicit ``np.random.Generator``, so one seed gives the same mask on every backend.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validate import check_float, check_same_kind
from ..backend import asarray_like, describe, is_array, is_torch, namespace

__all__ = ["l1_penalty", "l2_penalty", "dropout_forward", "dropout_backward"]


def _check_lam(lam: Any) -> float:
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.integer, np.floating)):
        raise TypeError(f"lam must be a real number >= 0; got {type(lam).__name__} {lam!r}")
    lam = float(lam)
    if not (math.isfinite(lam) and lam >= 0.0):
        raise ValueError(f"lam must be a finite number >= 0; got {lam!r}")
    return lam


def _weights(w: Any) -> tuple[list[Any], bool]:
    """``w`` as a list of float arrays of one kind, and whether it came as a list of arrays.

    A list or tuple of arrays (a model's parameters) is many weights; a list of numbers is
    one array.
    """
    if isinstance(w, (list, tuple)) and len(w) == 0:
        raise ValueError("w must hold at least one array; got an empty list")
    if isinstance(w, (list, tuple)) and all(is_array(a) for a in w):
        arrays = [check_float(a, f"w[{i}]") for i, a in enumerate(w)]
        check_same_kind(**{f"w[{i}]": a for i, a in enumerate(arrays)})
        return arrays, True
    return [check_float(w, "w")], False


def _penalty(w: Any, lam: Any, value, grad) -> tuple[Any, Any]:
    lam = _check_lam(lam)
    arrays, many = _weights(w)
    total = None
    grads = []
    for a in arrays:
        xp = namespace(a)
        term = lam * value(xp, a)
        total = term if total is None else total + term
        grads.append(lam * grad(xp, a))
    return total, (grads if many else grads[0])


def l1_penalty(w: Any, lam: float) -> tuple[Any, Any]:
    """The L1 (lasso) penalty ``lam * sum(|w|)`` and its subgradient ``lam * sign(w)``.

    ``|w|`` has no derivative at 0; we take the subgradient 0 there (as ``sign(0) = 0``),
    which is what torch's autograd does for ``abs``. The constant pull ``lam`` towards zero,
    whatever the size of a weight, is why L1 drives many weights to exactly zero.

    Args:
        w: a float array of any shape, or a list/tuple of them (all NumPy or all torch).
        lam: the penalty strength, a finite number ``>= 0``.

    Returns:
        ``(penalty, dw)``: the penalty as a 0-d value (the total over all arrays for a list)
        and ``dw`` with the shape of ``w`` (a list of gradients for a list).
    """
    return _penalty(w, lam, lambda xp, a: xp.sum(xp.abs(a)), lambda xp, a: xp.sign(a))


def l2_penalty(w: Any, lam: float) -> tuple[Any, Any]:
    """The L2 (ridge) penalty ``0.5 * lam * sum(w**2)`` and its gradient ``lam * w``.

    The factor ``0.5`` makes the gradient exactly ``lam * w``, so one plain SGD step on
    ``loss + l2_penalty(w, lam)`` equals SGD with ``weight_decay=lam`` (``w <- w - lr * (g +
    lam * w)``), as in ``dlkit.optim.SGD`` and ``torch.optim.SGD``. (For Adam the two differ;
    that is what AdamW's decoupled decay is about.)

    Args:
        w: a float array of any shape, or a list/tuple of them (all NumPy or all torch).
        lam: the penalty strength, a finite number ``>= 0``.

    Returns:
        ``(penalty, dw)``: the penalty as a 0-d value (the total over all arrays for a list)
        and ``dw = lam * w`` with the shape of ``w`` (a list of gradients for a list).
    """
    return _penalty(w, lam, lambda xp, a: 0.5 * xp.sum(a * a), lambda xp, a: a)


def _check_p_drop(p_drop: Any) -> float:
    if isinstance(p_drop, bool) or not isinstance(p_drop, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"p_drop must be a number in [0, 1] (the probability of DROPPING a unit); "
            f"got {type(p_drop).__name__} {p_drop!r}"
        )
    p_drop = float(p_drop)
    if not 0.0 <= p_drop <= 1.0:  # also rejects NaN
        raise ValueError(
            f"p_drop must be in [0, 1] (the probability of dropping a unit, not of keeping "
            f"it); got {p_drop!r}"
        )
    return p_drop


def dropout_forward(
    x: Any, p_drop: float, *, rng: np.random.Generator, training: bool = True
) -> tuple[Any, Any]:
    """Inverted dropout: zero each unit with probability ``p_drop``, scale the rest up.

    In training, ``keep = rng.random(x.shape) >= p_drop`` (each unit survives with
    probability ``1 - p_drop``) and ``out = x * keep / (1 - p_drop)``. The scaling keeps the
    expected value of every unit unchanged, ``E[out] = x``, so at test time (``training=
    False``) the layer is simply the identity: nothing to rescale, no randomness.

    Args:
        x: activations, a float array or tensor of any shape.
        p_drop: probability of dropping a unit, in ``[0, 1]``. ``0`` is the identity (no
            random numbers are drawn); ``1`` drops everything and returns zeros.
        rng: the generator the mask is drawn from. For a torch tensor the mask is drawn with
            NumPy and moved to the tensor's device and dtype, so a seed gives the same mask
            on every backend.
        training: ``False`` makes the layer the identity (evaluation mode).

    Returns:
        ``(out, cache)``: ``out`` with the shape, kind and dtype of ``x``; ``cache`` is the
        scaled mask (entries ``0`` or ``1 / (1 - p_drop)``, the shape of ``x``) in training
        mode with ``0 < p_drop``, and ``None`` when the layer is the identity.
    """
    x = check_float(x, "x")
    p_drop = _check_p_drop(p_drop)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a np.random.Generator, e.g. np.random.default_rng(0); got {describe(rng)}"
        )
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"training must be True or False; got {type(training).__name__}")
    if not training or p_drop == 0.0:
        return x, None
    keep = rng.random(tuple(x.shape)) >= p_drop  # (same shape as x), True with prob 1 - p_drop
    scale = 0.0 if p_drop == 1.0 else 1.0 / (1.0 - p_drop)
    mask = keep * scale  # float64 NumPy
    mask = asarray_like(mask, x)  # x's kind, dtype and device
    return x * mask, mask


def dropout_backward(dout: Any, cache: Any) -> Any:
    """Backward pass of :func:`dropout_forward`: ``dx = dout * mask`` (the same scaled mask).

    Dropped units had no influence on the output, so they get no gradient; kept units were
    multiplied by ``1 / (1 - p_drop)`` and their gradient is multiplied by the same factor.

    Args:
        dout: upstream gradient, the shape of the forward's ``x``.
        cache: the ``cache`` returned by :func:`dropout_forward` (``None`` for the identity).

    Returns:
        ``dx``, the shape of ``dout``.
    """
    dout = check_float(dout, "dout")
    if cache is None:
        return dout
    if not (isinstance(cache, np.ndarray) or is_torch(cache)):
        raise TypeError(
            f"cache must be the mask (or None) returned by dropout_forward; got {describe(cache)}"
        )
    check_same_kind(dout=dout, cache=cache)
    if tuple(dout.shape) != tuple(cache.shape):
        raise ValueError(
            f"dout must have the shape of the forward's x, {tuple(cache.shape)}; "
            f"got shape {tuple(dout.shape)}"
        )
    return dout * cache
