"""dlkit.gp: the Gaussian-process surrogate and expected improvement."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from dlkit.gp import GaussianProcess, expected_improvement, rbf_kernel


def test_rbf_kernel_matches_the_formula(rng):
    a, b = rng.random((4, 2)), rng.random((3, 2))
    K = rbf_kernel(a, b, 0.3)
    ref = np.array([[np.exp(-np.sum((x - z) ** 2) / (2 * 0.09)) for z in b] for x in a])
    np.testing.assert_allclose(K, ref, rtol=1e-12)


def test_posterior_interpolates_the_data(rng):
    X = rng.random((8, 2))
    y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2
    gp = GaussianProcess().fit(X, y)
    mean, std = gp.predict(X)
    np.testing.assert_allclose(mean, y, atol=1e-3)
    assert np.all(std < 1e-2 * y.std())
    far_mean, far_std = gp.predict(np.array([[5.0, 5.0]]))
    assert far_std[0] == pytest.approx(y.std(), rel=1e-3)  # back to the prior spread
    assert far_mean[0] == pytest.approx(y.mean(), abs=1e-3)  # and the prior mean


def test_posterior_matches_the_textbook_formulas(rng):
    X, y, Xs = rng.random((6, 1)), rng.standard_normal(6), rng.random((5, 1))
    gp = GaussianProcess(noise=1e-2).fit(X, y)
    ell, m, s = gp.length_scale, y.mean(), y.std()
    K = rbf_kernel(X, X, ell) + (1e-2 + 1e-10) * np.eye(6)
    Ks = rbf_kernel(X, Xs, ell)
    mean = m + s * Ks.T @ np.linalg.solve(K, (y - m) / s)
    var = s**2 * (1 - np.sum(Ks * np.linalg.solve(K, Ks), axis=0))
    got_mean, got_std = gp.predict(Xs)
    np.testing.assert_allclose(got_mean, mean, rtol=1e-8)
    np.testing.assert_allclose(got_std, np.sqrt(var), rtol=1e-6)


def test_length_scale_is_chosen_by_marginal_likelihood(rng):
    X = np.linspace(0, 1, 15)[:, None]
    smooth = GaussianProcess().fit(X, X[:, 0])
    rough = GaussianProcess().fit(X, np.sin(25 * X[:, 0]))
    assert smooth.length_scale > rough.length_scale


def test_expected_improvement_matches_direct_integration():
    for mean, std, best, xi in [(0.0, 1.0, 0.5, 0.0), (1.2, 0.3, 1.0, 0.05), (-2, 2.0, -3, 0)]:
        direct, _ = integrate.quad(
            lambda f, mean=mean, std=std, cut=best - xi: (
                max(cut - f, 0.0) * stats.norm.pdf(f, mean, std)
            ),
            mean - 12 * std,
            mean + 12 * std,
            points=[best - xi],
        )
        ei = expected_improvement(np.array([mean]), np.array([std]), best, xi)
        assert ei[0] == pytest.approx(direct, rel=1e-7, abs=1e-12)


def test_expected_improvement_edge_cases():
    ei = expected_improvement(np.array([0.0, 2.0, 0.0]), np.array([0.0, 0.0, 1.0]), best=1.0)
    np.testing.assert_allclose(ei[:2], [1.0, 0.0])  # certain outcomes: the plain improvement
    assert ei[2] > 1.0  # uncertainty adds value
    more_unsure = expected_improvement(np.array([1.5, 1.5]), np.array([0.1, 1.0]), best=1.0)
    assert more_unsure[1] > more_unsure[0] > 0


def test_fit_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"X must be \(n, d\) and y \(n,\)"):
        GaussianProcess().fit(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="noise must be a variance >= 0"):
        GaussianProcess(noise=-1.0)
