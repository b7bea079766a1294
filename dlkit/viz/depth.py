"""Activation histograms through a deep network, with and without normalization."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter

from .explorer import Choice, Explorer, Slider, legend_beside

__all__ = ["DepthExplorer"]

#: Small multiples: the histograms of at most this many layers, spread over the depth.
PANELS = 6

_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),  # overflow-free logistic
    "linear": lambda z: z,
}
_GAINS = {"xavier": 1.0, "he": 2.0}  # Var(w) = gain / fan_in


class DepthExplorer(Explorer):
    """Push one batch through ``depth`` random layers ``h = act(norm(h @ W))`` and show the
    distribution of each layer's activations.

    Without normalization the spread of the activations is multiplied by about
    ``weight_scale`` times the activation's gain at every layer, so it vanishes or explodes
    geometrically with depth (or, for tanh and sigmoid, piles up at the saturated ends).
    Batch or layer norm re-standardizes every pre-activation, so the histograms look the same
    at layer 20 as at layer 1, whatever the scale.

    Args:
        batchnorm_forward: your ``batchnorm_forward(x, gamma, beta, ...) -> (out, cache)``
            (training mode, batch statistics); dlkit's when ``None``.
        layernorm_forward: your ``layernorm_forward(x, gamma, beta) -> (out, cache)``;
            dlkit's when ``None``.
        width: units per layer, ``D``; batch: examples in the batch, ``N``.
        seed: the weights and the batch are drawn from ``np.random.default_rng(seed)``, once:
            moving a control rescales the same network rather than drawing a new one.

    The bottom panel shows the standard deviation of each layer's activations for the
    chosen normalization and, dashed, for none, so the effect is visible at a glance.
    """

    def __init__(
        self,
        batchnorm_forward: Callable[..., Any] | None = None,
        layernorm_forward: Callable[..., Any] | None = None,
        *,
        width: int = 64,
        batch: int = 256,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        from .. import functional as F

        for name, value in (("width", width), ("batch", batch)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ValueError(f"{name} must be an int >= 2; got {value!r}")
        for name, fn in (("batchnorm_forward", batchnorm_forward),
                         ("layernorm_forward", layernorm_forward)):  # fmt: skip
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be a function; got {type(fn).__name__}")
        self.norms = {
            "batch": batchnorm_forward or F.batchnorm_forward,
            "layer": layernorm_forward or F.layernorm_forward,
        }
        rng = np.random.default_rng(seed)
        self.width = width
        self.x0 = rng.standard_normal((batch, width))  # (N, D)
        self.weights = rng.standard_normal((20, width, width))  # unit variance, scaled later
        controls = {
            "depth": Slider(1, 20, 10, label="layers", integer=True),
            "weight_scale": Slider(0.1, 10.0, 1.0, label="weight scale", log=True),
            "init": Choice(("xavier", "he"), "xavier", "init"),
            "activation": Choice(tuple(_ACTIVATIONS), "tanh", "activation"),
            "normalization": Choice(("none", "batch", "layer"), "batch", "normalization"),
        }
        kwargs.setdefault("figsize", (11.0, 5.2))
        super().__init__(controls=controls, **kwargs)

    # -- the computation --------------------------------------------------------------
    def activations(
        self, *, depth: int, weight_scale: float, init: str, activation: str, normalization: str
    ) -> list[np.ndarray]:
        """The ``(N, D)`` activations after each of the ``depth`` layers."""
        act = _ACTIVATIONS[activation]
        std = weight_scale * np.sqrt(_GAINS[init] / self.width)
        ones, zeros = np.ones(self.width), np.zeros(self.width)
        h, layers = self.x0, []
        with np.errstate(over="ignore", invalid="ignore"):
            for w in self.weights[:depth]:
                z = h @ (std * w)  # (N, D)
                if normalization != "none":
                    z = self._normalize(normalization, z, ones, zeros)
                h = act(z)
                layers.append(h)
        return layers

    def _normalize(self, kind: str, z: np.ndarray, ones: np.ndarray, zeros: np.ndarray) -> Any:
        from ..backend import to_numpy

        result = self.norms[kind](z, ones, zeros)
        name = f"{kind}norm_forward"
        if not (isinstance(result, tuple) and len(result) == 2):
            raise ValueError(
                f"{name} must return (out, cache); got {type(result).__name__}"
                + (": did you forget the `return` statement?" if result is None else "")
            )
        out = np.asarray(to_numpy(result[0]), dtype=float)
        if out.shape != z.shape:
            raise ValueError(f"{name} returned out of shape {out.shape}; expected {z.shape}")
        return out

    # -- the picture --------------------------------------------------------------------
    def draw(
        self,
        fig: Figure,
        *,
        depth: int,
        weight_scale: float,
        init: str,
        activation: str,
        normalization: str,
    ) -> None:
        settings = dict(depth=depth, weight_scale=weight_scale, init=init, activation=activation)
        layers = self.activations(**settings, normalization=normalization)
        shown = sorted({int(round(i)) for i in np.linspace(0, depth - 1, min(depth, PANELS))})
        window = _window(activation, layers[0])
        # fixed margins instead of the constrained layout, whose iterations drift by a pixel
        # from one render of this figure to the next
        fig.set_layout_engine("none")
        grid = fig.add_gridspec(
            2, len(shown), height_ratios=(1.2, 1.0), left=0.07, right=0.98, bottom=0.1,
            top=0.88, wspace=0.12, hspace=0.38,
        )  # fmt: skip
        for col, index in enumerate(shown):
            ax = fig.add_subplot(grid[0, col])
            outside = _histogram(ax, layers[index], window)
            note = f", {outside:.0%} off scale" if outside >= 0.005 else ""
            ax.set_title(f"layer {index + 1}{note}", fontsize=9)
            ax.tick_params(labelsize=7)
            ax.set_yticks([])
            ax.xaxis.set_major_locator(MaxNLocator(3))
        # the legend goes beside the curves, in the sixth of the row kept free for it
        ax = fig.add_subplot(grid[1, :].subgridspec(1, 2, width_ratios=(5, 1))[0])
        steps = np.arange(1, depth + 1)
        ax.semilogy(steps, _spread(layers), "o-", color="C0", ms=4, label=normalization + " norm"
                    if normalization != "none" else "no normalization")  # fmt: skip
        if normalization != "none":
            plain = self.activations(**settings, normalization="none")
            ax.semilogy(steps, _spread(plain), "s--", color="0.5", ms=3, label="no normalization")
        lows, highs = (
            [float(line.get_ydata().min()) for line in ax.get_lines()],
            [float(line.get_ydata().max()) for line in ax.get_lines()],
        )
        bottom, top = np.floor(np.log10(min(lows))), np.ceil(np.log10(max(highs)))
        ax.set_ylim(10.0**bottom, 10.0 ** max(top, bottom + 1))  # whole decades: labelled ends
        ax.set(xlabel="layer", ylabel="std of activations", xlim=(0.5, depth + 0.5))
        # fixed tick choices: the automatic ones depend on the axis' size in pixels, which
        # would make two renders of the same figure differ
        ax.yaxis.set_major_locator(LogLocator(base=10.0, numticks=6))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        legend_beside(ax, fontsize=8)
        fig.suptitle(
            f"{depth} layers, {activation}, {init} init x {weight_scale:.2g}, "
            f"normalization: {normalization}",
            fontsize=10,
        )


def _spread(layers: list[np.ndarray]) -> np.ndarray:
    """Each layer's standard deviation, floored and capped so a log axis can draw it."""
    with np.errstate(over="ignore", invalid="ignore"):
        stds = np.array([np.std(h) for h in layers])
    return np.clip(np.nan_to_num(stds, nan=1e300, posinf=1e300), 1e-300, 1e300)


def _window(activation: str, first: np.ndarray) -> tuple[float, float]:
    """One x-range for every panel, so shrinking and growing spreads are visible as such:
    the activation's range where it is bounded, else three standard deviations of layer 1."""
    if activation == "tanh":
        return -1.0, 1.0
    if activation == "sigmoid":
        return 0.0, 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        spread = float(np.std(first))
    spread = spread if np.isfinite(spread) and spread > 0 else 1.0
    return (0.0 if activation == "relu" else -3.0 * spread), 3.0 * spread


def _histogram(ax: Any, h: np.ndarray, window: tuple[float, float]) -> float:
    """A histogram of ``h`` over ``window``, values beyond it counted in the edge bins.

    Returns the fraction of values that fell outside (NaN and infinity included).
    """
    lo, hi = window
    values = h.ravel()
    finite = np.isfinite(values)
    inside = finite & (values >= lo) & (values <= hi)
    clipped = np.clip(np.where(finite, values, hi), lo, hi)
    ax.hist(clipped, bins=40, range=(lo, hi), color="C0")
    ax.set_xlim(lo, hi)
    return 1.0 - float(inside.mean())
