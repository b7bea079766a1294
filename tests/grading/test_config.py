"""grading/nbgrader_config.py and dlgrade.paths, loaded in-process (fast)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dlgrade.execute import GuardedExecute
from dlgrade.nbgrader_run import config_problem, nbgrader_env
from dlgrade.paths import COURSE_ID, REPO_ROOT, Layout, LayoutError
from dlgrade.preprocessors import ReinsertMissingCells, StderrToStdout, StripWidgetState
from nbgrader.preprocessors import ClearOutput, Execute, OverwriteCells
from traitlets.config.loader import PyFileConfigLoader

CONFIG = REPO_ROOT / "grading" / "nbgrader_config.py"


def load_config(monkeypatch, **env):
    for name in [
        "DLGRADE_SOURCE_DIR",
        "DLGRADE_RELEASE_DIR",
        "DLGRADE_STATE_DIR",
        "DLGRADE_CELL_TIMEOUT",
        "DLGRADE_DB_URL",
        "DLGRADE_SANDBOX",
    ]:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()


def test_default_layout_is_the_repository(monkeypatch):
    c = load_config(monkeypatch)
    assert c.CourseDirectory.root == str(REPO_ROOT)
    assert c.CourseDirectory.course_id == COURSE_ID
    assert (c.CourseDirectory.source_directory, c.CourseDirectory.release_directory) == (
        "solutions",
        "course",
    )
    assert c.CourseDirectory.submitted_directory == "grading/submitted"
    assert c.CourseDirectory.autograded_directory == "grading/autograded"
    assert c.CourseDirectory.feedback_directory == "grading/feedback"
    assert c.CourseDirectory.db_url == f"sqlite:///{REPO_ROOT / 'grading' / 'gradebook.db'}"


def test_environment_moves_state_and_release(monkeypatch, tmp_path):
    c = load_config(
        monkeypatch, DLGRADE_STATE_DIR=str(tmp_path / "s"), DLGRADE_RELEASE_DIR=str(tmp_path / "r")
    )
    assert c.CourseDirectory.submitted_directory == str(tmp_path / "s" / "submitted")
    assert c.CourseDirectory.release_directory == str(tmp_path / "r")
    assert c.CourseDirectory.db_url == f"sqlite:///{tmp_path / 's' / 'gradebook.db'}"


def test_timeout_default_override_and_bad_value(monkeypatch):
    c = load_config(monkeypatch)
    assert (c.Execute.timeout, c.Execute.interrupt_on_timeout) == (300, True)
    assert load_config(monkeypatch, DLGRADE_CELL_TIMEOUT="5").Execute.timeout == 5
    with pytest.raises(ValueError, match="DLGRADE_CELL_TIMEOUT='soon': expected a positive"):
        load_config(monkeypatch, DLGRADE_CELL_TIMEOUT="soon")


def test_preprocessors_are_inserted_where_they_belong(monkeypatch):
    c = load_config(monkeypatch)
    autograde = c.Autograde.autograde_preprocessors
    run = next(i for i, p in enumerate(autograde) if issubclass(p, Execute))
    assert autograde[run] is GuardedExecute and Execute not in autograde
    assert StderrToStdout in autograde[run + 1 :]
    sanitize = c.Autograde.sanitize_preprocessors
    assert sanitize[sanitize.index(ClearOutput) + 1] is StripWidgetState
    assert ReinsertMissingCells in sanitize and OverwriteCells not in sanitize
    assert c.OverwriteCells.add_missing_cells is True
    release = c.GenerateAssignment.preprocessors
    assert release[release.index(ClearOutput) + 1] is StripWidgetState


def test_sandbox_and_server_gradebook_come_from_the_environment(monkeypatch):
    c = load_config(monkeypatch)
    assert c.GuardedExecute.sandbox is False
    url = "postgresql+psycopg://nbgrader@db.example.org/dl_course"
    c = load_config(monkeypatch, DLGRADE_SANDBOX="1", DLGRADE_DB_URL=url)
    assert c.GuardedExecute.sandbox is True and c.CourseDirectory.db_url == url


def test_layout_paths_relative_to_cwd_and_unsafe_chars(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    layout = Layout.from_env({"DLGRADE_STATE_DIR": "state"})
    assert layout.state == tmp_path / "state"
    assert layout.step(layout.source) == "solutions"
    assert layout.step(layout.state) == str(tmp_path / "state")
    with pytest.raises(LayoutError, match=r"DLGRADE_STATE_DIR .* character '\['"):
        Layout.from_env({"DLGRADE_STATE_DIR": str(tmp_path / "a[1]")})


def test_require_unit_names_the_argument(tmp_path):
    (tmp_path / "01_perceptron").mkdir()
    (tmp_path / "01_perceptron" / "01_perceptron.ipynb").write_text("{}")
    layout = Layout.from_env({"DLGRADE_SOURCE_DIR": str(tmp_path)})
    assert layout.units() == ["01_perceptron"]
    with pytest.raises(
        LayoutError,
        match=r"UNIT '02_mlp' not found: expected a folder .*"
        r"known units: 01_perceptron",
    ):
        layout.require_unit("02_mlp")
    with pytest.raises(LayoutError, match="UNIT '../x' is not a unit name"):
        layout.require_unit("../x")


def test_nbgrader_env_is_strict_and_finds_alembic(tmp_path):
    layout = Layout.from_env({"DLGRADE_STATE_DIR": str(tmp_path)})
    env = nbgrader_env(layout)
    assert env["TRAITLETS_APPLICATION_RAISE_CONFIG_FILE_ERROR"] == "1"
    assert env["DLGRADE_STATE_DIR"] == str(tmp_path)
    assert (Path(env["PATH"].split(":")[0]) / "alembic").exists()


def test_config_problem_names_file_line_and_error(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n\nraise KeyError('oops')\n")
    layout = Layout.from_env({"DLGRADE_CONFIG_DIR": str(tmp_path)})
    problem = config_problem(layout)
    assert problem.startswith(
        f"the nbgrader config {tmp_path / 'nbgrader_config.py'}, line 3 "
        "failed to load: KeyError: 'oops'"
    )
    assert config_problem(Layout.from_env({})) is None  # the real config loads
