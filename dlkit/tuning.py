"""Hyperparameter search: grid, random and Bayesian optimization.

A *search space* is a dict from hyperparameter name to either a list of choices or a
distribution: :class:`Uniform`, :class:`LogUniform`, :class:`IntUniform` (or the tuple
shorthands ``("uniform", lo, hi)``, ``("log-uniform", lo, hi)``, ``("int", lo, hi)``). The
objective is a function of one dict of hyperparameters returning a number, **minimized** by
default (a validation loss); pass ``maximize=True`` for an accuracy.

Every search returns a :class:`SearchResult` holding all trials in order, so the budget
comparisons of unit 06 (best score after ``t`` trials) come for free.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np

from .gp import GaussianProcess, expected_improvement

__all__ = [
    "Uniform",
    "LogUniform",
    "IntUniform",
    "SearchResult",
    "as_distribution",
    "grid_search",
    "random_search",
    "sample_params",
    "bayesian_optimization",
]


def _bounds(lo: Any, hi: Any, what: str) -> None:
    for v, name in ((lo, "lo"), (hi, "hi")):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)):
            raise TypeError(f"{what}: {name} must be a number; got {type(v).__name__} {v!r}")
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{what} needs finite bounds with lo < hi; got lo={lo!r}, hi={hi!r}")


@dataclass(frozen=True)
class Uniform:
    """A real number drawn uniformly from ``[lo, hi)``: ``rng.uniform(lo, hi)``."""

    lo: float
    hi: float

    def __post_init__(self) -> None:
        _bounds(self.lo, self.hi, "Uniform")

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.lo, self.hi))

    def to_unit(self, value: float) -> float:
        return (value - self.lo) / (self.hi - self.lo)

    def from_unit(self, u: float) -> float:
        return float(self.lo + u * (self.hi - self.lo))


@dataclass(frozen=True)
class LogUniform:
    """A positive number whose *logarithm* is uniform: ``exp(rng.uniform(log lo, log hi))``.

    The right prior for scale parameters (learning rate, L2 strength): 1e-4 .. 1e-3 gets as
    many samples as 1e-2 .. 1e-1, where a uniform draw would spend 90% of them in the top
    decade.
    """

    lo: float
    hi: float

    def __post_init__(self) -> None:
        _bounds(self.lo, self.hi, "LogUniform")
        if self.lo <= 0:
            raise ValueError(f"LogUniform needs lo > 0 (log of lo); got lo={self.lo!r}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(math.exp(rng.uniform(math.log(self.lo), math.log(self.hi))))

    def to_unit(self, value: float) -> float:
        return (math.log(value) - math.log(self.lo)) / (math.log(self.hi) - math.log(self.lo))

    def from_unit(self, u: float) -> float:
        return float(math.exp(math.log(self.lo) + u * (math.log(self.hi) - math.log(self.lo))))


@dataclass(frozen=True)
class IntUniform:
    """An integer drawn uniformly from ``lo .. hi`` inclusive: ``rng.integers(lo, hi + 1)``."""

    lo: int
    hi: int

    def __post_init__(self) -> None:
        for v, name in ((self.lo, "lo"), (self.hi, "hi")):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"IntUniform: {name} must be an int; got {v!r}")
        if self.lo > self.hi:
            raise ValueError(f"IntUniform needs lo <= hi; got lo={self.lo}, hi={self.hi}")

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.lo, self.hi + 1))

    def to_unit(self, value: float) -> float:
        return (value - self.lo + 0.5) / (self.hi - self.lo + 1)

    def from_unit(self, u: float) -> int:
        return int(min(self.hi, self.lo + math.floor(u * (self.hi - self.lo + 1))))


Distribution = Uniform | LogUniform | IntUniform
_KINDS = {"uniform": Uniform, "log-uniform": LogUniform, "int": IntUniform}


def as_distribution(spec: Any, name: str = "spec") -> Distribution | list[Any]:
    """A search-space entry in canonical form: a distribution object or a list of choices."""
    if isinstance(spec, (Uniform, LogUniform, IntUniform)):
        return spec
    numbers = (int, float, np.number)
    shorthand = (  # ("log-uniform", lo, hi); a tuple of anything else is a tuple of choices
        isinstance(spec, tuple)
        and len(spec) == 3
        and isinstance(spec[0], str)
        and all(isinstance(v, numbers) and not isinstance(v, bool) for v in spec[1:])
    )
    if shorthand:
        if spec[0] not in _KINDS:
            raise ValueError(
                f"space[{name!r}] = {spec!r}: a distribution tuple is (kind, lo, hi) with kind "
                f"one of {sorted(_KINDS)}"
            )
        return _KINDS[spec[0]](spec[1], spec[2])
    if isinstance(spec, (list, tuple, range, np.ndarray)):
        choices = list(spec)
        if not choices:
            raise ValueError(f"space[{name!r}] is an empty list of choices")
        return choices
    raise TypeError(
        f"space[{name!r}] must be a list of choices or a distribution such as "
        f"LogUniform(1e-4, 1e-1) or ('log-uniform', 1e-4, 1e-1); got {type(spec).__name__}"
    )


@dataclass(frozen=True)
class SearchResult:
    """The outcome of a search: the best trial and every trial in the order it was run.

    ``trials`` is a list of ``(params, score)``. ``best_score`` is the lowest score (the
    highest with ``maximize=True``); NaN scores (a diverged run) never count as best.
    """

    best_params: dict[str, Any]
    best_score: float
    trials: list[tuple[dict[str, Any], float]]
    maximize: bool = False

    def best_so_far(self) -> np.ndarray:
        """The best score after each trial, shape ``(len(trials),)`` (for budget curves)."""
        scores = np.array([s for _, s in self.trials], dtype=np.float64)
        worst = -np.inf if self.maximize else np.inf
        scores = np.where(np.isnan(scores), worst, scores)
        return np.maximum.accumulate(scores) if self.maximize else np.minimum.accumulate(scores)


def _check_objective(objective: Any) -> None:
    if not callable(objective):
        raise TypeError(
            "objective must be a function of a dict of hyperparameters returning a number; "
            f"got {type(objective).__name__}"
        )


def _space(space: Any) -> dict[str, Distribution | list[Any]]:
    if not isinstance(space, Mapping) or not space:
        raise TypeError(
            "space must be a non-empty dict from name to choices or distribution, e.g. "
            f"{{'lr': LogUniform(1e-4, 1e-1), 'hidden': [16, 64]}}; got {space!r}"[:200]
        )
    return {str(k): as_distribution(v, str(k)) for k, v in space.items()}


def _score(objective: Callable[[dict[str, Any]], Any], params: dict[str, Any]) -> float:
    value = objective(dict(params))
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"objective must return a number; for {params} it returned {type(value).__name__}"
        ) from exc


def _result(trials: list[tuple[dict[str, Any], float]], maximize: bool) -> SearchResult:
    best_i = 0
    for i, (_, s) in enumerate(trials):
        b = trials[best_i][1]
        if not math.isnan(s) and (math.isnan(b) or (s > b if maximize else s < b)):
            best_i = i  # strict: the earliest of tied trials wins
    return SearchResult(dict(trials[best_i][0]), trials[best_i][1], trials, maximize)


def _count(n: Any, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be an int >= 1; got {n!r}")
    return int(n)


def grid_search(
    objective: Callable[[dict[str, Any]], float],
    space: Mapping[str, Any],
    *,
    maximize: bool = False,
) -> SearchResult:
    """Evaluate ``objective`` at every combination of the listed choices.

    Every entry of ``space`` must be a list; the trials run in ``itertools.product`` order
    (the last name varies fastest). The cost is the product of the list lengths: it grows
    exponentially with the number of hyperparameters.
    """
    _check_objective(objective)
    canonical = _space(space)
    for name, spec in canonical.items():
        if not isinstance(spec, list):
            raise TypeError(
                f"grid_search needs a list of values for {name!r}; got {spec!r}. Choose the "
                "grid yourself, e.g. list(np.geomspace(1e-4, 1e-1, 4))"
            )
    names = list(canonical)
    trials = []
    for values in product(*canonical.values()):
        params = dict(zip(names, values, strict=True))
        trials.append((params, _score(objective, params)))
    return _result(trials, maximize)


def sample_params(space: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One random point of ``space``: names in order; a list draws ``rng.integers(len)``."""
    params = {}
    for name, spec in _space(space).items():
        if isinstance(spec, list):
            params[name] = spec[int(rng.integers(len(spec)))]
        else:
            params[name] = spec.sample(rng)
    return params


def random_search(
    objective: Callable[[dict[str, Any]], float],
    space: Mapping[str, Any],
    n_trials: int,
    *,
    rng: np.random.Generator,
    maximize: bool = False,
) -> SearchResult:
    """Evaluate ``objective`` at ``n_trials`` independent random points of ``space``.

    Each trial draws every hyperparameter in the order of ``space``: a list of choices with
    ``choices[rng.integers(len(choices))]``, a distribution with its ``sample(rng)``. With the
    same budget, random search tries ``n_trials`` different values of *every*
    hyperparameter, where a grid tries only a few of each: when only some hyperparameters
    matter, that is what wins.
    """
    _check_objective(objective)
    n_trials = _count(n_trials, "n_trials")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a np.random.Generator; got {type(rng).__name__}")
    _space(space)  # check it before the first (perhaps expensive) trial
    trials = []
    for _ in range(n_trials):
        params = sample_params(space, rng)
        trials.append((params, _score(objective, params)))
    return _result(trials, maximize)


def bayesian_optimization(
    objective: Callable[[dict[str, Any]], float],
    bounds: Mapping[str, Any],
    n_trials: int,
    *,
    rng: np.random.Generator,
    n_initial: int = 5,
    n_candidates: int = 2000,
    xi: float = 0.01,
    maximize: bool = False,
) -> SearchResult:
    """Minimize ``objective`` with a Gaussian-process surrogate and expected improvement.

    1. ``n_initial`` random points (as :func:`random_search`) seed the model;
    2. then, each trial, a GP (RBF kernel) is fitted to all scores so far, in the unit cube
       (log scale for :class:`LogUniform`), and the next point is the one of
       ``n_candidates`` random candidates with the largest expected improvement over the best
       score: a balance of *exploitation* (low predicted mean) and *exploration* (high
       uncertainty).

    Args:
        objective: function of a dict of hyperparameters returning a number.
        bounds: name -> :class:`Uniform`, :class:`LogUniform`, :class:`IntUniform`, a tuple
            shorthand, or a plain ``(lo, hi)`` pair (uniform). Lists of choices are not
            supported (a GP needs a distance between values).
        n_trials: total number of evaluations, the initial ones included.
        rng: generator for the initial points and the candidates.
        xi: the improvement EI asks for beyond the best score, in units of the score's
            standard deviation (larger: more exploration).

    Returns:
        A :class:`SearchResult`.
    """
    _check_objective(objective)
    n_trials, n_initial = _count(n_trials, "n_trials"), _count(n_initial, "n_initial")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a np.random.Generator; got {type(rng).__name__}")
    if not isinstance(bounds, Mapping) or not bounds:
        raise TypeError(f"bounds must be a non-empty dict of name -> (lo, hi); got {bounds!r}")
    dists: dict[str, Distribution] = {}
    for name, spec in bounds.items():
        if isinstance(spec, tuple) and len(spec) == 2 and not isinstance(spec[0], str):
            spec = Uniform(*spec)
        dist = as_distribution(spec, name)
        if isinstance(dist, list):
            raise TypeError(
                f"bounds[{name!r}] must be a range such as (lo, hi) or LogUniform(lo, hi); "
                "Bayesian optimization needs numbers with a distance, not a list of choices"
            )
        dists[name] = dist
    names = list(dists)
    sign = -1.0 if maximize else 1.0  # the GP always minimizes sign * score
    trials: list[tuple[dict[str, Any], float]] = []
    units: list[np.ndarray] = []
    for t in range(n_trials):
        if t < n_initial:
            params = {k: d.sample(rng) for k, d in dists.items()}
        else:
            params = _propose(dists, names, units, trials, sign, rng, n_candidates, xi)
        trials.append((params, _score(objective, params)))
        units.append(np.array([dists[k].to_unit(params[k]) for k in names]))
    return _result(trials, maximize)


def _propose(dists, names, units, trials, sign, rng, n_candidates, xi) -> dict[str, Any]:
    scores = sign * np.array([s for _, s in trials], dtype=np.float64)
    ok = np.isfinite(scores)
    if ok.sum() < 2:  # nothing to model yet: explore
        return {k: dists[k].sample(rng) for k in names}
    X = np.stack(units)[ok]  # (n, d) in the unit cube
    gp = GaussianProcess().fit(X, scores[ok])
    cand = rng.random((n_candidates, len(names)))  # (M, d)
    mean, std = gp.predict(cand)
    ei = expected_improvement(mean, std, best=float(scores[ok].min()), xi=xi * gp.y_std)
    u = cand[int(np.argmax(ei))]
    return {k: dists[k].from_unit(float(u[i])) for i, k in enumerate(names)}
