"""Round trip of every unit in ``solutions/`` through real nbgrader and a real gradebook.

Per unit, ONE ``dlgrade autograde`` run grades these students (see grading_harness.round_trip):

* ``solution``: the release with the source's solution code in its answer cells, plus code in
  the first answer cell that writes warnings and text to stderr in every later cell -> full
  points (stderr output costs nothing; a separate ``warns`` student cost one more notebook run
  per unit, and tests/grading/test_harness_selftest.py still grades the two apart on the toy);
* ``blank``: the untouched release -> 0 points, and graded without crashing;
* ``mut_<k>``: the solution with the ``k``-th wrong implementation of every exercise from
  ``tests/grading/mutants/<unit>.py`` in its answer cells -> each mutated exercise loses points,
  no other test cell does (see ``grading_runs.combine_mutants``).

``test_round_trip[<unit>]`` checks each of these students in a subtest of its own. A unit
without a mutants file skips its mutant checks (``test_unit_has_enough_mutants`` says so); see
``tests/grading/mutants/README.md`` for the format.
"""

from __future__ import annotations

import pytest
from grading_harness import (
    MUTANTS_DIR,
    REPO,
    inspect_unit,
    load_mutants,
    mutant_problems,
)
from grading_runs import round_trip, score_problems

SOLUTIONS = REPO / "solutions"
FOLDERS = sorted(p for p in SOLUTIONS.iterdir() if p.is_dir()) if SOLUTIONS.is_dir() else []
UNITS = [p.name for p in FOLDERS if (p / f"{p.name}.ipynb").is_file()]
NO_UNITS = pytest.param(None, marks=pytest.mark.skip(reason="no units in solutions/ yet"))
UNIT_PARAMS = UNITS or [NO_UNITS]


def _no_mutants_reason(unit: str) -> str:
    return (
        f"no mutants file {MUTANTS_DIR.relative_to(REPO)}/{unit}.py yet "
        "(see tests/grading/mutants/README.md)"
    )


def _mutants_or_none(unit: str):
    try:
        return load_mutants(unit)
    except Exception:  # reported by test_unit_has_enough_mutants
        return None


@pytest.fixture
def unit_round_trip(shared_run):
    """``unit_round_trip(unit)``: the unit's graded round trip, computed once per session."""

    def get(unit: str) -> dict:
        mutants = _mutants_or_none(unit) or {}
        return shared_run(
            f"roundtrip-{unit}", lambda folder: round_trip(SOLUTIONS / unit, folder, mutants)
        )

    return get


def test_solutions_folders_are_units():
    strays = [p.name for p in FOLDERS if p.name not in UNITS]
    assert not strays, (
        f"folders in solutions/ without a notebook named after the folder: "
        f"{strays}; expected solutions/<unit>/<unit>.ipynb"
    )


@pytest.mark.parametrize("unit", UNIT_PARAMS)
def test_unit_conventions(unit):
    assert inspect_unit(SOLUTIONS / unit).problems == []


@pytest.mark.parametrize("unit", UNIT_PARAMS)
def test_unit_has_enough_mutants(unit):
    mutants = load_mutants(unit)
    if mutants is None:
        pytest.skip(_no_mutants_reason(unit))
    assert mutant_problems(inspect_unit(SOLUTIONS / unit), mutants) == []


REFERENCE_STUDENTS = [("solution", "full"), ("blank", "zero")]


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNIT_PARAMS)
def test_round_trip(unit_round_trip, unit, subtests):
    """The unit's reference students, then each mutant, one subtest each.

    One test item per unit, so that pytest-xdist gives a unit's whole round trip to one
    worker: items of one unit on both workers made one of them wait, idle, for the other's
    ``dlgrade autograde`` run (measured: about 100 s per unit)."""
    spec = inspect_unit(SOLUTIONS / unit)
    result = unit_round_trip(unit)
    assert result["autograde_status"] == 0, result["autograde_log"]
    for student, expect in REFERENCE_STUDENTS:
        with subtests.test(student=student, expect=expect):
            assert score_problems(spec, result, student, expect) == []
    for mutant, (exercise, description, combined, exercises) in result["mutants"].items():
        with subtests.test(mutant=mutant):
            others = set(exercises) - {exercise}
            problems = score_problems(spec, result, combined, "mutant", exercise, also_wrong=others)
            assert problems == [], f"mutant {exercise!r}: {description!r} (graded as {combined})"
