"""Feedback never shows hidden test code (dlgrade/feedback.py), checked on every unit.

Each unit's instructor notebook stands in for an autograded one: every test cell gets an error
output whose IPython-style traceback quotes the cell's hidden lines (as a real traceback does),
plus a frame of a student cell. After :class:`HideHiddenTests`, the notebook is rendered to HTML
and searched, tags removed, for every distinctive hidden line. The end-to-end check on real
``dlgrade feedback`` output is in test_adversarial.py.
"""

from __future__ import annotations

import copy
import html
import re

import nbformat
import pytest
from adversarial.cases import hidden_lines
from dlgrade.feedback import HideHiddenTests, strip_ansi, student_traceback
from grading_harness import REPO, nbgrader_meta
from nbformat.v4 import new_code_cell, new_output

UNITS = sorted(p.name for p in (REPO / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file())
RED, RESET = "\x1b[0;31m", "\x1b[0m"


def _frame(header: str, lines: list[str]) -> str:
    body = "\n".join(f"{RED}---> {n:>4}{RESET} {line}" for n, line in enumerate(lines, 1))
    return f"{RED}{header}{RESET}\n{body}"


def _as_autograded(nb):
    """``nb`` with execution counts and, in every test cell, a failure quoting its source."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.cell_type == "code"]  # the rest cannot leak tests
    count, student_count = 0, None
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            student_count = count
        if meta.get("grade") and not meta.get("solution"):
            frames = [f"{RED}---------------------------------------------------------------"]
            frames.append(_frame(f"Cell In[{count}], line 3", cell.source.split("\n")))
            if student_count is not None:
                frames.append(_frame(f"Cell In[{student_count}], line 2", ["    return z  # mine"]))
            frames.append(_frame("File /srv/dlkit/testing/compare.py:22, in _fail", ["raise"]))
            frames.append(f"{RED}CheckFailed{RESET}: sigmoid is not right yet.")
            cell.outputs = [
                new_output(
                    "error",
                    ename="CheckFailed",
                    evalue="sigmoid is not right yet.\n  hint: check the sign",
                    traceback=frames,
                )
            ]
    return nb


def _html(nb) -> str:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


@pytest.mark.parametrize("unit", UNITS)
def test_no_hidden_line_reaches_the_feedback(unit):
    source = nbformat.read(REPO / "solutions" / unit / f"{unit}.ipynb", as_version=4)
    hidden = hidden_lines(source)
    if not hidden:
        pytest.skip(f"{unit} has no hidden tests")
    graded, _ = HideHiddenTests().preprocess(_as_autograded(source), {})
    page = _html(graded)
    leaked = [line for line in hidden if re.sub(r"\s+", " ", line) in page]
    assert not leaked, f"{unit}: hidden test lines in the feedback: {leaked[:3]}"
    assert "hidden tests are not shown" in page
    assert "is not right yet" in page and "hint: check the sign" in page


def test_cut_keeps_code_after_the_hidden_region():
    cut = HideHiddenTests().cut(
        "a = 1\n### BEGIN HIDDEN TESTS\nb = 2\nc = 3\n### END HIDDEN TESTS\nd"
    )
    assert cut == "a = 1\n# (2 lines of hidden tests are not shown)\nd"


def test_cut_without_end_marker_hides_the_rest():
    cut = HideHiddenTests().cut("a = 1\n### BEGIN HIDDEN TESTS\nsecret = 2")
    assert "secret" not in cut and cut.startswith("a = 1")


def test_traceback_keeps_only_student_frames():
    output = new_output(
        "error",
        ename="CheckFailed",
        evalue="dw is not right yet.",
        traceback=[
            _frame("Cell In[7], line 3", ["hidden = secret_check()"]),
            _frame("Cell In[4], line 2", ["return -dw"]),
            _frame("File /srv/dlkit/testing/compare.py:22, in _fail", ["raise CheckFailed"]),
        ],
    )
    lines = [strip_ansi(x) for x in student_traceback(output, {4})]
    assert len(lines) == 2
    assert lines[0].startswith("Cell In[4]") and "return -dw" in lines[0]
    assert lines[1] == "CheckFailed: dw is not right yet."


def test_a_bare_assertion_says_a_check_failed():
    output = new_output("error", ename="AssertionError", evalue="", traceback=["x"])
    (line,) = student_traceback(output, set())
    assert strip_ansi(line) == "AssertionError: (a check failed without a message)"


def test_an_unwritten_exercise_says_so():
    """dlkit's notebook handler writes one line naming the function; feedback keeps it."""
    hint = (
        "`standardize` is not written yet: replace `raise NotImplementedError()` in its cell "
        "with your code, run that cell, then run this one again."
    )
    output = new_output("error", ename="NotImplementedError", evalue="", traceback=[hint])
    (line,) = student_traceback(output, set())
    assert strip_ansi(line) == f"NotImplementedError: {hint}"
    bare = new_output("error", ename="NotImplementedError", evalue="", traceback=["x"])
    (line,) = student_traceback(bare, set())
    assert "not written yet" in strip_ansi(line)


def test_output_quoting_hidden_lines_is_withheld():
    """Student code running during a test (an IPython callback, say) may print the cell."""
    cell = new_code_cell("passed('ok')\n### BEGIN HIDDEN TESTS\nassert_close(secret_value, 42)")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "locked": True, "points": 1}
    cell.execution_count = 1
    leak = "assert_close(secret_value, 42)"
    cell.outputs = [
        new_output("stream", name="stdout", text="✓ ok\n"),
        new_output("stream", name="stdout", text=f"spy: {leak}\n"),
        new_output("error", ename="CheckFailed", evalue=f"saw {leak}", traceback=[]),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = HideHiddenTests().preprocess(nb, {})
    outputs = nb.cells[0].outputs
    assert outputs[0].text == "✓ ok\n"
    assert "withheld" in outputs[1].text and leak not in outputs[1].text
    assert leak not in outputs[2].evalue and leak not in "".join(outputs[2].traceback)
