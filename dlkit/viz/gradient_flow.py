"""Gradient norm against time step: backpropagation through time in a tanh RNN and an LSTM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter

from ._student import as_array, check_functions, unpack
from .explorer import Choice, Explorer, Slider, Toggle, legend_beside

__all__ = ["GradientFlowExplorer"]

MAX_STEPS = 100  # the T slider's maximum: the sequence is drawn once, this long
BATCH, INPUTS = 4, 8  # N and D: small, so a redraw of 100 steps stays fast
HUGE, TINY = 1e200, 1e-200  # beyond these: drawn at the limit, called overflow
_COLORS = {"rnn": "C0", "lstm": "C1"}


def _norm(a: np.ndarray) -> float:
    """The Frobenius norm, without overflow for entries near the float64 limit."""
    with np.errstate(all="ignore"):
        top = float(np.max(np.abs(a))) if a.size else 0.0
        if not np.isfinite(top):
            return float("inf") if not np.isnan(a).any() else float("nan")
        return top * float(np.sqrt(np.sum((a / top) ** 2))) if top > 0 else 0.0


def _unit_radius(w: np.ndarray) -> np.ndarray:
    """``w`` scaled to spectral radius 1 (largest |eigenvalue|)."""
    return w / np.max(np.abs(np.linalg.eigvals(w)))


class GradientFlowExplorer(Explorer):
    """Backpropagate a loss on the LAST hidden state ``h_T`` through ``T`` steps and plot
    ``||dL/dh_t||`` against ``t`` (log axis).

    A tanh RNN multiplies the gradient at every step by ``diag(1 - h_t^2) Wh^T``: with a
    recurrent weight of spectral radius below 1 it vanishes geometrically, well above 1 it
    explodes. The LSTM's cell path multiplies it by the forget gate only, so a forget-gate
    bias of 2 to 3 (``f`` near 1) keeps it alive over many more steps.

    Args:
        rnn_step_forward, rnn_step_backward: yours (``(h, cache)`` and ``(dx, dh_prev, dWx,
            dWh, db)``); dlkit's when ``None``.
        lstm_step_forward, lstm_step_backward: yours (``(h, c, cache)`` and ``(dx, dh_prev,
            dc_prev, dWx, dWh, db)``, gate order i, f, g, o); dlkit's when ``None``.
        clip_grad_norm: yours, ``clip_grad_norm(grads, max_norm) -> (clipped, total_norm)``;
            dlkit's when ``None``. With clipping on it is applied to the gradient flowing back
            at EVERY step (``[dh]`` for the RNN, ``[dh, dc]`` for the LSTM) before the next
            backward step: the per-step form of clipping. In training you clip the parameter
            gradients once, after BPTT, with the same function.
        hidden: units ``H``, 2 to 256.
        seed: inputs, weights and the loss direction are drawn once from
            ``np.random.default_rng(seed)``; the scale slider rescales the same ``Wh``.

    Controls: ``steps`` (T), ``scale`` (the spectral radius of ``Wh``; of each gate's block of
    the LSTM's ``Wh``), ``cell``, ``forget_bias`` (the LSTM's ``b_f``), ``clip`` and
    ``max_norm``. The figure states ``||dL/dh_1|| / ||dL/dh_T||`` for each cell.
    """

    def __init__(
        self,
        rnn_step_forward: Callable[..., Any] | None = None,
        rnn_step_backward: Callable[..., Any] | None = None,
        lstm_step_forward: Callable[..., Any] | None = None,
        lstm_step_backward: Callable[..., Any] | None = None,
        clip_grad_norm: Callable[..., Any] | None = None,
        *,
        hidden: int = 32,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        from .. import functional as F

        if isinstance(hidden, bool) or not isinstance(hidden, int) or not 2 <= hidden <= 256:
            raise ValueError(f"hidden must be an int in [2, 256]; got {hidden!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int; got {seed!r}")
        check_functions(
            rnn_step_forward=rnn_step_forward,
            rnn_step_backward=rnn_step_backward,
            lstm_step_forward=lstm_step_forward,
            lstm_step_backward=lstm_step_backward,
            clip_grad_norm=clip_grad_norm,
        )
        self.rnn_step_forward = rnn_step_forward or F.rnn_step_forward
        self.rnn_step_backward = rnn_step_backward or F.rnn_step_backward
        self.lstm_step_forward = lstm_step_forward or F.lstm_step_forward
        self.lstm_step_backward = lstm_step_backward or F.lstm_step_backward
        self.clip_grad_norm = clip_grad_norm or F.clip_grad_norm
        rng = np.random.default_rng(seed)
        h = self.hidden = hidden
        self.x = rng.standard_normal((MAX_STEPS, BATCH, INPUTS))  # (T, N, D)
        self.rnn_Wx = rng.standard_normal((INPUTS, h)) / np.sqrt(INPUTS)  # (D, H)
        self.rnn_Wh = _unit_radius(rng.standard_normal((h, h)))  # (H, H), radius 1
        self.lstm_Wx = rng.standard_normal((INPUTS, 4 * h)) / np.sqrt(INPUTS)  # (D, 4H)
        blocks = [_unit_radius(rng.standard_normal((h, h))) for _ in range(4)]
        self.lstm_Wh = np.concatenate(blocks, axis=1)  # (H, 4H): i, f, g, o, each radius 1
        v = rng.standard_normal((BATCH, h))
        self.direction = v / np.linalg.norm(v)  # dL/dh_T for L = sum(v * h_T): norm 1
        controls = {
            "steps": Slider(5, MAX_STEPS, 50, label="T (steps)", integer=True),
            "scale": Slider(0.25, 4.0, 1.0, label="radius of Wh", log=True),
            "cell": Choice(("rnn", "lstm", "both"), "both", "cell"),
            "forget_bias": Slider(0.0, 5.0, 1.0, step=0.1, label="forget bias (LSTM)"),
            "clip": Toggle(False, "clip each step"),
            "max_norm": Slider(0.1, 1000.0, 10.0, label="max norm", log=True),
        }
        kwargs.setdefault("figsize", (8.0, 4.6))
        super().__init__(controls=controls, **kwargs)

    # -- the computation --------------------------------------------------------------
    def norms(
        self,
        cell: str,
        *,
        steps: int,
        scale: float,
        forget_bias: float = 1.0,
        clip: bool = False,
        max_norm: float = 10.0,
    ) -> np.ndarray:
        """``||dL/dh_t||`` for ``t = 1 .. steps`` (entry ``t - 1``), ``(steps,)``.

        ``cell`` is ``"rnn"`` or ``"lstm"``. With ``clip`` every step's gradient is passed
        through ``clip_grad_norm(..., max_norm)`` before it is recorded and sent further back.
        """
        if cell not in _COLORS:
            raise ValueError(f"cell must be 'rnn' or 'lstm'; got {cell!r}")
        with np.errstate(all="ignore"):  # the student's arithmetic may overflow: we report it
            if cell == "rnn":
                return self._rnn(steps, scale, max_norm if clip else None)
            return self._lstm(steps, scale, forget_bias, max_norm if clip else None)

    def _clip(self, grads: list[np.ndarray], max_norm: float | None) -> list[np.ndarray]:
        if max_norm is None:
            return grads
        clipped, _ = unpack(
            self.clip_grad_norm(grads, max_norm), 2, "clip_grad_norm", "(clipped, total_norm)"
        )
        clipped = unpack(clipped, len(grads), "clip_grad_norm's clipped", "a list like grads")
        shape = grads[0].shape
        return [as_array(g, f"clip_grad_norm's clipped[{k}]", shape) for k, g in enumerate(clipped)]

    def _rnn(self, steps: int, scale: float, max_norm: float | None) -> np.ndarray:
        shape = (BATCH, self.hidden)
        wh, b = scale * self.rnn_Wh, np.zeros(self.hidden)
        h, caches = np.zeros(shape), []
        for t in range(steps):
            out = self.rnn_step_forward(self.x[t], h, self.rnn_Wx, wh, b)
            h, cache = unpack(out, 2, "rnn_step_forward", "(h, cache)")
            h = as_array(h, "rnn_step_forward's h", shape)
            caches.append(cache)
        g, norms = self.direction, np.empty(steps)
        for t in range(steps - 1, -1, -1):
            (g,) = self._clip([g], max_norm)
            norms[t] = _norm(g)
            grads = self.rnn_step_backward(g, caches[t])
            grads = unpack(grads, 5, "rnn_step_backward", "(dx, dh_prev, dWx, dWh, db)")
            g = as_array(grads[1], "rnn_step_backward's dh_prev", shape)
        return norms

    def _lstm(self, steps: int, scale: float, bias: float, max_norm: float | None) -> np.ndarray:
        hid = self.hidden
        shape = (BATCH, hid)
        wh, b = scale * self.lstm_Wh, np.zeros(4 * hid)
        b[hid : 2 * hid] = bias  # the forget gate's slice
        h, c, caches = np.zeros(shape), np.zeros(shape), []
        for t in range(steps):
            out = self.lstm_step_forward(self.x[t], h, c, self.lstm_Wx, wh, b)
            h, c, cache = unpack(out, 3, "lstm_step_forward", "(h, c, cache)")
            h = as_array(h, "lstm_step_forward's h", shape)
            c = as_array(c, "lstm_step_forward's c", shape)
            caches.append(cache)
        g, dc, norms = self.direction, np.zeros(shape), np.empty(steps)
        for t in range(steps - 1, -1, -1):
            g, dc = self._clip([g, dc], max_norm)
            norms[t] = _norm(g)
            grads = self.lstm_step_backward(g, dc, caches[t])
            returns = "(dx, dh_prev, dc_prev, dWx, dWh, db)"
            grads = unpack(grads, 6, "lstm_step_backward", returns)
            g = as_array(grads[1], "lstm_step_backward's dh_prev", shape)
            dc = as_array(grads[2], "lstm_step_backward's dc_prev", shape)
        return norms

    # -- the picture --------------------------------------------------------------------
    def draw(
        self,
        fig: Figure,
        *,
        steps: int,
        scale: float,
        cell: str,
        forget_bias: float,
        clip: bool,
        max_norm: float,
    ) -> None:
        cells = ("rnn", "lstm") if cell == "both" else (cell,)
        fig.set_layout_engine("none")  # fixed margins: the same values give the same pixels
        ax = fig.add_axes((0.1, 0.12, 0.6, 0.66))  # room for the notes above, legend right
        t = np.arange(1, steps + 1)
        notes, drawn = [], []
        for name in cells:
            label = "tanh RNN" if name == "rnn" else f"LSTM, forget bias {forget_bias:.2g}"
            settings = dict(steps=steps, scale=scale, forget_bias=forget_bias)
            norms = self.norms(name, **settings, clip=clip, max_norm=max_norm)
            if clip:
                plain = _drawable(self.norms(name, **settings))
                ax.semilogy(t, plain, "--", color=_COLORS[name], alpha=0.45, lw=1,
                            label=label + ",\nnot clipped")  # fmt: skip
                drawn.append(plain)
            shown = _drawable(norms)
            ax.semilogy(t, shown, "o-", color=_COLORS[name], ms=3, lw=1.5, label=label)
            drawn.append(shown)
            notes.append(f"{label}: ||dL/dh_1|| / ||dL/dh_T|| = {_ratio(norms)}")
            if not np.all(np.isfinite(norms)) or np.max(norms) > HUGE:
                notes[-1] += f" (norms past {HUGE:.0e} drawn at the top)"
        if clip:
            ax.axhline(max_norm, color="k", ls=":", lw=1, label=f"max norm {max_norm:.3g}")
            drawn.append(np.array([max_norm]))
        values = np.concatenate(drawn)
        bottom = np.floor(np.log10(values.min()))
        top = np.ceil(np.log10(values.max()))
        ax.set_ylim(10.0**bottom, 10.0 ** max(top, bottom + 1))  # whole decades
        ax.yaxis.set_major_locator(LogLocator(base=10.0, numticks=7))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlim=(0.5, steps + 0.5), xlabel="time step t (the loss reads h_T only)",
               ylabel="||dL/dh_t||")  # fmt: skip
        legend_beside(ax, fontsize=8)
        ax.set_title("\n".join(notes), fontsize=8, loc="left")  # above the data, not on it
        clipping = f", clipped to {max_norm:.3g} at each step" if clip else ""
        fig.suptitle(f"BPTT through {steps} steps, radius of Wh {scale:.3g}{clipping}",
                     fontsize=10)  # fmt: skip


def _drawable(norms: np.ndarray) -> np.ndarray:
    """Norms floored and capped (NaN and infinity at the cap) so a log axis can draw them."""
    return np.clip(np.nan_to_num(norms, nan=HUGE, posinf=HUGE), TINY, HUGE)


def _ratio(norms: np.ndarray) -> str:
    """``||dL/dh_1|| / ||dL/dh_T||`` as text: a number, or why there is none."""
    first, last = float(norms[0]), float(norms[-1])
    if not (np.isfinite(first) and np.isfinite(last)) or first > HUGE:
        return "overflow"
    if last == 0.0:
        return "undefined (||dL/dh_T|| = 0)"
    with np.errstate(all="ignore"):
        ratio = first / last
    if not np.isfinite(ratio):
        return "overflow"
    return "0 (underflow)" if ratio == 0.0 else f"{ratio:.2e}"
