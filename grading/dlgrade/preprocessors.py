"""nbgrader preprocessors that harden the course's grading (registered in nbgrader_config.py).

* :class:`StderrToStdout` -- nbgrader scores a test cell 0 when it has *any* ``stderr`` stream
  output (``nbgrader.utils.determine_grade``), so a correct solution that triggers a
  ``warnings.warn`` (or a library that logs to stderr) would lose the exercise.  Run after
  ``Execute``, it renames those streams to ``stdout`` in graded code cells, keeping the text.
  Failures still count: the course's tests raise, which gives an ``error`` output.
* :class:`StripWidgetState` -- drops the notebook-level ``metadata.widgets`` blob that JupyterLab
  saves (``application/vnd.jupyter.widget-state+json``); nbgrader keeps it by default.
* :class:`ReinsertMissingCells` -- puts deleted grade cells back without nbgrader's crash.
"""

from __future__ import annotations

import re

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells


class StderrToStdout(NbGraderPreprocessor):
    """Turn ``stderr`` stream outputs of graded code cells into ``stdout`` (text unchanged)."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
        return cell, resources


class StripWidgetState(NbGraderPreprocessor):
    """Remove the saved Jupyter widget state (``metadata.widgets``) from the notebook."""

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        return nb, resources


class ReinsertMissingCells(OverwriteCells):
    """nbgrader's ``OverwriteCells`` whose re-insertion of deleted grade cells cannot crash.

    With ``add_missing_cells``, nbgrader 0.9.6 puts a deleted grade cell right after the source
    cell that preceded it, and raises ``KeyError`` when that cell is gone too (a student deleted
    a whole exercise: answer and test) or is a locked, ungraded cell; the student's submission
    then fails to grade at all.  Here each missing grade cell goes after the nearest earlier
    source cell still present, else before the nearest later one, else at the end.
    """

    def add_missing_grade_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [cell.name for cell in source_nb.source_cells]
        sources = {cell.name: cell for cell in source_nb.source_cells}
        solutions = {cell.name for cell in source_nb.solution_cells}
        for grade_cell in sorted(source_nb.grade_cells, key=lambda c: order.index(c.name)):
            present = {
                cell["metadata"]["nbgrader"]["grade_id"]: i  # re-added cells are dicts
                for i, cell in enumerate(nb.cells)
                if "grade_id" in cell["metadata"].get("nbgrader", {})
            }
            if grade_cell.name in present:
                continue
            self.log.warning(
                "Missing grade cell %s encountered, adding to notebook", grade_cell.name
            )
            cell = self.missing_cell_transform(
                sources[grade_cell.name],
                grade_cell.max_score,
                is_solution=grade_cell.name in solutions,
            )
            cell["id"] = "restored-" + re.sub(r"[^A-Za-z0-9_-]", "-", grade_cell.name)[:50]
            nb.cells.insert(_insert_at(order, present, grade_cell.name, len(nb.cells)), cell)
        return nb, resources


def _insert_at(order: list[str], present: dict[str, int], name: str, n_cells: int) -> int:
    """Index for re-inserting cell ``name``, given the source ``order`` and present cells."""
    k = order.index(name)
    for earlier in reversed(order[:k]):
        if earlier in present:
            return present[earlier] + 1
    for later in order[k + 1 :]:
        if later in present:
            return present[later]
    return n_cells
