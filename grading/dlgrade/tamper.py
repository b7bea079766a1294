"""Tamper detection in the autograde chain (registered in grading/nbgrader_config.py).

Every finding becomes a *flag* in the autograded notebook's metadata::

    nb.metadata["dlgrade"]["flags"] = [
        {"check": "<short id>", "cell": "<grade_id or null>", "reason": "<one sentence>"}, ...]

Scores are never changed here: a flagged submission keeps what nbgrader computed (the test
cells themselves always come from the gradebook, see below), and the class-wide status export
reports it as ``flagged`` so that an instructor reviews it. Three layers (grading/SECURITY.md):

* :class:`TamperStructure` (sanitize, before nbgrader's ``OverwriteCells``): locked cells that
  were edited, turned into another cell type, deleted, given an unknown or duplicate
  ``grade_id``. nbgrader then restores the grader's version, so the right tests run anyway;
  a cell with an unknown ``grade_id`` loses its nbgrader metadata (nbgrader 0.9.6 would abort
  the whole submission on it) and the real test cell is re-inserted.
* :class:`ScanStudentCode` (sanitize, after the cells are restored): the static scan of
  :mod:`dlgrade.tamper_scan` over every cell the student wrote.
* :class:`InjectGuard` / :class:`VerifyGuard` (around ``Execute``): the runtime guard of
  :mod:`dlgrade.guard_kernel`, whose cells are removed again before the notebook is saved.
"""

from __future__ import annotations

import ast
import hmac
import json
import secrets
from pathlib import Path

from nbformat.v4 import new_code_cell
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List, Unicode

from dlgrade.tamper_scan import defined_names, grader_bindings, scan_cell

FLAGS_KEY = "dlgrade"
KEY_FILE = ".dlgrade-guard-key"
MARKER = "DLGRADE-GUARD"
MAX_FLAGS = 40
GUARD_SOURCE = Path(__file__).with_name("guard_kernel.py")


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


def _imports_of(source: str) -> list[str]:
    """Modules imported by a grader cell (for the guard to import before student code runs)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
            found += [f"{node.module}.{a.name}" for a in node.names]
    return found


class InjectGuard(NbGraderPreprocessor):
    """Insert the runtime guard: a setup cell first, a check before every grader cell and one
    at the end. Run right before ``Execute``; :class:`VerifyGuard` undoes it."""

    forbidden = List(
        Unicode(),
        help="Folders the student's code may not open (besides its own): source and state.",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        key = secrets.token_hex(32)
        run = secrets.token_hex(8)
        imports = ["numpy", "numpy.testing", "dlkit", "dlkit.testing", "warnings", "math"]
        for cell in _grader_cells(nb):
            imports += [m for m in _imports_of(cell.source) if m not in imports]
        # The key travels in a file of the folder the kernel starts in (the sandbox copies that
        # folder in); the guard reads and deletes it before any student code runs.
        folder = Path(resources.get("metadata", {}).get("path") or ".").resolve()
        key_file = folder / KEY_FILE
        key_file.write_text(key)
        key_file.chmod(0o600)
        config = {"key_file": str(key_file), "imports": imports, "forbidden": self.forbidden}
        setup = _SETUP.format(source=GUARD_SOURCE.read_text(), config=config)
        cells, nonces = [_guard_cell(setup, f"{run}-setup")], [f"{run}-setup"]
        for cell in nb.cells:
            if cell.cell_type == "code" and utils.is_locked(cell):
                nonce = f"{run}-{len(nonces)}"
                cells.append(_check_cell(nonce, []))
                nonces.append(nonce)
                cells.append(cell)
                names = sorted(grader_bindings([cell.source]))
                if names:
                    nonce = f"{run}-{len(nonces)}"
                    cells.append(_check_cell(nonce, names))
                    nonces.append(nonce)
            else:
                cells.append(cell)
        nonce = f"{run}-{len(nonces)}"
        cells.append(_check_cell(nonce, []))
        nonces.append(nonce)
        nb.cells = cells
        resources["dlgrade_guard"] = {"key": key, "nonces": nonces, "key_file": str(key_file)}
        return nb, resources


# The guard's code gets a namespace of its own, with a private copy of the builtins.
_SETUP = """\
def _dlgrade_guard_setup(source, config):
    namespace = {{"__builtins__": dict(vars(__import__("builtins"))), "__name__": "dlgrade_guard"}}
    exec(compile(source, "<dlgrade-guard>", "exec"), namespace)
    namespace["install"](config)


_dlgrade_guard_setup({source!r}, {config!r})
del _dlgrade_guard_setup
"""


def _guard_cell(source: str, nonce: str):
    cell = new_code_cell(source)
    cell.metadata[FLAGS_KEY] = {"guard": nonce}
    cell.pop("id", None)
    return cell


def _check_cell(nonce: str, names: list[str]):
    return _guard_cell(f"__import__('sys').audit('dlgrade.guard', {nonce!r}, {names!r})", nonce)


def _guard_nonce(cell) -> str | None:
    meta = cell.metadata.get(FLAGS_KEY)
    return meta.get("guard") if isinstance(meta, dict) else None


def _reports(cell) -> list[str]:
    text = "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"
    )
    return [line for line in text.splitlines() if line.startswith(MARKER)]


class VerifyGuard(NbGraderPreprocessor):
    """Check the guard's signed reports, turn its findings into flags, remove its cells.

    Run right after ``Execute``.
    """

    def preprocess(self, nb, resources):
        guard = resources.pop("dlgrade_guard", None)
        if guard is None:
            return nb, resources
        Path(guard["key_file"]).unlink(missing_ok=True)  # the kernel normally deleted it
        key = guard["key"].encode()
        kept, setup_failed, reported = [], False, set()
        following, annotated = None, []  # each cell with the next non-guard cell after it
        for cell in reversed(nb.cells):
            if _guard_nonce(cell) is None:
                following = cell
            annotated.append((cell, following))
        for cell, after in reversed(annotated):
            nonce = _guard_nonce(cell)
            if nonce is None:
                kept.append(cell)
                continue
            where = _grade_id(after) if after is not None else None
            before = f"before cell {where!r}" if where else "at the end of the notebook"
            if nonce.endswith("-setup"):
                if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                    setup_failed = True
                    add_flag(
                        nb,
                        "guard-failed",
                        None,
                        "the grader's runtime guard could not start; only the static checks ran",
                    )
                continue
            if setup_failed:
                continue
            findings = _verify(cell, nonce, key)
            if findings is None and cell.get("execution_count") is None:
                continue  # not run: the kernel died or timed out before (see dlgrade.execute)
            if findings is None:
                add_flag(
                    nb,
                    "guard-missing",
                    where,
                    f"the grader's integrity check {before} did not run or its report was "
                    "forged (were later cells rewritten, e.g. by an input transformer?)",
                )
                continue
            for check, detail in findings:
                if (check, detail) not in reported:  # a change persists: report it once
                    reported.add((check, detail))
                    add_flag(nb, check, where, f"found {before}: {detail}")
        nb.cells = kept
        return nb, resources


def _verify(cell, nonce: str, key: bytes) -> list | None:
    """The findings of a check cell, or None when its report is missing or not authentic."""
    reports = _reports(cell)
    if len(reports) != 1:
        return None
    parts = reports[0].split(" ", 3)
    if len(parts) != 4 or parts[1] != nonce:
        return None
    expected = hmac.new(key, f"{nonce}|{parts[3]}".encode(), "sha256").hexdigest()
    if not hmac.compare_digest(expected, parts[2]):
        return None
    try:
        findings = json.loads(parts[3])
    except ValueError:
        return None
    return [tuple(item) for item in findings if isinstance(item, list) and len(item) == 2]
