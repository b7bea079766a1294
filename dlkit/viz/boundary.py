"""Where does a linear classifier draw its line? Sliders for the weights, replay of training."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .. import data
from .explorer import OVER_DATA, Choice, Explorer, Slider, legend_beside

__all__ = ["DecisionBoundaryExplorer"]

DATASETS = ("AND", "OR", "XOR", "XOR clouds", "blobs")
_COLORS = ("#2b6cb0", "#dd6b20")  # class 0, class 1
_REGION = ListedColormap(["#d6e4f5", "#fbe3cf"])


def _dataset(name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if name in ("AND", "OR", "XOR"):
        return data.logic_gate(name.lower())
    rng = np.random.default_rng(seed)
    if name == "XOR clouds":
        return data.make_xor(40, rng=rng, noise=0.25)
    return data.make_blobs(40, rng=rng, centers=2, std=0.8, spread=2.0)


def _limits(X: np.ndarray) -> tuple[float, float, float, float]:
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.25 * (hi - lo).max() + 0.25
    return lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad


class DecisionBoundaryExplorer(Explorer):
    """A 2-D data set, the region and line where ``predict(X, w, b)`` says 1, and training.

    Sliders set ``w1``, ``w2`` and ``b``. The *training step* slider replays ``update`` (the
    perceptron rule, usually the student's own) from those weights, one example at a time in
    a fixed shuffled order, and shows the weights after that many steps: the example just
    used is circled, the boundary before its update is dashed, and the right panel counts
    the mistakes ``predict`` makes on the whole set after each step.

    Args:
        predict: ``predict(X, w, b) -> labels (N,)`` in ``{0, 1}``; default
            :func:`dlkit.perceptron.perceptron_predict`.
        update: ``update(x, y, w, b, lr) -> (w, b)`` for one example; default
            :func:`dlkit.perceptron.perceptron_update`.
        max_steps: the largest training step on the slider.
        seed: fixes the generated data sets and the order of the examples.
    """

    def __init__(
        self,
        predict: Callable[..., Any] | None = None,
        update: Callable[..., Any] | None = None,
        *,
        max_steps: int = 80,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        from .. import perceptron

        for name, fn in (("predict", predict), ("update", update)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be a function or None; got {type(fn).__name__}")
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"max_steps must be an int >= 1; got {max_steps!r}")
        self.predict = predict or perceptron.perceptron_predict
        self.update_rule = update or perceptron.perceptron_update
        self.seed = seed
        controls = {
            "dataset": Choice(DATASETS, "AND", "data"),
            "w1": Slider(-4.0, 4.0, 1.0, 0.1, "w1"),
            "w2": Slider(-4.0, 4.0, 1.0, 0.1, "w2"),
            "b": Slider(-4.0, 4.0, -0.5, 0.1, "b"),
            "lr": Slider(0.05, 2.0, 0.5, label="learning rate", log=True),
            "step": Slider(0, max_steps, 0, 1, "training step", integer=True),
        }
        kwargs.setdefault("figsize", (9.0, 4.0))
        super().__init__(controls=controls, **kwargs)

    # -- the model ------------------------------------------------------------------------
    def labels(self, X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
        """``predict(X, w, b)`` as a NumPy array, checked to be ``N`` labels."""
        out = np.asarray(self.predict(X, w.copy(), b))
        if out.shape != (len(X),):
            raise ValueError(
                f"predict returned shape {out.shape} for {len(X)} points; expected ({len(X)},)"
            )
        return out

    def replay(
        self, X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, lr: float, steps: int
    ) -> tuple[list[tuple[np.ndarray, float]], list[int]]:
        """Weights after each of ``steps`` calls of ``update`` and the example each one used."""
        n = len(y)
        order = np.concatenate(
            [np.random.default_rng(self.seed + 1 + e).permutation(n) for e in range(-(-steps // n))]
        )[:steps]
        history = [(w, b)]
        for i in order.tolist():
            new = self.update_rule(X[i].copy(), int(y[i]), w.copy(), b, lr)
            if not (isinstance(new, tuple) and len(new) == 2):
                raise TypeError(f"update must return a pair (w, b); got {type(new).__name__}")
            w_new = np.asarray(new[0], dtype=np.float64)
            if w_new.shape != w.shape:
                raise ValueError(f"update returned w of shape {w_new.shape}; expected {w.shape}")
            w, b = w_new, float(new[1])
            history.append((w, b))
        return history, order.tolist()

    # -- the picture ------------------------------------------------------------------------
    def draw(self, fig: Figure, **v: Any) -> None:
        X, y = _dataset(v["dataset"], self.seed)
        w0, b0, step = np.array([v["w1"], v["w2"]]), float(v["b"]), int(v["step"])
        max_steps = int(self.controls["step"].max)
        history, order = self.replay(X, y, w0, b0, v["lr"], max_steps)
        mistakes = [int((self.labels(X, w, b) != y).sum()) for w, b in history]
        w, b = history[step]

        ax, axm = fig.subplots(1, 2, width_ratios=(1.3, 1))
        x0, x1, y0, y1 = _limits(X)
        g1, g2 = np.meshgrid(np.linspace(x0, x1, 160), np.linspace(y0, y1, 160))
        grid = np.column_stack([g1.ravel(), g2.ravel()])  # (160*160, 2)
        region = self.labels(grid, w, b).reshape(g1.shape).astype(float)
        ax.imshow(
            region,
            origin="lower",
            extent=(x0, x1, y0, y1),
            cmap=_REGION,
            vmin=0,
            vmax=1,
            aspect="auto",
            interpolation="nearest",
        )
        for c in (0, 1):
            ax.scatter(
                *X[y == c].T,
                s=60 if len(y) <= 4 else 22,
                color=_COLORS[c],
                edgecolor="white",
                linewidth=0.8,
                zorder=3,
                label=f"class {c}",
            )
        if step > 0:
            _line(ax, *history[step - 1], (x0, x1, y0, y1), ls="--", color="0.45", lw=1.2)
            i = order[step - 1]
            ax.scatter(*X[i], s=260, facecolor="none", edgecolor="black", linewidth=1.8, zorder=4)
        drawn = _line(ax, w, b, (x0, x1, y0, y1), color="black", lw=2)
        ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$x_1$", ylabel="$x_2$")
        what = f"step {step}: w = ({w[0]:.2f}, {w[1]:.2f}), b = {b:.2f}"
        if step > 0:
            moved = not (np.array_equal(w, history[step - 1][0]) and b == history[step - 1][1])
            what += f"\nexample {order[step - 1]} (class {y[order[step - 1]]}): " + (
                "misclassified, so the line moved" if moved else "correct, no change"
            )
        if not drawn:
            what += "\nw = 0: no boundary, one label everywhere"
        ax.set_title(what, fontsize=10)
        legend_beside(ax, fontsize=8)

        steps = np.arange(len(history))
        axm.plot(steps, mistakes, color="C3", lw=1.5, drawstyle="steps-post")
        axm.plot(step, mistakes[step], "o", color="black", zorder=3)
        axm.set(
            xlabel="training step (examples seen)",
            ylabel="mistakes on the data",
            ylim=(-0.5, len(y) + 0.5),
            xlim=(0, max_steps),
        )
        axm.set_title(f"{mistakes[step]} of {len(y)} misclassified", fontsize=10)
        axm.grid(alpha=0.3)


def _line(ax: Any, w: np.ndarray, b: float, lims: tuple[float, ...], **style: Any) -> bool:
    """Draw ``w1 x1 + w2 x2 + b = 0`` and an arrow along ``w``; False when ``w`` is 0."""
    x0, x1, y0, y1 = lims
    norm = float(np.hypot(*w))
    if norm < 1e-12:
        return False
    if abs(w[1]) >= abs(w[0]):  # solve for x2: never divides by a tiny number
        xs = np.array([x0, x1])
        ys = -(w[0] * xs + b) / w[1]
    else:
        ys = np.array([y0, y1])
        xs = -(w[1] * ys + b) / w[0]
    ax.plot(xs, ys, **style)
    if style.get("ls") != "--":
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        foot = centre - (centre @ w + b) / norm**2 * w  # the line's point nearest the centre
        length = 0.18 * max(x1 - x0, y1 - y0)
        ax.annotate(
            "",
            xy=foot + length * w / norm,
            xytext=foot,
            arrowprops={"arrowstyle": "->", "color": "black", "lw": 1.5},
        )
        label = ax.text(*(foot + 1.15 * length * w / norm), "w", fontsize=11, clip_on=True)
        label.set_gid(OVER_DATA)  # names the arrow drawn on the class regions, on purpose
    return True
