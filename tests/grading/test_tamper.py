"""The tamper checks of dlgrade/tamper*.py: flags for review, not defences of the verdict.

The static scan finds every tampering construct (with its line) and leaves correct code alone
-- measured over every unit's solution and every mutant in tests/grading/mutants/. (Verdicts
are protected by running test cells apart from student code: tests/grading/test_grader_process.py.)
"""

from __future__ import annotations

import nbformat
import pytest
from dlgrade.tamper import (
    _visible,
    add_flag,
    flags_of,
)
from dlgrade.tamper_scan import defined_names, grader_bindings, scan_cell
from grading_harness import REPO, load_mutants, nbgrader_meta, without_solution_markers
from nbformat.v4 import new_notebook

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


def test_registered_in_every_autograde_path(monkeypatch):
    """The checks sit in nbgrader's own chains, so plain and class-wide grading both run them."""
    from dlgrade.execute import GuardedExecute
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
    assert autograde[run] is GuardedExecute  # test cells run in the grader process
    assert autograde[run + 1] is StderrToStdout
    feedback = c.GenerateFeedback.preprocessors
    assert feedback[feedback.index(GetGrades) + 1] is HideHiddenTests
