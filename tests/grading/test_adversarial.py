"""The adversarial corpus (adversarial/cases.py), graded in ONE sandboxed class-wide run.

``dlgrade grade 01_perceptron`` grades every case's submission in parallel, each in its own
bubblewrap sandbox, with an 8 s cell timeout; each test then checks one case's recorded status,
its points per test cell and its tamper flags, and the last tests check that no case changed
another student's result, the gradebook's integrity or any file outside its submission.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import sqlite3
from pathlib import Path

import nbformat
import pytest
from adversarial.cases import (
    CASES,
    NOTEBOOK,
    REFERENCE_STUDENT,
    UNIT,
    Context,
    expected_points,
    hidden_lines,
    write_corpus,
)
from grading_harness import REPO
from grading_runs import dlgrade, grading_env, read_scores, release_notebooks

pytestmark = pytest.mark.slow

CELL_TIMEOUT = 8  # seconds; every cell of the unit runs in about 1 s, even on a busy machine
SOLUTION = REPO / "solutions" / UNIT / NOTEBOOK


def _sandbox_problem() -> str | None:
    try:
        from dlgrade.sandbox import require_bwrap

        require_bwrap()
    except Exception as exc:  # no bubblewrap, or it cannot create namespaces here
        return str(exc)
    return None


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts += [str(v) for v in out.get("data", {}).values()]
            parts.append(str(out.get("evalue", "")))
            parts += out.get("traceback", [])
    return "\n".join(parts)


def _gradebook_facts(db: Path) -> dict:
    with sqlite3.connect(db) as con:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        per_student = dict(
            con.execute(
                "SELECT student_id, COUNT(*) FROM submitted_assignment GROUP BY student_id"
            ).fetchall()
        )
        grades = dict(
            con.execute(
                "SELECT sa.student_id, COUNT(g.id) FROM grade g "
                "JOIN submitted_notebook sn ON g.notebook_id = sn.id "
                "JOIN submitted_assignment sa ON sn.assignment_id = sa.id GROUP BY sa.student_id"
            ).fetchall()
        )
        cells = con.execute("SELECT COUNT(*) FROM grade_cells").fetchone()[0]
        tasks = con.execute("SELECT COUNT(*) FROM task_cells").fetchone()[0]
    return {
        "integrity": integrity,
        "submissions": per_student,
        "grades": grades,
        "cells": cells + tasks,
    }


def _produce(folder: Path) -> dict:
    source = folder / "source" / UNIT
    source.mkdir(parents=True)
    shutil.copy(SOLUTION, source / NOTEBOOK)
    env = grading_env(folder, source.parent, DLGRADE_CELL_TIMEOUT=str(CELL_TIMEOUT))
    released = dlgrade(["release", UNIT], env)
    assert released.returncode == 0, released.stdout + released.stderr
    ctx = Context(
        release=release_notebooks(folder, UNIT)[NOTEBOOK],
        source=nbformat.read(source / NOTEBOOK, as_version=4),
        work=folder,
        repo_solution=SOLUTION,
    )
    write_corpus(ctx)
    added = dlgrade(["students", "add", "absent"], env)
    assert added.returncode == 0, added.stdout + added.stderr
    source_before = _digest(source.parent)
    submitted_before = _digest(folder / "state" / "submitted")
    graded = dlgrade(["grade", UNIT, "--workers", "2", "--memory-mb", "2048"], env)
    state = folder / "state"
    status_file = state / "status" / f"{UNIT}.json"
    statuses = json.loads(status_file.read_text())["students"] if status_file.is_file() else {}
    notebooks = {}
    for item in CASES:
        path = state / "autograded" / item.name / UNIT / NOTEBOOK
        if path.is_file():
            nb = nbformat.read(path, as_version=4)
            notebooks[item.name] = {
                "flags": nb.metadata.get("dlgrade", {}).get("flags", []),
                "outputs": _outputs_text(nb),
            }
    feedback = dlgrade(["feedback", UNIT, "--student", REFERENCE_STUDENT], env)
    html_file = state / "feedback" / REFERENCE_STUDENT / UNIT / f"{UNIT}.html"
    return {
        "log": (graded.stdout + graded.stderr)[-6000:],
        "status_code": graded.returncode,
        "statuses": statuses,
        "scores": read_scores(folder, UNIT, [c.name for c in CASES]),
        "notebooks": notebooks,
        "gradebook": _gradebook_facts(state / "gradebook.db"),
        "source_unchanged": _digest(source.parent) == source_before,
        "submitted_unchanged": _digest(state / "submitted") == submitted_before,
        "feedback_log": (feedback.stdout + feedback.stderr)[-3000:],
        "feedback_html": html_file.read_text() if html_file.is_file() else None,
    }


@pytest.fixture(scope="module")
def corpus(shared_run) -> dict:
    problem = _sandbox_problem()
    if problem:
        pytest.skip(f"the corpus runs only sandboxed: {problem}")
    return shared_run("adversarial-corpus", _produce)


def _full(result) -> dict[str, float]:
    return {g: v[1] for g, v in result["scores"]["correct"].items() if v[0] is not None}


def _auto(result, student) -> dict[str, float]:
    return {g: v[0] for g, v in result["scores"].get(student, {}).items() if v[0] is not None}


@pytest.mark.parametrize("item", CASES, ids=[c.name for c in CASES])
def test_case_outcome(corpus, item):
    record = corpus["statuses"].get(item.name)
    assert record is not None, f"{item.name}: no status recorded; dlgrade said:\n{corpus['log']}"
    allowed = item.status if isinstance(item.status, tuple) else (item.status,)
    assert record["status"] in allowed, (
        f"{item.name} ({item.what}): status {record['status']!r}, expected {item.status!r}; "
        f"reason: {record['reason']}"
    )
    flags = corpus["notebooks"].get(item.name, {}).get("flags", [])
    if item.flags is None:
        pass  # an attack on the verdict: the static scan may or may not notice it
    elif item.flags:
        fired = {f["check"] for f in flags}
        assert fired & set(item.flags), (
            f"{item.name}: none of the checks {item.flags} fired; flags: {flags}"
        )
    elif item.status != "flagged":
        assert not flags, f"{item.name} ({item.what}) must not be flagged; flags: {flags}"
    if item.points is None:
        assert item.name not in corpus["scores"] or not _auto(corpus, item.name)
        return
    want = expected_points(item, _full(corpus), _auto(corpus, REFERENCE_STUDENT))
    got = _auto(corpus, item.name)
    for cell, points in want.items():
        ok = got.get(cell, 0.0) <= points if item.at_most else got.get(cell) == points
        assert ok, f"{item.name}: {cell} scored {got.get(cell)}, expected {points}; all: {got}"


@pytest.mark.parametrize(
    "item",
    [c for c in CASES if c.not_in_output or c.files_absent],
    ids=lambda c: c.name,
)
def test_case_reached_nothing(corpus, item):
    outputs = corpus["notebooks"].get(item.name, {}).get("outputs", "")
    for text in item.not_in_output:
        assert text not in outputs, f"{item.name}: its output shows {text!r}"
    state = Path(corpus["folder"]) / "state"
    for rel in item.files_absent:
        assert not (state / rel).exists(), f"{item.name} wrote {state / rel}"


def test_reference_really_loses_points(corpus):
    assert sum(_auto(corpus, REFERENCE_STUDENT).values()) < sum(_full(corpus).values())


def test_no_case_changes_another_result(corpus):
    full = _full(corpus)
    assert _auto(corpus, "correct") == full
    assert corpus["statuses"]["correct"]["status"] == "graded"
    assert corpus["source_unchanged"], "a submission changed the instructor's source folder"
    assert corpus["submitted_unchanged"], "grading changed a submitted file"


def test_gradebook_integrity(corpus):
    facts = corpus["gradebook"]
    assert facts["integrity"] == "ok"
    graded = {c.name for c in CASES if c.points is not None}
    assert {s for s, n in facts["submissions"].items() if n} >= graded
    assert all(n == 1 for n in facts["submissions"].values()), facts["submissions"]
    for student in graded:
        assert facts["grades"].get(student) == facts["cells"], (student, facts)


def test_feedback_of_a_failed_submission_hides_hidden_tests(corpus):
    page = corpus["feedback_html"]
    assert page is not None, corpus["feedback_log"]
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    flat = re.sub(r"\s+", " ", text)
    source = nbformat.read(SOLUTION, as_version=4)
    hidden = hidden_lines(source)
    assert hidden, "the unit has no hidden tests to look for"
    leaked = [line for line in hidden if re.sub(r"\s+", " ", line) in flat]
    assert not leaked, f"the feedback shows hidden test lines: {leaked[:5]}"
    assert "not right yet" in text, "the failed check's teaching message is missing"
    assert "Score" in text
