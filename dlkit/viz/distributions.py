"""Histograms of data before and after a transform (standardization now, normalization later)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .explorer import Control, Explorer

__all__ = ["TransformExplorer"]


class TransformExplorer(Explorer):
    """Left: a histogram of ``make_data(**values)``. Right: of ``transform(data)``.

    ``make_data`` should draw from a fixed seed, so that moving a slider changes the
    distribution, not the random sample. ``transform`` is usually the student's function.
    """

    def __init__(
        self,
        make_data: Callable[..., Any],
        transform: Callable[[Any], Any],
        controls: Mapping[str, Control],
        *,
        bins: int = 40,
        names: tuple[str, str] = ("raw data", "transformed"),
        **kwargs: Any,
    ) -> None:
        for arg, fn in (("make_data", make_data), ("transform", transform)):
            if not callable(fn):
                raise TypeError(f"{arg} must be a function; got {type(fn).__name__}")
        self.make_data, self.transform, self.bins, self.names = make_data, transform, bins, names
        kwargs.setdefault("figsize", (8.0, 3.2))
        super().__init__(controls=dict(controls), **kwargs)

    def draw(self, fig: Figure, **values: Any) -> None:
        data = np.asarray(self.make_data(**values), dtype=float)
        out = self.transform(data.copy())
        if out is None:
            raise ValueError("transform returned None: did it forget to `return` the result?")
        out = np.asarray(out, dtype=float)
        left, right = fig.subplots(1, 2)
        for ax, arr, name, color in (
            (left, data, self.names[0], "C0"),
            (right, out, self.names[1], "C1"),
        ):
            flat = arr.ravel()
            finite = flat[np.isfinite(flat)]
            if finite.size:
                ax.hist(finite, bins=self.bins, color=color, alpha=0.8)
                ax.axvline(finite.mean(), color="k", lw=1.5)
                stats = f"mean {finite.mean():.3g}, std {finite.std():.3g}"
            else:  # e.g. a standardization that divided by a zero standard deviation
                stats = "no finite values"
            if finite.size < flat.size:
                stats += f" ({flat.size - finite.size} NaN/inf not shown)"
            ax.set_title(f"{name}\n{stats}", fontsize=10)
            ax.set_yticks([])
