"""Latent-space explorer: move a point over a 2-D code space, see what the decoder makes of it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ._student import as_array, check_functions
from .explorer import Explorer, Slider, legend_beside

__all__ = ["LatentExplorer"]

MARGIN = 0.15  # the sliders reach this fraction of the codes' spread beyond their extremes
MAX_POINTS = 2000  # at most this many training codes are drawn (a seeded subset)


class LatentExplorer(Explorer):
    """The codes of the training examples as a scatter coloured by class, a point you move with
    two sliders, and the image your decoder makes of that point.

    Args:
        decode: yours, ``decode(z) -> images`` for codes ``z`` ``(M, 2)``, returning
            ``(M, H * W)`` pixel values (in ``[0, 1]``: apply the sigmoid to logits first).
            Called once per redraw with one code, ``(1, 2)``.
        codes: the 2-D codes of the training examples, ``(N, 2)``: the scatter, and the
            sliders' ranges.
        labels: ``(N,)`` integer classes of those examples, for the colours; none when ``None``.
        image_shape: ``(H, W)`` of one decoded image (8 x 8 for the digits).
        start: the sliders' first position ``(z1, z2)``; the mean code when ``None``.
        names: optional class names for the legend (``names[k]`` for label ``k``).
    """

    def __init__(
        self,
        decode: Callable[[np.ndarray], Any],
        codes: Any,
        labels: Any = None,
        *,
        image_shape: tuple[int, int] = (8, 8),
        start: Sequence[float] | None = None,
        names: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        from ..backend import to_numpy

        if decode is None:
            raise TypeError("decode must be your decoder function, decode(z) -> images")
        check_functions(decode=decode)
        self.decode = decode
        z = np.asarray(to_numpy(codes), dtype=np.float64)
        if z.ndim != 2 or z.shape[1] != 2 or z.shape[0] < 1:
            raise ValueError(f"codes must have shape (N, 2), N >= 1; got shape {z.shape}")
        if not np.all(np.isfinite(z)):
            raise ValueError("codes must be finite numbers")
        self.codes = z
        if labels is None:
            self.labels = None
        else:
            lab = np.asarray(to_numpy(labels))
            if lab.shape != (z.shape[0],) or not np.issubdtype(lab.dtype, np.integer):
                raise ValueError(
                    f"labels must be {z.shape[0]} integer classes, shape ({z.shape[0]},); "
                    f"got shape {lab.shape} and dtype {lab.dtype}"
                )
            self.labels = lab
        if not (
            isinstance(image_shape, (tuple, list))
            and len(image_shape) == 2
            and all(isinstance(s, (int, np.integer)) and s >= 1 for s in image_shape)
        ):
            raise ValueError(f"image_shape must be (H, W) of positive ints; got {image_shape!r}")
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))
        self.names = None if names is None else [str(n) for n in names]
        low, high = z.min(axis=0), z.max(axis=0)
        spread = np.maximum(high - low, 1e-3)
        self.low, self.high = low - MARGIN * spread, high + MARGIN * spread
        if start is None:
            start = z.mean(axis=0)
        start = np.asarray(start, dtype=np.float64)
        if start.shape != (2,):
            raise ValueError(f"start must be a pair (z1, z2); got {start!r}")
        start = np.clip(start, self.low, self.high)
        order = np.random.default_rng(0).permutation(z.shape[0])[:MAX_POINTS]
        self.shown = np.sort(order)
        controls = {
            f"z{k + 1}": Slider(
                float(self.low[k]), float(self.high[k]), float(start[k]), label=f"z{k + 1}"
            )
            for k in range(2)
        }
        kwargs.setdefault("figsize", (9.0, 4.2))
        super().__init__(controls=controls, **kwargs)

    # -- the computation ----------------------------------------------------------------
    def image(self, z1: float, z2: float) -> np.ndarray:
        """``decode([[z1, z2]])`` as an ``(H, W)`` image of floats."""
        code = np.array([[z1, z2]], dtype=np.float64)
        out = self.decode(code)
        h, w = self.image_shape
        got = np.asarray(_numpy(out), dtype=np.float64)
        if got.size != h * w:
            raise ValueError(
                f"decode(z) for z of shape (1, 2) must return one image of {h * w} pixels, "
                f"shape (1, {h * w}); got shape {got.shape}"
            )
        return as_array(got.reshape(h, w), "decode(z)", (h, w))

    # -- the picture --------------------------------------------------------------------
    def draw(self, fig: Figure, *, z1: float, z2: float) -> None:
        fig.set_layout_engine("none")  # fixed margins: the same values give the same pixels
        img = self.image(z1, z2)  # the student's decoder: may say "write `decode` first"
        ax = fig.add_axes((0.08, 0.13, 0.42, 0.74))  # the codes; the legend goes beside it
        ax_img = fig.add_axes((0.66, 0.13, 0.30, 0.74))  # the decoded image
        z = self.codes[self.shown]
        if self.labels is None:
            ax.scatter(z[:, 0], z[:, 1], s=6, color="0.6", alpha=0.6)
        else:
            lab = self.labels[self.shown]
            classes = np.unique(self.labels)
            for k, c in enumerate(classes):
                pick = lab == c
                name = self.names[int(c)] if self.names is not None else str(c)
                ax.scatter(z[pick, 0], z[pick, 1], s=6, color=f"C{k % 10}", alpha=0.6, label=name)
            legend_beside(ax, fontsize=7, markerscale=2.0, title="class", title_fontsize=7)
        ax.plot([z1], [z2], marker="*", ms=16, color="k", markeredgecolor="w", zorder=5)
        ax.set(xlim=(self.low[0], self.high[0]), ylim=(self.low[1], self.high[1]),
               xlabel="z1", ylabel="z2")  # fmt: skip
        ax.set_title("the training codes, by class", fontsize=10)
        finite = np.isfinite(img)
        shown = np.where(finite, img, 0.0)
        ax_img.imshow(shown, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax_img.set_xticks([])
        ax_img.set_yticks([])
        note = "" if finite.all() else " (NaN pixels shown as 0)"
        ax_img.set_title(f"decode(({z1:.2f}, {z2:.2f})){note}", fontsize=10)


def _numpy(value: Any) -> Any:
    from ..backend import to_numpy

    data = getattr(value, "data", value)  # a dlkit Tensor from a decoder module
    return to_numpy(data)
