"""How many hidden units does a curve need? A one-hidden-layer network fitted to 1-D data.

The fit is a *random-features* network, chosen because it is exact and instant (a few
milliseconds per slider move) rather than a few hundred gradient steps that may not have
converged:

1. the hidden layer is random: weights from ``he_init(1, H)``, and each unit's bias puts its
   kink (ReLU) or its steepest point (tanh, sigmoid, GELU) at a random place ``c_j`` in the
   input range, ``b_j = -w_j c_j``;
2. the output layer (``H`` weights and a bias) is the least-squares solution, the best any
   output layer can do on top of those hidden features.

As ``H`` grows the network fits any continuous curve more and more closely: the universal
approximation theorem, seen through random features. The hidden units are nested (the
first ``H`` units are the same for every larger ``H``), so the training error never goes up
as units are added.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .explorer import Choice, Explorer, Slider, legend_beside

__all__ = ["HiddenUnitsExplorer", "random_features_fit"]

MAX_HIDDEN = 64
CURVES = ("sine", "step", "abs")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu")
_RIDGE = 1e-8  # a whisker of ridge keeps near-duplicate units from getting huge opposite weights


def _reference() -> tuple[Callable[..., Any], Callable[..., Any]]:
    from ..functional import mlp_forward
    from ..init import he_init

    return mlp_forward, he_init


def random_features_fit(
    x: np.ndarray,
    y: np.ndarray,
    hidden: int,
    *,
    activation: str = "relu",
    seed: int = 0,
    mlp_forward: Callable[..., Any] | None = None,
    he_init: Callable[..., Any] | None = None,
    x_range: tuple[float, float] = (-math.pi, math.pi),
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fit a ``1 -> hidden -> 1`` network to ``(x, y)``: random hidden layer, exact output layer.

    Args:
        x, y: the data, shapes ``(N, 1)`` and ``(N, 1)``.
        hidden: number of hidden units ``H >= 0``. With ``H = 0`` the network is the single
            layer ``[(0, mean(y))]``: the best constant.
        activation: hidden activation name, passed on to ``mlp_forward``.
        seed: which random hidden layer to draw.
        mlp_forward, he_init: the functions to use (default: dlkit's). The hidden features
            are ``mlp_forward(x, [(w1, b1), (I, 0)])``: an identity output layer returns them.
        x_range: where the units' kinks are placed, uniformly at random.

    Returns:
        ``params`` for ``mlp_forward``: ``[(w1, b1), (w2, b2)]``, or one layer when ``H = 0``.
    """
    ref_forward, ref_init = _reference()
    forward = mlp_forward or ref_forward
    init = he_init or ref_init
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 1 or y.shape != x.shape:
        raise ValueError(f"x and y must both have shape (N, 1); got {x.shape} and {y.shape}")
    if isinstance(hidden, bool) or not isinstance(hidden, (int, np.integer)) or hidden < 0:
        raise ValueError(f"hidden must be an int >= 0; got {hidden!r}")
    if hidden == 0:
        return [(np.zeros((1, 1)), np.array([float(y.mean())]))]
    w1 = np.asarray(init(1, hidden, rng=np.random.default_rng(seed)), dtype=np.float64)
    if w1.shape != (1, hidden):
        raise ValueError(f"he_init(1, {hidden}) returned shape {w1.shape}; expected (1, {hidden})")
    centres = np.random.default_rng([seed, 1]).uniform(*x_range, size=MAX_HIDDEN)[:hidden]
    b1 = -w1[0] * centres  # (H,): unit j turns at x = c_j
    identity = (np.eye(hidden), np.zeros(hidden))
    feats = np.asarray(forward(x, [(w1, b1), identity], activation), dtype=np.float64)
    if feats.shape != (x.shape[0], hidden):
        raise ValueError(
            f"mlp_forward returned shape {feats.shape} for the hidden features; "
            f"expected (N, H) = {(x.shape[0], hidden)}"
        )
    design = np.hstack([feats, np.ones_like(x)])  # (N, H + 1)
    gram = design.T @ design
    ridge = _RIDGE * (np.trace(gram) / gram.shape[0] + 1.0)
    coef = np.linalg.solve(gram + ridge * np.eye(hidden + 1), design.T @ y)  # (H + 1, 1)
    return [(w1, b1), (coef[:hidden], coef[hidden])]


class HiddenUnitsExplorer(Explorer):
    """A one-hidden-layer network fitted to a noisy 1-D curve, with a hidden-units slider.

    Pass your own ``mlp_forward(x, params, activation)`` and ``he_init(fan_in, fan_out, *,
    rng)``: the hidden layer is drawn with your ``he_init`` and every prediction is computed
    by your ``mlp_forward`` (see :func:`random_features_fit` for how the network is fitted).
    The right panel shows dlkit's training error for every width, with yours marked.
    """

    def __init__(
        self,
        *,
        mlp_forward: Callable[..., Any] | None = None,
        he_init: Callable[..., Any] | None = None,
        hidden: int = 8,
        curve: str = "sine",
        activation: str = "relu",
        n: int = 120,
        noise: float = 0.1,
        **kwargs: Any,
    ) -> None:
        for name, fn in (("mlp_forward", mlp_forward), ("he_init", he_init)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be a function; got {type(fn).__name__}")
        self.mlp_forward, self.he_init = mlp_forward, he_init
        self.n, self.noise = n, noise
        self._data: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._curves: dict[tuple[str, str, int], np.ndarray] = {}
        controls = {
            "hidden": Slider(0, MAX_HIDDEN, hidden, step=1, label="hidden units", integer=True),
            "curve": Choice(CURVES, curve, "curve"),
            "activation": Choice(ACTIVATIONS, activation, "activation"),
            "seed": Slider(0, 20, 0, step=1, label="random draw", integer=True),
        }
        for name, value in (("hidden", hidden), ("curve", curve), ("activation", activation)):
            controls[name].check(name, value)
        kwargs.setdefault("figsize", (9.5, 3.8))
        super().__init__(controls=controls, **kwargs)

    def data(self, curve: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(x, y, clean)``: the noisy training set and the noiseless curve at the same x."""
        if curve not in self._data:
            from ..data import make_curve

            x, y = make_curve(self.n, rng=np.random.default_rng(2), kind=curve, noise=self.noise)
            _, clean = make_curve(self.n, rng=np.random.default_rng(2), kind=curve, noise=0.0)
            self._data[curve] = (x, y, clean)
        return self._data[curve]

    def error_curve(self, curve: str, activation: str, seed: int) -> np.ndarray:
        """dlkit's training MSE for 0 .. 64 hidden units (cached)."""
        key = (curve, activation, seed)
        if key not in self._curves:
            from ..functional import mlp_forward

            x, y, _ = self.data(curve)
            errors = []
            for h in range(MAX_HIDDEN + 1):
                params = random_features_fit(x, y, h, activation=activation, seed=seed)
                errors.append(float(np.mean((mlp_forward(x, params, activation) - y) ** 2)))
            self._curves[key] = np.array(errors)
        return self._curves[key]

    def predict(self, x: np.ndarray, params: list, activation: str) -> np.ndarray:
        if len(params) == 1:  # no hidden units: the constant b
            return np.full((x.shape[0], 1), float(params[0][1][0]))
        forward = self.mlp_forward or _reference()[0]
        out = np.asarray(forward(x, params, activation), dtype=np.float64)
        if out.shape != (x.shape[0], 1):
            raise ValueError(f"mlp_forward returned shape {out.shape}; expected {(x.shape[0], 1)}")
        return out

    def draw(self, fig: Figure, *, hidden: int, curve: str, activation: str, seed: int) -> None:
        x, y, clean = self.data(curve)
        params = random_features_fit(
            x,
            y,
            hidden,
            activation=activation,
            seed=seed,
            mlp_forward=self.mlp_forward,
            he_init=self.he_init,
        )
        grid = np.linspace(-math.pi, math.pi, 300)[:, None]
        fit = self.predict(grid, params, activation)
        mse = float(np.mean((self.predict(x, params, activation) - y) ** 2))

        ax, ax_err = fig.subplots(1, 2, width_ratios=[2.2, 1])
        ax.plot(x[:, 0], y[:, 0], ".", color="0.6", ms=4, label="data")
        ax.plot(x[:, 0], clean[:, 0], color="0.3", lw=1, ls=":", label="true curve")
        if 0 < hidden <= 12:  # each unit's contribution w2_j * h_j(x)
            (w1, b1), (w2, _) = params
            feats = self._features(grid, w1, b1, activation)
            for j in range(hidden):
                ax.plot(grid[:, 0], feats[:, j] * w2[j, 0], color="C1", lw=0.8, alpha=0.5)
        ax.plot(grid[:, 0], fit[:, 0], color="C0", lw=2.2, label="network")
        lo, hi = float(y.min()), float(y.max())
        ax.set_ylim(lo - 0.6 * (hi - lo), hi + 0.4 * (hi - lo))
        ax.set_xlim(-math.pi, math.pi)
        ax.set_xlabel("x")
        what = "the best constant" if hidden == 0 else f"{hidden} hidden {activation} units"
        ax.set_title(f"{what}: training MSE {mse:.4f}", fontsize=10)
        legend_beside(ax, fontsize=8)

        errors = self.error_curve(curve, activation, seed)
        ax_err.semilogy(
            np.arange(MAX_HIDDEN + 1), errors, color="0.5", lw=1.5, label="dlkit reference"
        )
        ax_err.semilogy([hidden], [max(mse, 1e-12)], "o", color="C0", label="yours")
        ax_err.axhline(self.noise**2, color="C2", ls="--", lw=1, label="noise level")
        ax_err.set_xlabel("hidden units")
        ax_err.set_title("training MSE", fontsize=10)
        legend_beside(ax_err, fontsize=8)

    def _features(
        self, grid: np.ndarray, w1: np.ndarray, b1: np.ndarray, activation: str
    ) -> np.ndarray:
        forward = self.mlp_forward or _reference()[0]
        hidden = w1.shape[1]
        identity = (np.eye(hidden), np.zeros(hidden))
        return np.asarray(forward(grid, [(w1, b1), identity], activation), dtype=np.float64)
