"""The grading workflow against a PostgreSQL gradebook, and the same against SQLite.

docs/SCALING.md puts a large class's gradebook in PostgreSQL (``DLGRADE_DB_URL``).  Each
test here reads one scenario, run once per database (the ``backend`` parameter) on the cheap
toy unit and a copy of it under another name, ``toy2``, in ONE gradebook:

1. ``dlgrade release`` of both units;
2. ``dlgrade grade toy2`` killed with SIGKILL half-way through recording: right after the
   first score of its second submission reached the database (an SQLAlchemy ``after_flush``
   hook in the graded process waits there to be killed), then the database is inspected;
3. ``dlgrade grade toy`` (a correct, a wrong and a blank student) and the rerun of
   ``dlgrade grade toy2``, two processes at the same time;
4. ``dlgrade export`` and ``dlgrade feedback toy``.

The PostgreSQL server is a throwaway one (tests/grading/pg_server.py) started for the test
session; without PostgreSQL installed those tests skip and say what to install.  The grading
runs with ``--no-sandbox``: the notebooks are the toy's own, and the sandbox has its tests
(test_sandbox.py, test_grade_command.py); this module is about the database.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from adversarial.cases import hidden_lines
from grading_harness import TOY_SOURCE, build_submission
from grading_runs import dlgrade, grading_env, release_notebooks, write_submission
from pg_server import INSTALL_HINT, PostgresServer, find_bin_dir

pytestmark = pytest.mark.slow

BACKENDS = ["sqlite", "postgresql"]
UNITS = ["toy", "toy2"]
STUDENTS = ["alice", "bob", "carol"]
CELL_TIMEOUT = 10  # seconds; every toy cell takes well under 1 s
FULL = {"test_relu": 2.0, "test_mse": 2.0, "test_mse__symmetric": 1.0}
ZERO = dict.fromkeys(FULL, 0.0)
RELU_WRONG = "def relu(x):\n    return np.abs(x)"
MSE_WRONG = "def mse(y_hat, y):\n    return float(np.mean(np.abs(y_hat - y)))"
# what each student hands in ("solution", "blank" or {answer cell: wrong code}), and scores
ANSWERS = {
    "toy": {"alice": "solution", "bob": {"relu": RELU_WRONG}, "carol": "blank"},
    "toy2": {"alice": "blank", "bob": "solution", "carol": {"mse": MSE_WRONG}},
}
EXPECTED = {
    "toy": {"alice": FULL, "bob": {**FULL, "test_relu": 0.0}, "carol": ZERO},
    "toy2": {
        "alice": ZERO,
        "bob": FULL,
        "carol": {**FULL, "test_mse": 0.0},
    },  # |error| is symmetric too
}
KILLED_UNIT, KILLED_AT = "toy2", "bob"  # the second submission the killed run records

# Run as `python -c KILLED_GRADE grade ...`: the real CLI, in which the first flush of a
# score of student KILLED_AT writes a marker file and waits to be SIGKILLed.
KILLED_GRADE = """
import os, sys, time
from pathlib import Path
from sqlalchemy import event
from sqlalchemy.orm import Session
from nbgrader.api import Grade
import dlgrade.grade
from dlgrade.cli import main

marker, victim = Path(os.environ["PG_TEST_MARKER"]), os.environ["PG_TEST_VICTIM"]
copying = []
real_copy = dlgrade.grade._copy_submission

def copy(*args):
    copying.append(args[-1])  # the student whose results are being recorded
    return real_copy(*args)

@event.listens_for(Session, "after_flush")
def wait_to_be_killed(session, context):
    scored = [o for o in session.dirty | session.new
              if isinstance(o, Grade) and o.auto_score is not None]
    if copying and copying[-1] == victim and scored:
        marker.write_text(victim)
        time.sleep(3600)

dlgrade.grade._copy_submission = copy
sys.exit(main(sys.argv[1:]))
"""


# --- the throwaway PostgreSQL server ----------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for this test session, stopped at its end (even on failure)."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL is not installed: no initdb and pg_ctl in /usr/lib/postgresql/*/bin "
            f"or on PATH; install it with '{INSTALL_HINT}' (.ci/run does)"
        )
    pytest.importorskip("psycopg", reason='the PostgreSQL driver: pip install "psycopg[binary]"')
    server = PostgresServer(bin_dir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    """SQLAlchemy URL of an empty database on the session's PostgreSQL server."""
    return postgres_server.create_database()


# --- the scenario -----------------------------------------------------------------------------


def _db_url(work: Path, url: str) -> str:
    return url or f"sqlite:///{work / 'state' / 'gradebook.db'}"


def _snapshot(url: str) -> dict:
    """What the gradebook holds: the units, every submission's grades, integrity problems."""
    import sqlalchemy as sa

    queries = {
        # a submitted unit lacking one of its notebooks
        "submission_without_notebook": """
            SELECT sa.student_id, n.name FROM submitted_assignment sa
            JOIN notebook n ON n.assignment_id = sa.assignment_id
            LEFT JOIN submitted_notebook sn
                ON sn.assignment_id = sa.id AND sn.notebook_id = n.id
            WHERE sn.id IS NULL""",
        # a submitted notebook lacking the grade row of one of its grade cells
        "notebook_without_grade": """
            SELECT sn.id, bc.name FROM submitted_notebook sn
            JOIN base_cell bc ON bc.notebook_id = sn.notebook_id
            JOIN grade_cells gc ON gc.id = bc.id
            LEFT JOIN grade g ON g.notebook_id = sn.id AND g.cell_id = gc.id
            WHERE g.id IS NULL""",
        # an autograded test cell (a code grade cell that is no answer cell) left unscored
        "test_without_score": """
            SELECT sa.student_id, bc.name FROM grade g
            JOIN grade_cells gc ON gc.id = g.cell_id
            JOIN base_cell bc ON bc.id = gc.id
            JOIN submitted_notebook sn ON sn.id = g.notebook_id
            JOIN submitted_assignment sa ON sa.id = sn.assignment_id
            WHERE gc.cell_type = 'code' AND g.auto_score IS NULL AND NOT EXISTS (
                SELECT 1 FROM base_cell s JOIN solution_cells sc ON sc.id = s.id
                WHERE s.notebook_id = bc.notebook_id AND s.name = bc.name)""",
        # more than one submission of a unit by one student
        "duplicate_submission": """
            SELECT assignment_id, student_id FROM submitted_assignment
            GROUP BY assignment_id, student_id HAVING COUNT(*) > 1""",
    }
    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            problems = {k: [list(r) for r in con.execute(sa.text(q))] for k, q in queries.items()}
            if url.startswith("sqlite"):
                check = con.execute(sa.text("PRAGMA integrity_check")).scalar()
                problems["sqlite_integrity_check"] = [] if check == "ok" else [check]
            units = dict(
                con.execute(
                    sa.text(
                        "SELECT a.name, COUNT(gc.id) FROM assignment a "
                        "JOIN notebook n ON n.assignment_id = a.id "
                        "JOIN base_cell bc ON bc.notebook_id = n.id "
                        "LEFT JOIN grade_cells gc ON gc.id = bc.id GROUP BY a.name"
                    )
                ).all()
            )
            submissions: dict[str, dict[str, dict]] = {}
            rows = con.execute(
                sa.text(
                    "SELECT a.name, sa.student_id, sa.id, bc.name, g.auto_score "
                    "FROM submitted_assignment sa "
                    "JOIN assignment a ON a.id = sa.assignment_id "
                    "LEFT JOIN submitted_notebook sn ON sn.assignment_id = sa.id "
                    "LEFT JOIN grade g ON g.notebook_id = sn.id "
                    "LEFT JOIN base_cell bc ON bc.id = g.cell_id"
                )
            )
            for unit, student, sub_id, cell, score in rows:
                entry = submissions.setdefault(unit, {}).setdefault(
                    student, {"ids": [], "grades": {}}
                )
                if sub_id not in entry["ids"]:
                    entry["ids"].append(sub_id)
                if cell is not None:
                    entry["grades"][cell] = score
    finally:
        engine.dispose()
    return {"units": units, "submissions": submissions, "problems": problems}


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _start(args: list[str], env: dict, log: Path, code: str | None = None) -> subprocess.Popen:
    """Start ``dlgrade args`` (or ``python -c code args``) in a process group of its own."""
    head = ["-c", code] if code is not None else ["-m", "dlgrade.cli"]
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, *head, *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _end_group(proc: subprocess.Popen) -> None:
    """Kill what is left of ``proc``'s process group (a fork server, a kernel)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _killed_run(folder: Path, env: dict) -> dict:
    """``dlgrade grade toy2``, SIGKILLed in the middle of recording (see KILLED_GRADE)."""
    marker = folder / "killed-at.txt"
    log = folder / "killed.log"
    env = {**env, "PG_TEST_MARKER": str(marker), "PG_TEST_VICTIM": KILLED_AT}
    args = ["grade", KILLED_UNIT, "--workers", "2", "--no-sandbox"]
    proc = _start(args, env, log, code=KILLED_GRADE)
    try:
        deadline = time.monotonic() + 600  # a generous bound on a busy machine
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        reached = marker.exists()
        exit_before = proc.poll()
        proc.send_signal(signal.SIGKILL)
        status = proc.wait()
    finally:
        _end_group(proc)
    return {
        "reached": reached,
        "exit_before_kill": exit_before,
        "status": status,
        "log": _tail(log.read_text(errors="replace")),
    }


def _concurrent_runs(folder: Path, env: dict) -> dict:
    """``dlgrade grade toy`` and ``dlgrade grade toy2`` as two processes at the same time."""
    procs, logs = {}, {}
    try:
        for unit in UNITS:
            logs[unit] = folder / f"grade-{unit}.log"
            procs[unit] = _start(["grade", unit, "--workers", "2", "--no-sandbox"], env, logs[unit])
        overlapped = procs[UNITS[0]].poll() is None  # still running when the second started
        status = {unit: proc.wait(timeout=600) for unit, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            _end_group(proc)
    return {
        "overlapped": overlapped,
        "status": status,
        "log": {unit: _tail(path.read_text(errors="replace")) for unit, path in logs.items()},
    }


def _produce(folder: Path, url: str) -> dict:
    source = folder / "source"
    for unit in UNITS:
        (source / unit).mkdir(parents=True)
        shutil.copy(TOY_SOURCE, source / unit / f"{unit}.ipynb")
    extra = {"DLGRADE_CELL_TIMEOUT": str(CELL_TIMEOUT), "OMP_NUM_THREADS": "1"}
    if url:
        extra["DLGRADE_DB_URL"] = url
    env = grading_env(folder, source, **extra)
    if not url:  # the SQLite file of the state folder, whatever the caller's environment says
        env.pop("DLGRADE_DB_URL", None)
    released = dlgrade(["release"], env)
    out = {"release": [released.returncode, _tail(released.stdout + released.stderr)]}
    if released.returncode != 0:
        return out
    src = nbformat.read(TOY_SOURCE, as_version=4)
    for unit in UNITS:
        release = release_notebooks(folder, unit)[f"{unit}.ipynb"]
        for student, answer in ANSWERS[unit].items():
            if answer == "blank":
                nb = release
            else:
                nb = build_submission(
                    release, src, replace=None if answer == "solution" else answer
                )
            write_submission(folder, student, unit, {f"{unit}.ipynb": nb})
    db = _db_url(folder, url)
    out["after_release"] = _snapshot(db)
    out["killed"] = _killed_run(folder, env)
    out["after_kill"] = _snapshot(db)
    out["concurrent"] = _concurrent_runs(folder, env)
    out["final"] = _snapshot(db)
    exported = dlgrade(["export", str(folder / "grades.csv")], env)
    out["export"] = [exported.returncode, _tail(exported.stdout + exported.stderr)]
    feedback = dlgrade(["feedback", "toy"], env)
    out["feedback"] = [feedback.returncode, _tail(feedback.stdout + feedback.stderr)]
    return out


@pytest.fixture(params=BACKENDS)
def run(request, shared_run) -> dict:
    """The scenario's results on the ``backend`` (SQLite file or PostgreSQL server)."""

    def produce(folder: Path) -> dict:  # the server is started only when it is needed
        pg = request.param == "postgresql"
        return _produce(folder, request.getfixturevalue("postgres_url") if pg else "")

    result = shared_run(f"gradebook-scenario-{request.param}", produce)
    assert result["release"][0] == 0, result["release"][1]
    return result


def _grades(snapshot: dict, unit: str) -> dict[str, dict[str, float]]:
    return {
        student: {cell: score for cell, score in sub["grades"].items() if cell in FULL}
        for student, sub in snapshot["submissions"].get(unit, {}).items()
    }


def _no_problems(snapshot: dict) -> None:
    problems = {k: v for k, v in snapshot["problems"].items() if v}
    assert not problems, f"partial or inconsistent records: {problems}"


# --- the tests ------------------------------------------------------------------------------


def test_release_records_both_units(run):
    snap = run["after_release"]
    # toy has 4 grade cells: 3 test cells and 1 manually graded answer
    assert snap["units"] == {"toy": 4, "toy2": 4}, snap
    assert snap["submissions"] == {}
    folder = Path(run["folder"])
    for unit in UNITS:
        assert (folder / "release" / unit / f"{unit}.ipynb").is_file()


def test_a_class_is_graded_into_the_gradebook(run):
    conc = run["concurrent"]
    assert conc["status"]["toy"] == 0, conc["log"]["toy"]
    assert _grades(run["final"], "toy") == EXPECTED["toy"], conc["log"]["toy"]
    log = conc["log"]["toy"]
    for line in (
        "alice                    graded      5.00 / 6.00",
        "bob                      graded      3.00 / 6.00",
        "carol                    graded      0.00 / 6.00",
    ):
        assert line in log, log
    statuses = json.loads((Path(run["folder"]) / "state" / "status" / "toy.json").read_text())
    assert {s: r["status"] for s, r in statuses["students"].items()} == dict.fromkeys(
        STUDENTS, "graded"
    )


def test_export_has_every_units_points(run):
    assert run["export"][0] == 0, run["export"][1]
    with (Path(run["folder"]) / "grades.csv").open(newline="") as f:
        rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)}
    assert set(rows) == {(unit, s) for unit in UNITS for s in STUDENTS}, rows
    for unit in UNITS:
        for student, cells in EXPECTED[unit].items():
            row = rows[(unit, student)]
            assert float(row["score"]) == sum(cells.values()), (unit, student, row)
            assert (row["max_score"], row["status"]) == ("6.0", "graded"), row


def test_feedback_is_written_without_hidden_tests(run):
    assert run["feedback"][0] == 0, run["feedback"][1]
    hidden = hidden_lines(nbformat.read(TOY_SOURCE, as_version=4))
    assert hidden, "the toy unit has no hidden tests to look for"
    for student in STUDENTS:
        page = Path(run["folder"]) / "state" / "feedback" / student / "toy" / "toy.html"
        assert page.is_file(), run["feedback"][1]
        text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())))
        leaked = [line for line in hidden if re.sub(r"\s+", " ", line) in text]
        assert not leaked, f"{student}'s feedback shows hidden test lines: {leaked}"
        assert "Score" in text


def test_two_units_graded_at_the_same_time_into_one_database(run):
    conc = run["concurrent"]
    assert conc["overlapped"], "the two grading processes did not run at the same time"
    assert conc["status"] == {"toy": 0, "toy2": 0}, conc["log"]
    final = run["final"]
    _no_problems(final)
    for unit in UNITS:
        assert _grades(final, unit) == EXPECTED[unit], (unit, conc["log"][unit])
        ids = {s: sub["ids"] for s, sub in final["submissions"][unit].items()}
        assert all(len(i) == 1 for i in ids.values()), ids


def test_a_run_killed_half_way_leaves_no_partial_record(run):
    killed = run["killed"]
    assert killed["reached"], (
        f"the run ended (status {killed['exit_before_kill']}) before recording "
        f"{KILLED_AT}'s scores:\n{killed['log']}"
    )
    assert killed["status"] == -signal.SIGKILL
    snap = run["after_kill"]
    _no_problems(snap)
    # alice's submission was committed before the kill; bob's was being written: absent
    assert _grades(snap, KILLED_UNIT) == {"alice": EXPECTED[KILLED_UNIT]["alice"]}, snap
    assert set(snap["submissions"]) == {KILLED_UNIT}


def test_the_rerun_after_the_kill_grades_everyone_once(run):
    conc = run["concurrent"]
    assert conc["status"][KILLED_UNIT] == 0, conc["log"][KILLED_UNIT]
    final = run["final"]
    _no_problems(final)
    assert _grades(final, KILLED_UNIT) == EXPECTED[KILLED_UNIT]
    alice_before = run["after_kill"]["submissions"][KILLED_UNIT]["alice"]["ids"]
    subs = final["submissions"][KILLED_UNIT]
    assert subs["alice"]["ids"] == alice_before, "the recorded submission was replaced"
    assert all(len(sub["ids"]) == 1 for sub in subs.values()), subs
    path = Path(run["folder"]) / "state" / "status" / f"{KILLED_UNIT}.json"
    statuses = json.loads(path.read_text())["students"]
    assert {s: r["status"] for s, r in statuses.items()} == dict.fromkeys(STUDENTS, "graded")
