"""dlkit.notebook: in a real kernel a failed check shows its message first, then only the
notebook's own frames; an unsolved exercise says which function to write; errors stay errors.

Two small generated notebooks run in fresh kernels (nbclient), as a student's would.
"""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook

from dlkit import notebook

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TIMEOUT_S = 60

SETUP = """\
import numpy as np
import dlkit
from dlkit.testing import assert_close
import dlkit.notebook as hints
print(hints._SHELLS == [get_ipython()])
"""
DEFINITIONS = """\
def standardize(x):
    raise NotImplementedError()

def double(x):
    return x * 3

class Layer:
    def forward(self, x):
        raise NotImplementedError()

def later(x):
    raise NotImplementedError("write this in unit 7")
"""
CELLS = {
    "check": "x = np.ones(3)\nassert_close(double(x), 2 * x, name='double(x)')",
    "plain": "assert False, 'teach'",
    "bare": "assert 1 == 2",
    "own_assert": "def positive(x):\n    assert x > 0\n    return x\n\npositive(-1)",
    "unwritten": "standardize(np.ones(3))",
    "method": "Layer().forward(1)",
    "same_cell": "def relu(x):\n    raise NotImplementedError()\n\nrelu(1)",
    "library": "import numbers\nnumbers.Complex.__add__(1, 2)",
    "with_message": "later(1)",
    "other_error": "1 / 0",
    "widget": "e = dlkit.viz.FunctionExplorer(standardize, {})\nprint(e.error)",
}


def run(cells: list[str], *, allow_errors: bool) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_code_cell(source) for source in cells])
    client = NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3", allow_errors=allow_errors)
    client.execute()
    return nb


@pytest.fixture(scope="module")
def executed() -> dict[str, nbformat.NotebookNode]:
    """The output cell of each of ``CELLS``, run one after the other in one kernel."""
    nb = run([SETUP, DEFINITIONS, *CELLS.values()], allow_errors=True)
    assert nb.cells[0].outputs[0].text == "True\n"  # import dlkit installed the handler
    return dict(zip(CELLS, nb.cells[2:], strict=True))


def error(cell) -> dict:
    (out,) = [o for o in cell.outputs if o.output_type == "error"]
    return out


def text(cell) -> list[str]:
    """The error's traceback as the student reads it: lines, without colour codes."""
    return ANSI.sub("", "\n".join(error(cell)["traceback"])).splitlines()


def test_a_failed_check_shows_its_message_first_and_no_dlkit_frames(executed):
    cell = executed["check"]
    lines = text(cell)
    assert lines[0] == "Check failed: double(x) is not right yet."
    assert lines[1].startswith("  shape (3,) is right, but 3 of 3 values differ")
    assert any(line.startswith("  hint: ") for line in lines[1:5])
    assert "----> 2 assert_close(double(x), 2 * x, name='double(x)')" in lines
    body = "\n".join(lines)
    assert "compare.py" not in body and "dlkit" not in body and "Traceback" not in body
    out = error(cell)
    assert out["ename"] == "CheckFailed" and out["evalue"].startswith("double(x) is not right")
    # each frame is one entry starting "Cell In[N]": what nbgrader's feedback keeps
    frames = [ANSI.sub("", entry) for entry in out["traceback"][1:]]
    assert frames and all(re.match(r"Cell In\[\d+\], line \d+", f) for f in frames)
    assert "\x1b[1;31mCheck failed: " in out["traceback"][0]  # bold red


def test_a_plain_assert_shows_its_message_first(executed):
    lines = text(executed["plain"])
    assert lines[0] == "Check failed: teach"
    assert "----> 1 assert False, 'teach'" in lines
    out = error(executed["plain"])
    assert (out["ename"], out["evalue"]) == ("AssertionError", "teach")


def test_an_assert_without_a_message_still_shows_the_failing_line(executed):
    lines = text(executed["bare"])
    assert lines[0].startswith("Check failed: an `assert` without a message")
    assert "----> 1 assert 1 == 2" in lines
    assert error(executed["bare"])["evalue"] == ""


def test_the_students_own_function_frames_are_shown(executed):
    lines = text(executed["own_assert"])
    assert lines[0].startswith("Check failed: an `assert` without a message")
    assert "----> 5 positive(-1)" in lines and "----> 2     assert x > 0" in lines
    assert any(re.match(r"Cell In\[\d+\], line 2, in positive\(x\)", line) for line in lines)


def test_an_unsolved_exercise_says_which_function_to_write(executed):
    out = error(executed["unwritten"])
    assert text(executed["unwritten"]) == [
        "`standardize` is not written yet: replace `raise NotImplementedError()` in its cell "
        "with your code, run that cell, then run this one again."
    ]
    assert (out["ename"], out["evalue"]) == ("NotImplementedError", "")
    assert text(executed["method"])[0].startswith("`Layer.forward` is not written yet")
    assert text(executed["same_cell"]) == [
        "`relu` is not written yet: replace `raise NotImplementedError()` in this cell with "
        "your code, then run it again."
    ]


def test_a_library_not_implemented_error_keeps_the_normal_traceback(executed):
    body = "\n".join(text(executed["library"]))
    assert "Traceback (most recent call last)" in body and "numbers.py" in body
    assert "not written yet" not in body
    with_message = "\n".join(text(executed["with_message"]))  # a deliberate message: kept
    assert "Traceback" in with_message and "write this in unit 7" in with_message
    assert "Traceback" in "\n".join(text(executed["other_error"]))
    assert error(executed["other_error"])["ename"] == "ZeroDivisionError"


def test_a_widget_of_an_unsolved_function_says_write_it_first(executed):
    (out,) = executed["widget"].outputs
    assert out.text == "write `standardize` first (it still raises NotImplementedError)\n"


def test_a_failed_check_stops_run_all():
    cells = [SETUP, DEFINITIONS, CELLS["check"], "print('after')"]
    with pytest.raises(CellExecutionError) as info:
        run(cells, allow_errors=False)
    assert info.value.ename == "CheckFailed"
    assert "Check failed: double(x) is not right yet." in ANSI.sub("", str(info.value))


def test_run_all_stops_at_an_unsolved_exercise():
    nb = new_notebook(
        cells=[new_code_cell(s) for s in (SETUP, DEFINITIONS, CELLS["unwritten"], "1 + 1")]
    )
    client = NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3")
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    assert info.value.ename == "NotImplementedError"
    assert nb.cells[2].outputs[0]["output_type"] == "error"
    assert nb.cells[3].outputs == [] and nb.cells[3].execution_count is None


def test_nothing_is_installed_outside_ipython():
    code = "import sys, dlkit; print('dlkit.notebook' in sys.modules, 'IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "False False\n"
    assert notebook.install() is False  # pytest: IPython may be imported, but no shell runs


# -- the pieces, without a kernel ---------------------------------------------------------


def cell_function(source: str, name: str, filename: str = "/tmp/ipykernel_4242/1234.py"):
    namespace: dict = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


def raised(fn, *args) -> BaseException:
    try:
        fn(*args)
    except BaseException as exc:  # noqa: BLE001
        return exc
    raise AssertionError("no exception")


def test_notebook_files():
    assert notebook.is_notebook_file("/tmp/ipykernel_4242/2849102.py")
    assert notebook.is_notebook_file("<ipython-input-3-8769faed8e3a>")
    assert not notebook.is_notebook_file(notebook.__file__)
    assert not notebook.is_notebook_file("/home/me/ipykernel_tools/mine.py")
    assert not notebook.is_notebook_file("<string>")


def test_unwritten_names_the_notebook_function_that_raised():
    stub = cell_function("def f(x):\n    raise NotImplementedError()\n", "f")
    assert notebook.unwritten(raised(stub, 1)) == "f"
    method = cell_function("class A:\n    def g(self):\n        raise NotImplementedError\n", "A")
    assert notebook.unwritten(raised(method().g)) == "A.g"
    elsewhere = cell_function("def f(x):\n    raise NotImplementedError()\n", "f", "lib.py")
    assert notebook.unwritten(raised(elsewhere, 1)) is None
    message = cell_function("def f(x):\n    raise NotImplementedError('later')\n", "f")
    assert notebook.unwritten(raised(message, 1)) is None
    assert notebook.unwritten(ValueError()) is None


class FakeShell:
    def __init__(self, custom=()):
        self.custom_exceptions, self.calls = custom, []

    def set_custom_exc(self, exc_tuple, handler):
        self.custom_exceptions = exc_tuple
        self.calls.append((exc_tuple, handler))


def test_install_is_idempotent_and_leaves_another_handler_alone():
    shell = FakeShell()
    assert notebook.install(shell) is True and notebook.install(shell) is True
    assert len(shell.calls) == 1
    assert shell.custom_exceptions == (AssertionError, NotImplementedError)
    notebook.uninstall(shell)
    assert shell.custom_exceptions == () and notebook._SHELLS == []
    taken = FakeShell(custom=(KeyError,))
    assert notebook.install(taken) is False and taken.calls == []
