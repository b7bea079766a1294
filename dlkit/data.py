"""Offline datasets and the helpers that split and batch them.

Everything random takes an explicit ``rng`` (a ``numpy.random.Generator``): the same
generator state gives the same data, and no global seed is touched. Inputs are float64
arrays ``X`` of shape ``(N, D)`` (images ``(N, C, H, W)``), labels int64 arrays ``y`` of
shape ``(N,)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ._validate import as_array, check_generator, check_shape
from .bpe import BPE, CHUNK_PATTERN, Merge
from .corpus import TEXTS, load_text, python_docs_text, split_text, text_batches
from .seqtasks import BRACKETS, bracket_task, copy_task
from .shapes import SHAPE_KINDS, make_shapes
from .text import TOKEN_PATTERN, CharVocab, WordVocab, pad_sequences, tokenize

__all__ = [
    "make_blobs",
    "make_moons",
    "make_spirals",
    "make_xor",
    "make_gaussian_mixture",
    "make_curve",
    "make_friedman1",
    "logic_gate",
    "load_digits",
    "train_val_test_split",
    "minibatches",
    "standardize",
    "make_shapes",
    "SHAPE_KINDS",
    # text and sequences (unit 09): dlkit/text.py, bpe.py, corpus.py, seqtasks.py
    "CharVocab",
    "WordVocab",
    "tokenize",
    "TOKEN_PATTERN",
    "pad_sequences",
    "BPE",
    "Merge",
    "CHUNK_PATTERN",
    "load_text",
    "python_docs_text",
    "TEXTS",
    "split_text",
    "text_batches",
    "copy_task",
    "bracket_task",
    "BRACKETS",
]


def _count(n: Any, name: str = "n", minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {n!r}")
    return int(n)


def _nonneg(value: Any, name: str) -> float:
    if not isinstance(value, (int, float, np.number)) or value < 0:
        raise ValueError(f"{name} must be a number >= 0; got {value!r}")
    return float(value)


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator):
    order = rng.permutation(len(y))
    return X[order], y[order]


def make_blobs(
    n: int, *, rng: np.random.Generator, centers: int = 2, std: float = 1.0, spread: float = 4.0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points in 2-D around ``centers`` Gaussian blobs, one class per blob.

    Centres sit evenly on a circle of radius ``spread``; each blob has standard deviation
    ``std``. Returns ``X`` ``(n, 2)`` and ``y`` ``(n,)`` in ``[0, centers)``.
    """
    n, rng = _count(n), check_generator(rng)
    centers, std = _count(centers, "centers"), _nonneg(std, "std")
    y = np.arange(n) % centers
    angle = 2 * np.pi * np.arange(centers) / centers + np.pi / 4
    means = spread * np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (centers, 2)
    X = means[y] + std * rng.standard_normal((n, 2))
    return _shuffled(X, y.astype(np.int64), rng)


def make_moons(
    n: int, *, rng: np.random.Generator, noise: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: separable, but not by a line."""
    n, rng, noise = _count(n), check_generator(rng), _nonneg(noise, "noise")
    y = np.arange(n) % 2
    t = np.pi * rng.uniform(0, 1, n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    X = np.where(y[:, None] == 0, upper, lower) + noise * rng.standard_normal((n, 2))
    return _shuffled(X, y.astype(np.int64), rng)


def make_spirals(
    n: int, *, rng: np.random.Generator, classes: int = 3, noise: float = 0.2, turns: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms in the unit disc (a classic hard 2-D problem)."""
    n, rng = _count(n), check_generator(rng)
    classes, noise = _count(classes, "classes"), _nonneg(noise, "noise")
    y = np.arange(n) % classes
    r = rng.uniform(0.05, 1.0, n)
    theta = 2 * np.pi * (turns * r + y / classes) + noise * rng.standard_normal(n)
    X = r[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    return _shuffled(X, y.astype(np.int64), rng)


def make_xor(
    n: int, *, rng: np.random.Generator, noise: float = 0.15
) -> tuple[np.ndarray, np.ndarray]:
    """Four clusters at (+-1, +-1); the label is 1 where the signs differ (XOR)."""
    n, rng, noise = _count(n), check_generator(rng), _nonneg(noise, "noise")
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=np.float64)
    which = np.arange(n) % 4
    X = corners[which] + noise * rng.standard_normal((n, 2))
    y = np.array([0, 1, 1, 0], dtype=np.int64)[which]
    return _shuffled(X, y, rng)


def make_gaussian_mixture(
    n: int, *, rng: np.random.Generator, modes: int = 8, radius: float = 2.0, std: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """``modes`` small Gaussians evenly on a circle (the GAN unit's mode-collapse testbed)."""
    n, rng = _count(n), check_generator(rng)
    modes, std = _count(modes, "modes"), _nonneg(std, "std")
    y = rng.integers(0, modes, n)
    angle = 2 * np.pi * y / modes
    X = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return X + std * rng.standard_normal((n, 2)), y.astype(np.int64)


def make_curve(
    n: int, *, rng: np.random.Generator, kind: str = "sine", noise: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D regression set on ``[-pi, pi]``: ``X`` ``(n, 1)`` sorted, ``y`` ``(n, 1)``.

    ``kind`` is ``"sine"`` (``sin(2x)``), ``"step"`` (a jump at 0) or ``"abs"`` (``|x|``).
    """
    shapes = {
        "sine": lambda x: np.sin(2 * x),
        "step": lambda x: np.where(x > 0, 1.0, -1.0),
        "abs": lambda x: np.abs(x) - np.pi / 2,
    }
    if kind not in shapes:
        raise ValueError(f"kind must be one of {sorted(shapes)}; got {kind!r}")
    n, rng, noise = _count(n), check_generator(rng), _nonneg(noise, "noise")
    x = np.sort(rng.uniform(-np.pi, np.pi, n))
    y = shapes[kind](x) + noise * rng.standard_normal(n)
    return x[:, None], y[:, None]


def make_friedman1(
    n: int, *, rng: np.random.Generator, noise: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Friedman's first regression problem (1991): ``X`` ``(n, 10)`` uniform on ``[0, 1]``,
    ``y`` ``(n,)`` = ``10 sin(pi x0 x1) + 20 (x2 - 0.5)^2 + 10 x3 + 5 x4`` plus Gaussian noise
    of standard deviation ``noise``. Features 5 to 9 do not enter ``y``: a model that uses
    them is fitting noise. (scikit-learn's ``make_friedman1`` draws the same problem from
    its own random state.)
    """
    n, rng, noise = _count(n), check_generator(rng), _nonneg(noise, "noise")
    X = rng.uniform(0.0, 1.0, (n, 10))
    y = (
        10 * np.sin(np.pi * X[:, 0] * X[:, 1])
        + 20 * (X[:, 2] - 0.5) ** 2
        + 10 * X[:, 3]
        + 5 * X[:, 4]
        + noise * rng.standard_normal(n)
    )
    return X, y


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The four rows of a 2-input truth table: ``"and"``, ``"or"``, ``"nand"`` or ``"xor"``."""
    tables = {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "nand": [1, 1, 1, 0], "xor": [0, 1, 1, 0]}
    key = str(name).lower()
    if key not in tables:
        raise ValueError(f"name must be one of {sorted(tables)}; got {name!r}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return X, np.array(tables[key], dtype=np.int64)


def load_digits(*, images: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten digits (8x8, shipped with scikit-learn: no download).

    Pixel values are scaled from 0..16 to ``[0, 1]``. Returns ``X`` ``(1797, 64)``, or
    ``(1797, 1, 8, 8)`` with ``images=True``, and ``y`` ``(1797,)`` in ``0..9``.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    X = bunch.data.astype(np.float64) / 16.0
    if images:
        X = X.reshape(-1, 1, 8, 8)
    return X, bunch.target.astype(np.int64)


def train_val_test_split(
    X: Any,
    y: Any,
    *,
    rng: np.random.Generator,
    val: float = 0.15,
    test: float = 0.15,
    stratify: bool = True,
) -> tuple[np.ndarray, ...]:
    """Shuffle and split into train, validation and test sets.

    ``val`` and ``test`` are fractions of the whole set. With ``stratify`` every class keeps
    its proportion in each part (rounded per class). Returns
    ``X_train, X_val, X_test, y_train, y_val, y_test``.
    """
    X, y, rng = np.asarray(as_array(X, "X")), np.asarray(y), check_generator(rng)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D with shape (N,); got shape {y.shape}")
    check_shape(
        X,
        "X",
        (y.shape[0],) + (None,) * (X.ndim - 1),
        names=("N",) + tuple(f"D{i}" for i in range(1, X.ndim)),
    )
    for frac, name in ((val, "val"), (test, "test")):
        if not (isinstance(frac, (int, float)) and 0 <= frac < 1):
            raise ValueError(f"{name} must be a fraction in [0, 1); got {frac!r}")
    if val + test >= 1:
        raise ValueError(f"val + test must be < 1 to leave training data; got {val + test:g}")
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    parts: list[list[np.ndarray]] = [[], [], []]
    for idx in groups:
        idx = rng.permutation(idx)
        n_test, n_val = int(round(test * len(idx))), int(round(val * len(idx)))
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test : n_test + n_val])
        parts[0].append(idx[n_test + n_val :])
    train, valid, tst = (rng.permutation(np.concatenate(p)) for p in parts)
    return X[train], X[valid], X[tst], y[train], y[valid], y[tst]


def minibatches(
    X: Any,
    y: Any,
    *,
    batch_size: int,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[tuple[Any, Any]]:
    """Yield ``(X_batch, y_batch)`` pairs covering the data once (one epoch).

    With ``shuffle`` (the default) a fresh permutation is drawn from ``rng`` each call, so
    pass the same generator every epoch to get a different, reproducible order. The last
    batch is smaller unless ``drop_last``. Arguments are checked at the call, not at the
    first batch.
    """
    batch_size = _count(batch_size, "batch_size")
    n = len(y)
    if len(X) != n:
        raise ValueError(f"X and y must have the same length N; got {len(X)} and {n}")
    order = check_generator(rng).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    return _batches(X, y, order[:stop], batch_size)


def _batches(X: Any, y: Any, order: np.ndarray, batch_size: int) -> Iterator[tuple[Any, Any]]:
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]


def standardize(X: Any) -> np.ndarray:
    """Rescale each column of ``X`` ``(N, D)`` to mean 0 and standard deviation 1.

    Uses the population standard deviation (``ddof=0``). A constant column has nothing to
    rescale and becomes all zeros rather than ``0 / 0 = nan``.
    """
    X = as_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D with shape (N, D); got {X.ndim}-D shape {tuple(X.shape)}")
    if X.shape[0] == 0:
        raise ValueError("X is empty (N = 0): there is no mean to subtract")
    X = np.asarray(X, dtype=np.float64) if X.dtype.kind != "f" else X
    centered = X - X.mean(axis=0, keepdims=True)  # (N, D)
    std = X.std(axis=0, keepdims=True)  # (1, D)
    return centered / np.where(std > 0, std, 1.0)
