"""Copy a folder of student submissions into nbgrader's ``submitted/`` tree.

The input is what an LMS export or a shared drive gives after unpacking::

    SRC/<student_id>/<unit>/<unit>.ipynb   (plus any other files the student handed in)

Each student's ``<unit>`` folder replaces ``submitted/<student_id>/<unit>/``.  Nothing is
skipped silently: a student folder without the unit is listed as "no submission", and a
submission that nbgrader would not grade (missing or misnamed notebook, unusable student id)
is a problem that makes ``dlgrade collect`` exit non-zero after copying the others.

nbgrader's own ``nbgrader collect`` does the same from the JupyterHub exchange folder
(after ``nbgrader release_assignment`` / students' ``nbgrader submit``), and
``nbgrader zip_collect`` from one archive per student; use those when grading through
the exchange.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.errors import DlgradeError
from dlgrade.paths import Layout

_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", ".DS_Store")


@dataclass
class CollectReport:
    """What :func:`collect` did, student by student."""

    copied: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def expected_notebooks(layout: Layout, unit: str) -> list[str]:
    """File names of the unit's notebooks, as students receive them."""
    return sorted(p.name for p in (layout.source / unit).glob("*.ipynb"))


def collect(layout: Layout, unit: str, src: Path) -> CollectReport:
    """Copy ``src/<student_id>/<unit>/`` into the submitted tree for every student in ``src``."""
    if not src.is_dir():
        raise DlgradeError(
            f"SRC {src} is not a folder; expected a folder laid out as "
            f"SRC/<student_id>/{unit}/{unit}.ipynb"
        )
    entries = sorted(p for p in src.iterdir() if not p.name.startswith("."))
    if not any(p.is_dir() for p in entries):
        raise DlgradeError(
            f"SRC {src} holds no student folders; expected SRC/<student_id>/{unit}/{unit}.ipynb"
        )
    expected = expected_notebooks(layout, unit)
    report = CollectReport()
    for entry in entries:
        if not entry.is_dir():
            report.problems.append(f"{entry} is not a student folder (not copied)")
        elif not (entry / unit).is_dir():
            report.absent.append(entry.name)
        else:
            _collect_one(layout, unit, entry.name, entry / unit, expected, report)
    return report


def _collect_one(
    layout: Layout,
    unit: str,
    student: str,
    folder: Path,
    expected: list[str],
    report: CollectReport,
) -> None:
    if not _STUDENT_ID.match(student):
        report.problems.append(
            f"{folder}: student id {student!r} is not usable by nbgrader (not copied); expected "
            "letters, digits and _.@- only"
        )
        return
    found = sorted(p.name for p in folder.glob("*.ipynb"))
    missing = [name for name in expected if name not in found]
    if len(missing) == len(expected):
        report.problems.append(
            f"{folder}: no {' or '.join(expected)} (found: {', '.join(found) or 'no notebooks'}; "
            "not copied); rename the student's notebook to the released name"
        )
        return
    if missing:
        report.problems.append(f"{folder}: missing {', '.join(missing)} (they will score 0)")
    dest = layout.submitted / student / unit
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(folder, dest, ignore=_IGNORE)
    report.copied.append(student)
