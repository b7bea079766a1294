"""dlkit.viz.roc: ThresholdExplorer moves the operating point and calls the student's metrics."""

from __future__ import annotations

import IPython.display
import numpy as np
import pytest
from matplotlib.figure import Figure

from dlkit import metrics
from dlkit.viz import ThresholdExplorer
from tests.viz.conftest import Spy


def operating_point(e):
    roc = e.figure.axes[1]
    (point,) = [ln for ln in roc.lines if ln.get_label() == "operating point"]
    return float(point.get_xdata()[0]), float(point.get_ydata()[0])


def test_default_figure_matches_the_metrics():
    e = ThresholdExplorer()
    y, scores = e.data(0.3, 2.0)
    assert y.sum() == 300 and y.size == 1000
    pred = (scores >= 1.0).astype(int)
    (tn, fp), (fn, tp) = metrics.confusion_matrix(y, pred)
    assert operating_point(e) == pytest.approx((fp / (fp + tn), tp / (tp + fn)))
    assert len(e.figure.axes) >= 3
    p, r, f1 = metrics.precision_recall_f1(y, pred)
    assert f"P {p:.3f}" in e.figure.axes[2].get_title()
    assert (
        f"{metrics.roc_auc(y, scores):.3f}"
        in e.figure.axes[1].get_legend().get_texts()[0].get_text()
    )


@pytest.mark.parametrize(
    "values",
    [
        {"threshold": 0.0},
        {"threshold": -4.0},  # everything positive: the point sits at (1, 1)
        {"threshold": 10.0},  # nothing positive: (0, 0), precision 0 by convention
        {"positives": 0.01},
        {"positives": 0.99},
        {"separation": 0.0},
        {"separation": 6.0},  # perfect separation
    ],
    ids=str,
)
def test_each_control_changes_the_picture(values):
    e = ThresholdExplorer()
    before = e.fingerprint()
    e.update(**values)
    assert e.fingerprint() != before


def test_extreme_thresholds_reach_the_corners():
    e = ThresholdExplorer()
    e.update(threshold=-4.0, separation=0.0)
    assert operating_point(e) == (1.0, 1.0)
    e.update(threshold=10.0)
    assert operating_point(e) == (0.0, 0.0)


def test_one_percent_positives_and_perfect_separation():
    e = ThresholdExplorer()
    e.update(positives=0.01, separation=6.0, threshold=3.0)
    y, _ = e.data(0.01, 6.0)
    assert y.sum() == 10
    legend = e.figure.axes[1].get_legend().get_texts()[0].get_text()
    assert legend == "ROC, AUC = 1.000"


def test_the_students_functions_are_called():
    cm, prf, auc = (
        Spy(metrics.confusion_matrix),
        Spy(metrics.precision_recall_f1),
        Spy(metrics.roc_auc),
    )
    e = ThresholdExplorer(cm, prf, auc)
    assert len(cm.calls) == len(prf.calls) == len(auc.calls) == 1
    e.update(threshold=2.5)
    assert len(cm.calls) == 2
    y, pred = cm.calls[-1]
    np.testing.assert_array_equal(pred, (e.data(0.3, 2.0)[1] >= 2.5).astype(int))
    assert auc.calls[-1][1].dtype == np.float64 and set(np.unique(y)) == {0, 1}


def test_a_wrong_student_confusion_matrix_is_reported():
    with pytest.raises(ValueError, match=r"confusion_matrix returned shape \(3, 3\)"):
        ThresholdExplorer(lambda y, p: np.zeros((3, 3), dtype=int))


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"roc_auc must be a function"):
        ThresholdExplorer(roc_auc=0.5)
    with pytest.raises(ValueError, match=r"n must be an int >= 100"):
        ThresholdExplorer(n=10)
    e = ThresholdExplorer()
    with pytest.raises(ValueError, match=r"positives must be in \[0.01, 0.99\]"):
        e.update(positives=0.0)


def test_static_show_displays_the_figure_once(monkeypatch):
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs: shown.extend(objs))
    e = ThresholdExplorer()
    assert e.show(static=True) is None
    assert isinstance(e.figure, Figure)
    assert len(shown) == 1 and isinstance(shown[0], IPython.display.Image)


def test_same_seed_same_picture():
    assert ThresholdExplorer(seed=3).fingerprint() == ThresholdExplorer(seed=3).fingerprint()
