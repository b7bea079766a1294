"""A small Gaussian-process regressor and the expected-improvement criterion.

The surrogate model of Bayesian optimization (:func:`dlkit.tuning.bayesian_optimization`):
given a few noisy scores ``y_i = f(x_i)``, a GP with an RBF kernel predicts at any new ``x``
a mean (the best guess of ``f(x)``) and a standard deviation (how unsure that guess is).
Expected improvement turns the two into one number: how much lower than the best score so
far we can expect ``f(x)`` to be.

Plain NumPy/SciPy, float64; inputs are meant to live in the unit cube ``[0, 1]^d``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.special import ndtr

__all__ = ["GaussianProcess", "rbf_kernel", "expected_improvement"]

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def rbf_kernel(a: np.ndarray, b: np.ndarray, length_scale: float) -> np.ndarray:
    """``k(a_i, b_j) = exp(-|a_i - b_j|^2 / (2 length_scale^2))``, shape ``(len(a), len(b))``."""
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T  # (n, m)
    return np.exp(-np.maximum(sq, 0.0) / (2.0 * length_scale**2))


class GaussianProcess:
    """GP regression with an RBF kernel of unit variance on standardized targets.

    ``fit`` standardizes ``y`` (so the prior mean is the data's mean and the prior standard
    deviation its spread) and picks the length scale from ``length_scales`` that maximizes
    the log marginal likelihood. ``noise`` is the observation-noise variance on the
    standardized scale; the Cholesky factorization adds more jitter only if it must.
    """

    def __init__(
        self,
        *,
        noise: float = 1e-6,
        length_scales: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2),
    ) -> None:
        if not noise >= 0:
            raise ValueError(f"noise must be a variance >= 0; got {noise!r}")
        self.noise = float(noise)
        self.length_scales = tuple(float(s) for s in length_scales)
        self.length_scale = self.length_scales[0]

    def _factor(self, X: np.ndarray, length_scale: float) -> np.ndarray:
        K = rbf_kernel(X, X, length_scale)
        jitter = self.noise
        for _ in range(8):
            try:
                return cholesky(K + (jitter + 1e-10) * np.eye(len(X)), lower=True)
            except np.linalg.LinAlgError:
                jitter = max(10.0 * jitter, 1e-8)
        raise np.linalg.LinAlgError("kernel matrix is not positive definite even with jitter")

    def fit(self, X: Any, y: Any) -> GaussianProcess:
        """Condition on ``X`` ``(n, d)`` and ``y`` ``(n,)``; returns ``self``."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if X.ndim != 2 or y.shape != (X.shape[0],) or X.shape[0] == 0:
            raise ValueError(
                f"X must be (n, d) and y (n,) with n >= 1; got shapes {X.shape} and {y.shape}"
            )
        self.y_mean = float(y.mean())
        self.y_std = float(y.std()) or 1.0
        z = (y - self.y_mean) / self.y_std
        best = None
        for ell in self.length_scales:
            L = self._factor(X, ell)
            alpha = cho_solve((L, True), z)
            # log p(z) = -z^T K^-1 z / 2 - log det K / 2 - n log(2 pi) / 2
            log_ml = -0.5 * z @ alpha - np.log(np.diag(L)).sum()
            if best is None or log_ml > best[0]:
                best = (log_ml, ell, L, alpha)
        _, self.length_scale, self._L, self._alpha = best
        self._X = X
        return self

    def predict(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at ``X`` ``(m, d)``, each ``(m,)``."""
        X = np.asarray(X, dtype=np.float64)
        Ks = rbf_kernel(self._X, X, self.length_scale)  # (n, m)
        mean = Ks.T @ self._alpha
        v = solve_triangular(self._L, Ks, lower=True)  # (n, m)
        var = np.maximum(1.0 - (v * v).sum(0), 0.0)
        return self.y_mean + self.y_std * mean, self.y_std * np.sqrt(var)


def expected_improvement(mean: Any, std: Any, best: float, xi: float = 0.0) -> np.ndarray:
    """Expected improvement below ``best`` (minimization) of a normal ``N(mean, std^2)``.

    With ``d = best - xi - mean`` and ``z = d / std``::

        EI = E[max(best - xi - f, 0)] = d * Phi(z) + std * phi(z)

    (``Phi``, ``phi``: the standard normal CDF and density). Where ``std = 0`` the outcome is
    certain and ``EI = max(d, 0)``. ``xi >= 0`` demands a margin of improvement, which
    pushes the search towards uncertain regions.
    """
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    d = best - xi - mean
    safe = np.where(std > 0, std, 1.0)
    z = d / safe
    ei = d * ndtr(z) + safe * _INV_SQRT_2PI * np.exp(-0.5 * z * z)
    return np.where(std > 0, np.maximum(ei, 0.0), np.maximum(d, 0.0))
