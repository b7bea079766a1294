"""Running dlgrade on built students and judging the gradebook scores (see grading_harness).

:func:`round_trip` is the whole round trip of one unit: release it, write the solution (which
also writes to stderr), blank and mutant students, grade them all in ONE ``dlgrade autograde``
run against a real SQLite gradebook, and read the scores back; :func:`score_problems` judges
one student.

Mutants are graded in *combined* submissions (:func:`combine_mutants`): submission ``k``
carries the ``k``-th wrong implementation of every exercise that has one. Exercises are graded
on their own (``using(...)`` isolation), so each mutated exercise must lose points and every
other exercise must keep full points -- the same verdict as one submission per mutant, for a
fifth of the kernels (it keeps the suite inside its CI budget; test_roundtrip.py grades the
first two mutants of each exercise this way and runs the others in forked kernels). What a
combination cannot show is a leak from one wrong exercise into another *mutated* one; the leaks
into the clean exercises of every combination are still caught.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from grading_harness import (
    UnitSpec,
    build_submission,
    inspect_unit,
    mutant_students,
    with_warning_hook,
)


def dlgrade(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the ``dlgrade`` CLI (``python -m dlgrade.cli``) and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "dlgrade.cli", *args],
        env=env,
        cwd=cwd,
        text=True,
        capture_output=True,
        check=False,
    )


def grading_env(work: Path, source_dir: Path, **extra: str) -> dict[str, str]:
    """Environment that points dlgrade at ``source_dir`` and keeps all writes under ``work``."""
    env = dict(os.environ)
    env.update(
        DLGRADE_SOURCE_DIR=str(source_dir),
        DLGRADE_RELEASE_DIR=str(work / "release"),
        DLGRADE_STATE_DIR=str(work / "state"),
        **extra,
    )
    return env


def write_submission(work: Path, student: str, unit: str, notebooks: dict[str, object]) -> None:
    """Write ``{file name: notebook}`` as ``student``'s submission of ``unit``."""
    folder = work / "state" / "submitted" / student / unit
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / name)


def read_scores(work: Path, unit: str, students: list[str]) -> dict[str, dict[str, list]]:
    """``{student: {grade_id: [auto_score, max_score]}}`` from the gradebook (all notebooks)."""
    from nbgrader.api import Gradebook, MissingEntry

    result = {}
    with Gradebook(f"sqlite:///{work / 'state' / 'gradebook.db'}", "dl-course") as gb:
        for student in students:
            try:
                submission = gb.find_submission(unit, student)
            except MissingEntry:
                continue
            result[student] = {
                g.name: [g.auto_score, g.max_score]
                for nb in submission.notebooks
                for g in nb.grades
            }
    return result


def release_notebooks(work: Path, unit: str) -> dict[str, nbformat.NotebookNode]:
    """The released notebooks of ``unit`` under ``work``."""
    return {
        p.name: nbformat.read(p, as_version=4)
        for p in sorted((work / "release" / unit).glob("*.ipynb"))
    }


def _tail(proc: subprocess.CompletedProcess, lines: int = 60) -> str:
    return "\n".join((proc.stdout + proc.stderr).splitlines()[-lines:])


def round_trip(
    unit_dir: Path,
    work: Path,
    mutants: dict[str, dict[str, str]] | None,
    *,
    combine: bool = True,
    separate_warns: bool = False,
    **env_extra: str,
) -> dict:
    """Release ``unit_dir`` and grade its solution, blank and mutant students in ONE
    ``dlgrade autograde`` run under ``work``; return the scores and what each student is.

    The ``solution`` student writes warnings and text to stderr from its first answer cell on
    (:data:`WARNING_HOOK`), so that one run per unit proves both that the solution earns full
    points and that stderr output costs none. With ``separate_warns=True`` (the harness
    self-test) the two are students of their own, ``solution`` and ``warns``. With
    ``combine=False`` every mutant is a student of its own (the harness self-test)."""
    spec = inspect_unit(unit_dir)
    env = grading_env(work, unit_dir.parent, **env_extra)
    released = dlgrade(["release", spec.name], env)
    if released.returncode != 0:
        raise RuntimeError(f"dlgrade release {spec.name} failed:\n{_tail(released)}")
    release = release_notebooks(work, spec.name)

    def submission(**kwargs):
        return {
            name: build_submission(nb, spec.sources[name], **kwargs) for name, nb in release.items()
        }

    warned = (
        {name: with_warning_hook(nb, spec.answers[0]) for name, nb in submission().items()}
        if spec.answers
        else submission()
    )
    if separate_warns:
        students = {"solution": submission(), "blank": submission(solve=False)}
        if spec.answers:
            students["warns"] = warned
    else:
        students = {"solution": warned, "blank": submission(solve=False)}
    mutated = mutant_students(mutants or {})
    combos = combine_mutants(mutated) if combine else {m: [m] for m in mutated}
    for combo, members in combos.items():
        students[combo] = submission(replace={mutated[m][0]: mutated[m][2] for m in members})
    combo_of = {m: combo for combo, members in combos.items() for m in members}
    for student, notebooks in students.items():
        write_submission(work, student, spec.name, notebooks)
    graded = dlgrade(["autograde", spec.name], env)
    return {
        "autograde_status": graded.returncode,
        "autograde_log": _tail(graded),
        "scores": read_scores(work, spec.name, list(students)),
        "mutants": {
            m: [ex, desc, combo_of[m], sorted(mutated[o][0] for o in combos[combo_of[m]])]
            for m, (ex, desc, _) in mutated.items()
        },
    }


def combine_mutants(mutated: dict[str, tuple[str, str, str]]) -> dict[str, list[str]]:
    """``{combined student: [mutant ids]}``: student ``mut_k`` holds the ``k``-th mutant of
    every exercise that has at least ``k`` of them (one wrong answer per exercise)."""
    combos: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for mutant, (exercise, _, _) in mutated.items():
        seen[exercise] = seen.get(exercise, 0) + 1
        combos.setdefault(f"mut_{seen[exercise]}", []).append(mutant)
    return combos


def score_problems(
    spec: UnitSpec,
    result: dict,
    student: str,
    expect: str,
    exercise: str | None = None,
    also_wrong: frozenset[str] | set[str] = frozenset(),
) -> list[str]:
    """How ``student``'s autograded test cells differ from ``expect``: ``"full"``, ``"zero"``,
    or ``"mutant"`` (``exercise`` loses points; every other test cell keeps full points,
    except those of the exercises in ``also_wrong``, which the same submission got wrong)."""
    scores = result["scores"].get(student)
    if scores is None:
        return [f"{student}: not graded; autograde said:\n{result['autograde_log']}"]
    problems = []
    for test_id, points in spec.points.items():
        auto = scores.get(test_id, [None, points])[0]
        own = exercise is not None and test_id in spec.tests.get(exercise, [])
        if any(test_id in spec.tests.get(other, []) for other in also_wrong):
            continue
        if expect == "zero" and auto != 0:
            problems.append(f"{student}: {test_id} scored {auto} of {points}; expected 0")
        if (expect == "full" or (expect == "mutant" and not own)) and auto != points:
            problems.append(
                f"{student}: {test_id} scored {auto} of {points}; expected full "
                "points"
                + (
                    ""
                    if exercise is None
                    else f" (only {exercise!r} was wrong)"
                    if not also_wrong
                    else f" (only {sorted({exercise, *also_wrong})} were wrong)"
                )
            )
    if expect == "mutant":
        own_ids = spec.tests.get(exercise, [])
        got = sum(scores.get(t, [0])[0] or 0 for t in own_ids)
        if got >= sum(spec.points[t] for t in own_ids):
            problems.append(
                f"{student}: the wrong {exercise!r} still gets full points on "
                f"{', '.join(own_ids)}: the tests do not catch it"
            )
    return problems
