"""A 3x3 kernel editor: pick a preset or set the nine weights, see what the filter does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .explorer import OVER_DATA, Choice, Explorer, Slider, Toggle

__all__ = ["KernelExplorer", "PRESET_KERNELS"]

#: Classic hand-made 3x3 filters (applied as cross-correlation, like every conv layer).
PRESET_KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float64),
    "box blur": np.full((3, 3), 1 / 9),
    "gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float64) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64),
    "sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64),
    "sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float64),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=np.float64),
}

Conv = Callable[..., Any]
LIMIT = 10.0  # the kernel sliders' range: [-LIMIT, LIMIT]


def _default_conv() -> Conv:
    from ..functional import conv2d_forward

    return conv2d_forward


def _default_images() -> np.ndarray:
    from ..data import load_digits

    x, _ = load_digits(images=True)
    return np.kron(x[:20, 0], np.ones((3, 3)))  # (20, 24, 24): 8x8 digits, each pixel 3x3


class KernelExplorer(Explorer):
    """Convolve an image with a 3x3 kernel and show input, kernel and output side by side.

    ``conv`` is your convolution, called as ``conv(x, w, b, stride=1, pad=pad)`` with ``x``
    ``(1, 1, H, W)``, ``w`` ``(1, 1, 3, 3)`` and ``b`` ``(1,)``; it may return ``out`` or
    ``(out, cache)``. The default is ``dlkit.functional.conv2d_forward``.

    Controls: a preset, the nine kernel weights ``k0`` .. ``k8`` (row by row), the image
    index, "same" padding (``pad=1``, output as large as the input) and a ReLU on the output
    (what a conv layer followed by ReLU keeps). Choosing a preset sets the nine sliders to
    its weights; moving a slider away from them switches the preset to ``custom``, which
    starts from the weights shown, so a preset can be edited one weight at a time.
    """

    def __init__(
        self,
        conv: Conv | None = None,
        images: Any = None,
        *,
        preset: str = "sobel x",
        **kwargs: Any,
    ) -> None:
        if conv is not None and not callable(conv):
            raise TypeError(f"conv must be a function conv(x, w, b, ...); got {conv!r}")
        self.conv = conv if conv is not None else _default_conv()
        images = _default_images() if images is None else np.asarray(images, dtype=np.float64)
        if images.ndim == 4 and images.shape[1] == 1:
            images = images[:, 0]
        if images.ndim == 2:
            images = images[None]
        if images.ndim != 3 or min(images.shape[1:]) < 3:
            raise ValueError(
                "images must have shape (N, H, W) or (N, 1, H, W) with H, W >= 3; "
                f"got shape {np.shape(images)}"
            )
        self.images = images
        options = (*PRESET_KERNELS, "custom")
        if preset not in options:
            raise ValueError(f"preset must be one of {list(options)}; got {preset!r}")
        start = PRESET_KERNELS.get(preset, PRESET_KERNELS["identity"]).ravel()
        controls: dict[str, Any] = {
            "preset": Choice(options, preset, "kernel"),
            "image": Slider(0, max(len(images) - 1, 1), 0, step=1, label="image", integer=True),
            "same": Toggle(True, "same padding"),
            "relu": Toggle(False, "ReLU"),
        }
        for i in range(9):
            controls[f"k{i}"] = Slider(-LIMIT, LIMIT, float(start[i]), step=0.1, label=f"k{i}")
        kwargs.setdefault("figsize", (10.0, 3.6))
        super().__init__(controls=controls, **kwargs)

    def follow(self, values: Mapping[str, Any], changed: set[str]) -> dict[str, Any]:
        """A preset sets the nine sliders; a slider off the preset's weights selects custom."""
        out: dict[str, Any] = {}
        preset = values["preset"]
        if "preset" in changed and preset != "custom":
            weights = PRESET_KERNELS[preset].ravel()
            out = {f"k{i}": float(weights[i]) for i in range(9) if f"k{i}" not in changed}
        if preset != "custom":
            shown = np.array([out.get(f"k{i}", values[f"k{i}"]) for i in range(9)])
            if not np.array_equal(shown, PRESET_KERNELS[preset].ravel()):
                out["preset"] = "custom"  # e.g. update(preset="sobel x", k4=3.0)
        return out

    def kernel(self, preset: str, **entries: float) -> np.ndarray:
        """The 3x3 kernel for these control values."""
        if preset != "custom":
            return PRESET_KERNELS[preset].copy()
        return np.array([entries[f"k{i}"] for i in range(9)], dtype=np.float64).reshape(3, 3)

    def output(self, image: int, kernel: np.ndarray, same: bool, relu: bool) -> np.ndarray:
        """Run ``conv`` on image ``image``; check and return the ``(OH, OW)`` feature map."""
        x = self.images[min(image, len(self.images) - 1)][None, None]  # (1, 1, H, W)
        result = self.conv(x, kernel[None, None], np.zeros(1), stride=1, pad=1 if same else 0)
        out = result[0] if isinstance(result, tuple) else result
        h, w = x.shape[2:]
        expected = (1, 1, h, w) if same else (1, 1, h - 2, w - 2)
        if np.shape(out) != expected:
            raise ValueError(
                f"conv returned shape {np.shape(out)} for x {x.shape} and a 3x3 kernel with "
                f"pad={1 if same else 0}; expected {expected}"
            )
        out = np.asarray(out, dtype=np.float64)[0, 0]
        return np.maximum(out, 0.0) if relu else out

    def draw(self, fig: Figure, **values: Any) -> None:
        preset, image, same, relu = (values.pop(k) for k in ("preset", "image", "same", "relu"))
        kernel = self.kernel(preset, **values)
        out = self.output(int(image), kernel, same, relu)
        ax_in, ax_k, ax_out = fig.subplots(1, 3)
        ax_in.imshow(self.images[min(int(image), len(self.images) - 1)], cmap="gray_r")
        ax_in.set_title(f"input #{int(image)}")

        klim = max(float(np.abs(kernel).max()), 1e-12)
        ax_k.imshow(kernel, cmap="RdBu_r", vmin=-klim, vmax=klim)
        for (i, j), v in np.ndenumerate(kernel):
            cell = ax_k.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=10)
            cell.set_gid(OVER_DATA)  # each weight written on its own cell, on purpose
        ax_k.set_title(f"kernel: {preset}")

        finite = np.isfinite(out)
        olim = max(float(np.abs(out[finite]).max()) if finite.any() else 0.0, 1e-12)
        ax_out.imshow(np.where(finite, out, 0.0), cmap="RdBu_r", vmin=-olim, vmax=olim)
        relu_note = " after ReLU" if relu else ""
        ax_out.set_title(f"output {out.shape[0]}x{out.shape[1]}{relu_note}\nmax |value| {olim:.3g}")
        for ax in (ax_in, ax_k, ax_out):
            ax.set_xticks([])
            ax.set_yticks([])
