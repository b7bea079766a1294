"""How ``dlgrade grade`` prepares one submission before any code runs (fast, no nbgrader)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import nbformat
import pytest
from dlgrade.errors import DlgradeError
from dlgrade.grade import Caps, Job, batches, cell_cap, grade, prepare
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
    _submit(layout, "ada", {"toy.ipynb": NOTEBOOK})
    job = prepare(layout, "toy", "ada", tmp_path / "scratch")
    assert isinstance(job, Job) and job.notes == []
    assert sorted(p.name for p in job.folder.iterdir()) == ["toy.ipynb"]


def test_only_the_notebook_and_the_units_declared_files_reach_the_kernel(layout, tmp_path):
    # the toy unit's source folder holds toy.ipynb only: a data.csv the student adds, or a
    # module that would run before the kernel (ipykernel_launcher.py) or shadow numpy, is
    # left out with a note
    extras = {"data.csv": "1,2", "ipykernel_launcher.py": "1/0", "numpy.py": "1/0"}
    _submit(layout, "ada", {"toy.ipynb": NOTEBOOK, "notes.ipynb": NOTEBOOK, **extras})
    job = prepare(layout, "toy", "ada", tmp_path / "scratch")
    assert [p.name for p in job.folder.iterdir()] == ["toy.ipynb"]
    assert job.notes == [
        "left out 4 file(s) the unit does not use: data.csv, ipykernel_launcher.py, "
        "notes.ipynb, numpy.py"
    ]
    # a unit that ships files (anything besides its notebook in solutions/<unit>/)
    # declares them: the student's copies are graded with the notebook
    (layout.source / "toy" / "data.csv").write_text("0,0")
    (layout.source / "toy" / "data").mkdir()
    (layout.source / "toy" / "data" / "x.txt").write_text("0")
    folder = layout.submitted / "bo" / "toy"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "x.txt").write_text("1")
    _submit_more(folder, {"toy.ipynb": NOTEBOOK, "data.csv": "1,2", "numpy.py": "1/0"})
    job = prepare(layout, "toy", "bo", tmp_path / "scratch")
    copied = sorted(p.relative_to(job.folder).as_posix() for p in job.folder.rglob("*"))
    assert copied == ["data", "data.csv", "data/x.txt", "toy.ipynb"]
    assert (job.folder / "data.csv").read_text() == "1,2"  # the student's own copy
    assert job.notes == ["left out 1 file(s) the unit does not use: numpy.py"]


def _submit_more(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def test_notebooks_nested_too_deeply_are_invalid_not_a_crash(layout, tmp_path):
    deep = '{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}"
    _submit(layout, "deep", {"toy.ipynb": deep})
    record = prepare(layout, "toy", "deep", tmp_path / "scratch")
    assert record.status == "invalid" and "nested too deeply" in record.reason, record.reason


def test_size_and_cell_caps_are_checked_before_anything_runs(layout, tmp_path):
    caps = Caps(notebook_mb=1, submission_mb=3, cells=None)
    big = nbformat.read(TOY_SOURCE, as_version=4)
    big.cells[0].source = "x" * (3 * 2**19)  # 1.5 MB
    _submit(layout, "big", {"toy.ipynb": nbformat.writes(big)})
    record = prepare(layout, "toy", "big", tmp_path / "s1", caps)
    assert record.status == "invalid"
    assert "toy.ipynb: 1.5 MB, over the limit of 1 MB (--max-notebook-mb)" in record.reason
    _submit(layout, "hoard", {"toy.ipynb": NOTEBOOK, "video.mp4": "x" * (4 * 2**20)})
    record = prepare(layout, "toy", "hoard", tmp_path / "s2", caps)
    assert record.status == "invalid"
    assert "holds 4.0 MB, over the limit of 3 MB (--max-submission-mb)" in record.reason
    # cells: 4 x the unit's notebook, at least 200 (the toy notebook is small: 200)
    assert cell_cap(layout, "toy", Caps()) == 200 and cell_cap(layout, "toy", caps) == 200
    assert cell_cap(layout, "toy", Caps(cells=7)) == 7
    many = nbformat.read(TOY_SOURCE, as_version=4)
    many.cells += [nbformat.v4.new_markdown_cell("spam") for _ in range(201)]
    _submit(layout, "many", {"toy.ipynb": nbformat.writes(many)})
    record = prepare(layout, "toy", "many", tmp_path / "s3", caps)
    assert record.status == "invalid"
    assert f"{len(many.cells)} cells, more than the limit of 200 (--max-cells)" in record.reason


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
    [
        ("--memory-mb 0", {"memory_mb": 0}),
        ("--cpu-seconds -1", {"cpu_seconds": -1}),
        ("--budget-seconds 0", {"budget_seconds": 0}),
        ("--max-cells -3", {"max_cells": -3}),
        ("--max-notebook-mb 0", {"max_notebook_mb": 0}),
        ("--max-submission-mb 0", {"max_submission_mb": 0}),
        ("--max-autograded-mb 0", {"max_autograded_mb": 0}),
        ("--disk-mb 0", {"disk_mb": 0}),
    ],
)
def test_bad_limits_are_refused_naming_the_option(layout, option, kwargs):
    from dlgrade import commands

    with pytest.raises(DlgradeError, match=rf"{option}: expected a positive whole number"):
        commands.grade(layout, "toy", None, None, False, **kwargs)
