"""dlkit.init: the exact drawing convention, the variance each scheme promises, and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlkit.init import he_init, init_mlp, xavier_init


@pytest.mark.parametrize("fan_in, fan_out", [(1, 1), (3, 7), (64, 10), (10, 64)])
def test_he_init_shape_dtype_and_exact_convention(fan_in: int, fan_out: int) -> None:
    w = he_init(fan_in, fan_out, rng=np.random.default_rng(5))
    assert w.shape == (fan_in, fan_out)
    assert w.dtype == np.float64
    expected = np.random.default_rng(5).standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)
    np.testing.assert_array_equal(w, expected)
    # the docstring's promise: rng.normal draws the very same numbers
    same = np.random.default_rng(5).normal(0.0, math.sqrt(2.0 / fan_in), (fan_in, fan_out))
    np.testing.assert_allclose(w, same, rtol=1e-15, atol=0)


def test_he_init_variance_is_two_over_fan_in(rng: np.random.Generator) -> None:
    w = he_init(400, 500, rng=rng)
    assert abs(w.mean()) < 3 * math.sqrt(2 / 400) / math.sqrt(w.size)
    assert w.var() == pytest.approx(2 / 400, rel=0.02)


def test_he_init_uses_only_the_given_generator() -> None:
    a = he_init(8, 4, rng=np.random.default_rng(1))
    b = he_init(8, 4, rng=np.random.default_rng(1))
    c = he_init(8, 4, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_he_init_preserves_the_second_moment_through_relu(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2000, 256))
    h = x
    for _ in range(10):
        h = np.maximum(h @ he_init(256, 256, rng=rng), 0.0)
    # E[h^2] stays near E[x^2] = 1 (each layer: 2/fan_in * fan_in * E[h^2] / 2 * 2 ...)
    assert 0.5 < np.mean(h**2) < 2.0


@pytest.mark.parametrize("uniform", [False, True])
def test_xavier_init_variance(uniform: bool, rng: np.random.Generator) -> None:
    w = xavier_init(300, 500, rng=rng, uniform=uniform)
    assert w.shape == (300, 500)
    assert w.var() == pytest.approx(2 / 800, rel=0.02)
    if uniform:
        assert np.abs(w).max() <= math.sqrt(6 / 800)


def test_xavier_init_exact_convention() -> None:
    w = xavier_init(6, 4, rng=np.random.default_rng(3))
    expected = np.random.default_rng(3).standard_normal((6, 4)) * math.sqrt(2 / 10)
    np.testing.assert_array_equal(w, expected)
    u = xavier_init(6, 4, rng=np.random.default_rng(3), uniform=True)
    limit = math.sqrt(6 / 10)
    np.testing.assert_array_equal(u, np.random.default_rng(3).uniform(-limit, limit, (6, 4)))


def test_init_mlp_shapes_zero_biases_and_order() -> None:
    params = init_mlp([4, 16, 8, 3], rng=np.random.default_rng(0))
    assert [(w.shape, b.shape) for w, b in params] == [
        ((4, 16), (16,)),
        ((16, 8), (8,)),
        ((8, 3), (3,)),
    ]
    assert all(not b.any() for _, b in params)
    rng = np.random.default_rng(0)  # drawn in order from the one generator
    for (w, _), (fan_in, fan_out) in zip(params, [(4, 16), (16, 8), (8, 3)], strict=True):
        np.testing.assert_array_equal(w, he_init(fan_in, fan_out, rng=rng))


@pytest.mark.parametrize("scheme", ["xavier", "xavier_uniform"])
def test_init_mlp_named_schemes(scheme: str) -> None:
    params = init_mlp([5, 7], rng=np.random.default_rng(0), scheme=scheme)
    ref = xavier_init(5, 7, rng=np.random.default_rng(0), uniform=scheme.endswith("uniform"))
    np.testing.assert_array_equal(params[0][0], ref)


def test_init_mlp_accepts_an_init_function() -> None:
    calls = []

    def ones(fan_in, fan_out, *, rng):
        calls.append((fan_in, fan_out))
        return np.ones((fan_in, fan_out))

    params = init_mlp([2, 3, 1], rng=np.random.default_rng(0), scheme=ones)
    assert calls == [(2, 3), (3, 1)]
    assert params[1][0].shape == (3, 1)


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda r: he_init(0, 3, rng=r), ValueError, "fan_in"),
        (lambda r: he_init(3, -1, rng=r), ValueError, "fan_out"),
        (lambda r: he_init(2.5, 3, rng=r), TypeError, "fan_in"),
        (lambda r: he_init(True, 3, rng=r), TypeError, "fan_in"),
        (lambda r: he_init(3, 3, rng=0), TypeError, "rng"),
        (lambda r: xavier_init(3, 0, rng=r), ValueError, "fan_out"),
        (lambda r: xavier_init(3, 3, rng=None), TypeError, "rng"),
        (lambda r: xavier_init(3, 3, rng=r, uniform="yes"), TypeError, "uniform"),
        (lambda r: init_mlp([4], rng=r), ValueError, "sizes"),
        (lambda r: init_mlp("4,3", rng=r), TypeError, "sizes"),
        (lambda r: init_mlp([4, 0, 2], rng=r), ValueError, "sizes[1]"),
        (lambda r: init_mlp([4, 2], rng=r, scheme="kaiming"), ValueError, "scheme"),
        (lambda r: init_mlp([4, 2], rng=r, scheme=3), TypeError, "scheme"),
        (
            lambda r: init_mlp([4, 2], rng=r, scheme=lambda i, o, *, rng: np.ones((o, i))),
            ValueError,
            "(fan_in, fan_out)",
        ),
        (lambda r: init_mlp([4, 2], rng=np.random.RandomState(0)), TypeError, "rng"),
    ],
)
def test_errors_name_the_argument(call, exc, words: str) -> None:
    with pytest.raises(exc) as info:
        call(np.random.default_rng(0))
    assert words in str(info.value)
