"""dlkit.augment: shifts, flips, noise and their composition on NumPy and torch images."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlkit import augment as A
from dlkit.data import load_digits


def images(shape=(5, 1, 6, 7)) -> np.ndarray:
    return np.arange(np.prod(shape), dtype=np.float64).reshape(shape) + 1.0  # no zero pixel


@given(dy=st.integers(-8, 8), dx=st.integers(-8, 8))
def test_shift_moves_pixels_and_fills_zeros(dy, dx):
    x = images((2, 6, 7))
    out = A.shift(x, dy, dx)
    assert out.shape == x.shape and out.dtype == x.dtype
    for i in range(6):
        for j in range(7):
            src_i, src_j = i - dy, j - dx
            inside = 0 <= src_i < 6 and 0 <= src_j < 7
            expected = x[:, src_i, src_j] if inside else 0.0
            np.testing.assert_array_equal(out[:, i, j], expected)


def test_shift_by_zero_is_a_copy_and_shifts_compose():
    x = images()
    same = A.shift(x, 0, 0)
    np.testing.assert_array_equal(same, x)
    assert same is not x
    np.testing.assert_array_equal(A.shift(A.shift(x, 1, 0), 0, -2), A.shift(x, 1, -2))


def test_random_shift_uses_one_offset_per_image_within_the_range(rng):
    x = images((40, 1, 8, 8))
    out = A.random_shift(x, 2, rng=np.random.default_rng(7))
    offsets = np.random.default_rng(7).integers(-2, 3, size=(40, 2))
    for i, (dy, dx) in enumerate(offsets):
        np.testing.assert_array_equal(out[i], A.shift(x[i : i + 1], int(dy), int(dx))[0])
    assert len(np.unique(offsets, axis=0)) > 5  # genuinely different shifts per image
    np.testing.assert_array_equal(A.random_shift(x, 0, rng=rng), x)


def test_flip_mirrors_and_is_its_own_inverse():
    x = images()
    np.testing.assert_array_equal(A.flip(x), x[..., ::-1])
    np.testing.assert_array_equal(A.flip(x, horizontal=False), x[..., ::-1, :])
    np.testing.assert_array_equal(A.flip(A.flip(x)), x)


def test_random_flip_flips_about_half_the_images():
    x = images((400, 3, 4))
    out = A.random_flip(x, rng=np.random.default_rng(0))
    flipped = np.array([np.array_equal(o, xi[:, ::-1]) for o, xi in zip(out, x, strict=True)])
    kept = np.array([np.array_equal(o, xi) for o, xi in zip(out, x, strict=True)])
    assert np.all(flipped ^ kept)
    assert 0.4 < flipped.mean() < 0.6
    np.testing.assert_array_equal(A.random_flip(x, rng=np.random.default_rng(0), p=0.0), x)
    np.testing.assert_array_equal(A.random_flip(x, rng=np.random.default_rng(0), p=1.0), A.flip(x))


def test_add_noise_has_the_requested_spread(rng):
    x = np.zeros((50, 20, 20))
    out = A.add_noise(x, 0.3, rng=rng)
    assert abs(out.std() - 0.3) < 0.01 and abs(out.mean()) < 0.01
    np.testing.assert_array_equal(A.add_noise(x, 0.0, rng=rng), x)


def test_augment_is_reproducible_and_keeps_digits_recognisable():
    X, _ = load_digits(images=True)
    X = X[:100]
    a = A.augment(X, rng=np.random.default_rng(1), max_shift=1, noise=0.05)
    b = A.augment(X, rng=np.random.default_rng(1), max_shift=1, noise=0.05)
    np.testing.assert_array_equal(a, b)
    assert a.shape == X.shape and a.dtype == X.dtype
    # a one-pixel shift moves little ink out of the 8x8 frame: most of the image survives
    plain = A.augment(X, rng=np.random.default_rng(1), max_shift=1)
    assert plain.sum() > 0.8 * X.sum()
    assert not np.array_equal(plain, X)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_images_get_the_same_augmentation(dtype, device, torch):
    x_np = images((12, 1, 5, 5))
    x = torch.tensor(x_np, dtype=getattr(torch, dtype), device=device)
    for fn in (
        lambda v, g: A.augment(v, rng=g, max_shift=2, flip=True, noise=0.1),
        lambda v, g: A.random_shift(v, 1, rng=g),
    ):
        out = fn(x, np.random.default_rng(3))
        ref = fn(x_np, np.random.default_rng(3))
        assert isinstance(out, torch.Tensor) and out.device == x.device and out.dtype == x.dtype
        np.testing.assert_allclose(out.cpu().double().numpy(), ref, rtol=1e-5, atol=1e-5)


def test_bad_input_is_rejected(rng):
    with pytest.raises(ValueError, match=r"x must be a batch of images with shape \(N, H, W\)"):
        A.augment(np.ones((4, 64)), rng=rng)
    with pytest.raises(TypeError, match="x must hold floating-point numbers"):
        A.shift(np.ones((1, 2, 2), dtype=int), 1, 0)
    with pytest.raises(TypeError, match="dy must be an int"):
        A.shift(np.ones((1, 2, 2)), 0.5, 0)
    with pytest.raises(ValueError, match="max_shift must be >= 0 pixels; got -1"):
        A.random_shift(np.ones((1, 2, 2)), -1, rng=rng)
    with pytest.raises(TypeError, match="rng must be a np.random.Generator"):
        A.augment(np.ones((1, 2, 2)), rng=0)
    with pytest.raises(ValueError, match="std must be a number >= 0; got -0.1"):
        A.add_noise(np.ones((1, 2, 2)), -0.1, rng=rng)
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\]; got 2"):
        A.random_flip(np.ones((1, 2, 2)), rng=rng, p=2)
    with pytest.raises(TypeError, match="flip must be True or False"):
        A.augment(np.ones((1, 2, 2)), rng=rng, flip="yes")
