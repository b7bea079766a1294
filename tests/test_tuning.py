"""dlkit.tuning: search spaces, grid, random and Bayesian search."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlkit.tuning import (
    IntUniform,
    LogUniform,
    SearchResult,
    Uniform,
    as_distribution,
    bayesian_optimization,
    grid_search,
    random_search,
    sample_params,
)


def bowl(p):
    return (p["x"] - 0.7) ** 2 + 2.0 * (p["y"] + 0.2) ** 2


def wiggly(p):
    return (p["x"] - 0.3) ** 2 + 0.1 * math.sin(15.0 * p["x"])


# -- distributions -------------------------------------------------------------------------


def test_distributions_sample_in_range_with_the_right_law(rng):
    u = np.array([Uniform(-1.0, 3.0).sample(rng) for _ in range(4000)])
    lu = np.array([LogUniform(1e-4, 1e0).sample(rng) for _ in range(4000)])
    iu = np.array([IntUniform(2, 5).sample(rng) for _ in range(4000)])
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1.0) < 0.1
    assert lu.min() >= 1e-4 and lu.max() <= 1.0
    # log-uniform: each decade gets a quarter of the samples (uniform would give 90% to the top)
    decades = np.histogram(np.log10(lu), bins=[-4, -3, -2, -1, 0])[0] / len(lu)
    np.testing.assert_allclose(decades, 0.25, atol=0.03)
    assert set(iu.tolist()) == {2, 3, 4, 5} and iu.dtype.kind == "i"


@pytest.mark.parametrize("dist", [Uniform(-2.0, 5.0), LogUniform(1e-3, 10.0), IntUniform(1, 6)])
def test_unit_cube_round_trip(dist, rng):
    for _ in range(50):
        v = dist.sample(rng)
        u = dist.to_unit(v)
        assert 0.0 <= u <= 1.0
        assert dist.from_unit(u) == pytest.approx(v)


def test_tuple_shorthands_and_lists():
    assert as_distribution(("log-uniform", 1e-3, 1e-1)) == LogUniform(1e-3, 1e-1)
    assert as_distribution(("uniform", 0, 1)) == Uniform(0, 1)
    assert as_distribution(("int", 1, 4)) == IntUniform(1, 4)
    assert as_distribution([16, 32]) == [16, 32]
    assert as_distribution(("relu", "tanh")) == ["relu", "tanh"]  # a tuple of choices
    assert as_distribution(range(3)) == [0, 1, 2]


def test_bad_spaces_are_explained():
    with pytest.raises(ValueError, match="LogUniform needs lo > 0"):
        LogUniform(0.0, 1.0)
    with pytest.raises(ValueError, match="Uniform needs finite bounds with lo < hi"):
        Uniform(1.0, 1.0)
    with pytest.raises(ValueError, match="IntUniform needs lo <= hi"):
        IntUniform(3, 2)
    with pytest.raises(TypeError, match="IntUniform: lo must be an int"):
        IntUniform(0.5, 2)
    with pytest.raises(ValueError, match=r"space\['lr'\] = \('log', 1, 2\).*kind one of"):
        as_distribution(("log", 1, 2), "lr")
    with pytest.raises(ValueError, match=r"space\['h'\] is an empty list"):
        as_distribution([], "h")
    with pytest.raises(TypeError, match=r"space\['lr'\] must be a list of choices"):
        as_distribution(0.1, "lr")


# -- grid and random search ------------------------------------------------------------------


def test_grid_search_tries_every_combination_in_order():
    seen = []

    def objective(p):
        seen.append(dict(p))
        return bowl(p)

    res = grid_search(objective, {"x": [0.0, 0.5, 1.0], "y": [-0.2, 0.4]})
    assert len(res.trials) == 6 == len(seen)
    assert [t[0] for t in res.trials] == seen
    assert seen[:2] == [{"x": 0.0, "y": -0.2}, {"x": 0.0, "y": 0.4}]  # last name fastest
    assert res.best_params == {"x": 0.5, "y": -0.2}
    assert res.best_score == pytest.approx(0.04)
    res_max = grid_search(bowl, {"x": [0.0, 0.5, 1.0], "y": [-0.2, 0.4]}, maximize=True)
    assert res_max.best_params == {"x": 0.0, "y": 0.4}


def test_grid_search_needs_lists():
    with pytest.raises(TypeError, match="grid_search needs a list of values for 'x'"):
        grid_search(bowl, {"x": Uniform(0, 1), "y": [0.0]})


def test_random_search_follows_the_documented_draws():
    space = {"lr": LogUniform(1e-4, 1e-1), "h": [16, 32, 64], "k": IntUniform(1, 3)}
    res = random_search(lambda p: p["lr"] * p["h"], space, 12, rng=np.random.default_rng(7))
    rng = np.random.default_rng(7)
    for params, score in res.trials:
        expected = {
            "lr": LogUniform(1e-4, 1e-1).sample(rng),
            "h": [16, 32, 64][int(rng.integers(3))],
            "k": IntUniform(1, 3).sample(rng),
        }
        assert params == expected and score == pytest.approx(params["lr"] * params["h"])
    scores = [s for _, s in res.trials]
    assert res.best_score == min(scores)
    assert res.best_params == res.trials[int(np.argmin(scores))][0]
    again = random_search(lambda p: p["lr"] * p["h"], space, 12, rng=np.random.default_rng(7))
    assert again == res


def test_nan_scores_never_win_and_best_so_far():
    scores = iter([float("nan"), 3.0, 1.0, float("nan"), 2.0])
    res = random_search(lambda p: next(scores), {"x": [1]}, 5, rng=np.random.default_rng(0))
    assert res.best_score == 1.0
    np.testing.assert_array_equal(res.best_so_far(), [np.inf, 3.0, 1.0, 1.0, 1.0])
    assert isinstance(res, SearchResult)


def test_random_search_beats_grid_when_one_hyperparameter_matters():
    # only x matters: a 3x3 grid tries 3 values of x, 9 random trials try 9
    def objective(p):
        return (p["x"] - 0.77) ** 2

    grid = grid_search(objective, {"x": [0.0, 0.5, 1.0], "unused": [0.0, 0.5, 1.0]})
    wins = 0
    for seed in range(20):
        rs = random_search(
            objective,
            {"x": Uniform(0, 1), "unused": Uniform(0, 1)},
            9,
            rng=np.random.default_rng(seed),
        )
        wins += rs.best_score < grid.best_score
    assert wins >= 15


def test_random_search_checks_arguments(rng):
    with pytest.raises(ValueError, match="n_trials must be an int >= 1; got 0"):
        random_search(bowl, {"x": [1]}, 0, rng=rng)
    with pytest.raises(TypeError, match="rng must be a np.random.Generator"):
        random_search(bowl, {"x": [1]}, 3, rng=1)
    with pytest.raises(TypeError, match="objective must be a function"):
        random_search(None, {"x": [1]}, 3, rng=rng)
    with pytest.raises(TypeError, match="space must be a non-empty dict"):
        random_search(bowl, {}, 3, rng=rng)
    with pytest.raises(TypeError, match="objective must return a number"):
        random_search(lambda p: "bad", {"x": [1]}, 3, rng=rng)
    assert sample_params({"a": [5]}, rng) == {"a": 5}


# -- Bayesian optimization ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("objective", "bounds"),
    [(wiggly, {"x": (-1.0, 2.0)}), (bowl, {"x": (-2.0, 2.0), "y": (-2.0, 2.0)})],
    ids=["1d", "2d"],
)
def test_bayesian_optimization_beats_random_search_on_average(objective, bounds):
    bo, rs = [], []
    for seed in range(12):
        bo.append(bayesian_optimization(objective, bounds, 15, rng=np.random.default_rng(seed)))
        space = {k: Uniform(*v) for k, v in bounds.items()}
        rs.append(random_search(objective, space, 15, rng=np.random.default_rng(seed)))
    bo_best = np.array([r.best_score for r in bo])
    rs_best = np.array([r.best_score for r in rs])
    assert bo_best.mean() < rs_best.mean()
    assert np.mean(bo_best <= rs_best) >= 0.6
    for r in bo:
        assert len(r.trials) == 15
        for params, _ in r.trials:
            assert all(bounds[k][0] <= v <= bounds[k][1] for k, v in params.items())


def test_bayesian_optimization_initial_trials_are_random_search(rng):
    bounds = {"x": Uniform(-2.0, 2.0), "y": Uniform(-2.0, 2.0)}
    bo = bayesian_optimization(bowl, bounds, 4, rng=np.random.default_rng(3), n_initial=4)
    rs = random_search(bowl, bounds, 4, rng=np.random.default_rng(3))
    assert [p for p, _ in bo.trials] == [p for p, _ in rs.trials]


def test_bayesian_optimization_log_and_int_dimensions_and_maximize():
    def objective(p):
        return -((math.log10(p["lr"]) + 2.5) ** 2) - 0.1 * (p["layers"] - 3) ** 2

    res = bayesian_optimization(
        objective,
        {"lr": LogUniform(1e-5, 1e-1), "layers": IntUniform(1, 6)},
        20,
        rng=np.random.default_rng(0),
        maximize=True,
    )
    assert res.best_score > -0.2
    assert all(isinstance(p["layers"], int) and 1 <= p["layers"] <= 6 for p, _ in res.trials)
    assert res.best_score == max(s for _, s in res.trials)


def test_bayesian_optimization_rejects_choices(rng):
    with pytest.raises(TypeError, match=r"bounds\['act'\] must be a range"):
        bayesian_optimization(bowl, {"act": ["relu", "tanh"]}, 5, rng=rng)
    with pytest.raises(TypeError, match="bounds must be a non-empty dict"):
        bayesian_optimization(bowl, {}, 5, rng=rng)
