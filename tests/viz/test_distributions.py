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


def test_before_and_after_share_their_axes_so_standardizing_shows():
    def standardize(X):
        return (X - X.mean(axis=0)) / X.std(axis=0)

    def sample(mean, spread):
        return mean + spread * np.random.default_rng(0).standard_normal((500, 1))

    controls = {"mean": Slider(-50, 50, 10.0), "spread": Slider(0.0, 20.0, 4.0)}
    e = TransformExplorer(sample, standardize, controls)
    left, right = e.figure.axes
    assert left.get_xlim() == right.get_xlim() and left.get_ylim() == right.get_ylim()
    raw, std = sample(10.0, 4.0), standardize(sample(10.0, 4.0))
    lo, hi = left.get_xlim()
    assert lo <= min(raw.min(), std.min()) and hi >= max(raw.max(), std.max())

    def extent(ax):  # where the histogram's bars are, and their width
        xs = [(p.get_x(), p.get_x() + p.get_width()) for p in ax.patches if p.get_height() > 0]
        return min(a for a, _ in xs), max(b for _, b in xs), ax.patches[0].get_width()

    (l0, l1, lw), (r0, r1, rw) = extent(left), extent(right)
    assert np.isclose(lw, rw), "both panels must use the same bin width"
    assert (r1 - r0) < 0.5 * (l1 - l0), "the standardized cloud must look narrower"
    assert abs((r0 + r1) / 2) < abs((l0 + l1) / 2) - 5, "and sit near 0, left of the raw one"
    e.update(mean=-40.0, spread=1.0)  # the limits follow the data of both panels
    left, right = e.figure.axes
    assert (
        left.get_xlim() == right.get_xlim() and left.get_xlim()[0] < -40 < 0 < right.get_xlim()[1]
    )
