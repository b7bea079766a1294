"""Feedback that teaches without giving the hidden tests away (registered in nbgrader_config.py).

nbgrader 0.9.6's ``generate_feedback`` renders the *autograded* notebook, whose test cells were
restored from the gradebook with their hidden part, and whose error outputs carry IPython's
coloured traceback, which prints the lines around the failing one: both would show the hidden
tests to the student. :class:`HideHiddenTests` runs after ``GetGrades`` and

* cuts every grader cell at ``### BEGIN HIDDEN TESTS`` (up to ``### END HIDDEN TESTS``, or to
  the end of the cell), leaving a one-line note of how many lines were hidden;
* rewrites every error output to the frames of the student's own cells followed by
  ``<ExceptionName>: <message>``: the message of a failed check is the teaching text
  (``CheckFailed`` explains what differs and how to fix it), while frames of grader cells and of
  library code are dropped; a failed check without a message says so instead of leaving the
  student with a bare exception name;
* withholds any output of a grader cell that quotes one of its hidden lines (student code that
  runs during a test, e.g. an IPython callback, could print the cell's source).

The feedback template already shows each test cell's points (``GetGrades`` puts them there).
"""

from __future__ import annotations

import re

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = re.compile(r"^\s*(?:Cell In\s*\[(\d+)\]|Input In\s*\[(\d+)\])")


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour codes."""
    return _ANSI.sub("", text)


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden test code from grader cells and from every traceback (module docstring)."""

    begin = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end = Unicode("END HIDDEN TESTS").tag(config=True)

    def preprocess(self, nb, resources):
        student_counts = {
            c.get("execution_count")
            for c in nb.cells
            if c.cell_type == "code" and not utils.is_locked(c)
        }
        student_counts.discard(None)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            secret = self.hidden(cell.source) if utils.is_locked(cell) else []
            if utils.is_locked(cell):
                cell.source = self.cut(cell.source)
            outputs = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    if any(line in str(output.get("evalue", "")) for line in secret):
                        output.evalue = "(message withheld: it quoted hidden tests)"
                    output.traceback = student_traceback(output, student_counts)
                    outputs.append(output)
                else:
                    outputs.append(_withhold(output, secret))
            cell.outputs = outputs
        return nb, resources

    def hidden(self, source: str) -> list[str]:
        """The distinctive lines (8+ characters) of ``source``'s hidden-test regions."""
        found, inside = [], False
        for line in source.split("\n"):
            if self.begin in line:
                inside = True
            elif self.end in line:
                inside = False
            elif inside and len(line.strip()) >= 8:
                found.append(line.strip())
        return found

    def cut(self, source: str) -> str:
        """``source`` with its hidden-test regions replaced by a one-line note."""
        kept, hidden = [], None
        for line in source.split("\n"):
            if hidden is None and self.begin in line:
                hidden = 0
            elif hidden is not None and self.end in line:
                kept.append(f"# ({hidden} lines of hidden tests are not shown)")
                hidden = None
            elif hidden is not None:
                hidden += 1
            else:
                kept.append(line)
        if hidden is not None:
            kept.append(f"# ({hidden} lines of hidden tests are not shown)")
        return "\n".join(kept)


def _withhold(output, secret: list[str]):
    """``output`` of a grader cell, or a note in its place if it quotes a hidden line (student
    code running during the test, e.g. an IPython callback, could print the cell's source)."""
    if not secret:
        return output
    text = "\n".join(
        [str(output.get("text", ""))] + [str(v) for v in output.get("data", {}).values()]
    )
    if not any(line in text for line in secret):
        return output
    return new_output("stream", name="stdout", text="(output withheld: it quoted hidden tests)\n")


def student_traceback(output, student_counts: set[int]) -> list[str]:
    """The traceback of error ``output``, reduced to frames of the student's own cells (those
    with an execution count in ``student_counts``) and a final ``name: message`` line."""
    frames = []
    for entry in output.get("traceback", []):
        match = _CELL_FRAME.match(strip_ansi(entry))
        if match and int(match.group(1) or match.group(2)) in student_counts:
            frames.append(entry)
    name = output.get("ename", "Error")
    message = str(output.get("evalue", "")).strip()
    if not message:
        message = _empty_message(name, output.get("traceback", []))
    return [*frames, f"\x1b[0;31m{name}\x1b[0m: {message}"]


def _empty_message(name: str, traceback: list) -> str:
    """What an error without a message says: the kernel's "`f` is not written yet" line when
    dlkit's notebook handler wrote one (:mod:`dlkit.notebook`), else what kind of error it is."""
    for entry in traceback:
        line = strip_ansi(str(entry)).strip()
        if "is not written yet" in line and "\n" not in line:
            return line
    if name == "NotImplementedError":
        return "(not written yet: a function this cell calls still raises NotImplementedError())"
    return "(a check failed without a message)"
