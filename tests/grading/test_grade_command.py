"""``dlgrade grade``: a whole class of the toy unit graded ONE time, sandboxed and in parallel.

The class (:func:`_produce`) holds a student of each kind the command must account for --
correct, blank, renamed notebook, malformed JSON, nbformat 3, ``os._exit``, an infinite loop,
a loop that swallows ``KeyboardInterrupt``, a memory bomb, noisy-but-correct code, a roster
student with no folder and a folder with no notebook -- graded by 3 parallel workers into one
SQLite gradebook.  Then one student is regraded alone without the sandbox.  The tests read
the command's output, the gradebook, the status records, the export and the autograded files.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import nbformat
import pytest
from dlgrade.sandbox import bwrap_path
from grading_harness import TOY_SOURCE, build_submission
from grading_runs import dlgrade, grading_env, read_scores, release_notebooks, write_submission

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap (bwrap) is not installed"),
]

CELL_TIMEOUT = 3  # seconds; every toy cell takes well under 1 s
FULL = {"test_relu": 2.0, "test_mse": 2.0, "test_mse__symmetric": 1.0}
RELU_ONLY = {"test_relu": 2.0, "test_mse": 0.0, "test_mse__symmetric": 0.0}
MSE_EXITS = "import os\nos._exit(3)"
MSE_LOOPS = "while True:\n    pass"
MSE_STUBBORN = (
    "import time\n"
    "while True:\n"
    "    try:\n"
    "        time.sleep(0.05)\n"
    "    except KeyboardInterrupt:\n"
    "        pass"
)
RELU_BOMB = "def relu(x):\n    return np.maximum(x, 0)\nhog = np.ones((2**17, 2**17))  # 128 GiB"
RELU_WARNS = (
    "import sys, warnings\n"
    "def relu(x):\n"
    "    warnings.warn('relu: correct, but chatty', RuntimeWarning)\n"
    "    print('relu: a note on stderr', file=sys.stderr)\n"
    "    return np.maximum(x, 0)"
)
EXPECTED_STATUS = {
    "solution": "graded",
    "blank": "graded",
    "renamed": "graded",
    "malformed": "invalid",
    "v3": "graded",
    "exits": "crashed",
    "loops": "timed_out",
    "stubborn": "timed_out",
    "membomb": "graded",
    "warns": "graded",
    "ghost": "missing",
    "empty": "missing",
}


def _produce(folder: Path) -> dict:
    unit = folder / "source" / "toy"
    unit.mkdir(parents=True)
    nbformat.write(nbformat.read(TOY_SOURCE, as_version=4), unit / "toy.ipynb")
    env = grading_env(folder, unit.parent, DLGRADE_CELL_TIMEOUT=str(CELL_TIMEOUT))
    for args in (["release", "toy"], ["students", "add", "ghost"]):
        proc = dlgrade(args, env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    release, src = release_notebooks(folder, "toy")["toy.ipynb"], nbformat.read(TOY_SOURCE, 4)
    solved = build_submission(release, src)
    notebooks = {
        "solution": {"toy.ipynb": solved},
        "blank": {"toy.ipynb": release},
        "renamed": {"toy (1).ipynb": solved},
        "exits": {"toy.ipynb": build_submission(release, src, replace={"mse": MSE_EXITS})},
        "loops": {"toy.ipynb": build_submission(release, src, replace={"mse": MSE_LOOPS})},
        "stubborn": {"toy.ipynb": build_submission(release, src, replace={"mse": MSE_STUBBORN})},
        "membomb": {"toy.ipynb": build_submission(release, src, replace={"relu": RELU_BOMB})},
        "warns": {"toy.ipynb": build_submission(release, src, replace={"relu": RELU_WARNS})},
    }
    for student, nbs in notebooks.items():
        write_submission(folder, student, "toy", nbs)
    submitted = folder / "state" / "submitted"
    (submitted / "malformed" / "toy").mkdir(parents=True)
    (submitted / "malformed" / "toy" / "toy.ipynb").write_text('{"cells": [', encoding="utf-8")
    (submitted / "v3" / "toy").mkdir(parents=True)
    v3 = nbformat.writes(nbformat.convert(solved, 3), version=3)
    (submitted / "v3" / "toy" / "toy.ipynb").write_text(v3, encoding="utf-8")
    (submitted / "empty" / "toy").mkdir(parents=True)
    (submitted / "empty" / "toy" / "notes.txt").write_text("I will hand it in tomorrow")

    graded = dlgrade(["grade", "toy", "--workers", "3", "--memory-mb", "1536"], env)
    regraded = dlgrade(["grade", "toy", "--student", "blank", "--no-sandbox"], env)
    exported = dlgrade(["export", str(folder / "grades.csv")], env)
    db = folder / "state" / "gradebook.db"
    with sqlite3.connect(db) as con:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        submissions = con.execute("SELECT COUNT(*) FROM submitted_assignment").fetchone()[0]
    return {
        "status": graded.returncode,
        "log": graded.stdout + graded.stderr[-4000:],
        "regrade_status": regraded.returncode,
        "regrade_log": regraded.stdout + regraded.stderr[-3000:],
        "export_status": exported.returncode,
        "export_log": exported.stdout + exported.stderr[-2000:],
        "scores": read_scores(folder, "toy", list(EXPECTED_STATUS)),
        "integrity": integrity,
        "submissions": submissions,
    }


@pytest.fixture
def class_run(shared_run) -> dict:
    return shared_run("grade-command-toy", _produce)


def _auto(run: dict, student: str) -> dict[str, float]:
    assert student in run["scores"], f"{student} is not in the gradebook:\n{run['log']}"
    return {gid: score for gid, (score, _) in run["scores"][student].items() if gid in FULL}


def _records(run: dict) -> dict[str, dict]:
    path = Path(run["folder"]) / "state" / "status" / "toy.json"
    return json.loads(path.read_text())["students"]


def _outputs(run: dict, student: str, grade_id: str) -> list:
    path = Path(run["folder"]) / "state" / "autograded" / student / "toy" / "toy.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return cell.outputs


def test_every_student_gets_the_expected_status(class_run):
    statuses = {sid: rec["status"] for sid, rec in _records(class_run).items()}
    assert statuses == EXPECTED_STATUS, class_run["log"]
    for student, status in EXPECTED_STATUS.items():
        assert f"\n{student:24} {status:9}" in "\n" + class_run["log"]


def test_exit_status_says_some_submissions_need_attention(class_run):
    assert class_run["status"] == 1, class_run["log"]
    assert "with 3 worker(s), sandboxed" in class_run["log"]
    summary = [line for line in class_run["log"].splitlines() if line.startswith("graded toy")]
    assert len(summary) == 1 and "for 12 student(s)" in summary[0], class_run["log"]
    assert summary[0].endswith("1 crashed, 6 graded, 1 invalid, 2 missing, 2 timed_out")


def test_correct_and_blank_submissions_score_full_and_zero(class_run):
    assert _auto(class_run, "solution") == FULL
    assert _auto(class_run, "blank") == dict.fromkeys(FULL, 0.0)
    assert _auto(class_run, "warns") == FULL


def test_renamed_and_old_format_notebooks_are_graded_with_a_note(class_run):
    records = _records(class_run)
    assert _auto(class_run, "renamed") == FULL
    assert "graded 'toy (1).ipynb' as 'toy.ipynb'" in " ".join(records["renamed"]["notes"])
    assert _auto(class_run, "v3") == FULL
    assert "converted from nbformat 3 to 4" in " ".join(records["v3"]["notes"])


def test_malformed_notebook_is_invalid_with_the_parse_error(class_run):
    record = _records(class_run)["malformed"]
    assert "not valid notebook JSON" in record["reason"]
    assert "nothing was run" in record["reason"]


def test_dead_kernel_keeps_the_results_of_the_cells_that_ran(class_run):
    assert _auto(class_run, "exits") == RELU_ONLY
    record = _records(class_run)["exits"]
    assert "the kernel died while running cell 'mse'" in record["reason"]
    not_run = _outputs(class_run, "exits", "test_mse__symmetric")
    assert [o["ename"] for o in not_run] == ["CellNotRun"]


def test_infinite_loop_times_out_and_grading_goes_on(class_run):
    assert _auto(class_run, "loops") == RELU_ONLY
    assert f"cell 'mse' ran longer than {CELL_TIMEOUT} s" in _records(class_run)["loops"]["reason"]


def test_loop_that_swallows_the_interrupt_is_killed(class_run):
    assert _auto(class_run, "stubborn") == RELU_ONLY
    reason = _records(class_run)["stubborn"]["reason"]
    assert "did not stop when interrupted" in reason and "killed" in reason
    assert [o["ename"] for o in _outputs(class_run, "stubborn", "test_mse")] == ["CellNotRun"]


def test_memory_bomb_fails_its_own_cell_only(class_run):
    assert _auto(class_run, "membomb") == FULL  # relu was defined before the bomb went off
    path = Path(class_run["folder"]) / "state" / "autograded" / "membomb" / "toy" / "toy.ipynb"
    nb = nbformat.read(path, as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "relu")
    assert "MemoryError" in [o.get("ename") for o in answer.outputs]


def test_missing_students_are_reported_not_dropped(class_run):
    records = _records(class_run)
    assert "no submission" in records["ghost"]["reason"]
    assert "holds no toy.ipynb (notes.txt)" in records["empty"]["reason"]


def test_gradebook_is_intact_and_holds_every_graded_submission(class_run):
    assert class_run["integrity"] == "ok"
    ran = [s for s, status in EXPECTED_STATUS.items() if status not in ("missing", "invalid")]
    assert class_run["submissions"] == len(ran)
    assert sorted(class_run["scores"]) == sorted(ran)


def test_regrading_one_student_keeps_everyone_elses_record(class_run):
    assert class_run["regrade_status"] == 0, class_run["regrade_log"]
    assert "NOT sandboxed (--no-sandbox)" in class_run["regrade_log"]
    assert "graded toy for 1 student(s)" in class_run["regrade_log"]
    assert sorted(_records(class_run)) == sorted(EXPECTED_STATUS)


def test_export_has_a_status_and_reason_for_every_student(class_run):
    assert class_run["export_status"] == 0, class_run["export_log"]
    with (Path(class_run["folder"]) / "grades.csv").open(newline="") as fh:
        rows = {row["student_id"]: row for row in csv.DictReader(fh)}
    assert {sid: row["status"] for sid, row in rows.items()} == EXPECTED_STATUS
    assert rows["solution"]["score"] == "5.0" and rows["exits"]["score"] == "2.0"
    assert "not valid notebook JSON" in rows["malformed"]["reason"]
    assert rows["ghost"]["score"] == "0.0" and rows["ghost"]["reason"]


def test_autograded_notebooks_and_logs_land_in_the_course_state(class_run):
    state = Path(class_run["folder"]) / "state"
    for student in ("solution", "exits", "renamed"):
        assert (state / "autograded" / student / "toy" / "toy.ipynb").is_file()
        assert (state / "logs" / "toy" / f"{student}.log").is_file()
    leftovers = [p.name for p in (state / ".scratch").iterdir()]
    assert leftovers == ["toy.lock"], "the scratch folder must be cleaned up (the lock stays)"


def test_a_server_gradebook_gets_a_local_copy_of_the_unit_for_the_workers(tmp_path, toy_source_dir):
    # Any DLGRADE_DB_URL takes the server-database path; a SQLite URL stands in for PostgreSQL
    # (there is none here), so the copy can be compared with the course gradebook.
    from dlgrade.grade import _template_gradebook
    from dlgrade.paths import COURSE_ID, Layout
    from nbgrader.api import Gradebook

    env = grading_env(tmp_path, toy_source_dir)
    assert dlgrade(["release", "toy"], env).returncode == 0
    course_url = f"sqlite:///{tmp_path / 'state' / 'gradebook.db'}"
    layout = Layout.from_env({**env, "DLGRADE_DB_URL": course_url})
    assert layout.db_url == course_url
    (tmp_path / "scratch").mkdir()
    template = _template_gradebook(layout, "toy", tmp_path / "scratch")

    def cells(url: str) -> dict[str, str]:
        with Gradebook(url, COURSE_ID) as gb:
            nb = gb.find_notebook("toy", "toy")
            return {cell.name: cell.checksum for cell in nb.source_cells}

    assert cells(f"sqlite:///{template}") == cells(course_url)
    assert len(cells(course_url)) >= 6
