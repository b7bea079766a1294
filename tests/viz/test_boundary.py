"""dlkit.viz.boundary: the decision-boundary explorer draws, replays and stays quiet."""

from __future__ import annotations

import IPython.display
import numpy as np
import pytest
from matplotlib.figure import Figure

from dlkit import perceptron as P
from dlkit.viz import DecisionBoundaryExplorer
from dlkit.viz.boundary import DATASETS
from tests.viz.conftest import Spy


def test_defaults_use_the_reference_and_draw_two_panels():
    e = DecisionBoundaryExplorer()
    assert e.predict is P.perceptron_predict and e.update_rule is P.perceptron_update
    assert len(e.figure.axes) == 2
    assert e.values == {"dataset": "AND", "w1": 1.0, "w2": 1.0, "b": -0.5, "lr": 0.5, "step": 0}


@pytest.mark.parametrize(
    "values",
    [
        {"w1": -2.0, "b": 0.3},
        {"dataset": "XOR", "step": 10},
        {"dataset": "blobs", "step": 80, "lr": 2.0},
        {"dataset": "XOR clouds", "w1": 0.0, "w2": 0.0, "b": 0.0},  # w = 0: no line at all
        {"w1": 4.0, "w2": -4.0, "b": 4.0, "lr": 0.05, "step": 1},  # the extremes
        {"w1": 1e-13, "w2": 0.0, "b": -4.0},  # a nearly zero w
    ],
)
def test_update_changes_the_picture(values):
    e = DecisionBoundaryExplorer()
    before = e.fingerprint()
    fig = e.update(**values)
    assert isinstance(fig, Figure) and fig is e.figure
    assert e.fingerprint() != before


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_dataset_at_every_end_of_the_step_slider(dataset):
    e = DecisionBoundaryExplorer(max_steps=12)
    for step in (0, 12):
        e.update(dataset=dataset, step=step)
        assert f"step {step}:" in e.figure.axes[0].get_title()


def test_replays_the_given_update_from_the_slider_weights():
    spy = Spy(P.perceptron_update)
    e = DecisionBoundaryExplorer(update=spy, max_steps=10)
    spy.calls.clear()
    e.update(w1=-1.0, w2=0.5, b=0.25, lr=0.2, step=3)
    assert len(spy.calls) == 10  # the whole replay, for the mistake curve
    x, y, w, b, lr = spy.calls[0]
    np.testing.assert_array_equal(w, [-1.0, 0.5])
    assert (b, lr) == (0.25, 0.2) and x.shape == (2,) and y in (0, 1)
    # each call starts from what the previous one returned
    for prev, nxt in zip(spy.calls, spy.calls[1:], strict=False):
        w_ref, b_ref = P.perceptron_update(*prev)
        np.testing.assert_array_equal(nxt[2], w_ref)
        assert nxt[3] == b_ref


def test_the_shown_weights_are_the_replayed_ones():
    e = DecisionBoundaryExplorer(max_steps=20)
    e.update(dataset="OR", w1=-1.0, w2=-1.0, b=1.0, step=20)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 1])
    history, _ = e.replay(X, y, np.array([-1.0, -1.0]), 1.0, 0.5, 20)
    w, b = history[20]
    assert f"w = ({w[0]:.2f}, {w[1]:.2f}), b = {b:.2f}" in e.figure.axes[0].get_title()
    wrong = P.count_mistakes(X, y, w, b)
    assert e.figure.axes[1].get_title() == f"{wrong} of 4 misclassified"


def test_uses_the_given_predict_for_the_regions():
    calls = []

    def predict(X, w, b):
        calls.append(X.shape)
        return P.perceptron_predict(X, w, b)

    DecisionBoundaryExplorer(predict=predict, max_steps=5)
    assert (4, 2) in calls and (160 * 160, 2) in calls


def test_a_wrong_predict_differs_from_the_right_one():
    right = DecisionBoundaryExplorer()
    wrong = DecisionBoundaryExplorer(predict=lambda X, w, b: (X @ w + b < 0).astype(int))
    assert right.fingerprint() != wrong.fingerprint()


def test_broken_student_functions_raise_clear_errors():
    with pytest.raises(ValueError, match=r"predict returned shape \(\) for 4 points"):
        DecisionBoundaryExplorer(predict=lambda X, w, b: 1)
    with pytest.raises(TypeError, match=r"update must return a pair \(w, b\)"):
        DecisionBoundaryExplorer(update=lambda x, y, w, b, lr: w)
    with pytest.raises(TypeError, match=r"predict must be a function or None"):
        DecisionBoundaryExplorer(predict=3)
    with pytest.raises(ValueError, match=r"max_steps must be an int >= 1"):
        DecisionBoundaryExplorer(max_steps=0)


def test_out_of_range_values_are_refused():
    e = DecisionBoundaryExplorer(max_steps=10)
    with pytest.raises(ValueError, match=r"step must be in \[0, 10\]"):
        e.update(step=11)
    with pytest.raises(ValueError, match=r"dataset must be one of"):
        e.update(dataset="NOR")


def test_static_show_displays_the_figure_once(monkeypatch):
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs: shown.extend(objs))
    e = DecisionBoundaryExplorer()
    e.update(dataset="XOR", step=7)
    assert e.show(static=True) is None  # a cell ending in .show() displays it once
    assert isinstance(e.figure, Figure)
    assert len(shown) == 1 and isinstance(shown[0], IPython.display.Image)
    assert shown[0].data == e.png()


def test_the_widget_builds(monkeypatch):
    pytest.importorskip("ipywidgets")
    e = DecisionBoundaryExplorer()
    box = e.widget()
    sliders = box.children[0].children
    assert [s.description for s in sliders] == [
        "data",
        "w1",
        "w2",
        "b",
        "learning rate",
        "training step",
    ]
    sliders[-1].value = 5  # moving a slider redraws through update
    assert e.values["step"] == 5 and e.error is None
