"""K-fold cross-validation indices.

One validation set gives one noisy estimate of how well a model generalizes. K-fold splits
the data into ``k`` folds and uses each fold once as the validation set, training on the
other ``k - 1``: ``k`` estimates whose mean is steadier and whose spread shows how much the
score depends on the particular split. (For the single train/validation/test split see
:func:`dlkit.data.train_val_test_split`.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["k_fold"]


def _int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    return int(value)


def k_fold(
    n: int,
    k: int,
    *,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    y: Any = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(train_idx, val_idx)`` for each of ``k`` folds of ``n`` examples.

    Every index is in exactly one validation fold, fold sizes differ by at most one, and
    ``train_idx`` is everything else. Both index arrays are sorted (int64).

    Args:
        n: number of examples, ``>= k``.
        k: number of folds, ``>= 2`` (``k = n`` is leave-one-out).
        rng: the generator that shuffles the examples before they are dealt into folds;
            required when ``shuffle`` is true.
        shuffle: ``False`` keeps the data's order: fold ``i`` is a contiguous block (use it
            for time series, where shuffling would let the model peek at the future).
        y: class labels of shape ``(n,)`` for *stratified* folds: each class is dealt
            round-robin over the folds, so every fold keeps the class proportions (per-class
            counts differ by at most one between folds). A class with fewer than ``k``
            members cannot appear in every fold.

    Arguments are checked at the call, before the first fold is produced.
    """
    n = _int(n, "n", 1)
    k = _int(k, "k", 2)
    if k > n:
        raise ValueError(f"k must be at most n (each fold needs an example); got k={k}, n={n}")
    if shuffle and not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy.random.Generator when shuffle=True, e.g. "
            f"rng=np.random.default_rng(0); got {type(rng).__name__}"
        )
    if y is None:
        order = rng.permutation(n) if shuffle else np.arange(n)
        fold_of = np.empty(n, dtype=np.int64)
        for i, block in enumerate(np.array_split(order, k)):  # sizes differ by at most one
            fold_of[block] = i
    else:
        labels = np.asarray(y)
        if labels.shape != (n,):
            raise ValueError(f"y must have shape (n,) = ({n},); got shape {labels.shape}")
        # class by class (each shuffled), then deal position j to fold j % k: every fold gets
        # its share of every class, and the fold sizes still differ by at most one
        groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
        order = np.concatenate([rng.permutation(g) if shuffle else g for g in groups])
        fold_of = np.empty(n, dtype=np.int64)
        fold_of[order] = np.arange(n) % k
    return _folds(fold_of, k)


def _folds(fold_of: np.ndarray, k: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for i in range(k):
        yield np.flatnonzero(fold_of != i), np.flatnonzero(fold_of == i)
