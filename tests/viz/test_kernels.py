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


def _weights(ex: KernelExplorer) -> np.ndarray:
    return np.array([ex.values[f"k{i}"] for i in range(9)]).reshape(3, 3)


def test_a_preset_sets_the_nine_sliders() -> None:
    ex = KernelExplorer(images=IMAGES, preset="laplacian")
    np.testing.assert_array_equal(_weights(ex), PRESET_KERNELS["laplacian"])
    for name, kernel in PRESET_KERNELS.items():
        ex.update(preset=name)
        assert ex.values["preset"] == name
        np.testing.assert_array_equal(_weights(ex), kernel)
    ex.update(preset="custom")  # custom starts from the weights shown: the last preset's
    np.testing.assert_array_equal(_weights(ex), PRESET_KERNELS["emboss"])


def test_moving_a_slider_switches_to_custom_and_applies() -> None:
    conv = Spy(F.conv2d_forward)
    ex = KernelExplorer(conv, IMAGES, preset="laplacian")
    before = ex.fingerprint()
    ex.update(k4=3.0)
    assert ex.values["preset"] == "custom"
    expected = PRESET_KERNELS["laplacian"].copy()
    expected[1, 1] = 3.0
    np.testing.assert_array_equal(conv.calls[-1][1][0, 0], expected)  # the edited preset
    assert ex.fingerprint() != before
    ex.update(preset="sobel y", k0=5.0)  # both at once: the preset, then the slider
    assert ex.values["preset"] == "custom" and ex.values["k0"] == 5.0
    np.testing.assert_array_equal(_weights(ex)[2], PRESET_KERNELS["sobel y"][2])


def test_a_slider_set_to_the_presets_own_weight_keeps_the_preset() -> None:
    ex = KernelExplorer(images=IMAGES, preset="sobel x")
    ex.update(k2=1.0)  # sobel x already has 1 there
    assert ex.values["preset"] == "sobel x"


def _view(ex: KernelExplorer) -> dict:
    inputs = ex.widget().children[0]
    return dict(zip(ex.controls, inputs.children, strict=True))


def test_the_widget_moves_the_sliders_with_the_preset_without_feedback() -> None:
    conv = Spy(F.conv2d_forward)
    ex = KernelExplorer(conv, IMAGES, preset="sobel x")
    boxes = _view(ex)
    calls = len(conv.calls)
    boxes["preset"].value = "gaussian blur"  # what a student's click on the dropdown does
    assert len(conv.calls) == calls + 1, "one choice must redraw once, not once per slider"
    shown = np.array([boxes[f"k{i}"].value for i in range(9)]).reshape(3, 3)
    np.testing.assert_array_equal(shown, PRESET_KERNELS["gaussian blur"])
    assert boxes["preset"].value == "gaussian blur" and ex.error is None
    boxes["k8"].value = -2.0  # a student drags a slider
    assert len(conv.calls) == calls + 2
    assert boxes["preset"].value == "custom" and ex.values["preset"] == "custom"
    assert conv.calls[-1][1][0, 0, 2, 2] == -2.0
    boxes["preset"].value = "identity"
    assert len(conv.calls) == calls + 3 and boxes["k8"].value == 0.0 and boxes["k4"].value == 1.0


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
