"""The tamper checks of dlgrade/tamper*.py and dlgrade/guard_kernel.py.

* The static scan: every tampering construct is found (with its line), correct code is not --
  measured over every unit's solution and every mutant in tests/grading/mutants/.
* The runtime guard, in a real kernel (nbclient, no nbgrader): a clean notebook gets no flag;
  patches are flagged *and undone* before the next grader cell; a check cell that a student's
  input transformer blanks, or a forged report, is flagged.
"""

from __future__ import annotations

import nbformat
import pytest
from dlgrade.tamper import (
    InjectGuard,
    VerifyGuard,
    _verify,
    _visible,
    add_flag,
    flags_of,
)
from dlgrade.tamper_scan import defined_names, grader_bindings, scan_cell
from grading_harness import REPO, load_mutants, nbgrader_meta, without_solution_markers
from nbformat.v4 import new_code_cell, new_notebook

UNITS = sorted(p.name for p in (REPO / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file())
SETUP = (
    "import numpy as np\n"
    "import dlkit.functional as F\n"
    "from dlkit.testing import assert_close, passed, using\n"
)
BINDINGS = grader_bindings([SETUP])

TAMPERING = {
    "np.testing.assert_allclose = lambda *a, **k: None": "patched-module",
    "import numpy\nnumpy.isclose = print": "patched-module",
    "t = np.testing\nt.assert_allclose = None": "patched-module",
    "setattr(np, 'isclose', print)": "patched-module",
    "import builtins\nbuiltins.abs = lambda x: 0": "patched-module",
    "__builtins__.abs = lambda x: 0": "patched-module",
    "import dlkit.testing.compare as c\nc.np = None": "patched-module",
    "F.sigmoid = lambda z: z": "patched-module",
    "import sys\nsys.modules['dlkit.testing'] = object()": "patched-namespace",
    "import sys\nsys.modules.update(numpy=None)": "patched-namespace",
    "globals()['assert_close'] = print": "patched-namespace",
    "globals().update(assert_close=print)": "patched-namespace",
    "def assert_close(*a, **k):\n    pass": "redefined-helper",
    "assert_close = print": "redefined-helper",
    "passed, x = print, 1": "redefined-helper",
    "def f():\n    global using\n    using = None": "redefined-helper",
    "import math as np": "redefined-helper",
    "from unittest.mock import MagicMock as assert_close": "redefined-helper",
    "get_ipython().input_transformers_cleanup.append(lambda l: [])": "ipython-hook",
    "get_ipython().events.register('pre_run_cell', print)": "ipython-hook",
    "get_ipython().ast_transformers.append(None)": "ipython-hook",
    "ip = get_ipython()\nip.run_cell('1')": "ipython-hook",
    "print(In[-1])": "ipython-hook",
    "import importlib\nimportlib.reload(np)": "forbidden-call",
    "import ctypes": "dangerous-import",
    "from ctypes import pythonapi": "dangerous-import",
    "import gc\ngc.get_referrers(assert_close)": "forbidden-call",
    "import sys\nsys.settrace(print)": "forbidden-call",
    "import sys\nf = sys._getframe(0)": "forbidden-call",
    "import os\nos.listdir('..')": "forbidden-call",
    "import glob\nglob.glob('/srv/*')": "forbidden-call",
    "from pathlib import Path\nlist(Path('..').iterdir())": "forbidden-call",
    "import os\nos.system('ls')": "forbidden-call",
    "import subprocess": "dangerous-import",
    "exec(source_code)": "dynamic-code",
    "eval(input())": "dynamic-code",
    "exec('np.isclose = print')": "patched-module",
    "def f(g):\n    return g.__globals__": "introspection",
    "def f(g):\n    return g.__closure__[0].cell_contents": "introspection",
    "def f(e):\n    return e.__traceback__.tb_frame.f_back": "introspection",
    "open('/srv/solutions/01_perceptron/01_perceptron.ipynb').read()": "file-access",
    "import sqlite3\nsqlite3.connect('../../gradebook.db')": "file-access",
    "!ls ../..": "ipython-hook",
    "%run other.py": "ipython-hook",
}

CORRECT = [
    "import numpy as np\nimport math\nx = math.pi * np.ones(3)",
    "from dlkit.testing import assert_close\nassert_close(1.0, 1.0)",
    "def relu(x):\n    return np.maximum(x, 0)",
    "def helper(F):\n    P = F * 2\n    return P",
    "class Layer:\n    def __init__(self):\n        self.w = np.zeros(3)\n"
    "        setattr(self, 'b', 0.0)",
    "import matplotlib.pyplot as plt\nplt.rcParams.update({'font.size': 9})",
    "rng = np.random.default_rng(0)\nx = rng.standard_normal(4)",
    "import warnings\nwarnings.warn('careful', UserWarning)",
    "import sys\nprint('note', file=sys.stderr)",
    "%matplotlib inline\nx = 1",
    "!pip install tqdm",
    "with np.errstate(over='ignore'):\n    y = np.exp(np.array([1000.0]))",
    "for i in range(3):\n    total = i",
    "try:\n    pass\nexcept KeyboardInterrupt:\n    raise",
    "data = {'a': 1}\ndata.update(b=2)",
]


@pytest.mark.parametrize("code", list(TAMPERING), ids=range(len(TAMPERING)))
def test_scan_finds_tampering(code):
    findings = scan_cell(code, BINDINGS)
    assert TAMPERING[code] in {f.check for f in findings}, (code, findings)
    assert all(f.line >= 1 and f.reason for f in findings)


@pytest.mark.parametrize("code", CORRECT, ids=range(len(CORRECT)))
def test_scan_leaves_correct_code_alone(code):
    assert scan_cell(code, BINDINGS) == []


def test_scan_reports_the_line():
    (finding,) = scan_cell("x = 1\ny = 2\nnp.isclose = print\n", BINDINGS)
    assert finding.line == 3 and "np.isclose" in finding.reason


def test_scan_ignores_a_cell_that_does_not_parse():
    assert scan_cell("def broken(:\n", BINDINGS) == []


def test_module_aliases_carry_over_cells():
    modules: dict[str, str] = {}
    assert scan_cell("import numpy.testing as npt", BINDINGS, modules) == []
    assert [f.check for f in scan_cell("npt.assert_allclose = None", BINDINGS, modules)] == [
        "patched-module"
    ]


def test_the_units_own_names_are_not_protected():
    code = "def numerical_gradient(f, x, h=1e-6):\n    return x"
    assert scan_cell(code, BINDINGS) != []
    assert scan_cell(code, BINDINGS, owned={"numerical_gradient"}) == []


@pytest.mark.parametrize("unit", UNITS)
def test_no_false_positive_on_solutions_and_mutants(unit):
    """Zero findings over the unit's solution cells and every mutant of it."""
    nb = nbformat.read(REPO / "solutions" / unit / f"{unit}.ipynb", as_version=4)

    def locked(cell):
        meta = nbgrader_meta(cell)
        return not meta.get("solution") and (meta.get("grade") or meta.get("locked"))

    code = [c for c in nb.cells if c.cell_type == "code"]
    bindings = grader_bindings([c.source for c in code if locked(c)])
    owned = defined_names([c.source for c in code if nbgrader_meta(c).get("solution")])
    modules: dict[str, str] = {}
    found = []
    for cell in code:
        if not locked(cell):
            source = without_solution_markers(cell.source)
            found += [(cell.source[:40], f) for f in scan_cell(source, bindings, modules, owned)]
    for by_desc in (load_mutants(unit) or {}).values():
        for desc, source in by_desc.items():
            found += [(desc, f) for f in scan_cell(source, bindings, dict(modules), owned)]
    assert not found, found


# --- host side of the guard ------------------------------------------------------------------
def test_flags_are_unique_and_bounded():
    nb = new_notebook()
    add_flag(nb, "x", None, "one")
    add_flag(nb, "x", None, "one")
    for i in range(100):
        add_flag(nb, "y", "cell", f"reason {i}")
    flags = flags_of(nb)
    assert flags[0] == {"check": "x", "cell": None, "reason": "one"}
    assert len(flags) == 40


def test_visible_part_of_a_test_cell():
    source = "a = 1\n### BEGIN HIDDEN TESTS\nsecret = 2\n### END HIDDEN TESTS\nb = 3  "
    assert _visible(source) == "a = 1\nb = 3"


def _report_cell(text: str):
    cell = new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return cell


def test_reports_are_verified():
    import hashlib
    import hmac

    key, nonce, body = b"k" * 32, "run-3", '[["patched-module", "numpy.isclose"]]'
    mac = hmac.new(key, f"{nonce}|{body}".encode(), hashlib.sha256).hexdigest()
    good = _report_cell(f"DLGRADE-GUARD {nonce} {mac} {body}\n")
    assert _verify(good, nonce, key) == [("patched-module", "numpy.isclose")]
    assert _verify(good, "run-4", key) is None  # replayed from another check
    assert _verify(good, nonce, b"other key" * 4) is None
    forged = _report_cell(f"DLGRADE-GUARD {nonce} {'0' * 64} []\n")
    assert _verify(forged, nonce, key) is None
    twice = _report_cell(f"DLGRADE-GUARD {nonce} {mac} {body}\nDLGRADE-GUARD {nonce} x []\n")
    assert _verify(twice, nonce, key) is None
    assert _verify(_report_cell(""), nonce, key) is None


# --- the guard in a real kernel --------------------------------------------------------------
def _graded(source: str, grade_id: str):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": 1,
        "solution": False,
        "schema_version": 3,
    }
    return cell


def _answer(source: str):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": "answer",
        "locked": False,
        "solution": True,
        "schema_version": 3,
    }
    return cell


def _run_guarded(tmp_path, name: str, answer: str):
    """Execute setup / answer / test / test under the guard, in ``tmp_path/name``; return the
    notebook (guard cells removed) and its flags. ``tmp_path/secret`` is a forbidden folder."""
    from nbclient import NotebookClient

    folder = tmp_path / name
    folder.mkdir()
    setup = new_code_cell(SETUP)
    setup.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": "setup",
        "locked": True,
        "solution": False,
        "schema_version": 3,
    }
    test = "assert not np.isclose(1.0, 2.0)\nassert_close(np.ones(2), np.ones(2))\nprint('checked')"
    nb = new_notebook(cells=[setup, _answer(answer), _graded(test, "t1"), _graded(test, "t2")])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    resources = {"metadata": {"path": str(folder)}}
    guard = InjectGuard(forbidden=[str(tmp_path / "secret")])
    nb, resources = guard.preprocess(nb, resources)
    assert (folder / ".dlgrade-guard-key").is_file()
    NotebookClient(nb, timeout=60, allow_errors=True, resources=resources).execute()
    assert not (folder / ".dlgrade-guard-key").exists(), "the kernel must delete the key"
    nb, _ = VerifyGuard().preprocess(nb, resources)
    assert len(nb.cells) == 4, "the guard's cells must be removed"
    return nb, flags_of(nb)


def _errors(nb) -> dict[str, str]:
    return {
        nbgrader_meta(c).get("grade_id"): o.ename
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.output_type == "error"
    }


@pytest.fixture
def secret(tmp_path):
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "answers.txt").write_text("42")
    return tmp_path / "secret" / "answers.txt"


@pytest.mark.slow
def test_guard_leaves_a_clean_notebook_alone(tmp_path):
    clean = "import math\ndef answer(x):\n    return math.sqrt(x)\nprint(answer(4.0))"
    nb, flags = _run_guarded(tmp_path, "clean", clean)
    assert flags == [], flags
    assert _errors(nb) == {}


@pytest.mark.slow
def test_guard_flags_and_undoes_patches(tmp_path):
    patch = "np.isclose = lambda a, b, **k: True\nassert_close = print"
    nb, flags = _run_guarded(tmp_path, "patch", patch)
    checks = {f["check"] for f in flags}
    assert {"patched-module", "redefined-helper"} <= checks, flags
    assert {f["cell"] for f in flags} == {"t1"}, "found before the first test, reported once"
    assert _errors(nb) == {}, "the genuine helpers were put back before the tests ran"


@pytest.mark.slow
def test_guard_notices_blanked_checks(tmp_path):
    blank = (
        "get_ipython().input_transformers_cleanup.append(\n"
        "    lambda lines: ['pass\\n'] if 'audit' in ''.join(lines) else lines)"
    )
    _, flags = _run_guarded(tmp_path, "blank", blank)
    assert "guard-missing" in {f["check"] for f in flags}, flags


@pytest.mark.slow
def test_guard_blocks_reaching_out(tmp_path, secret):
    reach = (
        "import sys\n"
        "try:\n    sys._getframe(0)\nexcept RuntimeError as exc:\n    print('1', exc)\n"
        f"try:\n    open({str(secret)!r})\nexcept RuntimeError as exc:\n    print('2', exc)\n"
        "sys.addaudithook(lambda *a: None)\n"
    )
    nb, flags = _run_guarded(tmp_path, "reach", reach)
    details = " ".join(f["reason"] for f in flags)
    assert "sys._getframe" in details and "audit hook" in details, flags
    assert str(secret) in details, flags
    printed = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    assert printed.count("blocked by the grader") == 2, printed


def test_registered_in_every_autograde_path(monkeypatch):
    """The checks sit in nbgrader's own chains, so plain and class-wide grading both run them."""
    from dlgrade.feedback import HideHiddenTests
    from dlgrade.paths import REPO_ROOT
    from dlgrade.preprocessors import ReinsertMissingCells, StderrToStdout
    from dlgrade.tamper import ScanStudentCode, TamperStructure
    from nbgrader.preprocessors import Execute, GetGrades
    from traitlets.config.loader import PyFileConfigLoader

    monkeypatch.delenv("DLGRADE_SANDBOX", raising=False)
    config = REPO_ROOT / "grading" / "nbgrader_config.py"
    c = PyFileConfigLoader(config.name, path=str(config.parent)).load_config()
    sanitize = c.Autograde.sanitize_preprocessors
    restore = sanitize.index(ReinsertMissingCells)
    assert sanitize[restore - 1 : restore + 2] == [
        TamperStructure,
        ReinsertMissingCells,
        ScanStudentCode,
    ]
    autograde = c.Autograde.autograde_preprocessors
    run = next(i for i, p in enumerate(autograde) if issubclass(p, Execute))
    assert autograde[run - 1] is InjectGuard
    assert autograde[autograde.index(StderrToStdout) + 1] is VerifyGuard
    assert run < autograde.index(VerifyGuard)
    feedback = c.GenerateFeedback.preprocessors
    assert feedback[feedback.index(GetGrades) + 1] is HideHiddenTests
