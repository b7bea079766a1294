"""Grading statuses (dlgrade.status): records, their storage, and the export's status columns."""

from __future__ import annotations

import csv
import json

import pytest
from dlgrade import status
from dlgrade.paths import Layout
from dlgrade.status import Record


@pytest.fixture
def layout(tmp_path) -> Layout:
    return Layout.from_env({"DLGRADE_STATE_DIR": str(tmp_path / "state")})


def _nb(execution: dict | None = None, flags: list | None = None) -> dict:
    meta = {}
    if execution is not None:
        meta["execution"] = execution
    if flags is not None:
        meta["flags"] = flags
    return {"metadata": {"dlgrade": meta}, "cells": []}


def test_record_refuses_an_unknown_status():
    with pytest.raises(ValueError, match=r"status 'ok': expected one of graded, missing"):
        Record("ada", "ok")


def test_explanation_joins_reason_and_notes():
    rec = Record("ada", "graded", "", ["graded 'a (1).ipynb' as 'a.ipynb'"])
    assert rec.explanation == "graded 'a (1).ipynb' as 'a.ipynb'"
    assert Record("ada", "crashed", "kernel died", ["n"]).explanation == "kernel died; n"


def test_save_merges_and_load_reads_back(layout):
    status.save(layout, "u", {"ada": Record("ada", "graded", score=3.0, max_score=4.0)})
    status.save(layout, "u", {"bob": Record("bob", "missing", "no submission")})
    status.save(layout, "u", {"ada": Record("ada", "crashed", "kernel died")})
    records = status.load(layout, "u")
    assert {sid: r.status for sid, r in records.items()} == {"ada": "crashed", "bob": "missing"}
    stored = json.loads(status.status_file(layout, "u").read_text())
    assert stored["unit"] == "u" and sorted(stored["students"]) == ["ada", "bob"]
    assert [p.name for p in status.status_file(layout, "u").parent.iterdir()] == ["u.json"]


def test_load_of_a_unit_never_graded_is_empty(layout):
    assert status.load(layout, "never") == {}


def test_clean_notebooks_are_graded():
    rec = status.from_notebooks("ada", [_nb({"status": "ok", "reason": ""}), _nb()], ["a note"])
    assert (rec.status, rec.reason, rec.notes) == ("graded", "", ["a note"])


def test_crash_outranks_timeout_and_both_reasons_are_kept():
    rec = status.from_notebooks(
        "ada",
        [
            _nb({"status": "timed_out", "reason": "cell 'a' ran longer than 3 s"}),
            _nb({"status": "crashed", "reason": "the kernel died while running cell 'b'"}),
        ],
        [],
    )
    assert rec.status == "crashed"
    assert rec.reason == "cell 'a' ran longer than 3 s; the kernel died while running cell 'b'"


def test_flags_outrank_everything_and_name_check_and_cell():
    flags = [{"check": "monkeypatch", "cell": "test_relu", "reason": "numpy.testing replaced"}]
    rec = status.from_notebooks(
        "ada", [_nb({"status": "timed_out", "reason": "cell 'x' ran too long"}, flags)], []
    )
    assert rec.status == "flagged"
    assert rec.reason == (
        "monkeypatch (cell test_relu): numpy.testing replaced; cell 'x' ran too long"
    )


def test_export_adds_status_and_reason_columns(layout, tmp_path):
    raw = tmp_path / "nbgrader.csv"
    columns = ["assignment", "duedate", "timestamp", "student_id", "raw_score", "score"]
    with raw.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerow(["u", "", "", "ada", "0.0", "0.0"])  # recorded: crashed
        writer.writerow(["u", "", "", "bob", "0.0", "0.0"])  # no submission at all
        writer.writerow(["u", "", "", "cy", "0.0", "0.0"])  # graded by plain autograde: 0
        writer.writerow(["v", "", "", "ada", "1.0", "1.0"])
    status.save(layout, "u", {"ada": Record("ada", "crashed", "kernel died")})
    target = tmp_path / "grades.csv"
    counts = status.export_with_status(layout, raw, target, {("u", "cy"), ("v", "ada")})
    with target.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [*columns, "status", "reason"]
    got = [(r["assignment"], r["student_id"], r["status"]) for r in rows]
    assert got == [
        ("u", "ada", "crashed"),
        ("u", "bob", "missing"),
        ("u", "cy", "graded"),
        ("v", "ada", "graded"),
    ]
    assert rows[0]["reason"] == "kernel died" and rows[1]["reason"]
    assert counts["graded"] == 2 and counts["missing"] == 1 and counts["crashed"] == 1
