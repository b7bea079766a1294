"""dlkit.perceptron: the perceptron and logistic regression behind unit 01."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import dlkit.functional as F
from dlkit import perceptron as P
from dlkit.data import logic_gate, make_blobs
from dlkit.testing import check_directional, check_gradient


def problem(rng, n=7, d=3):
    X = rng.standard_normal((n, d))
    return X, rng.integers(0, 2, n), rng.standard_normal(d), float(rng.standard_normal())


# -- perceptron_predict -----------------------------------------------------------------------


def test_predict_reference_values():
    X, y = logic_gate("and")
    labels = P.perceptron_predict(X, np.array([1.0, 1.0]), -1.5)
    assert labels.dtype == np.int64 and labels.shape == (4,)
    np.testing.assert_array_equal(labels, y)


def test_predict_score_zero_is_class_one():
    X = np.array([[1.0, 0.5], [0.0, 0.0], [1.0, 0.4999]])
    np.testing.assert_array_equal(P.perceptron_predict(X, np.array([1.0, 2.0]), -2.0), [1, 0, 0])
    np.testing.assert_array_equal(P.perceptron_predict(X, np.zeros(2), 0.0), [1, 1, 1])


def test_predict_matches_the_formula(rng):
    X, _, w, b = problem(rng, 50, 6)
    np.testing.assert_array_equal(P.perceptron_predict(X, w, b), (X @ w + b >= 0).astype(int))


def test_predict_one_example_gives_one_label():
    label = P.perceptron_predict(np.array([1.0, 1.0]), np.array([1.0, 1.0]), -1.5)
    assert np.shape(label) == () and int(label) == 1


def test_predict_accepts_numpy_and_0d_biases(rng):
    X, _, w, b = problem(rng)
    ref = P.perceptron_predict(X, w, b)
    np.testing.assert_array_equal(P.perceptron_predict(X, w, np.float32(b)), ref)
    np.testing.assert_array_equal(P.perceptron_predict(X, w, np.array(b)), ref)
    np.testing.assert_array_equal(P.perceptron_predict(X, w, 0), (X @ w >= 0).astype(int))


# -- perceptron_update ------------------------------------------------------------------------


def test_update_reference_values():
    w, b = np.array([1.0, -1.0]), 0.0
    right = P.perceptron_update(np.array([2.0, 1.0]), 1, w, b, 0.5)
    missed = P.perceptron_update(np.array([1.0, 3.0]), 1, w, b, 0.5)
    alarm = P.perceptron_update(np.array([2.0, 1.0]), 0, w, b, 0.5)
    np.testing.assert_array_equal(right[0], w)
    assert right[1] == 0.0
    np.testing.assert_array_equal(missed[0], [1.5, 0.5])
    assert missed[1] == 0.5
    np.testing.assert_array_equal(alarm[0], [0.0, -1.5])
    assert alarm[1] == -0.5


def test_update_leaves_its_inputs_alone(rng):
    x, w = rng.standard_normal(4), rng.standard_normal(4)
    x0, w0 = x.copy(), w.copy()
    for y in (0, 1):
        w_new, _ = P.perceptron_update(x, y, w, 0.3, 1.0)
        assert w_new is not w
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)


def test_update_raises_the_score_of_a_missed_example(rng):
    for _ in range(20):
        x, w, b = rng.standard_normal(3), rng.standard_normal(3), float(rng.standard_normal())
        z = x @ w + b
        y = 0 if z >= 0 else 1  # always a mistake
        w_new, b_new = P.perceptron_update(x, y, w, b, 0.7)
        e = 1 if y == 1 else -1
        np.testing.assert_allclose(x @ w_new + b_new, z + 0.7 * e * (x @ x + 1))


def test_update_accepts_integer_labels_of_any_kind():
    x, w = np.array([0.0, 1.0]), np.array([0.0, -1.0])
    for y in (1, np.int64(1), np.array(1)):
        w_new, b_new = P.perceptron_update(x, y, w, -0.5, 1.0)
        np.testing.assert_array_equal(w_new, [0.0, 0.0])
        assert b_new == 0.5


# -- perceptron_train -------------------------------------------------------------------------


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_train_converges_on_separable_gates(gate):
    X, y = logic_gate(gate)
    history = P.perceptron_train(X, y, epochs=20, lr=1.0, rng=np.random.default_rng(0))
    assert len(history) == 20 * 4 + 1
    w, b = history[-1]
    assert P.count_mistakes(X, y, w, b) == 0
    # once right on every example, the rule never moves again
    last = history[-4:]
    assert all(np.array_equal(wb[0], w) and wb[1] == b for wb in last)


@pytest.mark.parametrize("seed", range(5))
def test_train_never_solves_xor(seed):
    X, y = logic_gate("xor")
    history = P.perceptron_train(X, y, epochs=50, rng=np.random.default_rng(seed))
    assert min(P.count_mistakes(X, y, w, b) for w, b in history) >= 1


def test_train_converges_on_separable_blobs():
    X, y = make_blobs(40, rng=np.random.default_rng(0), std=0.8, spread=2.0)
    history = P.perceptron_train(X, y, epochs=30, lr=0.5, rng=np.random.default_rng(1))
    assert P.count_mistakes(X, y, *history[-1]) == 0


def test_train_is_reproducible_and_starts_where_told():
    X, y = logic_gate("or")
    a = P.perceptron_train(X, y, epochs=3, rng=np.random.default_rng(5), w0=np.ones(2), b0=-3)
    b = P.perceptron_train(X, y, epochs=3, rng=np.random.default_rng(5), w0=np.ones(2), b0=-3)
    np.testing.assert_array_equal(a[0][0], [1.0, 1.0])
    assert a[0][1] == -3.0
    assert all(np.array_equal(p[0], q[0]) and p[1] == q[1] for p, q in zip(a, b, strict=True))


def test_train_with_zero_start_ignores_the_learning_rate():
    X, y = logic_gate("and")
    one = P.perceptron_train(X, y, epochs=5, lr=1.0, rng=np.random.default_rng(2))
    tiny = P.perceptron_train(X, y, epochs=5, lr=0.01, rng=np.random.default_rng(2))
    for (w1, b1), (w2, b2) in zip(one, tiny, strict=True):
        np.testing.assert_allclose(w2, 0.01 * w1)
        np.testing.assert_allclose(b2, 0.01 * b1)


# -- logistic regression ----------------------------------------------------------------------


def test_logistic_gradient_reference_values():
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -1.0]])
    y, w, b = np.array([1.0, 0.0, 1.0]), np.array([0.5, -0.25]), 0.1
    dw, db = P.logistic_gradient(X, y, w, b)
    err = F.sigmoid(X @ w + b) - y
    np.testing.assert_allclose(dw, X.T @ err / 3, rtol=1e-12)
    np.testing.assert_allclose(db, err.mean(), rtol=1e-12)
    assert dw.shape == (2,) and np.shape(db) == ()


def test_logistic_gradient_at_zero_is_half_minus_labels(rng):
    X, y, _, _ = problem(rng, 9, 4)
    dw, db = P.logistic_gradient(X, y, np.zeros(4), 0.0)
    np.testing.assert_allclose(dw, X.T @ (0.5 - y) / 9, rtol=1e-12)
    np.testing.assert_allclose(db, np.mean(0.5 - y), rtol=1e-12)


@pytest.mark.parametrize("n,d", [(1, 1), (6, 3), (3, 6)])
def test_logistic_gradient_central_differences(n, d, rng):
    X, y, w, b = problem(rng, n, d)
    dw, db = P.logistic_gradient(X, y, w, b)

    def loss_w(v):
        return F.binary_cross_entropy(X @ v + b, y.astype(float))[0]

    def loss_b(v):
        return F.binary_cross_entropy(X @ w + v[0], y.astype(float))[0]

    check_gradient(loss_w, w.copy(), dw, name="dw")
    check_gradient(loss_b, np.array([b]), np.reshape(db, (1,)), name="db")
    check_directional(loss_w, w.copy(), dw, rng=rng, name="dw")


def test_logistic_gradient_is_finite_when_saturated(rng):
    X, y, w, b = problem(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dw, db = P.logistic_gradient(X, y, 1e4 * w, 1e4 * b)
    assert np.all(np.isfinite(dw)) and np.isfinite(db)


def test_fit_reduces_the_loss_from_log_two():
    X, y = make_blobs(100, rng=np.random.default_rng(3), std=1.3, spread=2.0)
    w, b, losses = P.logistic_regression_fit(X, y, lr=0.5, steps=100)
    assert losses.shape == (100,) and losses.dtype == np.float64
    assert losses[0] == pytest.approx(np.log(2))
    assert np.all(np.diff(losses) <= 1e-12)  # convex and smooth: small steps never go up
    assert np.mean((F.sigmoid(X @ w + b) >= 0.5) == y) > 0.9


def test_fit_takes_plain_gradient_steps(rng):
    X, y, _, _ = problem(rng, 10, 2)
    w, b, losses = P.logistic_regression_fit(X, y, lr=0.3, steps=2)
    w1 = -0.3 * P.logistic_gradient(X, y, np.zeros(2), 0.0)[0]
    b1 = -0.3 * P.logistic_gradient(X, y, np.zeros(2), 0.0)[1]
    dw, db = P.logistic_gradient(X, y, w1, b1)
    np.testing.assert_allclose(w, w1 - 0.3 * dw, rtol=1e-12)
    np.testing.assert_allclose(b, b1 - 0.3 * db, rtol=1e-12)
    expected = F.binary_cross_entropy(X @ w1 + b1, y.astype(float))[0]
    assert losses[1] == pytest.approx(float(expected), rel=1e-12)


def test_fit_with_zero_steps_returns_the_start():
    X, y = logic_gate("or")
    w, b, losses = P.logistic_regression_fit(X, y, lr=1.0, steps=0, w0=np.ones(2), b0=-1.0)
    np.testing.assert_array_equal(w, [1.0, 1.0])
    assert b == -1.0 and losses.shape == (0,)


# -- torch: same function, same kind out ------------------------------------------------------


def test_torch_inputs_return_tensors(torch, device, rng):
    X_np, y_np, w_np, b = problem(rng, 8, 3)
    X = torch.tensor(X_np, device=device)
    w = torch.tensor(w_np, device=device)
    y = torch.tensor(y_np, device=device)

    labels = P.perceptron_predict(X, w, b)
    assert isinstance(labels, torch.Tensor) and labels.device == X.device
    assert labels.dtype == torch.int64
    np.testing.assert_array_equal(labels.cpu().numpy(), P.perceptron_predict(X_np, w_np, b))

    w_new, b_new = P.perceptron_update(X[0], y[0], w, b, 0.5)
    w_ref, b_ref = P.perceptron_update(X_np[0], int(y_np[0]), w_np, b, 0.5)
    assert isinstance(w_new, torch.Tensor) and w_new.device == X.device
    np.testing.assert_allclose(w_new.cpu().numpy(), w_ref)
    assert float(b_new) == pytest.approx(b_ref)

    dw, db = P.logistic_gradient(X, y, w, b)
    dw_ref, db_ref = P.logistic_gradient(X_np, y_np, w_np, b)
    assert isinstance(dw, torch.Tensor) and dw.device == X.device and dw.dtype == X.dtype
    np.testing.assert_allclose(dw.cpu().numpy(), dw_ref, rtol=1e-12)
    np.testing.assert_allclose(float(db), db_ref, rtol=1e-12)

    w_fit, b_fit, losses = P.logistic_regression_fit(X, y, lr=0.5, steps=5)
    w_fit_ref, _, losses_ref = P.logistic_regression_fit(X_np, y_np, lr=0.5, steps=5)
    assert isinstance(w_fit, torch.Tensor) and w_fit.device == X.device
    np.testing.assert_allclose(w_fit.cpu().numpy(), w_fit_ref, rtol=1e-10)
    np.testing.assert_allclose(losses, losses_ref, rtol=1e-10)

    history = P.perceptron_train(X, y, epochs=1, rng=np.random.default_rng(0))
    assert len(history) == 9 and isinstance(history[-1][0], torch.Tensor)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logistic_gradient_matches_autograd(dtype, torch, device, rng):
    X_np, y_np, w_np, b_np = problem(rng, 11, 4)
    tdtype = getattr(torch, dtype)
    X = torch.tensor(X_np, dtype=tdtype, device=device)
    y = torch.tensor(y_np, dtype=tdtype, device=device)
    w = torch.tensor(w_np, dtype=tdtype, device=device, requires_grad=True)
    b = torch.tensor(b_np, dtype=tdtype, device=device, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(X @ w + b, y)
    loss.backward()
    dw, db = P.logistic_gradient(X, y, w.detach(), b.detach())
    assert dw.dtype == tdtype and tuple(dw.shape) == (4,) and tuple(db.shape) == ()
    tol = {"float32": 1e-5, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(dw.cpu().numpy(), w.grad.cpu().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(float(db), float(b.grad), rtol=tol, atol=tol)


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.ones((3, 2)), np.ones(3), 0.0), r"w .*D=2"),
        ((np.ones((3, 2, 1)), np.ones(2), 0.0), r"X must be 2-D"),
        ((np.ones((3, 2)), np.ones((2, 1)), 0.0), r"w must be 1-D"),
        ((np.ones((3, 2)), np.ones(2), np.ones(2)), r"b must be a scalar"),
    ],
)
def test_predict_rejects_bad_shapes(args, match):
    with pytest.raises(ValueError, match=match):
        P.perceptron_predict(*args)


def test_predict_rejects_integer_inputs():
    with pytest.raises(TypeError, match=r"X must hold floating-point numbers"):
        P.perceptron_predict(np.ones((2, 2), dtype=int), np.ones(2), 0.0)


def test_update_rejects_a_batch_and_bad_labels_and_rates():
    w = np.ones(2)
    with pytest.raises(ValueError, match=r"x must be ONE example.*\(1, 2\)"):
        P.perceptron_update(np.ones((1, 2)), 1, w, 0.0)
    with pytest.raises(ValueError, match=r"y must be 0 or 1; got -1"):
        P.perceptron_update(np.ones(2), -1, w, 0.0)
    with pytest.raises(TypeError, match=r"y must be an integer label"):
        P.perceptron_update(np.ones(2), 1.0, w, 0.0)
    with pytest.raises(ValueError, match=r"lr must be a positive"):
        P.perceptron_update(np.ones(2), 1, w, 0.0, lr=0.0)
    with pytest.raises(ValueError, match=r"w .*D=2"):
        P.perceptron_update(np.ones(2), 1, np.ones(3), 0.0)


def test_train_rejects_bad_labels_and_rng():
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 2\)"):
        P.perceptron_train(X, np.array([0, 1, 2]), epochs=1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"y must have shape \(N,\).*got shape \(2,\)"):
        P.perceptron_train(X, np.array([0, 1]), epochs=1, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        P.perceptron_train(X, np.array([0, 1, 1]), epochs=1, rng=0)
    with pytest.raises(ValueError, match=r"epochs must be an int >= 0"):
        P.perceptron_train(X, np.array([0, 1, 1]), epochs=-1, rng=np.random.default_rng(0))


def test_logistic_rejects_bad_targets_and_shapes():
    X, w = np.ones((3, 2)), np.zeros(2)
    with pytest.raises(ValueError, match=r"y must hold targets in \[0, 1\]"):
        P.logistic_gradient(X, np.array([0.0, 2.0, 1.0]), w, 0.0)
    with pytest.raises(ValueError, match=r"y .*\(N,\).*\(4,\)"):
        P.logistic_gradient(X, np.zeros(4), w, 0.0)
    with pytest.raises(ValueError, match=r"X has no rows"):
        P.logistic_gradient(np.ones((0, 2)), np.zeros(0), w, 0.0)
    with pytest.raises(ValueError, match=r"steps must be an int >= 0"):
        P.logistic_regression_fit(X, np.zeros(3), lr=0.1, steps=1.5)
    with pytest.raises(ValueError, match=r"lr must be a positive finite number"):
        P.logistic_regression_fit(X, np.zeros(3), lr=float("nan"), steps=3)


def test_mixing_numpy_and_torch_is_an_error(torch):
    with pytest.raises(TypeError, match=r"mix NumPy arrays and torch tensors"):
        P.perceptron_predict(torch.ones(3, 2, dtype=torch.float64), np.ones(2), 0.0)
