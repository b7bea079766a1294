"""The base of every dlkit widget: a matplotlib figure redrawn from a few control values.

An :class:`Explorer` subclass declares its ``controls`` and a ``draw(fig, **values)``
method. The same object then works three ways:

* ``explorer.show()`` in JupyterLab: sliders and dropdowns above a live PNG of the figure;
* ``explorer.show(static=True)``, or any place without a widget frontend (a script, an
  nbconvert export, ``DLKIT_STATIC=1``): the figure at its default values, as a plain image;
* ``explorer.update(lr=0.1)`` in a test: recompute and redraw, return the figure.

Figures are ``matplotlib.figure.Figure`` objects rendered with Agg, never pyplot, so there
is no global figure state and no duplicate inline output.
"""

from __future__ import annotations

import hashlib
import io
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "Slider",
    "Choice",
    "Toggle",
    "Explorer",
    "widgets_available",
    "legend_beside",
    "OVER_DATA",
]

PNG_DPI = 90  # the resolution of the picture a widget shows

#: The gid of an artist drawn on the data on purpose (a value written on its heatmap cell):
#: the widget tests' layout check (tests/viz/layout.py) lets it cover plotted data.
OVER_DATA = "dlkit-over-data"


@dataclass(frozen=True)
class Slider:
    """A numeric control. ``integer`` gives an IntSlider; ``log`` a slider over log10 values.

    ``stops`` (increasing values in ``[min, max]``) makes the widget's slider move over these
    values only, shown exactly as written (e.g. the learning rates 0.001, 0.003, 0.07 that a
    text asks for, which a log slider's even steps miss); :meth:`Explorer.update` still takes
    any value in ``[min, max]``.
    """

    min: float
    max: float
    value: float
    step: float | None = None
    label: str = ""
    integer: bool = False
    log: bool = False
    stops: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not self.min < self.max:
            raise ValueError(f"Slider needs min < max; got min={self.min!r}, max={self.max!r}")
        if self.log and self.min <= 0:
            raise ValueError(f"a log Slider needs min > 0; got min={self.min!r}")
        if self.stops is not None:
            stops = tuple(float(v) for v in self.stops)
            if len(stops) < 2 or (np.diff(stops) <= 0).any():
                raise ValueError(f"Slider stops must be 2 or more increasing values; got {stops}")
            if stops[0] < self.min or stops[-1] > self.max:
                raise ValueError(f"Slider stops must lie in [{self.min}, {self.max}]; got {stops}")
            object.__setattr__(self, "stops", stops)
        self.check("Slider value", self.value)

    def check(self, name: str, value: Any) -> float | int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a number; got {value!r}")
        if not self.min <= value <= self.max:
            raise ValueError(f"{name} must be in [{self.min}, {self.max}]; got {value!r}")
        if self.integer and value != int(value):
            raise ValueError(f"{name} must be a whole number; got {value!r}")
        return int(value) if self.integer else float(value)


@dataclass(frozen=True)
class Choice:
    """A dropdown over ``options`` (strings)."""

    options: tuple[str, ...]
    value: str
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", tuple(self.options))
        self.check("Choice value", self.value)

    def check(self, name: str, value: Any) -> str:
        if value not in self.options:
            raise ValueError(f"{name} must be one of {list(self.options)}; got {value!r}")
        return value


@dataclass(frozen=True)
class Toggle:
    """An on/off checkbox."""

    value: bool
    label: str = ""

    def __post_init__(self) -> None:
        self.check("Toggle value", self.value)

    def check(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False; got {value!r}")
        return value


Control = Slider | Choice | Toggle


def legend_beside(ax: Any, **kwargs: Any) -> Any:
    """``ax.legend`` to the right of ``ax``, off its data: the constrained layout of every
    Explorer figure makes room for it. Keyword arguments go to ``ax.legend``."""
    kwargs.setdefault("loc", "upper left")
    kwargs.setdefault("bbox_to_anchor", (1.02, 1.0))
    kwargs.setdefault("borderaxespad", 0.0)
    return ax.legend(**kwargs)


def widgets_available() -> bool:
    """True inside a Jupyter kernel with ipywidgets installed (and ``DLKIT_STATIC`` unset)."""
    if os.environ.get("DLKIT_STATIC", "") not in ("", "0"):
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


@dataclass
class Explorer:
    """Base class: subclasses set ``controls`` and implement :meth:`draw`."""

    controls: Mapping[str, Control] = field(default_factory=dict)
    figsize: tuple[float, float] = (6.4, 4.0)
    title: str = ""

    def __post_init__(self) -> None:
        self.values: dict[str, Any] = {k: c.value for k, c in self.controls.items()}
        self.figure = Figure(figsize=self.figsize, layout="constrained")
        FigureCanvasAgg(self.figure)  # attach a pixel canvas: no pyplot, no GUI backend
        self.error: str | None = None
        self._image = self._status = None
        self.redraw()

    # -- subclasses -----------------------------------------------------------------
    def draw(self, fig: Figure, **values: Any) -> None:
        """Draw the figure for these control values (the figure is already cleared)."""
        raise NotImplementedError("an Explorer subclass must implement draw(fig, **values)")

    def follow(self, values: Mapping[str, Any], changed: set[str]) -> dict[str, Any]:
        """The controls that follow a change, as ``{name: new value}``.

        ``changed`` names the controls just set and ``values`` holds every control's new
        value. The default is none; a preset that sets its sliders, or a slider that switches
        its preset to "custom", overrides this (it may also correct a control just set, when
        two set together contradict each other). :meth:`update` applies the result once, with
        no chain of follows, so two linked controls cannot set each other back and forth, and
        the widget moves the followers' inputs without running their callbacks.
        """
        return {}

    # -- the model: values -> figure ------------------------------------------------
    def update(self, **values: Any) -> Figure:
        """Set some control values, redraw, and return the figure.

        Unknown names and out-of-range values raise ``ValueError``/``TypeError`` naming the
        control; an error inside :meth:`draw` (often the student's own function) propagates,
        except a notebook function not written yet (see :meth:`redraw`).
        """
        checked = {}
        for name, value in values.items():
            if name not in self.controls:
                raise ValueError(
                    f"unknown control {name!r}; this explorer has {list(self.controls)}"
                )
            checked[name] = self.controls[name].check(name, value)
        merged = {**self.values, **checked}
        followers = self.follow(merged, set(checked))
        for name, value in followers.items():
            if name not in self.controls:
                raise ValueError(f"follow() returned an unknown control {name!r}")
            checked[name] = self.controls[name].check(name, value)
        self.values.update(checked)  # all or nothing: one bad value changes no control
        self.redraw()
        return self.figure

    def redraw(self) -> None:
        """Draw the figure for the current values. A function defined in a notebook cell that
        still raises ``NotImplementedError()`` (an exercise not written yet) is no error: the
        figure and :attr:`error` then say "write `name` first"; any other error propagates."""
        self.figure.clear()
        try:
            self.draw(self.figure, **self.values)
            self.error = None
        except NotImplementedError as exc:
            from ..notebook import unwritten, widget_line

            name = unwritten(exc)
            if name is None:
                raise
            self.error = widget_line(name)
            self.figure.clear()
            self.figure.text(0.5, 0.5, self.error, ha="center", va="center", wrap=True)
        if self.title:
            self.figure.suptitle(self.title)
        engine = self.figure.get_layout_engine()
        if (
            engine is not None and self.figure.axes
        ):  # lay out now, at the PNG's resolution: a legend beside an
            dpi = self.figure.dpi  # axes moves the axes on the first layout, and the same
            self.figure.dpi = PNG_DPI  # values must give the same pixels on every render
            try:
                for _ in range(2):
                    engine.execute(self.figure)
            finally:
                self.figure.dpi = dpi

    def png(self) -> bytes:
        """The current figure as PNG bytes."""
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=PNG_DPI)
        return buf.getvalue()

    def fingerprint(self) -> str:
        """A hash of the rendered pixels: changes exactly when the picture does."""
        self.figure.canvas.draw()
        rgba = self.figure.canvas.buffer_rgba()
        return hashlib.sha1(bytes(rgba)).hexdigest()

    # -- the views ------------------------------------------------------------------
    def widget(self) -> Any:
        """An ipywidgets box: the controls above a live image of the figure."""
        import ipywidgets as w

        inputs = {name: _make_input(w, name, c) for name, c in self.controls.items()}
        self._inputs, self._syncing = inputs, False
        self._image = w.Image(value=self.png(), format="png")
        self._status = w.HTML(value="" if self.error is None else _status(self.error))
        for name, box in inputs.items():
            box.observe(lambda change, name=name: self._on_input(name, change["new"]), "value")
        return w.VBox(
            [
                w.HBox(list(inputs.values()), layout=w.Layout(flex_flow="row wrap")),
                self._image,
                self._status,
            ]
        )

    def _on_input(self, name: str, value: Any) -> None:
        if not self._syncing:  # an input moved by _sync (a follower) runs no callback
            self._on_change(name, value)

    def _sync(self) -> None:
        """Move every input that differs from its control's value (the followers)."""
        self._syncing = True
        try:
            for name, box in self._inputs.items():
                if box.value != self.values[name]:
                    box.value = self.values[name]
        finally:
            self._syncing = False

    def _on_change(self, name: str, value: Any) -> None:
        control = self.controls[name]
        if isinstance(control, Slider) and isinstance(value, numbers.Real):
            # A FloatLogSlider at its end sends 10 ** log10(min), which can fall an ulp outside
            # [min, max] (10 ** log10(0.05) < 0.05): the frontend's range is the control's.
            value = min(max(value, control.min), control.max)
        try:
            self.update(**{name: value})  # sets error to None, or to "write `name` first"
            self._sync()
            self._status.value = "" if self.error is None else _status(self.error)
            self._image.value = self.png()
        except Exception as exc:  # show the student what their code raised, keep the widget alive
            self.error = f"{type(exc).__name__}: {exc}"
            self._status.value = _status(self.error)

    def show(self, static: bool | None = None) -> None:
        """Display the widget, or the static figure where widgets cannot render.

        The widget's output carries the figure as a PNG too: JupyterLab renders the live
        widget, while a frontend without a widget manager (an HTML export, nbgrader's
        feedback, a notebook viewer) falls back to the picture instead of an error.

        Returns None, so that a notebook cell ending in ``explorer.show()`` displays the
        explorer once (a returned object would be displayed a second time). Tests read
        ``explorer.figure`` after the call.
        """
        import base64

        from IPython.display import Image, display

        if static is None:
            static = not widgets_available()
        if static:
            display(Image(self.png()))
            return
        bundle = self.widget()._repr_mimebundle_()
        bundle["image/png"] = base64.b64encode(self.png()).decode("ascii")
        display(bundle, raw=True)


def _make_input(w: Any, name: str, c: Control) -> Any:
    label = c.label or name
    style = {"description_width": "initial"}
    if isinstance(c, Choice):
        return w.Dropdown(options=list(c.options), value=c.value, description=label, style=style)
    if isinstance(c, Toggle):
        return w.Checkbox(value=c.value, description=label, style=style)
    if c.stops is not None:
        stops = sorted({*c.stops, float(c.value)})
        return w.SelectionSlider(
            options=[(f"{v:g}", v) for v in stops],
            value=float(c.value),
            description=label,
            style=style,
            continuous_update=False,
        )
    if c.integer:
        return w.IntSlider(
            min=int(c.min),
            max=int(c.max),
            value=int(c.value),
            step=int(c.step or 1),
            description=label,
            style=style,
            continuous_update=False,
        )
    if c.log:
        import math

        return w.FloatLogSlider(
            min=math.log10(c.min),
            max=math.log10(c.max),
            value=c.value,
            base=10,
            description=label,
            style=style,
            continuous_update=False,
        )
    return w.FloatSlider(
        min=c.min,
        max=c.max,
        value=c.value,
        step=c.step or (c.max - c.min) / 100,
        description=label,
        style=style,
        continuous_update=False,
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _status(error: str) -> str:
    return f"<span style='color:#b00'>{_escape(error)}</span>"
