"""nbgrader configuration of the deep-learning course.

nbgrader reads this file from its working directory, so run nbgrader from ``grading/`` -- or,
better, use the ``dlgrade`` CLI, which does that and makes a broken config file an error
(plain nbgrader logs the exception and carries on with its defaults).

Paths come from :mod:`dlgrade.paths` (``DLGRADE_*`` environment variables move the release and
the mutable state elsewhere, which the tests rely on).  Every hardening below has a test in
``tests/grading/`` and a line in ``grading/README.md``.
"""

import os

from dlgrade.execute import GuardedExecute
from dlgrade.feedback import HideHiddenTests
from dlgrade.paths import COURSE_ID, Layout
from dlgrade.preprocessors import ReinsertMissingCells, StderrToStdout, StripWidgetState
from dlgrade.tamper import ScanStudentCode, TamperStructure
from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
from nbgrader.preprocessors import ClearOutput, Execute, GetGrades, OverwriteCells

c = get_config()  # noqa: F821  (injected by traitlets)
layout = Layout.from_env()

# --- where things live ------------------------------------------------------------------------
c.CourseDirectory.course_id = COURSE_ID
c.CourseDirectory.root = str(layout.root)
c.CourseDirectory.source_directory = layout.step(layout.source)
c.CourseDirectory.release_directory = layout.step(layout.release)
c.CourseDirectory.submitted_directory = layout.step(layout.submitted)
c.CourseDirectory.autograded_directory = layout.step(layout.autograded)
c.CourseDirectory.feedback_directory = layout.step(layout.feedback)
c.CourseDirectory.db_url = layout.db_url
# What a notebook writes next to itself goes into its outputs/ folder (exported models, logs,
# results): never part of a release, never committed (.gitignore).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "outputs"]


def _seconds(name, default):
    """A positive whole number of seconds from environment variable ``name``."""
    value = os.environ.get(name, "").strip() or default
    if not value.isdigit() or int(value) <= 0:
        raise ValueError(f"{name}={value!r}: expected a positive whole number of seconds")
    return int(value)


def _defaults(converter, trait):
    """A copy of nbgrader's default preprocessor list ``converter.trait``."""
    return list(converter.class_traits()[trait].default())


# --- execution: per-cell timeout ---------------------------------------------------------------
# nbgrader gives a cell 30 s; later units train small networks on CPU.  Unit authors keep every
# cell under about a minute on a laptop, so 300 s leaves 5x headroom for a slow or busy grading
# machine while still bounding a student's infinite loop.  On timeout the kernel is interrupted,
# that cell gets an error (its test scores 0) and grading goes on with the next cell.
# DLGRADE_CELL_TIMEOUT overrides it (the tests use a few seconds).
c.Execute.timeout = _seconds("DLGRADE_CELL_TIMEOUT", "300")
c.Execute.interrupt_on_timeout = True

# --- autograde -------------------------------------------------------------------------------
sanitize = _defaults(Autograde, "sanitize_preprocessors")
# Students' saved widget state is dead weight in the graded copy.
sanitize.insert(sanitize.index(ClearOutput) + 1, StripWidgetState)
# A grade cell the student deleted is put back (from the gradebook) and run; nbgrader's own
# re-insertion crashes when the neighbouring cell was deleted too, so use the fixed subclass.
sanitize[sanitize.index(OverwriteCells)] = ReinsertMissingCells
# Tamper detection (dlgrade/tamper.py, grading/SECURITY.md): edited, retyped, deleted or renamed
# grader cells are flagged before nbgrader restores them; then the student's cells are scanned.
sanitize.insert(sanitize.index(ReinsertMissingCells), TamperStructure)
sanitize.insert(sanitize.index(ReinsertMissingCells) + 1, ScanStudentCode)
c.Autograde.sanitize_preprocessors = sanitize
c.OverwriteCells.add_missing_cells = True

autograde = _defaults(Autograde, "autograde_preprocessors")
# A warning written to stderr by correct code must not zero a test cell.
autograde.insert(autograde.index(Execute) + 1, StderrToStdout)
# A kernel that dies or ignores the interrupt no longer aborts the submission: the cells that
# ran keep their results, the rest score 0, and the outcome is recorded for `dlgrade grade`.
# Test cells run in a grader process apart from the student's kernel (dlgrade/harness.py): no
# student code shares a process with a verdict, an expected value or the graded reference.
# With DLGRADE_SANDBOX=1 (set by `dlgrade grade`) the kernel runs in bubblewrap (sandbox.py).
autograde[autograde.index(Execute)] = GuardedExecute
c.GuardedExecute.sandbox = os.environ.get("DLGRADE_SANDBOX", "") == "1"
c.Autograde.autograde_preprocessors = autograde

# --- feedback --------------------------------------------------------------------------------
# Feedback shows each test cell's points and the failed check's message, never hidden test code
# (cut from the test cells and from every traceback: dlgrade/feedback.py).
feedback = _defaults(GenerateFeedback, "preprocessors")
feedback.insert(feedback.index(GetGrades) + 1, HideHiddenTests)
c.GenerateFeedback.preprocessors = feedback

# --- release ---------------------------------------------------------------------------------
# JupyterLab saves widget state into the notebook metadata; it must not reach course/.
release = _defaults(GenerateAssignment, "preprocessors")
release.insert(release.index(ClearOutput) + 1, StripWidgetState)
c.GenerateAssignment.preprocessors = release
