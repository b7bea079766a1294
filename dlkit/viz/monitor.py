"""A live training monitor: losses, metrics and speed, redrawn in place while a loop runs.

``monitor.show()`` displays it once; each ``monitor.log(step, loss=..., accuracy=...)``
appends the values and, every ``every`` calls, redraws that same output. Three panels:

* the losses (every scalar whose name contains "loss"): the raw values faint, and an
  exponential moving average on top, ``s_t = a s_(t-1) + (1 - a) x_t`` divided by
  ``1 - a^t`` so that it does not start at zero (as TensorBoard smooths), ``a`` from the
  ``smoothing`` slider;
* the other metrics (accuracy, learning rate, ...), as logged;
* the training speed, steps per second between one logged step and the next (the time
  the monitor spends redrawing itself left out).

With a ``writer`` (a ``torch.utils.tensorboard.SummaryWriter``, or anything with an
``add_scalar(tag, value, step)`` method), every logged scalar is also written there, so the
same loop fills TensorBoard.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .explorer import Explorer, Slider, legend_beside, widgets_available

__all__ = ["TrainingMonitor", "smooth"]


def smooth(values: Any, smoothing: float) -> np.ndarray:
    """The debiased exponential moving average of ``values`` with weight ``smoothing``
    in ``[0, 1)`` on the past: 0 returns the values themselves."""
    x = np.asarray(values, dtype=np.float64)
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1); got {smoothing!r}")
    out = np.empty_like(x)
    average = 0.0
    for t, value in enumerate(x):
        average = smoothing * average + (1.0 - smoothing) * value
        out[t] = average / (1.0 - smoothing ** (t + 1))
    return out


def _scalar(name: str, value: Any) -> float:
    """``value`` as a float: Python and NumPy numbers, and one-element arrays or tensors."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number; got {value!r}")
    item = getattr(value, "item", None)
    if not isinstance(value, numbers.Real) and callable(item):
        size = getattr(value, "size", None)
        size = size() if callable(size) else size  # torch's .size() is a method
        count = getattr(value, "numel", lambda: size)()
        if count != 1:
            raise ValueError(f"{name} must be one number; got {count} values")
        value = item()
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(
            f"{name} must be a finite number; got {value!r} at this step (a diverged run? "
            "try a smaller learning rate)"
        )
    return value


class TrainingMonitor(Explorer):
    """A live monitor for a training loop.

    Args:
        every: redraw on every ``every``-th call of :meth:`log` (drawing costs more than a
            small network's step); :meth:`refresh` redraws at once.
        writer: optional, an object with ``add_scalar(tag, value, step)`` (a
            ``torch.utils.tensorboard.SummaryWriter``): every logged scalar goes there too.
        smoothing: the slider's first value, in ``[0, 0.99]``.
        clock: the function giving seconds for the steps-per-second panel
            (``time.perf_counter``; tests pass their own).

    Attributes:
        history: ``{name: [(step, value), ...]}``, every scalar as logged, in order (the
            layout of ``dlkit.tensorboard.read_events``'s scalars).
        times: ``[(step, seconds), ...]``, the clock at each new step, less the time the
            monitor spent redrawing before it.
    """

    def __init__(
        self,
        *,
        every: int = 1,
        writer: Any = None,
        smoothing: float = 0.6,
        clock: Callable[[], float] = time.perf_counter,
        **kwargs: Any,
    ) -> None:
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise ValueError(f"every must be a whole number >= 1; got {every!r}")
        if writer is not None and not callable(getattr(writer, "add_scalar", None)):
            raise TypeError(
                "writer must have an add_scalar(tag, value, step) method, like "
                f"torch.utils.tensorboard.SummaryWriter; got {type(writer).__name__}"
            )
        if not callable(clock):
            raise TypeError(f"clock must be a function returning seconds; got {clock!r}")
        self.every, self.writer, self.clock = int(every), writer, clock
        self.history: dict[str, list[tuple[int, float]]] = {}
        self.times: list[tuple[int, float]] = []
        self._calls = 0
        self._drawing = 0.0  # seconds spent redrawing, left out of the speed
        self._handle: Any = None
        self._live = False
        self._view: Any = None
        controls = {"smoothing": Slider(0.0, 0.99, smoothing, step=0.01, label="smoothing")}
        kwargs.setdefault("figsize", (12.0, 3.6))
        super().__init__(controls=controls, **kwargs)

    # -- feeding it ---------------------------------------------------------------------
    def log(self, step: int, **scalars: Any) -> None:
        """Record ``scalars`` (e.g. ``loss=0.31, accuracy=0.9``) at training step ``step``.

        ``step`` is a whole number >= 0 that never decreases from one call to the next (two
        calls may share a step, e.g. the training loss and then the validation accuracy of
        an epoch's last step, but a name is logged at most once per step). Values are Python
        or NumPy numbers or one-element tensors, and must be finite. A bad call records
        nothing.
        """
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise ValueError(f"step must be a whole number >= 0; got {step!r}")
        step = int(step)
        if not scalars:
            raise ValueError("log(step, ...) needs at least one scalar, e.g. log(step, loss=0.5)")
        last = self.times[-1][0] if self.times else None
        if last is not None and step < last:
            raise ValueError(f"step must not decrease: got {step} after step {last}")
        values = {name: _scalar(name, value) for name, value in scalars.items()}
        for name in values:
            series = self.history.get(name)
            if series and series[-1][0] == step:
                raise ValueError(f"{name} was already logged at step {step}")
        for name, value in values.items():
            self.history.setdefault(name, []).append((step, value))
            if self.writer is not None:
                self.writer.add_scalar(name, value, step)
        if last is None or step > last:  # the clock without the monitor's own drawing
            self.times.append((step, float(self.clock()) - self._drawing))
        self._calls += 1
        if self._calls % self.every == 0:
            self.refresh()

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The steps and values logged for ``name``."""
        if name not in self.history:
            raise KeyError(f"nothing was logged as {name!r}; logged: {list(self.history)}")
        steps, values = zip(*self.history[name], strict=True)
        return np.array(steps, dtype=np.int64), np.array(values, dtype=np.float64)

    def steps_per_second(self) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, rates)``: for each new step after the first, the steps done since the
        previous one divided by the seconds between them."""
        if len(self.times) < 2:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        steps = np.array([s for s, _ in self.times], dtype=np.int64)
        seconds = np.array([t for _, t in self.times], dtype=np.float64)
        elapsed = np.diff(seconds)
        with np.errstate(divide="ignore", invalid="ignore"):
            rates = np.where(
                elapsed > 0, np.diff(steps) / np.where(elapsed > 0, elapsed, 1), np.nan
            )
        return steps[1:], rates

    # -- showing it ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw now, and update the displayed output (widget and picture). The time this
        takes is left out of the steps per second: they measure the training loop alone."""
        start = float(self.clock())
        self.redraw()
        png = self.png()
        if self._image is not None:  # the live widget's picture
            self._image.value = png
        if self._handle is not None:
            if self._live:  # the widget's output also carries the picture, for exports
                self._handle.update(self._bundle(png), raw=True)
            else:
                from IPython.display import Image

                self._handle.update(Image(png))
        self._drawing += float(self.clock()) - start

    def _bundle(self, png: bytes) -> dict[str, Any]:
        import base64

        bundle = self._view._repr_mimebundle_()
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
        return bundle

    def show(self, static: bool | None = None) -> None:
        """Display the monitor once; later :meth:`log` calls update it in place.

        In JupyterLab: the smoothing slider above the live picture. Without a widget
        frontend (a script, an export, ``static=True``): the picture alone, still updated
        in place by every redraw.
        """
        from IPython.display import Image, display

        if static is None:
            static = not widgets_available()
        self._live = not static
        if static:
            self._handle = display(Image(self.png()), display_id=True)
            return
        self._view = self.widget()
        self._handle = display(self._bundle(self.png()), raw=True, display_id=True)

    # -- the picture --------------------------------------------------------------------
    def draw(self, fig: Figure, *, smoothing: float) -> None:
        fig.set_layout_engine("none")  # fixed margins: the same values give the same pixels
        losses = [n for n in self.history if "loss" in n.lower()]
        others = [n for n in self.history if n not in losses]
        ax_loss = fig.add_axes((0.05, 0.15, 0.2, 0.72))
        ax_metric = fig.add_axes((0.39, 0.15, 0.2, 0.72))
        ax_speed = fig.add_axes((0.75, 0.15, 0.22, 0.72))
        for k, name in enumerate(losses):
            steps, values = self.series(name)
            colour = f"C{k % 10}"
            ax_loss.plot(steps, values, color=colour, lw=0.8, alpha=0.3)
            ax_loss.plot(steps, smooth(values, smoothing), color=colour, lw=1.6, label=name)
        for k, name in enumerate(others):
            steps, values = self.series(name)
            marker = "." if len(steps) <= 50 else None
            ax_metric.plot(steps, values, color=f"C{(k + len(losses)) % 10}", lw=1.4,
                           marker=marker, label=name)  # fmt: skip
        steps, rates = self.steps_per_second()
        ax_speed.plot(steps, rates, color="0.3", lw=1.2)
        last = self.times[-1][0] if self.times else 0
        for ax in (ax_loss, ax_metric, ax_speed):
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
            ax.set_xlim(0, max(last, 1))
        ax_loss.set_ylabel("loss")
        if losses:
            ax_loss.set_title(f"losses (faint: raw; smoothing {smoothing:.2f})", fontsize=9)
            legend_beside(ax_loss, fontsize=7)
        else:
            ax_loss.set_title("no loss logged yet", fontsize=9)
        if others:
            ax_metric.set_title("metrics", fontsize=9)
            legend_beside(ax_metric, fontsize=7)
        else:
            ax_metric.set_title("no other metric logged yet", fontsize=9)
        ax_speed.set_ylabel("steps / second")
        finite = rates[np.isfinite(rates)]
        if finite.size:
            ax_speed.set_ylim(0, 1.1 * float(finite.max()))
            ax_speed.set_title(f"speed: {finite[-1]:.3g} steps/s (latest)", fontsize=9)
        else:
            ax_speed.set_title("speed: after two steps", fontsize=9)
