"""Data augmentation for small images: whole-pixel shifts, flips and Gaussian noise.

Augmentation manufactures new training examples from old ones with transformations that
do not change the label: a digit moved one pixel to the left is still the same digit. The
model sees a slightly different version of each image every epoch, which acts as a
regularizer and builds the invariance into the data rather than the architecture.

Images are ``(N, H, W)`` or ``(N, C, H, W)`` float arrays (NumPy or torch); every function
returns a new array of the same shape, kind and dtype. Randomness comes from an explicit
``np.random.Generator`` (drawn with NumPy, then moved to a tensor's device), so one seed gives
the same augmented batch on every backend. Apply augmentation to the *training* set only:
the validation and test sets must measure performance on real data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import check_float
from .backend import asarray_like, describe, namespace

__all__ = ["shift", "random_shift", "flip", "random_flip", "add_noise", "augment"]


def _images(x: Any) -> Any:
    x = check_float(x, "x")
    if x.ndim not in (3, 4):
        raise ValueError(
            "x must be a batch of images with shape (N, H, W) or (N, C, H, W); "
            f"got {x.ndim}-D shape {tuple(x.shape)}"
        )
    return x


def _rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a np.random.Generator, e.g. np.random.default_rng(0); got {describe(rng)}"
        )
    return rng


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int (whole pixels); got {type(value).__name__}")
    return int(value)


def _shift_all(x: Any, dy: int, dx: int) -> Any:
    """Every image of ``x`` moved ``dy`` pixels down and ``dx`` right, zeros moved in."""
    xp = namespace(x)
    out = xp.zeros_like(x)
    h, w = x.shape[-2], x.shape[-1]
    if abs(dy) >= h or abs(dx) >= w:
        return out  # moved entirely out of the frame
    src_y, dst_y = slice(max(-dy, 0), h - max(dy, 0)), slice(max(dy, 0), h - max(-dy, 0))
    src_x, dst_x = slice(max(-dx, 0), w - max(dx, 0)), slice(max(dx, 0), w - max(-dx, 0))
    out[..., dst_y, dst_x] = x[..., src_y, src_x]
    return out


def shift(x: Any, dy: int, dx: int) -> Any:
    """Move every image ``dy`` pixels down and ``dx`` pixels right (negative: up/left).

    Pixels that leave the frame are lost; the ones that enter are zero (the background of
    digits). A shift by the full height or width leaves an all-zero image.
    """
    return _shift_all(_images(x), _int(dy, "dy"), _int(dx, "dx"))


def random_shift(x: Any, max_shift: int, *, rng: np.random.Generator) -> Any:
    """Shift each image by its own ``(dy, dx)``, each drawn uniformly from ``-max_shift ..
    max_shift`` (``rng.integers(-max_shift, max_shift + 1, size=(N, 2))``)."""
    x, rng = _images(x), _rng(rng)
    max_shift = _int(max_shift, "max_shift")
    if max_shift < 0:
        raise ValueError(f"max_shift must be >= 0 pixels; got {max_shift}")
    offsets = rng.integers(-max_shift, max_shift + 1, size=(x.shape[0], 2))  # (N, 2)
    out = namespace(x).zeros_like(x)
    # one vectorized shift per distinct offset: at most (2 max_shift + 1)^2 of them
    for dy, dx in np.unique(offsets, axis=0) if len(offsets) else []:
        rows = np.flatnonzero((offsets[:, 0] == dy) & (offsets[:, 1] == dx))
        out[rows] = _shift_all(x[rows], int(dy), int(dx))
    return out


def flip(x: Any, *, horizontal: bool = True) -> Any:
    """Mirror every image left-right (``horizontal=True``) or upside down (``False``)."""
    x = _images(x)
    xp = namespace(x)
    return xp.flip(x, axis=-1 if horizontal else -2)


def random_flip(
    x: Any, *, rng: np.random.Generator, horizontal: bool = True, p: float = 0.5
) -> Any:
    """Mirror each image independently with probability ``p`` (``rng.random(N) < p``).

    Only use a flip the labels are invariant to: a mirrored cat is a cat, but a mirrored
    digit 2 is no digit at all, and a mirrored 6 turned upside down looks like a 9.
    """
    x, rng = _images(x), _rng(rng)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1]; got {p!r}")
    chosen = rng.random(x.shape[0]) < p  # (N,)
    mask = asarray_like(chosen.reshape((-1,) + (1,) * (x.ndim - 1)), x)  # 1.0 = flip
    return mask * flip(x, horizontal=horizontal) + (1.0 - mask) * x


def add_noise(x: Any, std: float, *, rng: np.random.Generator) -> Any:
    """``x + std * z`` with ``z`` standard normal, one draw per pixel."""
    x, rng = _images(x), _rng(rng)
    if isinstance(std, bool) or not isinstance(std, (int, float)) or not std >= 0:
        raise ValueError(f"std must be a number >= 0; got {std!r}")
    if std == 0:
        return x + 0.0  # a copy, like every other path
    return x + asarray_like(std * rng.standard_normal(tuple(x.shape)), x)


def augment(
    x: Any,
    *,
    rng: np.random.Generator,
    max_shift: int = 1,
    flip: bool = False,
    noise: float = 0.0,
) -> Any:
    """A random augmentation of every image: shift, then (optionally) flip, then noise.

    Args:
        x: images ``(N, H, W)`` or ``(N, C, H, W)``.
        rng: the generator every random choice comes from.
        max_shift: largest shift in pixels along each axis (``0``: no shift).
        flip: mirror half of the images left-right (off by default: see
            :func:`random_flip` for when a flip changes the label).
        noise: standard deviation of added Gaussian pixel noise (``0``: none).

    Returns:
        The augmented images, same shape, kind and dtype as ``x``.
    """
    out = random_shift(x, max_shift, rng=rng)
    if not isinstance(flip, (bool, np.bool_)):
        raise TypeError(f"flip must be True or False; got {type(flip).__name__}")
    if flip:
        out = random_flip(out, rng=rng)
    return add_noise(out, noise, rng=rng) if noise else out
