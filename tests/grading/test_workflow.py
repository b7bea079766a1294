"""The instructor's workflow of grading/README.md, command by command, on the toy unit."""

from __future__ import annotations

import csv

import nbformat
import pytest
from grading_harness import TOY_SOURCE, build_submission
from grading_runs import dlgrade, grading_env

pytestmark = pytest.mark.slow


def test_release_students_collect_autograde_feedback_export(tmp_path, toy_source_dir):
    env = grading_env(tmp_path, toy_source_dir)

    def ok(*args: str) -> str:
        proc = dlgrade(list(args), env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    ok("release")
    release = nbformat.read(tmp_path / "release" / "toy" / "toy.ipynb", as_version=4)
    roster = tmp_path / "students.csv"
    roster.write_text("id,first_name,last_name,email\nalice,Alice,A,a@example.org\n")
    ok("students", "import", str(roster))
    ok("students", "add", "bob", "--first-name", "Bob")

    inbox = tmp_path / "inbox"
    for student, nb in [
        ("alice", build_submission(release, nbformat.read(TOY_SOURCE, 4))),
        ("bob", release),
    ]:
        (inbox / student / "toy").mkdir(parents=True)
        nbformat.write(nb, inbox / student / "toy" / "toy.ipynb")
    (inbox / "carol" / "toy").mkdir(parents=True)
    (inbox / "carol" / "toy" / "toy.ipynb").write_text("{ this is not a notebook")
    assert "copied 3 submission(s) of toy" in ok("collect", "toy", str(inbox))

    graded = dlgrade(["autograde", "toy"], env)
    assert graded.returncode == 1, "a submission nbgrader could not grade must fail the command"
    assert "NOT GRADED: carol" in graded.stdout
    assert "autograded 2 of 3 submission(s) of toy" in graded.stdout
    assert "alice                      5.00 / 6.00  (needs manual grading)" in graded.stdout

    ok("feedback", "toy")
    assert (tmp_path / "state" / "feedback" / "alice" / "toy" / "toy.html").is_file()
    ok("export", str(tmp_path / "grades.csv"))
    rows = {r["student_id"]: r for r in csv.DictReader((tmp_path / "grades.csv").open())}
    assert (rows["alice"]["score"], rows["alice"]["max_score"]) == ("5.0", "6.0")
    assert rows["alice"]["last_name"] == "A" and rows["bob"]["score"] == "0.0"
