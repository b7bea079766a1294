"""dlkit.nn: modules over the tensor autograd."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.autograd as A
from dlkit import nn
from dlkit.autograd import Tensor
from dlkit.data import make_moons
from dlkit.testing import assert_close


def mlp(rng, sizes=(2, 16, 3), act=nn.ReLU):
    layers = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(d_in, d_out, rng=rng))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def test_linear_shapes_init_and_forward(rng):
    layer = nn.Linear(4, 3, rng=np.random.default_rng(0))
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (3,)
    w = np.random.default_rng(0).standard_normal((4, 3)) * np.sqrt(2.0 / 4)
    assert_close(layer.weight.data, w, name="He-initialised weight")
    assert np.all(layer.bias.data == 0)
    x = rng.standard_normal((5, 4))
    assert_close(layer(x).data, x @ layer.weight.data, name="Linear(x)")
    assert layer(Tensor(x)).shape == (5, 3) and "Linear(4, 3" in repr(layer)
    no_bias = nn.Linear(4, 2, rng=rng, bias=False)
    assert no_bias.parameters() == [no_bias.weight] and no_bias(x).shape == (5, 2)


def test_parameters_are_listed_once_in_order(rng):
    model = mlp(rng, (2, 5, 4, 3))
    params = model.parameters()
    assert [p.shape for p in params] == [(2, 5), (5,), (5, 4), (4,), (4, 3), (3,)]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)
    shared = nn.Sequential(model[0], nn.ReLU(), model[0].__class__(5, 5, rng=rng), model[0])
    assert len(shared.parameters()) == 4
    assert "Parameter" in repr(params[0]) and len(model) == 5


def test_backward_fills_grads_and_zero_grad_clears_them(rng):
    model = mlp(rng)
    X, y = rng.standard_normal((8, 2)), rng.integers(0, 3, 8)
    A.softmax_cross_entropy(model(X), y).backward()
    for p in model.parameters():
        assert isinstance(p.grad, np.ndarray) and p.grad.shape == p.data.shape
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_parameter_data_and_grad_follow_the_optimizer_contract(rng, torch):
    model = mlp(rng)
    for p in model.parameters():
        p.data = torch.as_tensor(p.data)
    X = torch.as_tensor(rng.standard_normal((6, 2)))
    A.softmax_cross_entropy(model(X), torch.as_tensor([0, 1, 2, 0, 1, 2])).backward()
    p = model.parameters()[0]
    before = p.data
    p.data -= 0.1 * p.grad  # in place, as an optimizer does
    assert p.data is before and is_same_kind(p.grad, p.data)


def is_same_kind(a, b):
    return type(a) is type(b) and tuple(a.shape) == tuple(b.shape) and a.dtype == b.dtype


def test_train_and_eval_modes_propagate(rng):
    model = mlp(rng)
    assert model.training and model[1].training
    assert model.eval() is model and not model.training and not model[1].training
    model.train()
    assert model[0].training


def test_activations_and_sequential(rng):
    x = rng.standard_normal((3, 4))
    assert_close(nn.ReLU()(Tensor(x)).data, np.maximum(x, 0), name="ReLU")
    assert_close(nn.Tanh()(Tensor(x)).data, np.tanh(x), name="Tanh")
    assert_close(nn.Sigmoid()(Tensor(x)).data, 1 / (1 + np.exp(-x)), name="Sigmoid")
    with pytest.raises(TypeError, match="Sequential takes Modules"):
        nn.Sequential(lambda z: z)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        nn.Linear(4, 2, rng=rng)(np.ones((3, 5)))
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(x)


def train_moons(seed):
    rng = np.random.default_rng(seed)
    X, y = make_moons(200, noise=0.1, rng=rng)
    model = mlp(rng, (2, 32, 32, 2))
    losses = []
    for _ in range(300):
        model.zero_grad()
        loss = A.softmax_cross_entropy(model(X), y)
        loss.backward()
        for p in model.parameters():
            p.data -= 0.3 * p.grad
        losses.append(loss.item())
    accuracy = np.mean(np.argmax(model(X).data, axis=1) == y)
    return losses, accuracy


def test_a_small_mlp_learns_the_moons_with_plain_sgd():
    losses, accuracy = train_moons(0)
    assert losses[-1] < 0.1 < 0.3 < losses[0] and accuracy >= 0.97


def test_same_seed_same_numbers():
    assert train_moons(3)[0] == train_moons(3)[0]
