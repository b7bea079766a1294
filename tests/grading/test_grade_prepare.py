"""How ``dlgrade grade`` prepares one submission before any code runs (fast, no nbgrader)."""

from __future__ import annotations

import fcntl
import os

import nbformat
import pytest
from dlgrade.errors import DlgradeError
from dlgrade.grade import Job, batches, grade, prepare
from dlgrade.paths import Layout
from dlgrade.status import Record
from grading_harness import TOY_SOURCE


@pytest.fixture
def layout(tmp_path, toy_source_dir) -> Layout:
    return Layout.from_env(
        {"DLGRADE_SOURCE_DIR": str(toy_source_dir), "DLGRADE_STATE_DIR": str(tmp_path / "state")}
    )


def _submit(layout: Layout, student: str, files: dict[str, str]) -> None:
    folder = layout.submitted / student / "toy"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


NOTEBOOK = nbformat.writes(nbformat.read(TOY_SOURCE, as_version=4))


def test_a_good_submission_becomes_a_job(layout, tmp_path):
    _submit(layout, "ada", {"toy.ipynb": NOTEBOOK, "data.csv": "1,2"})
    job = prepare(layout, "toy", "ada", tmp_path / "scratch")
    assert isinstance(job, Job) and job.notes == []
    assert sorted(p.name for p in job.folder.iterdir()) == ["data.csv", "toy.ipynb"]


def test_symbolic_links_are_dropped_so_nothing_outside_reaches_the_kernel(layout, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the answers")
    _submit(layout, "eve", {"toy.ipynb": NOTEBOOK})
    os.symlink(secret, layout.submitted / "eve" / "toy" / "answers.txt")
    job = prepare(layout, "toy", "eve", tmp_path / "scratch")
    assert [p.name for p in job.folder.iterdir()] == ["toy.ipynb"]
    assert job.notes == ["ignored the symbolic link answers.txt"]


@pytest.mark.parametrize("name", ["toy (1).ipynb", "Copy of toy.ipynb", "toy-Copy1.ipynb"])
def test_a_renamed_notebook_is_graded_under_the_released_name(layout, tmp_path, name):
    _submit(layout, "bob", {name: NOTEBOOK})
    job = prepare(layout, "toy", "bob", tmp_path / "scratch")
    assert [p.name for p in job.folder.iterdir()] == ["toy.ipynb"]
    assert job.notes == [f"graded {name!r} as 'toy.ipynb' (the notebook was renamed)"]


@pytest.mark.parametrize(
    "text, reason",
    [
        ("{ not json", "not valid notebook JSON"),
        ("[1, 2]", "not valid notebook JSON"),
        ('{"cells": "none", "nbformat": 4, "nbformat_minor": 5}', "not a valid notebook"),
    ],
)
def test_an_unreadable_notebook_is_invalid_with_the_reason(layout, tmp_path, text, reason):
    _submit(layout, "cy", {"toy.ipynb": text})
    record = prepare(layout, "toy", "cy", tmp_path / "scratch")
    assert isinstance(record, Record) and record.status == "invalid"
    assert reason in record.reason and record.reason.endswith("nothing was run")


def test_no_folder_or_no_notebook_is_missing(layout, tmp_path):
    assert prepare(layout, "toy", "dan", tmp_path / "scratch").status == "missing"
    _submit(layout, "eli", {"README.md": "soon"})
    record = prepare(layout, "toy", "eli", tmp_path / "scratch")
    assert record.status == "missing" and "holds no toy.ipynb (README.md)" in record.reason


def test_batches_cover_every_job_about_two_per_worker():
    jobs = list(range(50))
    groups = batches(jobs, 4)
    assert [j for g in groups for j in g] == jobs and len(groups) == 8
    assert batches(list(range(3)), 4) == [[0], [1], [2]]
    assert batches([], 4) == []


def test_bad_arguments_are_refused_before_any_work(layout):
    with pytest.raises(DlgradeError, match=r"--workers 0: expected at least 1"):
        grade(layout, "toy", workers=0, sandbox=False)
    with pytest.raises(DlgradeError, match=r"UNIT 'nope' not found"):
        grade(layout, "nope", sandbox=False)


def test_a_unit_being_graded_cannot_be_graded_twice_at_once(layout, monkeypatch):
    monkeypatch.setattr("dlgrade.grade.in_gradebook", lambda layout, unit: True)
    monkeypatch.setattr("dlgrade.grade.roster", lambda layout: [])
    lock_path = layout.state / ".scratch" / "toy.lock"
    lock_path.parent.mkdir(parents=True)
    with lock_path.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(DlgradeError, match=r"being graded by another 'dlgrade grade'"):
            grade(layout, "toy", sandbox=False)


@pytest.mark.parametrize(
    "option, kwargs",
    [("--memory-mb 0", {"memory_mb": 0}), ("--cpu-seconds -1", {"cpu_seconds": -1})],
)
def test_bad_limits_are_refused_naming_the_option(layout, option, kwargs):
    from dlgrade import commands

    with pytest.raises(DlgradeError, match=rf"{option}: expected a positive whole number"):
        commands.grade(layout, "toy", None, None, False, **kwargs)
