"""Speed chart: one layer timed three ways (NumPy, dlkit on torch, torch), per batch size.

The rows come from :func:`dlkit.speed.compare_backends`. For the chosen op the chart draws
one group of three bars per batch size: dlkit's kernel on NumPy arrays, the same kernel on
torch tensors, and torch's own layer with autograd. The view "time" shows seconds per
forward + backward pass; "ratio to torch" divides each bar by torch's time (torch's bar is
then 1, and a bar below it is faster than torch). A log scale shows small and large batch
sizes on one axis.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .explorer import Choice, Explorer, Toggle, legend_beside

__all__ = ["SpeedChart"]

TIMES = ("numpy_s", "dlkit_torch_s", "torch_s")
KEYS = ("op", "batch", *TIMES)
NAMES = {"numpy_s": "dlkit on NumPy", "dlkit_torch_s": "dlkit on torch", "torch_s": "torch"}
COLOURS = {"numpy_s": "C0", "dlkit_torch_s": "C1", "torch_s": "C2"}
VIEWS = ("time", "ratio to torch")
UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "\u00b5s"))  # the largest that keeps values >= 1


def _check_rows(rows: Any) -> list[dict[str, Any]]:
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Sequence):
        raise TypeError(
            "rows must be a list of dicts, as dlkit.speed.compare_backends returns; "
            f"got {type(rows).__name__}"
        )
    if not rows:
        raise ValueError("rows is empty: pass the list that dlkit.speed.compare_backends returns")
    checked, seen = [], set()
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"rows[{i}] must be a dict; got {type(row).__name__}")
        missing = [k for k in KEYS if k not in row]
        if missing:
            raise ValueError(f"rows[{i}] lacks {missing}: every row needs the keys {list(KEYS)}")
        op, batch = row["op"], row["batch"]
        if not isinstance(op, str) or not op:
            raise ValueError(f"rows[{i}]['op'] must be a non-empty string; got {op!r}")
        if isinstance(batch, bool) or not isinstance(batch, numbers.Integral) or batch < 1:
            raise ValueError(f"rows[{i}]['batch'] must be a positive int; got {batch!r}")
        if (op, int(batch)) in seen:
            raise ValueError(f"rows[{i}] repeats op {op!r} at batch {batch}: one row per pair")
        seen.add((op, int(batch)))
        out = {"op": op, "batch": int(batch), "device": str(row.get("device", ""))}
        for key in TIMES:
            value = row[key]
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or value <= 0:
                raise ValueError(
                    f"rows[{i}][{key!r}] must be a positive number of seconds; got {value!r}"
                )
            out[key] = float(value)
        checked.append(out)
    return checked


class SpeedChart(Explorer):
    """Grouped bars of :func:`dlkit.speed.compare_backends`'s timings.

    Args:
        rows: the list of dicts that ``compare_backends`` returns; each needs ``"op"``,
            ``"batch"`` (a positive int) and the seconds ``"numpy_s"``, ``"dlkit_torch_s"``
            and ``"torch_s"`` (positive numbers); ``"device"`` is shown when present.
        op: the op shown first; the first op of ``rows`` when ``None``.

    Controls: ``op`` (which layer), ``log scale`` and ``view`` (``"time"`` or
    ``"ratio to torch"``).
    """

    def __init__(self, rows: Any, *, op: str | None = None, **kwargs: Any) -> None:
        self.rows = _check_rows(rows)
        ops = tuple(dict.fromkeys(r["op"] for r in self.rows))
        if op is None:
            op = ops[0]
        if op not in ops:
            raise ValueError(f"op must be one of the rows' ops {list(ops)}; got {op!r}")
        controls = {
            "op": Choice(ops, op, label="op"),
            "log scale": Toggle(False, label="log scale"),
            "view": Choice(VIEWS, "time", label="view"),
        }
        kwargs.setdefault("figsize", (8.6, 4.0))
        super().__init__(controls=controls, **kwargs)

    def table(self, op: str, view: str = "time") -> tuple[list[int], dict[str, np.ndarray]]:
        """The batch sizes of ``op`` (increasing) and each contender's bar heights there:
        seconds in the view ``"time"``, time over torch's in ``"ratio to torch"``."""
        picked = sorted((r for r in self.rows if r["op"] == op), key=lambda r: r["batch"])
        heights = {key: np.array([r[key] for r in picked]) for key in TIMES}
        if view == "ratio to torch":
            torch = heights["torch_s"]
            heights = {key: h / torch for key, h in heights.items()}
        return [r["batch"] for r in picked], heights

    def draw(self, fig: Figure, *, op: str, view: str, **values: Any) -> None:
        fig.set_layout_engine("none")  # fixed margins: the same values give the same pixels
        log = values["log scale"]
        batches, heights = self.table(op, view)
        ratio = view == "ratio to torch"
        scale, unit = 1.0, "s"
        if not ratio:
            smallest = min(float(h.min()) for h in heights.values())
            scale, unit = next(((s, u) for s, u in UNITS if smallest >= s), UNITS[-1])
        ax = fig.add_axes((0.12, 0.14, 0.58, 0.74))
        x = np.arange(len(batches))
        width = 0.26
        for k, key in enumerate(TIMES):
            ax.bar(x + (k - 1) * width, heights[key] / scale, width, color=COLOURS[key],
                   label=NAMES[key])  # fmt: skip
        if ratio:  # the line of torch's speed: below it is faster than torch
            ax.axhline(1.0, color="k", lw=0.8, ls=":", zorder=0)
        ax.set_xticks(x, [str(b) for b in batches])
        ax.set_xlabel("batch size")
        if ratio:
            ax.set_ylabel("time / torch's time")
        else:
            ax.set_ylabel(f"forward + backward ({unit} per call)")
        if log:
            ax.set_yscale("log")
            plain = FuncFormatter(lambda v, _: f"{v:g}")  # 0.5, 2, not 5 x 10^-1, 2 x 10^0
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(plain)
            ax.yaxis.set_minor_formatter(NullFormatter())
        else:
            ax.set_ylim(0, None)
        devices = sorted({r["device"] for r in self.rows if r["op"] == op and r["device"]})
        where = f", torch on {' / '.join(devices)}" if devices else ""
        what = "time over torch's" if ratio else "time per call"
        ax.set_title(f"{op}: {what}{where}", fontsize=10)
        ax.grid(axis="y", alpha=0.3, zorder=0)
        ax.set_axisbelow(True)
        legend_beside(ax, fontsize=8)
