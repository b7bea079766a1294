"""dlkit.viz.explorer: controls, the values -> figure model, the widget and static views."""

from __future__ import annotations

import IPython
import IPython.display
import numpy as np
import pytest
from matplotlib.figure import Figure

from dlkit.viz import Choice, Explorer, Slider, Toggle, widgets_available

PNG = b"\x89PNG\r\n\x1a\n"


class Line(Explorer):
    """A line of slope ``slope`` through ``n`` points; ``kind="boom"`` raises like bad code."""

    def draw(self, fig, slope, n, lr, kind, grid):
        if kind == "boom":
            raise RuntimeError("student <code> failed")
        ax = fig.add_subplot()
        x = np.linspace(0, 1, n)
        ax.plot(x, slope * x + lr)
        ax.set_ylim(-3, 3)
        ax.grid(grid)


def line(**kw) -> Line:
    controls = {
        "slope": Slider(-2.0, 2.0, 1.0, step=0.5, label="slope a"),
        "n": Slider(2, 10, 3, integer=True),
        "lr": Slider(1e-3, 1.0, 0.1, log=True),
        "kind": Choice(("line", "boom"), "line"),
        "grid": Toggle(False),
    }
    return Line(controls=controls, **kw)


# -- controls ---------------------------------------------------------------------------


def test_slider_check():
    s = Slider(-2.0, 2.0, 0.0)
    assert s.check("a", 1) == 1.0 and isinstance(s.check("a", 1), float)
    assert s.check("a", np.float32(0.5)) == 0.5
    assert s.check("a", np.int64(-2)) == -2.0
    with pytest.raises(TypeError, match=r"a must be a number; got 'x'"):
        s.check("a", "x")
    with pytest.raises(TypeError, match=r"a must be a number; got True"):
        s.check("a", True)
    with pytest.raises(ValueError, match=r"a must be in \[-2.0, 2.0\]; got 2.5"):
        s.check("a", 2.5)


def test_integer_slider_check():
    s = Slider(1, 10, 3, integer=True)
    assert s.check("n", 4.0) == 4 and isinstance(s.check("n", 4.0), int)
    with pytest.raises(ValueError, match=r"n must be a whole number; got 2.5"):
        s.check("n", 2.5)


def test_sliders_are_checked_when_made():
    with pytest.raises(ValueError, match=r"Slider needs min < max; got min=1, max=1"):
        Slider(1, 1, 1)
    with pytest.raises(ValueError, match=r"Slider value must be in \[0, 1\]; got 2"):
        Slider(0, 1, 2)
    with pytest.raises(ValueError, match=r"a log Slider needs min > 0; got min=0"):
        Slider(0, 1, 0.5, log=True)


def test_choice():
    c = Choice(["relu", "tanh"], "tanh")  # a list is kept as a tuple: controls stay hashable
    assert c.options == ("relu", "tanh") and hash(c)
    assert c.check("act", "relu") == "relu"
    with pytest.raises(ValueError, match=r"act must be one of \['relu', 'tanh'\]; got 'gelu'"):
        c.check("act", "gelu")
    with pytest.raises(ValueError, match=r"Choice value must be one of \['relu'\]; got 'tanh'"):
        Choice(("relu",), "tanh")


def test_toggle():
    assert Toggle(True).check("grid", False) is False
    with pytest.raises(TypeError, match=r"grid must be True or False; got 1"):
        Toggle(False).check("grid", 1)
    with pytest.raises(TypeError, match=r"Toggle value must be True or False; got 'yes'"):
        Toggle("yes")


# -- the model: update, fingerprint, png -----------------------------------------------


def test_defaults_are_the_starting_values():
    assert line().values == {"slope": 1.0, "n": 3, "lr": 0.1, "kind": "line", "grid": False}


def test_update_changes_the_fingerprint_and_returns_the_figure():
    e = line()
    before = e.fingerprint()
    assert e.fingerprint() == before  # stable while nothing changes
    fig = e.update(slope=-1.5, grid=True)
    assert fig is e.figure and isinstance(fig, Figure)
    assert e.values["slope"] == -1.5 and e.values["grid"] is True
    assert e.fingerprint() != before
    e.update(slope=1.0, grid=False)
    assert e.fingerprint() == before  # the same values draw the same picture


def test_update_refuses_unknown_names_and_bad_values_without_changing_anything():
    e = line()
    before = dict(e.values)
    with pytest.raises(ValueError, match=r"unknown control 'slop'; this explorer has \['slope'"):
        e.update(slop=1.0)
    with pytest.raises(ValueError, match=r"slope must be in \[-2.0, 2.0\]; got 5"):
        e.update(n=5, slope=5)
    assert e.values == before  # all or nothing


def test_an_error_in_draw_propagates_from_update():
    with pytest.raises(RuntimeError, match="student <code> failed"):
        line().update(kind="boom")


def test_png_and_title():
    e = line(title="my line")
    png = e.png()
    assert png.startswith(PNG)
    assert e.figure.get_suptitle() == "my line"
    e.update(slope=0.5)
    assert e.png() != png


def test_an_explorer_must_implement_draw():
    with pytest.raises(NotImplementedError, match=r"must implement draw\(fig, \*\*values\)"):
        Explorer(controls={"a": Slider(0, 1, 0.5)})


# -- the widget -------------------------------------------------------------------------


def controls_of(view):
    return {box.description: box for box in view.children[0].children}


def pixels(image) -> bytes:
    return bytes(image.value)  # ipywidgets keeps the PNG as a memoryview


def test_widget_builds_one_input_per_control():
    view = line().widget()
    boxes = controls_of(view)
    kinds = {name: type(box).__name__ for name, box in boxes.items()}
    assert kinds == {
        "slope a": "FloatSlider",
        "n": "IntSlider",
        "lr": "FloatLogSlider",
        "kind": "Dropdown",
        "grid": "Checkbox",
    }
    assert boxes["slope a"].value == 1.0 and boxes["slope a"].step == 0.5
    assert boxes["n"].value == 3 and boxes["lr"].value == pytest.approx(0.1)
    assert boxes["kind"].options == ("line", "boom")
    image, status = view.children[1], view.children[2]
    assert pixels(image).startswith(PNG) and status.value == ""


@pytest.mark.parametrize(
    ("label", "name", "value"),
    [("slope a", "slope", -1.0), ("n", "n", 7), ("lr", "lr", 0.5), ("grid", "grid", True)],
)
def test_moving_a_control_redraws_the_image(label, name, value):
    e = line()
    view = e.widget()
    image = view.children[1]
    before = pixels(image)
    controls_of(view)[label].value = value
    assert pixels(image) != before and pixels(image).startswith(PNG)
    assert e.values[name] == pytest.approx(value) and type(e.values[name]) is type(value)


def test_an_error_shows_in_the_status_line_and_the_widget_lives_on():
    e = line()
    view = e.widget()
    boxes, image, status = controls_of(view), view.children[1], view.children[2]
    before = pixels(image)
    boxes["kind"].value = "boom"
    assert e.error == "RuntimeError: student <code> failed"
    assert "RuntimeError: student &lt;code&gt; failed" in status.value  # escaped HTML
    assert pixels(image) == before  # the last good picture stays
    boxes["kind"].value = "line"
    boxes["slope a"].value = 2.0
    assert e.error is None and status.value == ""
    assert pixels(image) != before


# -- static fallback --------------------------------------------------------------------


@pytest.fixture
def shown(monkeypatch):
    """What `display` was called with (IPython's display outside a kernel prints reprs)."""
    calls = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: calls.extend(objs))
    return calls


def test_show_static_displays_a_png_of_the_figure(shown):
    e = line()
    assert e.show(static=True) is None  # returning it would display it twice
    (image,) = shown
    assert isinstance(image, IPython.display.Image) and image.data.startswith(PNG)
    assert isinstance(e.figure, Figure)


def test_show_falls_back_to_static_outside_a_kernel(shown):
    line().show()
    assert isinstance(shown[0], IPython.display.Image)


def test_show_with_widgets_displays_the_widget_with_a_png_fallback(shown):
    import base64

    e = line()
    e.show(static=False)
    (bundle,) = shown
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]) == e.png()  # what a frontend without widgets shows


class FakeKernelShell:
    kernel = object()


def test_widgets_available(monkeypatch):
    monkeypatch.delenv("DLKIT_STATIC", raising=False)
    assert widgets_available() is False  # pytest is no Jupyter kernel
    monkeypatch.setattr(IPython, "get_ipython", lambda: FakeKernelShell())
    assert widgets_available() is True
    monkeypatch.setenv("DLKIT_STATIC", "1")
    assert widgets_available() is False
    monkeypatch.setenv("DLKIT_STATIC", "0")
    assert widgets_available() is True


def test_a_log_slider_at_its_end_is_accepted():
    """A FloatLogSlider at its minimum sends 10 ** log10(min): 0.049999999999999996 for 0.05."""
    import math

    class Rate(Explorer):
        def draw(self, fig, lr):
            fig.add_subplot().set_title(f"lr {lr}")

    e = Rate(controls={"lr": Slider(0.05, 2.0, 0.5, log=True)})
    view = e.widget()
    (slider,) = view.children[0].children
    slider.value = 10 ** math.log10(0.05)  # what the frontend sends at the left end
    assert 10 ** math.log10(0.05) < 0.05
    assert e.error is None and e.values["lr"] == 0.05
    slider.value = 10 ** math.log10(2.0)
    assert e.error is None and e.values["lr"] == 2.0


# -- slider stops, and controls that follow others ----------------------------------------


def test_slider_stops_are_checked_and_shown_exactly():
    with pytest.raises(ValueError, match="increasing"):
        Slider(0.001, 1.0, 0.01, stops=(0.01, 0.003))
    with pytest.raises(ValueError, match=r"lie in \[0.001, 1.0\]"):
        Slider(0.001, 1.0, 0.01, stops=(0.01, 3.0))
    s = Slider(1e-3, 1.0, 0.02, log=True, stops=(0.001, 0.003, 0.01, 0.07, 1.0))
    assert s.check("lr", 0.5) == 0.5  # code may set any value in the range
    import ipywidgets

    from dlkit.viz.explorer import _make_input

    box = _make_input(ipywidgets, "lr", s)
    assert isinstance(box, ipywidgets.SelectionSlider)
    assert [label for label, _ in box.options] == ["0.001", "0.003", "0.01", "0.02", "0.07", "1"]
    assert box.value == 0.02 and box.label == "0.02"  # the start value is a stop too


class Linked(Explorer):
    """A preset that sets a slider, and a slider that sets the preset back to "custom"."""

    redraws = 0

    def follow(self, values, changed):
        if "preset" in changed and values["preset"] != "custom":
            return {"a": {"one": 1.0, "two": 2.0}[values["preset"]]}
        if "a" in changed and values["preset"] != "custom":
            return {"preset": "custom"}
        return {}

    def draw(self, fig, preset, a):
        type(self).redraws += 1
        fig.add_subplot().plot([0, 1], [0, a])


def linked() -> Linked:
    controls = {"preset": Choice(("one", "two", "custom"), "one"), "a": Slider(0.0, 5.0, 1.0)}
    return Linked(controls=controls)


def test_follow_sets_the_other_controls_once_per_update():
    e = linked()
    e.update(preset="two")
    assert e.values == {"preset": "two", "a": 2.0}
    e.update(a=3.0)
    assert e.values == {"preset": "custom", "a": 3.0}


def test_the_widget_shows_the_followers_and_runs_one_callback_per_move():
    e = linked()
    inputs = e.widget().children[0].children
    preset, a = inputs
    before = Linked.redraws
    preset.value = "two"
    assert a.value == 2.0 and Linked.redraws == before + 1
    a.value = 4.0
    assert preset.value == "custom" and e.values == {"preset": "custom", "a": 4.0}
    assert Linked.redraws == before + 2, "a follower's input moved must not redraw again"


def test_follow_may_not_name_an_unknown_control():
    class Bad(Linked):
        def follow(self, values, changed):
            return {"b": 1.0}

    e = Bad(controls={"preset": Choice(("one", "two", "custom"), "one"), "a": Slider(0, 5, 1)})
    with pytest.raises(ValueError, match="unknown control 'b'"):
        e.update(a=2.0)
    assert e.values["a"] == 1
