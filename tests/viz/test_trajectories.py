"""TrajectoryExplorer: every control changes the picture, student rules race, no warnings."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from dlkit.optim import rules
from dlkit.viz import TrajectoryExplorer
from dlkit.viz.trajectories import FUNCTIONS, RACERS, race
from tests.viz.conftest import Spy


def test_every_control_changes_the_picture() -> None:
    ex = TrajectoryExplorer(steps=50)
    seen = {ex.fingerprint()}
    for values in [
        {"function": "beale"},
        {"function": "saddle"},
        {"function": "ill-conditioned"},
        {"lr": 0.1},
        {"lr": 10.0},  # everything diverges
        {"lr": 1e-4},
        {"steps": 1},
        {"steps": 500},
        {"adagrad": True},
        {"adadelta": True},
        {"nesterov": True},
        {"adamw": True},
        {"sgd": False},
    ]:
        assert isinstance(ex.update(**values), Figure)
        seen.add(ex.fingerprint())
    assert len(seen) == 14


def test_empty_selection_draws_the_function_alone() -> None:
    ex = TrajectoryExplorer()
    before = ex.fingerprint()
    ex.update(**{name: False for name in RACERS})
    assert ex.fingerprint() != before
    assert "tick an optimizer" in ex.figure.axes[0].get_title()


def test_divergence_is_cut_off_and_labelled() -> None:
    ex = TrajectoryExplorer(function="rosenbrock", lr=10.0, steps=500)
    assert any("sgd: diverged at step" in text for text in _legend(ex))
    path, diverged_at = race(
        rules.sgd_update, rules.sgd_init, rules.SGDHyper(10.0), FUNCTIONS["rosenbrock"], 500
    )
    assert diverged_at is not None and len(path) == diverged_at
    assert np.all(np.isfinite(path))


def test_a_converging_path_reaches_the_minimum() -> None:
    path, diverged_at = race(
        rules.adam_update, rules.adam_init, rules.AdamHyper(0.1), FUNCTIONS["ill-conditioned"], 500
    )
    assert diverged_at is None and path.shape == (501, 2)
    assert np.abs(path[-1]).max() < 1e-2


def test_student_rules_are_called_and_drawn() -> None:
    spy = Spy(rules.adam_update)
    ex = TrajectoryExplorer({"adam": spy}, steps=20)
    assert len(spy.calls) == 20
    param, grad, state, hp, step = spy.calls[0]
    assert param.shape == (2,) and isinstance(hp, rules.AdamHyper) and step == 1
    assert any(text.startswith("adam (yours)") for text in _legend(ex))
    ex.update(**{"adam (yours)": False})
    assert len(spy.calls) == 20


def test_a_wrong_student_rule_changes_the_picture() -> None:
    def no_bias_correction(param, grad, state, hp, step):
        m = hp.beta1 * state.m + (1 - hp.beta1) * grad
        v = hp.beta2 * state.v + (1 - hp.beta2) * grad**2
        return param - hp.lr * m / (np.sqrt(v) + hp.eps), rules.AdamState(m, v)

    right = TrajectoryExplorer({"adam": rules.adam_update}, racers=())
    wrong = TrajectoryExplorer({"adam": no_bias_correction}, racers=())
    assert right.fingerprint() != wrong.fingerprint()


def test_a_student_rule_that_blows_up_is_marked_not_warned() -> None:
    def explodes(param, grad, state, hp, step):
        return param * 1e200, state

    ex = TrajectoryExplorer({"sgd": explodes}, steps=10)
    (mine,) = [t for t in _legend(ex) if t.startswith("sgd (yours)")]
    assert mine.startswith("sgd (yours): diverged at step 1, leaves sgd's path at step 1"), mine


def test_a_wrong_shape_is_explained() -> None:
    def flat(param, grad, state, hp, step):
        return np.zeros(3), state

    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        TrajectoryExplorer({"sgd": flat})


def test_static_show_displays_a_png(monkeypatch) -> None:
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    ex = TrajectoryExplorer(steps=5)
    assert ex.show(static=True) is None
    assert len(shown) == 1 and shown[0].data[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "args, kwargs, exc",
    [
        ((), {"function": "himmelblau"}, ValueError),
        ((), {"lr": 0.0}, ValueError),
        ((), {"steps": 0}, ValueError),
        ((), {"steps": 501}, ValueError),
        (({"lion": rules.sgd_update},), {}, ValueError),
        (({"sgd": 3},), {}, TypeError),
        ((), {"racers": ("adam", "lbfgs")}, ValueError),
    ],
)
def test_bad_arguments(args, kwargs, exc) -> None:
    with pytest.raises(exc):
        TrajectoryExplorer(*args, **kwargs)


def _legend(ex: TrajectoryExplorer) -> list[str]:
    (legend,) = ex.figure.legends  # beside the panels, not on the paths
    return [t.get_text() for t in legend.get_texts()]


def test_the_references_of_your_rules_start_ticked() -> None:
    ex = TrajectoryExplorer({"nesterov": rules.sgd_update, "adamw": rules.adamw_update})
    assert ex.values["nesterov"] and ex.values["adamw"]
    assert ex.values["nesterov (yours)"] and ex.values["adamw (yours)"]
    only = TrajectoryExplorer({"adamw": rules.adamw_update}, racers=("sgd",))
    assert not only.values["adamw"] and only.values["sgd"]  # racers given: as given


def test_the_legend_says_how_your_path_compares_with_the_reference() -> None:
    def no_bias_correction(param, grad, state, hp, step):
        m = hp.beta1 * state.m + (1 - hp.beta1) * grad
        v = hp.beta2 * state.v + (1 - hp.beta2) * grad**2
        return param - hp.lr * m / (np.sqrt(v) + hp.eps), rules.AdamState(m, v)

    ex = TrajectoryExplorer({"adamw": rules.adamw_update, "adam": no_bias_correction}, steps=30)
    labels = _legend(ex)
    assert any(t.startswith("adamw (yours)") and t.endswith("on adamw's path") for t in labels)
    assert any(t.startswith("adam (yours)") and "leaves adam's path at step 1" in t for t in labels)
    ex.update(adamw=False)  # the reference is off: the label says so, not "hides it"
    (mine,) = [t for t in _legend(ex) if t.startswith("adamw (yours)")]
    assert mine.endswith("on adamw's path (adamw not ticked)"), mine
    assert not any(t.startswith("adamw:") for t in _legend(ex))


def test_the_learning_rates_of_the_unit_05_text_are_on_the_slider() -> None:
    import re
    from pathlib import Path

    import nbformat

    from dlkit.viz.trajectories import LEARNING_RATES

    path = Path(__file__).parents[2] / "solutions/05_optimizers/05_optimizers.ipynb"
    cells = nbformat.read(path, as_version=4).cells
    (race_text,) = [c.source for c in cells if c.source.startswith("## 9. The race")]
    tried = race_text.split("Things to try", 1)[1]
    rates = {float(x) for x in re.findall(r"\blr\s+(\d*\.\d+(?:\s+and then\s+\d*\.\d+)?)", tried)
             for x in re.findall(r"\d*\.\d+", x)}  # fmt: skip
    (call,) = [c.source for c in cells if "viz.TrajectoryExplorer(" in c.source]
    rates |= {float(x) for x in re.findall(r"\blr=(\d*\.?\d+(?:e-?\d+)?)", call)}
    assert rates >= {0.001, 0.003, 0.07}, f"the text now asks for {sorted(rates)}: check them"
    slider = TrajectoryExplorer().controls["lr"]
    missing = sorted(r for r in rates if r not in slider.stops)
    assert not missing, f"the learning-rate slider cannot be set to {missing}"
    assert slider.stops == LEARNING_RATES and min(LEARNING_RATES) == slider.min
    for rate in rates:  # and the widget shows it exactly as the text writes it
        box = TrajectoryExplorer(lr=rate).widget().children[0].children[1]
        assert box.label == f"{rate:g}"


def test_a_diverging_saddle_keeps_its_loss_labels_apart() -> None:
    from tests.viz.layout import layout_problems

    ex = TrajectoryExplorer(function="saddle", lr=10.0, steps=500, racers=RACERS)
    assert len(ex.figure.axes[1].get_yticks()) <= 9
    assert layout_problems(ex.figure) == []
