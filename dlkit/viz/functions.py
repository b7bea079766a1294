"""Plot any function of ``x`` whose parameters are on sliders (the course's first widget)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .explorer import Control, Explorer, legend_beside

__all__ = ["FunctionExplorer"]


class FunctionExplorer(Explorer):
    """``fn(x, **values)`` on ``x`` in ``[lo, hi]``, redrawn whenever a slider moves.

    ``fn`` is usually the student's own function. ``reference`` (optional, same signature)
    is drawn dashed underneath, so the student sees at once whether the two agree.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        controls: Mapping[str, Control],
        *,
        x_range: tuple[float, float] = (-5.0, 5.0),
        reference: Callable[..., Any] | None = None,
        ylim: tuple[float, float] | None = None,
        label: str = "f(x)",
        **kwargs: Any,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be a function of x; got {type(fn).__name__}")
        lo, hi = x_range
        if not lo < hi:
            raise ValueError(f"x_range must be (low, high) with low < high; got {x_range}")
        self.fn, self.reference, self.ylim, self.label = fn, reference, ylim, label
        self.x = np.linspace(lo, hi, 400)
        super().__init__(controls=dict(controls), **kwargs)

    def draw(self, fig: Figure, **values: Any) -> None:
        ax = fig.add_subplot()
        if self.reference is not None:
            ref = np.asarray(self.reference(self.x.copy(), **values), dtype=float)
            ax.plot(self.x, ref, "--", color="0.6", lw=3, label="reference")
        y = np.asarray(self.fn(self.x.copy(), **values), dtype=float)
        if y.shape != self.x.shape:
            raise ValueError(
                f"fn returned shape {y.shape}; expected {self.x.shape}, one value per x"
            )
        ax.plot(self.x, y, color="C0", lw=2, label=self.label)
        ax.axhline(0, color="0.85", lw=1, zorder=0)
        ax.axvline(0, color="0.85", lw=1, zorder=0)
        if self.ylim:
            ax.set_ylim(*self.ylim)
        ax.set_xlabel("x")
        legend_beside(ax)
        params = ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()
        )
        ax.set_title(f"{self.label}   ({params})" if params else self.label)
