"""FeatureMapExplorer: an image through a CNN, a layer's filters and its feature maps."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from dlkit import nn
from dlkit.viz import FeatureMapExplorer


def small_cnn(seed: int = 0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 10, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(40, 3, rng=rng),
    )  # fmt: skip


IMAGES = np.random.default_rng(1).random((5, 1, 8, 8))


def test_lists_the_layers_that_output_images() -> None:
    ex = FeatureMapExplorer(small_cnn(), IMAGES)
    assert ex.names == [
        "0: Conv2d", "1: ReLU", "2: MaxPool2d", "3: Conv2d", "4: ReLU", "5: MaxPool2d"
    ]  # fmt: skip


def test_every_layer_and_image_changes_the_picture() -> None:
    ex = FeatureMapExplorer(small_cnn(), IMAGES, class_names=["a", "b", "c"])
    seen = {ex.fingerprint()}
    for name in ex.names[1:]:
        assert isinstance(ex.update(layer=name), Figure)
        seen.add(ex.fingerprint())
    last = ex.fingerprint()
    for image in (1, len(IMAGES) - 1):  # the last index is the upper bound
        ex.update(image=image)
        seen.add(ex.fingerprint())
    assert len(seen) == len(ex.names) + 2
    ex.update(image=0)
    assert ex.fingerprint() == last, "the same controls must give the same picture"
    with pytest.raises(ValueError, match=r"image must be in \[0, 4\]"):
        ex.update(image=5)


def test_feature_maps_are_the_layer_outputs() -> None:
    model = small_cnn()
    ex = FeatureMapExplorer(model, IMAGES)
    outs = ex.activations(2)
    conv = model.layers[0](IMAGES[2:3]).numpy()
    np.testing.assert_allclose(outs[0], conv)
    np.testing.assert_allclose(outs[1], np.maximum(conv, 0))
    assert outs[-1].shape == (1, 3)
    title = ex.figure.axes[0].get_title()
    assert title.startswith("image #0\npredicted")


def test_first_layer_draws_filters_deeper_layers_draw_channel_weights() -> None:
    ex = FeatureMapExplorer(small_cnn(), IMAGES)
    assert "filters (3x3)" in ex.figure.axes[1].get_title()
    ex.update(layer="3: Conv2d")
    assert ex.figure.axes[1].get_title().startswith("weight size |w[f, c]| of 10 filters")
    ex.update(layer="2: MaxPool2d")
    assert "no filters" in ex.figure.axes[1].texts[0].get_text()


def test_all_zero_weights_and_a_single_grey_image() -> None:
    model = small_cnn()
    for p in model.parameters():
        p.data[...] = 0.0
    ex = FeatureMapExplorer(model, np.full((1, 8, 8), 0.5))  # (N, H, W) is accepted
    for name in ex.names:
        ex.update(layer=name)
    assert ex.figure.axes[0].get_title() == "image #0\npredicted 0 (33%)"


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="model must be a dlkit.nn.Sequential"):
        FeatureMapExplorer(nn.ReLU(), IMAGES)
    with pytest.raises(ValueError, match=r"images must have shape \(N, C, H, W\)"):
        FeatureMapExplorer(small_cnn(), np.ones(5))
    with pytest.raises(ValueError, match="no layer whose output is an image"):
        FeatureMapExplorer(nn.Sequential(nn.Flatten()), IMAGES)
    with pytest.raises(ValueError, match=r"image must be in \[0, 4\]; got 9"):
        FeatureMapExplorer(small_cnn(), IMAGES, image=9)


def test_static_show_displays_a_png(monkeypatch) -> None:
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    assert FeatureMapExplorer(small_cnn(), IMAGES).show(static=True) is None
    assert len(shown) == 1 and shown[0].data[:4] == b"\x89PNG"
