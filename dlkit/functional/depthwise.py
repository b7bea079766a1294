"""Depthwise 2-D convolution: one filter per input channel (torch ``groups=C``).

MobileNet splits an ordinary convolution into two cheap steps: a *depthwise* convolution that
filters each channel on its own (no mixing across channels), then a 1x1 *pointwise*
convolution that mixes the channels at each pixel. This module is the first step; the second
is an ordinary ``conv2d`` with a 1x1 kernel.

The kernel reads the input through a strided *view* of its sliding windows (no copy), so the
forward pass is one element-wise product and a sum over the window axes.
"""

from __future__ import annotations

from typing import Any

from .._validate import check_floats, check_shape
from ..backend import is_torch, namespace

__all__ = ["depthwise_conv2d_forward", "depthwise_conv2d_backward", "conv_output_size"]


def conv_output_size(
    size: int, kernel: int, *, stride: int = 1, pad: int = 0, dilation: int = 1
) -> int:
    """Output length of a convolution along one axis: ``(size + 2p - d(k - 1) - 1) // s + 1``."""
    return (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1


def _positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return value


def _pad(x: Any, pad: int) -> Any:
    """Zero-pad the last two axes of ``x`` by ``pad`` on every side."""
    if pad == 0:
        return x
    if is_torch(x):
        import torch

        return torch.nn.functional.pad(x, (pad, pad, pad, pad))
    return namespace(x).pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def _windows(x: Any, kh: int, kw: int, stride: int, dilation: int) -> Any:
    """View of the sliding windows of ``x`` ``(N, C, H, W)``: shape ``(N, C, OH, OW, KH, KW)``."""
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    if is_torch(x):
        win = x.unfold(2, span_h, stride).unfold(3, span_w, stride)
    else:
        from numpy.lib.stride_tricks import sliding_window_view

        win = sliding_window_view(x, (span_h, span_w), axis=(2, 3))[:, :, ::stride, ::stride]
    return win[..., ::dilation, ::dilation]  # (N, C, OH, OW, KH, KW)


def depthwise_conv2d_forward(
    x: Any, w: Any, b: Any, stride: int = 1, pad: int = 0, dilation: int = 1
) -> tuple[Any, tuple]:
    """Forward pass of a depthwise convolution (cross-correlation, as in every framework).

    Args:
        x: inputs, shape ``(N, C, H, W)``.
        w: one filter per channel, shape ``(C, 1, KH, KW)`` (torch's layout for ``groups=C``).
        b: biases, shape ``(C,)``.
        stride: step between windows; ``pad``: zeros added on every side;
            ``dilation``: spacing between the kernel's taps.

    Returns:
        ``(out, cache)``: ``out[n, c, i, j] = sum_kl xpad[n, c, s i + d k, s j + d l]
        w[c, 0, k, l] + b[c]`` of shape ``(N, C, OH, OW)``.
    """
    x, w, b = check_floats(x=x, w=w, b=b)
    stride = _positive_int(stride, "stride")
    pad = _positive_int(pad, "pad", 0)
    dilation = _positive_int(dilation, "dilation")
    sizes = check_shape(x, "x", ("N", "C", None, None), names=("N", "C", "H", "W"))
    check_shape(w, "w", ("C", 1, None, None), names=("C", "1", "KH", "KW"), sizes=sizes)
    check_shape(b, "b", ("C",), sizes=sizes)
    kh, kw = int(w.shape[2]), int(w.shape[3])
    h, wd = int(x.shape[2]), int(x.shape[3])
    oh = conv_output_size(h, kh, stride=stride, pad=pad, dilation=dilation)
    ow = conv_output_size(wd, kw, stride=stride, pad=pad, dilation=dilation)
    if oh < 1 or ow < 1:
        raise ValueError(
            f"the kernel ({kh}, {kw}) with dilation {dilation} does not fit in x of spatial "
            f"size ({h}, {wd}) padded by {pad}"
        )
    win = _windows(_pad(x, pad), kh, kw, stride, dilation)  # (N, C, OH, OW, KH, KW)
    out = (win * w.reshape(1, -1, 1, 1, kh, kw)).sum(axis=(-2, -1))
    out = out + b.reshape(1, -1, 1, 1)  # (N, C, OH, OW)
    return out, (x, w, stride, pad, dilation)


def depthwise_conv2d_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Backward pass of :func:`depthwise_conv2d_forward`: ``(dx, dw, db)``.

    Each output pixel used ``KH * KW`` input pixels, one per tap ``(k, l)``; the gradient of
    tap ``(k, l)`` is scattered back to the input pixels it read, with a strided slice.
    """
    if not (isinstance(cache, tuple) and len(cache) == 5):
        raise TypeError("cache must be the tuple returned by depthwise_conv2d_forward")
    x, w, stride, pad, dilation = cache
    (dout,) = check_floats(dout=dout)
    kh, kw = int(w.shape[2]), int(w.shape[3])
    n, c, h, wd = (int(s) for s in x.shape)
    oh = conv_output_size(h, kh, stride=stride, pad=pad, dilation=dilation)
    ow = conv_output_size(wd, kw, stride=stride, pad=pad, dilation=dilation)
    check_shape(dout, "dout", (n, c, oh, ow), names=("N", "C", "OH", "OW"))
    xp = namespace(x)
    win = _windows(_pad(x, pad), kh, kw, stride, dilation)  # (N, C, OH, OW, KH, KW)
    dw = (win * dout[..., None, None]).sum(axis=(0, 2, 3)).reshape(c, 1, kh, kw)
    db = dout.sum(axis=(0, 2, 3))
    dxp = xp.zeros_like(_pad(x, pad))  # (N, C, H + 2 pad, W + 2 pad)
    for k in range(kh):
        for m in range(kw):
            rows = slice(k * dilation, k * dilation + stride * (oh - 1) + 1, stride)
            cols = slice(m * dilation, m * dilation + stride * (ow - 1) + 1, stride)
            dxp[:, :, rows, cols] += dout * w[:, 0, k, m].reshape(1, -1, 1, 1)
    dx = dxp[:, :, pad : pad + h, pad : pad + wd]
    return dx, dw, db
