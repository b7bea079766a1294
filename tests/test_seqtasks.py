"""dlkit.seqtasks (through dlkit.data): the copy task and the bracket task."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dlkit.data import BRACKETS, bracket_task, copy_task


def rng(seed=0):
    return np.random.default_rng(seed)


def depths(word):
    """Depth after each bracket, by a plain loop (the brute-force reference)."""
    out, d = [], 0
    for b in word:
        d += 1 if BRACKETS[b] == "(" else -1
        out.append(d)
    return out


def is_balanced(word):
    ds = depths(word)
    return min(ds) >= 0 and ds[-1] == 0


# -- copy_task ----------------------------------------------------------------------------


def test_copy_task_layout():
    x, y, mask = copy_task(50, length=4, delay=3, vocab_size=5, rng=rng())
    T = 2 * 4 + 3
    assert x.shape == y.shape == mask.shape == (50, T)
    assert x.dtype == y.dtype == np.int64 and mask.dtype == bool
    blank, go = 5, 6
    for xi, yi, mi in zip(x, y, mask, strict=True):
        symbols = xi[:4]
        assert np.all((symbols >= 0) & (symbols < 5))
        assert xi[4:7].tolist() == [blank] * 3 and xi[7] == go
        assert xi[8:].tolist() == [blank] * 3
        assert mi.tolist() == [False] * 7 + [True] * 4
        assert yi[mi].tolist() == symbols.tolist() and np.all(yi[~mi] == blank)


def test_copy_task_zero_delay_and_symbol_spread():
    x, y, mask = copy_task(2000, length=1, delay=0, vocab_size=3, rng=rng())
    assert x.shape == (2000, 2) and np.all(x[:, 1] == 4)  # go right after the symbol
    np.testing.assert_array_equal(y[:, 1], x[:, 0])
    assert np.all(np.abs(np.bincount(x[:, 0], minlength=3) - 2000 / 3) < 100)


def test_copy_task_is_reproducible():
    a, b = copy_task(8, 5, 10, 4, rng(3)), copy_task(8, 5, 10, 4, rng(3))
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], copy_task(8, 5, 10, 4, rng(4))[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 0}, "n must be an int >= 1"),
        ({"length": 0}, "length must be an int >= 1"),
        ({"delay": -1}, "delay must be an int >= 0"),
        ({"vocab_size": 0}, "vocab_size must be an int >= 1"),
        ({"delay": 2.5}, "delay must be an int >= 0"),
    ],
)
def test_copy_task_errors(kwargs, match):
    args = {"n": 2, "length": 3, "delay": 2, "vocab_size": 4, "rng": rng(), **kwargs}
    with pytest.raises(ValueError, match=match):
        copy_task(**args)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        copy_task(2, 3, 2, 4, rng=None)


# -- bracket_task -------------------------------------------------------------------------


@pytest.mark.parametrize("n, length", [(200, 20), (201, 64), (9, 2)])
def test_bracket_labels_are_correct_and_balanced(n, length):
    x, y = bracket_task(n, length, rng(1), max_depth=6)
    assert x.shape == (n, length) and y.shape == (n,)
    assert x.dtype == y.dtype == np.int64 and set(np.unique(x)) <= {0, 1}
    assert y.sum() == (n + 1) // 2  # half and half, one more balanced word when n is odd
    assert not np.array_equal(y, np.sort(y))  # shuffled
    for word, label in zip(x.tolist(), y.tolist(), strict=True):
        assert is_balanced(word) == bool(label)
        assert max(depths(word)) <= 6


def test_bracket_negatives_have_both_kinds_of_defect():
    x, y = bracket_task(400, 40, rng(2), max_depth=8)
    negatives = x[y == 0]
    final = np.array([depths(w)[-1] for w in negatives.tolist()])
    swaps = final == 0  # equal counts, but the depth dips below 0 somewhere
    assert swaps.sum() == (len(negatives) + 1) // 2
    assert set(np.abs(final[~swaps])) == {2}  # flips end 2 away from 0
    # no give-away at the ends: every word starts with "(" and ends with ")"
    assert np.all(x[:, 0] == 0) and np.all(x[:, -1] == 1)


def test_balanced_words_are_drawn_uniformly():
    # all 14 balanced words of length 8 (max depth 4) should come up about equally often
    x, y = bracket_task(14_000, 8, rng(3), max_depth=4)
    counts = {}
    for word in x[y == 1].tolist():
        counts[tuple(word)] = counts.get(tuple(word), 0) + 1
    every = [w for w in itertools.product([0, 1], repeat=8) if is_balanced(w)]
    assert sorted(counts) == sorted(every) and len(every) == 14
    assert max(counts.values()) < 1.25 * 500 and min(counts.values()) > 0.75 * 500


def test_bracket_max_depth_bounds_the_words():
    x, y = bracket_task(300, 30, rng(4), max_depth=2)
    assert max(max(depths(w)) for w in x.tolist()) <= 2
    deep = bracket_task(300, 30, rng(4), max_depth=15)[0]
    assert max(max(depths(w)) for w in deep.tolist()) > 2


def test_bracket_task_is_reproducible():
    a, b = bracket_task(50, 30, rng(5)), bracket_task(50, 30, rng(5))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"length": 7}, "length must be even"),
        ({"length": 0}, "length must be an int >= 2"),
        ({"n": 0}, "n must be an int >= 1"),
        ({"max_depth": 0}, "max_depth must be an int >= 1"),
    ],
)
def test_bracket_task_errors(kwargs, match):
    args = {"n": 4, "length": 6, "rng": rng(), **kwargs}
    with pytest.raises(ValueError, match=match):
        bracket_task(**args)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        bracket_task(4, 6, rng=np.random.RandomState(0))
