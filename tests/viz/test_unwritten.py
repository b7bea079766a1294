"""A widget over a student's function that is not written yet says so in one line."""

from __future__ import annotations

import pytest

from dlkit.viz import FunctionExplorer, Slider

LINE = "write `{}` first (it still raises NotImplementedError)"
CELL = "/tmp/ipykernel_4242/5830129.py"  # how ipykernel names a notebook cell's code


def cell_function(source: str, name: str, filename: str = CELL):
    """``name`` from ``source``, as if defined in a notebook cell (``filename``)."""
    namespace: dict = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


STUB = "def standardize(x, a=0.0):\n    raise NotImplementedError()\n"
HALF = """\
def bump(x, a):
    if a > 0.5:
        raise NotImplementedError()
    return a * x
"""


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.texts]


def test_the_figure_says_which_function_to_write():
    e = FunctionExplorer(cell_function(STUB, "standardize"), {"a": Slider(0, 1, 0.5)})
    assert e.error == LINE.format("standardize")
    assert texts(e.figure) == [e.error] and not e.figure.axes
    assert e.png().startswith(b"\x89PNG")
    status = e.widget().children[2]
    assert "write `standardize` first" in status.value


def test_the_widget_shows_the_line_and_recovers():
    e = FunctionExplorer(cell_function(HALF, "bump"), {"a": Slider(0, 1, 0.2)})
    view = e.widget()
    (slider,), image, status = view.children[0].children, view.children[1], view.children[2]
    before = bytes(image.value)
    slider.value = 0.8
    assert e.error == LINE.format("bump") and "write `bump` first" in status.value
    assert bytes(image.value) != before  # the picture says it too
    slider.value = 0.3
    assert e.error is None and status.value == "" and e.figure.axes


def test_a_not_implemented_error_from_elsewhere_still_propagates():
    library = cell_function(STUB, "standardize", filename="mylib.py")
    with pytest.raises(NotImplementedError):
        FunctionExplorer(library, {})
    message = cell_function("def f(x):\n    raise NotImplementedError('later')\n", "f")
    with pytest.raises(NotImplementedError, match="later"):
        FunctionExplorer(message, {})
