"""im2col and col2im in blocks of images: the memory layout behind ``conv2d_forward``.

A convolution's column matrix is ``KH*KW`` times larger than its input (9x for 3x3
kernels). Written out for a whole batch it falls out of the CPU caches, and copying it to
main memory and back costs as much as the arithmetic. So the work goes block by block: a
few images (whose columns fit in about 1 MiB, the size of a core's L2 cache) are copied
into a small reusable zero-padded buffer, their columns gathered from a strided view and
multiplied, before the next block reuses the same memory. On a GPU there is no such cache
to fit, and the whole batch is one block.

Two layouts of a block, chosen by :attr:`ConvGeometry.rows`:

* **rows** (stride 1 and at most "same" padding across: nearly every CNN layer). Each image
  is stored as one flat row of its ``H*W`` pixels, with ``ph`` rows of zeros above and
  below, and outputs are computed at ``P = OH*W`` positions: every output row at all ``W``
  columns, of which the first ``OW`` are real. The window of kernel offset ``(i, j)`` is
  then ONE contiguous slice of that row, so gathering columns, adding them back and even
  copying an image in are long memory copies rather than one short copy per image row.
  A slice runs past the left or right edge of a row into the next: those few entries,
  where the padding's zeros belong, are set to zero by :meth:`PaddedBlocks._mask`. With
  "same" padding (``OW = W``) the products are exactly the outputs, with no cropping.
* **windows** (any other geometry): a padded ``(Hp, Wp)`` copy of each image and the
  ``(B, C, KH, KW, OH, OW)`` view of :func:`dlkit.functional._windows.windows`,
  ``P = OH*OW``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..backend import is_torch
from ._windows import contiguous, scatter_add, strided, windows, zeros

__all__ = ["ConvGeometry", "BLOCK_BYTES", "block_size", "PaddedBlocks"]

BLOCK_BYTES = 1 << 20  # columns gathered at once on the CPU: about one L2 cache


class ConvGeometry(NamedTuple):
    """Everything about one convolution's shapes, parsed and checked once."""

    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    kernel: tuple[int, int]  # (KH, KW)
    stride: tuple[int, int]
    pad: tuple[int, int]
    dilation: tuple[int, int]
    out_hw: tuple[int, int]  # (OH, OW)

    @property
    def rows(self) -> bool:
        """Whether the rows layout applies: stride 1 and ``OW <= W``."""
        return self.stride == (1, 1) and 2 * self.pad[1] <= self.dilation[1] * (self.kernel[1] - 1)

    @property
    def columns(self) -> int:
        """``P``, the products per image and filter: ``OH*W`` (rows) or ``OH*OW``."""
        (oh, ow), w = self.out_hw, self.x_shape[3]
        return oh * w if self.rows else oh * ow


def block_size(like: Any, per_image_bytes: int) -> int:
    """How many images to process at once (all of them on a GPU)."""
    n = int(like.shape[0])
    if is_torch(like) and like.device.type != "cpu":
        return max(1, n)
    return max(1, min(n, BLOCK_BYTES // max(1, per_image_bytes)))


class PaddedBlocks:
    """A reusable zero-padded buffer ``(B, C, L)`` for blocks of ``B`` images of ``g``.

    Its views (the images inside, the windows) are made once here: a block then only
    slices them, which keeps the per-block Python work to a few microseconds.
    """

    def __init__(self, like: Any, g: ConvGeometry, step: int) -> None:
        self.g = g
        (_, c, h, w), (kh, kw), (ph, pw), (dh, dw) = g.x_shape, g.kernel, g.pad, g.dilation
        oh, self.ckk = g.out_hw[0], c * kh * kw
        if g.rows:  # pw zeros in front, ph zero rows above and below, a tail for the reach
            length = pw + (h + 2 * ph) * w + dw * (kw - 1)
        else:
            length = (h + 2 * ph) * (w + 2 * pw)
        self.buffer = zeros((step, c, length), like)  # the padding stays zero
        if g.rows:
            start = pw + ph * w  # where the first pixel goes
            inside = self.buffer[:, :, start:]
            self._inside = strided(
                inside, (step, c, h, w), (c * length, length, w, 1), writeable=True
            )
            steps = (c * length, length, dh * w, dw, w, 1)
            self._windows = strided(self.buffer, (step, c, kh, kw, oh, w), steps)
            self._edges = _edges(w, pw, dw, kw)
        else:
            grid = strided(
                self.buffer, (step, c, h + 2 * ph, w + 2 * pw), (c * length, length, w + 2 * pw, 1),
                writeable=True,
            )  # fmt: skip
            self._grid = grid  # (B, C, Hp, Wp)
            self._inside = grid[:, :, ph : ph + h, pw : pw + w]
            self._windows = windows(grid, g.kernel, g.out_hw, g.stride, g.dilation)

    def _mask(self, cols: Any) -> None:
        """Rows layout: zero the entries of ``cols`` ``(B, C, KH, KW, OH, W)`` whose slice
        ran over a row's edge into the next row, where the padding's zeros belong."""
        for j, columns in self._edges:
            cols[:, :, :, j, :, columns] = 0

    def columns(self, images: Any) -> Any:
        """im2col: ``images`` ``(B, C, H, W)``, padded, as columns ``(B, C*KH*KW, P)``."""
        b = int(images.shape[0])
        self._inside[:b] = images
        cols = contiguous(self._windows[:b])  # the copy: (B, C, KH, KW, OH, W or OW)
        if self.g.rows:
            self._mask(cols)
        return cols.reshape(b, self.ckk, self.g.columns)

    def add_columns(self, dcols: Any) -> Any:
        """col2im: ``dcols`` ``(B, C*KH*KW, P)`` added onto the pixels they came from.

        Returns the gradient of the block's images, ``(B, C, H, W)``, a view of the buffer
        (copy it out before the next call). ``dcols`` may be overwritten.
        """
        g, b = self.g, int(dcols.shape[0])
        c, (kh, kw) = int(self.buffer.shape[1]), g.kernel
        buffer = self.buffer[:b]
        buffer[...] = 0
        if not g.rows:
            dwin = dcols.reshape(b, c, kh, kw, *g.out_hw)
            scatter_add(dwin, self._grid[:b], g.stride, g.dilation)
            return self._inside[:b]
        (dh, dw), (oh, w), p = g.dilation, (g.out_hw[0], g.x_shape[3]), g.columns
        dcols = dcols.reshape(b, c, kh, kw, oh, w)
        self._mask(dcols)  # what ran over an edge belongs to the padding: dropped
        dcols = dcols.reshape(b, c, kh, kw, p)
        for i in range(kh):
            for j in range(kw):
                offset = i * dh * w + j * dw
                buffer[:, :, offset : offset + p] += dcols[:, :, i, j]
        return self._inside[:b]

    def outputs(self, result: Any) -> Any:
        """A block's products ``(B, F, P)`` as outputs ``(B, F, OH, OW)`` (a view)."""
        b, f, p = result.shape
        oh, ow = self.g.out_hw
        return result.reshape(b, f, oh, p // oh)[:, :, :, :ow]

    def products(self, dout: Any, buffer: Any) -> Any:
        """A block's output gradient ``(B, F, OH, OW)`` as ``(B, F, P)``: rows layout with
        ``OW < W`` writes it into ``buffer`` ``(B, F, OH, W)`` whose extra columns stay 0."""
        b, f, oh, ow = dout.shape
        if self.g.columns == oh * ow:
            return dout.reshape(b, f, oh * ow)
        buffer = buffer[:b]
        buffer[:, :, :, :ow] = dout
        return buffer.reshape(b, f, self.g.columns)


def _edges(w: int, pw: int, dw: int, kw: int) -> list[tuple[int, slice]]:
    """Rows layout: for each kernel column ``j``, the output columns ``x`` whose input
    column ``x + j*dw - pw`` lies outside ``[0, W)`` (read from the neighbouring row)."""
    edges = []
    for j in range(kw):
        left, right = pw - j * dw, w + pw - j * dw  # the valid output columns
        if left > 0:
            edges.append((j, slice(0, left)))
        if right < w:
            edges.append((j, slice(max(right, 0), w)))
    return edges
