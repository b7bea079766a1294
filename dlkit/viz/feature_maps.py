"""Look inside a trained CNN: an image, a layer's filters, and the feature maps they produce."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .explorer import Choice, Explorer, Slider

__all__ = ["FeatureMapExplorer"]

MAX_MAPS = 16  # feature maps drawn per layer (the first 16 channels)


def _layers(model: Any) -> list[Any]:
    layers = getattr(model, "layers", None)
    if layers is None or not len(layers):
        raise TypeError(
            "model must be a dlkit.nn.Sequential (a model with a list of .layers); "
            f"got {type(model).__name__}"
        )
    return list(layers)


def _array(t: Any) -> np.ndarray:
    from ..backend import to_numpy

    return to_numpy(getattr(t, "data", t)).astype(np.float64)


class FeatureMapExplorer(Explorer):
    """Run one image through a trained ``Sequential`` CNN and show what a layer computes.

    Controls: the image (an index into ``images``) and the layer (every layer whose output is
    an image ``(C, H, W)``: convolutions, activations, pools, blocks). The figure shows the
    input with the model's prediction, the chosen layer's filters when it is a convolution
    with one input channel (otherwise which input channels each filter weighs most), and
    the layer's feature maps for this image (the first 16 channels).

    Args:
        model: a ``dlkit.nn.Sequential`` whose first layers take ``(N, C, H, W)`` images.
        images: ``(N, C, H, W)`` or ``(N, H, W)`` array of inputs.
        class_names: optional names of the model's output classes.
    """

    def __init__(
        self,
        model: Any,
        images: Any,
        *,
        class_names: Sequence[str] | None = None,
        image: int = 0,
        **kwargs: Any,
    ) -> None:
        self.model = model
        self.layers = _layers(model)
        images = np.asarray(images, dtype=np.float64)
        if images.ndim == 3:
            images = images[:, None]
        if images.ndim != 4 or len(images) == 0:
            raise ValueError(
                f"images must have shape (N, C, H, W) or (N, H, W) with N >= 1; got shape "
                f"{images.shape}"
            )
        self.images = images
        self.class_names = list(class_names) if class_names is not None else None
        outputs = self.activations(0)
        self.names = [
            f"{i}: {type(layer).__name__}"
            for i, (layer, out) in enumerate(zip(self.layers, outputs, strict=True))
            if out.ndim == 4
        ]
        if not self.names:
            raise ValueError("model has no layer whose output is an image (N, C, H, W)")
        if not 0 <= image < len(images):
            raise ValueError(f"image must be in [0, {len(images) - 1}]; got {image!r}")
        controls = {
            "image": Slider(0, max(len(images) - 1, 1), image, step=1, label="image", integer=True),
            "layer": Choice(tuple(self.names), self.names[0], "layer"),
        }
        kwargs.setdefault("figsize", (11.0, 4.6))
        super().__init__(controls=controls, **kwargs)

    def activations(self, image: int) -> list[np.ndarray]:
        """The output of every layer for image ``image``, as NumPy arrays (batch of one)."""
        from ..autograd import Tensor

        h: Any = Tensor(self.images[min(image, len(self.images) - 1)][None])
        outs = []
        for layer in self.layers:
            h = layer(h)
            outs.append(_array(h))
        return outs

    def draw(self, fig: Figure, image: int, layer: str) -> None:
        index = int(layer.split(":")[0])
        outs = self.activations(int(image))
        maps = outs[index][0]  # (C, H, W)
        logits = outs[-1][0]
        grid = fig.add_gridspec(2, 9)
        ax_img = fig.add_subplot(grid[:, :2])
        x = self.images[min(int(image), len(self.images) - 1)]
        ax_img.imshow(x[0] if x.shape[0] == 1 else x.mean(axis=0), cmap="gray_r")
        title = f"image #{int(image)}"
        if logits.ndim == 1 and logits.size > 1 and np.isfinite(logits).all():
            p = np.exp(logits - logits.max())
            p /= p.sum()
            k = int(p.argmax())
            name = self.class_names[k] if self.class_names else str(k)
            title += f"\npredicted {name} ({p[k]:.0%})"
        ax_img.set_title(title, fontsize=9)
        ax_img.axis("off")

        self._draw_filters(fig.add_subplot(grid[0, 2:]), self.layers[index])
        n = min(len(maps), MAX_MAPS)
        cols = grid[1, 2:].subgridspec(2, 8) if n > 8 else grid[1, 2:].subgridspec(1, 8)
        finite = np.isfinite(maps[:n])
        lim = float(np.abs(maps[:n][finite]).max()) if finite.any() else 0.0
        lim = max(lim, 1e-12)
        for k in range(n):
            ax = fig.add_subplot(cols[k // 8, k % 8])
            ax.imshow(np.where(finite[k], maps[k], 0.0), cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(str(k), fontsize=7)
            ax.axis("off")
        # a caption below every panel: the constrained layout makes room for it
        fig.supxlabel(
            f"{layer}: {len(maps)} maps of {maps.shape[1]}x{maps.shape[2]}, max |value| {lim:.3g}",
            fontsize=9,
        )

    @staticmethod
    def _draw_filters(ax: Any, layer: Any) -> None:
        weight = getattr(layer, "weight", None)
        w = _array(weight) if weight is not None else None
        if w is None or w.ndim != 4:
            ax.text(0.5, 0.5, f"{type(layer).__name__}: no filters", ha="center", va="center")
            ax.axis("off")
            return
        f, c, kh, kw = w.shape
        if c == 1:  # show the filters themselves, side by side with a one-pixel gap
            n = min(f, MAX_MAPS)
            strip = np.full((kh, n * (kw + 1) - 1), np.nan)
            for k in range(n):
                strip[:, k * (kw + 1) : k * (kw + 1) + kw] = w[k, 0]
            lim = max(float(np.nanmax(np.abs(strip))), 1e-12)
            ax.imshow(strip, cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(f"the first {n} of {f} filters ({kh}x{kw}); red +, blue -", fontsize=9)
        else:  # which input maps each filter reads: the norm of w[f, c]
            norms = np.sqrt((w**2).sum(axis=(2, 3)))[:MAX_MAPS]  # (F, C)
            ax.imshow(norms, cmap="Greys", aspect="auto")
            ax.set_xlabel("input channel", fontsize=8)
            ax.set_ylabel("filter", fontsize=8)
            ax.set_title(f"weight size |w[f, c]| of {f} filters ({kh}x{kw})", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
