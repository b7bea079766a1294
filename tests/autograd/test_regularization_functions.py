"""dlkit.autograd.regularization_functions: penalties over lists of weights and dropout,
against the kernels, central differences and torch."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.autograd as A
from dlkit.autograd import Tensor
from dlkit.testing import assert_close, check_gradient


def away_from_zero(rng, shape):  # |w| has a kink at 0
    return rng.choice([-1.0, 1.0], shape) * (0.2 + rng.random(shape))


def test_penalties_over_a_list_of_weights(rng):
    ws = [away_from_zero(rng, (3, 4)), away_from_zero(rng, (4, 2))]
    for op, value, grad in (
        (A.l2_penalty, lambda w: 0.5 * np.sum(w * w), lambda w: w),
        (A.l1_penalty, lambda w: np.sum(np.abs(w)), np.sign),
    ):
        leaves = [Tensor(w, requires_grad=True) for w in ws]
        penalty = op(leaves, 0.3)
        assert penalty.shape == ()
        assert_close(penalty.data, 0.3 * sum(value(w) for w in ws), name="penalty")
        (2.0 * penalty).backward()
        for leaf, w in zip(leaves, ws, strict=True):
            assert_close(leaf.grad, 0.6 * grad(w), name="gradient")
            check_gradient(lambda z, op=op: op(Tensor(z), 0.3).item(), w.copy(), 0.3 * grad(w))
        single = Tensor(ws[0], requires_grad=True)
        op(single, 0.3).backward()
        assert_close(single.grad, 0.3 * grad(ws[0]), name="one tensor")


def test_penalty_errors(rng):
    with pytest.raises(ValueError, match="at least one tensor"):
        A.l2_penalty([], 0.1)
    with pytest.raises(ValueError, match="lam must be a finite number >= 0"):
        A.l1_penalty(Tensor(np.ones(2)), -1.0)


def test_dropout_op_matches_the_kernel_mask_and_backward(rng):
    x = rng.standard_normal((5, 4))
    leaf = Tensor(x, requires_grad=True)
    out = A.dropout(leaf, 0.5, rng=np.random.default_rng(0))
    keep = np.random.default_rng(0).random((5, 4)) >= 0.5
    assert_close(out.data, x * keep * 2.0, name="dropout out")
    out.sum().backward()
    assert_close(leaf.grad, keep * 2.0, name="dropout grad")
    assert_close(A.dropout(Tensor(x), 0.5, rng=rng, training=False).data, x, name="eval")


def test_l2_gradient_parity_with_torch(torch, device, rng):
    w = torch.as_tensor(rng.standard_normal((3, 3)), device=device)
    ours = Tensor(w.clone(), requires_grad=True)
    A.l2_penalty([ours], 0.2).backward()
    ref = w.clone().requires_grad_(True)
    (0.5 * 0.2 * (ref**2).sum()).backward()
    assert_close(ours.grad, ref.grad, name="l2 grad")
