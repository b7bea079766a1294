"""dlkit.learners.fit_mlp: gradients, learning, curves, regularization hooks, early stopping."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.functional as F
from dlkit.data import make_moons
from dlkit.learners import _step_grads, fit_mlp, mlp_logits
from dlkit.testing import check_gradient


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(160, rng=np.random.default_rng(0), noise=0.3)
    return X[:80], y[:80], X[80:], y[80:]


@pytest.mark.parametrize("hidden", [(), (5,), (4, 3)])
def test_step_gradient_matches_central_differences(hidden, rng):
    X = rng.standard_normal((7, 3))
    y = rng.integers(0, 3, 7)
    model = fit_mlp(X, y, rng=rng, hidden=hidden, epochs=1)  # any parameters will do
    params = model.params
    lam = 0.3

    def objective() -> float:
        loss, _ = F.softmax_cross_entropy(mlp_logits(X, params), y)
        return float(loss) + float(F.l2_penalty([w for w, _ in params], lam)[0])

    grads = _step_grads(X, y, params, lam, 0.0, rng, F.l2_penalty, F.dropout_forward)(
        F.dropout_backward
    )
    flat = [p for layer in params for p in layer]
    for p, g in zip(flat, grads, strict=True):
        check_gradient(lambda _v: objective(), p, g)


def test_learns_moons_and_records_curves(moons):
    X, y, Xv, yv = moons
    model = fit_mlp(
        X, y, rng=np.random.default_rng(1), hidden=(32,), epochs=150, X_val=Xv, y_val=yv
    )
    h = model.history
    assert set(h) == {"train_loss", "train_acc", "val_loss", "val_acc"}
    assert all(len(v) == 150 for v in h.values())
    assert h["train_loss"][-1] < 0.5 * h["train_loss"][0]
    assert h["val_acc"][-1] > 0.8
    proba = model.predict_proba(Xv)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(model.predict(Xv), proba.argmax(1))
    assert model.best_epoch == 150


def test_linear_model_and_reproducibility(moons):
    X, y, _, _ = moons
    a = fit_mlp(X, y, rng=np.random.default_rng(2), hidden=(), epochs=50)
    b = fit_mlp(X, y, rng=np.random.default_rng(2), hidden=(), epochs=50)
    assert len(a.params) == 1 and a.params[0][0].shape == (2, 2)
    np.testing.assert_array_equal(a.params[0][0], b.params[0][0])


def test_big_network_overfits_and_l2_shrinks_the_weights(moons):
    X, y, Xv, yv = moons
    kw = dict(hidden=(128,), epochs=600, lr=0.02, X_val=Xv, y_val=yv)
    free = fit_mlp(X, y, rng=np.random.default_rng(3), **kw)
    ridge = fit_mlp(X, y, rng=np.random.default_rng(3), lam=0.03, **kw)
    gap = free.history["val_loss"][-1] - free.history["train_loss"][-1]
    assert free.history["train_acc"][-1] >= 0.95 and gap > 0.3  # overfitting
    norm = [sum(float((w**2).sum()) for w, _ in m.params) for m in (free, ridge)]
    assert norm[1] < 0.5 * norm[0]
    assert ridge.history["val_loss"][-1] < free.history["val_loss"][-1]


def test_injected_kernels_are_the_ones_used(moons):
    X, y, _, _ = moons
    calls = {"l2": 0, "fwd": 0, "bwd": 0}

    def l2(w, lam):
        calls["l2"] += 1
        return F.l2_penalty(w, lam)

    def fwd(x, p_drop, *, rng, training=True):
        calls["fwd"] += 1
        return F.dropout_forward(x, p_drop, rng=rng, training=training)

    def bwd(dout, cache):
        calls["bwd"] += 1
        return F.dropout_backward(dout, cache)

    fit_mlp(X, y, rng=np.random.default_rng(4), hidden=(8, 8), epochs=3, lam=0.1, p_drop=0.2,
            l2_penalty=l2, dropout_forward=fwd, dropout_backward=bwd)  # fmt: skip
    assert calls == {"l2": 3, "fwd": 6, "bwd": 6}


def test_mini_batches_and_snapshots(moons):
    X, y, _, _ = moons
    model = fit_mlp(X, y, rng=np.random.default_rng(5), epochs=6, batch_size=16,
                    snapshot_epochs=(2, 6))  # fmt: skip
    assert sorted(model.snapshots) == [2, 6]
    np.testing.assert_array_equal(model.snapshots[6][0][0], model.params[0][0])
    assert not np.array_equal(model.snapshots[2][0][0], model.params[0][0])


class StopAfter:
    """Stops when the value has not improved for ``patience`` updates."""

    def __init__(self, patience):
        self.patience, self.best, self.wait = patience, np.inf, 0

    def update(self, value):
        if value < self.best:
            self.best, self.wait = value, 0
        else:
            self.wait += 1
        return self.wait >= self.patience


def test_early_stopping_stops_and_restores_the_best_epoch(moons):
    X, y, Xv, yv = moons
    model = fit_mlp(X, y, rng=np.random.default_rng(6), hidden=(128,), epochs=2000, lr=0.02,
                    X_val=Xv, y_val=yv, early_stopping=StopAfter(20))  # fmt: skip
    h = model.history
    ran = len(h["val_loss"])
    assert ran < 2000
    assert model.best_epoch == int(np.argmin(h["val_loss"])) + 1 == ran - 20
    loss, _ = F.softmax_cross_entropy(model.logits(Xv), yv)
    assert float(loss) == pytest.approx(min(h["val_loss"]))


def test_bad_arguments(moons):
    X, y, _, _ = moons
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="X must be 2-D"):
        fit_mlp(X[:, 0], y, rng=rng)
    with pytest.raises(ValueError, match="y must hold integer labels"):
        fit_mlp(X, y.astype(float), rng=rng)
    with pytest.raises(ValueError, match="epochs must be an int >= 1; got 0"):
        fit_mlp(X, y, rng=rng, epochs=0)
    with pytest.raises(ValueError, match="early_stopping needs validation data"):
        fit_mlp(X, y, rng=rng, early_stopping=StopAfter(2))
    with pytest.raises(TypeError, match="rng must be a np.random.Generator"):
        fit_mlp(X, y, rng=0)
