"""dlkit.viz.distributions: TransformExplorer with transforms that return NaN or infinity."""

from __future__ import annotations

import numpy as np

from dlkit.viz import Slider, TransformExplorer


def _sample(spread):
    return spread * np.random.default_rng(0).standard_normal((200, 1))


def _naive_standardize(X):
    with np.errstate(all="ignore"):  # the student's arithmetic
        return (X - X.mean(axis=0)) / X.std(axis=0)


def test_an_all_nan_transform_draws_and_says_so():
    e = TransformExplorer(_sample, _naive_standardize, {"spread": Slider(0.0, 2.0, 1.0)})
    e.update(spread=0.0)  # std 0: every value is NaN; no warning (warnings are errors here)
    left, right = e.figure.axes
    assert right.get_title() == "transformed\nno finite values (200 NaN/inf not shown)"
    assert left.get_title() == "raw data\nmean 0, std 0"


def test_the_statistics_are_those_of_the_finite_values():
    def some_inf(X):
        out = X.copy()
        out[:10] = np.inf
        return out

    e = TransformExplorer(_sample, some_inf, {"spread": Slider(0.0, 2.0, 1.0)})
    finite = _sample(1.0)[10:]
    title = e.figure.axes[1].get_title()
    assert title == (
        f"transformed\nmean {finite.mean():.3g}, std {finite.std():.3g} (10 NaN/inf not shown)"
    )
