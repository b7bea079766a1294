"""Max and average pooling over ``size`` windows of ``(N, C, H, W)`` images.

Pooling summarises each window of each channel by one number: its maximum (keeps the
strongest response, ignores where exactly it was) or its mean (smooths). Channels never mix.

* Max pooling sends the whole gradient of a window to the pixel that won it. When several
  pixels tie for the maximum, the first one in row-major order wins, as in torch. When
  windows overlap (``stride < size``) a pixel can win several windows and receives the sum.
* Average pooling spreads each window's gradient evenly over its ``KH * KW`` pixels.
  Padding (average pooling only) adds zeros that count in the mean, as torch's default
  ``count_include_pad=True``.

``size`` and ``stride`` are an int or a pair ``(rows, cols)``; ``stride`` defaults to
``size`` (non-overlapping windows). Output ``OH = (H + 2 ph - KH) // sh + 1``, likewise OW:
a last partial window is dropped, as in torch's default ``ceil_mode=False``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._validate import check_float, check_floats, check_shape
from ..backend import arange_like, is_torch, namespace
from ._windows import (
    check_images,
    cropped,
    empty,
    output_size,
    padded,
    pair,
    scatter_add,
    windows,
    zeros,
)

__all__ = ["maxpool2d_forward", "maxpool2d_backward", "avgpool2d_forward", "avgpool2d_backward"]


class PoolGeometry(NamedTuple):
    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    kernel: tuple[int, int]  # (KH, KW)
    stride: tuple[int, int]
    pad: tuple[int, int]
    out_hw: tuple[int, int]  # (OH, OW)


def _geometry(x: Any, size: Any, stride: Any, pad: Any) -> PoolGeometry:
    n, c, h, w = check_images(x, "x")
    k = pair(size, "size", minimum=1)
    s = k if stride is None else pair(stride, "stride", minimum=1)
    p = pair(pad, "pad", minimum=0)
    oh = output_size(h, k[0], s[0], p[0], 1, "H", k, what="pooling window")
    ow = output_size(w, k[1], s[1], p[1], 1, "W", k, what="pooling window")
    return PoolGeometry((n, c, h, w), k, s, p, (oh, ow))


def _check_dout(dout: Any, like: Any, g: PoolGeometry) -> Any:
    dout, _ = check_floats(dout=dout, x=like)
    n, c, _, _ = g.x_shape
    if tuple(dout.shape) != (n, c, *g.out_hw):
        check_shape(dout, "dout", (n, c, *g.out_hw), names=("N", "C", "OH", "OW"))
    return dout


def maxpool2d_forward(x: Any, size: Any = 2, stride: Any = None) -> tuple[Any, tuple[Any, ...]]:
    """Forward pass of max pooling.

    Args:
        x: images, shape ``(N, C, H, W)``.
        size: window size ``(KH, KW)`` (an int for a square window).
        stride: step between windows; ``None`` means ``size``.

    Returns:
        ``(out, cache)``: ``out[n, c, y, x]`` is the maximum of the window at
        ``(y*sh, x*sw)``, shape ``(N, C, OH, OW)``; ``cache`` holds the index of the first
        maximum inside each window (row-major, ``0 .. KH*KW-1``), shape ``(N, C, OH, OW)``,
        and the geometry. (For 2x2 windows with stride 2 it holds the same information as
        two masks: which pixel of each horizontal pair won, and which row.)
    """
    x = check_float(x, "x")
    g = _geometry(x, size, stride, 0)
    n, c, h, w = g.x_shape
    (kh, kw), (sh, sw), (oh, ow) = g.kernel, g.stride, g.out_hw
    if (kh, kw) == (2, 2) and (sh, sw) == (2, 2):  # the common case: see _max2x2_forward
        out, masks = _max2x2_forward(x, g)
        return out, (masks, g)
    xp = namespace(x)
    view = windows(padded(x, (0, 0)), g.kernel, g.out_hw, g.stride, (1, 1))  # (N,C,KH,KW,OH,OW)
    flat = view.reshape(n, c, kh * kw, oh, ow)  # one copy
    idx = xp.argmax(flat, axis=2)  # (N, C, OH, OW); argmax returns the first maximum
    out = xp.take_along_axis(flat, idx[:, :, None], axis=2)[:, :, 0]  # (N, C, OH, OW)
    return out, (_small(idx), g)


def _small(idx: Any) -> Any:
    """Window indices as int32: half the memory traffic of the default int64."""
    if is_torch(idx):
        import torch

        return idx.to(torch.int32)
    return idx.astype(np.int32)


def maxpool2d_backward(dout: Any, cache: tuple[Any, ...]) -> Any:
    """Backward pass of :func:`maxpool2d_forward`.

    Args:
        dout: upstream gradient ``dL/dout``, shape ``(N, C, OH, OW)``.
        cache: the cache returned by :func:`maxpool2d_forward`.

    Returns:
        ``dx`` of shape ``(N, C, H, W)``: each window's gradient goes to its (first) maximum;
        a pixel that is the maximum of several overlapping windows receives their sum; pixels
        that win nothing (and rows or columns no window reached) receive zero.
    """
    if not (isinstance(cache, tuple) and len(cache) == 2 and isinstance(cache[1], PoolGeometry)):
        raise TypeError("cache must be the tuple returned by maxpool2d_forward")
    idx, g = cache
    n, c, h, w = g.x_shape
    (kh, kw), (sh, sw), (oh, ow) = g.kernel, g.stride, g.out_hw
    dout = check_float(dout, "dout")
    if tuple(dout.shape) != (n, c, oh, ow):
        check_shape(dout, "dout", (n, c, oh, ow), names=("N", "C", "OH", "OW"))
    if (kh, kw) == (2, 2) and (sh, sw) == (2, 2):
        return _max2x2_backward(dout, idx, g)
    taps = arange_like(kh * kw, dout)[:, None, None]  # (KH*KW, 1, 1)
    dwin = (idx[:, :, None] == taps) * dout[:, :, None]  # (N, C, KH*KW, OH, OW)
    dx = zeros((n, c, h, w), dout)
    scatter_add(dwin.reshape(n, c, kh, kw, oh, ow), dx, g.stride, (1, 1))
    return dx


# 2x2 windows, stride 2, in two halvings: the maximum of each horizontal pair of pixels,
# then of each pair of rows, keeping two boolean masks (which pixel of a pair won, which row)
# for the backward pass. Every pass is written with ``out=`` into preallocated arrays, a block
# of images at a time: on the CPU each comparison, maximum and mask product then reads and
# writes memory still in the cache instead of streaming batch-sized temporaries through main
# memory (float64 forward + backward at (64, 32, 28, 28): 0.8x torch's time before, under
# 0.5x after). On a GPU the whole batch is one block.
POOL_BLOCK_BYTES = 3 << 19  # about 1.5 MiB of input images per block on the CPU


def _pool_block(like: Any, g: PoolGeometry) -> int:
    n, c, h, w = g.x_shape
    if is_torch(like) and like.device.type != "cpu":
        return max(1, n)
    return max(1, min(n, POOL_BLOCK_BYTES // max(1, c * h * w * like.dtype.itemsize)))


def _ufuncs(like: Any) -> tuple:
    """``greater, maximum, multiply, subtract`` of ``like``'s library, all taking ``out=``."""
    if is_torch(like):
        import torch

        return torch.gt, torch.maximum, torch.mul, torch.sub
    return np.greater, np.maximum, np.multiply, np.subtract


def _bools(shape: tuple[int, ...], like: Any) -> Any:
    if is_torch(like):
        import torch

        return like.new_empty(shape, dtype=torch.bool)
    return np.empty(shape, dtype=bool)


def _max2x2_forward(x: Any, g: PoolGeometry) -> tuple[Any, tuple[Any, Any]]:
    """``out`` and the masks ``right_won`` ``(N, C, 2 OH, OW)`` and ``bottom_won``
    ``(N, C, OH, OW)`` of 2x2 / stride-2 max pooling (ties: left pixel, then top row, which
    is the first maximum in row-major order)."""
    greater, maximum, _, _ = _ufuncs(x)
    n, c, _, _ = g.x_shape
    oh, ow = g.out_hw
    out = empty((n, c, oh, ow), x)
    right_won, bottom_won = _bools((n, c, 2 * oh, ow), x), _bools((n, c, oh, ow), x)
    step = _pool_block(x, g)
    pairs = empty((step, c, 2 * oh, ow), x)  # reused by every block
    for s in range(0, n, step):
        a = x[s : s + step, :, : 2 * oh, : 2 * ow]  # rows and columns no window reaches dropped
        p = pairs[: a.shape[0]]
        left, right = a[:, :, :, 0::2], a[:, :, :, 1::2]
        greater(right, left, out=right_won[s : s + step])  # strictly: a tie goes left
        maximum(left, right, out=p)  # the maximum of each horizontal pair
        top, bottom = p[:, :, 0::2], p[:, :, 1::2]
        greater(bottom, top, out=bottom_won[s : s + step])  # strictly: a tie goes to the top
        maximum(top, bottom, out=out[s : s + step])
    return out, (right_won, bottom_won)


def _max2x2_backward(dout: Any, masks: tuple[Any, Any], g: PoolGeometry) -> Any:
    """``dx`` of :func:`_max2x2_forward`: each window's gradient sent to its winner (a mask
    product, exact for finite ``dout``), first down the rows, then across."""
    _, _, multiply, subtract = _ufuncs(dout)
    right_won, bottom_won = masks
    n, c, h, w = g.x_shape
    oh, ow = g.out_hw
    exact = (2 * oh, 2 * ow) == (h, w)  # else the last row or column won nothing: zeros
    dx = empty((n, c, h, w), dout) if exact else zeros((n, c, h, w), dout)
    step = _pool_block(dout, g)
    rows = empty((step, c, oh, 2, ow), dout)  # (top, bottom) row of each window
    for s in range(0, n, step):
        d = dout[s : s + step]
        b = int(d.shape[0])
        r = rows[:b]
        multiply(d, bottom_won[s : s + step], out=r[:, :, :, 1])
        subtract(d, r[:, :, :, 1], out=r[:, :, :, 0])
        r = r.reshape(b, c, 2 * oh, ow)  # the gradient of each horizontal pair
        target = dx[s : s + step, :, : 2 * oh, : 2 * ow]
        left, right = target[..., 0::2], target[..., 1::2]
        multiply(r, right_won[s : s + step], out=right)
        subtract(r, right, out=left)
    return dx


def avgpool2d_forward(
    x: Any, size: Any = 2, stride: Any = None, pad: Any = 0
) -> tuple[Any, tuple[Any, ...]]:
    """Forward pass of average pooling.

    Args:
        x: images, shape ``(N, C, H, W)``.
        size: window size ``(KH, KW)`` (an int for a square window).
        stride: step between windows; ``None`` means ``size``.
        pad: zeros added on each side, an int or ``(ph, pw)``; they count in the mean.

    Returns:
        ``(out, cache)``: ``out[n, c, y, x]`` is the mean of the ``KH*KW`` pixels of the
        window at ``(y*sh, x*sw)`` of the padded input, shape ``(N, C, OH, OW)``; ``cache``
        holds the geometry and the input's dtype and device (through a 0-d array).
    """
    x = check_float(x, "x")
    g = _geometry(x, size, stride, pad)
    (kh, kw), (sh, sw), (oh, ow) = g.kernel, g.stride, g.out_hw
    xpad = padded(x, g.pad)  # (N, C, Hp, Wp)
    n, c, _, _ = g.x_shape
    out = zeros((n, c, oh, ow), x)
    for i in range(kh):  # KH*KW strided slices summed in place: no copy of the windows
        for j in range(kw):
            out += xpad[:, :, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw]
    out *= 1.0 / (kh * kw)  # (N, C, OH, OW)
    return out, (zeros((), x), g)


def avgpool2d_backward(dout: Any, cache: tuple[Any, ...]) -> Any:
    """Backward pass of :func:`avgpool2d_forward`.

    Args:
        dout: upstream gradient ``dL/dout``, shape ``(N, C, OH, OW)``.
        cache: the cache returned by :func:`avgpool2d_forward`.

    Returns:
        ``dx`` of shape ``(N, C, H, W)``: each pixel receives ``dout / (KH*KW)`` from every
        window that contains it (padding pixels' shares are dropped).
    """
    if not (isinstance(cache, tuple) and len(cache) == 2 and isinstance(cache[1], PoolGeometry)):
        raise TypeError("cache must be the tuple returned by avgpool2d_forward")
    like, g = cache
    n, c, h, w = g.x_shape
    (kh, kw), (oh, ow), (ph, pw) = g.kernel, g.out_hw, g.pad
    dout = _check_dout(dout, like, g)
    xp = namespace(dout)
    share = dout * (1.0 / (kh * kw))  # (N, C, OH, OW)
    dwin = xp.broadcast_to(share[:, :, None, None], (n, c, kh, kw, oh, ow))  # a view
    dx = zeros((n, c, h + 2 * ph, w + 2 * pw), dout)
    scatter_add(dwin, dx, g.stride, (1, 1))
    return cropped(dx, g.pad)
