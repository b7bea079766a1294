"""dlkit.functional.losses: cross-entropies (softmax, binary, categorical) and regression losses."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dlkit.functional as F
from dlkit.testing import check_directional, check_gradient

from ._reference import expect_like, expect_numpy


def classification(rng, n=5, c=4):
    return 2.0 * rng.standard_normal((n, c)), rng.integers(0, c, n)


def binary(rng, n=6):
    return 2.0 * rng.standard_normal(n), rng.integers(0, 2, n).astype(np.float64)


def check_both_ways(f, x, grad, rng):
    check_gradient(f, x, grad)
    check_directional(f, x, grad, rng=rng)


# -- gradients, float64 -----------------------------------------------------------------


def test_softmax_cross_entropy_gradient(rng):
    logits, y = classification(rng)
    _, dlogits = F.softmax_cross_entropy(logits, y)
    check_both_ways(lambda z: F.softmax_cross_entropy(z, y)[0], logits, dlogits, rng)


def test_bce_from_logits_gradient(rng):
    z, y = binary(rng)
    y[0] = 0.3  # soft targets are allowed
    _, dz = F.binary_cross_entropy(z, y)
    check_both_ways(lambda s: F.binary_cross_entropy(s, y)[0], z, dz, rng)


def test_bce_from_probabilities_gradient(rng):
    p, y = rng.uniform(0.05, 0.95, 6), binary(rng)[1]
    _, dp = F.binary_cross_entropy(p, y, from_logits=False)
    check_both_ways(lambda q: F.binary_cross_entropy(q, y, from_logits=False)[0], p, dp, rng)


# -- parity with torch ------------------------------------------------------------------


@pytest.mark.parametrize("loss_fn", ["softmax_cross_entropy", "sparse_categorical_cross_entropy"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_cross_entropy_matches_torch(loss_fn, dtype, device, torch, rng):
    logits_np, y_np = classification(rng, 7, 5)
    logits = torch.tensor(logits_np, dtype=getattr(torch, dtype), device=device)
    y = torch.tensor(y_np, device=device)
    leaf = logits.clone().requires_grad_(True)
    ref = torch.nn.functional.cross_entropy(leaf, y)
    ref.backward()

    loss, dlogits = getattr(F, loss_fn)(logits, y)
    expect_like(loss, ref)
    expect_like(dlogits, leaf.grad)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("from_logits", [True, False], ids=["logits", "probabilities"])
def test_binary_cross_entropy_matches_torch(from_logits, dtype, device, torch, rng):
    scores_np = 2.0 * rng.standard_normal(8) if from_logits else rng.uniform(0.05, 0.95, 8)
    y_np = rng.integers(0, 2, 8).astype(float)
    y_np[0] = 0.25
    tdtype = getattr(torch, dtype)
    scores = torch.tensor(scores_np, dtype=tdtype, device=device)
    y = torch.tensor(y_np, dtype=tdtype, device=device)
    leaf = scores.clone().requires_grad_(True)
    reference = (
        torch.nn.functional.binary_cross_entropy_with_logits
        if from_logits
        else torch.nn.functional.binary_cross_entropy
    )
    ref = reference(leaf, y)
    ref.backward()

    loss, dscores = F.binary_cross_entropy(scores, y, from_logits=from_logits)
    expect_like(loss, ref)
    expect_like(dscores, leaf.grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_inputs_give_numpy_outputs_of_the_same_dtype(dtype, rng):
    logits, y = classification(rng)
    loss, dlogits = F.softmax_cross_entropy(logits.astype(dtype), y)
    expect_numpy(loss, (), dtype)
    expect_numpy(dlogits, (5, 4), dtype)
    z, t = binary(rng)
    for from_logits, scores in ((True, z), (False, 1 / (1 + np.exp(-z)))):
        loss, dscores = F.binary_cross_entropy(
            scores.astype(dtype), t.astype(dtype), from_logits=from_logits
        )
        expect_numpy(loss, (), dtype)
        expect_numpy(dscores, (6,), dtype)


def test_labels_may_be_int32_or_a_list(rng):
    logits, y = classification(rng)
    loss, dlogits = F.softmax_cross_entropy(logits, y)
    for labels in (y.astype(np.int32), y.astype(np.uint8), y.tolist()):
        loss2, dlogits2 = F.softmax_cross_entropy(logits, labels)
        np.testing.assert_array_equal(loss2, loss)
        np.testing.assert_array_equal(dlogits2, dlogits)


# -- properties -------------------------------------------------------------------------

logit_matrices = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
    elements=st.floats(-30, 30),
)


@given(logits=logit_matrices, data=st.data())
def test_softmax_cross_entropy_properties(logits, data):
    n, c = logits.shape
    y = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)))
    loss, dlogits = F.softmax_cross_entropy(logits, y)
    expect_numpy(loss, (), np.float64)
    expect_numpy(dlogits, (n, c), np.float64)
    assert loss >= 0
    # each row of the gradient is (p - onehot) / N: it sums to 0, only the label entry is < 0
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-12)
    assert np.all(dlogits[np.arange(n), y] <= 0)
    # the mean, not the sum, over the batch: one example at a time gives the same average
    singles = [F.softmax_cross_entropy(logits[i : i + 1], y[i : i + 1])[0] for i in range(n)]
    np.testing.assert_allclose(loss, np.mean(singles), rtol=1e-12, atol=1e-12)
    loss2, dlogits2 = F.softmax_cross_entropy(np.tile(logits, (2, 1)), np.tile(y, 2))
    np.testing.assert_allclose(loss2, loss, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dlogits2[:n], dlogits / 2, rtol=1e-12, atol=1e-15)


@given(
    z=hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-30, 30)),
    data=st.data(),
)
def test_bce_properties(z, data):
    y = data.draw(hnp.arrays(np.float64, z.shape, elements=st.sampled_from([0.0, 1.0])))
    loss, dz = F.binary_cross_entropy(z, y)
    expect_numpy(loss, (), np.float64)
    expect_numpy(dz, z.shape, np.float64)
    assert loss >= 0
    # the gradient always pushes the score towards the label
    assert np.all(np.sign(dz) * (2 * y - 1) <= 0)
    # probabilities give the same loss where sigmoid(z) is not clipped
    p = 1 / (1 + np.exp(-np.clip(z, -20, 20)))
    loss_p, _ = F.binary_cross_entropy(p, y, from_logits=False)
    np.testing.assert_allclose(loss_p, F.binary_cross_entropy(np.clip(z, -20, 20), y)[0], rtol=1e-6)


def test_one_class_costs_nothing():
    loss, dlogits = F.softmax_cross_entropy(np.array([[3.0], [-2.0]]), np.array([0, 0]))
    assert loss == 0.0 and not dlogits.any()


# -- stability --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_is_exact_for_huge_logits(dtype):
    logits = np.array([[1e4, -1e4], [1e4, -1e4], [0.0, 0.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dlogits = F.softmax_cross_entropy(logits, np.array([0, 1, 0]))
    # per example: 0, 2e4 and log 2; gradients (p - onehot) / 3
    np.testing.assert_allclose(loss, (2e4 + np.log(2)) / 3, rtol=1e-6)
    np.testing.assert_allclose(
        dlogits, np.array([[0, 0], [1, -1], [-0.5, 0.5]]) / 3, rtol=1e-6, atol=1e-12
    )


def test_softmax_cross_entropy_is_exact_for_huge_logits_in_torch(device, torch):
    logits = torch.tensor([[1e4, -1e4]], device=device)
    loss, dlogits = F.softmax_cross_entropy(logits, torch.tensor([1], device=device))
    expect_like(loss, torch.tensor(2e4, device=device))
    expect_like(dlogits, torch.tensor([[1.0, -1.0]], device=device))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_from_huge_logits_is_exact(dtype):
    z = np.array([1e4, 1e4, -1e4, -1e4], dtype=dtype)
    y = np.array([1.0, 0.0, 1.0, 0.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dz = F.binary_cross_entropy(z, y)
    np.testing.assert_allclose(loss, 2e4 / 4, rtol=1e-6)
    np.testing.assert_array_equal(dz, np.array([0, 1, -1, 0], dtype=dtype) / 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_from_probabilities_of_exactly_0_and_1_stays_finite(dtype):
    p = np.array([1.0, 0.0, 1.0, 0.0], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dp = F.binary_cross_entropy(p, y, from_logits=False)
    assert np.isfinite(loss) and np.all(np.isfinite(dp))
    # right and sure costs ~0; wrong and sure costs a lot (-log eps)
    right, _ = F.binary_cross_entropy(p[:2], y[:2], from_logits=False)
    wrong, _ = F.binary_cross_entropy(p[2:], y[2:], from_logits=False)
    assert right < 1e-5 and wrong > 10


# -- bad input --------------------------------------------------------------------------


def test_softmax_cross_entropy_wrong_rank_and_shapes():
    with pytest.raises(ValueError, match=r"logits must be 2-D with shape \(N, C\); got 1-D"):
        F.softmax_cross_entropy(np.ones(3), np.array([0]))
    with pytest.raises(
        ValueError, match=r"y must have shape \(N,\) with size 4 .*got shape \(3,\)"
    ):
        F.softmax_cross_entropy(np.ones((4, 3)), np.array([0, 1, 2]))
    with pytest.raises(
        ValueError, match=r"y must be 1-D with shape \(N,\); got 2-D shape \(4, 1\)"
    ):
        F.softmax_cross_entropy(np.ones((4, 3)), np.zeros((4, 1), dtype=int))


def test_softmax_cross_entropy_dtypes():
    with pytest.raises(TypeError, match=r"y must hold integer class labels; got dtype float64"):
        F.softmax_cross_entropy(np.ones((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match=r"logits must hold floating-point numbers; got dtype int"):
        F.softmax_cross_entropy(np.ones((2, 3), dtype=int), np.array([0, 1]))


@pytest.mark.parametrize("labels", [[0, 3], [-1, 0]])
def test_softmax_cross_entropy_labels_out_of_range(labels):
    lo, hi = min(labels), max(labels)
    with pytest.raises(
        ValueError, match=rf"y must hold labels in \[0, 3\); got values from {lo} to {hi}"
    ):
        F.softmax_cross_entropy(np.ones((2, 3)), np.array(labels))


def test_empty_batches_are_refused():
    with pytest.raises(ValueError, match=r"logits is empty"):
        F.softmax_cross_entropy(np.ones((0, 3)), np.array([], dtype=int))
    with pytest.raises(ValueError, match=r"scores is empty"):
        F.binary_cross_entropy(np.ones(0), np.ones(0))


def test_bce_shapes_and_dtypes():
    with pytest.raises(ValueError, match=r"scores must be 1-D with shape \(N,\); got 2-D"):
        F.binary_cross_entropy(np.ones((3, 1)), np.ones(3))
    with pytest.raises(ValueError, match=r"y has shape \(4,\).*must match N=3"):
        F.binary_cross_entropy(np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match=r"y must hold floating-point numbers; got dtype int64"):
        F.binary_cross_entropy(np.ones(3), np.ones(3, dtype=np.int64))


def test_bce_probabilities_outside_0_1_are_refused():
    with pytest.raises(ValueError, match=r"scores must be probabilities in \[0, 1\].*from_logits"):
        F.binary_cross_entropy(np.array([0.5, 1.5]), np.ones(2), from_logits=False)


def test_numpy_torch_mix_is_refused(torch):
    with pytest.raises(TypeError, match=r"mix NumPy arrays and torch tensors"):
        F.softmax_cross_entropy(torch.ones(2, 3), np.array([0, 1]))
    with pytest.raises(TypeError, match=r"mix NumPy arrays and torch tensors"):
        F.binary_cross_entropy(np.ones(2), torch.ones(2, dtype=torch.float64))


def test_labels_on_another_device_are_refused(torch):
    with pytest.raises(ValueError, match=r"one device; got logits on meta, y on cpu"):
        F.softmax_cross_entropy(torch.ones(2, 3, device="meta"), torch.zeros(2, dtype=torch.long))


# -- regression losses: MSE, MAE, Huber --------------------------------------------------

REGRESSION = {
    "mse": (F.mse_loss, "mse_loss"),
    "mae": (F.mae_loss, "l1_loss"),
    "huber": (F.huber_loss, "huber_loss"),
}


def regression(rng, shape=(4, 3)):
    pred = rng.standard_normal(shape)
    target = pred + 2.0 * rng.standard_normal(shape)  # errors on both sides of delta = 1
    return pred, target


@pytest.mark.parametrize("name", sorted(REGRESSION))
def test_regression_loss_gradients(name, rng):
    f = REGRESSION[name][0]
    pred, target = regression(rng)
    _, dpred = f(pred, target)
    check_both_ways(lambda p: f(p, target)[0], pred, dpred, rng)


@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
def test_huber_gradient_for_other_deltas(delta, rng):
    pred, target = regression(rng, (7,))
    _, dpred = F.huber_loss(pred, target, delta=delta)
    check_both_ways(lambda p: F.huber_loss(p, target, delta=delta)[0], pred, dpred, rng)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(6,), (4, 3), (2, 3, 2)], ids=str)
@pytest.mark.parametrize("name", sorted(REGRESSION))
def test_regression_losses_match_torch(name, shape, dtype, device, torch, rng):
    f, torch_name = REGRESSION[name]
    pred_np, target_np = regression(rng, shape)
    target_np.flat[0] = pred_np.flat[0]  # an exact tie: MAE's subgradient there is 0
    tdtype = getattr(torch, dtype)
    pred = torch.tensor(pred_np, dtype=tdtype, device=device)
    target = torch.tensor(target_np, dtype=tdtype, device=device)
    leaf = pred.clone().requires_grad_(True)
    ref = getattr(torch.nn.functional, torch_name)(leaf, target)
    ref.backward()

    loss, dpred = f(pred, target)
    expect_like(loss, ref)
    expect_like(dpred, leaf.grad)


@pytest.mark.parametrize("delta", [0.5, 2.0])
def test_huber_delta_matches_torch(delta, torch, rng):
    pred_np, target_np = regression(rng, (10,))
    pred = torch.tensor(pred_np)
    leaf = pred.clone().requires_grad_(True)
    ref = torch.nn.functional.huber_loss(leaf, torch.tensor(target_np), delta=delta)
    ref.backward()
    loss, dpred = F.huber_loss(pred, torch.tensor(target_np), delta=delta)
    expect_like(loss, ref)
    expect_like(dpred, leaf.grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(REGRESSION))
def test_regression_losses_keep_numpy_and_dtype(name, dtype, rng):
    pred, target = regression(rng)
    loss, dpred = REGRESSION[name][0](pred.astype(dtype), target.astype(dtype))
    expect_numpy(loss, (), dtype)
    expect_numpy(dpred, (4, 3), dtype)


def test_mae_subgradient_is_zero_at_equality():
    loss, dpred = F.mae_loss(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0]))
    np.testing.assert_allclose(loss, 4.0 / 3)
    np.testing.assert_array_equal(dpred, np.array([0.0, 1.0, -1.0]) / 3)


def test_huber_is_half_mse_inside_delta_and_shifted_mae_outside():
    pred = np.array([0.0, 0.0, 0.0, 0.0])
    target = np.array([0.5, -1.0, 3.0, -10.0])
    loss, dpred = F.huber_loss(pred, target, delta=1.0)
    per = [0.125, 0.5, 2.5, 9.5]
    np.testing.assert_allclose(loss, np.mean(per))
    np.testing.assert_allclose(dpred, np.array([-0.5, 1.0, -1.0, 1.0]) / 4)


def test_an_outlier_dominates_mse_but_not_mae_or_huber():
    target = np.zeros(100)
    pred = np.full(100, 0.1)
    pred[0] = 100.0  # one wild prediction
    _, d_mse = F.mse_loss(pred, target)
    _, d_mae = F.mae_loss(pred, target)
    _, d_huber = F.huber_loss(pred, target)
    assert d_mse[0] / d_mse[1] == pytest.approx(1000.0)
    assert d_mae[0] == d_mae[1]
    assert d_huber[0] / d_huber[1] == pytest.approx(10.0)


@given(
    pred=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
        elements=st.floats(-50, 50),
    ),
    data=st.data(),
    delta=st.floats(0.1, 5.0),
)
def test_regression_loss_properties(pred, data, delta):
    target = data.draw(hnp.arrays(np.float64, pred.shape, elements=st.floats(-50, 50)))
    for f in (F.mse_loss, F.mae_loss, lambda p, t: F.huber_loss(p, t, delta=delta)):
        loss, dpred = f(pred, target)
        expect_numpy(dpred, pred.shape, np.float64)
        assert loss >= 0
        assert f(target, target)[0] == 0
        # the gradient points away from the target: a step against it reduces every error
        assert np.all(dpred * (pred - target) >= 0)
    # Huber sits between delta * MAE - delta^2 / 2 and MSE / 2
    huber = F.huber_loss(pred, target, delta=delta)[0]
    assert huber <= F.mse_loss(pred, target)[0] / 2 + 1e-9
    assert huber >= delta * F.mae_loss(pred, target)[0] - delta**2 / 2 - 1e-9


def test_regression_losses_bad_input():
    with pytest.raises(
        ValueError, match=r"target must have the same shape as pred \(3,\); got shape \(3, 1\)"
    ):
        F.mse_loss(np.ones(3), np.ones((3, 1)))
    with pytest.raises(TypeError, match=r"pred must hold floating-point numbers; got dtype int"):
        F.mae_loss(np.ones(3, dtype=int), np.ones(3))
    with pytest.raises(TypeError, match=r"target must hold floating-point numbers"):
        F.huber_loss(np.ones(3), np.ones(3, dtype=np.int32))
    with pytest.raises(ValueError, match=r"pred is empty"):
        F.mse_loss(np.ones((0, 2)), np.ones((0, 2)))
    for delta in (0.0, -1.0, True, "1"):
        with pytest.raises(ValueError, match=r"delta must be a positive number"):
            F.huber_loss(np.ones(3), np.ones(3), delta=delta)


def test_regression_losses_refuse_mixed_kinds(torch):
    with pytest.raises(TypeError, match=r"mix NumPy arrays and torch tensors"):
        F.mse_loss(torch.ones(3, dtype=torch.float64), np.ones(3))


# -- categorical and sparse categorical cross-entropy ------------------------------------


def soft_targets(rng, n=5, c=4):
    t = rng.uniform(0, 1, (n, c)) ** 3
    return t / t.sum(axis=1, keepdims=True)


def test_categorical_cross_entropy_gradient(rng):
    logits, _ = classification(rng)
    targets = soft_targets(rng)
    _, dlogits = F.categorical_cross_entropy(logits, targets)
    check_both_ways(lambda z: F.categorical_cross_entropy(z, targets)[0], logits, dlogits, rng)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_categorical_cross_entropy_matches_torch_with_soft_targets(dtype, device, torch, rng):
    logits_np, _ = classification(rng, 6, 3)
    tdtype = getattr(torch, dtype)
    logits = torch.tensor(logits_np, dtype=tdtype, device=device)
    targets = torch.tensor(soft_targets(rng, 6, 3), dtype=tdtype, device=device)
    leaf = logits.clone().requires_grad_(True)
    ref = torch.nn.functional.cross_entropy(leaf, targets)
    ref.backward()
    loss, dlogits = F.categorical_cross_entropy(logits, targets)
    expect_like(loss, ref)
    expect_like(dlogits, leaf.grad)


def test_one_hot_categorical_equals_sparse(rng):
    logits, y = classification(rng, 8, 5)
    one_hot = np.eye(5)[y]
    loss_c, d_c = F.categorical_cross_entropy(logits, one_hot)
    loss_s, d_s = F.sparse_categorical_cross_entropy(logits, y)
    np.testing.assert_allclose(loss_c, loss_s, rtol=1e-13)
    np.testing.assert_allclose(d_c, d_s, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_categorical_cross_entropy_is_exact_for_huge_logits(dtype):
    logits = np.array([[1e4, -1e4], [1e4, -1e4], [-1e4, 1e4]], dtype=dtype)
    targets = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dlogits = F.categorical_cross_entropy(logits, targets)
        loss_s, _ = F.sparse_categorical_cross_entropy(logits[:2], np.array([0, 1]))
    expect_numpy(loss, (), dtype)
    np.testing.assert_allclose(loss, (0 + 2e4 + 1e4) / 3, rtol=1e-6)
    np.testing.assert_allclose(
        dlogits, np.array([[0, 0], [1, -1], [-0.5, 0.5]]) / 3, rtol=1e-6, atol=1e-12
    )
    np.testing.assert_allclose(loss_s, 1e4, rtol=1e-6)


def test_categorical_cross_entropy_bad_input():
    with pytest.raises(ValueError, match=r"targets has shape \(2, 4\).*must match C=3"):
        F.categorical_cross_entropy(np.ones((2, 3)), np.full((2, 4), 0.25))
    with pytest.raises(
        ValueError, match=r"targets must have rows that sum to 1.*sparse_categorical"
    ):
        F.categorical_cross_entropy(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"targets must be probabilities \(>= 0\)"):
        F.categorical_cross_entropy(np.ones((1, 2)), np.array([[2.0, -1.0]]))
    with pytest.raises(TypeError, match=r"targets must hold floating-point numbers"):
        F.categorical_cross_entropy(np.ones((2, 3)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"logits is empty"):
        F.categorical_cross_entropy(np.ones((0, 3)), np.ones((0, 3)))
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 3\)"):
        F.sparse_categorical_cross_entropy(np.ones((2, 3)), np.array([0, 3]))
