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
    Both panels share their axis limits (and bin width), so what the transform does to the
    location and the spread of the data shows as a shift and a squeeze of the histogram.
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
        left, right = fig.subplots(1, 2, sharex=True, sharey=True)
        edges = _shared_edges([data, out], self.bins)
        for ax, arr, name, color in (
            (left, data, self.names[0], "C0"),
            (right, out, self.names[1], "C1"),
        ):
            flat = arr.ravel()
            finite = flat[np.isfinite(flat)]
            if finite.size:
                ax.hist(finite, bins=edges, color=color, alpha=0.8)
                ax.axvline(finite.mean(), color="k", lw=1.5)
                mean = float(finite.mean())
                if abs(mean) <= 1e-9 * float(np.abs(finite).max()):  # rounding error: 0
                    mean = 0.0
                stats = f"mean {mean:.3g}, std {finite.std():.3g}"
            else:  # e.g. a standardization that divided by a zero standard deviation
                stats = "no finite values"
            if finite.size < flat.size:
                stats += f" ({flat.size - finite.size} NaN/inf not shown)"
            ax.set_title(f"{name}\n{stats}", fontsize=10)
            ax.set_yticks([])
        left.set_xlim(edges[0], edges[-1])  # shared: the right panel has the same limits


def _shared_edges(arrays: list[np.ndarray], bins: int) -> np.ndarray:
    """Bin edges over the finite values of all ``arrays``: ``bins`` bins for the widest one,
    the same bin width for the others (a squeezed histogram gets fewer, as it should)."""
    finite = [a[np.isfinite(a)] for a in (np.ravel(x) for x in arrays)]
    finite = [a for a in finite if a.size]
    if not finite:
        return np.linspace(-1.0, 1.0, bins + 1)
    lo = min(float(a.min()) for a in finite)
    hi = max(float(a.max()) for a in finite)
    widest = max(float(a.max() - a.min()) for a in finite)
    width = widest / bins if widest > 0 else 1.0 / bins
    pad = max(0.04 * (hi - lo), width / 2)
    span = hi - lo + 2 * pad
    count = min(max(int(np.ceil(span / width)), 1), 50 * bins)  # two far-apart spikes: wider
    return lo - pad + (span / count) * np.arange(count + 1)
