"""dlkit.functional.conv: conv2d_forward / conv2d_backward / conv2d_naive."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dlkit.functional as F
import dlkit.functional._im2col as im2col
from dlkit.testing import check_layer_gradients

from ._reference import expect_like, expect_numpy

# (N, C, H, W, F, KH, KW, stride, pad, dilation): odd sizes, rectangular kernels, stride > 1,
# padding, dilation, and pairs that differ between rows and columns
GEOMETRIES = [
    (2, 3, 5, 5, 4, 3, 3, 1, 0, 1),
    (2, 2, 7, 6, 3, 3, 3, 1, 1, 1),
    (1, 3, 9, 8, 2, 3, 2, 2, 1, 1),
    (2, 2, 8, 9, 3, 2, 3, 1, 0, 2),
    (3, 1, 10, 7, 2, 3, 3, (2, 1), (1, 2), (1, 2)),
    (1, 4, 6, 6, 5, 1, 1, 1, 0, 1),
    (2, 2, 5, 11, 2, 5, 5, 3, 2, 1),
    (2, 2, 5, 4, 3, 1, 1, 1, 1, 1),  # padding wider than the kernel's reach
    (1, 2, 4, 5, 2, 3, 2, 1, (3, 1), 1),
]


def conv_inputs(rng, geometry, dtype=np.float64):
    n, c, h, w, f, kh, kw = geometry[:7]
    return {
        "x": rng.standard_normal((n, c, h, w)).astype(dtype),
        "w": rng.standard_normal((f, c, kh, kw)).astype(dtype),
        "b": rng.standard_normal(f).astype(dtype),
    }


def options(geometry):
    stride, pad, dilation = geometry[7:]
    return {"stride": stride, "pad": pad, "dilation": dilation}


def torch_options(geometry):
    stride, pad, dilation = geometry[7:]
    return {"stride": stride, "padding": pad, "dilation": dilation}


# -- the definition ---------------------------------------------------------------------


def test_naive_follows_the_definition_on_a_hand_computed_example():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # x[y, x] - x[y + 1, x + 1]
    out = F.conv2d_naive(x, w, np.array([0.5]))
    np.testing.assert_array_equal(out, np.full((1, 1, 3, 3), -5.0 + 0.5))
    out = F.conv2d_naive(x, w, None, stride=2, pad=1)  # padded 6x6, windows at 0 and 2
    # the window at (0, 0) sees only the padding's zero and x[0, 0] = 0 at its bottom right
    np.testing.assert_array_equal(
        out[0, 0], [[0.0, -2.0, 0.0], [-8.0, -5.0, 7.0], [0.0, 13.0, 15.0]]
    )


def test_output_size_formula(rng):
    x = rng.standard_normal((1, 1, 11, 9))
    w = rng.standard_normal((1, 1, 3, 2))
    out, _ = F.conv2d_forward(x, w, None, stride=(2, 3), pad=(1, 2), dilation=(2, 1))
    # OH = (11 + 2 - 2*2 - 1) // 2 + 1 = 5; OW = (9 + 4 - 1 - 1) // 3 + 1 = 4
    assert out.shape == (1, 1, 5, 4)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_vectorized_equals_naive(geometry, rng):
    inputs = conv_inputs(rng, geometry)
    out, _ = F.conv2d_forward(**inputs, **options(geometry))
    np.testing.assert_allclose(out, F.conv2d_naive(**inputs, **options(geometry)), rtol=1e-12)


def test_no_bias_means_zero_bias_and_no_db(rng):
    inputs = conv_inputs(rng, GEOMETRIES[1])
    with_zero, _ = F.conv2d_forward(inputs["x"], inputs["w"], np.zeros(3), pad=1)
    out, cache = F.conv2d_forward(inputs["x"], inputs["w"], None, pad=1)
    np.testing.assert_array_equal(out, with_zero)
    dx, dw, db = F.conv2d_backward(np.ones_like(out), cache)
    assert db is None and dx.shape == inputs["x"].shape and dw.shape == inputs["w"].shape


def test_input_grad_false_skips_dx_only(rng):
    inputs = conv_inputs(rng, GEOMETRIES[2])
    out, cache = F.conv2d_forward(**inputs, **options(GEOMETRIES[2]))
    dout = rng.standard_normal(out.shape)
    dx, dw, db = F.conv2d_backward(dout, cache)
    none, dw2, db2 = F.conv2d_backward(dout, cache, input_grad=False)
    assert none is None
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(db2, db)


@pytest.mark.parametrize("block_bytes", [1, 1 << 40])
def test_result_does_not_depend_on_the_block_size(block_bytes, rng, monkeypatch):
    """One image per block or the whole batch in one: the same numbers."""
    geometry = (5, 3, 8, 7, 4, 3, 3, 1, 1, 1)
    inputs = conv_inputs(rng, geometry)
    out, cache = F.conv2d_forward(**inputs, pad=1)
    dout = rng.standard_normal(out.shape)
    grads = F.conv2d_backward(dout, cache)
    monkeypatch.setattr(im2col, "BLOCK_BYTES", block_bytes)
    out2, cache2 = F.conv2d_forward(**inputs, pad=1)
    np.testing.assert_allclose(out2, out, rtol=1e-13)
    for mine, ref in zip(F.conv2d_backward(dout, cache2), grads, strict=True):
        np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-13)


def test_numpy_float32_stays_float32(rng):
    inputs = conv_inputs(rng, GEOMETRIES[1], dtype=np.float32)
    out, cache = F.conv2d_forward(**inputs, pad=1)
    expect_numpy(out, (2, 3, 7, 6), np.float32)
    dx, dw, db = F.conv2d_backward(np.ones_like(out), cache)
    expect_numpy(dx, (2, 2, 7, 6), np.float32)
    expect_numpy(dw, (3, 2, 3, 3), np.float32)
    expect_numpy(db, (3,), np.float32)


# -- gradients, float64 -----------------------------------------------------------------


@pytest.mark.parametrize("geometry", GEOMETRIES[:5])
def test_backward_matches_central_differences(geometry, rng):
    check_layer_gradients(
        F.conv2d_forward,
        F.conv2d_backward,
        conv_inputs(rng, geometry),
        rng=rng,
        elementwise=True,
        **options(geometry),
    )


def test_backward_matches_directional_derivative(rng):
    geometry = (4, 5, 12, 11, 6, 3, 3, 2, 1, 1)
    check_layer_gradients(
        F.conv2d_forward,
        F.conv2d_backward,
        conv_inputs(rng, geometry),
        rng=rng,
        elementwise=False,
        **options(geometry),
    )


@st.composite
def conv_problems(draw):
    """Random valid geometries: every kernel fits the padded input."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    low_h, low_w = max(1, dh * (kh - 1) + 1 - 2 * ph), max(1, dw * (kw - 1) + 1 - 2 * pw)
    h, w = draw(st.integers(low_h, low_h + 6)), draw(st.integers(low_w, low_w + 6))
    n, c, f = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    seed = draw(st.integers(0, 2**32 - 1))
    return (n, c, h, w, f, kh, kw, stride, (ph, pw), (dh, dw)), seed


@given(conv_problems())
def test_property_vectorized_equals_naive_and_backward_is_the_adjoint(problem):
    """For every geometry: forward == loops, and <conv(x, w), dout> == <x, dx> == <w, dw>.

    The convolution is linear in x (and in w), so its backward is the adjoint: the dot
    products agree exactly (to rounding) for any dout.
    """
    geometry, seed = problem
    rng = np.random.default_rng(seed)
    inputs = conv_inputs(rng, geometry)
    x, w = inputs["x"], inputs["w"]
    out, cache = F.conv2d_forward(x, w, None, **options(geometry))
    np.testing.assert_allclose(out, F.conv2d_naive(x, w, None, **options(geometry)), atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dw, _ = F.conv2d_backward(dout, cache)
    inner = float(np.vdot(out, dout))
    assert np.isclose(np.vdot(x, dx), inner, rtol=1e-10, atol=1e-10)
    assert np.isclose(np.vdot(w, dw), inner, rtol=1e-10, atol=1e-10)


# -- parity with torch ------------------------------------------------------------------


def torch_reference(torch, inputs, geometry, dout, dtype, device):
    """torch's conv2d on the same data, and its gradients through autograd."""
    leaves = [
        torch.tensor(a, dtype=getattr(torch, dtype), device=device, requires_grad=True)
        for a in inputs.values()
    ]
    out = torch.nn.functional.conv2d(*leaves, **torch_options(geometry))
    tdout = torch.tensor(dout, dtype=getattr(torch, dtype), device=device)
    return out, torch.autograd.grad(out, leaves, tdout)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_matches_torch_on_tensors(geometry, dtype, device, torch, rng):
    inputs = conv_inputs(rng, geometry)
    out_shape = F.conv2d_forward(**inputs, **options(geometry))[0].shape
    dout = rng.standard_normal(out_shape)
    ref, ref_grads = torch_reference(torch, inputs, geometry, dout, dtype, device)
    tdtype = getattr(torch, dtype)
    x, w, b = (torch.tensor(a, dtype=tdtype, device=device) for a in inputs.values())
    out, cache = F.conv2d_forward(x, w, b, **options(geometry))
    expect_like(out, ref)
    grads = F.conv2d_backward(torch.tensor(dout, dtype=tdtype, device=device), cache)
    for grad, ref_grad in zip(grads, ref_grads, strict=True):
        expect_like(grad, ref_grad)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("geometry", GEOMETRIES[:5])
def test_matches_torch_on_numpy(geometry, dtype, torch, rng):
    inputs = conv_inputs(rng, geometry, dtype=np.dtype(dtype))
    out, cache = F.conv2d_forward(**inputs, **options(geometry))
    dout = rng.standard_normal(out.shape).astype(dtype)
    ref, ref_grads = torch_reference(torch, inputs, geometry, dout, dtype, "cpu")
    tol = {"float32": {"rtol": 1e-4, "atol": 1e-5}, "float64": {"rtol": 1e-10, "atol": 1e-12}}
    expect_numpy(out, tuple(ref.shape), dtype)
    np.testing.assert_allclose(out, ref.detach().numpy(), **tol[dtype])
    for grad, ref_grad in zip(F.conv2d_backward(dout, cache), ref_grads, strict=True):
        expect_numpy(grad, tuple(ref_grad.shape), dtype)
        np.testing.assert_allclose(grad, ref_grad.numpy(), **tol[dtype])


def test_naive_accepts_tensors(device, torch, rng):
    inputs = conv_inputs(rng, GEOMETRIES[4])
    x, w, b = (torch.tensor(a, device=device) for a in inputs.values())
    ref = torch.nn.functional.conv2d(x, w, b, **torch_options(GEOMETRIES[4]))
    expect_like(F.conv2d_naive(x, w, b, **options(GEOMETRIES[4])), ref)


# -- errors -----------------------------------------------------------------------------


def test_errors_name_the_argument_and_the_shapes(rng):
    x, w, b = conv_inputs(rng, (2, 3, 6, 6, 4, 3, 3)).values()
    with pytest.raises(
        ValueError, match=r"x must be a 4-D batch of images \(N, C, H, W\); got 3-D.*x\[:, None\]"
    ):
        F.conv2d_forward(x[0], w, b)
    with pytest.raises(ValueError, match=r"w must be 4-D with shape \(F, C, KH, KW\); got 3-D"):
        F.conv2d_forward(x, w[0], b)
    with pytest.raises(ValueError, match=r"w has shape \(4, 2, 3, 3\): its axis 1 .* C=3"):
        F.conv2d_forward(x, w[:, :2], b)
    with pytest.raises(ValueError, match=r"b must have shape \(F,\) with size 4"):
        F.conv2d_forward(x, w, b[:3])
    with pytest.raises(ValueError, match=r"no empty axis"):
        F.conv2d_forward(x, w[:0], b[:0])


def test_kernel_larger_than_the_padded_input_is_explained(rng):
    x = rng.standard_normal((1, 1, 6, 6))
    w = rng.standard_normal((1, 1, 5, 5))
    message = (
        r"kernel \(5, 5\) with dilation 2 spans 9 pixels along H, larger than the padded "
        r"input \(H=6 \+ 2\*pad=1 gives 8\)"
    )
    with pytest.raises(ValueError, match=message):
        F.conv2d_forward(x, w, None, pad=1, dilation=2)
    with pytest.raises(ValueError, match=r"kernel \(1, 7\) spans 7 pixels along W"):
        F.conv2d_naive(x, w[:, :, :1, :2].repeat(4, axis=3)[:, :, :, :7], None)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"stride": 0}, ValueError, r"stride must be >= 1 \(in each direction\); got 0"),
        ({"stride": (1, 0)}, ValueError, r"stride must be >= 1"),
        ({"stride": 1.5}, TypeError, r"stride must be an int or a pair of ints"),
        ({"stride": (1, 2, 3)}, TypeError, r"stride must be an int or a pair"),
        ({"pad": -1}, ValueError, r"pad must be >= 0"),
        ({"pad": True}, TypeError, r"pad must be an int or a pair"),
        ({"dilation": 0}, ValueError, r"dilation must be >= 1"),
    ],
)
def test_bad_geometry_arguments(kwargs, error, message, rng):
    x, w, b = conv_inputs(rng, (1, 2, 6, 6, 2, 3, 3)).values()
    with pytest.raises(error, match=message):
        F.conv2d_forward(x, w, b, **kwargs)


def test_dtype_and_kind_errors(rng, torch):
    x, w, b = conv_inputs(rng, (1, 2, 6, 6, 2, 3, 3)).values()
    with pytest.raises(TypeError, match=r"x must hold floating-point numbers; got dtype int64"):
        F.conv2d_forward(x.astype(np.int64), w, b)
    with pytest.raises(TypeError, match=r"x, w, b must have the same dtype"):
        F.conv2d_forward(x.astype(np.float32), w, b)
    with pytest.raises(TypeError, match=r"mix NumPy arrays and torch tensors"):
        F.conv2d_forward(torch.tensor(x), w, b)


def test_backward_errors(rng):
    x, w, b = conv_inputs(rng, (2, 2, 6, 6, 3, 3, 3)).values()
    out, cache = F.conv2d_forward(x, w, b)
    with pytest.raises(TypeError, match=r"cache must be the tuple returned by conv2d_forward"):
        F.conv2d_backward(np.ones_like(out), (x, w))
    with pytest.raises(ValueError, match=r"dout must have shape \(N, F, OH, OW\)"):
        F.conv2d_backward(np.ones((2, 3, 5, 4)), cache)
    with pytest.raises(TypeError, match=r"dout, w must have the same dtype"):
        F.conv2d_backward(np.ones(out.shape, np.float32), cache)


@pytest.mark.parametrize("ratio", [0.0, 1e9])
@pytest.mark.parametrize("geometry", [GEOMETRIES[1], GEOMETRIES[3], (2, 2, 6, 5, 9, 3, 3, 1, 1, 1)])
def test_dx_by_col2im_and_by_transposed_convolution_agree(ratio, geometry, rng, monkeypatch):
    """The two ways to compute dx (see conv._transposed), each forced in turn."""
    import dlkit.functional.conv as conv

    inputs = conv_inputs(rng, geometry)
    out, cache = F.conv2d_forward(**inputs, **options(geometry))
    dout = rng.standard_normal(out.shape)
    monkeypatch.setattr(conv, "TRANSPOSED_MAX_RATIO", ratio)
    dx, _, _ = F.conv2d_backward(dout, cache)
    x = inputs["x"]
    numeric_free = float(np.vdot(out - inputs["b"][:, None, None], dout))  # linear in x
    assert np.isclose(np.vdot(x, dx), numeric_free, rtol=1e-10)


SAME_WIDTH = [GEOMETRIES[1], GEOMETRIES[5], (3, 4, 6, 7, 6, 5, 3, 1, (2, 1), 1)]


@pytest.mark.parametrize("geometry", SAME_WIDTH)
def test_one_gather_backward_equals_the_two_gather_backward(geometry, rng, monkeypatch):
    """With stride 1 and OW = W, dx and dw both come from dout's columns
    (conv._from_dout_columns); the general path (x's columns for dw, col2im for dx) must
    give the same numbers."""
    import dlkit.functional.conv as conv

    inputs = conv_inputs(rng, geometry)
    out, cache = F.conv2d_forward(**inputs, **options(geometry))
    assert out.shape[3] == inputs["x"].shape[3]  # OW = W: the one-gather path applies
    dout = rng.standard_normal(out.shape)
    calls = []
    real = conv._from_dout_columns
    monkeypatch.setattr(conv, "_from_dout_columns", lambda *a: calls.append(1) or real(*a))
    one = F.conv2d_backward(dout, cache)
    assert calls, "the one-gather path was not taken"
    monkeypatch.setattr(conv, "TRANSPOSED_MAX_RATIO", 0.0)  # forces the general path
    two = F.conv2d_backward(dout, cache)
    assert len(calls) == 1
    for a, b in zip(one, two, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
