"""mlp_forward against torch's nn.Sequential with the same weights, and its errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlkit.functional import affine_forward, mlp_forward, relu
from dlkit.init import init_mlp

from ._reference import expect_like, expect_numpy

ACTIVATIONS = ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "identity"]


def _torch_mlp(torch, params, activation):
    layers = []
    act = {
        "relu": torch.nn.ReLU,
        "leaky_relu": torch.nn.LeakyReLU,
        "sigmoid": torch.nn.Sigmoid,
        "tanh": torch.nn.Tanh,
        "gelu": torch.nn.GELU,
        "identity": torch.nn.Identity,
    }[activation]
    for i, (w, b) in enumerate(params):
        lin = torch.nn.Linear(*w.shape, dtype=torch.float64)
        with torch.no_grad():  # torch stores the weight as (out, in): copy the transpose
            lin.weight.copy_(torch.as_tensor(w.T))
            lin.bias.copy_(torch.as_tensor(b))
        layers.append(lin)
        if i < len(params) - 1:
            layers.append(act())
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", [[3, 2], [4, 8, 3], [5, 16, 16, 7, 2]])
def test_matches_torch_sequential(torch, activation, sizes, rng) -> None:
    params = init_mlp(sizes, rng=rng)
    params = [(w, rng.standard_normal(b.shape)) for w, b in params]  # non-zero biases
    x = rng.standard_normal((6, sizes[0]))
    out = mlp_forward(x, params, activation)
    expect_numpy(out, (6, sizes[-1]), np.float64)
    ref = _torch_mlp(torch, params, activation)(torch.as_tensor(x)).detach().numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)


def test_torch_inputs_stay_torch(torch, device, rng) -> None:
    params = init_mlp([4, 8, 3], rng=rng)
    x = rng.standard_normal((5, 4))
    tparams = [
        (torch.as_tensor(w, device=device), torch.as_tensor(b, device=device)) for w, b in params
    ]
    tx = torch.as_tensor(x, device=device)
    out = mlp_forward(tx, tparams, "tanh")
    ref = _torch_mlp(torch, params, "tanh").to(device)(tx)
    expect_like(out, ref)


def test_last_layer_is_linear_and_default_is_relu(rng) -> None:
    params = init_mlp([3, 5, 2], rng=rng)
    (w1, b1), (w2, b2) = params
    x = rng.standard_normal((7, 3))
    expected = relu(affine_forward(x, w1, b1)[0]) @ w2 + b2
    np.testing.assert_allclose(mlp_forward(x, params), expected)
    assert (mlp_forward(x, params) < 0).any(), "scores may be negative: no ReLU at the output"


def test_one_layer_is_a_linear_model(rng) -> None:
    w, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    x = rng.standard_normal((4, 3))
    np.testing.assert_allclose(mlp_forward(x, [(w, b)], "sigmoid"), x @ w + b)


def test_accepts_a_function_as_activation(rng) -> None:
    params = init_mlp([2, 4, 1], rng=rng)
    x = rng.standard_normal((3, 2))
    seen = []

    def spy(z):
        seen.append(z.shape)
        return np.sin(z)

    out = mlp_forward(x, params, spy)
    assert seen == [(3, 4)]
    (w1, b1), (w2, b2) = params
    np.testing.assert_allclose(out, np.sin(x @ w1 + b1) @ w2 + b2)


@pytest.mark.parametrize(
    "args, exc, words",
    [
        ((np.ones((2, 3)), []), ValueError, "params is empty"),
        ((np.ones((2, 3)), "w"), TypeError, "params"),
        ((np.ones((2, 3)), [np.ones((3, 2))]), TypeError, "params[0]"),
        ((np.ones((2, 3)), [(np.ones((4, 2)), np.ones(2))]), ValueError, "layer 0"),
        (
            (np.ones((2, 3)), [(np.ones((3, 2)), np.ones(2)), (np.ones((3, 1)), np.ones(1))]),
            ValueError,
            "layer 1",
        ),
        ((np.ones((2, 3)), [(np.ones((3, 2)), np.ones(3))]), ValueError, "b"),
        ((np.ones((2, 3), dtype=int), [(np.ones((3, 2)), np.ones(2))]), TypeError, "x"),
        ((np.ones((2, 3)), [(np.ones((3, 2)), np.ones(2))], "swish"), ValueError, "activation"),
        ((np.ones((2, 3)), [(np.ones((3, 2)), np.ones(2))], 3), TypeError, "activation"),
    ],
)
def test_errors_name_the_argument(args, exc, words) -> None:
    with pytest.raises(exc) as info:
        mlp_forward(*args)
    assert words in str(info.value)


@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5),
    n=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_shapes_and_layer_by_layer_definition(sizes, n, seed) -> None:
    gen = np.random.default_rng(seed)
    params = [(w, gen.standard_normal(b.shape)) for w, b in init_mlp(sizes, rng=gen)]
    x = gen.standard_normal((n, sizes[0]))
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = np.tanh(h)
    out = mlp_forward(x, params, "tanh")
    assert out.shape == (n, sizes[-1])
    np.testing.assert_allclose(out, h, rtol=1e-12, atol=1e-12)
