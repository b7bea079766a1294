"""Sliding windows over images, shared by convolution and pooling.

Both ops look at every ``KH x KW`` window of an ``(N, C, H, W)`` image, moved by a stride.
Copying each window out with a Python loop is what makes teaching code slow. Here a window
*view* costs nothing: :func:`windows` returns an array of shape ``(N, C, KH, KW, OH, OW)``
whose entry ``[n, c, i, j, y, x]`` is the pixel under kernel offset ``(i, j)`` of output
position ``(y, x)``, by choosing strides instead of copying. The backward passes go the other
way with :func:`scatter_add`: one strided slice per kernel offset, ``KH * KW`` cheap adds.

The arguments are parsed and checked here once, so that every op explains a bad ``stride``
or a kernel larger than its input in the same words.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import is_torch

__all__ = [
    "pair", "output_size", "check_images", "zeros", "empty", "contiguous", "matmul", "add",
    "padded", "strided", "windows", "scatter_add", "cropped",
]  # fmt: skip


def pair(value: Any, name: str, *, minimum: int) -> tuple[int, int]:
    """``value`` (an int or a pair of ints, each ``>= minimum``) as a pair ``(rows, cols)``."""
    items = value if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items
    ):
        raise TypeError(f"{name} must be an int or a pair of ints (rows, cols); got {value!r}")
    rows, cols = int(items[0]), int(items[1])
    if rows < minimum or cols < minimum:
        raise ValueError(f"{name} must be >= {minimum} (in each direction); got {value!r}")
    return rows, cols


def check_images(x: Any, name: str = "x") -> tuple[int, int, int, int]:
    """The ``(N, C, H, W)`` shape of a 4-D batch of images, or an error that says so."""
    if x.ndim != 4:
        raise ValueError(
            f"{name} must be a 4-D batch of images (N, C, H, W); got {x.ndim}-D shape "
            f"{tuple(x.shape)}" + (". Add the channel axis: x[:, None]" if x.ndim == 3 else "")
        )
    n, c, h, w = (int(s) for s in x.shape)
    return n, c, h, w


def output_size(
    size: int,
    kernel: int,
    stride: int,
    pad: int,
    dilation: int,
    axis: str,
    kernel_shape: Any,
    what: str = "kernel",
) -> int:
    """Output length along one axis, ``floor((size + 2 pad - span) / stride) + 1``.

    ``span = dilation * (kernel - 1) + 1`` is how many input pixels one window covers.
    """
    span = dilation * (kernel - 1) + 1
    room = size + 2 * pad
    if span > room:
        dil = f" with dilation {dilation}" if dilation != 1 else ""
        raise ValueError(
            f"{what} {tuple(kernel_shape)}{dil} spans {span} pixels along {axis}, larger than "
            f"the padded input ({axis}={size} + 2*pad={pad} gives {room}); "
            f"use a smaller {what}" + (" or dilation" if dilation != 1 else "") + ", or pad more"
        )
    return (room - span) // stride + 1


def zeros(shape: tuple[int, ...], like: Any) -> Any:
    """Zeros of ``shape`` with the kind, dtype and device of ``like``."""
    if is_torch(like):
        return like.new_zeros(shape)
    return np.zeros(shape, dtype=like.dtype)


def empty(shape: tuple[int, ...], like: Any) -> Any:
    """An uninitialised array of ``shape`` with the kind, dtype and device of ``like``."""
    if is_torch(like):
        return like.new_empty(shape)
    return np.empty(shape, dtype=like.dtype)


def contiguous(a: Any) -> Any:
    """``a`` as a C-contiguous array: itself if it already is, else a copy."""
    return a.contiguous() if is_torch(a) else np.ascontiguousarray(a)


def matmul(a: Any, b: Any, *, out: Any) -> Any:
    """``a @ b`` written into ``out`` (no temporary array): NumPy's and torch's ``out=``."""
    if is_torch(out):
        import torch

        return torch.matmul(a, b, out=out)
    return np.matmul(a, b, out=out)


def add(a: Any, b: Any, *, out: Any) -> Any:
    """``a + b`` written into ``out`` (no temporary array): NumPy's and torch's ``out=``."""
    if is_torch(out):
        import torch

        return torch.add(a, b, out=out)
    return np.add(a, b, out=out)


def padded(x: Any, pad: tuple[int, int], value: float = 0.0) -> Any:
    """``x`` ``(N, C, H, W)`` with ``pad`` rows and columns of ``value`` on each side.

    Returns a C-contiguous array ``(N, C, H + 2 ph, W + 2 pw)`` (``x`` itself when there is
    nothing to pad and it is already contiguous).
    """
    ph, pw = pad
    if ph == 0 and pw == 0:
        if is_torch(x):
            return x.contiguous()
        return np.ascontiguousarray(x)
    n, c, h, w = x.shape
    out = zeros((n, c, h + 2 * ph, w + 2 * pw), x)
    if value != 0.0:
        out[...] = value
    out[:, :, ph : ph + h, pw : pw + w] = x
    return out


def windows(
    xp_: Any, kernel: tuple[int, int], out_hw: tuple[int, int], stride: Any, dilation: Any
) -> Any:
    """A view ``(N, C, KH, KW, OH, OW)`` of the windows of a contiguous ``(N, C, Hp, Wp)``.

    Entry ``[n, c, i, j, y, x]`` is ``xp_[n, c, y * sh + i * dh, x * sw + j * dw]``. No copy:
    only the strides change. Never write into the view (its entries overlap).
    """
    n, c, hp, wp = xp_.shape
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    strides = (c * hp * wp, hp * wp, dh * wp, dw, sh * wp, sw)  # in elements
    return strided(xp_, (n, c, kh, kw, oh, ow), strides)


def strided(
    x: Any, shape: tuple[int, ...], strides: tuple[int, ...], *, writeable: bool = False
) -> Any:
    """A view of the contiguous array ``x`` with the given ``shape`` and ``strides`` (counted
    in elements, not bytes). Read-only for NumPy unless ``writeable`` (for views whose
    entries do not overlap)."""
    if is_torch(x):
        return x.as_strided(shape, strides)
    item = x.itemsize
    return np.lib.stride_tricks.as_strided(
        x, shape, tuple(s * item for s in strides), writeable=writeable
    )


def scatter_add(dwin: Any, into: Any, stride: Any, dilation: Any) -> None:
    """The adjoint of :func:`windows` (*col2im*): add each window's gradient onto its pixels.

    Args:
        dwin: gradient with respect to the window view, shape ``(N, C, KH, KW, OH, OW)``.
        into: the padded input's gradient ``(N, C, Hp, Wp)``, updated in place: every pixel
            receives the sum of the gradients of all the windows it appeared in.

    One strided add per kernel offset, ``KH * KW`` in all, each over the whole batch.
    """
    _, _, kh, kw, oh, ow = dwin.shape
    (sh, sw), (dh, dw) = stride, dilation
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            into[:, :, rows, cols] += dwin[:, :, i, j]


def cropped(dx: Any, pad: tuple[int, int]) -> Any:
    """``dx`` ``(N, C, Hp, Wp)`` without its ``pad`` border, as a contiguous array."""
    ph, pw = pad
    if ph == 0 and pw == 0:
        return dx
    dx = dx[:, :, ph : dx.shape[2] - ph, pw : dx.shape[3] - pw]
    return dx.contiguous() if is_torch(dx) else np.ascontiguousarray(dx)
