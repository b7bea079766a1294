"""The executor's limits (dlgrade/execute.py), through real nbgrader on the toy unit.

One ``dlgrade autograde`` run grades four students with a wall-clock budget of 4 s per
submission and 64 KB of output per cell: a correct one, one whose answer cells each sleep
2.5 s (so the budget runs out before the last tests), one that prints 3 MB in one cell, and
one whose answer prints while the test runs (its text is kept under the grader's verdict).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from grading_harness import TOY_SOURCE, build_submission
from grading_runs import dlgrade, grading_env, read_scores, release_notebooks, write_submission

pytestmark = pytest.mark.slow

SLOW_RELU = "import time\ntime.sleep(2.5)\n\ndef relu(x):\n    return np.maximum(x, 0)"
SLOW_MSE = (
    "import time\ntime.sleep(2.5)\n\n"
    "def mse(pred, target):\n"
    "    d = np.asarray(pred, dtype=float) - np.asarray(target, dtype=float)\n"
    "    return float(np.mean(d * d))"
)
CHATTY_RELU = (
    "for _ in range(3):\n    print('x' * 1_000_000)\n\ndef relu(x):\n    return np.maximum(x, 0)"
)
TALKS_DURING_TEST = "def relu(x):\n    print('relu was called')\n    return np.maximum(x, 0)"


def _produce(folder: Path) -> dict:
    unit = folder / "source" / "toy"
    unit.mkdir(parents=True)
    nbformat.write(nbformat.read(TOY_SOURCE, as_version=4), unit / "toy.ipynb")
    env = grading_env(
        folder,
        unit.parent,
        DLGRADE_CELL_TIMEOUT="10",
        DLGRADE_SUBMISSION_SECONDS="4",
        DLGRADE_MAX_OUTPUT_KB="64",
    )
    proc = dlgrade(["release", "toy"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    release, src = release_notebooks(folder, "toy")["toy.ipynb"], nbformat.read(TOY_SOURCE, 4)
    students = {
        "solution": {},
        "slow": {"relu": SLOW_RELU, "mse": SLOW_MSE},
        "chatty": {"relu": CHATTY_RELU},
        "talks": {"relu": TALKS_DURING_TEST},
    }
    for student, replace in students.items():
        nb = build_submission(release, src, replace=replace)
        write_submission(folder, student, "toy", {"toy.ipynb": nb})
    graded = dlgrade(["autograde", "toy"], env)
    notebooks = {}
    for student in students:
        path = folder / "state" / "autograded" / student / "toy" / "toy.ipynb"
        if path.is_file():
            notebooks[student] = {"size": path.stat().st_size, "nb": json.loads(path.read_text())}
    return {
        "log": (graded.stdout + graded.stderr)[-4000:],
        "scores": read_scores(folder, "toy", list(students)),
        "notebooks": notebooks,
    }


@pytest.fixture
def run(shared_run) -> dict:
    return shared_run("execute-limits-toy", _produce)


def _auto(run, student) -> dict[str, float]:
    return {g: v[0] for g, v in run["scores"][student].items() if g.startswith("test")}


def _cell(run, student, grade_id) -> dict:
    nb = run["notebooks"][student]["nb"]
    return next(
        c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id
    )


def test_the_budget_stops_a_slow_submission(run):
    execution = run["notebooks"]["slow"]["nb"]["metadata"]["dlgrade"]["execution"]
    assert execution["status"] == "timed_out", execution
    assert "budget of 4 s" in execution["reason"]
    assert execution["cells_not_run"], execution
    assert _auto(run, "slow")["test_mse__symmetric"] == 0.0
    assert set(_auto(run, "solution").values()) != {0.0}


def test_a_cell_keeps_at_most_its_share_of_output(run):
    assert run["notebooks"]["chatty"]["size"] < 400_000
    text = "".join("".join(o.get("text", "")) for o in _cell(run, "chatty", "relu")["outputs"])
    assert "the rest of its output was dropped" in text
    assert _auto(run, "chatty") == _auto(run, "solution")


def test_test_cells_carry_the_graders_verdict_and_the_students_prints(run):
    cell = _cell(run, "talks", "test_relu")
    assert cell["metadata"]["dlgrade"]["verdict"] == "passed"
    text = "".join("".join(o.get("text", "")) for o in cell["outputs"])
    assert "relu was called" in text
    assert not [o for o in cell["outputs"] if o["output_type"] == "error"]
    assert _auto(run, "talks") == _auto(run, "solution")
