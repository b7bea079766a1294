"""A likely wrong answer gets the hint written for it, in the student's own notebook.

``tests/notebooks/hint_cases/<unit>.py`` lists, per exercise, wrong answers and a piece of the
message each must get (format in that folder's README). For every unit with cases, one real
kernel runs the *released* notebook's setup cell (``course/<unit>``: what the student has), then
for each case the wrong answer in place of the answer cell and the exercise's visible test cells
as released (hidden tests removed). The case holds when one of those cells fails and the first
failure's message contains the hint (case-insensitive): a hint that never shows, shows for the
wrong mistake, or shows below another failure is caught here.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import COURSE, unit_names

CASES_DIR = Path(__file__).resolve().parent / "hint_cases"
CELL_TIMEOUT_S = 60
pytestmark = pytest.mark.slow
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def load_cases(unit: str) -> dict[str, list[tuple[str, str, str]]]:
    """``CASES`` of ``hint_cases/<unit>.py``, or ``{}`` when the unit has none."""
    path = CASES_DIR / f"{unit}.py"
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location(f"hint_cases_{unit}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cases = getattr(module, "CASES", None)
    if not isinstance(cases, dict):
        raise TypeError(f"{path}: expected a dict CASES, got {type(cases).__name__}")
    return cases


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _case_problems(unit: str, cases: dict, cells: dict) -> list[str]:
    problems = []
    for exercise, items in cases.items():
        if exercise not in cells:
            problems.append(f"{unit}: {exercise!r} is not an answer cell of the released notebook")
        for item in items:
            if not (
                isinstance(item, tuple) and len(item) == 3 and all(isinstance(s, str) for s in item)
            ):
                problems.append(f"{unit}/{exercise}: a case must be (description, source, hint)")
            elif not item[2].strip():
                problems.append(f"{unit}/{exercise}/{item[0]}: the hint substring is empty")
    return problems


def cases_notebook(unit: str, cases: dict) -> tuple[nbformat.NotebookNode, list]:
    """The setup cell, then per case its answer and the visible tests; and each case's cells."""
    released = nbformat.read(COURSE / unit / f"{unit}.ipynb", as_version=4)
    cells = {_grade_id(c): c for c in released.cells if c.cell_type == "code" and _grade_id(c)}
    problems = _case_problems(unit, cases, cells)
    assert not problems, "\n".join(problems)
    tests = {
        ex: [c for gid, c in cells.items() if gid == f"test_{ex}" or gid.startswith(f"test_{ex}__")]
        for ex in cases
    }
    nb = nbformat.v4.new_notebook(metadata=released.metadata)
    nb.cells = [nbformat.v4.new_code_cell(cells["setup"].source)]
    groups = []
    for exercise, items in cases.items():
        assert tests[exercise], f"{unit}: {exercise!r} has no test cells"
        for description, source, hint in items:
            first = len(nb.cells)
            nb.cells.append(nbformat.v4.new_code_cell(source))
            nb.cells.extend(nbformat.v4.new_code_cell(c.source) for c in tests[exercise])
            groups.append((exercise, description, hint, range(first, len(nb.cells))))
    return nb, groups


def _error(cell) -> str | None:
    """``ename: message`` of the cell's error; for an exception without a message (an
    exercise not written yet), the first line the student sees instead."""
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            message = out.evalue
            if not message.strip():
                shown = _ANSI.sub("", "\n".join(out.get("traceback", []))).strip()
                message = shown.splitlines()[0] if shown else ""
            return f"{out.ename}: {message}"
    return None


UNITS_WITH_CASES = [u for u in unit_names() if load_cases(u)]


def test_hint_case_files_name_real_units() -> None:
    units = set(unit_names())
    strays = [p.stem for p in CASES_DIR.glob("*.py") if p.stem not in units]
    assert not strays, f"hint case files for units that do not exist: {strays}"


@pytest.mark.parametrize("unit", UNITS_WITH_CASES)
def test_each_listed_mistake_gets_its_hint(unit: str) -> None:
    nb, groups = cases_notebook(unit, load_cases(unit))
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(COURSE / unit)}},
    )
    client.execute()
    assert _error(nb.cells[0]) is None, f"{unit}: the setup cell failed: {_error(nb.cells[0])}"
    failures = []
    for exercise, description, hint, span in groups:
        errors = [e for e in (_error(nb.cells[i]) for i in span) if e is not None]
        if not errors:
            failures.append(f"{exercise} / {description}: every visible test passed")
        elif hint.lower() not in errors[0].lower():
            failures.append(
                f"{exercise} / {description}: expected a message with {hint!r}, got\n    "
                + errors[0][:600]
            )
    assert not failures, f"{unit}: wrong answers without their hint:\n" + "\n".join(failures)
