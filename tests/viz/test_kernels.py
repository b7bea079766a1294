"""KernelExplorer: presets and custom kernels through the student's convolution."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from dlkit import functional as F
from dlkit.viz import KernelExplorer
from dlkit.viz.kernels import LIMIT, PRESET_KERNELS
from tests.viz.conftest import Spy

IMAGES = np.random.default_rng(0).random((4, 12, 10))


def test_every_preset_changes_the_picture() -> None:
    ex = KernelExplorer(images=IMAGES, preset="identity")
    seen = {ex.fingerprint()}
    for name in [*PRESET_KERNELS, "custom"]:
        if name == "identity":
            continue
        assert isinstance(ex.update(preset=name), Figure)
        seen.add(ex.fingerprint())
    assert len(seen) == len(PRESET_KERNELS) + 1


def test_runs_the_students_conv_with_the_shown_kernel() -> None:
    conv = Spy(F.conv2d_forward)
    ex = KernelExplorer(conv, IMAGES, preset="sobel y")
    x, w, b = conv.calls[-1][:3]
    assert x.shape == (1, 1, 12, 10) and np.array_equal(x[0, 0], IMAGES[0])
    np.testing.assert_array_equal(w[0, 0], PRESET_KERNELS["sobel y"])
    assert b.shape == (1,)
    ex.update(image=3, same=False)
    assert len(conv.calls) == 2 and conv.calls[-1][0][0, 0].shape == (12, 10)
    np.testing.assert_allclose(
        ex.output(3, w[0, 0], False, False), F.conv2d_naive(IMAGES[3][None, None], w, b)[0, 0]
    )


def test_a_conv_that_returns_only_out_works_too() -> None:
    loops = Spy(F.conv2d_naive)
    ex = KernelExplorer(loops, IMAGES[:1])
    assert len(loops.calls) == 1 and isinstance(ex.figure, Figure)


def test_custom_kernel_all_zero_huge_and_image_bounds() -> None:
    ex = KernelExplorer(images=IMAGES, preset="custom")
    zero = {f"k{i}": 0.0 for i in range(9)}
    ex.update(**zero)
    assert not ex.output(0, ex.kernel("custom", **zero), True, False).any()
    blank = ex.fingerprint()
    huge = {f"k{i}": (LIMIT if i % 2 else -LIMIT) for i in range(9)}
    ex.update(**huge, relu=True, same=False)
    assert ex.fingerprint() != blank
    for image in (0, len(IMAGES) - 1):
        ex.update(image=image)
    with pytest.raises(ValueError, match=r"image must be in \[0, 3\]"):
        ex.update(image=4)
    with pytest.raises(ValueError, match=r"k0 must be in"):
        ex.update(k0=LIMIT * 2)


def test_sliders_only_matter_for_the_custom_kernel() -> None:
    ex = KernelExplorer(images=IMAGES, preset="laplacian")
    before = ex.fingerprint()
    ex.update(k4=3.0)
    assert ex.fingerprint() == before
    ex.update(preset="custom")
    after = ex.fingerprint()
    ex.update(k4=-3.0)
    assert ex.fingerprint() != after


def test_relu_keeps_only_the_positive_response() -> None:
    ex = KernelExplorer(images=IMAGES, preset="sobel x")
    k = PRESET_KERNELS["sobel x"]
    raw, kept = ex.output(1, k, True, False), ex.output(1, k, True, True)
    assert (raw < 0).any() and (kept >= 0).all()
    np.testing.assert_array_equal(kept, np.maximum(raw, 0))


def test_a_wrong_output_shape_is_explained() -> None:
    def one_sided(x, w, b, stride=1, pad=0):
        xpad = np.pad(x, ((0, 0), (0, 0), (pad, 0), (pad, 0)))  # padding on one side only
        return F.conv2d_forward(xpad, w, b)

    with pytest.raises(ValueError, match=r"conv returned shape \(1, 1, 11, 9\).*\(1, 1, 12, 10\)"):
        KernelExplorer(one_sided, IMAGES)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="conv must be a function"):
        KernelExplorer("conv")
    with pytest.raises(ValueError, match=r"images must have shape \(N, H, W\)"):
        KernelExplorer(images=np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="preset must be one of"):
        KernelExplorer(images=IMAGES, preset="edges")


def test_default_images_are_enlarged_digits() -> None:
    ex = KernelExplorer()
    assert ex.images.shape == (20, 24, 24)


def test_static_show_displays_a_png(monkeypatch) -> None:
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    ex = KernelExplorer(images=IMAGES)
    assert ex.show(static=True) is None
    assert len(shown) == 1 and shown[0].data[:4] == b"\x89PNG"
