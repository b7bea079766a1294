"""dlkit.ensemble: bagging and stacking with any learner."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit.data import make_moons
from dlkit.ensemble import Bagging, bagging, stacking
from dlkit.learners import fit_mlp


def wide(X, y, *, rng):
    """A high-variance learner: a wide MLP trained long on a small, noisy set."""
    return fit_mlp(X, y, rng=rng, hidden=(64,), epochs=400, lr=0.03, num_classes=2)


def linear(X, y, *, rng):
    return fit_mlp(X, y, rng=rng, hidden=(), epochs=300, lr=0.05, num_classes=2)


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(120, rng=np.random.default_rng(0), noise=0.35)
    Xt, yt = make_moons(2000, rng=np.random.default_rng(1), noise=0.35)
    return X, y, Xt, yt


@pytest.fixture(scope="module")
def bagged(moons):
    X, y, _, _ = moons
    return bagging(wide, X, y, 15, rng=np.random.default_rng(2))


def accuracy(model, X, y):
    return float(np.mean(model.predict(X) == y))


def test_bagging_beats_its_members_and_a_single_model(moons, bagged):
    X, y, Xt, yt = moons
    members = [accuracy(m, Xt, yt) for m in bagged.models]
    single = accuracy(wide(X, y, rng=np.random.default_rng(3)), Xt, yt)
    ens = accuracy(bagged, Xt, yt)
    assert ens > np.mean(members) + 0.01
    assert ens > single
    # the averaged probabilities are also better calibrated: lower test log-loss
    p = bagged.predict_proba(Xt)[np.arange(len(yt)), yt]
    p_single = np.mean([m.predict_proba(Xt)[np.arange(len(yt)), yt] for m in bagged.models[:1]], 0)
    assert -np.mean(np.log(p)) < -np.mean(np.log(p_single))


def test_bootstrap_samples_and_out_of_bag_fraction(moons, bagged):
    _, y, _, _ = moons
    n = len(y)
    assert len(bagged.samples) == 15 and all(s.shape == (n,) for s in bagged.samples)
    oob = [1 - len(np.unique(s)) / n for s in bagged.samples]
    assert abs(np.mean(oob) - (1 - 1 / n) ** n) < 0.03  # about 1/e of the rows unseen
    np.testing.assert_array_equal(
        bagged.samples[0], np.random.default_rng(2).integers(0, n, n)
    )  # the documented draw


def test_soft_and_hard_votes(moons, bagged):
    _, _, Xt, _ = moons
    proba = bagged.predict_proba(Xt)
    np.testing.assert_allclose(proba, np.mean([m.predict_proba(Xt) for m in bagged.models], 0))
    np.testing.assert_array_equal(bagged.predict(Xt), proba.argmax(1))
    votes = np.stack([m.predict(Xt) for m in bagged.models])
    np.testing.assert_array_equal(bagged.predict(Xt, vote="hard"), (votes.mean(0) > 0.5))
    with pytest.raises(ValueError, match="vote must be 'soft' or 'hard'"):
        bagged.predict(Xt, vote="median")


def test_bagging_is_reproducible(moons):
    X, y, Xt, _ = moons
    a = bagging(linear, X, y, 3, rng=np.random.default_rng(5))
    b = bagging(linear, X, y, 3, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.predict_proba(Xt), b.predict_proba(Xt))
    assert isinstance(a, Bagging)


def test_stacking_uses_out_of_fold_predictions_and_beats_its_bases(moons):
    X, y, Xt, yt = moons
    seen = []

    def spy(X, y, *, rng):
        seen.append(len(y))
        return linear(X, y, rng=rng)

    small = lambda X, y, *, rng: fit_mlp(  # noqa: E731
        X, y, rng=rng, hidden=(16,), epochs=300, lr=0.03, lam=0.01, num_classes=2
    )
    st = stacking([wide, spy, small], linear, X, y, k=5, rng=np.random.default_rng(4))
    assert seen == [96] * 5 + [120]  # 5 fits on 4/5 of the data, then one on all of it
    assert st.oof.shape == (120, 6)
    np.testing.assert_allclose(st.oof.reshape(120, 3, 2).sum(-1), 1.0)
    assert st.features(Xt).shape == (2000, 6)
    ens = accuracy(st, Xt, yt)
    assert ens >= max(accuracy(m, Xt, yt) for m in st.base_models)


def test_bad_arguments(moons):
    X, y, _, _ = moons
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_models must be an int >= 1; got 0"):
        bagging(linear, X, y, 0, rng=rng)
    with pytest.raises(TypeError, match="fit must be a function"):
        bagging(None, X, y, 2, rng=rng)
    with pytest.raises(TypeError, match="rng must be a np.random.Generator"):
        bagging(linear, X, y, 2, rng=3)
    with pytest.raises(ValueError, match=r"y must have shape \(N,\) matching X"):
        bagging(linear, X, y[:-1], 2, rng=rng)
    with pytest.raises(TypeError, match="has no predict_proba"):
        bagging(lambda X, y, *, rng: object(), X, y, 1, rng=rng).predict_proba(X)
    with pytest.raises(TypeError, match="base must be a non-empty list"):
        stacking([], linear, X, y, rng=rng)
    with pytest.raises(TypeError, match="meta must be a function"):
        stacking([linear], "lr", X, y, rng=rng)
