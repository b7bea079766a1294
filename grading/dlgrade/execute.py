"""nbgrader's ``Execute`` made to survive a dying or unstoppable kernel, keeping partial results.

Stock nbgrader aborts the whole submission when the kernel dies (``os._exit``, a segfault, a
memory or CPU-time limit) or when a timed-out cell ignores the interrupt (a loop that swallows
``KeyboardInterrupt``): no autograded notebook is written, and the export shows 0, the same as
a real zero.  :class:`GuardedExecute` instead

* records a cell that ran out of time (the kernel is interrupted, as before, and grading goes
  on) -- status ``timed_out``;
* kills the kernel when it is still busy ``iopub_timeout`` seconds after the interrupt, and
  stops -- status ``timed_out``;
* stops when the kernel died -- status ``crashed``;

and in the last two cases gives every graded code cell that did not run an error output
("not run"), so those tests score 0 while every cell that did run keeps its real result.  The
outcome goes into the notebook metadata ``dlgrade.execution``::

    {"status": "ok" | "timed_out" | "crashed", "reason": "...", "cells_not_run": [grade ids]}

which :mod:`dlgrade.status` turns into the student's grading status.  ``sandbox = True``
(set by ``nbgrader_config.py`` when ``DLGRADE_SANDBOX=1``) runs the kernel with
:class:`dlgrade.sandbox.SandboxKernelManager`.
"""

from __future__ import annotations

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Bool

METADATA_KEY = "dlgrade"


def _label(cell, index: int) -> str:
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"cell {gid!r}" if gid else f"cell #{index + 1}"


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(
        output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


class GuardedExecute(Execute):
    """``Execute`` that keeps partial results when the kernel dies or cannot be stopped."""

    sandbox = Bool(False, help="Run the kernel in a bubblewrap sandbox (dlgrade.sandbox).").tag(
        config=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.sandbox:
            from dlgrade.sandbox import SandboxKernelManager, require_bwrap

            require_bwrap()
            self.kernel_manager_class = SandboxKernelManager

    def preprocess(self, nb, resources=None, km=None):
        self._outcome = {"status": "ok", "reason": "", "cells_not_run": []}
        self._stopped = False
        try:
            nb, resources = super().preprocess(nb, resources, km)
        finally:
            nb.metadata.setdefault(METADATA_KEY, {})["execution"] = self._outcome
        return nb, resources

    async def _async_handle_timeout(self, timeout, cell=None):
        if cell is not None:
            index = self.nb.cells.index(cell) if cell in self.nb.cells else 0
            self._note("timed_out", f"{_label(cell, index)} ran longer than {timeout} s")
        return await super()._async_handle_timeout(timeout, cell)

    def preprocess_cell(self, cell, resources, index):
        if self._stopped:
            if cell.cell_type == "code" and utils.is_grade(cell):
                cell.outputs = [_error("CellNotRun", "not run: " + self._outcome["reason"])]
                self._outcome["cells_not_run"].append(cell.metadata["nbgrader"]["grade_id"])
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stop(
                "crashed",
                f"the kernel died while running {_label(cell, index)} (the code exited, "
                "crashed, or went over its memory or CPU-time limit)",
            )
            cell.outputs.append(_error("DeadKernelError", self._outcome["reason"]))
        except CellTimeoutError:
            self._stop(
                "timed_out",
                f"{_label(cell, index)} did not stop when interrupted after running out of "
                "time; its kernel was killed",
            )
            cell.outputs.append(_error("CellTimeoutError", self._outcome["reason"]))
            self._kill()
        return cell, resources

    def _note(self, status: str, reason: str) -> None:
        if self._outcome["status"] == "ok":
            self._outcome.update(status=status, reason=reason)
        elif reason not in self._outcome["reason"]:
            self._outcome["reason"] += "; " + reason

    def _stop(self, status: str, reason: str) -> None:
        self._stopped = True
        self._outcome.update(status=status, reason=reason)
        self.log.error("Stopping execution: %s", reason)

    def _kill(self) -> None:
        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception as exc:  # already gone: nothing left to stop
            self.log.warning("Killing the kernel failed: %s", exc)
