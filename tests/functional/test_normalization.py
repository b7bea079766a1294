"""dlkit.functional normalization kernels: batch, layer, group, instance and weight norm."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dlkit.functional as F
from dlkit.testing import check_layer_gradients

from ._reference import expect_like, expect_numpy

BN_SHAPES = [(6, 4), (3, 2, 5), (4, 3, 3, 2)]


def bn_inputs(rng, shape, dtype=np.float64):
    c = shape[1]
    return {
        "x": (2.0 + 3.0 * rng.standard_normal(shape)).astype(dtype),
        "gamma": rng.uniform(0.5, 2.0, c).astype(dtype),
        "beta": rng.standard_normal(c).astype(dtype),
    }


def running(rng, c, dtype=np.float64):
    return rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 2.0, c).astype(dtype)


# -- gradients, float64 -----------------------------------------------------------------


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_backward_elementwise(rng, shape, training):
    mean, var = running(rng, shape[1])

    def forward(x, gamma, beta):  # fresh copies: the training step updates them in place
        return F.batchnorm_forward(x, gamma, beta, mean.copy(), var.copy(), training=training)

    check_layer_gradients(forward, F.batchnorm_backward, bn_inputs(rng, shape), rng=rng)


def test_batchnorm_backward_directional(rng):
    check_layer_gradients(
        F.batchnorm_forward,
        F.batchnorm_backward,
        bn_inputs(rng, (16, 8, 5, 5)),
        rng=rng,
        elementwise=False,
    )


@pytest.mark.parametrize(("shape", "norm_shape"), [((5, 4), (4,)), ((2, 3, 4), (4,)),
                                                   ((2, 3, 4), (3, 4))])  # fmt: skip
def test_layernorm_backward(rng, shape, norm_shape):
    inputs = {
        "x": 1.0 + 2.0 * rng.standard_normal(shape),
        "gamma": rng.uniform(0.5, 2.0, norm_shape),
        "beta": rng.standard_normal(norm_shape),
    }
    check_layer_gradients(F.layernorm_forward, F.layernorm_backward, inputs, rng=rng)
    check_layer_gradients(
        F.layernorm_forward, F.layernorm_backward, inputs, rng=rng, elementwise=False
    )


@pytest.mark.parametrize(("shape", "groups"), [((3, 6), 2), ((2, 4, 5), 4), ((2, 6, 3, 2), 3)])
def test_groupnorm_backward(rng, shape, groups):
    inputs = bn_inputs(rng, shape)

    def forward(x, gamma, beta):
        return F.groupnorm_forward(x, gamma, beta, groups)

    check_layer_gradients(forward, F.groupnorm_backward, inputs, rng=rng)
    check_layer_gradients(forward, F.groupnorm_backward, inputs, rng=rng, elementwise=False)


def test_instancenorm_backward_with_and_without_affine(rng):
    inputs = bn_inputs(rng, (2, 3, 3, 4))
    check_layer_gradients(F.instancenorm_forward, F.instancenorm_backward, inputs, rng=rng)

    def forward(x):
        return F.instancenorm_forward(x)

    def backward(dout, cache):
        dx, dgamma, dbeta = F.instancenorm_backward(dout, cache)
        assert dgamma is None and dbeta is None
        return dx

    check_layer_gradients(forward, backward, {"x": inputs["x"]}, rng=rng)


@pytest.mark.parametrize(("shape", "dim"), [((4, 3), 0), ((4, 3), 1), ((3, 2, 2, 2), 0),
                                            ((4, 3), None), ((4, 3), -1)])  # fmt: skip
def test_weightnorm_backward(rng, shape, dim):
    v = rng.standard_normal(shape)
    g_shape = (
        (1,) * len(shape)
        if dim is None
        else tuple(n if a == dim % len(shape) else 1 for a, n in enumerate(shape))
    )
    inputs = {"v": v, "g": rng.uniform(0.5, 2.0, g_shape)}

    def forward(v, g):
        return F.weightnorm_forward(v, g, dim=dim)

    check_layer_gradients(forward, F.weightnorm_backward, inputs, rng=rng)
    check_layer_gradients(forward, F.weightnorm_backward, inputs, rng=rng, elementwise=False)


# -- values and the running statistics ----------------------------------------------------


@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batchnorm_training_output_is_standardized_per_channel(rng, shape):
    inputs = bn_inputs(rng, shape)
    out, cache = F.batchnorm_forward(**inputs)
    expect_numpy(out, shape, np.float64)
    axes = (0, *range(2, len(shape)))
    xhat = cache[0]
    np.testing.assert_allclose(xhat.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(xhat.var(axis=axes), 1.0, rtol=1e-3)  # eps shrinks it a hair
    np.testing.assert_allclose(out.mean(axis=axes), inputs["beta"], atol=1e-12)


def test_batchnorm_running_stats_update_in_place_with_unbiased_variance(rng):
    inputs = bn_inputs(rng, (8, 3, 2, 2))
    mean0, var0 = running(rng, 3)
    rm, rv = mean0.copy(), var0.copy()
    F.batchnorm_forward(**inputs, running_mean=rm, running_var=rv, momentum=0.3)
    x = inputs["x"]
    batch_mean = x.mean(axis=(0, 2, 3))
    batch_var = x.var(axis=(0, 2, 3), ddof=1)  # unbiased: M = 32 values per channel
    np.testing.assert_allclose(rm, 0.7 * mean0 + 0.3 * batch_mean, rtol=1e-13)
    np.testing.assert_allclose(rv, 0.7 * var0 + 0.3 * batch_var, rtol=1e-13)


def test_batchnorm_eval_uses_running_stats_and_leaves_them_alone(rng):
    inputs = bn_inputs(rng, (5, 4))
    rm, rv = running(rng, 4)
    rm0, rv0 = rm.copy(), rv.copy()
    out, _ = F.batchnorm_forward(**inputs, running_mean=rm, running_var=rv, training=False)
    expected = inputs["gamma"] * (inputs["x"] - rm) / np.sqrt(rv + 1e-5) + inputs["beta"]
    np.testing.assert_allclose(out, expected, rtol=1e-13)
    assert np.array_equal(rm, rm0) and np.array_equal(rv, rv0)


def test_batchnorm_without_running_stats_uses_batch_stats(rng):
    inputs = bn_inputs(rng, (5, 4))
    out, _ = F.batchnorm_forward(**inputs)
    out_tracked, _ = F.batchnorm_forward(**inputs, running_mean=np.zeros(4), running_var=np.ones(4))
    np.testing.assert_allclose(out, out_tracked, rtol=1e-14)


def test_layernorm_normalizes_each_example(rng):
    x = 3.0 + rng.standard_normal((4, 3, 5))
    out, _ = F.layernorm_forward(x, np.ones((3, 5)), np.zeros((3, 5)))
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(1, 2)), 1.0, rtol=1e-3)


def test_groupnorm_extremes_are_layer_and_instance_norm(rng):
    inputs = bn_inputs(rng, (3, 4, 2, 2))
    gamma, beta = inputs["gamma"], inputs["beta"]
    one_group, _ = F.groupnorm_forward(**inputs, num_groups=1)
    x = inputs["x"]
    ln, _ = F.layernorm_forward(x, np.ones(x.shape[1:]), np.zeros(x.shape[1:]))
    np.testing.assert_allclose(one_group, gamma[:, None, None] * ln + beta[:, None, None])
    per_channel, _ = F.groupnorm_forward(**inputs, num_groups=4)
    inst, _ = F.instancenorm_forward(**inputs)
    np.testing.assert_allclose(per_channel, inst, rtol=1e-14)


def test_weightnorm_rows_have_length_g(rng):
    v = rng.standard_normal((5, 3))
    g = rng.uniform(0.5, 2.0, (1, 3))
    w, _ = F.weightnorm_forward(v, g, dim=1)
    np.testing.assert_allclose(np.linalg.norm(w, axis=0), g[0], rtol=1e-13)
    np.testing.assert_allclose(w / g, v / np.linalg.norm(v, axis=0), rtol=1e-13)


@given(
    n=st.integers(2, 5),
    c=st.integers(1, 4),
    spatial=st.lists(st.integers(1, 3), max_size=2),
    seed=st.integers(0, 2**16),
)
def test_batchnorm_property_any_shape(n, c, spatial, seed):
    rng = np.random.default_rng(seed)
    shape = (n, c, *spatial)
    inputs = bn_inputs(rng, shape)
    out, cache = F.batchnorm_forward(**inputs)
    dx, dgamma, dbeta = F.batchnorm_backward(np.ones(shape), cache)
    assert out.shape == shape and dx.shape == shape
    assert dgamma.shape == (c,) and dbeta.shape == (c,)
    np.testing.assert_allclose(dx, 0.0, atol=1e-9)  # a shift of the whole output is free
    np.testing.assert_allclose(dbeta, np.prod(shape) / c)


# -- edge cases ----------------------------------------------------------------------------


def test_constant_input_normalizes_to_beta_with_finite_gradients(rng):
    x = np.full((4, 3), 7.0)
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    out, cache = F.batchnorm_forward(x, gamma, beta)
    np.testing.assert_allclose(out, np.broadcast_to(beta, (4, 3)))
    dx, dgamma, dbeta = F.batchnorm_backward(rng.standard_normal((4, 3)), cache)
    assert np.isfinite(dx).all() and np.isfinite(dgamma).all()
    ln, cache = F.layernorm_forward(x, gamma, beta)
    np.testing.assert_allclose(ln, np.broadcast_to(beta, (4, 3)))
    assert np.isfinite(F.layernorm_backward(np.ones((4, 3)), cache)[0]).all()


def test_batchnorm_single_value_per_channel_raises_in_training_only(rng):
    inputs = bn_inputs(rng, (1, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batchnorm_forward(**inputs)
    rm, rv = running(rng, 3)
    out, _ = F.batchnorm_forward(**inputs, running_mean=rm, running_var=rv, training=False)
    assert out.shape == (1, 3)
    # one image of 2 x 2 pixels is 4 values per channel: fine
    F.batchnorm_forward(**bn_inputs(rng, (1, 3, 2, 2)))


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"x": np.ones(4)}, ValueError, "x must be"),
        ({"gamma": np.ones(5)}, ValueError, "gamma"),
        ({"beta": np.ones((4, 1))}, ValueError, "beta"),
        ({"running_mean": np.zeros(4)}, ValueError, "both"),
        ({"running_mean": np.zeros(3), "running_var": np.ones(3)}, ValueError, "running_mean"),
        ({"training": False}, ValueError, "evaluation"),
        ({"training": 1}, TypeError, "training"),
        ({"momentum": 1.5}, ValueError, "momentum"),
        ({"momentum": "0.1"}, TypeError, "momentum"),
        ({"eps": -1e-5}, ValueError, "eps"),
        ({"x": np.ones((6, 4), dtype=int)}, TypeError, "x must hold floating"),
        ({"gamma": np.ones(4, dtype=np.float32)}, TypeError, "same dtype"),
    ],
)
def test_batchnorm_bad_arguments(rng, change, error, match):
    args = {**bn_inputs(rng, (6, 4)), **change}
    with pytest.raises(error, match=match):
        F.batchnorm_forward(**args)


def test_other_bad_arguments(rng):
    x = rng.standard_normal((2, 6, 3))
    with pytest.raises(ValueError, match="num_groups must be a positive divisor of .* C=6"):
        F.groupnorm_forward(x, np.ones(6), np.zeros(6), 4)
    with pytest.raises(ValueError, match="num_groups"):
        F.groupnorm_forward(x, np.ones(6), np.zeros(6), 0)
    with pytest.raises(TypeError, match="num_groups must be an int"):
        F.groupnorm_forward(x, np.ones(6), np.zeros(6), 2.0)
    with pytest.raises(ValueError, match="both"):
        F.groupnorm_forward(x, np.ones(6), None, 2)
    with pytest.raises(ValueError, match="spatial"):
        F.instancenorm_forward(rng.standard_normal((2, 6)))
    with pytest.raises(ValueError, match="trailing axes of x"):
        F.layernorm_forward(x, np.ones(4), np.zeros(4))
    with pytest.raises(ValueError, match="beta must have gamma's shape"):
        F.layernorm_forward(x, np.ones(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"g must have shape \(1, 3\)"):
        F.weightnorm_forward(np.ones((2, 3)), np.ones((3,)), dim=1)
    with pytest.raises(ValueError, match="norm 0"):
        F.weightnorm_forward(np.zeros((2, 3)), np.ones((1, 3)), dim=1)
    with pytest.raises(ValueError, match="dim=2 is out of range"):
        F.weightnorm_forward(np.ones((2, 3)), np.ones((1, 3)), dim=2)
    _, cache = F.batchnorm_forward(x, np.ones(6), np.zeros(6))
    with pytest.raises(ValueError, match="dout must have the forward input's shape"):
        F.batchnorm_backward(np.ones((2, 6)), cache)
    with pytest.raises(TypeError, match="cache"):
        F.layernorm_backward(np.ones((2, 6, 3)), cache)


def test_float32_stays_float32(rng):
    inputs = bn_inputs(rng, (4, 3), dtype=np.float32)
    rm, rv = running(rng, 3, dtype=np.float32)
    out, cache = F.batchnorm_forward(**inputs, running_mean=rm, running_var=rv)
    expect_numpy(out, (4, 3), np.float32)
    assert rm.dtype == np.float32 and rv.dtype == np.float32
    for grad in F.batchnorm_backward(np.ones((4, 3), np.float32), cache):
        assert grad.dtype == np.float32


# -- parity with torch ---------------------------------------------------------------------


def _t(torch, a, device, dtype, grad=False):
    t = torch.tensor(a, dtype=dtype, device=device)
    return t.requires_grad_(True) if grad else t


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("shape", "cls"), [((8, 5), "BatchNorm1d"), ((6, 3, 4), "BatchNorm1d"),
                                            ((4, 3, 5, 5), "BatchNorm2d")])  # fmt: skip
def test_batchnorm_matches_torch_over_several_steps(torch, device, rng, dtype, shape, cls):
    tdtype = getattr(torch, dtype)
    c = shape[1]
    ref = getattr(torch.nn, cls)(c, momentum=0.2, eps=1e-4).to(device=device, dtype=tdtype)
    gamma0, beta0 = rng.uniform(0.5, 2.0, c), rng.standard_normal(c)
    with torch.no_grad():
        ref.weight.copy_(_t(torch, gamma0, device, tdtype))
        ref.bias.copy_(_t(torch, beta0, device, tdtype))
    rm = torch.zeros(c, dtype=tdtype, device=device)
    rv = torch.ones(c, dtype=tdtype, device=device)
    for step in range(4):  # three training steps, then evaluation
        training = step < 3
        ref.train(training)
        x_np = 1.5 + 2.0 * rng.standard_normal(shape)
        dout = _t(torch, rng.standard_normal(shape), device, tdtype)
        x_ref = _t(torch, x_np, device, tdtype, grad=True)
        ref.zero_grad()
        out_ref = ref(x_ref)
        out_ref.backward(dout)

        x = _t(torch, x_np, device, tdtype)
        gamma = ref.weight.detach().clone()
        beta = ref.bias.detach().clone()
        out, cache = F.batchnorm_forward(
            x, gamma, beta, rm, rv, training=training, momentum=0.2, eps=1e-4
        )
        expect_like(out, out_ref)
        expect_like(rm, ref.running_mean)
        expect_like(rv, ref.running_var)
        dx, dgamma, dbeta = F.batchnorm_backward(dout, cache)
        expect_like(dx, x_ref.grad)
        expect_like(dgamma, ref.weight.grad)
        expect_like(dbeta, ref.bias.grad)


def test_batchnorm_running_stats_stay_out_of_torch_autograd(torch, rng):
    x = torch.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    rm, rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    F.batchnorm_forward(x, torch.ones(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64),
                        rm, rv)  # fmt: skip
    assert rm.grad_fn is None and rv.grad_fn is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("shape", "norm_shape"), [((6, 5), (5,)), ((3, 4, 6), (6,)),
                                                   ((2, 3, 4, 4), (3, 4, 4))])  # fmt: skip
def test_layernorm_matches_torch(torch, device, rng, dtype, shape, norm_shape):
    tdtype = getattr(torch, dtype)
    x_np, dout_np = rng.standard_normal(shape), rng.standard_normal(shape)
    g_np, b_np = rng.uniform(0.5, 2, norm_shape), rng.standard_normal(norm_shape)
    refs = [_t(torch, a, device, tdtype, grad=True) for a in (x_np, g_np, b_np)]
    ref = torch.nn.functional.layer_norm(refs[0], norm_shape, refs[1], refs[2], eps=1e-5)
    ref.backward(_t(torch, dout_np, device, tdtype))
    args = [_t(torch, a, device, tdtype) for a in (x_np, g_np, b_np)]
    out, cache = F.layernorm_forward(*args)
    expect_like(out, ref)
    grads = F.layernorm_backward(_t(torch, dout_np, device, tdtype), cache)
    for grad, leaf in zip(grads, refs, strict=True):
        expect_like(grad, leaf.grad)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("shape", "groups"), [((4, 12), 3), ((3, 6, 5), 2), ((2, 8, 3, 3), 4),
                                               ((2, 4, 3, 3), 1)])  # fmt: skip
def test_groupnorm_matches_torch(torch, device, rng, dtype, shape, groups):
    tdtype = getattr(torch, dtype)
    c = shape[1]
    x_np, dout_np = rng.standard_normal(shape), rng.standard_normal(shape)
    g_np, b_np = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    refs = [_t(torch, a, device, tdtype, grad=True) for a in (x_np, g_np, b_np)]
    ref = torch.nn.functional.group_norm(refs[0], groups, refs[1], refs[2], eps=1e-5)
    ref.backward(_t(torch, dout_np, device, tdtype))
    args = [_t(torch, a, device, tdtype) for a in (x_np, g_np, b_np)]
    out, cache = F.groupnorm_forward(*args, groups)
    expect_like(out, ref)
    grads = F.groupnorm_backward(_t(torch, dout_np, device, tdtype), cache)
    for grad, leaf in zip(grads, refs, strict=True):
        expect_like(grad, leaf.grad)


@pytest.mark.parametrize("affine", [False, True])
def test_instancenorm_matches_torch(torch, device, rng, affine):
    shape = (3, 4, 5, 5)
    ref_layer = torch.nn.InstanceNorm2d(4, affine=affine).to(device=device, dtype=torch.float64)
    x_np, dout_np = rng.standard_normal(shape), rng.standard_normal(shape)
    x_ref = _t(torch, x_np, device, torch.float64, grad=True)
    ref = ref_layer(x_ref)
    ref.backward(_t(torch, dout_np, device, torch.float64))
    params = (ref_layer.weight.detach(), ref_layer.bias.detach()) if affine else (None, None)
    out, cache = F.instancenorm_forward(_t(torch, x_np, device, torch.float64), *params)
    expect_like(out, ref)
    dx, dgamma, dbeta = F.instancenorm_backward(_t(torch, dout_np, device, torch.float64), cache)
    expect_like(dx, x_ref.grad)
    if affine:
        expect_like(dgamma, ref_layer.weight.grad)
        expect_like(dbeta, ref_layer.bias.grad)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("shape", "dim"), [((5, 3), 0), ((3, 5), 1), ((4, 2, 3, 3), 0)])
def test_weightnorm_matches_torch(torch, device, rng, dtype, shape, dim):
    tdtype = getattr(torch, dtype)
    layer = torch.nn.Linear(1, 1) if len(shape) == 2 else torch.nn.Conv2d(1, 1, 1)
    layer = layer.to(device=device, dtype=tdtype)
    with torch.no_grad():
        layer.weight = torch.nn.Parameter(_t(torch, rng.standard_normal(shape), device, tdtype))
    layer = torch.nn.utils.parametrizations.weight_norm(layer, dim=dim)
    orig = layer.parametrizations.weight
    with torch.no_grad():
        orig.original0.mul_(_t(torch, rng.uniform(0.5, 2, orig.original0.shape), device, tdtype))
    dout = _t(torch, rng.standard_normal(shape), device, tdtype)
    ref = layer.weight
    ref.backward(dout)
    g, v = orig.original0.detach(), orig.original1.detach()
    w, cache = F.weightnorm_forward(v, g, dim=dim)
    expect_like(w, ref)
    dv, dg = F.weightnorm_backward(dout, cache)
    expect_like(dv, orig.original1.grad)
    expect_like(dg, orig.original0.grad)
