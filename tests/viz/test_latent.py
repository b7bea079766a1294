"""Unit 11's latent-space explorer: two sliders pick a code, the student's decoder draws it.

It must call the student's decoder with the slider values as one ``(1, 2)`` code, show the
image it returns, mark the point on the scatter of the training codes (one colour per
class), and say clearly what is wrong when the decoder is unwritten or returns the wrong
shape.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.image import AxesImage

from dlkit.autograd import Tensor
from dlkit.viz.explorer import Explorer
from dlkit.viz.latent import LatentExplorer
from tests.viz.conftest import Spy

CELL = "/tmp/ipykernel_4242/1111.py"  # how ipykernel names a notebook cell's code


def _codes(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    g = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    centres = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    return centres[labels] + 0.3 * g.standard_normal((n, 2)), labels


def _decoder(z: np.ndarray) -> np.ndarray:
    """A smooth toy decoder: a bright pixel whose place follows the code."""
    z = np.asarray(z, dtype=np.float64)
    rows, cols = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    r = 3.5 + z[:, 1:2] * 0.8
    c = 3.5 + z[:, 0:1] * 0.8
    d2 = (rows.reshape(1, -1) - r) ** 2 + (cols.reshape(1, -1) - c) ** 2
    return np.exp(-d2 / 2.0)  # (M, 64) in (0, 1]


def _image(explorer: LatentExplorer) -> np.ndarray:
    images = explorer.figure.findobj(AxesImage)
    assert len(images) == 1, f"one decoded image expected; found {len(images)}"
    return np.asarray(images[0].get_array())


def test_it_is_an_explorer_with_two_sliders_over_the_codes():
    codes, labels = _codes()
    e = LatentExplorer(_decoder, codes, labels)
    assert isinstance(e, Explorer) and list(e.controls) == ["z1", "z2"]
    for k, name in enumerate(["z1", "z2"]):
        slider = e.controls[name]
        assert slider.min < codes[:, k].min() and slider.max > codes[:, k].max()
    assert np.allclose([e.values["z1"], e.values["z2"]], codes.mean(axis=0))


def test_the_students_decoder_draws_the_slider_point():
    codes, labels = _codes()
    spy = Spy(_decoder)
    e = LatentExplorer(spy, codes, labels)
    e.update(z1=1.5, z2=-0.5)
    (z,) = spy.calls[-1]
    assert z.shape == (1, 2) and np.allclose(z, [[1.5, -0.5]])
    assert np.allclose(_image(e), _decoder(np.array([[1.5, -0.5]])).reshape(8, 8))
    before = e.fingerprint()
    e.update(z2=2.5)
    assert np.allclose(spy.calls[-1][0], [[1.5, 2.5]])
    assert e.fingerprint() != before, "moving a slider must change the picture"


def test_the_scatter_has_one_colour_per_class_and_marks_the_point():
    codes, labels = _codes()
    e = LatentExplorer(_decoder, codes, labels, names=["zero", "one", "two"])
    e.update(z1=0.25, z2=1.0)
    scatter_ax = e.figure.axes[0]
    groups = [c for c in scatter_ax.collections if isinstance(c, PathCollection)]
    assert len(groups) == 3, f"one scatter per class expected; found {len(groups)}"
    assert sum(len(g.get_offsets()) for g in groups) == len(codes)
    legend = [t.get_text() for t in scatter_ax.get_legend().get_texts()]
    assert legend == ["zero", "one", "two"]
    star = [line for line in scatter_ax.get_lines() if line.get_marker() == "*"]
    assert len(star) == 1 and np.allclose(star[0].get_xydata(), [[0.25, 1.0]])
    assert "decode((0.25, 1.00))" in e.figure.axes[1].get_title()


def test_without_labels_the_codes_are_one_grey_cloud():
    codes, _ = _codes()
    e = LatentExplorer(_decoder, codes)
    assert len(e.figure.axes[0].collections) == 1
    assert e.figure.axes[0].get_legend() is None


def test_a_decoder_module_returning_a_tensor_works():
    codes, labels = _codes()
    e = LatentExplorer(lambda z: Tensor(_decoder(z)), codes, labels)
    assert np.allclose(_image(e), _decoder(codes.mean(axis=0, keepdims=True)).reshape(8, 8))


def test_an_unwritten_decoder_says_write_it_first():
    namespace: dict = {}
    source = "def decode(z):\n    raise NotImplementedError()\n"
    exec(compile(source, CELL, "exec"), namespace)
    codes, labels = _codes()
    e = LatentExplorer(namespace["decode"], codes, labels)
    assert e.error == "write `decode` first (it still raises NotImplementedError)"
    assert e.png().startswith(b"\x89PNG")
    assert "write `decode` first" in e.widget().children[2].value


def test_nan_pixels_are_drawn_as_zero_and_said_without_warnings():
    codes, labels = _codes()
    e = LatentExplorer(lambda z: np.full((1, 64), np.nan), codes, labels)
    assert np.all(_image(e) == 0.0)
    assert "NaN pixels" in e.figure.axes[1].get_title()


def test_wrong_decoder_outputs_and_inputs_raise_clear_errors():
    codes, labels = _codes()
    with pytest.raises(ValueError, match=r"one image of 64 pixels.*\(1, 64\).*\(1, 32\)"):
        LatentExplorer(lambda z: np.zeros((1, 32)), codes, labels)
    with pytest.raises(ValueError, match=r"one image of 64 pixels"):
        LatentExplorer(lambda z: np.zeros((2, 64)), codes, labels)
    with pytest.raises(ValueError, match=r"codes must have shape \(N, 2\)"):
        LatentExplorer(_decoder, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="codes must be finite"):
        LatentExplorer(_decoder, np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match=r"labels must be 60 integer classes"):
        LatentExplorer(_decoder, codes, labels[:10])
    with pytest.raises(ValueError, match=r"labels must be 60 integer classes"):
        LatentExplorer(_decoder, codes, labels.astype(float))
    with pytest.raises(TypeError, match="decode must be"):
        LatentExplorer(None, codes)
    with pytest.raises(TypeError, match="decode must be a function"):
        LatentExplorer(3.0, codes)
    with pytest.raises(ValueError, match="image_shape"):
        LatentExplorer(_decoder, codes, image_shape=(8,))
    with pytest.raises(ValueError, match="start must be a pair"):
        LatentExplorer(_decoder, codes, start=(1.0, 2.0, 3.0))


def test_start_is_clipped_into_the_slider_range_and_images_of_other_shapes():
    codes, labels = _codes()
    e = LatentExplorer(lambda z: np.ones((1, 12)) * 0.5, codes, labels, image_shape=(3, 4),
                       start=(100.0, -100.0))  # fmt: skip
    assert e.values["z1"] == e.controls["z1"].max and e.values["z2"] == e.controls["z2"].min
    assert _image(e).shape == (3, 4)


def test_the_widget_view_and_the_static_fallback_render():
    codes, labels = _codes()
    spy = Spy(_decoder)
    e = LatentExplorer(spy, codes, labels)
    view = e.widget()
    sliders, image = view.children[0].children, view.children[1]
    assert [s.description for s in sliders] == ["z1", "z2"]
    before, calls = bytes(image.value), len(spy.calls)
    sliders[0].value = float(e.controls["z1"].max)
    assert len(spy.calls) == calls + 1 and bytes(image.value) != before
    assert e.error is None
    e.show(static=True)  # the plain image of a place without a widget frontend
    assert e.png().startswith(b"\x89PNG")
