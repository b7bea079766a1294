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

which :mod:`dlgrade.status` turns into the student's grading status.

**Test cells run apart from the student's code.** When the notebook is autograded (nbgrader
passes the gradebook in ``resources``), every cell runs in the student's kernel *except* the
unit's test cells: those run in a grader process (:mod:`dlgrade.harness`) that holds dlkit's
reference and the hidden tests and reaches the student's functions through proxies, while
the kernel serves it (:func:`dlkit.testing.remote.serve`) for the duration of the cell. The
grader's verdict and messages become the test cell's outputs; the kernel's printed output
during the test is appended as plain text, which cannot turn a failure into a pass. Which
cells are tests, and their source, come from the gradebook, not from the submission. Locked
cells that are not tests (the setup cell) run in both processes.

**Limits.** ``DLGRADE_SUBMISSION_SECONDS`` bounds the whole notebook's run (each cell's
timeout is cut to what is left; when nothing is left, the remaining cells are not run and the
status is ``timed_out``); ``DLGRADE_MAX_CELLS`` bounds the number of code cells run; and each
cell keeps at most ``DLGRADE_MAX_OUTPUT_KB`` (default 1024) of output, the rest is dropped
with a note.

``sandbox = True``
(set by ``nbgrader_config.py`` when ``DLGRADE_SANDBOX=1``) runs the kernel with
:class:`dlgrade.sandbox.SandboxKernelManager`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Bool

METADATA_KEY = "dlgrade"
ENV_SUBMISSION_SECONDS = "DLGRADE_SUBMISSION_SECONDS"
ENV_MAX_CELLS = "DLGRADE_MAX_CELLS"
ENV_MAX_OUTPUT_KB = "DLGRADE_MAX_OUTPUT_KB"
SOCKET_NAME = "g.sock"
# The student's kernel runs this for the duration of one test cell (binds no name).
AGENT = '__import__("dlkit.testing.remote", fromlist=["serve"]).serve({path!r})'
KERNEL_TEXT_CHARS = 100_000  # the kernel's printed output kept per test cell


def _env_int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ValueError(f"{name}={raw!r}: expected a positive whole number")
    return int(raw)


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
        self._roles = _grader_cells(resources)
        self._grader = None
        self._grader_dir = None
        self._budget = _env_int(ENV_SUBMISSION_SECONDS, None)
        self._max_cells = _env_int(ENV_MAX_CELLS, None)
        self._max_output = 1024 * _env_int(ENV_MAX_OUTPUT_KB, 1024)
        self._out_size: dict[int, int] = {}
        self._cut: set[int] = set()
        self._started = time.monotonic()
        self._code_cells = 0
        try:
            nb, resources = super().preprocess(nb, resources, km)
        finally:
            nb.metadata.setdefault(METADATA_KEY, {})["execution"] = self._outcome
            if self._grader is not None:
                self._grader.close()
            if self._grader_dir is not None:
                shutil.rmtree(self._grader_dir, ignore_errors=True)
        return nb, resources

    # --- limits ------------------------------------------------------------------------------
    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        if self._budget is None:
            return timeout
        left = max(1, int(self._budget - (time.monotonic() - self._started)))
        return left if timeout is None else min(timeout, left)

    def output(self, outs, msg, display_id, cell_index):
        size = len(str(msg.get("content", {}).get("text", ""))) + sum(
            len(str(v)) for v in msg.get("content", {}).get("data", {}).values()
        )
        used = self._out_size.get(cell_index, 0) + size
        self._out_size[cell_index] = used
        if used > self._max_output:
            if cell_index not in self._cut:
                self._cut.add(cell_index)
                note = _stream(
                    f"\n[dlgrade: this cell printed more than {self._max_output // 1024} KB; "
                    "the rest of its output was dropped]\n"
                )
                outs.append(note)
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _over_limits(self, cell, index) -> bool:
        if cell.cell_type != "code":
            return False
        self._code_cells += 1
        if self._max_cells is not None and self._code_cells > self._max_cells:
            self._stop("timed_out", f"the notebook has more than {self._max_cells} code cells")
            return True
        if self._budget is not None and time.monotonic() - self._started >= self._budget:
            self._stop(
                "timed_out",
                f"the notebook ran past its time budget of {self._budget} s before "
                f"{_label(cell, index)}",
            )
            return True
        return False

    async def _async_handle_timeout(self, timeout, cell=None):
        if cell is not None:
            index = self.nb.cells.index(cell) if cell in self.nb.cells else 0
            self._note("timed_out", f"{_label(cell, index)} ran longer than {timeout} s")
        return await super()._async_handle_timeout(timeout, cell)

    def preprocess_cell(self, cell, resources, index):
        if not self._stopped:
            self._over_limits(cell, index)
        if self._stopped:
            if cell.cell_type == "code" and utils.is_grade(cell):
                cell.outputs = [_error("CellNotRun", "not run: " + self._outcome["reason"])]
                self._outcome["cells_not_run"].append(cell.metadata["nbgrader"]["grade_id"])
            return cell, resources
        role, source = self._role(cell)
        try:
            if role == "test":
                run_sync(self._async_test_cell)(cell, index, source)
                return cell, resources
            result = super().preprocess_cell(cell, resources, index)
            if role == "both":
                self._grader_setup(cell, index, source)
            return result
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

    # --- the two processes ---------------------------------------------------------------
    def _role(self, cell) -> tuple[str, str]:
        """("test" | "both" | "kernel", the gradebook's source) for ``cell``."""
        if not self._roles or cell.cell_type != "code":
            return "kernel", ""
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        return self._roles.get(gid, ("kernel", ""))

    def _ensure_grader(self):
        if self._grader is None:
            from dlgrade.harness import Grader

            if self.sandbox:  # the folder of the connection file is shared with the sandbox
                folder = Path(self.km.connection_file).parent
            else:
                folder = Path(tempfile.mkdtemp(prefix="dlg-g-"))
                self._grader_dir = folder
            self._grader = Grader(str(folder / SOCKET_NAME), uid=getattr(self.km, "_uid", None))
        return self._grader

    def _agent_path(self) -> str:
        return SOCKET_NAME if self.sandbox else self._grader.path

    def _grader_setup(self, cell, index, source) -> None:
        """Run a locked, ungraded cell (the setup cell) in the grader process too."""
        grader = self._ensure_grader()
        grader.start("setup", source, _label(cell, index))
        result = grader.wait(self._get_timeout(cell))
        if not result["passed"]:
            error = next((o for o in result["outputs"] if o["output_type"] == "error"), {})
            self.log.error("the grader could not run %s: %s", _label(cell, index), error)
            self._note(
                "crashed",
                f"the grader could not run {_label(cell, index)} "
                f"({error.get('ename', 'Error')}: {str(error.get('evalue', ''))[:300]})",
            )

    async def _async_test_cell(self, cell, index, source) -> None:
        """Run test ``cell``: the grader executes ``source``, the kernel serves it."""
        grader = self._ensure_grader()
        timeout = self._get_timeout(cell)
        grader.start("test", source, _label(cell, index))
        agent = NotebookNode(
            cell_type="code",
            source=AGENT.format(path=self._agent_path()),
            metadata={"nbgrader": {"grade_id": cell.metadata.get("nbgrader", {}).get("grade_id")}},
            outputs=[],
            execution_count=None,
        )
        kernel = asyncio.ensure_future(self.async_execute_cell(agent, index, store_history=True))
        verdict = asyncio.ensure_future(
            asyncio.to_thread(grader.wait, None if timeout is None else timeout + 5)
        )
        done, _ = await asyncio.wait({kernel, verdict}, return_when=asyncio.FIRST_COMPLETED)
        if kernel in done and verdict not in done:
            grader.abort()  # the agent ended first: no connection will come
        result = await verdict
        failure = None
        try:
            await kernel
        except (DeadKernelError, CellTimeoutError) as exc:
            failure = exc
        finally:
            self.nb.cells[index] = cell  # nbclient stored the agent's cell in its place
        cell.outputs = [*_kernel_text(agent), *(NotebookNode(o) for o in result["outputs"])]
        cell.execution_count = agent.get("execution_count")
        cell.metadata.setdefault(METADATA_KEY, {})["verdict"] = (
            "passed" if result["passed"] else "failed"
        )
        if failure is not None:
            raise failure

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


def _stream(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stdout", text=text)


def _kernel_text(agent_cell) -> list[NotebookNode]:
    """What the student's code printed while a test ran, as one plain-text output (errors
    and rich outputs of the kernel are not kept: the grader writes the verdict)."""
    text = "".join(
        str(o.get("text", "")) for o in agent_cell.outputs if o.get("output_type") == "stream"
    )
    if not text:
        return []
    if len(text) > KERNEL_TEXT_CHARS:
        text = text[:KERNEL_TEXT_CHARS] + "\n[dlgrade: the rest of the output was dropped]\n"
    return [_stream(text)]


def _grader_cells(resources) -> dict[str, tuple[str, str]]:
    """``{grade_id: (role, source)}`` of the unit's test cells ("test") and other locked code
    cells ("both"), read from the gradebook; empty when there is no gradebook (the notebook
    then runs entirely in its kernel, as in the student's own JupyterLab)."""
    info = (resources or {}).get("nbgrader") or {}
    if not info.get("db_url") or not info.get("notebook") or not info.get("assignment"):
        return {}
    from nbgrader.api import Gradebook

    with Gradebook(info["db_url"]) as gb:
        source_nb = gb.find_notebook(info["notebook"], info["assignment"])
        tests = {c.name for c in source_nb.grade_cells if c.cell_type == "code"}
        solutions = {c.name for c in source_nb.solution_cells}
        roles = {}
        for c in source_nb.source_cells:
            if c.cell_type != "code":
                continue
            if c.name in tests and c.name not in solutions:
                roles[c.name] = ("test", c.source)
            elif c.locked and c.name not in solutions and c.name not in tests:
                roles[c.name] = ("both", c.source)
    return roles
