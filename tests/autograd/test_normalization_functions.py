"""dlkit.autograd normalization ops: each a Function around its dlkit.functional kernel."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.autograd as A
import dlkit.functional as F
from dlkit.autograd import Tensor
from dlkit.testing import assert_close, check_directional


def leaf(a):
    return Tensor(a, requires_grad=True)


def test_batch_norm_op_gives_the_kernel_gradients_and_updates_running_stats(rng):
    x, g, b = rng.standard_normal((6, 3, 2, 2)), rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    dout = rng.standard_normal(x.shape)
    rm, rv = np.zeros(3), np.ones(3)
    tx, tg, tb = leaf(x), leaf(g), leaf(b)
    out = A.batch_norm(tx, tg, tb, rm, rv, momentum=0.25)
    (out * Tensor(dout)).sum().backward()

    rm_k, rv_k = np.zeros(3), np.ones(3)
    ref, cache = F.batchnorm_forward(x, g, b, rm_k, rv_k, momentum=0.25)
    assert_close(out.data, ref, name="batch_norm(x)")
    for t, grad, name in zip((tx, tg, tb), F.batchnorm_backward(dout, cache), "xgb", strict=True):
        assert_close(t.grad, grad, name=f"d{name}")
    assert_close(rm, rm_k, name="running_mean")
    assert_close(rv, rv_k, name="running_var")
    assert not np.array_equal(rm, np.zeros(3))


def test_batch_norm_eval_gradient_is_a_per_channel_scale(rng):
    x = leaf(rng.standard_normal((4, 2)))
    rm, rv = np.array([0.5, -1.0]), np.array([4.0, 0.25])
    out = A.batch_norm(x, Tensor(np.ones(2)), Tensor(np.zeros(2)), rm, rv, training=False)
    out.sum().backward()
    assert_close(x.grad, np.broadcast_to(1 / np.sqrt(rv + 1e-5), (4, 2)), name="dx in eval")


@pytest.mark.parametrize("op", ["layer_norm", "group_norm", "instance_norm", "weight_norm"])
def test_ops_match_finite_differences(rng, op):
    x = rng.standard_normal((3, 4, 2, 3))
    g, b = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    ln_g, ln_b = rng.uniform(0.5, 2, (2, 3)), rng.standard_normal((2, 3))
    calls = {
        "layer_norm": lambda x: A.layer_norm(x, Tensor(ln_g), Tensor(ln_b)),
        "group_norm": lambda x: A.group_norm(x, Tensor(g), Tensor(b), 2),
        "instance_norm": lambda x: A.instance_norm(x),
        "weight_norm": lambda x: A.weight_norm(x, Tensor(np.full((3, 1, 1, 1), 1.5)), dim=0),
    }
    dout = rng.standard_normal(x.shape)
    t = leaf(x)
    (calls[op](t) * Tensor(dout)).sum().backward()

    def loss(value):
        return float(np.vdot(calls[op](Tensor(value)).data, dout))

    check_directional(loss, x, t.grad, rng=rng, name=f"d{op}/dx")


def test_parameter_gradients_of_group_and_weight_norm(rng):
    x = rng.standard_normal((2, 6, 3))
    g, b = leaf(rng.uniform(0.5, 2, 6)), leaf(rng.standard_normal(6))
    out = A.group_norm(Tensor(x), g, b, 3)
    out.sum().backward()
    _, cache = F.groupnorm_forward(x, g.data, b.data, 3)
    _, dgamma, dbeta = F.groupnorm_backward(np.ones(x.shape), cache)
    assert_close(g.grad, dgamma, name="dgamma")
    assert_close(b.grad, dbeta, name="dbeta")
    v, length = leaf(rng.standard_normal((4, 3))), leaf(np.ones((1, 3)))
    A.weight_norm(v, length, dim=1).sum().backward()
    dv, dg = F.weightnorm_backward(np.ones((4, 3)), F.weightnorm_forward(v.data, length.data,
                                                                          dim=1)[1])  # fmt: skip
    assert_close(v.grad, dv, name="dv")
    assert_close(length.grad, dg, name="dg")


def test_group_norm_without_affine_and_errors(rng):
    x = leaf(rng.standard_normal((2, 4, 3)))
    A.group_norm(x, None, None, 2).sum().backward()
    assert_close(x.grad, np.zeros((2, 4, 3)), name="dx of a sum of normalized groups", atol=1e-12)
    with pytest.raises(ValueError, match="both"):
        A.group_norm(x, Tensor(np.ones(4)), None, 2)
    with pytest.raises(ValueError, match="instance norm needs more than one spatial position"):
        A.instance_norm(Tensor(np.ones((2, 4))))
    with pytest.raises(ValueError, match="num_groups"):
        A.group_norm(x, None, None, 3)


def test_ops_on_torch_tensors(rng, torch, device):
    x = Tensor(torch.tensor(rng.standard_normal((5, 3)), device=device), requires_grad=True)
    g = Tensor(torch.ones(3, dtype=torch.float64, device=device), requires_grad=True)
    b = Tensor(torch.zeros(3, dtype=torch.float64, device=device), requires_grad=True)
    rm = torch.zeros(3, dtype=torch.float64, device=device)
    rv = torch.ones(3, dtype=torch.float64, device=device)
    out = A.layer_norm(A.batch_norm(x, g, b, rm, rv), g, b)
    out.sum().backward()
    assert x.grad.device == x.data.device and tuple(x.grad.shape) == (5, 3)
    assert rm.abs().sum() > 0
