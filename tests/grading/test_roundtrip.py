"""Round trip of every unit in ``solutions/`` through real nbgrader and a real gradebook.

Per unit, ONE ``dlgrade autograde`` run grades these students (see grading_harness.round_trip):

* ``solution``: the release with the source's solution code in its answer cells -> full points;
* ``blank``: the untouched release -> 0 points, and graded without crashing;
* ``warns``: the solution plus code that writes warnings to stderr in every cell -> full points;
* ``mut_<k>``: the solution with the ``k``-th wrong implementation of every exercise from
  ``tests/grading/mutants/<unit>.py`` in its answer cells -> each mutated exercise loses points,
  no other test cell does (one test per mutant; see ``grading_runs.combine_mutants``).

Mutant checks of a unit without a mutants file are skipped (the others still run); see
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
    mutant_students,
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


def _mutant_params() -> list:
    params = []
    for unit in UNITS:
        if not (MUTANTS_DIR / f"{unit}.py").is_file():
            params.append(
                pytest.param(
                    unit,
                    None,
                    id=f"{unit}-no-mutants",
                    marks=pytest.mark.skip(reason=_no_mutants_reason(unit)),
                )
            )
            continue
        students = mutant_students(_mutants_or_none(unit) or {})
        params += [pytest.param(unit, s, id=f"{unit}-{s}") for s in students]
    return params or [pytest.param(None, None, marks=pytest.mark.skip(reason="no mutants yet"))]


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


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNIT_PARAMS)
@pytest.mark.parametrize(
    "student, expect", [("solution", "full"), ("blank", "zero"), ("warns", "full")]
)
def test_reference_students(unit_round_trip, unit, student, expect):
    spec = inspect_unit(SOLUTIONS / unit)
    if student == "warns" and not spec.answers:
        pytest.skip(f"{unit} has no autograded answer cell to put warning code in")
    result = unit_round_trip(unit)
    assert result["autograde_status"] == 0, result["autograde_log"]
    assert score_problems(spec, result, student, expect) == []


@pytest.mark.slow
@pytest.mark.parametrize("unit, student", _mutant_params())
def test_mutant_loses_only_its_exercise(unit_round_trip, unit, student):
    result = unit_round_trip(unit)
    exercise, description, combined, exercises = result["mutants"][student]
    others = set(exercises) - {exercise}
    spec = inspect_unit(SOLUTIONS / unit)
    problems = score_problems(spec, result, combined, "mutant", exercise, also_wrong=others)
    assert problems == [], f"mutant {exercise!r}: {description!r} (graded as {combined})"
