"""``dlgrade collect`` and the CLI's handling of bad input (fast: nbgrader never runs)."""

from __future__ import annotations

import shutil

import pytest
from dlgrade import cli
from grading_harness import TOY_SOURCE


@pytest.fixture
def toy_env(monkeypatch, toy_source_dir, tmp_path):
    monkeypatch.setenv("DLGRADE_SOURCE_DIR", str(toy_source_dir))
    return tmp_path / "isolated-state"  # set by the autouse fixture in conftest


def _student(src, student, unit="toy", name="toy.ipynb"):
    folder = src / student / unit
    folder.mkdir(parents=True)
    shutil.copy(TOY_SOURCE, folder / name)
    return folder


def test_collect_copies_reports_absent_and_problems(toy_env, tmp_path, capsys):
    src = tmp_path / "inbox"
    _student(src, "alice")
    (_student(src, "bob") / "data.csv").write_text("x\n1\n")
    _student(src, "carol", unit="other_unit")
    _student(src, "dave", name="toy (1).ipynb")
    _student(src, "e+ve")
    (src / "notes.txt").write_text("hi")
    assert cli.main(["collect", "toy", str(src)]) == 1
    out = capsys.readouterr().out
    assert "copied 2 submission(s) of toy" in out and "alice, bob" in out
    assert "no toy folder (no submission) for: carol" in out
    assert "dave/toy: no toy.ipynb (found: toy (1).ipynb; not copied)" in out
    assert "student id 'e+ve' is not usable by nbgrader" in out
    assert "notes.txt is not a student folder" in out
    assert (toy_env / "submitted" / "bob" / "toy" / "data.csv").is_file()
    assert not (toy_env / "submitted" / "dave").exists()


def test_collect_again_replaces_the_old_submission(toy_env, tmp_path):
    src = tmp_path / "inbox"
    _student(src, "alice")
    stale = toy_env / "submitted" / "alice" / "toy" / "old.txt"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    assert cli.main(["collect", "toy", str(src)]) == 0
    assert not stale.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["collect", "toy", "{tmp}/nowhere"], "SRC {tmp}/nowhere is not a folder; expected"),
        (["collect", "toy", "{tmp}"], "SRC {tmp} holds no student folders"),
        (["collect", "nope", "{tmp}"], "UNIT 'nope' not found: expected a folder"),
        (["autograde", "nope"], "UNIT 'nope' not found"),
        (["autograde", "toy"], "UNIT 'toy': no submissions at"),
        (["autograde", "toy", "--student", "zoe"], "--student 'zoe': no submission at"),
        (["feedback", "nope"], "UNIT 'nope' not found"),
        (["release", "nope"], "UNIT 'nope' not found"),
        (["validate", "{tmp}/missing.ipynb"], "NOTEBOOK {tmp}/missing.ipynb: expected an existing"),
        (["students", "import", "{tmp}/s.csv"], "CSV {tmp}/s.csv is not a file"),
        (["export", "{tmp}/no/dir/grades.csv"], "CSV {tmp}/no/dir/grades.csv: folder"),
    ],
)
def test_bad_input_is_a_clear_error(toy_env, tmp_path, capsys, argv, message):
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = [a.format(tmp=empty) for a in argv]
    assert cli.main(argv) == 2
    assert f"dlgrade: error: {message.format(tmp=empty)}" in capsys.readouterr().err


def test_students_import_needs_an_id_column(toy_env, tmp_path, capsys):
    csv = tmp_path / "students.csv"
    csv.write_text("name,email\nAda,ada@example.org\n")
    assert cli.main(["students", "import", str(csv)]) == 2
    assert "expected an 'id' column" in capsys.readouterr().err


def test_release_without_units_is_an_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DLGRADE_SOURCE_DIR", str(tmp_path))
    assert cli.main(["release"]) == 2
    assert "no units to release" in capsys.readouterr().err


def test_autograde_needs_the_unit_released_into_the_gradebook(toy_env, capsys):
    (toy_env / "submitted" / "alice" / "toy").mkdir(parents=True)
    assert cli.main(["autograde", "toy"]) == 2
    assert "UNIT 'toy' is not in the gradebook" in capsys.readouterr().err
