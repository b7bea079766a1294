"""dlkit.autograd.block_functions: concat, pad2d and depthwise_conv2d as autograd ops."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.autograd as A
import dlkit.functional as F
from dlkit.autograd import Tensor
from dlkit.testing import assert_close, check_gradient


def test_concat_splits_the_gradient_back(rng):
    parts = [rng.standard_normal((2, c, 3, 3)) for c in (1, 4, 2)]
    leaves = [Tensor(p, requires_grad=True) for p in parts]
    out = A.concat(leaves, axis=1)
    assert_close(out.data, np.concatenate(parts, axis=1), name="concat")
    dout = rng.standard_normal(out.shape)
    (out * Tensor(dout)).sum().backward()
    assert_close(leaves[0].grad, dout[:, :1], name="grad of piece 0")
    assert_close(leaves[1].grad, dout[:, 1:5], name="grad of piece 1")
    assert_close(leaves[2].grad, dout[:, 5:], name="grad of piece 2")


def test_concat_on_other_axes_and_errors(rng):
    a, b = Tensor(rng.standard_normal((2, 3)), requires_grad=True), Tensor(np.ones((4, 3)))
    out = A.concat([a, b], axis=-2)
    assert out.shape == (6, 3)
    out.sum().backward()
    assert_close(a.grad, np.ones((2, 3)), name="grad")
    with pytest.raises(ValueError, match=r"tensor 1 has \(2, 4\)"):
        A.concat([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))], axis=0)
    with pytest.raises(ValueError, match="at least one tensor"):
        A.concat([])
    with pytest.raises(ValueError, match="axis must be in"):
        A.concat([a, a], axis=2)


def test_pad2d_pads_and_crops_the_gradient(rng):
    x = rng.standard_normal((1, 2, 3, 4))
    leaf = Tensor(x, requires_grad=True)
    assert np.isneginf(A.pad2d(leaf, 2, value=-np.inf).data[..., 0, :]).all()
    out = A.pad2d(leaf, 2, value=3.0)
    assert out.shape == (1, 2, 7, 8)
    assert (out.data[..., :2, :] == 3.0).all() and (out.data[..., :, -2:] == 3.0).all()
    assert_close(out.data[..., 2:-2, 2:-2], x, name="the inside")
    dout = rng.standard_normal(out.shape)
    (out * Tensor(dout)).sum().backward()
    assert_close(leaf.grad, dout[..., 2:-2, 2:-2], name="cropped gradient")
    assert A.pad2d(leaf, 0).shape == x.shape
    with pytest.raises(ValueError, match="pad must be an integer >= 0; got -1"):
        A.pad2d(leaf, -1)


def test_pad2d_matches_torch(torch, device, rng):
    x = torch.tensor(rng.standard_normal((2, 1, 3, 3)), device=device)
    out = A.pad2d(Tensor(x), 1, value=0.5)
    ref = torch.nn.functional.pad(x, (1, 1, 1, 1), value=0.5)
    assert torch.equal(out.data, ref)


def test_depthwise_op_gradients_are_the_kernels(rng):
    x, w, b = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((3, 1, 3, 3)), np.zeros(3)
    leaves = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    out = A.depthwise_conv2d(*leaves, stride=2, pad=1, dilation=1)
    ref, cache = F.depthwise_conv2d_forward(x, w, b, 2, 1, 1)
    assert_close(out.data, ref, name="forward")
    dout = rng.standard_normal(ref.shape)
    (out * Tensor(dout)).sum().backward()
    for leaf, g in zip(leaves, F.depthwise_conv2d_backward(dout, cache), strict=True):
        assert_close(leaf.grad, g, name="gradient")
    _, cache_pad = F.depthwise_conv2d_forward(x, w, b, 1, 1)
    dx = F.depthwise_conv2d_backward(np.full((2, 3, 6, 5), 1.5), cache_pad)[0]
    check_gradient(
        lambda z: float(np.sum(A.depthwise_conv2d(Tensor(z), w, b, pad=1).data * 1.5)), x, dx
    )
