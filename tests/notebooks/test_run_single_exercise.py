"""Each exercise's tests pass after only the setup cell and that exercise's answer cell.

A student who presses Run All stops at the first unsolved exercise's test; they then solve a
later exercise and run just its cells. That works only if no test cell leans on a cell outside
the setup cell and its own answer cell: shared locked helpers belong in the setup cell or in
dlkit, and demo data a test needs is defined in the test cell (see docs/AUTHORING.md).

For every graded exercise of every unit, a kernel whose namespace was just emptied
(``%reset -f``) runs the setup cell, the exercise's answer cell (the reference solution) and
its test cells, in notebook order, and nothing else. One kernel serves a unit's exercises in
turn: emptying the namespace leaves exactly what a name lookup can see, and saves a kernel
start per exercise (about 2 s each).
"""

from __future__ import annotations

import importlib.util
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT, SOLUTIONS, unit_names

CELL_TIMEOUT_S = 60
pytestmark = pytest.mark.slow


def _grading_harness():
    """tests/grading/grading_harness.py, which parses a unit's exercises and test cells."""
    name = "grading_harness"
    if name not in sys.modules:
        path = ROOT / "tests" / "grading" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _exercise_notebooks(unit: str) -> dict[str, nbformat.NotebookNode]:
    """``{exercise: notebook of only the setup cell, its answer cell and its test cells}``."""
    harness = _grading_harness()
    spec = harness.inspect_unit(SOLUTIONS / unit)
    assert not spec.problems, "\n".join(spec.problems)
    notebooks = {}
    for nb in spec.sources.values():
        cells = {harness.nbgrader_meta(c).get("grade_id"): c for c in nb.cells}
        assert "setup" in cells, f"{unit} has no setup cell (grade_id 'setup')"
        for exercise in spec.exercises:
            if exercise not in cells:
                continue
            wanted = {"setup", exercise, *spec.tests[exercise]}
            single = nbformat.v4.new_notebook(metadata=nb.metadata)
            single.cells = [
                c
                for c in nb.cells
                if c.cell_type == "code" and harness.nbgrader_meta(c).get("grade_id") in wanted
            ]
            notebooks[exercise] = single
    assert notebooks, f"{unit} has no graded exercises"
    return notebooks


RESET = "get_ipython().run_line_magic('reset', '-f')  # a namespace with nothing in it"


def _one_notebook(exercises: dict[str, nbformat.NotebookNode]) -> tuple:
    """All exercises' notebooks in one, each after a cell that empties the namespace; and, per
    cell, the exercise it belongs to (None for the reset cells)."""
    first = next(iter(exercises.values()))
    combined = nbformat.v4.new_notebook(metadata=first.metadata)
    owner: list[str | None] = []
    for exercise, nb in exercises.items():
        combined.cells.append(nbformat.v4.new_code_cell(RESET))
        owner.append(None)
        for cell in nb.cells:
            combined.cells.append(cell)
            owner.append(exercise)
    return combined, owner


@pytest.mark.parametrize("unit", unit_names())
def test_each_exercise_runs_after_only_the_setup_cell(unit: str) -> None:
    combined, owner = _one_notebook(_exercise_notebooks(unit))
    client = NotebookClient(
        combined,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        allow_errors=True,  # one exercise's failure must not hide the next one's result
        resources={"metadata": {"path": str(SOLUTIONS / unit)}},
    )
    client.execute()
    failures: dict[str, str] = {}
    for cell, exercise in zip(combined.cells, owner, strict=True):
        for out in cell.get("outputs", []):
            if out.output_type != "error":
                continue
            if exercise is None:
                raise AssertionError(f"{unit}: emptying the namespace failed: {out.evalue}")
            gid = cell.metadata["nbgrader"]["grade_id"]
            failures.setdefault(exercise, f"{exercise}: cell {gid}: {out.ename}: {out.evalue}")
    assert not failures, (
        f"{unit}: these exercises fail when run after only the setup cell and their answer "
        "cell (a test needs a cell it does not own; see docs/AUTHORING.md):\n"
        + "\n".join(failures.values())
    )
