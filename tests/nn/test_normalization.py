"""dlkit.nn normalization layers: parameters vs buffers, train/eval, parity with torch.nn."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.autograd as A
from dlkit import nn, optim
from dlkit.autograd import Tensor
from dlkit.testing import assert_close


def copy_affine(ours, ref):
    """Give the torch layer our (randomised) scale and shift."""
    import torch

    with torch.no_grad():
        ref.weight.copy_(torch.as_tensor(ours.weight.data))
        ref.bias.copy_(torch.as_tensor(ours.bias.data))


def randomise(layer, rng):
    layer.weight.data = rng.uniform(0.5, 2.0, layer.weight.shape)
    layer.bias.data = rng.standard_normal(layer.bias.shape)


@pytest.mark.parametrize(("cls", "shape"), [("BatchNorm1d", (8, 5)), ("BatchNorm1d", (4, 5, 3)),
                                            ("BatchNorm2d", (4, 5, 3, 3))])  # fmt: skip
def test_batchnorm_matches_torch_in_train_and_eval_with_running_stats(torch, rng, cls, shape):
    ours = getattr(nn, cls)(5, momentum=0.3, eps=1e-3)
    ref = getattr(torch.nn, cls)(5, momentum=0.3, eps=1e-3).double()
    randomise(ours, rng)
    copy_affine(ours, ref)
    for step in range(5):
        training = step < 3
        ours.train(training)
        ref.train(training)
        ours.zero_grad()
        ref.zero_grad()
        x = 2.0 + 3.0 * rng.standard_normal(shape)
        dout = rng.standard_normal(shape)
        xt = torch.tensor(x, requires_grad=True)
        out_ref = ref(xt)
        out_ref.backward(torch.tensor(dout))
        xo = Tensor(x, requires_grad=True)
        out = ours(xo)
        (out * Tensor(dout)).sum().backward()
        assert_close(out.data, out_ref.detach().numpy(), name=f"output, step {step}")
        assert_close(xo.grad, xt.grad.numpy(), name=f"dx, step {step}")
        assert_close(ours.weight.grad, ref.weight.grad.numpy(), name="dgamma")
        assert_close(ours.bias.grad, ref.bias.grad.numpy(), name="dbeta")
        assert_close(ours.running_mean, ref.running_mean.numpy(), name="running_mean")
        assert_close(ours.running_var, ref.running_var.numpy(), name="running_var")
    assert ours.num_batches_tracked == int(ref.num_batches_tracked) == 3


def test_running_stats_are_buffers_not_parameters(rng):
    layer = nn.BatchNorm1d(3)
    assert layer.parameters() == [layer.weight, layer.bias]
    assert set(layer.buffers()) == {"running_mean", "running_var"}
    model = nn.Sequential(nn.Linear(2, 3, rng=rng), layer, nn.ReLU(), nn.Linear(3, 1, rng=rng))
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = rng.standard_normal((16, 2))
    A.mse_loss(model(x), np.zeros((16, 1))).backward()
    mean_after_forward = layer.running_mean.copy()
    opt.step()
    assert np.array_equal(layer.running_mean, mean_after_forward)  # the optimizer left it


def test_train_and_eval_switch_batchnorm_through_sequential(rng):
    layer = nn.BatchNorm1d(2)
    model = nn.Sequential(layer, nn.ReLU())
    x = rng.standard_normal((6, 2)) + 5.0
    model.eval()
    assert not layer.training
    assert_close(model(x).data, np.maximum(x / np.sqrt(1 + 1e-5), 0), name="eval output")
    assert np.array_equal(layer.running_mean, np.zeros(2))  # eval leaves the buffers
    model.train()
    out = model(x).data
    assert abs(out.mean()) < 1.0 and layer.running_mean.mean() > 0.4
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        model(x[:1])
    model.eval()
    assert model(x[:1]).shape == (1, 2)  # one example is fine in evaluation


def test_layernorm_groupnorm_instancenorm_match_torch(torch, rng):
    x = rng.standard_normal((3, 4, 5, 5))
    dout = rng.standard_normal(x.shape)
    cases = [
        (nn.LayerNorm((5, 5)), torch.nn.LayerNorm((5, 5)).double()),
        (nn.LayerNorm(5), torch.nn.LayerNorm(5).double()),
        (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4).double()),
        (nn.InstanceNorm2d(4, affine=True), torch.nn.InstanceNorm2d(4, affine=True).double()),
        (nn.InstanceNorm2d(4), torch.nn.InstanceNorm2d(4).double()),
    ]
    for ours, ref in cases:
        if ours.weight is not None:
            randomise(ours, rng)
            copy_affine(ours, ref)
        xt = torch.tensor(x, requires_grad=True)
        out_ref = ref(xt)
        out_ref.backward(torch.tensor(dout))
        xo = Tensor(x, requires_grad=True)
        out = ours(xo)
        (out * Tensor(dout)).sum().backward()
        assert_close(out.data, out_ref.detach().numpy(), name=f"{ours!r} output")
        assert_close(xo.grad, xt.grad.numpy(), name=f"{ours!r} dx")
        if ours.weight is not None:
            assert_close(ours.weight.grad, ref.weight.grad.numpy(), name=f"{ours!r} dgamma")
            assert_close(ours.bias.grad, ref.bias.grad.numpy(), name=f"{ours!r} dbeta")
        else:
            assert ours.parameters() == []


def test_weight_norm_linear_matches_torch(torch, rng):
    ours = nn.WeightNormLinear(4, 3, rng=rng)
    assert_close(ours.weight.data, ours.v.data, name="initial weight = v (g = ||v||)")
    ours.g.data = rng.uniform(0.5, 2.0, (1, 3))
    ours.bias.data = rng.standard_normal(3)
    ref = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(ours.v.data.T))
        ref.bias.copy_(torch.tensor(ours.bias.data))
    ref = torch.nn.utils.parametrizations.weight_norm(ref)  # dim=0 on torch's (out, in)
    with torch.no_grad():
        ref.parametrizations.weight.original0.copy_(torch.tensor(ours.g.data.T))
    x, dout = rng.standard_normal((6, 4)), rng.standard_normal((6, 3))
    xt = torch.tensor(x, requires_grad=True)
    out_ref = ref(xt)
    out_ref.backward(torch.tensor(dout))
    xo = Tensor(x, requires_grad=True)
    out = ours(xo)
    (out * Tensor(dout)).sum().backward()
    orig = ref.parametrizations.weight
    assert_close(out.data, out_ref.detach().numpy(), name="output")
    assert_close(xo.grad, xt.grad.numpy(), name="dx")
    assert_close(ours.v.grad, orig.original1.grad.numpy().T, name="dv")
    assert_close(ours.g.grad, orig.original0.grad.numpy().T, name="dg")
    assert_close(ours.bias.grad, ref.bias.grad.numpy(), name="dbias")
    assert [p.shape for p in ours.parameters()] == [(4, 3), (1, 3), (3,)]
    no_bias = nn.WeightNormLinear(4, 2, rng=rng, bias=False)
    assert no_bias(x).shape == (6, 2) and "bias=False" in repr(no_bias)


def test_batchnorm_buffers_follow_torch_parameters(torch, rng):
    layer = nn.BatchNorm2d(3)
    for p in layer.parameters():
        p.data = torch.as_tensor(p.data, dtype=torch.float32)
    x = torch.tensor(rng.standard_normal((2, 3, 4, 4)), dtype=torch.float32)
    out = layer(x)
    assert isinstance(layer.running_mean, torch.Tensor)
    assert layer.running_var.dtype == torch.float32 and out.data.dtype == torch.float32


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: nn.BatchNorm1d(0), "num_features must be a positive int"),
        (lambda: nn.GroupNorm(3, 4), "num_groups must divide num_channels=4"),
        (lambda: nn.LayerNorm(()), "normalized_shape"),
        (lambda: nn.WeightNormLinear(2, 0, rng=np.random.default_rng(0)), "out_features"),
    ],
)
def test_bad_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_input_shapes_name_the_layer(rng):
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3.*expects x of shape \(N, 3\)"):
        nn.BatchNorm1d(3)(rng.standard_normal((4, 2)))
    with pytest.raises(ValueError, match=r"BatchNorm2d.*\(N, 3, H, W\)"):
        nn.BatchNorm2d(3)(rng.standard_normal((4, 3)))
    with pytest.raises(ValueError, match=r"GroupNorm.*\(N, 4, \.\.\.\)"):
        nn.GroupNorm(2, 4)(rng.standard_normal((4, 3)))
    with pytest.raises(ValueError, match=r"InstanceNorm2d.*\(N, 2, H, W\)"):
        nn.InstanceNorm2d(2)(rng.standard_normal((4, 2)))
    with pytest.raises(ValueError, match="trailing axes"):
        nn.LayerNorm(3)(rng.standard_normal((4, 2)))
    with pytest.raises(ValueError, match=r"WeightNormLinear.*\(N, 2\)"):
        nn.WeightNormLinear(2, 3, rng=rng)(rng.standard_normal((4, 3)))
