"""The instructor commands behind ``dlgrade``; each returns the process exit status.

Exit status: 0 success, 1 something was not graded / did not pass, 2 bad input or setup
(raised as :class:`~dlgrade.errors.DlgradeError` and reported by :mod:`dlgrade.cli`).
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
import time
from pathlib import Path

from dlgrade.collect import collect
from dlgrade.errors import DlgradeError
from dlgrade.nbgrader_run import run_module, run_nbgrader
from dlgrade.paths import Layout
from dlgrade.results import in_gradebook, scores, submitted_students, ungraded

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _say(message: str) -> None:
    print(message, flush=True)


def paths(layout: Layout) -> int:
    """Show where grading reads and writes."""
    for name in ["root", "config_dir", "source", "release", "state", "gradebook"]:
        _say(f"{name:11} {getattr(layout, name)}")
    return 0


def release(layout: Layout, units: list[str]) -> int:
    """Regenerate the student version of ``units`` (default: all) into the release folder."""
    units = [layout.require_unit(u) for u in units] or layout.units()
    if not units:
        raise DlgradeError(
            f"no units to release: expected folders <unit>/<unit>.ipynb in {layout.source}"
        )
    failed = [
        u
        for u in units
        if run_nbgrader(["generate_assignment", u, "--force"], layout).returncode != 0
    ]
    for unit in failed:
        _say(f"FAILED to release {unit} (see nbgrader's log above)")
    _say(f"released {len(units) - len(failed)} of {len(units)} unit(s) into {layout.release}")
    return 1 if failed else 0


def students_add(
    layout: Layout, student: str, first: str | None, last: str | None, email: str | None
) -> int:
    """Add (or update) one student in the gradebook."""
    args = ["db", "student", "add", student]
    for option, value in [("first-name", first), ("last-name", last), ("email", email)]:
        if value is not None:
            args.append(f"--{option}={value}")
    return run_nbgrader(args, layout).returncode


def students_import(layout: Layout, csv_path: Path) -> int:
    """Add (or update) the students listed in a CSV file (column ``id`` required)."""
    if not csv_path.is_file():
        raise DlgradeError(
            f"CSV {csv_path} is not a file; expected a CSV file with columns "
            "id[,first_name,last_name,email]"
        )
    with csv_path.open(newline="") as fh:
        header = next(csv.reader(fh), [])
    if "id" not in [h.strip() for h in header]:
        raise DlgradeError(
            f"CSV {csv_path} has columns {header}; expected an 'id' column "
            "(optional: first_name, last_name, email)"
        )
    return run_nbgrader(["db", "student", "import", str(csv_path.resolve())], layout).returncode


def students_list(layout: Layout) -> int:
    """List the students in the gradebook."""
    return run_nbgrader(["db", "student", "list"], layout).returncode


def collect_submissions(layout: Layout, unit: str, src: Path) -> int:
    """Copy ``SRC/<student_id>/<unit>/`` folders into the submitted tree."""
    unit = layout.require_unit(unit)
    report = collect(layout, unit, src.resolve())
    _say(
        f"copied {len(report.copied)} submission(s) of {unit} into {layout.submitted}: "
        f"{', '.join(report.copied) or '-'}"
    )
    if report.absent:
        _say(f"no {unit} folder (no submission) for: {', '.join(report.absent)}")
    for problem in report.problems:
        _say(f"PROBLEM: {problem}")
    return 1 if report.problems else 0


def _students_to_grade(layout: Layout, unit: str, student: str | None) -> list[str]:
    if student is None:
        students = submitted_students(layout, unit)
        if not students:
            raise DlgradeError(
                f"UNIT {unit!r}: no submissions at {layout.submitted}/*/{unit}; "
                f"run 'dlgrade collect {unit} SRC' first"
            )
        return students
    if not (layout.submitted / student / unit).is_dir():
        raise DlgradeError(
            f"--student {student!r}: no submission at {layout.submitted / student / unit}; "
            f"expected a folder holding {unit}.ipynb (see 'dlgrade collect')"
        )
    return [student]


def autograde(layout: Layout, unit: str, student: str | None) -> int:
    """Autograde every submission of ``unit`` (or one student's); report any not graded."""
    unit = layout.require_unit(unit)
    students = _students_to_grade(layout, unit, student)
    if not in_gradebook(layout, unit):
        raise DlgradeError(
            f"UNIT {unit!r} is not in the gradebook {layout.gradebook}; run "
            f"'dlgrade release {unit}' first (autograde needs the release recorded there)"
        )
    # --force: always regrade from the current submission and tests (manual scores are kept)
    args = ["autograde", unit, "--force"] + ([f"--student={student}"] if student else [])
    start = time.time()
    proc = run_nbgrader(args, layout)
    failures = ungraded(layout, unit, students, since=start)
    graded = [s for s in students if s not in failures]
    for sid, (score, max_score, manual) in scores(layout, unit, graded).items():
        note = "  (needs manual grading)" if manual else ""
        _say(f"{sid:24} {score:6.2f} / {max_score:.2f}{note}")
    for sid, reason in failures.items():
        _say(f"NOT GRADED: {sid}: {reason}")
    _say(f"autograded {len(graded)} of {len(students)} submission(s) of {unit}")
    if proc.returncode != 0 and not failures:
        _say(f"nbgrader autograde exited with status {proc.returncode} (see its log above)")
    return 1 if failures or proc.returncode != 0 else 0


def feedback(layout: Layout, unit: str, student: str | None) -> int:
    """Write HTML feedback for the autograded (and manually graded) submissions."""
    unit = layout.require_unit(unit)
    args = ["generate_feedback", unit, "--force"] + ([f"--student={student}"] if student else [])
    status = run_nbgrader(args, layout).returncode
    if status == 0:
        _say(f"feedback written under {layout.feedback}/<student_id>/{unit}/")
    return status


def grade(
    layout: Layout,
    unit: str,
    students: list[str] | None,
    workers: int | None,
    sandbox: bool,
    memory_mb: int | None = None,
    cpu_seconds: int | None = None,
    figures: bool = False,
    *,
    disk_mb: int | None = None,
    budget_seconds: int | None = None,
    max_notebook_mb: int | None = None,
    max_cells: int | None = None,
    max_submission_mb: int | None = None,
    max_autograded_mb: int | None = None,
) -> int:
    """Grade every submission of ``unit`` (sandboxed, parallel) and record each status."""
    from dataclasses import replace

    from dlgrade.grade import Caps, exit_status
    from dlgrade.grade import grade as grade_class
    from dlgrade.sandbox import Limits

    def checked(option: str, value: int | None) -> int | None:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value <= 0
        ):
            raise DlgradeError(f"{option} {value}: expected a positive whole number")
        return value

    limits, caps = Limits(), Caps()
    for option, field, value in [
        ("--memory-mb", "memory_mb", memory_mb),
        ("--cpu-seconds", "cpu_s", cpu_seconds),
        ("--disk-mb", "disk_mb", disk_mb),
    ]:
        if checked(option, value) is not None:
            limits = replace(limits, **{field: value})
    for option, field, value in [
        ("--max-notebook-mb", "notebook_mb", max_notebook_mb),
        ("--max-cells", "cells", max_cells),
        ("--max-submission-mb", "submission_mb", max_submission_mb),
        ("--max-autograded-mb", "autograded_mb", max_autograded_mb),
    ]:
        if checked(option, value) is not None:
            caps = replace(caps, **{field: value})
    checked("--budget-seconds", budget_seconds)
    records = grade_class(
        layout,
        unit,
        students,
        workers,
        sandbox,
        limits,
        figures=figures,
        say=_say,
        caps=caps,
        budget_seconds=budget_seconds,
    )
    return exit_status(records)


def similarity(
    layout: Layout, unit: str, threshold: str | float | None, added_cells: bool = False
) -> int:
    """Compare the submissions of ``unit`` with each other and with dlkit; exit 1 if any
    pair is flagged or any submission could not be compared."""
    from dlgrade import similarity as sim

    threshold = sim.parse_threshold(threshold)
    unit = layout.require_unit(unit)
    report = sim.compare(layout, unit, threshold, added_cells)
    for line in sim.summary(report):
        _say(line)
    files = sim.output_files(layout, unit)
    _say(f"report: {files['html']} and {files['csv']}")
    return 1 if report.flagged or report.skipped else 0


def export(layout: Layout, csv_path: Path | None) -> int:
    """Export all grades from the gradebook to a CSV file, with a status per submission."""
    from dlgrade.status import export_with_status, submissions_in_gradebook

    target = (csv_path or layout.state / "grades.csv").resolve()
    if csv_path is not None and not target.parent.is_dir():
        raise DlgradeError(f"CSV {target}: folder {target.parent} does not exist")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "nbgrader.csv"
        status = run_nbgrader(["export", f"--to={raw}"], layout).returncode
        if status != 0 or not raw.is_file():
            return status or 1
        counts = export_with_status(
            layout, raw, target, submissions_in_gradebook(layout), with_similarity=True
        )
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    _say(f"grades written to {target} ({summary or 'no rows'})")
    return 0


def validate(layout: Layout, notebook: Path, invert: bool) -> int:
    """Run a notebook's tests like nbgrader validate; exit 1 unless they all pass."""
    if notebook.suffix != ".ipynb" or not notebook.is_file():
        raise DlgradeError(f"NOTEBOOK {notebook}: expected an existing .ipynb file")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        args = [str(notebook.resolve()), f"--output={out}"] + (["--invert"] if invert else [])
        proc = run_module("dlgrade.validate_app", args, layout)
        if proc.returncode != 0 or not out.is_file():
            raise DlgradeError(
                f"NOTEBOOK {notebook} could not be validated (see nbgrader's log above)"
            )
        results = json.loads(out.read_text())
    return _report_validation(notebook, results, invert)


def _report_validation(notebook: Path, results: dict, invert: bool) -> int:
    for cell in results.get("type_changed", []):
        _say(f"CELL TYPE CHANGED ({cell['old_type']} -> {cell['new_type']}):\n{cell['source']}\n")
    for cell in results.get("changed", []):
        _say(f"TEST CELL MODIFIED (its checksum changed):\n{cell['source']}\n")
    for cell in results.get("failed", []):
        error = _ANSI.sub("", cell["raw_error"])
        _say(f"FAILED:\n{cell['source']}\n--- error ---\n{error}\n")
    for cell in results.get("passed", []):
        _say(f"PASSED (expected to fail with --invert):\n{cell['source']}\n")
    if results:
        counts = ", ".join(f"{len(v)} {k}" for k, v in results.items())
        _say(f"{notebook}: VALIDATION FAILED ({counts})")
        return 1
    _say(f"{notebook}: " + ("no test passes" if invert else "all tests pass"))
    return 0
