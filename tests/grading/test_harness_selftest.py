"""The round-trip harness run on the toy unit: it passes good mutants and flags bad ones.

This keeps ``test_roundtrip.py``'s machinery honest whatever units ``solutions/`` holds: a
"mutant" that is actually correct, or one that also breaks another exercise, must be reported.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from grading_harness import (
    TOY_MUTANTS_DIR,
    TOY_SOURCE,
    inspect_unit,
    load_mutants,
    mutant_problems,
    mutant_students,
)
from grading_runs import round_trip, score_problems

TOY_MUTANTS = load_mutants("toy", TOY_MUTANTS_DIR)
BAD_MUTANTS = {
    "relu": {
        "not wrong at all": "def relu(x):\n    return np.where(x > 0, x, 0.0)",
        # the (later) mse answer calls float(): a global of that name outlives the relu cell
        # (patching np.mean would not do: the grading guard puts numpy back before each test)
        "wrong, and breaks mse too": (
            "def relu(x):\n    return x\n\n\ndef float(value):\n    return -1.0"
        ),
    },
}
ALL_MUTANTS = {ex: {**TOY_MUTANTS.get(ex, {}), **BAD_MUTANTS.get(ex, {})} for ex in TOY_MUTANTS}
STUDENTS = mutant_students(ALL_MUTANTS)


def _unit(folder: Path) -> Path:
    unit = folder / "source" / "toy"
    unit.mkdir(parents=True, exist_ok=True)
    shutil.copy(TOY_SOURCE, unit / "toy.ipynb")
    return unit


@pytest.fixture
def toy_round_trip(shared_run) -> dict:
    return shared_run(
        "selftest-toy",
        lambda folder: round_trip(
            _unit(folder), folder, ALL_MUTANTS, combine=False, separate_warns=True
        ),
    )


@pytest.fixture
def spec(tmp_path):
    return inspect_unit(_unit(tmp_path))


def test_mutant_count_rules(spec):
    assert mutant_problems(spec, TOY_MUTANTS) == []
    one = {"relu": TOY_MUTANTS["relu"], "mse": dict(list(TOY_MUTANTS["mse"].items())[:1])}
    assert mutant_problems(spec, one) == ["exercise 'mse' has 1 mutant(s); expected at least 2"]
    typo = {**TOY_MUTANTS, "rleu": {"x": "pass"}}
    assert "mutants for 'rleu', which is not a graded exercise" in mutant_problems(spec, typo)[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    "student, expect", [("solution", "full"), ("blank", "zero"), ("warns", "full")]
)
def test_toy_reference_students(toy_round_trip, spec, student, expect):
    assert toy_round_trip["autograde_status"] == 0, toy_round_trip["autograde_log"]
    assert score_problems(spec, toy_round_trip, student, expect) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "student", [s for s, (ex, desc, _) in STUDENTS.items() if desc in TOY_MUTANTS.get(ex, {})]
)
def test_toy_good_mutants_pass(toy_round_trip, spec, student):
    exercise = STUDENTS[student][0]
    assert score_problems(spec, toy_round_trip, student, "mutant", exercise) == []


@pytest.mark.slow
def test_harness_flags_a_mutant_the_tests_miss(toy_round_trip, spec):
    student = next(s for s, v in STUDENTS.items() if v[1] == "not wrong at all")
    problems = score_problems(spec, toy_round_trip, student, "mutant", "relu")
    assert problems == [
        f"{student}: the wrong 'relu' still gets full points on test_relu: "
        "the tests do not catch it"
    ]


@pytest.mark.slow
def test_harness_flags_a_mutant_that_breaks_other_exercises(toy_round_trip, spec):
    student = next(s for s, v in STUDENTS.items() if v[1] == "wrong, and breaks mse too")
    problems = score_problems(spec, toy_round_trip, student, "mutant", "relu")
    assert problems, "collateral damage to mse was not reported"
    assert all("expected full points (only 'relu' was wrong)" in p for p in problems)
    assert any(p.startswith(f"{student}: test_mse scored 0.0") for p in problems)


def test_combined_mutants_hold_one_wrong_answer_per_exercise():
    from grading_runs import combine_mutants

    combos = combine_mutants(STUDENTS)
    assert sorted(m for members in combos.values() for m in members) == sorted(STUDENTS)
    for members in combos.values():
        exercises = [STUDENTS[m][0] for m in members]
        assert len(exercises) == len(set(exercises)), exercises
    assert len(combos) == max(len(v) for v in ALL_MUTANTS.values())
