"""``dlgrade``: the instructor's command line for grading the course with nbgrader.

Run ``dlgrade --help`` or see ``grading/README.md``.  Every command runs real nbgrader from
``grading/`` (see :mod:`dlgrade.nbgrader_run`); exit status 0 means success, 1 that something
was not graded or did not pass, 2 bad input or a broken setup.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dlgrade import commands
from dlgrade.errors import DlgradeError
from dlgrade.paths import Layout

_EPILOG = """\
folders (override with environment variables):
  DLGRADE_SOURCE_DIR   source units            (default: solutions/)
  DLGRADE_RELEASE_DIR  release for students    (default: course/)
  DLGRADE_STATE_DIR    submitted/, autograded/, feedback/, gradebook.db (default: grading/)
  DLGRADE_CONFIG_DIR   folder of nbgrader_config.py (default: grading/)
  DLGRADE_CELL_TIMEOUT seconds a cell may run when grading (default: 300)
  DLGRADE_DB_URL       SQLAlchemy URL of the gradebook (default: SQLite in the state folder)
  DLGRADE_SCHEDULER    Dask scheduler 'dlgrade grade' uses (default: a LocalCluster)
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``dlgrade``."""
    parser = argparse.ArgumentParser(
        prog="dlgrade",
        description="Grade the deep-learning course with nbgrader.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("paths", help="show where grading reads and writes")

    p = sub.add_parser(
        "release", help="regenerate course/ from solutions/ (nbgrader generate_assignment --force)"
    )
    p.add_argument("units", nargs="*", metavar="UNIT", help="units to release (default: all)")

    p = sub.add_parser("students", help="manage the students in the gradebook")
    ssub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = ssub.add_parser("add", help="add or update one student")
    a.add_argument("student", metavar="ID")
    a.add_argument("--first-name")
    a.add_argument("--last-name")
    a.add_argument("--email")
    a = ssub.add_parser(
        "import",
        help="add or update students from a CSV file (columns: id,first_name,last_name,email)",
    )
    a.add_argument("csv", metavar="CSV", type=Path)
    ssub.add_parser("list", help="list the students")

    p = sub.add_parser("collect", help="copy SRC/<student_id>/<UNIT>/ into grading/submitted/")
    p.add_argument("unit", metavar="UNIT")
    p.add_argument("src", metavar="SRC", type=Path)

    p = sub.add_parser("autograde", help="autograde the submissions of a unit")
    p.add_argument("unit", metavar="UNIT")
    p.add_argument("--student", metavar="ID", help="only this student's submission")

    p = sub.add_parser(
        "grade",
        help="grade a whole class: every submission sandboxed, in parallel, with a status each",
    )
    p.add_argument("unit", metavar="UNIT")
    p.add_argument(
        "--student",
        metavar="ID",
        action="append",
        dest="students",
        help="only this student (repeatable; default: the roster and every submission)",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="submissions graded at the same time on the LocalCluster dlgrade starts "
        "(default: two per CPU core; with --scheduler the cluster's worker threads decide)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on this existing Dask cluster (e.g. tcp://HOST:8786; default: the "
        "environment variable DLGRADE_SCHEDULER, else a LocalCluster on this machine)",
    )
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run student code WITHOUT the bubblewrap sandbox (development only)",
    )
    p.add_argument(
        "--figures",
        action="store_true",
        help="draw the notebooks' figures into the autograded notebooks and feedback "
        "(default: not drawn -- no score depends on them, and drawing is about a third "
        "of the grading time)",
    )
    p.add_argument(
        "--memory-mb", type=int, metavar="MB", help="address-space limit per kernel (4096)"
    )
    p.add_argument("--cpu-seconds", type=int, metavar="S", help="CPU time per notebook (1800)")
    p.add_argument(
        "--disk-mb", type=int, metavar="MB", help="space of a kernel's /tmp, home and folder (256)"
    )
    p.add_argument(
        "--budget-seconds",
        type=int,
        metavar="S",
        help="wall-clock seconds per submission (default: 10 x the unit's solution run time "
        "in grading/budgets.json, at least 120)",
    )
    p.add_argument(
        "--max-notebook-mb", type=int, metavar="MB", help="largest submitted notebook (20)"
    )
    p.add_argument(
        "--max-cells",
        type=int,
        metavar="N",
        help="most cells per notebook (default: 4 x the released notebook's, at least 200)",
    )
    p.add_argument(
        "--max-submission-mb", type=int, metavar="MB", help="largest submission folder (50)"
    )
    p.add_argument(
        "--max-autograded-mb",
        type=int,
        metavar="MB",
        help="largest autograded notebook; larger ones have their outputs cut (50)",
    )

    p = sub.add_parser("feedback", help="write HTML feedback for a graded unit")
    p.add_argument("unit", metavar="UNIT")
    p.add_argument("--student", metavar="ID", help="only this student's feedback")

    p = sub.add_parser(
        "similarity",
        help="compare the answers of a unit's submissions with each other and with dlkit "
        "(copydetect); writes similarity/UNIT.html and .csv",
    )
    p.add_argument("unit", metavar="UNIT")
    p.add_argument(
        "--threshold",
        metavar="FRACTION",
        help="flag a pair when this share of one student's code, in (0, 1], is found in the "
        "other's or in dlkit's (default: 0.6)",
    )
    p.add_argument(
        "--added-cells",
        action="store_true",
        help="also compare the code cells students added (not only the answer cells)",
    )

    p = sub.add_parser("export", help="export all grades to a CSV file")
    p.add_argument(
        "csv", metavar="CSV", nargs="?", type=Path, help="output file (default: grading/grades.csv)"
    )

    p = sub.add_parser("validate", help="run a notebook's tests; exit 1 unless all pass")
    p.add_argument("notebook", metavar="NOTEBOOK", type=Path)
    p.add_argument(
        "--invert",
        action="store_true",
        help="fail if any test passes instead (e.g. for a released notebook)",
    )
    return parser


def run(args: argparse.Namespace, layout: Layout) -> int:
    """Dispatch parsed ``args`` to :mod:`dlgrade.commands`."""
    if args.command == "paths":
        return commands.paths(layout)
    if args.command == "release":
        return commands.release(layout, args.units)
    if args.command == "students":
        if args.action == "add":
            return commands.students_add(
                layout, args.student, args.first_name, args.last_name, args.email
            )
        if args.action == "import":
            return commands.students_import(layout, args.csv)
        return commands.students_list(layout)
    if args.command == "collect":
        return commands.collect_submissions(layout, args.unit, args.src)
    if args.command == "autograde":
        return commands.autograde(layout, args.unit, args.student)
    if args.command == "grade":
        if args.scheduler:  # read by dlgrade.grade.grade (see dlgrade.cluster)
            from dlgrade.cluster import ENV_SCHEDULER

            os.environ[ENV_SCHEDULER] = args.scheduler
        return commands.grade(
            layout,
            args.unit,
            args.students,
            args.workers,
            not args.no_sandbox,
            args.memory_mb,
            args.cpu_seconds,
            args.figures,
            disk_mb=args.disk_mb,
            budget_seconds=args.budget_seconds,
            max_notebook_mb=args.max_notebook_mb,
            max_cells=args.max_cells,
            max_submission_mb=args.max_submission_mb,
            max_autograded_mb=args.max_autograded_mb,
        )
    if args.command == "feedback":
        return commands.feedback(layout, args.unit, args.student)
    if args.command == "similarity":
        return commands.similarity(layout, args.unit, args.threshold, args.added_cells)
    if args.command == "export":
        return commands.export(layout, args.csv)
    return commands.validate(layout, args.notebook, args.invert)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dlgrade`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return run(args, Layout.from_env())
    except DlgradeError as exc:
        print(f"dlgrade: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
