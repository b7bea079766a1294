"""dlgrade.preprocessors on hand-made cells (fast; end-to-end checks are in test_hardening)."""

from __future__ import annotations

from dlgrade.preprocessors import StderrToStdout, StripWidgetState, _insert_at
from nbformat.v4 import new_code_cell, new_notebook, new_output


def _cell(grade: bool):
    cell = new_code_cell(
        "f()",
        metadata={"nbgrader": {"grade": grade, "grade_id": "t", "solution": False, "points": 1}},
    )
    cell.outputs = [
        new_output("stream", name="stderr", text="UserWarning: hm\n"),
        new_output("stream", name="stdout", text="ok\n"),
    ]
    return cell


def test_stderr_of_graded_cells_becomes_stdout_with_the_same_text():
    nb = new_notebook(cells=[_cell(grade=True), _cell(grade=False)])
    nb, _ = StderrToStdout().preprocess(nb, {})
    graded, other = nb.cells
    assert [(o.name, o.text) for o in graded.outputs] == [
        ("stdout", "UserWarning: hm\n"),
        ("stdout", "ok\n"),
    ]
    assert other.outputs[0].name == "stderr"  # ungraded cells are left alone


def test_widget_state_is_removed_and_other_metadata_kept():
    nb = new_notebook(
        metadata={
            "widgets": {"application/vnd.jupyter.widget-state+json": {}},
            "language_info": {"name": "python"},
        }
    )
    nb, _ = StripWidgetState().preprocess(nb, {})
    assert dict(nb.metadata) == {"language_info": {"name": "python"}}


def test_reinsert_position():
    order = ["setup", "relu", "test_relu", "mse", "test_mse"]
    # after the nearest earlier cell still present
    assert _insert_at(order, {"setup": 1, "relu": 3, "mse": 5}, "test_relu", 8) == 4
    # its answer cell is gone too: after the cell before that
    assert _insert_at(order, {"setup": 1, "mse": 5}, "test_relu", 8) == 2
    # nothing earlier present: before the nearest later one; nothing at all: at the end
    assert _insert_at(order, {"mse": 5}, "test_relu", 8) == 5
    assert _insert_at(order, {}, "test_relu", 8) == 8
