"""Unit 14's explanation explorer: method, image, baseline and steps over a few digits.

It must call the student's attribution function for the method chosen (dlkit's when none is
given) with ONE image and the predicted class, draw the attribution on a diverging scale
centred at zero, report the completeness gap of integrated gradients, and say clearly what is
wrong when a function is unwritten or returns the wrong thing.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import AxesImage

from dlkit import interpret, nn
from dlkit.viz.explain import ExplanationExplorer
from dlkit.viz.explorer import Explorer
from tests.viz.conftest import Spy

CELL = "/tmp/ipykernel_4242/1414.py"  # how ipykernel names a notebook cell's code


def _model(seed: int = 0) -> nn.Module:
    g = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(64, 10, rng=g), nn.Tanh(), nn.Linear(10, 3, rng=g))


def _images(n: int = 4, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 64))


def _maps(e: ExplanationExplorer) -> list[AxesImage]:
    images = e.figure.findobj(AxesImage)
    assert len(images) == 2, f"the image and the heat map expected; found {len(images)}"
    return images


def test_it_is_an_explorer_with_method_image_baseline_and_steps():
    e = ExplanationExplorer(model=_model(), images=_images())
    assert isinstance(e, Explorer)
    assert list(e.controls) == ["method", "image", "baseline", "steps"]
    assert e.controls["method"].options == (
        "saliency",
        "gradient x input",
        "integrated gradients",
        "occlusion",
    )
    assert e.controls["baseline"].options == ("zeros", "blurred", "mean image")
    assert (e.controls["image"].min, e.controls["image"].max) == (0, 3)


def test_the_students_saliency_gets_one_image_and_the_predicted_class():
    model, x = _model(), _images()
    spy = Spy(interpret.saliency_map)
    e = ExplanationExplorer(model=model, images=x, saliency_map=spy)
    e.update(image=2, method="gradient x input")
    _, got_x, got_target = spy.calls[-1]
    predicted = int(interpret.scores(model, x[2:3]).argmax())
    assert got_x.shape == (1, 64) and np.array_equal(got_x, x[2:3])
    assert got_target == predicted and spy.kwargs[-1] == {"times_input": True}
    expected = interpret.saliency_map(model, x[2:3], predicted, times_input=True)
    np.testing.assert_allclose(_maps(e)[1].get_array(), expected.reshape(8, 8))
    assert f"predicted {predicted}" in e.figure.axes[0].get_title()


def test_the_heat_map_is_diverging_and_centred_at_zero():
    e = ExplanationExplorer(model=_model(), images=_images())
    heat = _maps(e)[1]
    low, high = heat.get_clim()
    assert low == -high > -np.inf and high >= np.abs(heat.get_array()).max()
    assert heat.get_cmap().name == "RdBu_r"


def test_integrated_gradients_get_baseline_and_steps_and_report_the_gap():
    model, x = _model(), _images()
    spy = Spy(interpret.integrated_gradients)
    e = ExplanationExplorer(model=model, images=x, integrated_gradients=spy)
    e.update(method="integrated gradients", baseline="mean image", steps=7)
    _, got_x, target = spy.calls[-1]
    base = spy.kwargs[-1]["baseline"]
    assert spy.kwargs[-1]["steps"] == 7 and base.shape == (1, 64)
    np.testing.assert_allclose(base[0], x.mean(axis=0))
    attr, gap = interpret.integrated_gradients(model, got_x, target, baseline=base, steps=7)
    np.testing.assert_allclose(_maps(e)[1].get_array(), attr.reshape(8, 8))
    label = e.figure.axes[1].get_xlabel()
    assert "completeness gap" in label and f"{gap[0]:.3g}" in label
    e.update(baseline="zeros")
    assert spy.kwargs[-1]["baseline"] is None  # "zeros" is the default baseline
    e.update(baseline="blurred")
    blurred = spy.kwargs[-1]["baseline"][0].reshape(8, 8)
    assert blurred.std() < x[0].std()  # the blur removes detail
    np.testing.assert_allclose(blurred.mean(), x[0].mean(), atol=0.1)


def test_more_steps_shrink_the_reported_gap():
    e = ExplanationExplorer(model=_model(), images=_images() * 3)
    gaps = [abs(e.attribution("integrated gradients", 0, "zeros", s)["gap"]) for s in (2, 10, 100)]
    assert gaps[0] > gaps[1] > gaps[2], gaps


def test_occlusion_slides_a_square_patch_over_the_image():
    model, x = _model(), _images()
    spy = Spy(interpret.occlusion_map)
    e = ExplanationExplorer(model=model, images=x, occlusion_map=spy, window=(3, 3), stride=(2, 2))
    e.update(method="occlusion", image=1)
    black_box, got_x, target = spy.calls[-1]
    assert got_x.shape == (1, 8, 8) and spy.kwargs[-1]["window"] == (3, 3)
    assert spy.kwargs[-1]["stride"] == (2, 2) and spy.kwargs[-1]["baseline"] == 0.0
    np.testing.assert_allclose(black_box(got_x), interpret.scores(model, x[1:2]))
    # hiding everything at once: the drop of a patch covering the whole image
    whole = interpret.occlusion_map(model, x[1:2], target, window=(64,), stride=(1,))
    full = interpret.occlusion_map(black_box, got_x, target, window=(8, 8), stride=(1, 1))
    np.testing.assert_allclose(full.reshape(-1), whole.reshape(-1))


def test_a_torch_model_over_images_with_a_channel_works():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3)).double()
    x = _images().reshape(4, 1, 8, 8)
    e = ExplanationExplorer(model=model, images=torch.as_tensor(x))
    for method in e.controls["method"].options:
        e.update(method=method)
        assert e.error is None
    weight = model[1].weight.detach().numpy()
    e.update(method="saliency")
    target = int(interpret.scores(model, x[:1]).argmax())
    np.testing.assert_allclose(_maps(e)[1].get_array(), weight[target].reshape(8, 8))


def test_an_unwritten_function_says_write_it_first():
    namespace: dict = {}
    source = "def integrated_gradients(model, x, target, *, baseline=None, steps=50):\n"
    source += "    raise NotImplementedError()\n"
    exec(compile(source, CELL, "exec"), namespace)
    e = ExplanationExplorer(
        model=_model(), images=_images(), integrated_gradients=namespace["integrated_gradients"]
    )
    assert e.error is None  # saliency first: dlkit's
    e.update(method="integrated gradients")
    assert e.error == "write `integrated_gradients` first (it still raises NotImplementedError)"
    assert e.png().startswith(b"\x89PNG")
    assert "write `integrated_gradients` first" in e.widget().children[2].value


def test_nan_attributions_are_drawn_as_zero_and_said():
    def broken(model, x, target, *, times_input=False):
        return np.full(x.shape, np.nan)

    e = ExplanationExplorer(model=_model(), images=_images(), saliency_map=broken)
    assert np.all(_maps(e)[1].get_array() == 0.0)
    assert "NaN shown as 0" in e.figure.axes[1].get_title()


def test_wrong_returns_raise_clear_errors():
    with pytest.raises(ValueError, match=r"saliency_map\(...\) has shape \(1, 32\)"):
        ExplanationExplorer(
            model=_model(), images=_images(), saliency_map=lambda m, x, t, **k: np.zeros((1, 32))
        )
    e = ExplanationExplorer(
        model=_model(),
        images=_images(),
        integrated_gradients=lambda m, x, t, **k: np.zeros(x.shape),
    )
    with pytest.raises(ValueError, match=r"\(attributions, gap\)"):
        e.update(method="integrated gradients")


def test_static_fallback_shows_the_figure(capsys):
    e = ExplanationExplorer(model=_model(), images=_images())
    assert e.show(static=True) is None


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"model": lambda x: x}, TypeError, "model"),
        ({"images": np.ones((1, 64))}, ValueError, "at least 2"),
        ({"images": np.ones((3, 10))}, ValueError, "image_shape"),
        ({"images": np.ones((3, 10)), "image_shape": (3, 3)}, ValueError, "image_shape"),
        ({"labels": np.arange(3)}, ValueError, "labels"),
        ({"window": (2,)}, ValueError, "window"),
        ({"saliency_map": "mine"}, TypeError, "saliency_map"),
        ({"max_steps": 2}, ValueError, "max_steps"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, error, match):
    args = {"model": _model(), "images": _images(), **kwargs}
    if args["images"].shape[1] != 64 and "model" not in kwargs:  # a model for 10 features
        args["model"] = nn.Linear(args["images"].shape[1], 3, rng=np.random.default_rng(0))
    with pytest.raises(error, match=match):
        ExplanationExplorer(**args)
