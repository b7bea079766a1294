"""``dlgrade grade`` keeps going when one submission breaks something (fast, no nbgrader).

A class of the toy unit goes through the real :func:`dlgrade.grade.grade` -- preparation,
batches, read-back, recording -- with nbgrader's autograde replaced by a stand-in that
writes each student's autograded notebook (or fails) as the student's name says, and the
course gradebook replaced by stand-ins that fail for some students.  Every student must end
with a record whose reason names the failure; the others are graded normally.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from dlgrade import budgets
from dlgrade.budgets import ENV_MAX_CELLS, ENV_SUBMISSION_SECONDS, budget_for
from dlgrade.grade import Caps, NotebookTooLarge, fit_notebook, grade
from dlgrade.paths import Layout
from grading_harness import TOY_SOURCE

NOTEBOOK = nbformat.writes(nbformat.read(TOY_SOURCE, as_version=4))
DEEP = '{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}"
EXPECTED = {
    "ok": ("graded", ""),
    "deep": ("invalid", "nested too deeply"),
    "boom": ("invalid", "could not prepare the submission (MemoryError: no memory left)"),
    "garbage": ("crashed", "its results could not be read (JSONDecodeError"),
    "huge": ("graded", ""),
    "toobig": ("crashed", "over the cap of 1 MB (--max-autograded-mb), even with its"),
    "nobatch": ("crashed", "dlgrade could not run nbgrader (OSError: fork failed)"),
    "noscore": ("crashed", "its scores could not be recorded (RuntimeError: database"),
    "nocopy": ("crashed", "could not be copied to"),
    "badscore": ("crashed", "its score could not be read back from the gradebook (KeyError"),
    "ghost": ("missing", "no submission"),
}


@pytest.fixture
def layout(tmp_path, toy_source_dir) -> Layout:
    return Layout.from_env(
        {"DLGRADE_SOURCE_DIR": str(toy_source_dir), "DLGRADE_STATE_DIR": str(tmp_path / "state")}
    )


def _autograded(job, name: str) -> dict:
    """What the stand-in nbgrader writes for the student ``name``."""
    nb = json.loads((job.folder / "toy.ipynb").read_text())
    out = {"output_type": "stream", "name": "stdout", "text": "y" * (3 * 2**20)}
    if name == "huge":  # 3 MB of output: cut to fit the 1 MB cap
        nb["cells"][1].setdefault("outputs", []).append(out)
    if name == "toobig":  # 3 MB of source: cannot be cut
        nb["cells"][0]["source"] = "x" * (3 * 2**20)
    return nb


@pytest.fixture
def class_run(layout, monkeypatch) -> dict:
    for student in EXPECTED:
        if student != "ghost":
            folder = layout.submitted / student / "toy"
            folder.mkdir(parents=True)
            (folder / "toy.ipynb").write_text(DEEP if student == "deep" else NOTEBOOK)
    seen_env = {}

    def fake_autograde(layout, unit, batch, state, template, env):
        seen_env.update(env)
        if any(job.student == "nobatch" for job in batch):
            raise OSError("fork failed")
        for job in batch:
            job.state = state
            folder = state / "autograded" / job.student / unit
            folder.mkdir(parents=True)
            text = (
                "{ not json"
                if job.student == "garbage"
                else json.dumps(_autograded(job, job.student))
            )
            (folder / "toy.ipynb").write_text(text)
        return "autograded"

    real_check = __import__("dlgrade.grade", fromlist=["_check_notebook"])._check_notebook

    def check(path, notes, max_cells=None):
        if "boom" in str(path):
            raise MemoryError("no memory left")
        return real_check(path, notes, max_cells)

    def record_scores(layout, unit, done):
        return {job: RuntimeError("database is locked") for job in done if job.student == "noscore"}

    def fake_scores(layout, unit, students):
        if "badscore" in students:
            raise KeyError("badscore")
        return {s: (1.0, 5.0, None) for s in students}

    real_copytree = shutil.copytree

    def copytree(src, dst, *args, **kwargs):
        if "nocopy" in str(dst):
            raise PermissionError(13, "Permission denied", str(dst))
        return real_copytree(src, dst, *args, **kwargs)

    monkeypatch.setattr("dlgrade.grade.in_gradebook", lambda layout, unit: True)
    monkeypatch.setattr("dlgrade.grade.roster", lambda layout: ["ghost"])
    monkeypatch.setattr("dlgrade.grade._template_gradebook", lambda *a: Path("template.db"))
    monkeypatch.setattr("dlgrade.grade._autograde", fake_autograde)
    monkeypatch.setattr("dlgrade.grade._check_notebook", check)
    monkeypatch.setattr("dlgrade.grade._record_scores", record_scores)
    monkeypatch.setattr("dlgrade.grade._register_students", lambda layout, students: None)
    monkeypatch.setattr("dlgrade.grade.scores", fake_scores)
    monkeypatch.setattr("dlgrade.grade.shutil.copytree", copytree)
    lines = []
    records = grade(
        layout,
        "toy",
        workers=4,
        sandbox=False,
        say=lines.append,
        caps=Caps(autograded_mb=1),
        budget_seconds=77,
    )
    return {"records": records, "env": seen_env, "lines": lines, "layout": layout}


def test_every_student_ends_with_a_record_whose_reason_names_the_failure(class_run):
    records = class_run["records"]
    assert sorted(records) == sorted(EXPECTED)
    for student, (status, reason) in EXPECTED.items():
        assert records[student].status == status, (student, records[student])
        assert reason in records[student].reason, (student, records[student].reason)
    assert records["ok"].score == 1.0 and records["huge"].score == 1.0
    summary = class_run["lines"][-1]
    assert summary.startswith("graded toy for 11 student(s)"), class_run["lines"]


def test_an_oversized_autograded_notebook_is_cut_with_a_note(class_run):
    layout = class_run["layout"]
    kept = layout.autograded / "huge" / "toy" / "toy.ipynb"
    assert kept.stat().st_size < 2**20
    assert any("was 3.0 MB, over the cap of 1 MB" in n for n in class_run["records"]["huge"].notes)
    text = json.loads(kept.read_text())["cells"][1]["outputs"][-1]["text"]
    assert text.startswith("yyyy") and "[dlgrade: output cut," in text
    assert not (layout.autograded / "toobig").exists()  # never a file over the cap


def test_the_budget_and_the_cell_cap_reach_the_executor(class_run):
    assert class_run["env"][ENV_SUBMISSION_SECONDS] == "77"
    assert class_run["env"][ENV_MAX_CELLS] == "200"


def test_fit_notebook_cuts_each_kind_of_output(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(1)")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="a" * 2**20),
        nbformat.v4.new_output("display_data", data={"image/png": "b" * 2**20, "text/plain": "c"}),
        nbformat.v4.new_output("error", ename="E", evalue="v" * 2**20, traceback=["t" * 2**20]),
    ]
    nb.cells.append(cell)
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    notes = []
    fitted = fit_notebook(path, 1, notes)
    assert path.stat().st_size < 2**20 and len(notes) == 1 and "3 output(s) cut" in notes[0]
    stream, display, error = fitted["cells"][0]["outputs"]
    assert "image/png" not in display["data"] and "left out" in display["data"]["text/plain"]
    assert len(stream["text"]) < 2**18 and len(error["evalue"]) < 2**18
    nbformat.validate(nbformat.read(path, as_version=4))  # still a valid notebook
    small = tmp_path / "s.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), small)
    assert fit_notebook(small, 1, notes)["cells"] == [] and len(notes) == 1
    nb.cells[0].source = "x" * (2 * 2**20)
    nbformat.write(nb, path)
    with pytest.raises(NotebookTooLarge, match=r"over the cap of 1 MB .* it was not kept"):
        fit_notebook(path, 1, [])


def test_the_default_budget_is_ten_times_the_measured_run_with_a_floor(tmp_path):
    path = tmp_path / "budgets.json"
    path.write_text(json.dumps({"seconds": {"fast": 3.2, "slow": 40.04}}))
    assert budget_for("fast", path) == budgets.FLOOR_SECONDS == 120
    assert budget_for("slow", path) == 401
    assert budget_for("unmeasured", path) == budgets.UNMEASURED_SECONDS
    measured = budgets.measured()  # the committed file: every unit 00-08
    assert {f"0{i}" for i in range(9)} <= {unit[:2] for unit in measured}, measured
    assert all(seconds > 0 for seconds in measured.values())
