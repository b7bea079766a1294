"""2-D convolution (cross-correlation, as in every deep-learning library), three ways.

``conv2d_naive`` is the definition written as loops, to read and to check against.
``conv2d_forward`` / ``conv2d_backward`` compute the same thing as matrix products
(*im2col*): the windows of an image become the columns of a matrix, gathered in one copy
from a strided view, so that the layer is a BLAS matrix product:

    cols[n]  (C*KH*KW, OH*OW)    every window of image n, one per column
    out[n] = w2 @ cols[n]        w2 = w.reshape(F, C*KH*KW), out[n] (F, OH*OW)

The backward pass is two more products: ``dw = sum_n dout[n] @ cols[n].T``, and for ``dx``
either ``dcols[n] = w2.T @ dout[n]`` followed by a *col2im* that adds each column's gradient
back onto the pixels it came from (``KH * KW`` strided adds), or, with stride 1, a
*transposed convolution* of ``dout`` (see ``_transposed``). The batch-major layout gives
the output as ``(N, F, OH, OW)`` with no transpose.

Speed: the columns are gathered and multiplied a few images at a time, so that they stay
in the CPU's cache (``_im2col.py`` explains the blocks and a memory layout that makes
gathering cheap); the backward pass gathers them again rather than storing them. With
stride 1 and "same" width (``OW = W``, most CNN layers) it gathers only ``dout``'s columns,
which give both ``dx`` and ``dw`` (``_from_dout_columns``).

Shapes: ``x (N, C, H, W)``, ``w (F, C, KH, KW)``, ``b (F,)`` or ``None``,
``out (N, F, OH, OW)`` with ``OH = (H + 2 ph - dh (KH - 1) - 1) // sh + 1`` (likewise OW).
``stride``, ``pad`` and ``dilation`` are an int or a pair ``(rows, cols)``; padding is zeros
on both sides.
"""

from __future__ import annotations

from typing import Any

from .._validate import check_floats, check_shape
from ..backend import namespace
from ._im2col import ConvGeometry, PaddedBlocks, block_size
from ._windows import add, check_images, contiguous, empty, matmul, output_size, padded, pair, zeros

__all__ = ["conv2d_forward", "conv2d_backward", "conv2d_naive"]


def _geometry(x: Any, w: Any, b: Any, stride: Any, pad: Any, dilation: Any) -> ConvGeometry:
    n, c, h, wd = check_images(x, "x")
    if w.ndim != 4:
        raise ValueError(
            f"w must be 4-D with shape (F, C, KH, KW); got {w.ndim}-D shape {tuple(w.shape)}"
        )
    if int(w.shape[1]) != c:
        raise ValueError(
            f"w has shape {tuple(w.shape)}: its axis 1 (C, input channels) must match x's "
            f"C={c} from x of shape {tuple(x.shape)}"
        )
    f, _, kh, kw = (int(s) for s in w.shape)
    if kh == 0 or kw == 0 or f == 0 or c == 0:
        raise ValueError(f"w must have no empty axis; got shape {tuple(w.shape)}")
    if b is not None and tuple(b.shape) != (f,):
        check_shape(b, "b", (f,), names=("F",))
    s = pair(stride, "stride", minimum=1)
    p = pair(pad, "pad", minimum=0)
    d = pair(dilation, "dilation", minimum=1)
    oh = output_size(h, kh, s[0], p[0], d[0], "H", (kh, kw))
    ow = output_size(wd, kw, s[1], p[1], d[1], "W", (kh, kw))
    return ConvGeometry((n, c, h, wd), (kh, kw), s, p, d, (oh, ow))


def _check(x: Any, w: Any, b: Any) -> tuple[Any, Any, Any]:
    if b is None:
        x, w = check_floats(x=x, w=w)
        return x, w, None
    return check_floats(x=x, w=w, b=b)


def _correlate(x: Any, w: Any, g: ConvGeometry, b: Any = None) -> Any:
    """``out`` ``(N, F, OH, OW)``: block by block, columns ``(B, C*KH*KW, P)`` then
    ``w2 @ cols`` ``(B, F, P)``, cropped to the outputs (and the bias added)."""
    n, c, _, _ = g.x_shape
    f, (kh, kw), (oh, ow) = int(w.shape[0]), g.kernel, g.out_hw
    ckk, p = c * kh * kw, g.columns
    step = block_size(x, ckk * p * x.dtype.itemsize)
    blocks = PaddedBlocks(x, g, step)
    w2 = w.reshape(f, ckk)  # (F, C*KH*KW)
    out = empty((n, f, oh, ow), x)
    exact = p == oh * ow  # the products are the outputs: write them in place
    flat = out.reshape(n, f, p) if exact else None
    for start in range(0, n, step):
        cols = blocks.columns(x[start : start + step])  # (B, C*KH*KW, P)
        if exact:
            block = flat[start : start + step]
            matmul(w2, cols, out=block)  # (B, F, OH*OW)
            if b is not None:
                block += b[:, None]
        elif b is None:
            out[start : start + step] = blocks.outputs(w2 @ cols)
        else:  # cropped and biased in one pass
            add(blocks.outputs(w2 @ cols), b[:, None, None], out=out[start : start + step])
    return out


def conv2d_forward(
    x: Any, w: Any, b: Any, stride: Any = 1, pad: Any = 0, dilation: Any = 1
) -> tuple[Any, tuple[Any, ...]]:
    """Forward pass of a 2-D convolution layer, vectorized (im2col + matrix products).

    Args:
        x: images, shape ``(N, C, H, W)``.
        w: filters, shape ``(F, C, KH, KW)``.
        b: biases, shape ``(F,)``, or ``None`` for no bias.
        stride: step between windows, an int or ``(sh, sw)``.
        pad: zeros added on each side, an int or ``(ph, pw)``.
        dilation: spacing between kernel taps, an int or ``(dh, dw)`` (1: adjacent pixels).

    Returns:
        ``(out, cache)``: ``out[n, f, y, x] = b[f] + sum_{c,i,j} w[f, c, i, j] *
        xpad[n, c, y*sh + i*dh, x*sw + j*dw]``, shape ``(N, F, OH, OW)``; ``cache`` holds
        ``x``, ``w``, whether there is a bias, and the geometry.
    """
    x, w, b = _check(x, w, b)
    g = _geometry(x, w, b, stride, pad, dilation)
    return _correlate(x, w, g, b), (x, w, b is not None, g)


def conv2d_backward(
    dout: Any, cache: tuple[Any, ...], *, input_grad: bool = True
) -> tuple[Any, Any, Any]:
    """Backward pass of :func:`conv2d_forward`.

    Args:
        dout: upstream gradient ``dL/dout``, shape ``(N, F, OH, OW)``.
        cache: the cache returned by :func:`conv2d_forward`.
        input_grad: compute ``dx``. The first layer of a network reads the data, whose
            gradient nobody needs: ``input_grad=False`` skips it (``dx`` is then ``None``),
            as torch's autograd does for inputs without ``requires_grad``.

    Returns:
        ``(dx, dw, db)`` of shapes ``(N, C, H, W)``, ``(F, C, KH, KW)`` and ``(F,)`` (``db``
        is ``None`` when the forward pass had no bias). ``db`` sums ``dout`` over all but
        the filter axis; ``dw = sum_n dout[n] @ cols[n].T`` (``(F, OH*OW)`` times
        ``(OH*OW, C*KH*KW)``); for ``dx`` see :func:`_transposed`.
    """
    if not (isinstance(cache, tuple) and len(cache) == 4 and isinstance(cache[3], ConvGeometry)):
        raise TypeError("cache must be the tuple returned by conv2d_forward")
    x, w, has_bias, g = cache
    n, c, h, wd = g.x_shape
    f, (kh, kw), (oh, ow) = int(w.shape[0]), g.kernel, g.out_hw
    dout, w = check_floats(dout=dout, w=w)  # one kind, one dtype
    if tuple(dout.shape) != (n, f, oh, ow):
        check_shape(dout, "dout", (n, f, oh, ow), names=("N", "F", "OH", "OW"))
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None  # (F,)
    if input_grad and _transposed_is_cheaper(g, f) and g.out_hw[1] == wd:
        dx, dw = _from_dout_columns(dout, x, w, g)
        return dx, dw, db
    ckk = c * kh * kw
    step = block_size(x, ckk * g.columns * x.dtype.itemsize)
    blocks = PaddedBlocks(x, g, step)
    extended = zeros((step, f, oh, wd), x) if g.columns != oh * ow else None
    transposed = input_grad and _transposed_is_cheaper(g, f)
    col2im = input_grad and not transposed
    w2t = w.reshape(f, ckk).T  # (C*KH*KW, F)
    dw_t = zeros((ckk, f), w)  # dw transposed: cols @ dout.T runs faster in BLAS (measured)
    dx = empty((n, c, h, wd), x) if col2im else None
    for start in range(0, n, step):
        stop = start + step
        cols = blocks.columns(x[start:stop])  # (B, C*KH*KW, P), gathered again
        dblock = blocks.products(dout[start:stop], extended)  # (B, F, P)
        dw_t += (cols @ dblock.swapaxes(1, 2)).sum(axis=0)  # (C*KH*KW, F)
        if col2im:
            dx[start:stop] = blocks.add_columns(w2t @ dblock)  # (B, C, H, W)
    if transposed:
        dx = _transposed(dout, w, g)
    return dx, contiguous(dw_t.T).reshape(w.shape), db


TRANSPOSED_MAX_RATIO = 2.0  # dx as a transposed convolution when F <= this * C (measured)


def _transposed_geometry(g: ConvGeometry, filters: int) -> ConvGeometry | None:
    """The geometry of :func:`_transposed` for ``g``, or ``None`` where it does not apply."""
    n, _, h, wd = g.x_shape
    (kh, kw), (dh, dw), (ph, pw) = g.kernel, g.dilation, g.pad
    pad = (dh * (kh - 1) - ph, dw * (kw - 1) - pw)  # the kernel's reach minus pad
    if g.stride != (1, 1) or min(pad) < 0:
        return None
    return ConvGeometry((n, filters, *g.out_hw), g.kernel, (1, 1), pad, g.dilation, (h, wd))


def _transposed_is_cheaper(g: ConvGeometry, filters: int) -> bool:
    """Whether :func:`_transposed` applies, in the fast rows layout, and beats col2im."""
    g_t = _transposed_geometry(g, filters)
    return g_t is not None and g_t.rows and filters <= TRANSPOSED_MAX_RATIO * g.x_shape[1]


def _transposed(dout: Any, w: Any, g: ConvGeometry) -> Any:
    """``dx`` ``(N, C, H, W)`` as a convolution of ``dout`` (stride 1 only).

    Pixel ``x[y, x]`` met tap ``w[f, c, i, j]`` in output ``(y + ph - i*dh, x + pw - j*dw)``.
    So ``dx`` is the correlation of ``dout``, padded by the kernel's reach minus ``pad``,
    with the filters flipped and their two channel axes swapped: a *transposed
    convolution*. Its products have the long inner dimension ``F*KH*KW``, where col2im's
    have ``F``; that pays for gathering ``dout``'s larger columns when ``F`` is not much
    larger than ``C``. Otherwise (and for strides) :meth:`PaddedBlocks.add_columns` adds
    each image's gradient columns ``w2.T @ dout[n]`` back onto their pixels (col2im).
    """
    xp = namespace(w)
    w_t = xp.permute_dims(xp.flip(w, axis=(2, 3)), (1, 0, 2, 3))  # (C, F, KH, KW)
    return _correlate(dout, contiguous(w_t), _transposed_geometry(g, int(w.shape[0])))


def _from_dout_columns(dout: Any, x: Any, w: Any, g: ConvGeometry) -> tuple[Any, Any]:
    """``(dx, dw)`` from ONE gathering of ``dout``'s columns (stride 1, ``OW = W``).

    The transposed convolution of :func:`_transposed` gathers ``dout``'s columns
    ``cols[(f, i', j'), (u, v)] = dout[f, u + i' dh - pad_t, v + j' dw - pad_t]`` (zero
    outside), one per pixel ``(u, v)`` of ``x``. With ``i = KH-1-i'`` that is ``dout[f,
    u - i dh + ph, v - j dw + pw]``: exactly the output that pixel met through tap ``(i, j)``.
    So the same columns also give the filter gradient, ``dw[f, c, i, j] = sum_n sum_(u,v)
    cols_n[(f, i', j'), (u, v)] x_n[c, (u, v)]``, and the backward pass gathers once instead
    of twice (``x``'s columns again for ``dw``, ``dout``'s for ``dx``), using each block of
    columns for both products while it is in the cache. ``OW = W`` ("same" padding) makes
    the columns line up with ``x``'s pixels one to one.
    """
    xp = namespace(w)
    n, c, h, wd = g.x_shape
    f, _, kh, kw = (int(s) for s in w.shape)
    g_t = _transposed_geometry(g, f)
    fkk, p = f * kh * kw, h * wd
    w_t = contiguous(xp.permute_dims(xp.flip(w, axis=(2, 3)), (1, 0, 2, 3)))  # (C, F, KH, KW)
    w_t2 = w_t.reshape(c, fkk)
    step = block_size(dout, fkk * g_t.columns * dout.dtype.itemsize)
    blocks = PaddedBlocks(dout, g_t, step)
    dx = empty((n, c, h, wd), x)
    dx_flat, x_flat = dx.reshape(n, c, p), x.reshape(n, c, p)
    acc = zeros((fkk, c), w)  # acc[(f, i', j'), c] = dw[f, c, KH-1-i', KW-1-j']
    for start in range(0, n, step):
        stop = start + step
        cols = blocks.columns(dout[start:stop])  # (B, F*KH*KW, H*W)
        matmul(w_t2, cols, out=dx_flat[start:stop])  # (B, C, H*W): dx, the transposed conv
        acc += (cols @ x_flat[start:stop].swapaxes(1, 2)).sum(axis=0)  # (F*KH*KW, C)
    dw = xp.flip(xp.permute_dims(acc.reshape(f, kh, kw, c), (0, 3, 1, 2)), axis=(2, 3))
    return dx, contiguous(dw)


def conv2d_naive(x: Any, w: Any, b: Any, stride: Any = 1, pad: Any = 0, dilation: Any = 1) -> Any:
    """The convolution as its definition, one output number at a time. Slow on purpose.

    Same arguments and output as :func:`conv2d_forward` (without the cache): each
    ``out[n, f, y, x]`` is the sum over the window ``xpad[n, :, y*sh : ... : dh,
    x*sw : ... : dw]`` (shape ``(C, KH, KW)``) times the filter ``w[f]``, plus ``b[f]``.
    Use it to read what a convolution does and to test the fast version against.
    """
    x, w, b = _check(x, w, b)
    g = _geometry(x, w, b, stride, pad, dilation)
    n_images, _, _, _ = g.x_shape
    n_filters, (kh, kw), (oh, ow) = int(w.shape[0]), g.kernel, g.out_hw
    (sh, sw), (dh, dw) = g.stride, g.dilation
    xpad = padded(x, g.pad)  # (N, C, H + 2 ph, W + 2 pw)
    out = zeros((n_images, n_filters, oh, ow), x)
    for n in range(n_images):
        for f in range(n_filters):
            for y in range(oh):
                for x_ in range(ow):
                    top, left = y * sh, x_ * sw
                    window = xpad[n, :, top : top + dh * (kh - 1) + 1 : dh,
                                  left : left + dw * (kw - 1) + 1 : dw]  # (C, KH, KW)  # fmt: skip
                    out[n, f, y, x_] = (window * w[f]).sum()
                    if b is not None:
                        out[n, f, y, x_] += b[f]
    return out
