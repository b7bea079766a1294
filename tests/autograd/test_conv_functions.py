"""dlkit.autograd conv2d, max_pool2d, avg_pool2d: Functions around the functional kernels."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.autograd as A
import dlkit.functional as F
from dlkit.autograd import Tensor
from dlkit.testing import assert_close, check_directional


def leaf(a):
    return Tensor(a, requires_grad=True)


@pytest.mark.parametrize("with_bias", [True, False])
def test_conv2d_op_gives_the_kernel_gradients(with_bias, rng):
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4) if with_bias else None
    tx, tw = leaf(x), leaf(w)
    tb = leaf(b) if with_bias else None
    out = A.conv2d(tx, tw, tb, stride=(2, 1), pad=1, dilation=(1, 2))
    ref, cache = F.conv2d_forward(x, w, b, stride=(2, 1), pad=1, dilation=(1, 2))
    assert_close(out.data, ref, name="conv2d(x, w, b)")
    dout = rng.standard_normal(ref.shape)
    (out * Tensor(dout)).sum().backward()
    dx, dw, db = F.conv2d_backward(dout, cache)
    assert_close(tx.grad, dx, name="dx")
    assert_close(tw.grad, dw, name="dw")
    if with_bias:
        assert_close(tb.grad, db, name="db")


def test_conv2d_skips_dx_for_data_that_needs_no_gradient(rng):
    x = Tensor(rng.standard_normal((2, 1, 5, 5)))  # the data: requires_grad is off
    w = leaf(rng.standard_normal((2, 1, 3, 3)))
    A.conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad.shape == (2, 1, 3, 3)


def test_pool_ops_give_the_kernel_gradients(rng):
    x = rng.standard_normal((2, 3, 7, 8))
    for op, forward, backward, kwargs in (
        (A.max_pool2d, F.maxpool2d_forward, F.maxpool2d_backward, {"size": 3, "stride": 2}),
        (A.avg_pool2d, F.avgpool2d_forward, F.avgpool2d_backward, {"size": 2, "pad": 1}),
    ):
        tx = leaf(x)
        out = op(tx, **kwargs)
        ref, cache = forward(x, **kwargs)
        assert_close(out.data, ref, name=op.__name__)
        dout = rng.standard_normal(ref.shape)
        (out * Tensor(dout)).sum().backward()
        assert_close(tx.grad, backward(dout, cache), name=f"d{op.__name__}")


def test_a_small_cnn_has_correct_gradients_end_to_end(rng):
    """conv -> relu -> max pool -> reshape -> affine -> loss, checked by finite differences."""
    x = rng.standard_normal((3, 2, 8, 8))
    y = np.array([0, 2, 1])
    w1 = rng.standard_normal((4, 2, 3, 3)) * 0.3
    w2 = rng.standard_normal((4 * 4 * 4, 3)) * 0.1

    def loss(w1_value):
        h = A.max_pool2d(A.relu(A.conv2d(Tensor(x), Tensor(w1_value), pad=1)), 2)
        logits = A.affine(A.reshape(h, (3, -1)), Tensor(w2), Tensor(np.zeros(3)))
        return A.softmax_cross_entropy(logits, y)

    tw1 = leaf(w1)
    h = A.max_pool2d(A.relu(A.conv2d(Tensor(x), tw1, pad=1)), 2)  # (3, 4, 4, 4)
    logits = A.affine(A.reshape(h, (3, -1)), Tensor(w2), Tensor(np.zeros(3)))
    A.softmax_cross_entropy(logits, y).backward()
    check_directional(lambda v: loss(v).data, w1, tw1.grad, rng=rng, name="dw1")


def test_conv2d_on_torch_tensors(device, torch, rng):
    x = torch.tensor(rng.standard_normal((2, 3, 6, 6)), device=device)
    w = torch.tensor(rng.standard_normal((4, 3, 3, 3)), device=device)
    tx, tw = leaf(x), leaf(w)
    out = A.max_pool2d(A.conv2d(tx, tw, pad=1), 2)
    out.sum().backward()
    rx, rw = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    torch.nn.functional.max_pool2d(
        torch.nn.functional.conv2d(rx, rw, padding=1), 2
    ).sum().backward()
    assert tx.grad.device == rx.grad.device
    assert_close(tx.grad, rx.grad, name="dx")
    assert_close(tw.grad, rw.grad, name="dw")
