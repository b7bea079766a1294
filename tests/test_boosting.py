"""dlkit.ensemble's gradient boosting of stumps, against scikit-learn and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.tree import DecisionTreeRegressor

from dlkit.ensemble import GradientBoosting, Stump, fit_stump, gradient_boosting


def test_a_stump_by_hand():
    X = np.array([[0.0, 5.0], [1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    stump = fit_stump(X, [0.0, 0.0, 1.0, 1.0])
    assert stump == Stump(feature=0, threshold=1.5, left=0.0, right=1.0)
    np.testing.assert_array_equal(stump.predict([[1.4, 0.0], [1.6, 0.0]]), [0.0, 1.0])


def test_no_split_on_constant_features_predicts_the_mean():
    stump = fit_stump(np.ones((3, 2)), [1.0, 2.0, 6.0])
    np.testing.assert_allclose(stump.predict(np.zeros((2, 2))), [3.0, 3.0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_stump_is_scikit_learns(seed):
    rng = np.random.default_rng(seed)
    X, r = rng.standard_normal((80, 4)), rng.standard_normal(80)
    tree = DecisionTreeRegressor(max_depth=1).fit(X, r)
    ours = fit_stump(X, r)
    assert ours.feature == tree.tree_.feature[0]
    # scikit-learn's trees keep X in float32, so its threshold is the midpoint of two float32
    # values: within float32's precision of ours
    np.testing.assert_allclose(ours.threshold, tree.tree_.threshold[0], rtol=1e-6)
    Z = rng.standard_normal((50, 4))
    np.testing.assert_allclose(ours.predict(Z), tree.predict(Z), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("n_estimators", "learning_rate"), [(1, 1.0), (50, 0.3), (200, 0.1)])
def test_predictions_equal_scikit_learns_gradient_boosting(n_estimators, learning_rate):
    X, y = make_friedman1(300, noise=1.0, random_state=n_estimators)
    ours = gradient_boosting(X[:200], y[:200], n_estimators, learning_rate)
    theirs = GradientBoostingRegressor(
        n_estimators=n_estimators, learning_rate=learning_rate, max_depth=1, random_state=0
    ).fit(X[:200], y[:200])
    np.testing.assert_allclose(ours.predict(X[200:]), theirs.predict(X[200:]), atol=1e-10)
    staged = ours.staged_predict(X[200:])
    assert staged.shape == (n_estimators + 1, 100)
    np.testing.assert_allclose(staged[-1], ours.predict(X[200:]))
    np.testing.assert_allclose(staged[0], np.mean(y[:200]))


def test_training_error_never_rises_and_irrelevant_features_are_rarely_used():
    X, y = make_friedman1(400, noise=0.5, random_state=3)  # features 5..9 are noise
    model = gradient_boosting(X, y, 150, 0.2)
    errors = np.mean((model.staged_predict(X) - y) ** 2, axis=1)
    assert np.all(np.diff(errors) <= 1e-12)
    used = np.bincount([s.feature for s in model.learners], minlength=10)
    assert used[5:].sum() < 0.1 * used.sum()


def test_zero_estimators_is_the_mean():
    model = gradient_boosting(np.zeros((3, 1)), [1.0, 2.0, 3.0], 0, 0.5)
    assert model == GradientBoosting(init=2.0, learners=[], learning_rate=0.5)


def test_errors_name_the_argument():
    X, y = np.zeros((4, 2)), np.zeros(4)
    with pytest.raises(ValueError, match=r"X must have shape \(N, D\)"):
        fit_stump(np.zeros(4), y)
    with pytest.raises(ValueError, match=r"r must have shape \(4,\)"):
        fit_stump(X, np.zeros(3))
    with pytest.raises(ValueError, match="y must be finite"):
        gradient_boosting(X, [0, 0, np.nan, 0], 2, 0.1)
    with pytest.raises(TypeError, match="n_estimators must be an int"):
        gradient_boosting(X, y, 2.0, 0.1)
    with pytest.raises(ValueError, match=r"learning_rate must lie in \(0, 1\]"):
        gradient_boosting(X, y, 2, 0.0)
    with pytest.raises(ValueError, match="splits on feature 3"):
        Stump(3, 0.0, 0.0, 1.0).predict(X)


def test_friedman1_is_the_documented_function():
    from dlkit.data import make_friedman1

    X, y = make_friedman1(200, rng=np.random.default_rng(0), noise=0.0)
    assert X.shape == (200, 10) and y.shape == (200,) and X.min() >= 0 and X.max() <= 1
    want = (10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2 + 10 * X[:, 3]
            + 5 * X[:, 4])  # fmt: skip
    np.testing.assert_allclose(y, want)
    X2, _ = make_friedman1(200, rng=np.random.default_rng(0), noise=0.0)
    np.testing.assert_array_equal(X, X2)
    with pytest.raises(ValueError, match="noise"):
        make_friedman1(10, rng=np.random.default_rng(0), noise=-1.0)
