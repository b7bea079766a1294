"""dlkit.model_selection.k_fold: coverage, balance, stratification, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlkit.model_selection import k_fold


@given(n=st.integers(2, 60), k=st.integers(2, 10), shuffle=st.booleans(), seed=st.integers(0, 9))
def test_folds_partition_the_indices(n, k, shuffle, seed):
    if k > n:
        return
    folds = list(k_fold(n, k, rng=np.random.default_rng(seed), shuffle=shuffle))
    assert len(folds) == k
    vals = [v for _, v in folds]
    np.testing.assert_array_equal(np.sort(np.concatenate(vals)), np.arange(n))  # each once
    sizes = [len(v) for v in vals]
    assert max(sizes) - min(sizes) <= 1
    for train, val in folds:
        assert train.dtype == np.int64 and val.dtype == np.int64
        assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)  # sorted, unique
        np.testing.assert_array_equal(np.union1d(train, val), np.arange(n))
        assert np.intersect1d(train, val).size == 0


def test_without_shuffle_folds_are_contiguous_blocks():
    folds = list(k_fold(10, 3, shuffle=False))
    assert [v.tolist() for _, v in folds] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_shuffled_folds_are_reproducible_and_random():
    a = [v for _, v in k_fold(50, 5, rng=np.random.default_rng(3))]
    b = [v for _, v in k_fold(50, 5, rng=np.random.default_rng(3))]
    c = [v for _, v in k_fold(50, 5, rng=np.random.default_rng(4))]
    assert all(np.array_equal(x, z) for x, z in zip(a, b, strict=True))
    assert not all(np.array_equal(x, z) for x, z in zip(a, c, strict=True))
    assert not np.array_equal(a[0], np.arange(10))


@given(
    counts=st.lists(st.integers(1, 30), min_size=2, max_size=4),
    k=st.integers(2, 5),
    seed=st.integers(0, 5),
)
def test_stratified_folds_keep_class_proportions(counts, k, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    y = np.random.default_rng(seed).permutation(y)
    n = len(y)
    if k > n:
        return
    folds = list(k_fold(n, k, rng=np.random.default_rng(seed), y=y))
    np.testing.assert_array_equal(np.sort(np.concatenate([v for _, v in folds])), np.arange(n))
    sizes = [len(v) for _, v in folds]
    assert max(sizes) - min(sizes) <= 1
    for c, count in enumerate(counts):
        per_fold = [int(np.sum(y[v] == c)) for _, v in folds]
        assert max(per_fold) - min(per_fold) <= 1
        assert sum(per_fold) == count


def test_stratification_beats_plain_folds_on_a_rare_class():
    y = np.array([1] * 5 + [0] * 45)
    strat = [int(y[v].sum()) for _, v in k_fold(50, 5, rng=np.random.default_rng(0), y=y)]
    assert strat == [1, 1, 1, 1, 1]


def test_leave_one_out():
    folds = list(k_fold(4, 4, shuffle=False))
    assert [v.tolist() for _, v in folds] == [[0], [1], [2], [3]]


def test_errors_are_raised_at_the_call(rng):
    with pytest.raises(ValueError, match="k must be an int >= 2; got 1"):
        k_fold(10, 1, rng=rng)
    with pytest.raises(ValueError, match="k must be at most n.*k=11, n=10"):
        k_fold(10, 11, rng=rng)
    with pytest.raises(TypeError, match="n must be an int; got float"):
        k_fold(10.0, 2, rng=rng)
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        k_fold(0, 2, rng=rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator when shuffle=True"):
        k_fold(10, 2)
    with pytest.raises(ValueError, match=r"y must have shape \(n,\) = \(10,\); got shape \(9,\)"):
        k_fold(10, 2, rng=rng, y=np.zeros(9))
