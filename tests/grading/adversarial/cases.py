"""The adversarial corpus: one submission of unit 01_perceptron per way of breaking grading.

Each :class:`Case` is built by code from the *released* notebook filled with the solution (the
correct student), then edited the way the case says, and carries its expected outcome: the
grading status ``dlgrade grade`` must record, the points of every test cell, and the tamper
checks that must fire. ``tests/grading/test_adversarial.py`` grades all of them in ONE
class-wide, sandboxed run and checks each outcome, plus that no case changed another student's
result or the gradebook's integrity.

Points are given as ``FULL`` (every test cell's maximum), ``REFERENCE`` (exactly what the
student ``wrong_sigmoid``, the same wrong answer without any tampering, gets in the same run:
tampering must not buy a single point), or a dict ``{test cell: points}`` (with ``at_most``,
upper bounds: partial results of a run that was cut short).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from grading_harness import build_submission, nbgrader_meta

UNIT = "01_perceptron"
NOTEBOOK = f"{UNIT}.ipynb"
FULL = "full"
REFERENCE = "reference"
REFERENCE_STUDENT = "wrong_sigmoid"

# A plausible wrong answer (the exponent's sign): it fails both sigmoid test cells.
WRONG_SIGMOID = """
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(z))
"""
CORRECT_SIGMOID = """
def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
"""
# Correct code that writes a warning and stderr text, uses np.random, math and its own helper.
# (Not in sigmoid or bce_loss: their tests turn NumPy warnings into errors on purpose.)
NOISY_CORRECT = {
    "perceptron_predict": """
import math
import sys
import warnings


def _scores(X, w, b):
    return X @ w + b


def perceptron_predict(X, w, b):
    warnings.warn("perceptron_predict: a harmless warning from correct code", UserWarning)
    print("perceptron_predict: a note on stderr", file=sys.stderr)
    return (_scores(X, w, b) >= 0).astype(int)


_noise = np.random.default_rng(1).standard_normal(3)  # randomness of the student's own
assert math.isclose(float(np.sum(perceptron_predict(np.eye(2), np.ones(2), -0.5))), 2.0)
""",
}
PARTIAL_BEFORE_BCE = {
    "test_perceptron_predict": 2.0,
    "test_perceptron_update": 3.0,
    "test_sigmoid": 1.0,
    "test_sigmoid__stable": 2.0,
    "test_bce_loss": 0.0,
    "test_logistic_gradient": 0.0,
    "test_logistic_regression_fit": 0.0,
}


@dataclass
class Context:
    """What a case's builder may use: the release, the source, and the run's folders."""

    release: nbformat.NotebookNode
    source: nbformat.NotebookNode
    work: Path  # the run's folder (holds state/ and source/)
    repo_solution: Path  # the real solutions/ notebook of the unit

    @property
    def state(self) -> Path:
        return self.work / "state"

    def solved(self, replace: dict[str, str] | None = None, delete: set[str] = frozenset()):
        """The correct submission, with answer/test cells ``replace``d or ``delete``d."""
        return build_submission(self.release, self.source, replace=replace, delete=delete)


def _json(nb) -> dict[str, bytes]:
    return {NOTEBOOK: nbformat.writes(nb).encode()}


@dataclass
class Case:
    """One adversarial submission and the outcome grading must give it."""

    name: str  # the student id
    what: str  # what the submission does, in one line
    status: str | tuple[str, ...]  # graded / flagged / invalid / missing / crashed / timed_out
    build: Callable[[Context], dict[str, bytes] | None]  # submission folder's files; None: none
    points: str | dict[str, float] | None = FULL  # None: not in the gradebook at all
    at_most: bool = False
    flags: tuple[str, ...] | None = ()  # checks of which one must fire (None: not judged)
    not_in_output: tuple[str, ...] = ()  # text that must not appear in any cell output
    files_absent: tuple[str, ...] = ()  # paths (relative to the run's state) never written


def _with_sigmoid_extra(extra_code: str, wrong: bool = True):
    def build(ctx: Context):
        base = WRONG_SIGMOID if wrong else CORRECT_SIGMOID
        return _json(ctx.solved({"sigmoid": base + "\n" + extra_code}))

    return build


def _edit_tests(edit: Callable[[nbformat.NotebookNode], None]):
    def build(ctx: Context):
        nb = ctx.solved({"sigmoid": WRONG_SIGMOID})
        for cell in nb.cells:
            if nbgrader_meta(cell).get("grade_id") in {"test_sigmoid", "test_sigmoid__stable"}:
                edit(cell)
        return _json(nb)

    return build


def _edited(cell) -> None:
    cell.source = 'passed("sigmoid looks fine to me")'


def _renamed_id(cell) -> None:
    cell.metadata["nbgrader"]["grade_id"] += "_mine"
    cell.source = 'passed("sigmoid looks fine to me")'


def _made_raw(cell) -> None:
    cell.cell_type = "raw"
    cell.pop("outputs", None)
    cell.pop("execution_count", None)


def _deleted(ctx: Context):
    nb = ctx.solved({"sigmoid": WRONG_SIGMOID}, delete={"test_sigmoid", "test_sigmoid__stable"})
    return _json(nb)


def _bce_extra(extra_code: str):
    def build(ctx: Context):
        bce = next(
            c.source for c in ctx.solved().cells if nbgrader_meta(c).get("grade_id") == "bce_loss"
        )
        return _json(ctx.solved({"bce_loss": bce + "\n" + extra_code}))

    return build


INFINITE_GRADIENT = """
import time


def logistic_gradient(X, y, w, b):
    while True:  # a bug that never returns
        time.sleep(0.5)
"""
SWALLOWS_INTERRUPT = """
import time

while True:  # ignores the grader's interrupt
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        pass
"""
MEMORY_BOMB = """
def bce_loss(p, y, eps=1e-12):
    return [np.ones(2**28) for _ in range(64)]  # 64 arrays of 2 GiB: the limit stops it
"""
PATCH_NUMPY = """
np.testing.assert_allclose = lambda *args, **kwargs: None
np.isclose = lambda a, b, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)
"""
PATCH_BUILTINS = """
import builtins

builtins.abs = lambda x: 0 * x
"""
PATCH_DLKIT_TESTING = """
import types

import dlkit.testing.compare as compare

compare.np = types.SimpleNamespace(
    **{**vars(np), "isclose": lambda a, b, **kw: np.ones(np.broadcast(a, b).shape, dtype=bool)}
)
"""
REDEFINED_HELPER = """
def assert_close(*args, **kwargs):
    return None
"""
INPUT_TRANSFORMER = """
def _skip_checks(lines):
    return [] if any("assert_close" in line for line in lines) else lines


get_ipython().input_transformers_cleanup.append(_skip_checks)
"""
SYS_MODULES = """
import sys
import types

fake = types.ModuleType("dlkit.testing")
fake.assert_close = lambda *args, **kwargs: None
fake.passed = print
sys.modules["dlkit.testing"] = fake
from dlkit.testing import assert_close  # noqa: E402
"""


def _read_files(paths_of: Callable[[Context], list[Path]], reader: str):
    def build(ctx: Context):
        paths = [str(p) for p in paths_of(ctx)]
        code = f"""
import os
import sqlite3

for _path in {paths!r}:
    try:
{reader}
    except Exception as exc:
        print("could not read", _path, type(exc).__name__)
"""
        return _json(ctx.solved({"sigmoid": CORRECT_SIGMOID + code}))

    return build


READ_TEXT = "        print(open(_path).read())"
READ_DB = "        print(sqlite3.connect(_path).execute('select * from sqlite_master').fetchall())"
LIST_DIR = "        print(os.listdir(_path))"
WRITE_FILE = "        open(_path, 'w').write('written by a student')"


def _v3(ctx: Context):
    nb = ctx.solved()
    return {NOTEBOOK: nbformat.writes(nbformat.convert(copy.deepcopy(nb), 3)).encode()}


def _malformed(ctx: Context):
    text = nbformat.writes(ctx.solved())
    return {NOTEBOOK: text[: len(text) // 2].encode()}


# --- attacks on the verdict itself (grading issue 12): none may buy a point ------------------
# ipykernel replies "ok" for a failing cell once showtraceback forgets the error.
FAKE_OK_REPLY = """
_shell = get_ipython()
_name = "show" + "traceback"
def _quiet(*args, **kwargs):
    _shell.displayhook.exec_result.error_in_exec = None
setattr(_shell, _name, _quiet)
"""
REFERENCE_F = """
def sigmoid(z):
    return F.sigmoid(z)
"""
REFERENCE_IMPORTLIB = """
import importlib

def sigmoid(z):
    return importlib.import_module("dl" + "kit.functional").sigmoid(z)
"""
REFERENCE_DUNDER_IMPORT = """
def sigmoid(z):
    return __import__("dlkit.functional", fromlist=["sigmoid"]).sigmoid(z)
"""
REFERENCE_AUTOGRAD = """
from dlkit import autograd as _A

def sigmoid(z):
    return _A.Tensor(np.asarray(z, dtype=float)).sigmoid().data
"""
REFERENCE_SOURCE_FILE = """
import inspect as _inspect

_namespace = {}
exec(open(_inspect.getsourcefile(F.sigmoid)).read(), _namespace)

def sigmoid(z):
    return _namespace["sigmoid"](z)
"""
LAZY_ARRAY = """
class _Lazy:
    def __init__(self, z):
        self.z = z

    def __array__(self, dtype=None, copy=None):
        return F.sigmoid(self.z)

def sigmoid(z):
    return _Lazy(z)
"""
EQUALS_ANYTHING = """
class _Agree(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)

    def __sub__(self, other):
        return np.zeros(np.shape(self))

    __rsub__ = __sub__

def sigmoid(z):
    return np.zeros(np.shape(z)).view(_Agree)
"""
FLOAT_AGREES = """
class _Near(float):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__

def bce_loss(p, y, eps=1e-12):
    return _Near(0.0)
"""
READS_EXPECTED = """
def sigmoid(z):
    g = globals()
    for name in ("expected", "z_t"):
        if name in g and np.shape(g[name]) == np.shape(z):
            return g[name]
    return 1.0 / (1.0 + np.exp(z))
"""
PATCH_WHILE_TESTED = """
import builtins as _b
import dlkit.testing as _t
import dlkit.testing.compare as _c

_real_import = _b.__import__

def _import(name, *args, **kwargs):  # every test cell imports: patch the checks on the way
    _c.assert_close = _t.assert_close = lambda *a, **k: None
    return _real_import(name, *args, **kwargs)

_b.__import__ = _import
"""
FOREIGN_FILENAME = """
exec(compile(
    "import dlkit.testing.compare as c\\n"
    "c.assert_close = lambda *a, **k: None\\n"
    "c.np.isclose = lambda a, b, **k: c.np.ones(c.np.broadcast(a, b).shape, bool)\\n",
    "/usr/lib/python3/dist-packages/dlkit/testing/compare.py", "exec"))
"""
LAUNCHER_FILE = b"""
import builtins
builtins.abs = lambda x: 0
import dlkit.testing.compare as c
c.assert_close = lambda *a, **k: None
from ipykernel import kernelapp as app
app.launch_new_instance()
"""
PRINTS_A_LOT = """
for _ in range(20):
    print("x" * 1_000_000)
"""


def _answer_with(name: str, code: str):
    def build(ctx: Context):
        return _json(ctx.solved({name: code}))

    return build


def _nested_lists(ctx: Context):
    text = nbformat.writes(ctx.solved())
    deep = "[" * 100_000 + "]" * 100_000
    return {
        NOTEBOOK: text.replace('"metadata": {', '"deep": ' + deep + ', "metadata": {', 1).encode()
    }


def _many_cells(ctx: Context):
    nb = ctx.solved()
    nb.cells += [nbformat.v4.new_code_cell("1") for _ in range(50_000)]
    return _json(nb)


def _launcher(ctx: Context):
    return {
        **_json(ctx.solved({"sigmoid": WRONG_SIGMOID})),
        "ipykernel_launcher.py": LAUNCHER_FILE,
        "numpy.py": LAUNCHER_FILE,
    }


def _verdict_attack(name: str, what: str, build, **kw) -> Case:
    kw.setdefault("points", REFERENCE)
    return Case(name, what, ("graded", "flagged"), build, flags=None, **kw)


VERDICT_ATTACKS = [
    _verdict_attack(
        "fake_ok_reply",
        "wrong sigmoid; showtraceback replaced so that a failing cell is reported ok",
        _with_sigmoid_extra(FAKE_OK_REPLY),
    ),
    _verdict_attack(
        "reference_F",
        "sigmoid calls the setup cell's F.sigmoid",
        _answer_with("sigmoid", REFERENCE_F),
    ),
    _verdict_attack(
        "reference_importlib",
        "sigmoid imports dlkit's reference by a built name",
        _answer_with("sigmoid", REFERENCE_IMPORTLIB),
    ),
    _verdict_attack(
        "reference_dunder_import",
        "sigmoid reaches dlkit's reference by __import__",
        _answer_with("sigmoid", REFERENCE_DUNDER_IMPORT),
    ),
    _verdict_attack(
        "reference_autograd",
        "sigmoid through dlkit's autograd Tensor.sigmoid",
        _answer_with("sigmoid", REFERENCE_AUTOGRAD),
    ),
    _verdict_attack(
        "reference_source_file",
        "sigmoid exec's dlkit's source file read from disk",
        _answer_with("sigmoid", REFERENCE_SOURCE_FILE),
    ),
    _verdict_attack(
        "lazy_array",
        "sigmoid returns an object whose __array__ calls the reference",
        _answer_with("sigmoid", LAZY_ARRAY),
    ),
    _verdict_attack(
        "equals_anything",
        "sigmoid returns an array subclass equal to anything",
        _answer_with("sigmoid", EQUALS_ANYTHING),
    ),
    _verdict_attack(
        "float_agrees",
        "bce_loss returns a float subclass equal to anything",
        _answer_with("bce_loss", FLOAT_AGREES),
        points={"test_bce_loss": 0.0},
    ),
    _verdict_attack(
        "reads_expected",
        "sigmoid returns the test's expected values from globals",
        _answer_with("sigmoid", READS_EXPECTED),
    ),
    _verdict_attack(
        "patch_while_tested",
        "wrong sigmoid; the checks patched by an __import__ hook only while test cells run",
        _with_sigmoid_extra(PATCH_WHILE_TESTED),
    ),
    _verdict_attack(
        "foreign_filename",
        "wrong sigmoid; the checks patched from code compiled under dlkit's own file name",
        _with_sigmoid_extra(FOREIGN_FILENAME),
    ),
    _verdict_attack(
        "launcher_file",
        "wrong sigmoid; ipykernel_launcher.py and numpy.py beside the notebook",
        _launcher,
    ),
    Case(
        "nested_lists",
        "a notebook nesting 100,000 JSON lists",
        "invalid",
        _nested_lists,
        points=None,
    ),
    Case(
        "many_cells",
        "the solution followed by 50,000 code cells",
        "invalid",
        _many_cells,
        points=None,
    ),
    Case(
        "prints_a_lot",
        "correct code that prints 20 MB in one cell",
        "graded",
        _answer_with("perceptron_predict", NOISY_CORRECT["perceptron_predict"] + PRINTS_A_LOT),
        not_in_output=("x" * 2_000_000,),
    ),
]

CASES = [
    Case("correct", "the solution", "graded", lambda c: _json(c.solved())),
    Case(
        "noisy_correct",
        "correct code that warns, prints to stderr, uses np.random, math and its own helper",
        "graded",
        lambda c: _json(c.solved(NOISY_CORRECT)),
    ),
    Case(
        REFERENCE_STUDENT,
        "a wrong sigmoid, no tampering (the reference of the tampering cases)",
        "graded",
        lambda c: _json(c.solved({"sigmoid": WRONG_SIGMOID})),
        points=REFERENCE,
    ),
    Case(
        "edited_test",
        "wrong sigmoid; its locked test cells edited to pass",
        "flagged",
        _edit_tests(_edited),
        points=REFERENCE,
        flags=("locked-cell-edited",),
    ),
    Case(
        "deleted_test",
        "wrong sigmoid; its test cells deleted",
        "flagged",
        _deleted,
        points=REFERENCE,
        flags=("cell-deleted",),
    ),
    Case(
        "changed_grade_id",
        "wrong sigmoid; its test cells given other grade_ids and edited",
        "flagged",
        _edit_tests(_renamed_id),
        points=REFERENCE,
        flags=("unknown-grade-id",),
    ),
    Case(
        "raw_test",
        "wrong sigmoid; its test cells turned into raw cells",
        "flagged",
        _edit_tests(_made_raw),
        points=REFERENCE,
        flags=("cell-type-changed",),
    ),
    Case(
        "os_exit",
        "os._exit(0) in the bce_loss answer cell",
        "crashed",
        _bce_extra("import os\n\nos._exit(0)\n"),
        points=PARTIAL_BEFORE_BCE,
    ),
    Case(
        "infinite_loop",
        "a logistic_gradient that never returns",
        "timed_out",
        lambda c: _json(c.solved({"logistic_gradient": INFINITE_GRADIENT})),
        points={"test_logistic_gradient": 0.0},
    ),
    Case(
        "swallows_interrupt",
        "a loop that catches KeyboardInterrupt, in the bce_loss answer cell",
        "timed_out",
        _bce_extra(SWALLOWS_INTERRUPT),
        points=PARTIAL_BEFORE_BCE,
    ),
    Case(
        "memory_bomb",
        "a bce_loss that allocates memory until it is stopped",
        "graded",
        lambda c: _json(c.solved({"bce_loss": MEMORY_BOMB})),
        points={"test_bce_loss": 0.0},
    ),
    Case(
        "patch_numpy",
        "wrong sigmoid; numpy.testing.assert_allclose and numpy.isclose replaced",
        "flagged",
        _with_sigmoid_extra(PATCH_NUMPY),
        points=REFERENCE,
        flags=("patched-module",),
    ),
    Case(
        "patch_builtins",
        "wrong sigmoid; builtins.abs replaced",
        "flagged",
        _with_sigmoid_extra(PATCH_BUILTINS),
        points=REFERENCE,
        flags=("patched-module",),
    ),
    Case(
        "patch_dlkit_testing",
        "wrong sigmoid; dlkit.testing's numpy swapped for one whose isclose always agrees",
        "flagged",
        _with_sigmoid_extra(PATCH_DLKIT_TESTING),
        points=REFERENCE,
        flags=("patched-module",),
    ),
    Case(
        "redefined_helper",
        "wrong sigmoid; assert_close redefined to do nothing",
        "flagged",
        _with_sigmoid_extra(REDEFINED_HELPER),
        points=REFERENCE,
        flags=("redefined-helper",),
    ),
    Case(
        "input_transformer",
        "wrong sigmoid; an IPython input transformer that blanks every cell calling assert_close",
        "flagged",
        _with_sigmoid_extra(INPUT_TRANSFORMER),
        points=REFERENCE,
        flags=("ipython-hook",),
    ),
    Case(
        "sys_modules",
        "wrong sigmoid; a fake dlkit.testing put into sys.modules and re-imported",
        "flagged",
        _with_sigmoid_extra(SYS_MODULES),
        points=REFERENCE,
        flags=("patched-namespace", "sys-modules", "redefined-helper"),
    ),
    Case(
        "reads_hidden_tests",
        "correct code that prints the instructor's notebook (hidden tests) from disk",
        "flagged",
        _read_files(lambda c: [c.work / "source" / UNIT / NOTEBOOK, c.repo_solution], READ_TEXT),
        flags=("file-access",),
        not_in_output=("BEGIN HIDDEN TESTS", "rng_t"),
    ),
    Case(
        "reads_gradebook",
        "correct code that opens the gradebook with sqlite3",
        "flagged",
        _read_files(lambda c: [c.state / "gradebook.db"], READ_DB),
        flags=("file-access",),
        not_in_output=("grade_cells", "submitted_assignment"),
    ),
    Case(
        "lists_students",
        "correct code that lists the other students' submissions",
        "flagged",
        _read_files(lambda c: [c.state / "submitted", c.state / "autograded"], LIST_DIR),
        flags=("file-access", "forbidden-call"),
        not_in_output=(REFERENCE_STUDENT, "noisy_correct"),
    ),
    Case(
        "writes_outside",
        "correct code that writes into the grading folders",
        "flagged",
        _read_files(
            lambda c: [
                c.state / "pwned.txt",
                c.state / "autograded" / "correct" / UNIT / "pwned.txt",
                c.state / "submitted" / "correct" / UNIT / "pwned.txt",
            ],
            WRITE_FILE,
        ),
        flags=("file-access",),
        files_absent=(
            "pwned.txt",
            f"autograded/correct/{UNIT}/pwned.txt",
            f"submitted/correct/{UNIT}/pwned.txt",
        ),
    ),
    Case("malformed_json", "half a notebook file", "invalid", _malformed, points=None),
    Case("old_nbformat", "the solution saved as nbformat 3", "graded", _v3),
    Case(
        "missing_notebook",
        "a submission folder without the notebook",
        "missing",
        lambda c: {"notes.txt": b"I could not finish, sorry"},
        points=None,
    ),
    Case(
        "absent",
        "a student on the roster who submitted nothing",
        "missing",
        lambda c: None,
        points=None,
    ),
    Case(
        "renamed_notebook",
        "the solution saved as '01_perceptron (1).ipynb'",
        "graded",
        lambda c: {f"{UNIT} (1).ipynb": nbformat.writes(c.solved()).encode()},
    ),
    *VERDICT_ATTACKS,
]


def case(name: str) -> Case:
    """The case called ``name``."""
    return next(c for c in CASES if c.name == name)


def write_corpus(ctx: Context) -> None:
    """Write every case's submission under ``ctx.state/submitted/<case>/<unit>/``."""
    for item in CASES:
        files = item.build(ctx)
        if files is None:
            continue
        folder = ctx.state / "submitted" / item.name / UNIT
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)


def expected_points(item: Case, full: dict[str, float], reference: dict[str, float]) -> dict:
    """The expected ``{test cell: points}`` of ``item`` (see the module docstring)."""
    if item.points == FULL:
        return dict(full)
    if item.points == REFERENCE:
        return dict(reference)
    if isinstance(item.points, dict):
        return {**(full if not item.at_most else {}), **item.points}
    raise ValueError(f"case {item.name!r} has no points: {json.dumps(item.points)}")


def hidden_lines(nb) -> list[str]:
    """Distinctive lines of the hidden-test regions of ``nb``: at least 20 characters long and
    not also somewhere in the notebook's visible text (code or markdown)."""
    visible, hidden = [], []
    for cell in nb.cells:
        inside = False
        for line in cell.source.split("\n"):
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside:
                hidden.append(line.strip())
            else:
                visible.append(line)
    shown = " ".join(" ".join(visible).split())
    return [line for line in hidden if len(line) >= 20 and " ".join(line.split()) not in shown]
