"""The notebooks follow docs/AUTHORING.md: the conventions grading relies on."""

from __future__ import annotations

import re

import nbformat
import pytest

from .conftest import COURSE, ROOT, SOLUTIONS, source_notebook, unit_names

UNITS = unit_names()


def _graded(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta:
            yield cell, meta


def test_units_exist_and_are_released() -> None:
    assert {"00_welcome", "01_perceptron", "02_mlp"} <= set(UNITS)
    for unit in UNITS:
        assert source_notebook(unit).exists(), f"solutions/{unit}/{unit}.ipynb is missing"
        assert (COURSE / unit / f"{unit}.ipynb").exists(), (
            f"course/{unit}/{unit}.ipynb is missing: run `dlgrade release {unit}`"
        )


@pytest.mark.parametrize("path", sorted(ROOT.glob("[sc]o*/*/*.ipynb")), ids=lambda p: p.name)
def test_notebook_is_stored_clean(path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    with_outputs = [i for i, c in enumerate(nb.cells) if c.get("outputs")]
    assert not with_outputs, f"{path.name}: cells {with_outputs} have outputs: run `make strip`"
    counted = [i for i, c in enumerate(nb.cells) if c.get("execution_count")]
    assert not counted, f"{path.name}: cells {counted} keep execution counts: run `make strip`"
    assert "widgets" not in nb.metadata, f"{path.name} stores widget state: run `make strip`"


@pytest.mark.parametrize("unit", UNITS)
def test_exercises_follow_the_grading_conventions(unit: str) -> None:
    nb = nbformat.read(source_notebook(unit), as_version=4)
    answers, tests, written = set(), {}, []
    for cell, meta in _graded(nb):
        gid = meta["grade_id"]
        if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
            answers.add(gid)
            assert "### BEGIN SOLUTION" in cell.source, f"answer cell {gid} has no solution region"
        elif cell.cell_type == "code" and meta.get("grade"):
            assert meta.get("locked"), f"test cell {gid} must be locked"
            assert meta.get("points", 0) > 0, f"test cell {gid} must carry points"
            assert not re.search(r"\bprint\([^)]*file=sys\.stderr", cell.source)
            tests[gid] = cell.source
        elif cell.cell_type == "markdown" and meta.get("grade"):
            assert meta.get("points", 0) > 0, f"written answer {gid} must carry points"
            written.append(gid)
    assert written, f"{unit} needs at least one manually graded written answer"
    lo = 1 if unit == "00_welcome" else 3
    assert lo <= len(answers) <= 8, f"{unit} has {len(answers)} graded exercises; expected {lo}-8"
    for gid, source in tests.items():
        owner = gid.removeprefix("test_").split("__")[0]
        assert gid.startswith("test_") and owner in answers, (
            f"test cell {gid!r} must be named test_<exercise> after an answer cell"
        )
        assert "### BEGIN HIDDEN TESTS" in source, f"test cell {gid} has no hidden tests"
        visible = source.split("### BEGIN HIDDEN TESTS")[0]
        assert "assert" in visible or "check" in visible, f"{gid} has no visible checks"
    untested = answers - {g.removeprefix("test_").split("__")[0] for g in tests}
    assert not untested, f"exercises without a test cell: {sorted(untested)}"


@pytest.mark.parametrize("unit", UNITS)
def test_unit_uses_a_widget_on_student_code(unit: str) -> None:
    source = "\n".join(c.source for c in nbformat.read(source_notebook(unit), as_version=4).cells)
    assert re.search(r"viz\.\w+\(|Explorer\(", source), f"{unit} shows no dlkit.viz widget"
    assert ".show()" in source, f"{unit} never displays its widget with .show()"


def test_solutions_and_course_hold_the_same_units() -> None:
    released = sorted(p.name for p in COURSE.iterdir() if p.is_dir())
    assert released == UNITS, f"course/ has {released}, solutions/ has {UNITS}"
    assert SOLUTIONS.is_dir()


_DETAILS = re.compile(r"<details><summary>(.*?)</summary>(.*?)</details>", re.S)


@pytest.mark.parametrize("unit", UNITS)
def test_check_your_understanding_hides_each_answer(unit: str) -> None:
    """Every unit ends with questions whose answers are each behind their own <details>, so a
    student reads a question and thinks before the answer is in view (docs/AUTHORING.md)."""
    nb = nbformat.read(source_notebook(unit), as_version=4)
    cells = [
        c.source
        for c in nb.cells
        if c.cell_type == "markdown" and c.source.startswith("## Check your understanding")
    ]
    assert len(cells) == 1, f"{unit}: expected one '## Check your understanding' cell"
    blocks = _DETAILS.findall(cells[0])
    assert len(blocks) >= 3, f"{unit}: at least 3 questions, each in <details><summary>"
    for n, (question, answer) in enumerate(blocks, 1):
        assert question.strip().startswith(f"{n}. "), (
            f"{unit}: question {n} should start with '{n}. ': {question[:60]!r}"
        )
        assert answer.strip(), f"{unit}: question {n} has no answer inside its <details>"
    outside = _DETAILS.sub("", cells[0])
    assert not re.search(r"^\s*\d+\. ", outside, re.M), (
        f"{unit}: a numbered question or answer outside the collapsible blocks:\n{outside}"
    )
