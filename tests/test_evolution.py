"""dlkit.evolution: the ES gradient estimate, fitness shaping, ES training, architecture search."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import evolution
from dlkit.evolution import (
    Candidate,
    SearchResult,
    centered_ranks,
    es_gradient,
    evolve_architectures,
    train_es,
)
from dlkit.rl import Policy

# ------------------------------------------------------------------------ es_gradient


def test_es_gradient_by_hand():
    noise = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    fitness = np.array([1.0, 2.0, 3.0])
    # centred fitness [-1, 0, 1]; noise.T @ it = [-2, -1]; divided by n * sigma = 1.5
    np.testing.assert_allclose(es_gradient(noise, fitness, 0.5), [-4 / 3, -2 / 3], rtol=1e-15)


def test_es_gradient_matches_the_formula(rng):
    noise = rng.normal(size=(9, 5))
    fitness = rng.normal(size=9) * 10
    sigma = 0.3
    expected = sum((f - fitness.mean()) * e for f, e in zip(fitness, noise, strict=True))
    np.testing.assert_allclose(es_gradient(noise, fitness, sigma), expected / (9 * sigma))


def test_es_gradient_ignores_a_constant_added_to_the_fitness(rng):
    noise = rng.normal(size=(20, 4))
    fitness = rng.normal(size=20)
    g = es_gradient(noise, fitness, 0.1)
    np.testing.assert_allclose(es_gradient(noise, fitness + 1e6, 0.1), g, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(es_gradient(noise, 3.0 * fitness, 0.1), 3.0 * g, rtol=1e-12)
    # it scales as 1 / sigma (not 1 / sigma^2)
    np.testing.assert_allclose(es_gradient(noise, fitness, 0.2), g / 2, rtol=1e-12)


def _quadratic(theta, a, c):
    return -np.sum(a * (theta - c) ** 2, axis=-1)


@pytest.mark.parametrize("antithetic", [True, False])
def test_es_gradient_approaches_the_true_gradient_of_a_quadratic(antithetic):
    rng = np.random.default_rng(0)
    a, c = np.array([1.0, 0.5, 2.0]), np.array([0.3, -1.0, 0.5])
    theta, sigma = np.array([1.0, 0.0, -0.5]), 0.05
    true = -2 * a * (theta - c)  # the smoothed objective has the same gradient here
    n = 20_000 if antithetic else 200_000
    if antithetic:
        half = rng.standard_normal((n // 2, 3))
        noise = np.concatenate([half, -half])
    else:
        noise = rng.standard_normal((n, 3))
    g = es_gradient(noise, _quadratic(theta + sigma * noise, a, c), sigma)
    # the error shrinks like |true| / sqrt(n): here about 1% of |true|; allow 5%
    assert np.linalg.norm(g - true) < 0.05 * np.linalg.norm(true)


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        ((np.zeros(3), np.zeros(3), 0.1), ValueError, "noise"),
        ((np.zeros((0, 2)), np.zeros(0), 0.1), ValueError, "noise"),
        ((np.zeros((3, 2)), np.zeros(2), 0.1), ValueError, "fitness"),
        ((np.zeros((3, 2)), [1.0, np.nan, 0.0], 0.1), ValueError, "fitness"),
        ((np.zeros((3, 2)), np.zeros(3), 0.0), ValueError, "sigma"),
        ((np.zeros((3, 2)), np.zeros(3), "1"), TypeError, "sigma"),
    ],
)
def test_es_gradient_argument_errors(args, error, name):
    with pytest.raises(error, match=name):
        es_gradient(*args)


# --------------------------------------------------------------------- centered_ranks


def test_centered_ranks_by_hand_and_ties():
    np.testing.assert_allclose(centered_ranks([3.0, 1.0, 2.0]), [0.5, -0.5, 0.0])
    # ranks 0, 1, 2, 3 with a tie on the two smallest: (0 + 1) / 2 each
    np.testing.assert_allclose(centered_ranks([1.0, 1.0, 2.0, 3.0]), [-1 / 3, -1 / 3, 1 / 6, 0.5])
    np.testing.assert_allclose(centered_ranks([5.0, 5.0, 5.0]), 0.0)
    np.testing.assert_allclose(centered_ranks([7.0]), [0.0])


def test_centered_ranks_are_centred_and_order_preserving(rng):
    f = np.round(rng.normal(size=50), 1)  # with ties
    u = centered_ranks(f)
    assert u.min() >= -0.5 and u.max() <= 0.5
    assert abs(u.mean()) < 1e-12
    order = np.argsort(f)
    assert np.all(np.diff(u[order]) >= 0)
    np.testing.assert_allclose(centered_ranks(f * 1000 + 7), u)
    with pytest.raises(ValueError, match="fitness"):
        centered_ranks(np.zeros(0))


# --------------------------------------------------------------------------- train_es


def test_train_es_uses_the_gradient_it_is_given():
    calls = []

    def my_gradient(noise, fitness, sigma):
        calls.append(noise.shape)
        return es_gradient(noise, fitness, sigma)

    h = train_es(generations=3, population=6, es_gradient=my_gradient)
    assert calls == [(6, 10)] * 3
    reference = train_es(generations=3, population=6)
    assert h.eval_returns == reference.eval_returns


def test_train_es_does_not_move_with_a_zero_gradient():
    h = train_es(generations=2, population=4, es_gradient=lambda n, f, s: np.zeros(n.shape[1]))
    init_rng = np.random.default_rng(np.random.SeedSequence(0).spawn(3)[0])
    np.testing.assert_array_equal(h.policy.get_flat(), Policy(4, 2, 0, rng=init_rng).get_flat())


def test_train_es_history_and_reproducibility():
    a = train_es(env_steps=2000, population=8, seed=2)
    b = train_es(env_steps=2000, population=8, seed=2)
    assert a.eval_returns == b.eval_returns and a.env_steps == b.env_steps
    n = len(a.returns)
    assert len(a.eval_returns) == len(a.best_returns) == len(a.env_steps) == n
    assert a.env_steps[-1] >= 2000 and (n == 1 or a.env_steps[-2] < 2000)
    assert all(best >= mean for best, mean in zip(a.best_returns, a.returns, strict=True))
    assert a.policy.hidden == 0
    mlp = train_es(generations=1, population=4, hidden=3)
    assert mlp.policy.size == 4 * 3 + 3 + 3 * 2 + 2


def test_train_es_improves_on_a_small_budget():
    h = train_es(env_steps=10_000, seed=0)
    assert max(h.eval_returns[-3:]) > h.eval_returns[0] + 50


@pytest.mark.slow
def test_train_es_default_settings_learn():
    h = train_es(seed=0)
    assert h.last_mean(5) >= 200


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        (dict(env_steps=None, generations=None), ValueError, "generations"),
        (dict(population=5), ValueError, "population"),
        (dict(population=0), ValueError, "population"),
        (dict(sigma=-1.0), ValueError, "sigma"),
        (dict(lr=0.0), ValueError, "lr"),
        (dict(hidden=-2), ValueError, "hidden"),
        (dict(es_gradient=3), TypeError, "es_gradient"),
        (dict(generations=0), ValueError, "generations"),
    ],
)
def test_train_es_argument_errors(kwargs, error, name):
    with pytest.raises(error, match=name):
        train_es(**kwargs)


# --------------------------------------------------------------- evolve_architectures


def test_evolve_architectures_records_every_candidate_and_selects_the_best():
    calls = []

    def my_gradient(noise, fitness, sigma):
        calls.append(1)
        return es_gradient(noise, fitness, sigma)

    small = dict(
        population=3,
        generations=2,
        survivors=1,
        widths=(0, 2, 4),
        train_steps=400,
        repeats=2,
        eval_episodes=1,
        es_kwargs=dict(population=4),
    )
    result = evolve_architectures(**small, es_gradient=my_gradient)
    assert isinstance(result, SearchResult) and calls
    assert all(isinstance(c, Candidate) for c in result.candidates)
    genomes = [c.genome for c in result.candidates]
    assert len(set(genomes)) == len(genomes)  # a genome is trained once
    assert all(c.hidden in (0, 2, 4) for c in result.candidates)
    best = max(result.candidates, key=lambda c: (c.score, -c.parameters))
    assert result.best is best
    assert len(result.generations) == 2
    for c in result.candidates:
        assert c.parameters == Policy(4, 2, c.hidden, rng=np.random.default_rng(0)).size
        assert c.env_steps >= 2 * 400 and len(c.runs) == 2
        assert c.score == pytest.approx(np.mean(c.runs))
        if c.generation > 0:
            parent = result.candidates[c.parent]
            assert parent.generation < c.generation
    rows = result.table()
    assert len(rows) == len(result.candidates) and rows[0]["index"] == 0
    again = evolve_architectures(**small)
    assert again.table() == rows


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        (dict(survivors=5, population=4), ValueError, "survivors"),
        (dict(survivors=4, population=4), ValueError, "survivors"),
        (dict(widths=(4, 2)), ValueError, "widths"),
        (dict(widths=()), ValueError, "widths"),
        (dict(train_steps=0), ValueError, "train_steps"),
        (dict(repeats=0), ValueError, "repeats"),
        (dict(es_kwargs=dict(hidden=3)), ValueError, "es_kwargs"),
        (dict(rng=1), TypeError, "rng"),
    ],
)
def test_evolve_architectures_argument_errors(kwargs, error, name):
    with pytest.raises(error, match=name):
        evolve_architectures(**kwargs)


def test_public_names():
    for name in evolution.__all__:
        assert getattr(evolution, name).__doc__, name
