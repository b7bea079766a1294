"""dlkit.data: generators, load_digits, train_val_test_split, minibatches, standardize."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlkit import data

# generator -> (keyword arguments, number of classes); make_curve is regression
CLASSIFICATION = {
    "make_blobs": ({"centers": 3}, 3),
    "make_moons": ({}, 2),
    "make_spirals": ({"classes": 4}, 4),
    "make_xor": ({}, 2),
    "make_gaussian_mixture": ({"modes": 5}, 5),
}
GENERATORS = [*CLASSIFICATION, "make_curve"]


def make(name, n=120, seed=0, **kw):
    kw = {**CLASSIFICATION.get(name, ({}, 0))[0], **kw}
    return getattr(data, name)(n, rng=np.random.default_rng(seed), **kw)


# -- generators -------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_shapes_dtypes_and_labels(name):
    X, y = make(name, n=121)
    classes = CLASSIFICATION[name][1]
    assert X.shape == (121, 2) and X.dtype == np.float64
    assert y.shape == (121,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(classes))
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("name", ["make_blobs", "make_moons", "make_spirals", "make_xor"])
def test_classes_are_balanced(name):
    _, y = make(name, n=121)
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1


def test_gaussian_mixture_draws_every_mode_about_equally():
    X, y = make("make_gaussian_mixture", n=5000, modes=5)
    counts = np.bincount(y, minlength=5)
    assert np.all(np.abs(counts - 1000) < 150)
    # every point is near its mode on the circle of radius 2
    angle = 2 * np.pi * y / 5
    centres = 2.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    assert np.abs(X - centres).max() < 0.05 * 6


def test_data_is_shuffled():
    # a generator that returned the classes in order would teach a bad habit
    for name in ("make_blobs", "make_moons", "make_spirals", "make_xor"):
        _, y = make(name, n=60)
        classes = CLASSIFICATION[name][1]
        assert not np.array_equal(y, np.sort(y))
        assert not np.array_equal(y, np.arange(60) % classes)


def test_blobs_sit_around_their_centres():
    X, y = make("make_blobs", n=3000, centers=4, std=0.5, spread=4.0)
    means = np.array([X[y == c].mean(axis=0) for c in range(4)])
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 4.0, atol=0.1)
    np.testing.assert_allclose([X[y == c].std(axis=0) for c in range(4)], 0.5, atol=0.05)


def test_xor_labels_follow_the_signs():
    X, y = make("make_xor", n=400, noise=0.1)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))


def test_noise_zero_gives_exact_shapes():
    X, y = make("make_moons", n=50, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0)
    X, y = make("make_spirals", n=50, noise=0.0)
    assert np.all(np.linalg.norm(X, axis=1) <= 1.0)


@pytest.mark.parametrize("kind", ["sine", "step", "abs"])
def test_make_curve(kind):
    X, y = make("make_curve", n=80, kind=kind, noise=0.0)
    assert X.shape == (80, 1) and y.shape == (80, 1)
    assert X.dtype == y.dtype == np.float64
    assert np.all(np.diff(X[:, 0]) >= 0) and np.all(np.abs(X) <= np.pi)
    truth = {
        "sine": np.sin(2 * X),
        "step": np.where(X > 0, 1.0, -1.0),
        "abs": np.abs(X) - np.pi / 2,
    }[kind]
    np.testing.assert_allclose(y, truth)


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_same_data_different_seed_different_data(name):
    X1, y1 = make(name, seed=7)
    X2, y2 = make(name, seed=7)
    X3, _ = make(name, seed=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(X1, X3)


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_touch_no_global_seed(name):
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global is the point)
    make(name)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("rng", [0, None, np.random.RandomState(0)], ids=["int", "None", "legacy"])
def test_rng_must_be_a_generator(name, rng):
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator, e\.g\. rng=np"):
        getattr(data, name)(10, rng=rng)


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_n_must_be_a_positive_int(name, n):
    with pytest.raises(ValueError, match=r"n must be an int >= 1; got"):
        getattr(data, name)(n, rng=np.random.default_rng(0))


def test_bad_generator_options():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"noise must be a number >= 0; got -0.1"):
        data.make_moons(10, rng=rng, noise=-0.1)
    with pytest.raises(ValueError, match=r"centers must be an int >= 1; got 0"):
        data.make_blobs(10, rng=rng, centers=0)
    with pytest.raises(
        ValueError, match=r"kind must be one of \['abs', 'sine', 'step'\]; got 'cos'"
    ):
        data.make_curve(10, rng=rng, kind="cos")


@pytest.mark.parametrize(
    ("gate", "labels"),
    [("and", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]), ("nand", [1, 1, 1, 0]), ("xor", [0, 1, 1, 0])],
)
def test_logic_gate(gate, labels):
    X, y = data.logic_gate(gate)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)


def test_logic_gate_unknown():
    with pytest.raises(ValueError, match=r"name must be one of \['and', 'nand', 'or', 'xor'\]"):
        data.logic_gate("nor")


# -- load_digits ------------------------------------------------------------------------


def test_load_digits():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    images, y2 = data.load_digits(images=True)
    assert images.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    np.testing.assert_array_equal(y2, y)


# -- train_val_test_split ---------------------------------------------------------------


def split_indices(n=200, classes=4, seed=0, **kw):
    """Split the row numbers themselves, so that each part says which rows it got."""
    y = np.arange(n) % classes
    X = np.arange(n, dtype=float)[:, None] * np.ones((1, 3))
    parts = data.train_val_test_split(X, y, rng=np.random.default_rng(seed), **kw)
    return X, y, parts


@pytest.mark.parametrize("stratify", [True, False])
def test_split_sizes_disjoint_and_covering(stratify):
    X, y, (Xtr, Xva, Xte, ytr, yva, yte) = split_indices(stratify=stratify, val=0.2, test=0.1)
    assert (len(Xtr), len(Xva), len(Xte)) == (140, 40, 20)
    assert Xtr.shape[1:] == Xva.shape[1:] == Xte.shape[1:] == (3,)
    rows = [part[:, 0].astype(int) for part in (Xtr, Xva, Xte)]
    every = np.concatenate(rows)
    np.testing.assert_array_equal(np.sort(every), np.arange(200))  # disjoint and complete
    for r, labels in zip(rows, (ytr, yva, yte), strict=True):
        np.testing.assert_array_equal(labels, y[r])  # X and y stay paired


def test_split_is_stratified():
    y = np.array([0] * 100 + [1] * 20)
    X = np.zeros((120, 2))
    _, _, _, ytr, yva, yte = data.train_val_test_split(X, y, rng=np.random.default_rng(1))
    assert np.bincount(yva).tolist() == [15, 3]
    assert np.bincount(yte).tolist() == [15, 3]
    assert np.bincount(ytr).tolist() == [70, 14]


def test_split_is_reproducible_and_shuffled():
    _, _, a = split_indices(seed=3)
    _, _, b = split_indices(seed=3)
    _, _, c = split_indices(seed=4)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(a[0], c[0])
    assert not np.all(np.diff(a[0][:, 0]) > 0)  # training rows are not in their old order


def test_split_keeps_images_whole():
    X, y = np.zeros((40, 1, 8, 8)), np.arange(40) % 2
    Xtr, Xva, Xte, *_ = data.train_val_test_split(X, y, rng=np.random.default_rng(0))
    assert Xtr.shape[1:] == Xva.shape[1:] == Xte.shape[1:] == (1, 8, 8)


def test_split_errors():
    rng = np.random.default_rng(0)
    X, y = np.zeros((10, 2)), np.zeros(10, dtype=int)
    with pytest.raises(ValueError, match=r"y must be 1-D with shape \(N,\); got shape \(10, 1\)"):
        data.train_val_test_split(X, y[:, None], rng=rng)
    with pytest.raises(ValueError, match=r"X must have shape \(N, D1\) with size 10 .*\(9, 2\)"):
        data.train_val_test_split(X[:9], y, rng=rng)
    with pytest.raises(ValueError, match=r"val must be a fraction in \[0, 1\); got 1.5"):
        data.train_val_test_split(X, y, rng=rng, val=1.5)
    with pytest.raises(ValueError, match=r"test must be a fraction in \[0, 1\); got -0.1"):
        data.train_val_test_split(X, y, rng=rng, test=-0.1)
    with pytest.raises(ValueError, match=r"val \+ test must be < 1 .*got 1"):
        data.train_val_test_split(X, y, rng=rng, val=0.5, test=0.5)
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        data.train_val_test_split(X, y, rng=42)


# -- minibatches ------------------------------------------------------------------------


@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), shuffle=st.booleans())
def test_minibatches_cover_every_index_once(n, batch_size, shuffle):
    X, y = np.arange(n, dtype=float)[:, None], np.arange(n)
    rng = np.random.default_rng(0)
    batches = list(data.minibatches(X, y, batch_size=batch_size, rng=rng, shuffle=shuffle))
    assert all(len(xb) == len(yb) for xb, yb in batches)
    assert all(len(yb) == batch_size for _, yb in batches[:-1])
    assert 1 <= len(batches[-1][1]) <= batch_size
    seen = np.concatenate([yb for _, yb in batches])
    np.testing.assert_array_equal(np.sort(seen), np.arange(n))
    np.testing.assert_array_equal(np.concatenate([xb[:, 0] for xb, _ in batches]), seen)
    if not shuffle:
        np.testing.assert_array_equal(seen, np.arange(n))


@given(n=st.integers(1, 40), batch_size=st.integers(1, 12))
def test_minibatches_drop_last(n, batch_size):
    y = np.arange(n)
    batches = list(
        data.minibatches(y, y, batch_size=batch_size, rng=np.random.default_rng(0), drop_last=True)
    )
    assert len(batches) == n // batch_size
    assert all(len(yb) == batch_size for _, yb in batches)
    seen = np.concatenate([yb for _, yb in batches]) if batches else np.array([], int)
    assert len(set(seen.tolist())) == len(seen)


def test_minibatches_order_is_reproducible_and_changes_per_epoch():
    y = np.arange(50)

    def epochs(seed):
        rng = np.random.default_rng(seed)
        return [
            np.concatenate([b for _, b in data.minibatches(y, y, batch_size=8, rng=rng)])
            for _ in range(2)
        ]

    first, second = epochs(0)
    again = epochs(0)
    np.testing.assert_array_equal(first, again[0])
    np.testing.assert_array_equal(second, again[1])
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, y)


def test_minibatches_checks_arguments_at_the_call():
    y = np.arange(10)
    with pytest.raises(ValueError, match=r"batch_size must be an int >= 1; got 0"):
        data.minibatches(y, y, batch_size=0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"X and y must have the same length N; got 9 and 10"):
        data.minibatches(y[:9], y, batch_size=2, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator.*got NoneType"):
        data.minibatches(y, y, batch_size=2)
    # without shuffling no rng is needed
    assert len(list(data.minibatches(y, y, batch_size=3, shuffle=False))) == 4


def test_minibatches_of_tensors_stay_tensors(torch):
    X, y = torch.arange(12.0).reshape(6, 2), torch.arange(6)
    batches = list(data.minibatches(X, y, batch_size=4, rng=np.random.default_rng(0)))
    assert all(isinstance(xb, torch.Tensor) and isinstance(yb, torch.Tensor) for xb, yb in batches)
    assert sorted(torch.cat([yb for _, yb in batches]).tolist()) == list(range(6))


# -- standardize ------------------------------------------------------------------------


def test_standardize(rng):
    X = rng.normal(5.0, 3.0, size=(50, 3))
    X[:, 2] = 7.0  # a constant column
    Z = data.standardize(X)
    assert Z.shape == (50, 3) and Z.dtype == np.float64
    np.testing.assert_allclose(Z[:, :2].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :2].std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(Z[:, 2], 0.0)
    np.testing.assert_allclose(
        data.standardize(np.arange(4)[:, None]).ravel(), (np.arange(4) - 1.5) / np.arange(4).std()
    )


def test_standardize_errors():
    with pytest.raises(
        ValueError, match=r"X must be 2-D with shape \(N, D\); got 1-D shape \(3,\)"
    ):
        data.standardize(np.ones(3))
    with pytest.raises(ValueError, match=r"X is empty"):
        data.standardize(np.ones((0, 3)))
