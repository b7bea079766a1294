"""dlkit.viz.functions: FunctionExplorer plots fn(x, **values) and follows the sliders."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.functional as F
from dlkit.viz import Choice, FunctionExplorer, Slider


def curve(explorer, label):
    (line,) = [ln for ln in explorer.figure.axes[0].lines if ln.get_label() == label]
    return np.asarray(line.get_xdata()), np.asarray(line.get_ydata())


def leaky(**kw):
    return FunctionExplorer(
        lambda x, slope: F.leaky_relu(x, slope),
        {"slope": Slider(0.0, 1.0, 0.1)},
        reference=lambda x, slope: np.where(x > 0, x, slope * x),
        label="leaky_relu",
        **kw,
    )


def test_plots_the_function_and_the_reference():
    e = leaky()
    x, y = curve(e, "leaky_relu")
    assert x.shape == (400,) and x[0] == -5.0 and x[-1] == 5.0
    np.testing.assert_allclose(y, np.where(x > 0, x, 0.1 * x))
    _, ref = curve(e, "reference")
    np.testing.assert_allclose(ref, y)
    assert e.figure.axes[0].get_title() == "leaky_relu   (slope=0.1)"


def test_update_redraws_with_the_new_value():
    e = leaky()
    before = e.fingerprint()
    e.update(slope=0.5)
    x, y = curve(e, "leaky_relu")
    np.testing.assert_allclose(y, np.where(x > 0, x, 0.5 * x))
    assert e.fingerprint() != before
    assert "slope=0.5" in e.figure.axes[0].get_title()


def test_options_x_range_and_ylim():
    e = FunctionExplorer(
        lambda x, kind: np.tanh(x) if kind == "tanh" else np.sin(x),
        {"kind": Choice(("tanh", "sin"), "tanh")},
        x_range=(0.0, 2.0),
        ylim=(-1.5, 1.5),
    )
    x, y = curve(e, "f(x)")
    assert (x.min(), x.max()) == (0.0, 2.0)
    np.testing.assert_allclose(y, np.tanh(x))
    assert e.figure.axes[0].get_ylim() == (-1.5, 1.5)
    e.update(kind="sin")
    np.testing.assert_allclose(curve(e, "f(x)")[1], np.sin(x))
    assert e.figure.axes[0].get_title() == "f(x)   (kind=sin)"


def test_fn_gets_a_copy_of_x():
    def vandal(x):
        x[:] = 0.0  # a student's in-place edit must not move the explorer's grid
        return x

    e = FunctionExplorer(vandal, {})
    assert e.x[0] == -5.0 and e.figure.axes[0].get_title() == "f(x)"


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"fn must be a function of x; got int"):
        FunctionExplorer(3, {})
    with pytest.raises(ValueError, match=r"x_range must be \(low, high\) with low < high; got"):
        FunctionExplorer(np.sin, {}, x_range=(1.0, -1.0))


def test_wrong_output_shape_is_explained():
    with pytest.raises(ValueError, match=r"fn returned shape \(\); expected \(400,\), one value"):
        FunctionExplorer(lambda x: float(x.sum()), {})


def test_a_failing_student_function_shows_in_the_widget():
    def fragile(x, a):
        if a > 0.5:
            raise ValueError("a too large for my code")
        return a * x

    e = FunctionExplorer(fragile, {"a": Slider(0.0, 1.0, 0.2)})
    view = e.widget()
    slider, status = view.children[0].children[0], view.children[2]
    slider.value = 0.9
    assert "ValueError: a too large for my code" in status.value
    slider.value = 0.3
    assert status.value == "" and e.error is None
    np.testing.assert_allclose(curve(e, "f(x)")[1], 0.3 * e.x)
