"""Training replay: a slider over the recorded iterations of a GAN's training run.

Left, the generator's samples at the chosen iteration over the real data; right, the two
losses of every step up to that iteration. Moving the slider replays how the generated
distribution found (or missed) the modes of the data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ._student import check_functions
from .explorer import Explorer, Slider, legend_beside

__all__ = ["TrainingReplay"]

MARGIN = 1.5  # the plotted square reaches this many times the real data's largest |coordinate|
KEYS = ("step", "samples", "d_loss", "g_loss")


def _numpy(value: Any, name: str) -> np.ndarray:
    from ..backend import to_numpy

    try:
        return np.asarray(to_numpy(getattr(value, "data", value)), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers; got {type(value).__name__}") from exc


class TrainingReplay(Explorer):
    """The samples of a generator at recorded iterations, replayed with a slider.

    Args:
        history: a mapping with ``"step"`` ``(K,)``, the increasing iterations at which
            samples were recorded; ``"samples"`` ``(K, M, 2)``, the generator's samples at
            each of them (the same noise every time, so a point moves smoothly); and
            ``"d_loss"``, ``"g_loss"`` ``(T,)``, the discriminator's and the generator's loss
            at each training step (step ``t`` at index ``t``).
        real: points of the real data, ``(N, 2)``, drawn in grey under the samples.
        count_modes: optional, ``count_modes(samples) -> int`` for ``samples`` ``(M, 2)``:
            the number of modes the samples cover, shown above the scatter. Called once per
            redraw with the samples of the chosen iteration.
        modes: optional, how many modes the data has (the "of 8" in that title).
        start: the first iteration shown; the last recorded one when ``None``.
    """

    def __init__(
        self,
        history: Mapping[str, Any],
        real: Any,
        *,
        count_modes: Callable[[np.ndarray], Any] | None = None,
        modes: int | None = None,
        start: int | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(history, Mapping):
            raise TypeError(
                f"history must be a dict with the keys {list(KEYS)}; got {type(history).__name__}"
            )
        missing = [k for k in KEYS if k not in history]
        if missing:
            raise ValueError(f"history lacks {missing}: it needs the keys {list(KEYS)}")
        check_functions(count_modes=count_modes)
        self.count_modes = count_modes
        steps = _numpy(history["step"], "history['step']")
        if steps.ndim != 1 or steps.size < 2:
            raise ValueError(
                f"history['step'] must be 1-D with at least 2 recorded iterations; "
                f"got shape {steps.shape}"
            )
        if not (np.all(steps == np.round(steps)) and np.all(np.diff(steps) > 0) and steps[0] >= 0):
            raise ValueError("history['step'] must hold increasing whole iterations >= 0")
        self.steps = steps.astype(np.int64)
        samples = _numpy(history["samples"], "history['samples']")
        k = self.steps.size
        if (
            samples.ndim != 3
            or samples.shape[0] != k
            or samples.shape[2] != 2
            or not samples.shape[1]
        ):
            raise ValueError(
                f"history['samples'] must have shape (K, M, 2) with K = {k} recorded "
                f"iterations; got shape {samples.shape}"
            )
        self.samples = samples
        self.d_loss = _numpy(history["d_loss"], "history['d_loss']")
        self.g_loss = _numpy(history["g_loss"], "history['g_loss']")
        for name, loss in [("d_loss", self.d_loss), ("g_loss", self.g_loss)]:
            if loss.ndim != 1:
                raise ValueError(
                    f"history['{name}'] must be 1-D, one loss per step; got shape {loss.shape}"
                )
        if self.d_loss.shape != self.g_loss.shape:
            raise ValueError(
                f"history['d_loss'] and history['g_loss'] must have one value per step each; "
                f"got shapes {self.d_loss.shape} and {self.g_loss.shape}"
            )
        points = _numpy(real, "real")
        if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] < 1:
            raise ValueError(f"real must have shape (N, 2), N >= 1; got shape {points.shape}")
        if not np.all(np.isfinite(points)):
            raise ValueError("real must be finite numbers")
        self.real = points
        if modes is not None and (
            isinstance(modes, bool) or not isinstance(modes, (int, np.integer)) or modes < 1
        ):
            raise ValueError(f"modes must be a whole number >= 1 or None; got {modes!r}")
        self.modes = None if modes is None else int(modes)
        self.limit = MARGIN * float(np.max(np.abs(points))) or 1.0
        first, last = int(self.steps[0]), int(self.steps[-1])
        start = last if start is None else start
        if isinstance(start, bool) or not isinstance(start, (int, np.integer)):
            raise TypeError(f"start must be a recorded iteration (an int); got {start!r}")
        start = int(np.clip(start, first, last))
        controls = {
            "iteration": Slider(
                first,
                last,
                int(self.steps[self.snapshot(start)]),
                label="iteration",
                integer=True,
                stops=tuple(float(s) for s in self.steps),
            )
        }
        kwargs.setdefault("figsize", (10.5, 4.2))
        super().__init__(controls=controls, **kwargs)

    # -- the computation ----------------------------------------------------------------
    def snapshot(self, iteration: float) -> int:
        """The index of the recorded iteration nearest to ``iteration``."""
        return int(np.argmin(np.abs(self.steps - iteration)))

    def covered(self, samples: np.ndarray) -> str:
        """The title's note on the modes covered, from ``count_modes`` (empty without it)."""
        if self.count_modes is None:
            return ""
        got = self.count_modes(samples)
        value = getattr(got, "data", got)
        if np.ndim(value) != 0:
            raise ValueError(
                f"count_modes(samples) must return one number; got shape {np.shape(value)}"
            )
        total = "" if self.modes is None else f" of {self.modes}"
        return f", {float(value):g}{total} modes covered"

    # -- the picture --------------------------------------------------------------------
    def draw(self, fig: Figure, *, iteration: int) -> None:
        fig.set_layout_engine("none")  # fixed margins: the same values give the same pixels
        k = self.snapshot(iteration)
        step = int(self.steps[k])
        samples = self.samples[k]
        finite = np.all(np.isfinite(samples), axis=1)
        note = self.covered(samples[finite])  # may say "write `count_modes` first"
        ax = fig.add_axes((0.06, 0.13, 0.36, 0.74))
        ax_loss = fig.add_axes((0.62, 0.13, 0.24, 0.74))
        ax.scatter(self.real[:, 0], self.real[:, 1], s=5, color="0.65", alpha=0.5, label="real")
        shown = samples[finite]
        ax.scatter(shown[:, 0], shown[:, 1], s=5, color="C0", alpha=0.6, label="generated")
        legend_beside(ax, fontsize=7, markerscale=2.0)
        ax.set(xlim=(-self.limit, self.limit), ylim=(-self.limit, self.limit), aspect="equal")
        lost = "" if finite.all() else f" ({int((~finite).sum())} not finite)"
        ax.set_title(f"iteration {step}{note}{lost}", fontsize=10)
        t = np.arange(self.d_loss.size)
        upto = t < step
        ax_loss.plot(t[upto], self.d_loss[upto], color="C3", lw=1, label="discriminator")
        ax_loss.plot(t[upto], self.g_loss[upto], color="C0", lw=1, label="generator")
        ax_loss.axvline(step, color="k", lw=0.8, ls=":")
        values = np.concatenate([self.d_loss, self.g_loss])
        values = values[np.isfinite(values)]
        if values.size:
            low, high = float(values.min()), float(values.max())
            pad = 0.05 * (high - low) or 0.5
            ax_loss.set_ylim(low - pad, high + pad)
        ax_loss.set_xlim(0, max(int(self.steps[-1]), self.d_loss.size, 1))
        legend_beside(ax_loss, fontsize=7)
        ax_loss.set(xlabel="training step", ylabel="loss")
        ax_loss.set_title("the two losses so far", fontsize=10)
