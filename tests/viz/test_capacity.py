"""HiddenUnitsExplorer: 0 to 64 units, the student's mlp_forward and he_init, fast, no warnings."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from dlkit.data import make_curve
from dlkit.functional import mlp_forward
from dlkit.init import he_init
from dlkit.viz import HiddenUnitsExplorer
from dlkit.viz.capacity import random_features_fit
from tests.viz.conftest import Spy


def test_every_control_changes_the_picture() -> None:
    ex = HiddenUnitsExplorer()
    seen = {ex.fingerprint()}
    for values in [
        {"hidden": 0},
        {"hidden": 64},
        {"hidden": 1},
        {"curve": "step"},
        {"curve": "abs"},
        {"activation": "tanh"},
        {"activation": "sigmoid"},
        {"activation": "gelu"},
        {"seed": 7},
    ]:
        assert isinstance(ex.update(**values), Figure)
        seen.add(ex.fingerprint())
    assert len(seen) == 10


def test_zero_hidden_units_is_the_best_constant() -> None:
    x, y = make_curve(50, rng=np.random.default_rng(0), kind="abs")
    params = random_features_fit(x, y, 0)
    assert len(params) == 1
    np.testing.assert_allclose(mlp_forward(x, params), np.full_like(y, y.mean()))
    ex = HiddenUnitsExplorer(hidden=0)
    assert "best constant" in ex.figure.axes[0].get_title()


def test_uses_the_students_functions() -> None:
    forward, init = Spy(mlp_forward), Spy(he_init)
    ex = HiddenUnitsExplorer(mlp_forward=forward, he_init=init)
    assert len(forward.calls) >= 2 and len(init.calls) == 1
    ex.update(hidden=32)
    assert len(init.calls) == 2
    calls = len(forward.calls)
    ex.update(hidden=0)  # nothing of the student's is needed for a constant
    assert len(forward.calls) == calls


def test_a_wrong_student_forward_changes_the_fit() -> None:
    def relu_everywhere(x, params, activation="relu"):
        return np.maximum(mlp_forward(x, params, activation), 0.0)

    good = HiddenUnitsExplorer(hidden=16)
    wrong = HiddenUnitsExplorer(hidden=16, mlp_forward=relu_everywhere)
    assert good.fingerprint() != wrong.fingerprint()


def test_error_falls_as_units_are_added() -> None:
    x, y = make_curve(120, rng=np.random.default_rng(2), kind="sine")
    errors = [
        float(np.mean((mlp_forward(x, random_features_fit(x, y, h)) - y) ** 2))
        for h in (0, 4, 16, 64)
    ]
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 0.02 < errors[0]


def test_a_slider_move_fits_one_network(monkeypatch) -> None:
    """The error curve (65 fits) is computed once per curve, activation and draw; a slider
    move after that fits only the network it shows, which is what keeps the slider quick."""
    import dlkit.viz.capacity as capacity

    fits = []
    original = capacity.random_features_fit

    def counting(*args, **kwargs):
        fits.append(args[2])
        return original(*args, **kwargs)

    monkeypatch.setattr(capacity, "random_features_fit", counting)
    ex = HiddenUnitsExplorer(hidden=8)
    ex.update(hidden=64)
    assert sorted(fits) == sorted([*range(capacity.MAX_HIDDEN + 1), 8, 64])  # curve + 2 shown
    fits.clear()
    for h in (0, 13, 40, 64):
        ex.update(hidden=h)
    assert fits == [0, 13, 40, 64]
    ex.update(seed=3)  # a new random draw: a new error curve, once
    assert len(fits) == 4 + capacity.MAX_HIDDEN + 2


def test_static_show_displays_a_png(monkeypatch) -> None:
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    ex = HiddenUnitsExplorer(hidden=0)
    assert ex.show(static=True) is None
    assert len(shown) == 1 and shown[0].data[:4] == b"\x89PNG"
    assert isinstance(ex.figure, Figure)


def test_bad_student_he_init_shape_is_explained() -> None:
    def transposed(fan_in, fan_out, *, rng):
        return he_init(fan_out, fan_in, rng=rng)

    with pytest.raises(ValueError, match=r"he_init\(1, 8\) returned shape \(8, 1\)"):
        HiddenUnitsExplorer(he_init=transposed)


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"hidden": 65}, ValueError),
        ({"hidden": -1}, ValueError),
        ({"curve": "square"}, ValueError),
        ({"activation": "swish"}, ValueError),
        ({"mlp_forward": 3}, TypeError),
    ],
)
def test_bad_arguments(kwargs, exc) -> None:
    with pytest.raises(exc):
        HiddenUnitsExplorer(**kwargs)
