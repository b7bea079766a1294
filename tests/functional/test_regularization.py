"""dlkit.functional.regularization: penalties, dropout, gradients, torch parity, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dlkit.functional as F
from dlkit.testing import check_gradient, check_layer_gradients

from ._reference import expect_like, expect_numpy

PENALTIES = {"l1": F.l1_penalty, "l2": F.l2_penalty}


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """|w| >= 0.1, so the kink of |w| at 0 does not spoil finite differences."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 2.0, size=shape)


# -- penalty values and gradients -----------------------------------------------------------


def test_l2_penalty_value_and_gradient_by_hand():
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    penalty, dw = F.l2_penalty(w, 0.1)
    assert float(penalty) == pytest.approx(0.5 * 0.1 * (1 + 4 + 0.25))
    np.testing.assert_allclose(dw, 0.1 * w)


def test_l1_penalty_value_and_subgradient_by_hand():
    w = np.array([1.5, -2.0, 0.0, 0.25])
    penalty, dw = F.l1_penalty(w, 0.3)
    assert float(penalty) == pytest.approx(0.3 * 3.75)
    np.testing.assert_allclose(dw, [0.3, -0.3, 0.0, 0.3])  # subgradient 0 at exactly 0


@pytest.mark.parametrize("name", PENALTIES)
def test_penalty_gradient_matches_central_differences(name, rng):
    fn = PENALTIES[name]
    w = away_from_zero(rng, (4, 3))
    _, dw = fn(w, 0.7)
    check_gradient(lambda v: fn(v, 0.7)[0], w.copy(), dw)


@pytest.mark.parametrize("name", PENALTIES)
def test_penalty_of_a_list_is_the_total_and_gradients_are_a_list(name, rng):
    fn = PENALTIES[name]
    ws = [away_from_zero(rng, (3, 2)), away_from_zero(rng, (2,)), away_from_zero(rng, (2, 2, 2))]
    total, grads = fn(ws, 0.05)
    assert isinstance(grads, list) and len(grads) == 3
    assert float(total) == pytest.approx(sum(float(fn(w, 0.05)[0]) for w in ws))
    for w, g in zip(ws, grads, strict=True):
        np.testing.assert_allclose(g, fn(w, 0.05)[1])
    total_t, grads_t = fn(tuple(ws), 0.05)  # a tuple works the same
    assert float(total_t) == pytest.approx(float(total)) and isinstance(grads_t, list)


@pytest.mark.parametrize("name", PENALTIES)
def test_zero_strength_is_no_penalty(name, rng):
    penalty, dw = PENALTIES[name](rng.standard_normal((3, 3)), 0.0)
    assert float(penalty) == 0.0 and not np.any(dw)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", PENALTIES)
def test_penalty_keeps_numpy_dtype(name, dtype, rng):
    w = rng.standard_normal((2, 5)).astype(dtype)
    penalty, dw = PENALTIES[name](w, 0.5)
    expect_numpy(np.asarray(penalty), (), dtype)
    expect_numpy(dw, w.shape, dtype)


@given(
    w=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3), elements=st.floats(-9, 9)),
    lam=st.floats(0, 10),
)
def test_penalties_match_their_formulas_for_any_shape(w, lam):
    p2, d2 = F.l2_penalty(w, lam)
    p1, d1 = F.l1_penalty(w, lam)
    np.testing.assert_allclose(p2, 0.5 * lam * np.sum(w**2), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p1, lam * np.sum(np.abs(w)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d2, lam * w, rtol=1e-12, atol=0)
    np.testing.assert_allclose(d1, lam * np.sign(w), rtol=1e-12, atol=0)
    assert float(p1) >= 0 and float(p2) >= 0


# -- torch parity ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", PENALTIES)
def test_penalty_gradient_matches_torch_autograd(name, dtype, device, torch, rng):
    w_np = away_from_zero(rng, (5, 4))
    w = torch.tensor(w_np, dtype=getattr(torch, dtype), device=device)
    ref_w = w.clone().requires_grad_(True)
    lam = 0.3
    ref = lam * ref_w.abs().sum() if name == "l1" else 0.5 * lam * (ref_w**2).sum()
    ref.backward()
    penalty, dw = PENALTIES[name](w, lam)
    expect_like(penalty, ref.detach())
    expect_like(dw, ref_w.grad)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sgd_step_with_l2_gradient_equals_torch_weight_decay(dtype, device, torch, rng):
    # the documented identity: SGD on loss + l2_penalty(w, lam) == SGD(weight_decay=lam)
    lam, lr = 0.05, 0.1
    w0 = torch.tensor(rng.standard_normal((4, 3)), dtype=getattr(torch, dtype), device=device)
    x = torch.tensor(rng.standard_normal((8, 4)), dtype=getattr(torch, dtype), device=device)

    decayed = w0.clone().requires_grad_(True)
    opt = torch.optim.SGD([decayed], lr=lr, weight_decay=lam)
    for _ in range(3):
        opt.zero_grad()
        ((x @ decayed) ** 2).mean().backward()
        opt.step()

    ours = w0.clone().requires_grad_(True)
    for _ in range(3):
        ours.grad = None
        ((x @ ours) ** 2).mean().backward()
        with torch.no_grad():
            _, dw = F.l2_penalty(ours.detach(), lam)
            ours -= lr * (ours.grad + dw)
    expect_like(ours.detach(), decayed.detach())


def test_penalty_refuses_a_mix_of_numpy_and_torch(torch):
    with pytest.raises(TypeError, match="mix NumPy arrays and torch tensors"):
        F.l2_penalty([np.ones(2), torch.ones(2, dtype=torch.float64)], 0.1)


# -- dropout ----------------------------------------------------------------------------


def test_dropout_mask_follows_the_documented_draw(rng):
    x = rng.standard_normal((6, 7))
    out, mask = F.dropout_forward(x, 0.3, rng=np.random.default_rng(5))
    keep = np.random.default_rng(5).random(x.shape) >= 0.3
    np.testing.assert_allclose(out, np.where(keep, x / 0.7, 0.0))
    np.testing.assert_allclose(mask, keep / 0.7)


def test_dropout_same_seed_same_mask_and_the_generator_advances(rng):
    x = np.ones((20, 20))
    a, _ = F.dropout_forward(x, 0.5, rng=np.random.default_rng(1))
    b, _ = F.dropout_forward(x, 0.5, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    g = np.random.default_rng(1)
    first, _ = F.dropout_forward(x, 0.5, rng=g)
    second, _ = F.dropout_forward(x, 0.5, rng=g)
    assert not np.array_equal(first, second)  # a new mask on every call


@pytest.mark.parametrize("p_drop", [0.1, 0.5, 0.8])
def test_dropout_keeps_the_expected_value_and_drops_the_right_fraction(p_drop, rng):
    x = np.full((400, 500), 3.0)
    out, _ = F.dropout_forward(x, p_drop, rng=rng)
    n = x.size
    dropped = np.mean(out == 0)
    # 5 standard errors of a Bernoulli mean: fails by chance with probability < 1e-6
    assert abs(dropped - p_drop) < 5 * np.sqrt(p_drop * (1 - p_drop) / n)
    assert abs(out.mean() - 3.0) < 5 * 3.0 * np.sqrt(p_drop / (1 - p_drop) / n)
    np.testing.assert_allclose(np.unique(out), [0.0, 3.0 / (1 - p_drop)])


def test_dropout_backward_matches_finite_differences(rng):
    x = rng.standard_normal((5, 6))

    def forward(x):
        return F.dropout_forward(x, 0.4, rng=np.random.default_rng(3))  # one fixed mask

    check_layer_gradients(forward, F.dropout_backward, {"x": x}, rng=rng, elementwise=True)
    check_layer_gradients(forward, F.dropout_backward, {"x": x}, rng=rng, elementwise=False)


def test_dropout_is_the_identity_in_eval_mode_and_for_p_drop_zero(rng):
    x = rng.standard_normal((3, 4))
    state = rng.bit_generator.state
    for kwargs in ({"p_drop": 0.5, "training": False}, {"p_drop": 0.0}):
        out, cache = F.dropout_forward(x, rng=rng, **kwargs)
        np.testing.assert_array_equal(out, x)
        assert cache is None
        dout = rng.standard_normal(x.shape)
        np.testing.assert_array_equal(F.dropout_backward(dout, cache), dout)
    assert rng.bit_generator.state != state  # only the dout draws above used it
    g = np.random.default_rng(0)
    before = g.bit_generator.state
    F.dropout_forward(x, 0.5, rng=g, training=False)
    assert g.bit_generator.state == before  # the identity draws nothing


def test_dropout_p_drop_one_gives_zeros_without_nan(rng):
    x = rng.standard_normal((4, 4))
    with np.errstate(all="raise"):
        out, cache = F.dropout_forward(x, 1.0, rng=rng)
        dx = F.dropout_backward(np.ones_like(x), cache)
    assert not np.any(out) and not np.any(dx)


@pytest.mark.parametrize("shape", [(0,), (7,), (2, 3, 4, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_keeps_shape_and_dtype(shape, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    out, cache = F.dropout_forward(x, 0.25, rng=rng)
    expect_numpy(out, shape, dtype)
    expect_numpy(F.dropout_backward(np.ones_like(x), cache), shape, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_on_torch_uses_the_same_numpy_mask(dtype, device, torch, rng):
    x_np = rng.standard_normal((6, 5))
    x = torch.tensor(x_np, dtype=getattr(torch, dtype), device=device)
    out, cache = F.dropout_forward(x, 0.4, rng=np.random.default_rng(9))
    ref, _ = F.dropout_forward(x_np, 0.4, rng=np.random.default_rng(9))
    expect_like(out, torch.tensor(ref, dtype=x.dtype, device=device))
    dout = torch.ones_like(x)
    expect_like(
        F.dropout_backward(dout, cache),
        torch.tensor((ref != 0) / 0.6, dtype=x.dtype, device=device),
    )


def test_dropout_scaling_statistics_match_torch(device, torch, rng):
    # same law as torch.nn.functional.dropout: the same kept value, drop rate and mean
    x = torch.full((300, 400), 2.0, dtype=torch.float64, device=device)
    torch.manual_seed(0)
    ref = torch.nn.functional.dropout(x, p=0.3, training=True)
    out, _ = F.dropout_forward(x, 0.3, rng=rng)
    assert torch.allclose(out.max(), ref.max())  # kept units scaled by 1 / (1 - p) in both
    for t in (out, ref):
        assert abs(float((t == 0).double().mean()) - 0.3) < 0.005
        assert abs(float(t.mean()) - 2.0) < 0.02
    assert out.device == ref.device and out.dtype == ref.dtype


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PENALTIES)
@pytest.mark.parametrize(
    ("lam", "error", "match"),
    [
        (-0.1, ValueError, "lam must be a finite number >= 0; got -0.1"),
        (float("nan"), ValueError, "lam must be a finite number"),
        (float("inf"), ValueError, "lam must be a finite number"),
        ("0.1", TypeError, "lam must be a real number"),
        (True, TypeError, "lam must be a real number"),
    ],
)
def test_penalty_rejects_bad_strength(name, lam, error, match):
    with pytest.raises(error, match=match):
        PENALTIES[name](np.ones(3), lam)


@pytest.mark.parametrize("name", PENALTIES)
def test_penalty_rejects_bad_weights(name):
    with pytest.raises(TypeError, match="w must hold floating-point numbers; got dtype int"):
        PENALTIES[name](np.arange(3), 0.1)
    with pytest.raises(TypeError, match=r"w\[1\] must hold floating-point"):
        PENALTIES[name]([np.ones(2), np.arange(2)], 0.1)
    with pytest.raises(ValueError, match="w must hold at least one array"):
        PENALTIES[name]([], 0.1)
    with pytest.raises(TypeError, match="w must be a NumPy array or a torch tensor"):
        PENALTIES[name]("weights", 0.1)


@pytest.mark.parametrize(
    ("p_drop", "error", "match"),
    [
        (-0.1, ValueError, r"p_drop must be in \[0, 1\].*got -0.1"),
        (1.5, ValueError, r"p_drop must be in \[0, 1\].*got 1.5"),
        (float("nan"), ValueError, r"p_drop must be in \[0, 1\]"),
        ("0.5", TypeError, "p_drop must be a number"),
        (None, TypeError, "p_drop must be a number"),
    ],
)
def test_dropout_rejects_bad_p_drop(p_drop, error, match, rng):
    with pytest.raises(error, match=match):
        F.dropout_forward(np.ones(3), p_drop, rng=rng)


def test_dropout_rejects_bad_rng_training_and_cache(rng):
    with pytest.raises(TypeError, match="rng must be a np.random.Generator"):
        F.dropout_forward(np.ones(3), 0.5, rng=0)
    with pytest.raises(TypeError, match="rng must be a np.random.Generator"):
        F.dropout_forward(np.ones(3), 0.5, rng=np.random.RandomState(0))
    with pytest.raises(TypeError, match="training must be True or False"):
        F.dropout_forward(np.ones(3), 0.5, rng=rng, training="yes")
    with pytest.raises(TypeError, match="x must hold floating-point numbers"):
        F.dropout_forward(np.arange(3), 0.5, rng=rng)
    _, cache = F.dropout_forward(np.ones((2, 3)), 0.5, rng=rng)
    with pytest.raises(ValueError, match=r"dout must have the shape of the forward's x, \(2, 3\)"):
        F.dropout_backward(np.ones((3, 2)), cache)
    with pytest.raises(TypeError, match="cache must be the mask"):
        F.dropout_backward(np.ones((2, 3)), (cache, 0.5))
