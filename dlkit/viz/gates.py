"""Gate inspector: what an LSTM's input, forget and output gates and its cell do over time."""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ._student import as_array, check_functions, printable, unpack
from .explorer import Explorer, Slider

__all__ = ["GateInspector"]

#: A random sequence when none is given: this many steps of one-hot symbols a, b, c, ...
STEPS, SYMBOLS = 24, 6
MAX_LABELS = 48  # more steps than this: label every k-th
_ROWS = (("i", "input gate i"), ("f", "forget gate f"), ("o", "output gate o"), ("c", "cell c"))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


def _sequence(sequence: Any, width: int | None) -> np.ndarray:
    """``sequence`` as ``(T, D)`` floats: ``(T, D)``, ``(1, T, D)``, or 1-D integer ids."""
    from ..backend import to_numpy

    seq = np.asarray(to_numpy(sequence) if not isinstance(sequence, list) else sequence)
    if seq.ndim == 1 and seq.size and np.issubdtype(seq.dtype, np.integer):
        depth = width if width is not None else int(seq.max()) + 1
        if seq.min() < 0 or seq.max() >= depth:
            raise ValueError(
                f"sequence ids must be in [0, {depth}); got {seq.min()} to {seq.max()}"
            )
        return np.eye(depth)[seq]  # (T, D) one-hot
    if seq.ndim == 3 and seq.shape[0] == 1:
        seq = seq[0]
    if seq.ndim != 2 or seq.shape[0] < 1 or not np.issubdtype(seq.dtype, np.number):
        raise ValueError(
            "sequence must be one input sequence of shape (T, D) (or (1, T, D)), or 1-D integer "
            f"ids; got shape {seq.shape}"
        )
    seq = seq.astype(np.float64)
    if not np.all(np.isfinite(seq)):
        raise ValueError("sequence must hold finite numbers")
    return seq


def _params(params: Any, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Wx, Wh, b)`` of shapes ``(D, 4H)``, ``(H, 4H)``, ``(4H,)``, checked."""
    if not (isinstance(params, (tuple, list)) and len(params) == 3):
        raise TypeError(f"params must be a tuple (Wx, Wh, b); got {type(params).__name__}")
    from ..backend import to_numpy

    wx, wh, b = (np.asarray(to_numpy(p), dtype=np.float64) for p in params)
    if wh.ndim != 2 or wh.shape[1] != 4 * wh.shape[0] or wh.shape[0] < 2:
        raise ValueError(f"params' Wh must have shape (H, 4H) with H >= 2; got {wh.shape}")
    h = wh.shape[0]
    for name, p, shape, labels in (("Wx", wx, (d, 4 * h), "(D, 4H)"), ("b", b, (4 * h,), "(4H,)")):
        if p.shape != shape:
            raise ValueError(f"params' {name} must have shape {labels} = {shape}; got {p.shape}")
    return wx, wh, b


class GateInspector(Explorer):
    """Run your ``lstm_step_forward`` over one sequence and show, as heatmaps over time (one
    row per hidden unit), the input gate ``i``, the forget gate ``f``, the output gate ``o``
    and the cell state ``c``.

    Args:
        lstm_step_forward: yours, ``(x, h_prev, c_prev, Wx, Wh, b) -> (h, c, cache)`` with the
            gate order i, f, g, o; dlkit's when ``None``. It is called once per step with a
            batch of one, ``x`` ``(1, D)``.
        params: ``(Wx, Wh, b)`` of shapes ``(D, 4H)``, ``(H, 4H)``, ``(4H,)``, e.g. a trained
            ``nn.LSTM``'s weights; random (``hidden`` units) when ``None``.
        sequence: ``(T, D)`` inputs, or 1-D integer ids (one-hot encoded, e.g. a row of
            ``copy_task``'s ``x``); random one-hot symbols ``a .. f`` when ``None``.
        labels: ``T`` tick labels for the time axis (the characters of the sequence).
        seed: for the random weights and sequence. hidden: units of the random weights.

    The gates are your step's, recomputed from what it returned: ``a = x Wx + h_prev Wh + b``
    with your ``h_prev``, sliced i, f, g, o. Where your ``c`` is not ``f * c_prev + i * g``
    with those gates (gates in another order, a wrong activation), the title says so.

    Controls: ``first`` and ``count`` pick the units shown (``first, first + 1, ...``, wrapping
    past the last), ``forget_offset`` is added to ``b``'s f slice (positive: remember longer),
    ``input_scale`` multiplies the inputs.
    """

    def __init__(
        self,
        lstm_step_forward: Callable[..., Any] | None = None,
        *,
        params: Any = None,
        sequence: Any = None,
        labels: Sequence[Any] | None = None,
        seed: int = 0,
        hidden: int = 16,
        **kwargs: Any,
    ) -> None:
        from .. import functional as F

        check_functions(lstm_step_forward=lstm_step_forward)
        self.lstm_step_forward = lstm_step_forward or F.lstm_step_forward
        if isinstance(hidden, bool) or not isinstance(hidden, int) or not 2 <= hidden <= 512:
            raise ValueError(f"hidden must be an int in [2, 512]; got {hidden!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int; got {seed!r}")
        rng = np.random.default_rng(seed)
        wx_shape = np.shape(params[0]) if _is_triple(params) else ()
        width = int(wx_shape[0]) if len(wx_shape) == 2 else None  # D, when params say it
        if sequence is None:
            d = width or SYMBOLS
            ids = rng.integers(0, min(d, SYMBOLS), size=STEPS)
            sequence = np.eye(d)[ids]
            if labels is None and d <= len(string.ascii_lowercase):
                labels = [string.ascii_lowercase[k] for k in ids]
        self.sequence = _sequence(sequence, width)  # (T, D)
        steps, d = self.sequence.shape
        if params is None:
            params = (
                rng.standard_normal((d, 4 * hidden)),  # one-hot inputs: unit-variance gates
                rng.standard_normal((hidden, 4 * hidden)) / np.sqrt(hidden),
                np.zeros(4 * hidden),
            )
        self.Wx, self.Wh, self.b = _params(params, d)
        self.hidden = h = self.Wh.shape[0]
        if labels is not None:
            labels = [printable(label) for label in labels]
            if len(labels) != steps:
                raise ValueError(f"labels must have one entry per step, {steps}; got {len(labels)}")
        self.labels = labels
        controls = {
            "first": Slider(0, h - 1, 0, label="first unit", integer=True),
            "count": Slider(1, h, min(8, h), label="units shown", integer=True),
            "forget_offset": Slider(-5.0, 5.0, 0.0, step=0.1, label="forget bias +"),
            "input_scale": Slider(0.1, 10.0, 1.0, label="input scale", log=True),
        }
        kwargs.setdefault("figsize", (9.0, 6.4))
        super().__init__(controls=controls, **kwargs)

    # -- the computation --------------------------------------------------------------
    def run(self, forget_offset: float = 0.0, input_scale: float = 1.0) -> dict[str, Any]:
        """Run the sequence through ``lstm_step_forward``.

        Returns ``{"i", "f", "g", "o", "c", "h"}``, each ``(T, H)``, and ``"mismatch"``: the
        largest ``|c - (f * c_prev + i * g)|`` over the steps (0 for a right step).
        """
        h = self.hidden
        x = self.sequence * input_scale  # (T, D)
        b = self.b.copy()
        b[h : 2 * h] += forget_offset
        h_prev, c_prev = np.zeros((1, h)), np.zeros((1, h))
        rows: dict[str, list[np.ndarray]] = {k: [] for k in "ifgoch"}
        mismatch = 0.0
        with np.errstate(all="ignore"):
            for t in range(len(x)):
                a = (x[t : t + 1] @ self.Wx + h_prev @ self.Wh + b)[0]  # (4H,)
                i, f = _sigmoid(a[:h]), _sigmoid(a[h : 2 * h])
                g, o = np.tanh(a[2 * h : 3 * h]), _sigmoid(a[3 * h :])
                out = self.lstm_step_forward(x[t : t + 1], h_prev, c_prev, self.Wx, self.Wh, b)
                h_new, c_new, _ = unpack(out, 3, "lstm_step_forward", "(h, c, cache)")
                h_new = as_array(h_new, "lstm_step_forward's h", (1, h))
                c_new = as_array(c_new, "lstm_step_forward's c", (1, h))
                diff = np.abs(c_new[0] - (f * c_prev[0] + i * g))
                mismatch = max(mismatch, float(np.nan_to_num(diff.max(), nan=np.inf)))
                for key, value in zip("ifgoch", (i, f, g, o, c_new[0], h_new[0]), strict=True):
                    rows[key].append(value)
                h_prev, c_prev = h_new, c_new
        out: dict[str, Any] = {k: np.array(v) for k, v in rows.items()}
        out["mismatch"] = mismatch
        return out

    # -- the picture --------------------------------------------------------------------
    def draw(
        self, fig: Figure, *, first: int, count: int, forget_offset: float, input_scale: float
    ) -> None:
        result = self.run(forget_offset, input_scale)
        units = (first + np.arange(count)) % self.hidden
        steps = len(self.sequence)
        fig.set_layout_engine("none")  # fixed margins: the same values give the same pixels
        grid = fig.add_gridspec(4, 2, width_ratios=(1, 0.02), left=0.09, right=0.93,
                                bottom=0.09, top=0.87, hspace=0.35, wspace=0.03)  # fmt: skip
        cell = np.nan_to_num(result["c"][:, units].T, nan=0.0, posinf=1e300, neginf=-1e300)
        clim = max(float(np.abs(cell).max()), 1e-12)
        for row, (key, title) in enumerate(_ROWS):
            ax = fig.add_subplot(grid[row, 0])
            if key == "c":
                data, cmap, lo, hi = cell, "RdBu_r", -clim, clim
                title += f" (|c| up to {clim:.3g})"
            else:
                data, cmap, lo, hi = result[key][:, units].T, "viridis", 0.0, 1.0
            image = ax.imshow(
                data, aspect="auto", interpolation="nearest", cmap=cmap, vmin=lo, vmax=hi
            )
            if row in (0, 3):
                fig.colorbar(image, cax=fig.add_subplot(grid[row, 1]))
            ax.set_title(title, fontsize=9, loc="left")
            shown = np.arange(count) if count <= 8 else np.linspace(0, count - 1, 5).round()
            ax.set_yticks(shown, [str(units[int(k)]) for k in shown], fontsize=7)
            ax.set_ylabel("unit", fontsize=8)
            self._time_axis(ax, steps, last=row == 3)
        mean_f = float(np.mean(result["f"]))
        title = (
            f"LSTM gates over {steps} steps: forget bias {forget_offset:+.2g}, "
            f"input x {input_scale:.3g}, mean f = {mean_f:.2f}"
        )
        color = "k"
        if not result["mismatch"] <= 1e-6 * (1.0 + clim):
            title += (
                f"\nyour c differs from f * c_prev + i * g with gates in the order i, f, g, o "
                f"(by up to {result['mismatch']:.3g})"
            )
            color = "#b00"
        fig.suptitle(title, fontsize=10, color=color)

    def _time_axis(self, ax: Any, steps: int, last: bool) -> None:
        if not last:
            ax.set_xticks([])  # ticks are slow to make: only the bottom panel has them
            return
        every = -(-steps // MAX_LABELS)  # ceil: at most MAX_LABELS ticks
        ticks = np.arange(0, steps, every)
        if self.labels is None:
            ax.set_xticks(ticks, [str(t + 1) for t in ticks], fontsize=7)
            ax.set_xlabel("time step", fontsize=8)
        else:
            ax.set_xticks(ticks, [self.labels[t] for t in ticks], fontsize=8)
            ax.set_xlabel("input", fontsize=8)


def _is_triple(params: Any) -> bool:
    return isinstance(params, (tuple, list)) and len(params) == 3
