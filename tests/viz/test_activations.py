"""ActivationExplorer: every control redraws, the student's pair is the one drawn, no warnings."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from dlkit import functional as F
from dlkit.viz import ActivationExplorer
from tests.viz.conftest import Spy


def test_every_builtin_and_extreme_scale_changes_the_picture() -> None:
    ex = ActivationExplorer()
    seen = {ex.fingerprint()}
    for values in [
        {"activation": "tanh"},
        {"activation": "relu"},
        {"activation": "leaky_relu"},
        {"negative_slope": 0.4},
        {"negative_slope": 0.0},
        {"activation": "gelu"},
        {"scale": 100.0},
        {"scale": 0.1},
        {"activation": "sigmoid", "scale": 50.0},
    ]:
        fig = ex.update(**values)
        assert isinstance(fig, Figure)
        seen.add(ex.fingerprint())
    assert len(seen) == 10, "each update must change the figure"


def test_uses_the_students_functions() -> None:
    forward, backward = Spy(F.relu), Spy(F.relu_backward)
    ex = ActivationExplorer({"my relu": (forward, backward)})
    assert ex.values["activation"] == "my relu", "the student's activation is shown first"
    assert len(forward.calls) >= 1 and len(backward.calls) == 1
    before = ex.fingerprint()
    ex.update(scale=20.0)
    assert len(backward.calls) == 2 and ex.fingerprint() != before


def test_a_wrong_backward_is_visible() -> None:
    good = ActivationExplorer({"mine": (F.tanh, F.tanh_backward)})
    wrong = ActivationExplorer({"mine": (F.tanh, lambda dout, x: dout * (1 - x**2))})
    assert good.fingerprint() != wrong.fingerprint()


def test_saturation_is_measured_on_the_derivative() -> None:
    ex = ActivationExplorer(activation="sigmoid", scale=100.0)
    title = ex.figure.axes[1].get_title()
    assert "saturated" in title
    assert int(title.split("%")[0].split()[-1]) > 90  # sigmoid is flat almost everywhere
    ex.update(activation="relu")
    assert ex.figure.axes[1].get_title().startswith("derivative: 50%")


def test_custom_name_overrides_a_builtin() -> None:
    spy = Spy(F.relu)
    ex = ActivationExplorer({"relu": (spy, F.relu_backward)})
    assert list(ex.controls["activation"].options).count("relu") == 1
    assert len(spy.calls) >= 1


def test_static_show_displays_a_png(monkeypatch) -> None:
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    ex = ActivationExplorer()
    assert ex.show(static=True) is None  # a cell ending in .show() displays it once
    assert len(shown) == 1 and shown[0].data[:4] == b"\x89PNG"
    assert isinstance(ex.figure, Figure)


def test_student_errors_propagate_with_a_message() -> None:
    with pytest.raises(ValueError, match="return"):
        ActivationExplorer({"broken": (lambda x: None, F.relu_backward)})
    with pytest.raises(ValueError, match="shape"):
        ActivationExplorer({"broken": (F.relu, lambda dout, x: np.ones(3))})


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"custom": {"bad": F.relu}}, TypeError),
        ({"custom": {1: (F.relu, F.relu_backward)}}, TypeError),
        ({"activation": "swish"}, ValueError),
    ],
)
def test_bad_arguments(kwargs, exc) -> None:
    with pytest.raises(exc):
        ActivationExplorer(**kwargs)


def test_out_of_range_controls_are_refused() -> None:
    ex = ActivationExplorer()
    with pytest.raises(ValueError, match="scale"):
        ex.update(scale=1000.0)
    with pytest.raises(ValueError, match="activation"):
        ex.update(activation="swish")
