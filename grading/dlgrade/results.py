"""Check what ``nbgrader autograde`` left behind, student by student, and read the scores.

nbgrader keeps going when one submission fails, but aborts on some errors (gradebook, notebook
format) and only logs which students it could not grade.  Judging by files instead: a student
is graded when every notebook they submitted has an autograded copy written during this run.
"""

from __future__ import annotations

from pathlib import Path

from dlgrade.paths import COURSE_ID, Layout


def submitted_students(layout: Layout, unit: str) -> list[str]:
    """Ids of the students with a ``submitted/<id>/<unit>/`` folder."""
    if not layout.submitted.is_dir():
        return []
    return sorted(p.name for p in layout.submitted.iterdir() if (p / unit).is_dir())


def ungraded(layout: Layout, unit: str, students: list[str], since: float) -> dict[str, str]:
    """Students among ``students`` whose submission was not autograded after time ``since``.

    Maps each such student id to the reason.
    """
    expected = {p.name for p in (layout.source / unit).glob("*.ipynb")}
    failures = {}
    for student in students:
        submitted = layout.submitted / student / unit
        notebooks = sorted(p.name for p in submitted.glob("*.ipynb") if p.name in expected)
        if not notebooks:
            failures[student] = f"{submitted} holds none of {', '.join(sorted(expected))}"
            continue
        stale = [
            name
            for name in notebooks
            if not _written_since(layout.autograded / student / unit / name, since)
        ]
        if stale:
            failures[student] = f"no autograded copy of {', '.join(stale)} (see nbgrader's log)"
    return failures


def _written_since(path: Path, since: float) -> bool:
    # 1 s of slack: some filesystems store modification times in whole seconds
    return path.is_file() and path.stat().st_mtime >= since - 1


def in_gradebook(layout: Layout, unit: str) -> bool:
    """Whether ``dlgrade release`` recorded ``unit`` in the gradebook (autograde needs it)."""
    if not layout.database_url and not layout.gradebook.is_file():
        return False
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(layout.db_url, COURSE_ID) as gb:
        try:
            gb.find_assignment(unit)
        except MissingEntry:
            return False
    return True


def _per_submission(layout: Layout, unit: str, students: list[str], read) -> dict:
    """``{student: read(submission)}`` for each of ``students`` with a submission of ``unit``."""
    from nbgrader.api import Gradebook, MissingEntry

    result = {}
    with Gradebook(layout.db_url, COURSE_ID) as gb:
        for student in students:
            try:
                sub = gb.find_submission(unit, student)
            except MissingEntry:
                continue
            result[student] = read(sub)
    return result


def scores(layout: Layout, unit: str, students: list[str]) -> dict[str, tuple[float, float, bool]]:
    """``{student: (score, max_score, needs_manual_grade)}`` from the gradebook."""
    return _per_submission(
        layout, unit, students, lambda sub: (sub.score, sub.max_score, bool(sub.needs_manual_grade))
    )


def grade_scores(layout: Layout, unit: str, students: list[str]) -> dict[str, dict]:
    """``{student: {grade_id: auto_score}}`` from the gradebook: every test cell's score."""
    return _per_submission(
        layout,
        unit,
        students,
        lambda sub: {g.name: g.auto_score for nb in sub.notebooks for g in nb.grades},
    )
