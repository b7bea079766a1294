"""Capsules: vector-valued units, the squash non-linearity and routing by agreement.

A capsule outputs a vector whose *length* says how likely its entity (a part, a whole) is
present and whose *direction* encodes its pose. :func:`squash` maps any vector to the same
direction with a length in ``[0, 1)``: ``v = |s|^2 / (1 + |s|^2) * s / |s|``.

Routing by agreement (Sabour, Frosst & Hinton, 2017) decides which whole each part belongs
to. Every lower capsule ``i`` predicts the pose of every upper capsule ``j``,
``u_hat[i, j]``; the couplings ``c[i, :]`` (a softmax over the upper capsules) start uniform
and, round after round, shift towards the wholes whose squashed consensus ``v_j`` agrees
with (has a large dot product with) the part's prediction (:func:`routing_by_agreement`).
:func:`toy_parts` generates parts that agree on the poses of their wholes, plus outlier
parts that agree with nothing, so the effect can be measured.

Everything is float64 NumPy; random choices take an explicit ``rng``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ._validate import check_axis, check_float, check_generator, check_shape, check_size
from .backend import describe, namespace

__all__ = ["Routing", "PartsProblem", "squash", "routing_by_agreement", "toy_parts"]


def squash(s: Any, axis: int = -1, eps: float = 1e-9) -> Any:
    """The capsule non-linearity: keep the direction, map the length ``|s|`` to ``[0, 1)``.

    ``v = (|s|^2 / (1 + |s|^2)) * s / sqrt(|s|^2 + eps)``, with ``|s|`` the Euclidean norm
    along ``axis``. Short vectors shrink to almost nothing (length ``~ |s|^2``), long ones
    approach length 1. ``eps`` keeps a zero vector finite: it maps to 0, with no warning.

    Args:
        s: an array of any shape (NumPy or torch).
        axis: the axis holding the capsule's vector.
        eps: a small positive number added under the square root.

    Returns:
        ``v``, the same shape as ``s``.
    """
    s = check_float(s, "s")
    axis = check_axis(axis, s.ndim)
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or eps <= 0:
        raise ValueError(f"eps must be a small number > 0; got {eps!r}")
    xp = namespace(s)
    sq = xp.sum(s * s, axis=axis, keepdims=True)  # |s|^2
    return (sq / (1.0 + sq)) * s / xp.sqrt(sq + eps)


class Routing(NamedTuple):
    """The result of :func:`routing_by_agreement`.

    Attributes:
        v: ``(J, D)`` the upper capsules' outputs after the last round.
        c: ``(I, J)`` the couplings used in the last round (each row sums to 1).
        b: ``(I, J)`` the routing logits after the last update.
        history: one ``{"c": (I, J), "v": (J, D), "b": (I, J)}`` per round, in order
            (``b`` as it was when that round's ``c`` was computed).
    """

    v: np.ndarray
    c: np.ndarray
    b: np.ndarray
    history: list[dict[str, np.ndarray]]


def routing_by_agreement(
    u_hat: Any, iterations: int = 3, *, squash: Callable[..., Any] | None = None
) -> Routing:
    """Dynamic routing between capsules (Sabour et al., 2017, Procedure 1).

    Starting from ``b = 0``, each round computes ``c = softmax(b)`` over the upper capsules
    ``j``, the weighted vote ``s_j = sum_i c_ij u_hat_ij``, the output ``v_j = squash(s_j)``
    and raises ``b_ij`` by the agreement ``u_hat_ij . v_j``. With ``iterations=1`` the
    couplings stay uniform (``1 / J``).

    Args:
        u_hat: ``(I, J, D)`` the prediction of each of ``I`` lower capsules for the pose of
            each of ``J`` upper capsules.
        iterations: rounds of routing (>= 1).
        squash: the non-linearity, called as ``squash(s)`` on ``(J, D)`` (default: this
            module's :func:`squash`, looked up at call time).

    Returns:
        a :class:`Routing` ``(v, c, b, history)``.
    """
    from .functional import softmax

    u_hat = check_float(u_hat, "u_hat")
    if not isinstance(u_hat, np.ndarray):
        raise TypeError(f"u_hat must be a NumPy array; got {describe(u_hat)}")
    check_shape(u_hat, "u_hat", (None, None, None), names=("I", "J", "D"))
    iterations = check_size(iterations, "iterations")
    squash_fn = sys.modules[__name__].squash if squash is None else squash
    if not callable(squash_fn):
        raise TypeError(f"squash must be a function; got {describe(squash_fn)}")
    n_in, n_out, dim = u_hat.shape
    b = np.zeros((n_in, n_out))
    history: list[dict[str, np.ndarray]] = []
    c = v = b
    for _ in range(iterations):
        c = softmax(b, axis=1)  # (I, J): each part shares itself among the wholes
        s = np.einsum("ij,ijd->jd", c, u_hat)  # (J, D)
        v = np.asarray(squash_fn(s), dtype=np.float64)
        if v.shape != (n_out, dim):
            raise ValueError(f"squash must keep the shape ({n_out}, {dim}); got {v.shape}")
        history.append({"c": c, "v": v, "b": b})
        b = b + np.einsum("ijd,jd->ij", u_hat, v)  # agreement raises the coupling
    return Routing(v, c, b, history)


class PartsProblem(NamedTuple):
    """A toy routing problem from :func:`toy_parts`.

    Attributes:
        u_hat: ``(I, J, D)`` the parts' predictions for the wholes.
        owner: ``(I,)`` the whole each part belongs to, ``-1`` for an outlier.
        poses: ``(J, D)`` the true pose of each whole (a whole with no parts is absent: no
            part's prediction points at its pose).
    """

    u_hat: np.ndarray
    owner: np.ndarray
    poses: np.ndarray


def toy_parts(
    parts_per_whole: Sequence[int] = (6, 6, 0),
    n_outliers: int = 6,
    *,
    dim: int = 16,
    pose_length: float = 1.0,
    noise: float = 0.05,
    rng: np.random.Generator,
) -> PartsProblem:
    """Parts that agree on the pose of their whole, and outlier parts that agree on nothing.

    Whole ``j`` has a random pose of length ``pose_length`` in ``dim`` dimensions. Each of
    its ``parts_per_whole[j]`` parts predicts that pose plus Gaussian noise (standard
    deviation ``noise`` per coordinate) for whole ``j``, and an unrelated random vector
    (random direction, length ``pose_length``) for every other whole. Outlier parts predict
    unrelated vectors for every whole. A whole with 0 parts is absent. The parts come in a
    shuffled order.

    Args:
        parts_per_whole: the number of parts of each whole (its length is ``J``).
        n_outliers: parts that belong to no whole.
        dim: the pose dimension ``D``.
        pose_length: the length of a pose and of an unrelated prediction.
        noise: the spread of a part's prediction around its whole's pose.
        rng: a ``numpy.random.Generator``.

    Returns:
        a :class:`PartsProblem` ``(u_hat, owner, poses)``.
    """
    counts = tuple(parts_per_whole)
    if len(counts) < 2:
        raise ValueError(f"parts_per_whole must list >= 2 wholes; got {parts_per_whole!r}")
    for k in counts:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"parts_per_whole must hold ints >= 0; got {parts_per_whole!r}")
    if isinstance(n_outliers, bool) or not isinstance(n_outliers, (int, np.integer)):
        raise TypeError(f"n_outliers must be an int >= 0; got {n_outliers!r}")
    if n_outliers < 0:
        raise ValueError(f"n_outliers must be >= 0; got {n_outliers!r}")
    if sum(counts) + n_outliers < 1:
        raise ValueError("parts_per_whole and n_outliers give no part at all")
    dim = check_size(dim, "dim")
    for name, value in (("pose_length", pose_length), ("noise", noise)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
            raise TypeError(f"{name} must be a number; got {value!r}")
        if value < 0 or (name == "pose_length" and value == 0):
            raise ValueError(f"{name} must be {'> 0' if name == 'pose_length' else '>= 0'}")
    rng = check_generator(rng)

    def directions(*shape: int) -> np.ndarray:
        d = rng.standard_normal((*shape, dim))
        return pose_length * d / np.linalg.norm(d, axis=-1, keepdims=True)

    n_wholes = len(counts)
    poses = directions(n_wholes)
    owner = np.concatenate(
        [np.full(k, j) for j, k in enumerate(counts)] + [np.full(n_outliers, -1)]
    )
    owner = rng.permutation(owner.astype(int))
    u_hat = directions(len(owner), n_wholes)  # unrelated predictions everywhere ...
    for i in np.flatnonzero(owner >= 0):  # ... except each part's own whole
        u_hat[i, owner[i]] = poses[owner[i]] + noise * rng.standard_normal(dim)
    return PartsProblem(u_hat, owner, poses)
