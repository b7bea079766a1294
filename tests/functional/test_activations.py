"""dlkit.functional.activations: gradients, torch parity, properties, stability, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dlkit.functional as F
from dlkit.testing import check_layer_gradients

from ._reference import TOL, expect_like, expect_numpy

# name -> (forward, backward, keyword arguments for both)
ELEMENTWISE = {
    "sigmoid": (F.sigmoid, F.sigmoid_backward, {}),
    "relu": (F.relu, F.relu_backward, {}),
    "leaky_relu": (F.leaky_relu, F.leaky_relu_backward, {}),
    "leaky_relu_0.2": (F.leaky_relu, F.leaky_relu_backward, {"negative_slope": 0.2}),
    "tanh": (F.tanh, F.tanh_backward, {}),
    "gelu": (F.gelu, F.gelu_backward, {}),
}

# independent NumPy/SciPy formulas for the forward values
NUMPY_REFERENCE = {
    "sigmoid": scipy.special.expit,
    "relu": lambda x: np.maximum(x, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x),
    "leaky_relu_0.2": lambda x: np.where(x > 0, x, 0.2 * x),
    "tanh": np.tanh,
    "gelu": lambda x: x * scipy.special.ndtr(x),
}


def torch_reference(name: str):
    import torch
    import torch.nn.functional as tf

    return {
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "leaky_relu": tf.leaky_relu,
        "leaky_relu_0.2": lambda x: tf.leaky_relu(x, 0.2),
        "tanh": torch.tanh,
        "gelu": tf.gelu,
    }[name]


def away_from_kinks(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """float64 values with |x| >= 0.1, so relu-like kinks do not spoil finite differences."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 3.0, size=shape)


def as_layer(fwd, bwd, **kw):
    """An activation as a ``forward -> (out, cache)`` / ``backward(dout, cache)`` pair."""
    return (lambda x: (fwd(x, **kw), x)), (lambda dout, x: bwd(dout, x, **kw))


# -- gradients, float64 -----------------------------------------------------------------


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_matches_central_differences(name, rng):
    forward, backward = as_layer(*ELEMENTWISE[name][:2], **ELEMENTWISE[name][2])
    x = away_from_kinks(rng, (3, 5))
    check_layer_gradients(forward, backward, {"x": x}, rng=rng, elementwise=True)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_matches_directional_derivative(name, rng):
    forward, backward = as_layer(*ELEMENTWISE[name][:2], **ELEMENTWISE[name][2])
    x = away_from_kinks(rng, (16, 24))
    check_layer_gradients(forward, backward, {"x": x}, rng=rng, elementwise=False)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("elementwise", [True, False], ids=["central", "directional"])
def test_softmax_backward_matches_finite_differences(axis, elementwise, rng):
    def forward(x):
        y = F.softmax(x, axis=axis)
        return y, y

    def backward(dout, y):
        return F.softmax_backward(dout, y, axis=axis)

    x = 2.0 * rng.standard_normal((2, 3, 4))
    check_layer_gradients(forward, backward, {"x": x}, rng=rng, elementwise=elementwise)


# -- parity with torch (forward and autograd), float32 and float64, every device ------------


def tensors(torch, device, dtype, *arrays):
    return [torch.tensor(a, dtype=getattr(torch, dtype), device=device) for a in arrays]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_matches_torch(name, dtype, device, torch, rng):
    fwd, bwd, kw = ELEMENTWISE[name]
    x_np = 3.0 * rng.standard_normal((4, 6))
    x_np[0, :2] = 0.0  # the kink: the derivative at 0 must follow torch's convention
    x, dout = tensors(torch, device, dtype, x_np, rng.standard_normal((4, 6)))
    x_ref = x.clone().requires_grad_(True)
    ref = torch_reference(name)(x_ref)
    ref.backward(dout)

    expect_like(fwd(x, **kw), ref)
    expect_like(bwd(dout, x, **kw), x_ref.grad)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_and_log_softmax_match_torch(axis, dtype, device, torch, rng):
    x, dout = tensors(
        torch, device, dtype, 4.0 * rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 4, 5))
    )
    x_ref = x.clone().requires_grad_(True)
    ref = torch.softmax(x_ref, dim=axis)
    ref.backward(dout)

    y = F.softmax(x, axis=axis)
    expect_like(y, ref)
    expect_like(F.softmax_backward(dout, y, axis=axis), x_ref.grad)
    expect_like(F.log_softmax(x, axis=axis), torch.log_softmax(x, dim=axis))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_numpy_input_keeps_kind_and_dtype(name, dtype, rng):
    fwd, bwd, kw = ELEMENTWISE[name]
    x = (3.0 * rng.standard_normal((5, 2))).astype(dtype)
    out, dx = fwd(x, **kw), bwd(np.ones_like(x), x, **kw)
    expect_numpy(out, x.shape, dtype)
    expect_numpy(dx, x.shape, dtype)
    np.testing.assert_allclose(
        out, NUMPY_REFERENCE[name](x.astype(np.float64)), **TOL[str(x.dtype)]
    )


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_numpy_keeps_dtype(fn, dtype, rng):
    x = rng.standard_normal((3, 4)).astype(dtype)
    expect_numpy(fn(x), (3, 4), dtype)


# -- properties ---------------------------------------------------------------------------

any_shape = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)
nonempty_shape = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)


@given(
    x=hnp.arrays(np.float64, any_shape, elements=st.floats(-50, 50)),
    name=st.sampled_from(list(ELEMENTWISE)),
)
def test_elementwise_any_shape_matches_formula(x, name):
    fwd, bwd, kw = ELEMENTWISE[name]
    out = fwd(x, **kw)
    expect_numpy(out, x.shape, np.float64)
    # atol: 0.5 x (1 + erf(x / sqrt 2)) cancels in the far negative tail, as torch does
    np.testing.assert_allclose(out, NUMPY_REFERENCE[name](x), rtol=1e-12, atol=1e-14)
    expect_numpy(bwd(np.ones_like(x), x, **kw), x.shape, np.float64)


@given(
    x=hnp.arrays(np.float64, any_shape, elements=st.floats(-50, 50)),
    name=st.sampled_from(list(ELEMENTWISE)),
    scale=st.floats(-3, 3),
)
def test_elementwise_backward_is_linear_in_dout(x, name, scale):
    # dx = dout * f'(x): scaling dout scales dx, and dout = 1 gives f'(x) itself
    fwd, bwd, kw = ELEMENTWISE[name]
    ones = np.ones_like(x)
    np.testing.assert_allclose(bwd(scale * ones, x, **kw), scale * bwd(ones, x, **kw), atol=1e-12)


@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=3),
    name=st.sampled_from(list(ELEMENTWISE)),
)
def test_backward_refuses_a_dout_of_another_shape(shapes, name):
    # no silent broadcasting: dout must have exactly x's shape
    dout_shape, x_shape = shapes.input_shapes
    if dout_shape == x_shape:
        return
    _, bwd, kw = ELEMENTWISE[name]
    with pytest.raises(ValueError, match=r"dout must have the same shape as x, .*got shape"):
        bwd(np.ones(dout_shape), np.ones(x_shape), **kw)


@st.composite
def array_and_axis(draw):
    x = draw(hnp.arrays(np.float64, nonempty_shape, elements=st.floats(-1e3, 1e3)))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@given(xa=array_and_axis(), shift=st.floats(-1e3, 1e3))
def test_softmax_is_a_distribution_and_shift_invariant(xa, shift):
    x, axis = xa
    y = F.softmax(x, axis=axis)
    expect_numpy(y, x.shape, np.float64)
    assert np.all((y >= 0) & (y <= 1))
    np.testing.assert_allclose(y.sum(axis=axis), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(F.softmax(x + shift, axis=axis), y, rtol=1e-8, atol=1e-12)


@given(xa=array_and_axis(), data=st.data())
def test_softmax_ignores_a_different_shift_per_slice(xa, data):
    x, axis = xa
    per_slice = list(x.shape)
    per_slice[axis] = 1  # one constant per distribution, broadcast along the axis
    shift = data.draw(hnp.arrays(np.float64, tuple(per_slice), elements=st.floats(-1e3, 1e3)))
    np.testing.assert_allclose(
        F.softmax(x + shift, axis=axis), F.softmax(x, axis=axis), rtol=1e-8, atol=1e-12
    )


@given(xa=array_and_axis())
def test_log_softmax_is_log_of_softmax(xa):
    x, axis = xa
    logp, p = F.log_softmax(x, axis=axis), F.softmax(x, axis=axis)
    expect_numpy(logp, x.shape, np.float64)
    assert np.all(np.isfinite(logp)), "log_softmax must stay finite where softmax underflows"
    assert np.all(logp <= 1e-12)
    finite = p > np.finfo(np.float64).tiny  # log of a subnormal is only a few bits exact
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(logp[finite], np.log(p)[finite], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_of_an_empty_batch_is_empty(fn):
    expect_numpy(fn(np.zeros((0, 3))), (0, 3), np.float64)


# -- stability ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_exact_for_huge_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, logp = F.softmax(x), F.log_softmax(x)
    np.testing.assert_array_equal(y, np.array([[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], dtype=dtype))
    np.testing.assert_allclose(
        logp, [[0, -2e4, -1e4], [-np.log(3)] * 3], rtol=1e-6 if dtype == np.float32 else 1e-14
    )


def test_softmax_is_exact_for_huge_logits_in_torch(device, torch):
    x = torch.tensor([[1e4, -1e4, 0.0]], device=device)
    expect_like(F.softmax(x), torch.tensor([[1.0, 0.0, 0.0]], device=device))
    expect_like(F.log_softmax(x), torch.tensor([[0.0, -2e4, -1e4]], device=device))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_is_finite_at_plus_minus_1000_without_warnings(name, dtype):
    fwd, bwd, kw = ELEMENTWISE[name]
    x = np.array([-1000.0, -100.0, 100.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, dx = fwd(x, **kw), bwd(np.ones_like(x), x, **kw)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    # atol: float32's subnormals (below `tiny`) keep only a few bits
    expected = NUMPY_REFERENCE[name](x.astype(np.float64))
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=np.finfo(dtype).tiny)


def test_sigmoid_saturates_exactly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = F.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
        ds = F.sigmoid_backward(np.ones(3), np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(s, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(ds, [0.0, 0.25, 0.0])
    # the tiny tail is still right, not rounded to 0 by 1 - (1 - e)
    np.testing.assert_allclose(F.sigmoid(np.array([-700.0])), np.exp(-700.0), rtol=1e-12)


# -- bad input ----------------------------------------------------------------------------

ALL_FORWARDS = {name: spec[0] for name, spec in ELEMENTWISE.items()}
ALL_FORWARDS |= {"softmax": F.softmax, "log_softmax": F.log_softmax}


@pytest.mark.parametrize("fn", ALL_FORWARDS.values(), ids=ALL_FORWARDS.keys())
def test_integer_input_is_refused(fn):
    with pytest.raises(TypeError, match=r"x must hold floating-point numbers; got dtype int64"):
        fn(np.arange(6, dtype=np.int64).reshape(2, 3))


@pytest.mark.parametrize("fn", ALL_FORWARDS.values(), ids=ALL_FORWARDS.keys())
def test_integer_tensor_is_refused(fn, torch):
    with pytest.raises(TypeError, match=r"x must hold floating-point numbers; got dtype torch"):
        fn(torch.arange(6).reshape(2, 3))


@pytest.mark.parametrize("fn", ALL_FORWARDS.values(), ids=ALL_FORWARDS.keys())
def test_non_array_is_refused(fn):
    with pytest.raises(TypeError, match=r"x must be a NumPy array or a torch tensor; got str"):
        fn("not an array")


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_names_dout_and_both_shapes(name):
    _, bwd, kw = ELEMENTWISE[name]
    with pytest.raises(ValueError, match=r"dout .* shape as x, \(3, 2\); got shape \(2, 3\)"):
        bwd(np.ones((2, 3)), np.ones((3, 2)), **kw)
    with pytest.raises(ValueError, match=r"dout .* shape as x, \(2, 3\); got shape \(6,\)"):
        bwd(np.ones(6), np.ones((2, 3)), **kw)
    with pytest.raises(TypeError, match=r"dout must hold floating-point numbers"):
        bwd(np.ones((2, 3), dtype=int), np.ones((2, 3)), **kw)


def test_softmax_backward_names_dout_and_y():
    with pytest.raises(ValueError, match=r"dout .* shape as y, \(2, 4\); got shape \(4, 2\)"):
        F.softmax_backward(np.ones((4, 2)), np.ones((2, 4)) / 4)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_refuses_numpy_torch_mix(name, torch):
    _, bwd, kw = ELEMENTWISE[name]
    with pytest.raises(TypeError, match=r"mix NumPy arrays and torch tensors.*numpy.ndarray"):
        bwd(torch.ones(2, 3, dtype=torch.float64), np.ones((2, 3)), **kw)


def test_backward_refuses_tensors_on_two_devices(torch):
    x = torch.ones(2, 3)
    with pytest.raises(ValueError, match=r"one device; got dout on meta, x on cpu"):
        F.relu_backward(torch.ones(2, 3, device="meta"), x)


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_axis_errors(fn):
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"axis=2 is out of range for a 2-D array"):
        fn(x, axis=2)
    with pytest.raises(ValueError, match=r"axis=-3 is out of range for a 2-D array"):
        fn(x, axis=-3)
    with pytest.raises(TypeError, match=r"axis must be an int; got float"):
        fn(x, axis=1.0)
    with pytest.raises(ValueError, match=r"x has shape \(2, 0\): softmax over axis 1"):
        fn(np.ones((2, 0)), axis=1)


def test_softmax_of_an_empty_axis_is_refused_in_torch(torch):
    with pytest.raises(ValueError, match=r"x has shape \(0, 2\): softmax over axis 0"):
        F.softmax(torch.ones(0, 2), axis=0)
