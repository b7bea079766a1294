"""A procedural image set of simple shapes, for CNNs that train in seconds.

``make_shapes`` draws circles, squares, triangles and lines at random positions and sizes
(and, for triangles and lines, orientations) on small grey images, adds Gaussian noise, and
labels each image with its kind. The task cannot be solved by looking at fixed pixels (a
shape can be anywhere), which is what convolutions and pooling are for.

Every shape is drawn from its *signed distance* ``d`` (negative inside, positive outside,
in pixels), and a pixel's intensity is ``clip(0.5 - d, 0, 1)``: 1 well inside, 0 well
outside, and a one-pixel ramp along the edge, a cheap anti-aliasing that keeps small shapes
recognisable. All images of one kind are drawn at once, as arrays ``(n_kind, size, size)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["SHAPE_KINDS", "make_shapes"]

SHAPE_KINDS: tuple[str, ...] = ("circle", "square", "triangle", "line")


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates, rows ``(1, size, 1)`` and columns ``(1, 1, size)``."""
    coords = np.arange(size, dtype=np.float64) + 0.5
    return coords[None, :, None], coords[None, None, :]


def _place(
    rng: np.random.Generator, size: int, reach_y: np.ndarray, reach_x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Random centres ``(n, 1, 1)`` for shapes reaching ``reach_y`` pixels above and below
    their centre and ``reach_x`` left and right (arrays ``(n,)``): every shape stays inside
    the image. Each shape's parameters keep its reach within half the image."""
    cy = rng.uniform(reach_y, size - reach_y)[:, None, None]
    cx = rng.uniform(reach_x, size - reach_x)[:, None, None]
    return cy, cx


def _circles(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    r = rng.uniform(0.18, 0.38, n) * size  # radius
    cy, cx = _place(rng, size, r + 0.5, r + 0.5)
    rows, cols = _grid(size)
    return np.hypot(rows - cy, cols - cx) - r[:, None, None]


def _squares(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    a = rng.uniform(0.15, 0.33, n) * size  # half the side; axis-aligned
    cy, cx = _place(rng, size, a + 0.5, a + 0.5)
    rows, cols = _grid(size)
    return np.maximum(np.abs(rows - cy), np.abs(cols - cx)) - a[:, None, None]


def _triangles(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Equilateral triangles, any rotation: the largest of the three edges' distances."""
    r = rng.uniform(0.25, 0.45, n) * size  # circumradius
    theta = rng.uniform(0, 2 * math.pi, n)
    # the vertex opposite the edge with outward normal angle a lies at angle a + 180 degrees
    vertices = theta[:, None] + math.pi + np.arange(3) * 2 * math.pi / 3  # (n, 3)
    reach_y = np.max(np.abs(np.sin(vertices)), axis=1) * r
    reach_x = np.max(np.abs(np.cos(vertices)), axis=1) * r
    cy, cx = _place(rng, size, reach_y, reach_x)
    theta = theta[:, None, None]
    rows, cols = _grid(size)
    inradius = r[:, None, None] / 2
    d = None
    for k in range(3):  # outward normal of edge k points at angle theta + k * 120 degrees
        angle = theta + k * 2 * math.pi / 3
        along = (cols - cx) * np.cos(angle) + (rows - cy) * np.sin(angle)
        edge = along - inradius
        d = edge if d is None else np.maximum(d, edge)
    return d


def _lines(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Thick segments, any orientation: distance to the segment minus half the width."""
    half_len = rng.uniform(0.28, 0.42, n) * size
    half_width = max(0.5, size / 20)
    theta = rng.uniform(0, math.pi, n)
    reach_y = half_len * np.abs(np.sin(theta)) + half_width
    reach_x = half_len * np.abs(np.cos(theta)) + half_width
    cy, cx = _place(rng, size, reach_y, reach_x)
    theta = theta[:, None, None]
    rows, cols = _grid(size)
    dy, dx = rows - cy, cols - cx
    along = dx * np.cos(theta) + dy * np.sin(theta)  # position along the segment
    across = -dx * np.sin(theta) + dy * np.cos(theta)  # distance from its axis
    beyond = np.maximum(np.abs(along) - half_len[:, None, None], 0.0)  # past an end
    return np.hypot(beyond, across) - half_width


_DRAW = {"circle": _circles, "square": _squares, "triangle": _triangles, "line": _lines}


def _check_kinds(kinds: Any) -> tuple[str, ...]:
    if isinstance(kinds, str) or not isinstance(kinds, (tuple, list)):
        raise TypeError(f"kinds must be a tuple of shape names from {SHAPE_KINDS}; got {kinds!r}")
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in _DRAW]
    if unknown or not kinds:
        raise ValueError(
            f"kinds must be a non-empty tuple of names from {SHAPE_KINDS}; got {kinds!r}"
            + (f" ({unknown[0]!r} is not a shape)" if unknown else "")
        )
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds must not repeat a shape (labels index it); got {kinds!r}")
    return kinds


def make_shapes(
    n: int,
    *,
    rng: np.random.Generator,
    size: int = 16,
    noise: float = 0.05,
    kinds: tuple[str, ...] = SHAPE_KINDS,
) -> tuple[np.ndarray, np.ndarray]:
    """Grey images of random shapes and their labels.

    Args:
        n: number of images; the kinds are balanced (their counts differ by at most one)
            and shuffled.
        rng: the generator every random choice is drawn from (same state, same images).
        size: the images are ``size x size`` pixels, ``size >= 8``.
        noise: standard deviation of the Gaussian noise added to every pixel (before
            clipping to ``[0, 1]``); 0 for clean images.
        kinds: which shapes to draw, from :data:`SHAPE_KINDS`; label ``k`` is ``kinds[k]``.

    Returns:
        ``(x, y)``: ``x`` float32 images in ``[0, 1]`` of shape ``(n, 1, size, size)`` (a
        white shape on black) and ``y`` int64 labels of shape ``(n,)``.
    """
    from ._validate import check_generator
    from .data import _count, _nonneg

    n = _count(n, "n")
    rng = check_generator(rng)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"size must be an int (pixels per side); got {size!r}")
    if size < 8:
        raise ValueError(
            f"size must be >= 8 pixels (smaller shapes are unrecognisable); got {size}"
        )
    size = int(size)
    noise = _nonneg(noise, "noise")
    kinds = _check_kinds(kinds)
    y = rng.permutation(np.arange(n, dtype=np.int64) % len(kinds))  # balanced, shuffled
    distance = np.empty((n, size, size))
    for label, kind in enumerate(kinds):
        chosen = np.flatnonzero(y == label)
        if chosen.size:
            distance[chosen] = _DRAW[kind](rng, chosen.size, size)
    x = np.clip(0.5 - distance, 0.0, 1.0)  # (n, size, size), anti-aliased edges
    if noise > 0:
        x = np.clip(x + rng.normal(0.0, noise, x.shape), 0.0, 1.0)
    return x[:, None].astype(np.float32), y
