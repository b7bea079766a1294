"""What a student sees when a cell fails: the hint first, then only the notebook's own lines.

``import dlkit`` inside an IPython kernel (nowhere else) calls :func:`install`, which gives
the kernel a custom exception handler (``shell.set_custom_exc``) for two kinds of error:

* a failed check, ``CheckFailed`` or any ``AssertionError``: the message comes first, its
  first line in bold red as ``Check failed: ...``, then a short traceback of the frames of
  notebook cells only (the failing line of the test cell and the student's own functions),
  never dlkit's or another library's internals;
* a ``NotImplementedError()`` without a message raised by a function defined in a notebook
  cell (nbgrader's stub of an unsolved exercise): one line that names the function to write.

The error still is an error: the handler publishes it as IPython does (``ename`` and
``evalue`` kept, the text above as its ``traceback``), so the execute reply's status is
``"error"``, "Run All" stops at the cell and nbgrader records the failure. Anything else,
including a ``NotImplementedError`` from library code, gets IPython's usual traceback.

:func:`unwritten` and :func:`widget_line` are what the widgets of :mod:`dlkit.viz` show when a
student's function is not written yet. This module imports only the standard library, so
``import dlkit`` stays instant.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
import types
from typing import Any

__all__ = [
    "install",
    "is_notebook_file",
    "not_written",
    "uninstall",
    "unwritten",
    "widget_line",
]

_HANDLED = (AssertionError, NotImplementedError)  # CheckFailed is an AssertionError
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FRAME = re.compile(r"^\s*(?:Cell In\s*\[\d+\]|Input In\s*\[\d+\]|File )")
_IPYKERNEL_DIR = re.compile(r"^ipykernel_\d+$")
_BOLD_RED, _BOLD, _RESET = "\x1b[1;31m", "\x1b[1m", "\x1b[0m"
_SHELLS: list[Any] = []  # the shells this module's handler is installed on


def is_notebook_file(filename: str, shell: Any = None) -> bool:
    """Whether ``filename`` is the code of a notebook cell: one that the compiler of ``shell``
    (the running IPython's by default) cached, or named as ipykernel
    (``<tmp>/ipykernel_<pid>/<hash>.py``) or the terminal IPython (``<ipython-input-...>``)
    name cells."""
    compiler = getattr(_shell() if shell is None else shell, "compile", None)
    if filename in getattr(compiler, "_filename_map", ()):
        return True
    if filename.startswith("<ipython-input-"):
        return True
    folder = os.path.basename(os.path.dirname(filename))
    return filename.endswith(".py") and _IPYKERNEL_DIR.match(folder) is not None


def _frames(tb: types.TracebackType | None) -> list[types.TracebackType]:
    out = []
    while tb is not None:
        out.append(tb)
        tb = tb.tb_next
    return out


def unwritten(exc: BaseException, shell: Any = None) -> str | None:
    """The name of the notebook function that raised ``exc``, when ``exc`` is a
    ``NotImplementedError`` without a message raised in that function itself (an exercise
    not written yet); else None. Methods are named with their class (``Linear.forward``)."""
    if not isinstance(exc, NotImplementedError) or exc.args:
        return None
    frames = _frames(exc.__traceback__)
    if not frames:
        return None
    code = frames[-1].tb_frame.f_code
    if code.co_name.startswith("<") or not is_notebook_file(code.co_filename, shell):
        return None  # raised at a cell's top level, in a lambda or comprehension, or elsewhere
    qualname = getattr(code, "co_qualname", code.co_name)
    return ".".join(part for part in qualname.split(".") if part != "<locals>")


def not_written(name: str, *, same_cell: bool = False) -> str:
    """The line a cell shows when it calls ``name``, which still raises NotImplementedError."""
    where = (
        "in this cell with your code, then run it again"
        if same_cell
        else "in its cell with your code, run that cell, then run this one again"
    )
    return f"`{name}` is not written yet: replace `raise NotImplementedError()` {where}."


def widget_line(name: str) -> str:
    """The line a widget shows in place of its figure while ``name`` is not written yet."""
    return f"write `{name}` first (it still raises NotImplementedError)"


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _cell_frames(shell: Any, tb: types.TracebackType | None) -> list[str]:
    """IPython's formatting of the frames of ``tb`` that belong to notebook cells, one string
    each (``Cell In[3], line 2, in f(x)`` and the lines around it, like IPython's own)."""
    kept = [t for t in _frames(tb) if is_notebook_file(t.tb_frame.f_code.co_filename, shell)]
    if not kept:
        return []
    pruned = None
    for t in reversed(kept):
        pruned = types.TracebackType(pruned, t.tb_frame, t.tb_lasti, t.tb_lineno)
    stand_in = Exception()  # no __cause__ or __context__: frames of the one exception only
    try:
        stb = shell.InteractiveTB.structured_traceback(Exception, stand_in, pruned, tb_offset=0)
        entries = [entry for entry in stb if _FRAME.match(_strip_ansi(entry))]
    except Exception:
        entries = []
    if len(entries) != len(kept):  # an IPython that formats differently: plain frames
        entries = [
            f"File {frame.filename}:{frame.lineno}, in {frame.name}\n    {frame.line}\n"
            for frame in traceback.extract_tb(pruned)
        ]
    return entries


def _check_failed(shell: Any, value: BaseException, tb: types.TracebackType | None) -> list[str]:
    frames = _cell_frames(shell, tb)
    if not frames:
        return []
    try:
        lines = str(value).strip("\n").splitlines()
    except Exception:
        lines = ["(the message could not be shown)"]
    if lines:
        head, rest = lines[0].strip(), lines[1:]
    else:
        head, rest = "an `assert` without a message; the line marked ----> below raised it", []
    message = "\n".join([f"{_BOLD_RED}Check failed: {head}{_RESET}", *rest])
    return [message + "\n", *frames]


def _explain(shell: Any, etype: type, value: BaseException, tb: Any) -> list[str]:
    """The structured traceback this module shows for ``value``, or [] to leave it to IPython."""
    if isinstance(value, NotImplementedError):
        name = unwritten(value, shell)
        if name is None:
            return []
        cells = [t for t in _frames(tb) if is_notebook_file(t.tb_frame.f_code.co_filename, shell)]
        same_cell = cells[0].tb_frame.f_code.co_filename == cells[-1].tb_frame.f_code.co_filename
        return [f"{_BOLD}{not_written(name, same_cell=same_cell)}{_RESET}"]
    if isinstance(value, AssertionError):
        return _check_failed(shell, value, tb)
    return []


def _handler(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None):
    """The custom exception handler (``InteractiveShell.set_custom_exc``'s signature)."""
    try:
        stb = _explain(shell, etype, value, tb)
    except Exception:  # never let a bug here hide the student's error
        stb = []
    if not stb:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # for %debug and %tb
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    shell._showtraceback(etype, value, stb)  # publishes the error: ename, evalue, traceback
    if getattr(shell, "call_pdb", False):
        shell.debugger(force=True)
    return stb


def _shell() -> Any:
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def install(shell: Any = None) -> bool:
    """Give the running IPython (or ``shell``) the handler of the module docstring; False, and
    nothing changed, outside IPython or where another custom handler is already set."""
    shell = _shell() if shell is None else shell
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if any(s is shell for s in _SHELLS):
        return True
    if tuple(getattr(shell, "custom_exceptions", ())):
        return False  # someone else's handler: IPython keeps one, so leave it
    shell.set_custom_exc(_HANDLED, _handler)
    _SHELLS.append(shell)
    return True


def uninstall(shell: Any = None) -> None:
    """Remove the handler from the running IPython (or ``shell``), if this module set it."""
    shell = _shell() if shell is None else shell
    for index, known in enumerate(_SHELLS):
        if known is shell:
            del _SHELLS[index]
            if tuple(shell.custom_exceptions) == _HANDLED:
                shell.set_custom_exc((), None)
            return
