"""dlkit.nn.conv: Conv2d, MaxPool2d, AvgPool2d and Flatten."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dlkit.autograd as A
import dlkit.functional as F
from dlkit import nn
from dlkit.autograd import Tensor
from dlkit.data import make_shapes
from dlkit.optim import Adam
from dlkit.testing import assert_close


def test_conv2d_shapes_and_he_init():
    layer = nn.Conv2d(3, 8, (3, 5), rng=np.random.default_rng(0))
    assert layer.weight.shape == (8, 3, 3, 5) and layer.bias.shape == (8,)
    expected = np.random.default_rng(0).standard_normal((8, 3, 3, 5)) * math.sqrt(2 / 45)
    assert_close(layer.weight.data, expected, name="He-initialised weight (fan_in = C*KH*KW)")
    assert np.all(layer.bias.data == 0)
    assert nn.Conv2d(3, 8, 3, bias=False, rng=np.random.default_rng(0)).bias is None
    assert len(layer.parameters()) == 2


def test_conv2d_forward_is_the_kernel(rng):
    layer = nn.Conv2d(2, 4, 3, stride=2, padding=1, dilation=(1, 2), rng=rng)
    layer.bias.data[:] = rng.standard_normal(4)
    x = rng.standard_normal((3, 2, 9, 10))
    out = layer(x)
    ref, _ = F.conv2d_forward(
        x, layer.weight.data, layer.bias.data, stride=2, pad=1, dilation=(1, 2)
    )
    assert_close(out.data, ref, name="Conv2d(x)")
    out.sum().backward()
    assert layer.weight.grad.shape == (4, 2, 3, 3) and layer.bias.grad.shape == (4,)


def test_modules_match_torch_layers(torch, rng):
    conv = nn.Conv2d(3, 5, 3, stride=(1, 2), padding=1, rng=rng)
    ref = torch.nn.Conv2d(3, 5, 3, stride=(1, 2), padding=1).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(conv.weight.data))
        ref.bias.copy_(torch.tensor(rng.standard_normal(5)))
    conv.bias.data[:] = ref.bias.detach().numpy()
    x = rng.standard_normal((2, 3, 8, 9))
    model = nn.Sequential(
        conv, nn.ReLU(), nn.MaxPool2d(2), nn.AvgPool2d(2, padding=1), nn.Flatten()
    )
    torch_model = torch.nn.Sequential(
        ref,
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.AvgPool2d(2, padding=1),
        torch.nn.Flatten(),
    )
    out = model(x)
    tout = torch_model(torch.tensor(x))
    assert_close(out.data, tout.detach().numpy(), name="CNN output")
    out.sum().backward()
    tout.sum().backward()
    assert_close(conv.weight.grad, ref.weight.grad.numpy(), name="dweight")
    assert_close(conv.bias.grad, ref.bias.grad.numpy(), name="dbias")


def test_flatten_and_pool_modules(rng):
    x = Tensor(rng.standard_normal((4, 3, 6, 6)))
    assert nn.Flatten()(x).shape == (4, 108)
    assert nn.MaxPool2d(3, stride=1)(x).shape == (4, 3, 4, 4)
    assert nn.AvgPool2d((2, 3))(x).shape == (4, 3, 3, 2)
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(size=(2, 2), stride=(2, 2))"
    assert repr(nn.Flatten()) == "Flatten()"
    assert repr(nn.Conv2d(1, 2, 3, padding=1, rng=rng)) == (
        "Conv2d(1, 2, kernel_size=(3, 3), padding=(1, 1), bias=True)"
    )


def test_module_errors(rng):
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        nn.Conv2d(1, 2, 3, rng=0)
    with pytest.raises(ValueError, match=r"out_channels must be >= 1; got 0"):
        nn.Conv2d(1, 0, 3, rng=rng)
    with pytest.raises(TypeError, match=r"in_channels must be an int"):
        nn.Conv2d(1.0, 2, 3, rng=rng)
    with pytest.raises(ValueError, match=r"kernel_size must be >= 1"):
        nn.Conv2d(1, 2, 0, rng=rng)
    with pytest.raises(ValueError, match=r"padding must be >= 0"):
        nn.Conv2d(1, 2, 3, padding=-1, rng=rng)
    layer = nn.Conv2d(3, 2, 3, rng=rng)
    with pytest.raises(
        ValueError, match=r"expects x of shape \(N, 3, H, W\); got shape \(2, 1, 5, 5\)"
    ):
        layer(rng.standard_normal((2, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"expects x of shape \(N, C, H, W\); got shape \(5, 5\)"):
        nn.MaxPool2d(2)(rng.standard_normal((5, 5)))
    with pytest.raises(ValueError, match=r"Flatten expects x with a batch axis"):
        nn.Flatten()(rng.standard_normal(5))
    with pytest.raises(ValueError, match=r"stride must be >= 1"):
        nn.AvgPool2d(2, stride=0)


def test_a_small_cnn_learns_the_shapes(rng):
    """Conv-pool-conv-pool-dense on 12x12 shapes: the training loss falls well below chance."""
    x, y = make_shapes(128, rng=rng, size=12, noise=0.05)
    x = x.astype(np.float64)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1, rng=rng),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1, rng=rng),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 3 * 3, 4, rng=rng),
    )
    opt = Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(40):
        model.zero_grad()
        loss = A.softmax_cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss.data))
    assert losses[-1] < 0.5 * math.log(4), f"loss went from {losses[0]:.3f} to {losses[-1]:.3f}"
