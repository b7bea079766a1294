"""dlkit.testing.hints: each detector fires on its misconception and stays quiet otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit.testing.hints import (
    complement_hint,
    scale_hint,
    shape_hint,
    transpose_hint,
    value_hints,
)


@pytest.mark.parametrize(
    ("actual", "expected", "words"),
    [
        ((5, 3), (3, 5), "transposed"),
        ((1, 3), (3, 1), "transposed"),
        ((3, 1), (3,), "extra axis of size 1"),
        ((1, 2, 3), (2, 3), "extra axis of size 1"),
        ((3,), (3, 4), "one axis fewer"),
        ((2, 4), (2, 3), "wrong axis"),
        ((), (2, 3), "single number"),
    ],
)
def test_shape_hint(actual, expected, words):
    assert words in shape_hint(actual, expected)


def test_shape_hint_is_none_for_a_permutation_it_cannot_explain():
    # same sizes, rearranged but not a plain reversal: nothing specific to say
    assert shape_hint((3, 2, 4), (2, 3, 4)) is None
    assert shape_hint((2, 3), (2, 3)) is None
    assert shape_hint((3, 2, 4), (2, 3)) is None  # two axes too many, none of size 1


def test_scale_hint(rng):
    e = rng.standard_normal(6)
    assert "opposite sign" in scale_hint(-e, e, None)
    assert "6x (the batch size N) too large" in scale_hint(6 * e, e, 6)
    assert "6x (the batch size N) too small" in scale_hint(e / 6, e, 6)
    assert "exactly 2.5 times" in scale_hint(2.5 * e, e, 6)
    assert scale_hint(e, e, 6) is None  # c == 1: nothing wrong with the scale
    assert scale_hint(e + 1, e, 6) is None  # not a multiple
    assert scale_hint(e, np.zeros(6), 6) is None  # nothing to scale
    assert scale_hint(e[:3], e, 6) is None


def test_complement_hint(rng):
    p = rng.uniform(0.1, 0.9, 5)
    assert "1 - expected" in complement_hint(1 - p, p)
    assert complement_hint(p, p) is None


def test_transpose_hint(rng):
    e = rng.standard_normal((4, 4))
    assert "transpose" in transpose_hint(e.T, e)
    assert transpose_hint(e, e) is None
    symmetric = e + e.T  # a transpose is indistinguishable: say nothing
    assert transpose_hint(symmetric, symmetric) is None
    assert transpose_hint(e.ravel(), e.ravel()) is None


def test_value_hints_collects_alternatives_and_detectors(rng):
    e = rng.standard_normal((3, 3))
    wrong = e + 1
    hints = value_hints(wrong, e, alternatives={"you added 1": wrong, "unrelated": e * 7})
    assert hints == ["you added 1"]
    assert value_hints(-e, e) == [
        "your output has the opposite sign: check the sign of your formula (- vs +)"
    ]
    assert value_hints(rng.standard_normal((3, 3)), e) == []


def test_value_hints_nan_and_inf(rng):
    e = rng.standard_normal(4)
    bad = e.copy()
    bad[1] = np.nan
    assert any("NaN" in h for h in value_hints(bad, e))
    bad[1] = np.inf
    assert any("inf" in h for h in value_hints(bad, e))
    # NaN expected as well: not the student's overflow
    assert not any("NaN" in h for h in value_hints(bad * np.nan, e * np.nan))


def test_no_constant_factor_hint_for_scalars_or_zero_outputs() -> None:
    # any two numbers are multiples of each other: only sign / 1/N are worth saying
    assert scale_hint(np.array(3.0), np.array(2.0), batch_size=None) is None
    assert scale_hint(np.zeros(4), np.arange(1.0, 5.0), batch_size=None) is None
    assert "opposite sign" in scale_hint(np.array(-2.0), np.array(2.0), batch_size=None)


def test_complement_hint_is_for_probabilities_not_labels() -> None:
    labels = np.array([0.0, 1.0, 1.0, 0.0])
    assert complement_hint(1.0 - labels, labels) is None
    p = np.array([0.2, 0.7, 0.5])
    assert "other class" in complement_hint(1.0 - p, p)
