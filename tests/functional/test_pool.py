"""dlkit.functional.pool: max and average pooling, forward and backward."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dlkit.functional as F
from dlkit.testing import check_layer_gradients

from ._reference import TOL, expect_like, expect_numpy

# (shape, size, stride): the 2x2 fast path (even and odd sizes), general non-overlapping and
# overlapping windows, rectangular windows and strides
MAX_CASES = [
    ((2, 3, 8, 8), 2, None),
    ((2, 3, 7, 9), 2, 2),
    ((1, 2, 9, 9), 3, None),
    ((2, 2, 7, 8), 3, 1),
    ((1, 3, 10, 11), (2, 3), (1, 2)),
    ((2, 1, 6, 5), (3, 2), (2, 1)),
    ((1, 2, 5, 5), 1, None),
]
# (shape, size, stride, pad)
AVG_CASES = [
    ((2, 3, 8, 8), 2, None, 0),
    ((2, 3, 7, 9), 2, 2, 1),
    ((1, 2, 9, 9), 3, 2, 1),
    ((2, 2, 7, 8), 3, 1, 0),
    ((1, 3, 10, 11), (2, 3), (1, 2), (1, 0)),
    ((2, 1, 6, 5), (3, 2), (2, 1), (1, 1)),
]


def max_forward(x, size, stride):
    return F.maxpool2d_forward(x, size, stride)


def avg_forward(x, size, stride, pad):
    return F.avgpool2d_forward(x, size, stride, pad)


# -- definitions ------------------------------------------------------------------------


def test_maxpool_on_a_hand_computed_example():
    x = np.array([[[[1.0, 2.0, 5.0, 0.0], [3.0, 4.0, 6.0, 7.0], [0.0, 0.0, 1.0, 1.0]]]])
    out, cache = F.maxpool2d_forward(x, 2)  # the last row is in no window
    np.testing.assert_array_equal(out, [[[[4.0, 7.0]]]])
    dx = F.maxpool2d_backward(np.array([[[[10.0, 20.0]]]]), cache)
    expected = [[0.0, 0.0, 0.0, 0.0], [0.0, 10.0, 0.0, 20.0], [0.0, 0.0, 0.0, 0.0]]
    np.testing.assert_array_equal(dx[0, 0], expected)


@pytest.mark.parametrize("size", [2, 3])
def test_maxpool_ties_go_to_the_first_maximum_in_row_major_order(size):
    x = np.ones((1, 1, size, size))
    _, cache = F.maxpool2d_forward(x, size)
    dx = F.maxpool2d_backward(np.ones((1, 1, 1, 1)), cache)
    expected = np.zeros((size, size))
    expected[0, 0] = 1.0
    np.testing.assert_array_equal(dx[0, 0], expected)
    x = np.zeros((1, 1, size, size))
    x[0, 0, -1, 0] = x[0, 0, -1, -1] = 1.0  # a tie on the bottom row: the left one wins
    _, cache = F.maxpool2d_forward(x, size)
    dx = F.maxpool2d_backward(np.ones((1, 1, 1, 1)), cache)
    assert dx[0, 0, -1, 0] == 1.0 and dx.sum() == 1.0


def test_overlapping_max_windows_accumulate():
    x = np.array([[[[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]])
    out, cache = F.maxpool2d_forward(x, 2, 1)  # the centre wins all four windows
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 9.0))
    dx = F.maxpool2d_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    assert dx[0, 0, 1, 1] == 10.0 and dx.sum() == 10.0


def test_avgpool_on_a_hand_computed_example():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, cache = F.avgpool2d_forward(x, 2)
    np.testing.assert_array_equal(out[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    dx = F.avgpool2d_backward(np.ones((1, 1, 2, 2)), cache)
    np.testing.assert_array_equal(dx, np.full((1, 1, 4, 4), 0.25))
    out, _ = F.avgpool2d_forward(x, 2, pad=1)  # zeros count: the corner window is 0/4
    assert out.shape == (1, 1, 3, 3) and out[0, 0, 0, 0] == 0.0 and out[0, 0, 2, 2] == 15 / 4


@given(
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(2, 9), st.integers(2, 9)),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(0, 2**32 - 1),
)
def test_property_pooling_matches_a_loop_and_backward_conserves_gradient(shape, size, stride, seed):
    """For any geometry: the maximum and the mean of each window, as a loop computes them;
    max pooling's backward hands out exactly the total gradient (each window's to one
    pixel), and average pooling's backward is the adjoint of its forward."""
    rng = np.random.default_rng(seed)
    n, c, h, w = shape
    size = min(size, h, w)
    x = rng.standard_normal(shape)
    out, cache = F.maxpool2d_forward(x, size, stride)
    mean, avg_cache = F.avgpool2d_forward(x, size, stride)
    oh, ow = (h - size) // stride + 1, (w - size) // stride + 1
    assert out.shape == mean.shape == (n, c, oh, ow)
    for y in range(oh):
        for x_ in range(ow):
            window = x[:, :, y * stride : y * stride + size, x_ * stride : x_ * stride + size]
            np.testing.assert_array_equal(out[:, :, y, x_], window.max(axis=(2, 3)))
            np.testing.assert_allclose(mean[:, :, y, x_], window.mean(axis=(2, 3)), rtol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = F.maxpool2d_backward(dout, cache)
    assert np.isclose(dx.sum(), dout.sum()) and np.count_nonzero(dx) <= dout.size
    assert np.isclose(np.vdot(F.avgpool2d_backward(dout, avg_cache), x), np.vdot(dout, mean))


# -- gradients, float64 -----------------------------------------------------------------


@pytest.mark.parametrize(("shape", "size", "stride"), MAX_CASES)
def test_maxpool_backward_matches_central_differences(shape, size, stride, rng):
    # distinct values, far apart: a finite difference never changes which pixel wins
    x = rng.permutation(np.prod(shape)).reshape(shape) * 0.1
    check_layer_gradients(
        max_forward, F.maxpool2d_backward, {"x": x}, rng=rng, size=size, stride=stride
    )


@pytest.mark.parametrize(("shape", "size", "stride", "pad"), AVG_CASES)
def test_avgpool_backward_matches_central_differences(shape, size, stride, pad, rng):
    check_layer_gradients(
        avg_forward,
        F.avgpool2d_backward,
        {"x": rng.standard_normal(shape)},
        rng=rng,
        size=size,
        stride=stride,
        pad=pad,
    )


# -- parity with torch ------------------------------------------------------------------


def torch_pool(torch, kind, x, dout, size, stride, pad, dtype, device):
    tdtype = getattr(torch, dtype)
    leaf = torch.tensor(x, dtype=tdtype, device=device, requires_grad=True)
    pool = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    kwargs = {"padding": pad} if kind == "avg" else {}
    out = pool(leaf, size, stride, **kwargs)
    (grad,) = torch.autograd.grad(out, leaf, torch.tensor(dout, dtype=tdtype, device=device))
    return out, grad


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("shape", "size", "stride"), MAX_CASES)
def test_maxpool_matches_torch(shape, size, stride, dtype, ties, device, torch, rng):
    x = rng.integers(0, 3, shape).astype(dtype) if ties else rng.standard_normal(shape)
    out_np, _ = F.maxpool2d_forward(x, size, stride)
    dout = rng.standard_normal(out_np.shape)
    ref, ref_grad = torch_pool(torch, "max", x, dout, size, stride, 0, dtype, device)
    tdtype = getattr(torch, dtype)
    out, cache = F.maxpool2d_forward(torch.tensor(x, dtype=tdtype, device=device), size, stride)
    expect_like(out, ref)
    dx = F.maxpool2d_backward(torch.tensor(dout, dtype=tdtype, device=device), cache)
    expect_like(dx, ref_grad)
    # and the NumPy path agrees with torch too
    out, cache = F.maxpool2d_forward(x.astype(dtype), size, stride)
    dx = F.maxpool2d_backward(dout.astype(dtype), cache)
    expect_numpy(dx, shape, dtype)
    np.testing.assert_allclose(dx, ref_grad.cpu().numpy(), **TOL[dtype])  # sums of overlaps
    np.testing.assert_array_equal(out, ref.detach().cpu().numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("shape", "size", "stride", "pad"), AVG_CASES)
def test_avgpool_matches_torch(shape, size, stride, pad, dtype, device, torch, rng):
    x = rng.standard_normal(shape)
    out_np, _ = F.avgpool2d_forward(x, size, stride, pad)
    dout = rng.standard_normal(out_np.shape)
    ref, ref_grad = torch_pool(torch, "avg", x, dout, size, stride, pad, dtype, device)
    tdtype = getattr(torch, dtype)
    out, cache = F.avgpool2d_forward(
        torch.tensor(x, dtype=tdtype, device=device), size, stride, pad
    )
    expect_like(out, ref)
    expect_like(
        F.avgpool2d_backward(torch.tensor(dout, dtype=tdtype, device=device), cache), ref_grad
    )
    out, cache = F.avgpool2d_forward(x.astype(dtype), size, stride, pad)
    dx = F.avgpool2d_backward(dout.astype(dtype), cache)
    expect_numpy(out, tuple(ref.shape), dtype)
    expect_numpy(dx, shape, dtype)
    np.testing.assert_allclose(dx, ref_grad.cpu().numpy(), **TOL[dtype])


# -- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize("forward", [F.maxpool2d_forward, F.avgpool2d_forward])
def test_pool_errors(forward, rng):
    x = rng.standard_normal((1, 2, 5, 5))
    with pytest.raises(ValueError, match=r"x must be a 4-D batch of images .*got 2-D"):
        forward(x[0, 0])
    with pytest.raises(
        ValueError, match=r"pooling window \(6, 6\) spans 6 pixels along H, larger than"
    ):
        forward(x, 6)
    with pytest.raises(ValueError, match=r"size must be >= 1"):
        forward(x, 0)
    with pytest.raises(ValueError, match=r"stride must be >= 1"):
        forward(x, 2, 0)
    with pytest.raises(TypeError, match=r"size must be an int or a pair of ints"):
        forward(x, 2.0)
    with pytest.raises(TypeError, match=r"x must hold floating-point numbers"):
        forward(x.astype(int))


def test_pool_backward_errors(rng):
    x = rng.standard_normal((1, 2, 6, 6))
    out, cache = F.maxpool2d_forward(x, 3)
    with pytest.raises(TypeError, match=r"cache must be the tuple returned by maxpool2d_forward"):
        F.maxpool2d_backward(out, (x,))
    with pytest.raises(ValueError, match=r"dout must have shape \(N, C, OH, OW\)"):
        F.maxpool2d_backward(np.ones((1, 2, 3, 3)), cache)
    out, cache = F.avgpool2d_forward(x, 3, pad=1)
    with pytest.raises(TypeError, match=r"cache must be the tuple returned by avgpool2d_forward"):
        F.avgpool2d_backward(out, (x,))
    with pytest.raises(ValueError, match=r"dout must have shape \(N, C, OH, OW\)"):
        F.avgpool2d_backward(np.ones((1, 2, 3, 3)), cache)
    with pytest.raises(TypeError, match=r"dout, x must have the same dtype"):
        F.avgpool2d_backward(np.ones(out.shape, np.float32), cache)
    with pytest.raises(ValueError, match=r"pad must be >= 0"):
        F.avgpool2d_forward(x, 2, pad=-1)
