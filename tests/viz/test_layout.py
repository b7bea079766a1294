"""No widget draws text on text, a legend on data, or a caption on a panel (tests/viz/layout.py).

Each widget of the registry (widget_cases.py) is checked at its default state, after each
control is moved alone to a value other than its default, and at each of its settings and
extremes. The first tests prove that the check itself catches what it is meant to catch.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dlkit.viz import Slider, legend_beside
from tests.viz.layout import OVER_DATA, layout_problems
from tests.viz.widget_cases import CASES, WidgetCase, control_values


def _figure(ncols: int = 1) -> tuple[Figure, list]:
    fig = Figure(figsize=(6.0, 3.0), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def test_a_legend_on_a_curve_is_caught_and_one_beside_it_is_not():
    fig, (ax,) = _figure()
    x = np.linspace(-1, 1, 200)
    ax.plot(x, np.ones_like(x), label="flat at the top")  # where loc="upper left" lands
    ax.set_ylim(0.0, 1.05)
    ax.legend(loc="upper left")
    assert any("legend" in p and "covers" in p for p in layout_problems(fig))
    ax.get_legend().remove()
    legend_beside(ax)
    assert layout_problems(fig) == []


def test_a_legend_on_contour_lines_and_on_an_image_is_caught():
    fig, (left, right) = _figure(2)
    gx, gy = np.meshgrid(np.linspace(-1, 1, 50), np.linspace(-1, 1, 50))
    left.contour(gx, gy, gx**2 + gy**2, levels=10)
    left.plot([0], [0], "o", label="centre")
    left.legend(loc="lower left")
    right.imshow(np.eye(4))
    right.plot([0], [0], "o", label="a corner")
    right.legend(loc="lower left")
    problems = layout_problems(fig)
    assert any("covers" in p and "QuadContourSet" in p for p in problems), problems
    assert any("lies on an image" in p for p in problems), problems


def test_overlapping_titles_and_text_outside_the_figure_are_caught():
    fig, (left, right) = _figure(2)
    fig.set_layout_engine("none")
    left.set_position((0.1, 0.1, 0.5, 0.7))
    right.set_position((0.45, 0.1, 0.5, 0.7))  # on top of the left panel's right half
    left.set_title("a long title of the left panel")
    right.set_title("a long title of the right panel")
    fig.text(0.99, 0.5, "a caption running off the edge")
    problems = layout_problems(fig)
    assert any("title" in p and "overlaps title" in p for p in problems), problems
    assert any("leaves the figure" in p for p in problems), problems


def test_a_caption_on_a_panel_is_caught_and_a_supxlabel_is_not():
    fig, (ax,) = _figure()
    ax.plot([0, 1], [0, 1])
    caption = fig.text(0.5, 0.5, "a caption in the middle", ha="center")
    assert any("caption" in p and "lies on" in p for p in layout_problems(fig))
    caption.remove()
    fig.supxlabel("a caption below the panel")
    assert layout_problems(fig) == []


def test_the_exemption_covers_data_only():
    fig, (ax,) = _figure()
    ax.imshow(np.eye(3))
    cell = ax.text(1, 1, "1.0", ha="center", va="center")
    assert any("lies on an image" in p for p in layout_problems(fig))
    cell.set_gid(OVER_DATA)  # a value on its own heatmap cell: wanted
    assert layout_problems(fig) == []
    ax.set_title("title")
    ax.text(1, -0.62, "a text on the title", ha="center", va="bottom").set_gid(OVER_DATA)
    assert any("overlaps" in p for p in layout_problems(fig))  # never exempt from text


# -- every widget ----------------------------------------------------------------------------


def _states(case: WidgetCase):
    """The registry's widget at its default, after each control moves, at its settings."""
    e = case.make().explorer
    yield "the default state", e
    for name, control in e.controls.items():
        others = [v for v in control_values(control) if v != control.value]
        if others:
            e.update(**_clamped(e, {name: others[-1]}))
            yield f"{name}={others[-1]!r}", e
            e.update(**{name: control.value})
    for setting in (*case.settings, *case.extremes):
        e.update(**_clamped(e, setting))
        yield f"setting {dict(setting)}", e


def _clamped(e, values):
    """Slider values clamped to the range, as the widget does with what the frontend sends
    (a log slider at its end sends 10 ** log10(max), which can exceed max)."""
    out = {}
    for name, value in values.items():
        control = e.controls[name]
        if isinstance(control, Slider):
            value = min(max(value, control.min), control.max)
        out[name] = value
    return out


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_no_widget_draws_text_on_text_or_legends_on_data(case):
    found = []
    for what, e in _states(case):
        found += [f"{what}: {p}" for p in layout_problems(e.figure)]
    assert not found, f"{case.id}: layout problems:\n  " + "\n  ".join(found)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_picture_is_laid_out_before_it_is_first_shown(case):
    """A legend beside an axes moves the axes when the layout runs; the widget runs it when it
    redraws, so the first PNG is already the settled one and every render is the same."""
    e = case.make().explorer
    first = e.png()
    assert e.png() == first, f"{case.id}: a second render of the same values differs"
