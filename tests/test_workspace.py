"""The student's working copy (dlkit.workspace, `make lab`): answers survive course updates."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlkit import workspace

ROOT = Path(__file__).resolve().parents[1]


def _course(root: Path, units: dict[str, str]) -> Path:
    course = root / "course"
    for unit, text in units.items():
        (course / unit).mkdir(parents=True, exist_ok=True)
        (course / unit / f"{unit}.ipynb").write_text(text)
    return course


def test_sync_copies_every_unit_then_keeps_the_students_edits(tmp_path: Path) -> None:
    course = _course(tmp_path, {"00_welcome": "v1", "01_perceptron": "p1"})
    ws = tmp_path / "workspace"
    report = workspace.sync(course, ws)
    assert report.copied_units == ["00_welcome", "01_perceptron"]
    assert (ws / "00_welcome" / "00_welcome.ipynb").read_text() == "v1"

    (ws / "00_welcome" / "00_welcome.ipynb").write_text("my answers")
    (course / "00_welcome" / "00_welcome.ipynb").write_text("v2")  # the course is updated
    (course / "01_perceptron" / "01_perceptron.ipynb").write_text("p2")
    (course / "00_welcome" / "data.csv").write_text("1,2")  # a new file in a unit
    _course(tmp_path, {"02_mlp": "m1"})  # and a new unit
    report = workspace.sync(course, ws)

    assert (ws / "00_welcome" / "00_welcome.ipynb").read_text() == "my answers"
    assert report.updated_upstream == ["00_welcome/00_welcome.ipynb"]
    assert "reset 00_welcome" in "\n".join(report.lines(ws))
    # a notebook the student never opened follows the course
    assert (ws / "01_perceptron" / "01_perceptron.ipynb").read_text() == "p2"
    assert report.refreshed_files == ["01_perceptron/01_perceptron.ipynb"]
    assert report.added_files == ["00_welcome/data.csv"]
    assert report.copied_units == ["02_mlp"]
    assert workspace.sync(course, ws).updated_upstream == ["00_welcome/00_welcome.ipynb"]


def test_reset_moves_the_students_copy_aside(tmp_path: Path) -> None:
    course = _course(tmp_path, {"00_welcome": "v1"})
    ws = tmp_path / "workspace"
    workspace.sync(course, ws)
    (ws / "00_welcome" / "00_welcome.ipynb").write_text("my answers")
    (course / "00_welcome" / "00_welcome.ipynb").write_text("v2")
    backups = workspace.reset("00_welcome", course, ws)
    assert len(backups) == 1 and backups[0].read_text() == "my answers"
    assert backups[0].name.startswith("00_welcome.before-reset-")
    assert backups[0].suffix == ".ipynb"
    assert (ws / "00_welcome" / "00_welcome.ipynb").read_text() == "v2"
    assert workspace.sync(course, ws).updated_upstream == []


def test_bad_input_names_the_argument(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="course: no folder"):
        workspace.sync(tmp_path / "nowhere", tmp_path / "ws")
    course = _course(tmp_path, {"00_welcome": "v1"})
    with pytest.raises(ValueError, match=r"unit: '07_x' is not a unit .*00_welcome"):
        workspace.reset("07_x", course, tmp_path / "ws")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="workspace: .* is not a folder"):
        workspace.sync(course, tmp_path / "file")
    ws = tmp_path / "ws2"
    ws.mkdir()
    (ws / workspace.RECORD).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        workspace.sync(course, ws)


def test_command_line_reports_and_fails_cleanly(tmp_path: Path) -> None:
    course = _course(tmp_path, {"00_welcome": "v1"})
    run = [sys.executable, "-m", "dlkit.workspace"]
    args = ["--course", str(course), "--workspace", str(tmp_path / "ws")]
    done = subprocess.run([*run, "sync", *args], capture_output=True, text=True, check=True)
    assert "copied into" in done.stdout and "00_welcome" in done.stdout
    bad = subprocess.run([*run, "reset", "nope", *args], capture_output=True, text=True)
    assert bad.returncode == 2 and "unit: 'nope'" in bad.stderr


def _git(cwd: Path, *args: str) -> str:
    env_args = [
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.org",
        "-c",
        "init.defaultBranch=main",
    ]
    done = subprocess.run(
        ["git", *env_args, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_pull_after_a_student_edit_is_clean(tmp_path: Path) -> None:
    """The course's real .gitignore keeps workspace/ out of git: pulling an update of a
    notebook the student is working on neither conflicts nor touches their answers."""
    upstream = tmp_path / "upstream"
    course = _course(upstream, {"00_welcome": json.dumps({"v": 1})})
    shutil.copy(ROOT / ".gitignore", upstream / ".gitignore")
    _git(upstream, "init", "-q")
    _git(upstream, "add", ".")
    _git(upstream, "commit", "-qm", "course v1")

    student = tmp_path / "student"
    _git(tmp_path, "clone", "-q", str(upstream), str(student))
    workspace.sync(student / "course", student / "workspace")
    mine = student / "workspace" / "00_welcome" / "00_welcome.ipynb"
    mine.write_text(json.dumps({"v": 1, "answers": "mine"}))
    assert _git(student, "status", "--porcelain") == "", "the workspace shows up in git"

    (course / "00_welcome" / "00_welcome.ipynb").write_text(json.dumps({"v": 2}))
    _git(upstream, "commit", "-qam", "course v2")
    _git(student, "pull", "-q", "--ff-only")
    assert json.loads((student / "course" / "00_welcome" / "00_welcome.ipynb").read_text()) == {
        "v": 2
    }
    assert json.loads(mine.read_text()) == {"v": 1, "answers": "mine"}
    assert _git(student, "status", "--porcelain") == ""
    report = workspace.sync(student / "course", student / "workspace")
    assert report.updated_upstream == ["00_welcome/00_welcome.ipynb"]


def test_make_lab_serves_the_workspace_with_the_student_config() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "python -m dlkit.workspace sync" in makefile
    assert "jupyter/student" in makefile and "--ServerApp.root_dir=$(WORKSPACE)" in makefile
    assert "workspace/" in (ROOT / ".gitignore").read_text().splitlines()
    disabled = json.loads((ROOT / "jupyter/student/labconfig/page_config.json").read_text())
    assert "@jupyter/nbgrader:validate-assignment" not in disabled["disabledExtensions"]
    assert disabled["disabledExtensions"]["@jupyter/nbgrader:formgrader"] is True
