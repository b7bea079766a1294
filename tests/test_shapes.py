"""dlkit.shapes (re-exported by dlkit.data): the procedural shapes image set."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import data
from dlkit.data import SHAPE_KINDS, make_shapes


def shape_features(x: np.ndarray) -> np.ndarray:
    """Two numbers per image: how much of its bounding box the shape fills (square ~1,
    disc ~pi/4, triangle ~1/2, slanted line less), and how round it is (the ratio of the
    principal axes of its pixels: ~1 for the compact shapes, small for a line)."""
    feats = []
    for mask in x[:, 0] > 0.5:
        r, c = np.nonzero(mask)
        box = (np.ptp(r) + 1) * (np.ptp(c) + 1)
        small, large = np.linalg.eigvalsh(np.cov(np.stack([r, c])))
        feats.append([len(r) / box, np.sqrt(max(small, 0.0) / large)])
    return np.array(feats)


def test_shapes_dtype_range_and_labels(rng):
    x, y = make_shapes(50, rng=rng)
    assert x.shape == (50, 1, 16, 16) and x.dtype == np.float32
    assert y.shape == (50,) and y.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert set(np.unique(y)) == {0, 1, 2, 3}
    assert data.make_shapes is make_shapes and SHAPE_KINDS == (
        "circle",
        "square",
        "triangle",
        "line",
    )


def test_shapes_are_seeded_and_differ_between_seeds():
    a = make_shapes(20, rng=np.random.default_rng(7), size=12)
    b = make_shapes(20, rng=np.random.default_rng(7), size=12)
    c = make_shapes(20, rng=np.random.default_rng(8), size=12)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("n", [1, 7, 100, 101])
def test_kinds_are_balanced(n, rng):
    _, y = make_shapes(n, rng=rng, size=8)
    counts = np.bincount(y, minlength=4)
    assert counts.sum() == n and counts.max() - counts.min() <= 1


def test_clean_images_are_white_shapes_on_black(rng):
    x, y = make_shapes(200, rng=rng, size=16, noise=0.0)
    per_image = x.reshape(200, -1)
    assert np.all(per_image.max(axis=1) >= 0.8), "every shape has (nearly) white pixels"
    compact = per_image[y != 3]
    assert np.all(compact.max(axis=1) == 1.0), "filled shapes have fully covered pixels"
    assert np.all((per_image == 0.0).mean(axis=1) > 0.3), "and plenty of background"
    # circles, squares and triangles are filled: far more ink than a line
    ink = per_image.sum(axis=1)
    assert ink[y == 3].mean() < 0.6 * min(ink[y == k].mean() for k in range(3))


def test_noise_is_gaussian_with_the_given_spread(rng):
    clean = make_shapes(300, rng=np.random.default_rng(1), noise=0.0)[0]
    noisy = make_shapes(300, rng=np.random.default_rng(1), noise=0.1)[0]
    inside = (clean > 0.3) & (clean < 0.7)  # away from the clipping at 0 and 1
    assert abs(float((noisy - clean)[inside].std()) - 0.1) < 0.02
    assert abs(float((noisy - clean)[inside].mean())) < 0.02


@pytest.mark.parametrize(("size", "accuracy"), [(8, 0.6), (16, 0.9), (29, 0.95)])
def test_each_kind_is_distinguishable(size, accuracy):
    """A nearest-centroid classifier on two shape statistics separates the four kinds."""
    x, y = make_shapes(800, rng=np.random.default_rng(size), size=size)
    f = shape_features(x)
    train, test = slice(0, 400), slice(400, None)
    centroids = np.stack([f[train][y[train] == k].mean(axis=0) for k in range(4)])
    scale = f[train].std(axis=0)
    distance = (((f[test][:, None] - centroids) / scale) ** 2).sum(axis=-1)
    got = float((distance.argmin(axis=1) == y[test]).mean())
    assert got >= accuracy, f"nearest-centroid accuracy {got:.2f} at size {size}"


def test_kinds_subset_relabels(rng):
    x, y = make_shapes(40, rng=rng, kinds=("line", "circle"), noise=0.0)
    assert set(np.unique(y)) == {0, 1}
    ink = x.reshape(40, -1).sum(axis=1)
    assert ink[y == 0].mean() < ink[y == 1].mean(), "label 0 is now the line"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n": 0}, ValueError, r"n must be an int >= 1; got 0"),
        ({"rng": 3}, TypeError, r"rng must be a numpy.random.Generator"),
        ({"size": 7}, ValueError, r"size must be >= 8 pixels.*got 7"),
        ({"size": 16.0}, TypeError, r"size must be an int"),
        ({"noise": -0.1}, ValueError, r"noise must be a number >= 0"),
        ({"kinds": "circle"}, TypeError, r"kinds must be a tuple of shape names"),
        ({"kinds": ("circle", "star")}, ValueError, r"'star' is not a shape"),
        ({"kinds": ()}, ValueError, r"kinds must be a non-empty tuple"),
        ({"kinds": ("line", "line")}, ValueError, r"kinds must not repeat a shape"),
    ],
)
def test_errors(kwargs, error, message):
    args = {"n": 4, "rng": np.random.default_rng(0)} | kwargs
    n = args.pop("n")
    with pytest.raises(error, match=message):
        make_shapes(n, **args)
