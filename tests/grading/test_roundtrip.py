"""Round trip of every unit in ``solutions/`` through real nbgrader and a real gradebook.

Per unit, ONE ``dlgrade autograde`` run grades these students (see grading_harness.round_trip):

* ``solution``: the release with the source's solution code in its answer cells, plus code in
  the first answer cell that writes warnings and text to stderr in every later cell -> full
  points (stderr output costs nothing; a separate ``warns`` student cost one more notebook run
  per unit, and tests/grading/test_harness_selftest.py still grades the two apart on the toy);
* ``blank``: the untouched release -> 0 points, and graded without crashing;
* ``mut_<k>``, k = 1 .. :data:`GRADED_MUTANTS`: the solution with the ``k``-th wrong
  implementation of every exercise from ``tests/grading/mutants/<unit>.py`` in its answer
  cells -> each mutated exercise loses points, no other test cell does (see
  ``grading_runs.combine_mutants``).

``test_round_trip[<unit>]`` checks each of these students in a subtest of its own. The further
wrong answers of an exercise (its third and later) are not graded through nbgrader again:
``test_further_mutants_fail_their_own_tests[<unit>]`` runs each against its exercise's visible
and hidden test cells in a forked kernel (``automutate.run_mutants``: the setup cell once, then
the wrong answer and the test cells), which shows the tests catch it for a fraction of a full
autograde run. A unit without a mutants file skips its mutant checks
(``test_unit_has_enough_mutants`` says so); see ``tests/grading/mutants/README.md``.
"""

from __future__ import annotations

import automutate as am
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
# Wrong answers per exercise graded through real nbgrader (each combined submission costs one
# full notebook run); the rest go through the forked-kernel check, which costs a test cell run.
GRADED_MUTANTS = 2


def split_mutants(
    mutants: dict[str, dict[str, str]],
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """``(graded, further)``: the first :data:`GRADED_MUTANTS` wrong answers of each exercise,
    and the others."""
    graded = {ex: dict(list(by.items())[:GRADED_MUTANTS]) for ex, by in mutants.items()}
    further = {ex: dict(list(by.items())[GRADED_MUTANTS:]) for ex, by in mutants.items()}
    return graded, {ex: by for ex, by in further.items() if by}


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
        mutants, _ = split_mutants(_mutants_or_none(unit) or {})
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


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNIT_PARAMS)
def test_further_mutants_fail_their_own_tests(unit):
    """Each wrong answer beyond the graded ones fails a test cell of its own exercise."""
    mutants = _mutants_or_none(unit)
    if mutants is None:
        pytest.skip(_no_mutants_reason(unit))
    _, further = split_mutants(mutants)
    if not further:
        pytest.skip(f"{unit}: every mutant is graded by test_round_trip")
    jobs = [
        {"id": f"{exercise}: {description}", "exercise": exercise, "answer": source}
        for exercise, by_description in further.items()
        for description, source in by_description.items()
    ]
    results = am.run_mutants(am.load_unit(unit), jobs, parallel=1)
    survivors = [i for i in sorted(results) if results[i]["verdict"] == "survived"]
    assert not survivors, (
        f"{unit}: these wrong answers from {MUTANTS_DIR.relative_to(REPO)}/{unit}.py pass every "
        "test cell of their exercise (visible and hidden):\n" + "\n".join(survivors)
    )
