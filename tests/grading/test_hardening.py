"""Each hardening of grading/nbgrader_config.py and dlgrade, checked end to end on the toy unit.

One toy course is released and its "students" are autograded once per session
(:func:`hardening_run`), with a short per-cell timeout; the tests read the gradebook scores and
the autograded notebooks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from grading_harness import TOY_SOURCE, build_submission
from grading_runs import dlgrade, grading_env, read_scores, release_notebooks, write_submission

pytestmark = pytest.mark.slow

CELL_TIMEOUT = 8  # seconds; every toy cell takes well under 1 s
WIDGET_STATE = {
    "application/vnd.jupyter.widget-state+json": {
        "state": {
            "0f3c": {
                "model_module": "@jupyter-widgets/controls",
                "model_name": "IntSliderModel",
                "model_module_version": "2.0.0",
                "state": {"value": 3},
            }
        },
        "version_major": 2,
        "version_minor": 0,
    }
}
RELU_WARNS = (
    "import sys, warnings\n"
    "def relu(x):\n"
    "    warnings.warn('relu: correct, but chatty', RuntimeWarning)\n"
    "    return np.maximum(x, 0)"
)
MSE_STDERR = (
    "def mse(pred, target):\n"
    "    print('mse: a note on stderr', file=sys.stderr)\n"
    "    diff = np.asarray(pred, dtype=float) - np.asarray(target, dtype=float)\n"
    "    return float(np.mean(diff ** 2))"
)
RELU_HANGS = "import time\ndef relu(x):\n    time.sleep(10_000)\n    return np.maximum(x, 0)"
FULL = {"test_relu": 2.0, "test_mse": 2.0, "test_mse__symmetric": 1.0}


def _produce(folder: Path) -> dict:
    unit = folder / "source" / "toy"
    unit.mkdir(parents=True)
    source = nbformat.read(TOY_SOURCE, as_version=4)
    source.metadata["widgets"] = WIDGET_STATE  # as JupyterLab saves it
    nbformat.write(source, unit / "toy.ipynb")
    env = grading_env(folder, unit.parent, DLGRADE_CELL_TIMEOUT=str(CELL_TIMEOUT))
    released = dlgrade(["release", "toy"], env)
    assert released.returncode == 0, released.stdout + released.stderr
    release, src = release_notebooks(folder, "toy")["toy.ipynb"], source
    with_widgets = build_submission(release, src)
    with_widgets.metadata["widgets"] = WIDGET_STATE
    students = {
        "solution": build_submission(release, src),
        "warns": build_submission(release, src, replace={"relu": RELU_WARNS, "mse": MSE_STDERR}),
        "timeout": build_submission(release, src, replace={"relu": RELU_HANGS}),
        "deleted_test": build_submission(release, src, delete={"test_mse"}),
        "deleted_exercise": build_submission(release, src, delete={"relu", "test_relu"}),
        "widgets": with_widgets,
    }
    for student, nb in students.items():
        write_submission(folder, student, "toy", {"toy.ipynb": nb})
    graded = dlgrade(["autograde", "toy"], env)
    return {
        "status": graded.returncode,
        "log": graded.stdout + graded.stderr[-5000:],
        "scores": read_scores(folder, "toy", list(students)),
    }


@pytest.fixture
def hardening_run(shared_run) -> dict:
    return shared_run("hardening-toy", _produce)


def _auto(run: dict, student: str) -> dict[str, float]:
    assert student in run["scores"], f"{student} was not graded:\n{run['log']}"
    return {gid: score for gid, (score, _) in run["scores"][student].items() if gid in FULL}


def _autograded(run: dict, student: str) -> nbformat.NotebookNode:
    path = Path(run["folder"]) / "state" / "autograded" / student / "toy" / "toy.ipynb"
    return nbformat.read(path, as_version=4)


def _cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_every_student_is_graded(hardening_run):
    assert hardening_run["status"] == 0, hardening_run["log"]
    assert _auto(hardening_run, "solution") == FULL


def test_timeout_interrupts_the_cell_and_grading_goes_on(hardening_run):
    assert _auto(hardening_run, "timeout") == {**FULL, "test_relu": 0.0}
    outputs = _cell(_autograded(hardening_run, "timeout"), "test_relu").outputs
    assert "CellTimeoutError" in [o.get("ename") for o in outputs]


def test_warnings_and_stderr_of_correct_code_keep_full_points(hardening_run):
    assert _auto(hardening_run, "warns") == FULL
    nb = _autograded(hardening_run, "warns")
    text = "".join(
        o.get("text", "")
        for gid in FULL
        for o in _cell(nb, gid).outputs
        if o.output_type == "stream" and o.name == "stdout"
    )
    assert "RuntimeWarning: relu: correct, but chatty" in text  # the text is kept
    assert "mse: a note on stderr" in text


def test_deleted_test_cell_is_reinserted_run_and_scored(hardening_run):
    assert _auto(hardening_run, "deleted_test") == FULL
    cell = _cell(_autograded(hardening_run, "deleted_test"), "test_mse")
    assert "was missing from the submission" in cell.source
    assert cell.execution_count is not None


def test_deleted_exercise_is_graded_not_crashed(hardening_run):
    # nbgrader 0.9.6's own re-insertion raises KeyError here and drops the whole submission
    assert _auto(hardening_run, "deleted_exercise") == {**FULL, "test_relu": 0.0}
    assert _cell(_autograded(hardening_run, "deleted_exercise"), "test_relu").outputs


def test_widget_state_is_stripped_from_release_and_autograded(hardening_run):
    folder = Path(hardening_run["folder"])
    assert "widgets" in nbformat.read(folder / "source" / "toy" / "toy.ipynb", 4).metadata
    assert "widgets" not in nbformat.read(folder / "release" / "toy" / "toy.ipynb", 4).metadata
    submitted = folder / "state" / "submitted" / "widgets" / "toy" / "toy.ipynb"
    assert "widgets" in nbformat.read(submitted, 4).metadata
    assert "widgets" not in _autograded(hardening_run, "widgets").metadata
    assert _auto(hardening_run, "widgets") == FULL


@pytest.mark.parametrize(
    "notebook, invert, status",
    [
        ("source/toy/toy.ipynb", False, 0),
        ("release/toy/toy.ipynb", False, 1),
        ("release/toy/toy.ipynb", True, 0),
        ("state/submitted/warns/toy/toy.ipynb", False, 0),  # warnings do not fail validation
        ("state/submitted/solution/toy/toy.ipynb", True, 1),
    ],
)
def test_validate_exit_status_follows_the_result(hardening_run, notebook, invert, status):
    folder = Path(hardening_run["folder"])
    env = grading_env(folder / "validate", folder / "source", DLGRADE_CELL_TIMEOUT="8")
    proc = dlgrade(["validate", str(folder / notebook)] + (["--invert"] if invert else []), env)
    assert proc.returncode == status, proc.stdout + proc.stderr
    if status:
        assert "VALIDATION FAILED" in proc.stdout


BROKEN_CONFIG = "c = get_config()\nc.CourseDirectory.course_id = undefined_name\n"


@pytest.mark.parametrize(
    "command",
    [
        ["release", "toy"],
        ["autograde", "toy"],
        ["feedback", "toy"],
        ["export"],
        ["students", "list"],
        ["validate", str(TOY_SOURCE)],
    ],
)
def test_broken_config_fails_every_command_loudly(command, tmp_path, toy_source_dir):
    if command[0] == "autograde":  # it first needs a released unit and a submission
        assert dlgrade(["release", "toy"], grading_env(tmp_path, toy_source_dir)).returncode == 0
        write_submission(tmp_path, "alice", "toy", {"toy.ipynb": nbformat.read(TOY_SOURCE, 4)})
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "nbgrader_config.py").write_text(BROKEN_CONFIG)
    env = grading_env(tmp_path, toy_source_dir, DLGRADE_CONFIG_DIR=str(config_dir))
    proc = dlgrade(command, env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (
        f"the nbgrader config {config_dir / 'nbgrader_config.py'}, line 2 failed to load: "
        "NameError: name 'undefined_name' is not defined"
    ) in proc.stderr


def test_plain_nbgrader_ignores_a_broken_config(tmp_path, toy_source_dir):
    """Why dlgrade is strict: nbgrader itself logs the error and exits 0."""
    assert toy_source_dir == tmp_path / "source"  # nbgrader's default source folder
    (tmp_path / "nbgrader_config.py").write_text(BROKEN_CONFIG)
    env = {
        k: v for k, v in os.environ.items() if k != "TRAITLETS_APPLICATION_RAISE_CONFIG_FILE_ERROR"
    }
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "toy"],
        cwd=tmp_path,
        env=env,
        text=True,
        capture_output=True,
        check=False,
    )
    assert "Exception while loading config file" in proc.stderr
    assert proc.returncode == 0
