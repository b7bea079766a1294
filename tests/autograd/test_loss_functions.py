"""dlkit.autograd.loss_functions: values equal the kernels', gradients checked in float64
(central differences), parity with torch's autograd on every device."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.autograd as A
import dlkit.functional as K
from dlkit.autograd import Tensor
from dlkit.testing import assert_close, check_gradient


def cases(rng):
    logits = rng.standard_normal((5, 3))
    soft = rng.random((5, 3))
    soft /= soft.sum(axis=1, keepdims=True)
    pred, target = rng.standard_normal((5, 2)), rng.standard_normal((5, 2)) * 2
    scores, y01 = rng.standard_normal(5), rng.integers(0, 2, 5).astype(float)
    return [
        ("categorical", A.categorical_cross_entropy, K.categorical_cross_entropy, logits, soft),
        ("binary", A.binary_cross_entropy, K.binary_cross_entropy, scores, y01),
        ("mae", A.mae_loss, K.mae_loss, pred, target),
        ("huber", A.huber_loss, K.huber_loss, pred, target),
    ]


def test_values_and_gradients_match_the_kernels_and_central_differences(rng):
    for name, op, kernel, x, t in cases(rng):
        leaf = Tensor(x, requires_grad=True)
        loss = op(leaf, t)
        expected, dx = kernel(x, t)
        assert loss.shape == () and loss.requires_grad, name
        assert_close(loss.data, expected, name=f"{name} value")
        (loss * 3.0).backward()
        assert_close(leaf.grad, 3.0 * dx, name=f"{name} gradient vs kernel")
        check_gradient(lambda z, op=op, t=t: op(Tensor(z), t).item(), x.copy(), dx, name=name)


def test_regression_targets_get_the_opposite_gradient(rng):
    pred, target = rng.standard_normal(6), rng.standard_normal(6)
    for op in (A.mae_loss, A.huber_loss):
        p, t = Tensor(pred, requires_grad=True), Tensor(target, requires_grad=True)
        op(p, t).backward()
        assert_close(t.grad, -p.grad, name="d/dtarget")


def test_huber_delta_and_binary_from_probabilities(rng):
    pred, target = rng.standard_normal(8) * 3, np.zeros(8)
    assert_close(
        A.huber_loss(Tensor(pred), target, delta=0.5).data,
        K.huber_loss(pred, target, delta=0.5)[0],
        name="huber delta",
    )
    p = rng.random(6) * 0.8 + 0.1
    y = (rng.random(6) > 0.5).astype(float)
    assert_close(
        A.binary_cross_entropy(Tensor(p), y, from_logits=False).data,
        K.binary_cross_entropy(p, y, from_logits=False)[0],
        name="bce on p",
    )
    with pytest.raises(ValueError, match="delta must be a positive number"):
        A.huber_loss(Tensor(pred), target, delta=0.0)


def test_parity_with_torch_autograd(torch, device, rng):
    F = torch.nn.functional
    references = {
        "categorical": lambda z, t: F.cross_entropy(z, t),
        "binary": lambda z, t: F.binary_cross_entropy_with_logits(z, t),
        "mae": lambda z, t: F.l1_loss(z, t),
        "huber": lambda z, t: F.huber_loss(z, t),
    }
    for name, op, _, x, t in cases(rng):
        xt, tt = torch.as_tensor(x, device=device), torch.as_tensor(t, device=device)
        ours = Tensor(xt.clone(), requires_grad=True)
        loss = op(ours, tt)
        loss.backward()
        ref = xt.clone().requires_grad_(True)
        ref_loss = references[name](ref, tt)
        ref_loss.backward()
        assert loss.data.device.type == device
        assert_close(loss.data, ref_loss.detach(), name=f"{name} value")
        assert_close(ours.grad, ref.grad, name=f"{name} gradient")
