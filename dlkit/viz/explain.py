"""Explanation explorer: one image, one attribution method, and the heat map it produces.

Pick a method (saliency, gradient x input, integrated gradients, occlusion), an image, the
baseline that stands for "no signal" and, for integrated gradients, the number of steps along
the path. The left panel shows the image and the class explained (the model's prediction);
the right one the attribution of every pixel on a diverging colour scale centred at zero (red
raises the score, blue lowers it). For integrated gradients the title reports the completeness
gap: how far the attributions' sum is from ``score(x) - score(baseline)``.

The methods are the student's own functions when given, dlkit's (``dlkit.interpret``)
otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ._student import as_array, check_functions, unpack
from .explorer import Choice, Explorer, Slider

__all__ = ["ExplanationExplorer"]

METHODS = ("saliency", "gradient x input", "integrated gradients", "occlusion")
BASELINES = ("zeros", "blurred", "mean image")
USES_BASELINE = ("integrated gradients", "occlusion")


def _numpy(value: Any, name: str) -> np.ndarray:
    from ..backend import to_numpy

    try:
        return np.asarray(to_numpy(getattr(value, "data", value)), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers; got {type(value).__name__}") from exc


def _blur(img: np.ndarray, passes: int = 2) -> np.ndarray:
    """A 3 x 3 box blur applied ``passes`` times, edges repeated: the image without detail."""
    out = img
    for _ in range(passes):
        p = np.pad(out, 1, mode="edge")
        h, w = out.shape
        out = sum(p[i : i + h, j : j + w] for i in range(3) for j in range(3)) / 9.0
    return out


def _image_shape(images: np.ndarray, image_shape: Sequence[int] | None) -> tuple[int, int]:
    if image_shape is not None:
        if not (
            isinstance(image_shape, (tuple, list))
            and len(image_shape) == 2
            and all(isinstance(s, (int, np.integer)) and s >= 1 for s in image_shape)
        ):
            raise ValueError(f"image_shape must be (H, W) of positive ints; got {image_shape!r}")
        shape = (int(image_shape[0]), int(image_shape[1]))
        if shape[0] * shape[1] != int(np.prod(images.shape[1:])):
            raise ValueError(
                f"image_shape {shape} must hold the {int(np.prod(images.shape[1:]))} values "
                f"of one image of images (shape {images.shape[1:]})"
            )
        return shape
    if images.ndim == 3:
        return images.shape[1], images.shape[2]
    if images.ndim == 4 and images.shape[1] == 1:
        return images.shape[2], images.shape[3]
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side == images.shape[1]:
            return side, side
    raise ValueError(
        "images must be grey-scale images (N, H, W), (N, 1, H, W) or flat (N, H * W) with a "
        f"square H * W; got shape {images.shape}: pass image_shape=(H, W) for other flat images"
    )


class ExplanationExplorer(Explorer):
    """Attributions of a model's prediction for a few images, method by method.

    Args:
        model: the classifier explained: a dlkit.nn Module or a torch nn.Module taking a batch
            shaped like ``images`` and returning scores ``(N, K)``.
        images: ``(N, ...)`` grey-scale images as the model takes them: ``(N, H, W)``,
            ``(N, 1, H, W)`` or flat ``(N, H * W)``; at least 2 (the image slider).
        labels: optional ``(N,)`` true classes, shown beside the prediction.
        saliency_map: yours, ``saliency_map(model, x, target, *, times_input=False)``; dlkit's
            when ``None``. Called with ONE image, ``x`` of shape ``(1, ...)``, and the
            predicted class as ``target`` (an int), for "saliency" and "gradient x input".
        integrated_gradients: yours, ``integrated_gradients(model, x, target, *, baseline,
            steps) -> (attributions, gap)``; dlkit's when ``None``. ``baseline`` is ``None``
            for "zeros", else an array shaped like ``x``.
        occlusion_map: yours, ``occlusion_map(model, x, target, *, window, stride,
            baseline)``; dlkit's when ``None``. Called on the image as ``(1, H, W)`` (a flat
            model is wrapped to reshape it back), so the window is a square patch;
            ``baseline`` is ``0.0`` for "zeros", else an array shaped like that ``x``.
        image_shape: ``(H, W)`` of one image, needed only for flat images that are not square.
        window: the occlusion patch ``(h, w)``.
        stride: the occlusion step ``(h, w)``.
        max_steps: the largest number of integrated-gradients steps on the slider.
    """

    def __init__(
        self,
        *,
        model: Any,
        images: Any,
        labels: Any = None,
        saliency_map: Callable[..., Any] | None = None,
        integrated_gradients: Callable[..., Any] | None = None,
        occlusion_map: Callable[..., Any] | None = None,
        image_shape: Sequence[int] | None = None,
        window: tuple[int, int] = (2, 2),
        stride: tuple[int, int] = (1, 1),
        max_steps: int = 100,
        **kwargs: Any,
    ) -> None:
        from .. import interpret

        interpret._check_model(model, gradient=True)  # the gradient methods need a module
        self.model = model
        check_functions(
            saliency_map=saliency_map,
            integrated_gradients=integrated_gradients,
            occlusion_map=occlusion_map,
        )
        self.functions = {
            "saliency_map": saliency_map or interpret.saliency_map,
            "integrated_gradients": integrated_gradients or interpret.integrated_gradients,
            "occlusion_map": occlusion_map or interpret.occlusion_map,
        }
        x = _numpy(images, "images")
        if x.ndim < 2 or x.shape[0] < 2:
            raise ValueError(
                f"images must be a batch (N, ...) of at least 2 images; got shape {x.shape}"
            )
        if not np.all(np.isfinite(x)):
            raise ValueError("images must be finite numbers")
        self.images = x
        self.image_shape = _image_shape(x, image_shape)
        if labels is None:
            self.labels = None
        else:
            lab = np.asarray(_numpy(labels, "labels"))
            if lab.shape != (x.shape[0],) or not np.all(lab == np.round(lab)):
                raise ValueError(
                    f"labels must be {x.shape[0]} integer classes, shape ({x.shape[0]},); "
                    f"got shape {lab.shape}"
                )
            self.labels = lab.astype(np.int64)
        for name, pair in (("window", window), ("stride", stride)):
            if not (
                isinstance(pair, (tuple, list))
                and len(pair) == 2
                and all(isinstance(s, (int, np.integer)) and s >= 1 for s in pair)
            ):
                raise ValueError(f"{name} must be (h, w) of positive ints; got {pair!r}")
        self.window, self.stride = tuple(int(v) for v in window), tuple(int(v) for v in stride)
        if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)):
            raise TypeError(f"max_steps must be an int; got {max_steps!r}")
        if max_steps < 3:
            raise ValueError(f"max_steps must be >= 3; got {max_steps}")
        self.scores = interpret.scores(model, x)
        self.predicted = self.scores.argmax(axis=1)
        self.mean_image = x.mean(axis=0)
        controls = {
            "method": Choice(METHODS, METHODS[0], label="method"),
            "image": Slider(0, x.shape[0] - 1, 0, label="image", integer=True),
            "baseline": Choice(BASELINES, BASELINES[0], label="baseline"),
            "steps": Slider(
                2, int(max_steps), min(20, int(max_steps)), label="steps", integer=True
            ),  # fmt: skip
        }
        kwargs.setdefault("figsize", (8.4, 4.0))
        super().__init__(controls=controls, **kwargs)

    # -- the computation ----------------------------------------------------------------
    def baseline_of(self, index: int, baseline: str) -> np.ndarray:
        """The baseline image for image ``index``, shaped like one model input."""
        x = self.images[index]
        if baseline == "zeros":
            return np.zeros_like(x)
        if baseline == "mean image":
            return self.mean_image.copy()
        return _blur(x.reshape(self.image_shape)).reshape(x.shape)

    def _flat_model(self) -> Callable[[np.ndarray], np.ndarray]:
        """The model as a black box over ``(M, H, W)`` images (for square occlusion patches)."""
        from ..interpret import scores

        shape = self.images.shape[1:]

        def model(z: np.ndarray) -> np.ndarray:
            z = np.asarray(z, dtype=np.float64)
            return scores(self.model, z.reshape((len(z), *shape)))

        return model

    def attribution(self, method: str, image: int, baseline: str, steps: int) -> dict[str, Any]:
        """The attribution map ``(H, W)`` of ``method`` for image ``image``, and for
        integrated gradients the sum of the attributions, the score difference and the gap."""
        x = self.images[image : image + 1]
        target = int(self.predicted[image])
        h, w = self.image_shape
        out: dict[str, Any] = {"target": target}
        if method in ("saliency", "gradient x input"):
            got = self.functions["saliency_map"](
                self.model, x.copy(), target, times_input=method == "gradient x input"
            )
            attr = as_array(_numpy(got, "saliency_map(...)"), "saliency_map(...)", x.shape)
        elif method == "integrated gradients":
            b = None if baseline == "zeros" else self.baseline_of(image, baseline)[None]
            result = self.functions["integrated_gradients"](
                self.model, x.copy(), target, baseline=b, steps=int(steps)
            )
            got, gap = unpack(result, 2, "integrated_gradients", "(attributions, gap)")
            attr = as_array(
                _numpy(got, "integrated_gradients(...)[0]"), "integrated_gradients(...)[0]",
                x.shape,
            )  # fmt: skip
            gap = np.asarray(_numpy(gap, "integrated_gradients(...)[1]")).reshape(-1)
            if gap.size != 1:
                raise ValueError(
                    f"integrated_gradients must return one gap per example, shape (1,) for one "
                    f"image; got {gap.size} values"
                )
            ref = np.zeros_like(x[0]) if b is None else b[0]
            ends = self.scores_of(np.stack([x[0], ref]))
            out.update(total=float(np.sum(attr)), drop=float(ends[0, target] - ends[1, target]),
                       gap=float(gap[0]))  # fmt: skip
        else:
            img = x.reshape(1, h, w)
            b = 0.0 if baseline == "zeros" else self.baseline_of(image, baseline).reshape(1, h, w)
            got = self.functions["occlusion_map"](
                self._flat_model(), img.copy(), target, window=self.window, stride=self.stride,
                baseline=b,
            )  # fmt: skip
            attr = as_array(_numpy(got, "occlusion_map(...)"), "occlusion_map(...)", img.shape)
        out["map"] = attr.reshape(h, w)
        return out

    def scores_of(self, batch: np.ndarray) -> np.ndarray:
        from ..interpret import scores

        return scores(self.model, batch)

    # -- the picture --------------------------------------------------------------------
    def draw(self, fig: Figure, *, method: str, image: int, baseline: str, steps: int) -> None:
        fig.set_layout_engine("none")  # fixed margins: the same values give the same pixels
        result = self.attribution(method, int(image), baseline, int(steps))  # may be unwritten
        ax_img = fig.add_axes((0.04, 0.10, 0.38, 0.74))
        ax_map = fig.add_axes((0.50, 0.10, 0.38, 0.74))
        ax_bar = fig.add_axes((0.90, 0.10, 0.025, 0.74))
        shown = self.images[int(image)].reshape(self.image_shape)
        ax_img.imshow(shown, cmap="gray_r", interpolation="nearest")
        truth = "" if self.labels is None else f"label {self.labels[int(image)]}, "
        ax_img.set_title(f"image {int(image)}: {truth}predicted {result['target']}", fontsize=10)
        attr = result["map"]
        finite = np.isfinite(attr)
        values = np.where(finite, attr, 0.0)
        top = float(np.abs(values).max()) or 1.0
        heat = ax_map.imshow(values, cmap="RdBu_r", vmin=-top, vmax=top, interpolation="nearest")
        fig.colorbar(heat, cax=ax_bar)
        ax_bar.tick_params(labelsize=7)
        for ax in (ax_img, ax_map):
            ax.set_xticks([])
            ax.set_yticks([])
        note = "" if finite.all() else " (NaN shown as 0)"
        used = f", baseline: {baseline}" if method in USES_BASELINE else ""
        if method == "integrated gradients":
            used += f", {int(steps)} steps"
        ax_map.set_title(f"{method}{used}{note}", fontsize=10)
        if method == "integrated gradients":
            ax_map.set_xlabel(
                f"sum of attributions {result['total']:.4g}, score(x) - score(baseline) "
                f"{result['drop']:.4g}\ncompleteness gap {result['gap']:.3g}",
                fontsize=8,
            )
