"""dlkit.metrics.frechet_distance: the Frechet distance between Gaussians fitted to two sets."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit.metrics import frechet_distance


def _gaussian(n: int, mean: np.ndarray, cov: np.ndarray, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).multivariate_normal(mean, cov, size=n)


def test_identical_sets_are_at_distance_zero():
    x = _gaussian(400, np.zeros(5), np.eye(5) + 0.3, seed=0)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(x, x.copy()) >= 0.0


def test_a_shifted_copy_is_at_the_squared_shift():
    x = _gaussian(300, np.zeros(4), np.diag([1.0, 2.0, 0.5, 3.0]), seed=1)
    shift = np.array([1.0, -2.0, 0.5, 3.0])
    assert frechet_distance(x, x + shift) == pytest.approx(np.sum(shift**2), rel=1e-8)


def test_two_1d_gaussians_have_the_closed_form():
    a, b = np.random.default_rng(2).standard_normal((2, 500))
    a, b = 1.5 * a + 2.0, 0.5 * b - 1.0
    mu_a, mu_b = a.mean(), b.mean()
    sd_a, sd_b = a.std(ddof=1), b.std(ddof=1)
    want = (mu_a - mu_b) ** 2 + (sd_a - sd_b) ** 2
    assert frechet_distance(a[:, None], b[:, None]) == pytest.approx(want, rel=1e-10)


def test_it_is_symmetric_and_takes_sets_of_different_sizes():
    a = _gaussian(200, np.zeros(3), np.eye(3), seed=3)
    b = _gaussian(350, np.ones(3), np.diag([2.0, 0.5, 1.0]), seed=4)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


def test_it_matches_scipy_sqrtm():
    linalg = pytest.importorskip("scipy.linalg")
    g = np.random.default_rng(5)
    for d in [2, 6, 16]:
        m = g.standard_normal((d, d))
        a = _gaussian(400, g.standard_normal(d), m @ m.T + 0.1 * np.eye(d), seed=10 + d)
        b = g.standard_normal((300, d)) * g.uniform(0.5, 2.0, d) + 0.5
        mu_a, mu_b = a.mean(0), b.mean(0)
        s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        root = linalg.sqrtm(s_a @ s_b).real
        want = np.sum((mu_a - mu_b) ** 2) + np.trace(s_a + s_b - 2 * root)
        assert frechet_distance(a, b) == pytest.approx(want, rel=1e-7)


def test_rank_deficient_covariances_give_a_finite_non_negative_distance():
    g = np.random.default_rng(6)
    a = g.standard_normal((50, 2)) @ g.standard_normal((2, 8))  # rank 2 in 8 dimensions
    b = g.standard_normal((50, 8))
    assert np.isfinite(frechet_distance(a, b)) and frechet_distance(a, b) > 0
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(np.ones((10, 3)), np.ones((10, 3))) == 0.0


def test_torch_tensors_and_lists_are_accepted():
    torch = pytest.importorskip("torch")
    x = _gaussian(100, np.zeros(2), np.eye(2), seed=7)
    want = frechet_distance(x, x + 1.0)
    assert frechet_distance(torch.tensor(x), torch.tensor(x + 1.0)) == pytest.approx(want)
    assert frechet_distance(x.tolist(), (x + 1.0).tolist()) == pytest.approx(want)


def test_bad_shapes_and_values_raise_clear_errors():
    x = np.zeros((10, 3))
    with pytest.raises(ValueError, match=r"features_a must be 2-D with shape \(N, D\).*\(10,\)"):
        frechet_distance(np.zeros(10), x)
    with pytest.raises(ValueError, match=r"features_b needs at least 2 rows.*\(1, 3\)"):
        frechet_distance(x, np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"same number of features D.*\(10, 3\) and \(10, 4\)"):
        frechet_distance(x, np.zeros((10, 4)))
    with pytest.raises(ValueError, match="features_a holds NaN"):
        frechet_distance(np.full((4, 3), np.nan), x)
    with pytest.raises(TypeError, match="features_b must be a NumPy array"):
        frechet_distance(x, "features")
    with pytest.raises(TypeError, match="must hold numbers"):
        frechet_distance(np.array([["a", "b"], ["c", "d"]]), x[:, :2])
