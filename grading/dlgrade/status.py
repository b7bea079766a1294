"""Every submission accounted for: a grading status per student and unit, with a reason.

A score of 0 in nbgrader's export can mean a wrong answer, no submission, a notebook nbgrader
could not read, or a kernel that died in the first cell.  ``dlgrade grade`` therefore records,
next to the scores, one :class:`Record` per student and unit:

=============  ==========================================================================
``graded``     every cell ran; the scores are the tests' verdicts
``missing``    no submission folder, or no notebook in it
``invalid``    the notebook could not be read or graded (malformed JSON, nbformat error,
               nbgrader refused it); nothing ran, the score is 0
``crashed``    the kernel died (exit, segfault, memory or CPU-time limit); the cells that
               ran keep their results, the others score 0
``timed_out``  a cell ran out of time; partial results kept as for ``crashed``
``flagged``    a tamper check fired (``metadata.dlgrade.flags``, see grading/SECURITY.md);
               scores are kept as computed, for the instructor to review
=============  ==========================================================================

Records live in ``<state>/status/<unit>.json`` (written only by the host process, atomically)
and ``dlgrade export`` adds them to nbgrader's CSV as ``status`` and ``reason`` columns.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dlgrade.paths import Layout
from dlgrade.similarity import export_notes

GRADED, MISSING, INVALID = "graded", "missing", "invalid"
CRASHED, TIMED_OUT, FLAGGED = "crashed", "timed_out", "flagged"
STATUSES = (GRADED, MISSING, INVALID, CRASHED, TIMED_OUT, FLAGGED)
# Statuses an instructor must look at (the class-wide command exits 1 when any occurs).
NEEDS_ATTENTION = (INVALID, CRASHED, TIMED_OUT, FLAGGED)


@dataclass
class Record:
    """The grading outcome of one student's submission of one unit."""

    student: str
    status: str
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    score: float | None = None
    max_score: float | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r}: expected one of {', '.join(STATUSES)}")

    @property
    def explanation(self) -> str:
        """Reason and notes in one line."""
        return "; ".join(part for part in [self.reason, *self.notes] if part)


def status_file(layout: Layout, unit: str) -> Path:
    """Where the records of ``unit`` are stored."""
    return layout.state / "status" / f"{unit}.json"


def load(layout: Layout, unit: str) -> dict[str, Record]:
    """The stored records of ``unit`` by student ({} when none)."""
    path = status_file(layout, unit)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {sid: Record(**rec) for sid, rec in data.get("students", {}).items()}


def save(layout: Layout, unit: str, records: dict[str, Record]) -> Path:
    """Merge ``records`` into the stored ones (a regraded student replaces its record)."""
    merged = load(layout, unit)
    merged.update(records)
    path = status_file(layout, unit)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"unit": unit, "students": {sid: asdict(r) for sid, r in sorted(merged.items())}}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{unit}-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh, indent=1)
    os.replace(tmp, path)  # atomic: a crash never leaves a half-written file
    return path


def from_notebooks(student: str, notebooks: list[dict], notes: list[str]) -> Record:
    """The record of a student whose autograded ``notebooks`` (JSON dicts) exist.

    Reads ``metadata.dlgrade``: ``execution`` (written by :mod:`dlgrade.execute`) and
    ``flags`` (written by the tamper checks).  Flags win over crashes and timeouts, which
    win over ``graded``; the reason lists every finding.
    """
    reasons, flags, worst = [], [], GRADED
    for nb in notebooks:
        meta = nb.get("metadata", {}).get("dlgrade", {})
        execution = meta.get("execution", {})
        status = execution.get("status", "ok")
        if status in (CRASHED, TIMED_OUT):
            reasons.append(execution.get("reason", status))
            if worst == GRADED or status == CRASHED:
                worst = status
        for flag in meta.get("flags", []):
            cell = f" (cell {flag.get('cell')})" if flag.get("cell") else ""
            flags.append(f"{flag.get('check', '?')}{cell}: {flag.get('reason', '')}")
    if flags:
        return Record(student, FLAGGED, "; ".join(flags + reasons), notes)
    return Record(student, worst, "; ".join(reasons), notes)


def submissions_in_gradebook(layout: Layout) -> set[tuple[str, str]]:
    """``(unit, student)`` pairs that have a submission in the gradebook."""
    from nbgrader.api import Gradebook

    from dlgrade.paths import COURSE_ID

    with Gradebook(layout.db_url, COURSE_ID) as gb:
        return {
            (assignment.name, sub.student_id)
            for assignment in gb.assignments
            for sub in assignment.submissions
        }


def export_with_status(
    layout: Layout,
    nbgrader_csv: Path,
    target: Path,
    submitted: set[tuple[str, str]],
    *,
    with_similarity: bool = False,
) -> dict[str, int]:
    """Copy nbgrader's export ``nbgrader_csv`` to ``target`` with ``status`` and ``reason``.

    A row without a stored record is ``missing`` when the gradebook has no submission for it
    (not in ``submitted``) and ``graded`` otherwise (graded by ``dlgrade autograde``, which
    does not record statuses).  With ``with_similarity``, a last ``similarity`` column holds
    the findings of the unit's last ``dlgrade similarity`` run (see
    :func:`dlgrade.similarity.export_notes`); it changes neither scores nor statuses.
    Returns how many rows have each status.
    """
    with nbgrader_csv.open(newline="") as fh:
        reader = csv.DictReader(fh)
        rows, columns = list(reader), list(reader.fieldnames or [])
    records: dict[str, dict[str, Record]] = {}
    similar: dict[str, dict[str, str]] = {}
    counts = dict.fromkeys(STATUSES, 0)
    for row in rows:
        unit, student = row.get("assignment", ""), row.get("student_id", "")
        if unit not in records:
            records[unit] = load(layout, unit)
        if with_similarity:
            if unit not in similar:
                similar[unit] = export_notes(layout, unit)
            row["similarity"] = similar[unit].get(student, "")
        rec = records[unit].get(student)
        if rec is not None:
            status, reason = rec.status, rec.explanation
        elif (unit, student) not in submitted:
            status, reason = MISSING, "no submission in the gradebook"
        else:
            status, reason = GRADED, "graded with 'dlgrade autograde' (no status recorded)"
        row["status"], row["reason"] = status, reason
        counts[status] += 1
    with target.open("w", newline="") as fh:
        extra = ["status", "reason"] + (["similarity"] if with_similarity else [])
        writer = csv.DictWriter(fh, fieldnames=[*columns, *extra])
        writer.writeheader()
        writer.writerows(rows)
    return counts
