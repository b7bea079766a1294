"""Tamper detection in the autograde chain (registered in grading/nbgrader_config.py).

Every finding becomes a *flag* in the autograded notebook's metadata::

    nb.metadata["dlgrade"]["flags"] = [
        {"check": "<short id>", "cell": "<grade_id or null>", "reason": "<one sentence>"}, ...]

Scores are never changed here: a flagged submission keeps what nbgrader computed (the test
cells themselves always come from the gradebook, see below), and the class-wide status export
reports it as ``flagged`` so that an instructor reviews it. Two layers (grading/SECURITY.md):

* :class:`TamperStructure` (sanitize, before nbgrader's ``OverwriteCells``): locked cells that
  were edited, turned into another cell type, deleted, given an unknown or duplicate
  ``grade_id``. nbgrader then restores the grader's version, so the right tests run anyway;
  a cell with an unknown ``grade_id`` loses its nbgrader metadata (nbgrader 0.9.6 would abort
  the whole submission on it) and the real test cell is re-inserted.
* :class:`ScanStudentCode` (sanitize, after the cells are restored): the static scan of
  :mod:`dlgrade.tamper_scan` over every cell the student wrote.

Test cells do not run in the student's kernel (:mod:`dlgrade.harness`), so nothing in the
kernel can change a verdict; these checks remain as *flags for review*: they say that a
student tried, which an instructor wants to know even when it bought nothing.
"""

from __future__ import annotations

from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from dlgrade.tamper_scan import defined_names, grader_bindings, scan_cell

FLAGS_KEY = "dlgrade"
MAX_FLAGS = 40


def flags_of(nb) -> list[dict]:
    """The flags recorded in notebook ``nb`` (a list, possibly empty)."""
    return list(nb.metadata.get(FLAGS_KEY, {}).get("flags", []))


def add_flag(nb, check: str, cell: str | None, reason: str) -> None:
    """Record one flag in ``nb``'s metadata (duplicates and flags beyond 40 are dropped)."""
    meta = nb.metadata.setdefault(FLAGS_KEY, {})
    flags = meta.setdefault("flags", [])
    entry = {"check": check, "cell": cell, "reason": reason}
    if entry not in flags and len(flags) < MAX_FLAGS:
        flags.append(entry)


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _describe(cell, index: int) -> str:
    gid = _grade_id(cell)
    return f"answer cell {gid!r}" if gid else f"cell {index + 1} (added by the student)"


class TamperStructure(NbGraderPreprocessor):
    """Flag edited, retyped, deleted and renamed grader cells; drop unknown ``grade_id``s."""

    def preprocess(self, nb, resources):
        nb.metadata.pop(FLAGS_KEY, None)  # a student cannot pre-fill (or pre-clear) the flags
        for cell in nb.cells:
            cell.metadata.pop(FLAGS_KEY, None)
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            source_nb = gb.find_notebook(info["notebook"], info["assignment"])
            sources = {c.name: (c.cell_type, c.source, c.locked) for c in source_nb.source_cells}
            # the cells whose deletion matters: tests, and read-only code (the setup cell)
            kept = {c.name for c in source_nb.source_cells if c.locked and c.cell_type == "code"}
            answers = {c.name for c in source_nb.solution_cells}
            graded = {c.name for c in source_nb.grade_cells} - answers  # the test cells
        seen = set()
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if not isinstance(meta, dict) or "grade_id" not in meta:
                continue
            gid = meta["grade_id"]
            if gid not in sources:
                add_flag(
                    nb,
                    "unknown-grade-id",
                    None,
                    f"a cell carries grade_id {gid!r}, which this unit does not have (a changed "
                    "grade_id?); it was graded as an ordinary cell and the unit's own cell was "
                    "restored",
                )
                del cell.metadata["nbgrader"]
                continue
            if gid in seen:
                add_flag(nb, "duplicate-grade-id", gid, f"grade_id {gid!r} appears twice")
            seen.add(gid)
            cell_type, source, locked = sources[gid]
            if cell.cell_type != cell_type:
                fix = "the grader's cell was run instead" if locked else "nbgrader turned it back"
                add_flag(
                    nb,
                    "cell-type-changed",
                    gid,
                    f"cell {gid!r} was turned from {cell_type} into {cell.cell_type}; {fix}",
                )
            elif locked and _visible(cell.source) != _visible(source):
                add_flag(
                    nb,
                    "locked-cell-edited",
                    gid,
                    f"the read-only cell {gid!r} was edited; the grader's version was run",
                )
        for gid in sources:
            if gid not in seen and (gid in graded or gid in kept - answers):
                what = "test cell" if gid in graded else "read-only cell"
                add_flag(
                    nb,
                    "cell-deleted",
                    gid,
                    f"the {what} {gid!r} was deleted"
                    + ("; it was restored and run" if gid in graded else ""),
                )
        return nb, resources


def _visible(source: str) -> str:
    """``source`` without its hidden-test regions, as the release shows it (stripped)."""
    lines, hidden = [], False
    for line in source.split("\n"):
        if "BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            lines.append(line.rstrip())
    return "\n".join(lines).strip()


def _grader_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and utils.is_locked(c)]


class ScanStudentCode(NbGraderPreprocessor):
    """Flag tampering constructs in the cells the student wrote (:mod:`dlgrade.tamper_scan`)."""

    def preprocess(self, nb, resources):
        bindings = grader_bindings([c.source for c in _grader_cells(nb)])
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:  # the unit's own answers, not the student's
            source_nb = gb.find_notebook(info["notebook"], info["assignment"])
            answers = {c.name for c in source_nb.solution_cells}
            owned = defined_names([c.source for c in source_nb.source_cells if c.name in answers])
        modules: dict[str, str] = {}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or utils.is_locked(cell):
                continue
            for finding in scan_cell(cell.source, bindings, modules, owned):
                add_flag(
                    nb,
                    finding.check,
                    _grade_id(cell),
                    f"{_describe(cell, index)}, line {finding.line}: {finding.reason}",
                )
        return nb, resources
