"""Ensembles: bagging and stacking of any classifiers, and gradient boosting of stumps.

Both are model-agnostic. A *learner* is a function ``fit(X, y, *, rng) -> model`` and a model
is anything with ``predict_proba(X) -> (N, C)`` class probabilities, e.g.::

    def fit(X, y, *, rng):
        return dlkit.learners.fit_mlp(X, y, rng=rng, hidden=(64,), num_classes=2)

* :func:`bagging` trains one model per bootstrap sample and averages them: the models'
  individual quirks (variance) cancel, their shared bias stays.
* :func:`stacking` trains a *meta* model on the base models' out-of-fold predictions, so it
  learns how far to trust each base model on data that model has not seen.
* :func:`gradient_boosting` adds small regression trees (:func:`fit_stump`, one split each)
  one at a time, each fitted to what the ensemble still gets wrong: bagging averages away
  variance, boosting builds a low-bias model out of high-bias parts. With the squared loss
  the residual ``y - F(x)`` is the negative gradient, hence the name; scikit-learn's
  ``GradientBoostingRegressor(max_depth=1)`` is the same algorithm (tests/test_boosting.py
  checks that the two predict the same numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .model_selection import k_fold

__all__ = [
    "Bagging",
    "GradientBoosting",
    "Stacking",
    "Stump",
    "bagging",
    "fit_stump",
    "gradient_boosting",
    "stacking",
]

Learner = Callable[..., Any]


def _data(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim < 1 or y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape (N,) matching X's first axis; got X {X.shape} and y {y.shape}"
        )
    return X, y


def _check(fit: Any, name: str, rng: Any) -> None:
    if not callable(fit):
        raise TypeError(f"{name} must be a function fit(X, y, *, rng) -> model; got {fit!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a np.random.Generator; got {type(rng).__name__}")


def _proba(model: Any, X: np.ndarray, who: str) -> np.ndarray:
    if not hasattr(model, "predict_proba"):
        raise TypeError(f"{who} returned {type(model).__name__}, which has no predict_proba(X)")
    p = np.asarray(model.predict_proba(X), dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != X.shape[0]:
        raise ValueError(f"{who}: predict_proba must return shape (N, C); got {p.shape}")
    return p


@dataclass
class Bagging:
    """``n_models`` models, each fitted on its own bootstrap sample.

    ``samples[i]`` holds the (repeated) indices model ``i`` was trained on; the rows it never
    saw (about 37% of them: ``(1 - 1/N)^N -> 1/e``) are its *out-of-bag* rows.
    """

    models: list[Any]
    samples: list[np.ndarray] = field(repr=False)

    def predict_proba(self, X: Any) -> np.ndarray:
        """The average of the members' probabilities (soft voting), shape ``(N, C)``."""
        X = np.asarray(X)
        return np.mean([_proba(m, X, "a bagged model") for m in self.models], axis=0)

    def predict(self, X: Any, *, vote: str = "soft") -> np.ndarray:
        """Class per row: ``"soft"`` = argmax of the averaged probabilities, ``"hard"`` =
        majority vote of the members' own predictions (ties go to the lowest class)."""
        if vote == "soft":
            return np.argmax(self.predict_proba(X), axis=1)
        if vote != "hard":
            raise ValueError(f"vote must be 'soft' or 'hard'; got {vote!r}")
        X = np.asarray(X)
        probs = [_proba(m, X, "a bagged model") for m in self.models]
        votes = np.stack([np.argmax(p, axis=1) for p in probs])  # (n_models, N)
        counts = np.stack([(votes == c).sum(0) for c in range(probs[0].shape[1])], 1)
        return np.argmax(counts, axis=1)


def bagging(fit: Learner, X: Any, y: Any, n_models: int, *, rng: np.random.Generator) -> Bagging:
    """Bootstrap aggregating: fit ``n_models`` models on resamples of ``(X, y)``.

    Each model gets ``N`` rows drawn with replacement (``rng.integers(0, N, N)``) and its own
    child generator for its initialization. A bootstrap sample may miss a rare class, so
    learners should be told the number of classes (``fit_mlp(..., num_classes=C)``).
    """
    _check(fit, "fit", rng)
    X, y = _data(X, y)
    if isinstance(n_models, bool) or not isinstance(n_models, (int, np.integer)) or n_models < 1:
        raise ValueError(f"n_models must be an int >= 1; got {n_models!r}")
    models, samples = [], []
    for _ in range(int(n_models)):
        idx = rng.integers(0, len(y), len(y))  # (N,), with repeats
        child = np.random.default_rng(rng.integers(2**63))
        models.append(fit(X[idx], y[idx], rng=child))
        samples.append(idx)
    return Bagging(models, samples)


@dataclass
class Stacking:
    """Base models refitted on all the data, and a meta model over their probabilities.

    ``oof`` holds the out-of-fold base probabilities the meta model was trained on, shape
    ``(N, n_base * C)``.
    """

    base_models: list[Any]
    meta_model: Any
    oof: np.ndarray = field(repr=False)

    def features(self, X: Any) -> np.ndarray:
        """The meta model's inputs: the base models' probabilities side by side."""
        X = np.asarray(X)
        return np.hstack([_proba(m, X, "a base model") for m in self.base_models])

    def predict_proba(self, X: Any) -> np.ndarray:
        return _proba(self.meta_model, self.features(X), "the meta model")

    def predict(self, X: Any) -> np.ndarray:
        return np.argmax(self.predict_proba(X), axis=1)


def stacking(
    base: Sequence[Learner],
    meta: Learner,
    X: Any,
    y: Any,
    *,
    k: int = 5,
    rng: np.random.Generator,
) -> Stacking:
    """Stacked generalization with out-of-fold predictions.

    1. Split the data into ``k`` stratified folds; for each fold, fit every base learner on
       the other folds and predict the held-out fold. Every row then has base predictions
       from models that never saw it: honest features (in-sample predictions would teach
       the meta model to trust whichever base model overfits most).
    2. Fit ``meta`` on those out-of-fold probabilities.
    3. Refit every base learner on all the data for prediction.
    """
    if isinstance(base, (str, bytes)) or not isinstance(base, Sequence) or not base:
        raise TypeError("base must be a non-empty list of learners fit(X, y, *, rng) -> model")
    for i, b in enumerate(base):
        _check(b, f"base[{i}]", rng)
    _check(meta, "meta", rng)
    X, y = _data(X, y)
    blocks: list[list[np.ndarray]] = [[] for _ in base]
    rows: list[np.ndarray] = []
    for train, val in k_fold(len(y), k, rng=rng, y=y):
        rows.append(val)
        for j, b in enumerate(base):
            model = b(X[train], y[train], rng=np.random.default_rng(rng.integers(2**63)))
            blocks[j].append(_proba(model, X[val], f"base[{j}]"))
    order = np.concatenate(rows)
    oof = np.empty((len(y), sum(blk[0].shape[1] for blk in blocks)))  # (N, n_base * C)
    oof[order] = np.hstack([np.vstack(blk) for blk in blocks])
    meta_model = meta(oof, y, rng=np.random.default_rng(rng.integers(2**63)))
    base_models = [b(X, y, rng=np.random.default_rng(rng.integers(2**63))) for b in base]
    return Stacking(base_models, meta_model, oof)


@dataclass
class Stump:
    """A regression tree with one split: ``left`` where ``x[feature] <= threshold``, else
    ``right`` (the means of the training targets on each side)."""

    feature: int
    threshold: float
    left: float
    right: float

    def predict(self, X: Any) -> np.ndarray:
        X = _features(X, "X")
        if self.feature >= X.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} features; this stump splits on feature {self.feature}"
            )
        return np.where(X[:, self.feature] <= self.threshold, self.left, self.right)


def _features(X: Any, name: str) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name} must have shape (N, D) with N, D >= 1; got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} must be finite; it holds NaN or infinity")
    return X


def _targets(y: Any, n: int, name: str) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) matching X's rows; got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{name} must be finite; it holds NaN or infinity")
    return y


def fit_stump(X: Any, r: Any) -> Stump:
    """The least-squares stump for targets ``r``: over every feature and every threshold
    halfway between two consecutive distinct values, the split whose two means leave the
    smallest squared error (the first feature wins a tie). Sorting and cumulative sums make
    it ``O(D N log N)``. With no possible split (every feature constant) both sides predict
    the mean.
    """
    X = _features(X, "X")
    r = _targets(r, X.shape[0], "r")
    n = len(r)
    best = (-np.inf, 0, np.inf, float(r.mean()), float(r.mean()))  # gain, feature, t, l, r
    total = r.sum()
    for j in range(X.shape[1]):
        order = np.argsort(X[:, j], kind="stable")
        xs, rs = X[order, j], r[order]
        left_sum = np.cumsum(rs)[:-1]  # the first k + 1 rows on the left, k = 0 .. n - 2
        n_left = np.arange(1, n)
        valid = xs[1:] > xs[:-1]  # a threshold between two distinct values only
        if not valid.any():
            continue
        # squared error = sum r^2 - (S_l^2 / n_l + S_r^2 / n_r): maximise the bracket
        gain = left_sum**2 / n_left + (total - left_sum) ** 2 / (n - n_left)
        gain = np.where(valid, gain, -np.inf)
        k = int(np.argmax(gain))
        if gain[k] > best[0]:
            mean_l, mean_r = left_sum[k] / (k + 1), (total - left_sum[k]) / (n - k - 1)
            best = (gain[k], j, (xs[k] + xs[k + 1]) / 2.0, float(mean_l), float(mean_r))
    _, feature, threshold, left, right = best
    return Stump(int(feature), float(threshold), left, right)


@dataclass
class GradientBoosting:
    """``F(x) = init + learning_rate * sum_m learners[m].predict(x)``."""

    init: float
    learners: list[Any]
    learning_rate: float

    def predict(self, X: Any) -> np.ndarray:
        X = _features(X, "X")
        out = np.full(X.shape[0], float(self.init))
        for learner in self.learners:
            out += self.learning_rate * np.asarray(learner.predict(X), dtype=np.float64)
        return out

    def staged_predict(self, X: Any) -> np.ndarray:
        """``(M + 1, N)``: the predictions after 0, 1, ..., M learners."""
        X = _features(X, "X")
        steps = [np.full(X.shape[0], float(self.init))]
        for learner in self.learners:
            steps.append(steps[-1] + self.learning_rate * np.asarray(learner.predict(X)))
        return np.stack(steps)


def gradient_boosting(
    X: Any,
    y: Any,
    n_estimators: int,
    learning_rate: float,
    *,
    fit: Callable[[Any, Any], Any] = fit_stump,
) -> GradientBoosting:
    """Gradient boosting with the squared loss: start from the mean of ``y``; then, ``n_estimators``
    times, fit a learner to the residuals ``y - F(X)`` (the negative gradient of
    ``(y - F)^2 / 2``) and add ``learning_rate`` times its prediction to ``F``.
    """
    X = _features(X, "X")
    y = _targets(y, X.shape[0], "y")
    if isinstance(n_estimators, bool) or not isinstance(n_estimators, (int, np.integer)):
        raise TypeError(f"n_estimators must be an int; got {type(n_estimators).__name__}")
    if n_estimators < 0:
        raise ValueError(f"n_estimators must be >= 0; got {n_estimators}")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)):
        raise TypeError(f"learning_rate must be a number; got {type(learning_rate).__name__}")
    if not 0.0 < float(learning_rate) <= 1.0:
        raise ValueError(f"learning_rate must lie in (0, 1]; got {learning_rate}")
    init = float(y.mean())
    pred = np.full(len(y), init)
    learners = []
    for _ in range(int(n_estimators)):
        learner = fit(X, y - pred)
        pred = pred + learning_rate * np.asarray(learner.predict(X), dtype=np.float64)
        learners.append(learner)
    return GradientBoosting(init, learners, float(learning_rate))
