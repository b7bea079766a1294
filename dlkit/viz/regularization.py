"""Capacity against regularization: train and validation curves beside the decision boundary.

A one-hidden-layer ReLU network (:func:`dlkit.learners.fit_mlp`) is trained on a small, noisy
two-moons set. Four sliders set its capacity (hidden units), its regularization (L2 strength
and dropout probability) and how long it trains (epochs). The left panel shows the training
and validation loss over the whole run, with the chosen epoch marked; the right panel the
decision boundary at that epoch, training points filled and validation points hollow.

Training runs once per (hidden, L2, dropout) setting, to the last epoch, keeping a snapshot
of the weights after every epoch: moving the epoch slider only redraws.
The student's ``l2_penalty`` and ``dropout_forward``/``dropout_backward`` train the network,
and on every redraw ``l2_penalty`` reports the penalty of the shown weights while
``dropout_forward`` draws one *thinned* network (a random dropout mask on the hidden units,
as in one training step): its boundary is the dashed line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .explorer import Explorer, Slider, legend_beside

__all__ = ["RegularizationExplorer"]

_COLORS = ("#2b6cb0", "#dd6b20")
_REGION = ListedColormap(["#d6e4f5", "#fbe3cf"])
_EPOCH_STEP = 10
_GRID = 90


class RegularizationExplorer(Explorer):
    """Hidden units, L2 strength, dropout and epochs against over- and underfitting.

    Args:
        l2_penalty: ``l2_penalty(w, lam) -> (penalty, dw)`` for a list of weight arrays
            (default: :func:`dlkit.functional.l2_penalty`).
        dropout_forward: ``dropout_forward(x, p_drop, *, rng, training=True) -> (out,
            cache)`` (default: dlkit's).
        dropout_backward: ``dropout_backward(dout, cache) -> dx`` (default: dlkit's).
        n_train: training points (few, so that a big network can memorize them).
        noise: the moons' noise level.
        max_epochs: the largest value of the epoch slider (a multiple of 10).
        seed: fixes the data, the initial weights and the dropout masks.
    """

    def __init__(
        self,
        l2_penalty: Callable[..., Any] | None = None,
        dropout_forward: Callable[..., Any] | None = None,
        dropout_backward: Callable[..., Any] | None = None,
        *,
        n_train: int = 60,
        noise: float = 0.35,
        max_epochs: int = 300,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        from .. import functional
        from ..data import make_moons

        if not (isinstance(max_epochs, int) and max_epochs >= 2 * _EPOCH_STEP):
            raise ValueError(f"max_epochs must be an int >= {2 * _EPOCH_STEP}; got {max_epochs!r}")
        if max_epochs % _EPOCH_STEP:
            raise ValueError(f"max_epochs must be a multiple of {_EPOCH_STEP}; got {max_epochs}")
        if not (isinstance(n_train, int) and n_train >= 4):
            raise ValueError(f"n_train must be an int >= 4; got {n_train!r}")
        self.l2_penalty = l2_penalty or functional.l2_penalty
        self.dropout_forward = dropout_forward or functional.dropout_forward
        self.dropout_backward = dropout_backward or functional.dropout_backward
        self.seed, self.max_epochs = seed, max_epochs
        X, y = make_moons(n_train + 200, rng=np.random.default_rng(seed), noise=noise)
        self.X_train, self.y_train = X[:n_train], y[:n_train]
        self.X_val, self.y_val = X[n_train:], y[n_train:]
        lo, hi = X.min(0) - 0.4, X.max(0) + 0.4
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], _GRID), np.linspace(lo[1], hi[1], _GRID))
        self._grid = (gx, gy, np.column_stack([gx.ravel(), gy.ravel()]))
        self._cache: dict[tuple[int, float, float], Any] = {}
        controls = {
            "hidden": Slider(1, 128, 64, integer=True, label="hidden units"),
            "lam": Slider(1e-5, 1.0, 1e-5, log=True, label="L2 strength λ"),
            "p_drop": Slider(0.0, 0.8, 0.0, step=0.1, label="dropout p_drop"),
            "epochs": Slider(
                _EPOCH_STEP, max_epochs, max_epochs, step=_EPOCH_STEP, integer=True, label="epochs"
            ),
        }
        kwargs.setdefault("figsize", (10.0, 4.2))
        super().__init__(controls=controls, **kwargs)

    def fit(self, hidden: int, lam: float, p_drop: float) -> Any:
        """The trained network for a setting (cached), with a snapshot after every epoch."""
        from ..learners import fit_mlp

        key = (int(hidden), float(lam), round(float(p_drop), 6))
        if key not in self._cache:
            self._cache[key] = fit_mlp(
                self.X_train,
                self.y_train,
                rng=np.random.default_rng(self.seed + 1),
                hidden=(key[0],),
                lam=key[1],
                p_drop=key[2],
                epochs=self.max_epochs,
                lr=0.02,
                num_classes=2,
                X_val=self.X_val,
                y_val=self.y_val,
                snapshot_epochs=range(1, self.max_epochs + 1),
                l2_penalty=self.l2_penalty,
                dropout_forward=self.dropout_forward,
                dropout_backward=self.dropout_backward,
            )
        return self._cache[key]

    def _thinned(self, params: Any, p_drop: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """One dropout mask on the hidden units, folded into the output weights."""
        (w1, b1), (w2, b2) = params
        mask, _ = self.dropout_forward(
            np.ones((1, w1.shape[1])), p_drop, rng=np.random.default_rng(self.seed + 2)
        )
        mask = np.asarray(mask, dtype=np.float64).reshape(-1, 1)  # (H, 1): 0 or 1 / (1 - p)
        return [(w1, b1), (w2 * mask, b2)]

    def draw(self, fig: Figure, **v: Any) -> None:
        from ..learners import mlp_logits

        model = self.fit(v["hidden"], v["lam"], v["p_drop"])
        epoch = int(v["epochs"])
        params = model.snapshots[epoch]
        h = model.history
        ax_curve, ax_map = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})

        epochs = np.arange(1, self.max_epochs + 1)
        ax_curve.plot(epochs, h["train_loss"], color="C0", label="training loss")
        ax_curve.plot(epochs, h["val_loss"], color="C3", label="validation loss")
        best = int(np.argmin(h["val_loss"]))
        ax_curve.plot(epochs[best], h["val_loss"][best], "o", color="C3", ms=5)
        ax_curve.axvline(epoch, color="0.4", ls=":", lw=1.2)
        top = min(max(max(h["val_loss"]), 0.8), 3.0)
        ax_curve.set(
            xlabel="epoch",
            ylabel="cross-entropy",
            ylim=(0.0, top),
            title=f"lowest validation loss at epoch {best + 1}",
        )
        legend_beside(ax_curve, fontsize=8)

        gx, gy, grid = self._grid
        penalty, _ = self.l2_penalty([w for w, _ in params], v["lam"])
        proba = np.exp(mlp_logits(grid, params))
        proba = (proba[:, 1] / proba.sum(1)).reshape(gx.shape)
        ax_map.contourf(gx, gy, proba > 0.5, levels=[-0.5, 0.5, 1.5], cmap=_REGION)
        ax_map.contour(gx, gy, proba, levels=[0.5], colors="k", linewidths=1.2)
        if v["p_drop"] > 0:
            thin = mlp_logits(grid, self._thinned(params, v["p_drop"]))
            thin = (thin[:, 1] - thin[:, 0]).reshape(gx.shape)
            if thin.min() < 0 < thin.max():
                ax_map.contour(gx, gy, thin, levels=[0.0], colors="0.35", linewidths=1.0,
                               linestyles="--")  # fmt: skip
        for c in (0, 1):
            tr, va = self.y_train == c, self.y_val == c
            ax_map.scatter(*self.X_train[tr].T, s=22, color=_COLORS[c], edgecolor="k", lw=0.5)
            ax_map.scatter(*self.X_val[va].T, s=10, facecolor="none", edgecolor=_COLORS[c], lw=0.7)
        train_acc = h["train_acc"][epoch - 1]
        val_acc = h["val_acc"][epoch - 1]
        ax_map.set(
            xlim=(gx.min(), gx.max()),
            ylim=(gy.min(), gy.max()),
            xticks=[],
            yticks=[],
            title=f"epoch {epoch}: train acc {train_acc:.0%}, val acc {val_acc:.0%}\n"
            f"L2 penalty {float(penalty):.3g}",
        )
