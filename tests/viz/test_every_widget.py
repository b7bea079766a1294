"""Every widget in dlkit.viz, driven through its real ipywidgets controls (see widget_cases.py).

A widget breaks in a student's notebook when a callback raises (the widget then shows the
error in its status line and freezes its picture), warns, or silently stops redrawing. These
tests move each control of each widget through its whole range and into the corners that break
widgets, exactly as JupyterLab would (by setting the ipywidgets control's value), and check
after every move that the callback succeeded, called the student's code, updated the
widget's state and changed the displayed picture. Warnings are errors here (conftest.py).
"""

from __future__ import annotations

import base64
import importlib
import inspect
import pkgutil
from collections.abc import Mapping
from typing import Any

import IPython.display
import pytest

import dlkit.viz
from dlkit.viz import Explorer
from tests.viz.widget_cases import CASES, Built, WidgetCase, control_values

PNG = b"\x89PNG\r\n\x1a\n"


def explorer_classes() -> dict[str, type]:
    """Every Explorer subclass defined in a module of the dlkit.viz package, by dotted name."""
    found = {}
    modules = [dlkit.viz] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(dlkit.viz.__path__, "dlkit.viz.")
    ]
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Explorer)
                and cls is not Explorer
                and cls.__module__.startswith("dlkit.viz")
            ):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def test_every_widget_is_registered():
    registered = {case.widget for case in CASES}
    missing = sorted(name for name, cls in explorer_classes().items() if cls not in registered)
    assert not missing, (
        f"widgets with no WidgetCase in tests/viz/widget_cases.py: {missing}; "
        "register each one (the module docstring there says how)"
    )


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), f"duplicate WidgetCase ids: {ids}"


def test_discovery_sees_the_known_widgets():
    names = {cls.__name__ for cls in explorer_classes().values()}
    assert {"FunctionExplorer", "TrajectoryExplorer", "TrainingCurves"} <= names


# -- driving a widget through its ipywidgets view -----------------------------------------------


class View:
    """A built explorer, its ipywidgets view, and one input box per control."""

    def __init__(self, case: WidgetCase, built: Built) -> None:
        self.case, self.explorer, self.spies = case, built.explorer, built.spies
        view = self.explorer.widget()
        inputs, self.image, self.status = view.children
        self.boxes = dict(zip(self.explorer.controls, inputs.children, strict=True))

    def move(self, changes: Mapping[str, Any], what: str) -> None:
        """Set these controls in the view, as a student would, and check the widget followed."""
        e, case = self.explorer, self.case
        before_values, before_picture = dict(e.values), bytes(self.image.value)
        counts = {name: len(spy.calls) for name, spy in self.spies.items()}
        for name, value in changes.items():
            assert name in self.boxes, f"{case.id}: no control {name!r}; has {list(self.boxes)}"
            self.boxes[name].value = value
        where = f"{case.id}, {what}"
        assert e.error is None, f"{where}: the widget's callback failed: {e.error}"
        assert self.status.value == "", f"{where}: the status line shows {self.status.value!r}"
        for name, value in changes.items():
            assert e.values[name] == pytest.approx(value), (
                f"{where}: control {name} is {e.values[name]!r} after the view set {value!r}"
            )
        for name, box in self.boxes.items():  # the view shows the controls that followed
            assert box.value == pytest.approx(e.values[name]), (
                f"{where}: the view shows {name}={box.value!r}, the widget has {e.values[name]!r}"
            )
        moved = [name for name in e.values if e.values[name] != before_values[name]]
        if not moved:
            return
        expected = case.calls(e.values)
        for name in self.spies if expected is None else expected:
            assert len(self.spies[name].calls) > counts[name], (
                f"{where}: the widget redrew without calling {name}"
            )
        if case.check is not None:
            case.check(e, self.spies, e.values)
        picture = bytes(self.image.value)  # what the student sees
        assert picture.startswith(PNG), f"{where}: the widget shows no PNG"
        if not all(case.inert(name, e.values) for name in moved):
            assert picture != before_picture, f"{where}: moving {moved} left the picture unchanged"


@pytest.fixture(params=CASES, ids=[case.id for case in CASES])
def case(request) -> WidgetCase:
    return request.param


def test_every_control_at_every_value(case):
    built = case.make()
    controls = built.explorer.controls
    if not controls:
        assert case.actions, f"{case.id} has no controls: give its WidgetCase some actions"
    view = View(case, built)
    for name, control in controls.items():  # one at a time, the others at their defaults
        for value in control_values(control):
            view.move({name: value}, f"{name}={value!r}")
        view.move({name: control.value}, f"{name} back to its default {control.value!r}")


def test_settings_and_extremes(case):
    view = View(case, case.make())
    for setting in (*case.settings, *case.extremes):
        view.move(setting, f"setting {dict(setting)}")


DRIVEN = [case for case in CASES if case.actions]  # widgets fed by calls, not controls


@pytest.mark.parametrize("driven", DRIVEN, ids=[case.id for case in DRIVEN])
def test_actions_redraw_the_displayed_picture(driven, displayed):
    case = driven
    shown, handles = displayed
    e = case.make().explorer
    e.show()
    assert len(shown) == 1 and shown[0].data.startswith(PNG), f"{case.id}: show() showed {shown}"
    picture = shown[0].data
    for i, action in enumerate(case.actions):
        what = f"{case.id}: action {i} ({action.__name__})"
        action(e)
        assert e.error is None, f"{what} failed: {e.error}"
        assert len(shown) == 1, f"{what} displayed a new output instead of updating the old one"
        updates = handles[-1].updates if handles else []
        latest = updates[-1].data if updates else picture
        assert latest.startswith(PNG) and latest != picture, (
            f"{what} did not change the displayed picture"
        )
        picture = latest


def test_static_fallback_renders_the_figure(case, displayed, monkeypatch):
    shown, _ = displayed
    monkeypatch.setenv("DLKIT_STATIC", "1")  # what an nbconvert export or a script sees
    assert not dlkit.viz.widgets_available()
    e = case.make().explorer
    for setting in case.extremes[:1]:
        e.update(**setting)
    assert e.show() is None
    (image,) = shown
    assert isinstance(image, IPython.display.Image), f"{case.id}: showed {type(image).__name__}"
    assert image.data.startswith(PNG)
    assert e.figure.axes, f"{case.id}: the static figure has no axes"


def test_the_widget_output_carries_a_png_for_frontends_without_widgets(case, displayed):
    shown, _ = displayed
    e = case.make().explorer
    e.show(static=False)
    (out,) = shown
    if isinstance(out, IPython.display.Image):  # a display-only widget (training curves)
        assert out.data.startswith(PNG)
        return
    assert "application/vnd.jupyter.widget-view+json" in out, f"{case.id}: no widget view"
    assert base64.b64decode(out["image/png"]).startswith(PNG)
