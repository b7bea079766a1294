"""dlkit.functional.linear: affine_forward / affine_backward."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dlkit.functional as F
from dlkit.testing import check_layer_gradients

from ._reference import expect_like, expect_numpy


def affine_inputs(rng, n=4, d=3, m=5, dtype=np.float64):
    return {
        "x": rng.standard_normal((n, d)).astype(dtype),
        "w": rng.standard_normal((d, m)).astype(dtype),
        "b": rng.standard_normal(m).astype(dtype),
    }


# -- gradients, float64 -----------------------------------------------------------------


def test_backward_matches_central_differences(rng):
    check_layer_gradients(
        F.affine_forward, F.affine_backward, affine_inputs(rng), rng=rng, elementwise=True
    )


def test_backward_matches_directional_derivative(rng):
    inputs = affine_inputs(rng, n=32, d=20, m=10)
    check_layer_gradients(F.affine_forward, F.affine_backward, inputs, rng=rng, elementwise=False)


def test_forward_is_x_at_w_plus_b_and_caches_inputs(rng):
    inputs = affine_inputs(rng)
    out, cache = F.affine_forward(**inputs)
    expect_numpy(out, (4, 5), np.float64)
    expected = np.einsum("nd,dm->nm", inputs["x"], inputs["w"]) + inputs["b"]
    np.testing.assert_allclose(out, expected, rtol=1e-13)
    assert cache[0] is inputs["x"] and cache[1] is inputs["w"]


def test_backward_formulas(rng):
    inputs = affine_inputs(rng)
    _, cache = F.affine_forward(**inputs)
    dout = rng.standard_normal((4, 5))
    dx, dw, db = F.affine_backward(dout, cache)
    np.testing.assert_allclose(dx, dout @ inputs["w"].T, rtol=1e-13)
    np.testing.assert_allclose(dw, inputs["x"].T @ dout, rtol=1e-13)
    np.testing.assert_allclose(db, dout.sum(axis=0), rtol=1e-13)


# -- parity with torch ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch(dtype, device, torch, rng):
    tdtype = getattr(torch, dtype)
    x, w, b = (
        torch.tensor(a, dtype=tdtype, device=device) for a in affine_inputs(rng, 6, 4, 3).values()
    )
    dout = torch.tensor(rng.standard_normal((6, 3)), dtype=tdtype, device=device)
    refs = [t.clone().requires_grad_(True) for t in (x, w, b)]
    ref = torch.nn.functional.linear(refs[0], refs[1].T, refs[2])
    ref.backward(dout)

    out, cache = F.affine_forward(x, w, b)
    expect_like(out, ref)
    for grad, leaf in zip(F.affine_backward(dout, cache), refs, strict=True):
        expect_like(grad, leaf.grad)


def test_numpy_float32_stays_float32(rng):
    inputs = affine_inputs(rng, dtype=np.float32)
    out, cache = F.affine_forward(**inputs)
    expect_numpy(out, (4, 5), np.float32)
    grads = F.affine_backward(np.ones((4, 5), np.float32), cache)
    for grad, value in zip(grads, inputs.values(), strict=True):
        expect_numpy(grad, value.shape, np.float32)


# -- shapes -----------------------------------------------------------------------------


@given(n=st.integers(0, 6), d=st.integers(1, 5), m=st.integers(1, 5), seed=st.integers(0, 99))
def test_shapes_for_any_sizes(n, d, m, seed):
    rng = np.random.default_rng(seed)
    inputs = affine_inputs(rng, n, d, m)
    out, cache = F.affine_forward(**inputs)
    expect_numpy(out, (n, m), np.float64)
    dx, dw, db = F.affine_backward(rng.standard_normal((n, m)), cache)
    expect_numpy(dx, (n, d), np.float64)
    expect_numpy(dw, (d, m), np.float64)
    expect_numpy(db, (m,), np.float64)
    if n == 0:  # an empty batch contributes nothing to the parameter gradients
        assert not dw.any() and not db.any()
    else:  # the bias is broadcast over the batch: every row has the same offset
        np.testing.assert_allclose(out - inputs["x"] @ inputs["w"], np.tile(inputs["b"], (n, 1)))


def test_batch_of_one(rng):
    inputs = affine_inputs(rng, n=1)
    out, cache = F.affine_forward(**inputs)
    dx, dw, db = F.affine_backward(np.ones((1, 5)), cache)
    expect_numpy(out, (1, 5), np.float64)
    np.testing.assert_allclose(dw, np.repeat(inputs["x"].T, 5, axis=1))
    np.testing.assert_allclose(db, np.ones(5))


# -- bad input --------------------------------------------------------------------------


def test_wrong_rank_names_the_argument_and_shape(rng):
    inputs = affine_inputs(rng)
    with pytest.raises(
        ValueError, match=r"x must be 2-D with shape \(N, D\); got 1-D shape \(3,\)"
    ):
        F.affine_forward(np.ones(3), inputs["w"], inputs["b"])
    with pytest.raises(
        ValueError, match=r"w must be 2-D with shape \(D, M\); got 1-D shape \(3,\)"
    ):
        F.affine_forward(inputs["x"], np.ones(3), inputs["b"])
    with pytest.raises(
        ValueError, match=r"b must be 1-D with shape \(M,\); got 2-D shape \(1, 5\)"
    ):
        F.affine_forward(inputs["x"], inputs["w"], np.ones((1, 5)))


def test_mismatched_shapes_name_the_argument_and_sizes(rng):
    inputs = affine_inputs(rng)
    with pytest.raises(ValueError, match=r"w has shape \(4, 5\).*axis 0 \(D\) must match D=3"):
        F.affine_forward(inputs["x"], np.ones((4, 5)), inputs["b"])
    with pytest.raises(ValueError, match=r"b has shape \(4,\).*axis 0 \(M\) must match M=5"):
        F.affine_forward(inputs["x"], inputs["w"], np.ones(4))
    _, cache = F.affine_forward(**inputs)
    with pytest.raises(ValueError, match=r"dout must have shape \(N, M\).*got shape \(4, 3\)"):
        F.affine_backward(np.ones((4, 3)), cache)
    with pytest.raises(ValueError, match=r"dout must be 2-D .*got 1-D shape \(5,\)"):
        F.affine_backward(np.ones(5), cache)


def test_integer_and_mixed_dtypes_are_refused(rng):
    inputs = affine_inputs(rng)
    with pytest.raises(TypeError, match=r"w must hold floating-point numbers; got dtype int64"):
        F.affine_forward(inputs["x"], np.ones((3, 5), dtype=np.int64), inputs["b"])
    with pytest.raises(TypeError, match=r"x, w, b must have the same dtype; got x float32"):
        F.affine_forward(inputs["x"].astype(np.float32), inputs["w"], inputs["b"])
    _, cache = F.affine_forward(**inputs)
    with pytest.raises(TypeError, match=r"dout, x must have the same dtype; got dout float32"):
        F.affine_backward(np.ones((4, 5), np.float32), cache)


def test_mixed_float_dtypes_in_torch_raise_a_named_error(torch):
    # torch itself would raise a RuntimeError deep inside the matmul
    x, w, b = torch.ones(2, 3), torch.ones(3, 4, dtype=torch.float64), torch.ones(4)
    with pytest.raises(TypeError, match=r"x float32, w float64, b float32"):
        F.affine_forward(x, w, b)


def test_numpy_torch_mix_is_refused(torch, rng):
    inputs = affine_inputs(rng)
    with pytest.raises(TypeError, match=r"mix NumPy arrays and torch tensors.*torch.Tensor"):
        F.affine_forward(torch.as_tensor(inputs["x"]), inputs["w"], inputs["b"])
    _, cache = F.affine_forward(**inputs)
    with pytest.raises(TypeError, match=r"mix NumPy arrays and torch tensors"):
        F.affine_backward(torch.ones(4, 5, dtype=torch.float64), cache)


def test_bad_cache_is_refused(rng):
    with pytest.raises(TypeError, match=r"cache must be the \(x, w\) tuple"):
        F.affine_backward(np.ones((4, 5)), [np.ones((4, 3)), np.ones((3, 5))])


def test_affine_backward_can_skip_the_input_gradient() -> None:
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    out, cache = F.affine_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = F.affine_backward(dout, cache)
    skipped, dw2, db2 = F.affine_backward(dout, cache, input_grad=False)
    assert skipped is None and dx is not None
    np.testing.assert_array_equal(dw, dw2)
    np.testing.assert_array_equal(db, db2)
