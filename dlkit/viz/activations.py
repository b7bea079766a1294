"""An activation function next to its derivative, with the saturated regions shaded."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .explorer import Choice, Explorer, Slider, legend_beside

__all__ = ["ActivationExplorer", "SATURATION"]

#: Where ``|f'(x)| < SATURATION`` the unit passes (almost) no gradient back: shaded.
SATURATION = 0.05

Pair = tuple[Callable[[np.ndarray], Any], Callable[[np.ndarray, np.ndarray], Any]]


def _builtin(name: str, slope: float) -> Pair:
    from .. import functional as F

    if name == "leaky_relu":
        return (
            lambda x: F.leaky_relu(x, slope),
            lambda dout, x: F.leaky_relu_backward(dout, x, slope),
        )
    return getattr(F, name), getattr(F, f"{name}_backward")


class ActivationExplorer(Explorer):
    """Plot ``f(x)`` and ``f'(x)`` on ``[-scale, scale]`` for a chosen activation.

    The built-in activations are dlkit's: sigmoid, tanh, relu, leaky relu (its negative
    slope on a slider) and GELU. ``custom`` adds your own, as ``{name: (forward, backward)}``
    with ``forward(x)`` and ``backward(dout, x) = dout * f'(x)``, the convention of
    ``dlkit.functional``. The derivative is what ``backward(ones, x)`` returns, drawn next
    to a dashed central-difference estimate from ``forward``, so a wrong backward shows.

    Shaded: where ``|f'(x)| < 0.05``, the unit is saturated (or dead): gradients that pass
    through it shrink at least twentyfold.
    """

    BUILTIN = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu")

    def __init__(
        self,
        custom: Mapping[str, Pair] | None = None,
        *,
        activation: str | None = None,
        scale: float = 5.0,
        **kwargs: Any,
    ) -> None:
        custom = dict(custom or {})
        for name, pair in custom.items():
            if not isinstance(name, str):
                raise TypeError(f"custom keys must be names (str); got {name!r}")
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(map(callable, pair))):
                raise TypeError(
                    f"custom[{name!r}] must be a (forward, backward) pair of functions; "
                    f"got {pair!r}"
                )
        self.custom = custom
        options = tuple(custom) + tuple(n for n in self.BUILTIN if n not in custom)
        default = activation if activation is not None else options[0]
        if default not in options:
            raise ValueError(f"activation must be one of {list(options)}; got {default!r}")
        controls = {
            "activation": Choice(options, default, "activation"),
            "scale": Slider(0.1, 100.0, float(scale), label="input scale", log=True),
            "negative_slope": Slider(0.0, 0.5, 0.1, step=0.01, label="leaky slope"),
        }
        kwargs.setdefault("figsize", (9.0, 3.6))
        super().__init__(controls=controls, **kwargs)

    def functions(self, activation: str, negative_slope: float) -> Pair:
        """The ``(forward, backward)`` pair drawn for these control values."""
        if activation in self.custom:
            return self.custom[activation]
        return _builtin(activation, negative_slope)

    def draw(self, fig: Figure, *, activation: str, scale: float, negative_slope: float) -> None:
        forward, backward = self.functions(activation, negative_slope)
        x = np.linspace(-scale, scale, 801)  # odd: includes x = 0
        y = _as_curve(forward(x.copy()), x, f"{activation} forward")
        dy = _as_curve(backward(np.ones_like(x), x.copy()), x, f"{activation} backward")
        h = 1e-4 * max(scale, 1.0)
        numeric = (
            _as_curve(forward(x + h), x, activation) - _as_curve(forward(x - h), x, activation)
        ) / (2 * h)
        saturated = np.abs(dy) < SATURATION

        ax_f, ax_d = fig.subplots(1, 2)
        for ax in (ax_f, ax_d):
            _shade(ax, x, saturated)
            ax.axhline(0, color="0.85", lw=1, zorder=0)
            ax.axvline(0, color="0.85", lw=1, zorder=0)
            ax.set_xlim(-scale, scale)
            ax.set_xlabel("x")
        ax_f.plot(x, y, color="C0", lw=2)
        ax_f.set_title(f"{activation}(x)")
        ax_d.plot(x, dy, color="C3", lw=2, label="backward(1, x)")
        ax_d.plot(x, numeric, "--", color="0.25", lw=1, label="finite difference")
        ax_d.set_title(f"derivative: {saturated.mean():.0%} of the range saturated")
        lo, hi = float(min(dy.min(), numeric.min(), 0.0)), float(max(dy.max(), numeric.max()))
        pad = 0.08 * max(hi - lo, 0.1)
        ax_d.set_ylim(lo - pad, hi + pad)
        legend_beside(ax_d, fontsize=8)  # a flat derivative fills the top: keep off it
        if activation == "leaky_relu" and activation not in self.custom:
            ax_f.set_title(f"leaky_relu(x), slope {negative_slope:.2f}")


def _as_curve(values: Any, x: np.ndarray, what: str) -> np.ndarray:
    from ..backend import to_numpy

    if values is None:
        raise ValueError(f"{what} returned None: did you forget the `return` statement?")
    arr = np.asarray(to_numpy(values), dtype=float)
    if arr.shape != x.shape:
        raise ValueError(f"{what} returned shape {arr.shape}; expected {x.shape}, one value per x")
    return arr


def _shade(ax: Any, x: np.ndarray, mask: np.ndarray) -> None:
    """Shade the x-intervals where ``mask`` holds (contiguous runs, no per-point patches)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        ax.axvspan(x[start], x[stop - 1], color="#f4c9c9", alpha=0.6, lw=0, zorder=0)
