"""Automatic one-change mutants of every graded solution, run against the unit's own tests.

The hand-written mutants in ``mutants/`` prove that a unit's tests catch the mistakes we thought
of; this tool checks the ones nobody thought of.  For each graded exercise of a unit it takes the
code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of the answer cell, makes every
mutant that differs from the solution by one small change (an operator, a constant, an axis, a
deleted statement, ...: see :data:`OPERATORS`), and runs the exercise's test cells on each:

* a worker process (one per unit, ``python automutate.py --worker``) runs the setup cell once,
  then forks one child per mutant, which executes the mutated answer cell and then, cell by cell,
  the visible part of each test cell (the cell without its ``### BEGIN HIDDEN TESTS`` block) and
  its hidden part;
* the verdict is ``visible`` (a visible check raised), ``hidden`` (only hidden checks raised) or
  ``survived``; a child that runs past its time limit is killed and counts as caught in the part
  it was running, as the grader's time budget would fail it.

Equivalent mutants (no input can tell them from the solution) and accepted ones (real mistakes
the tests deliberately let through) are listed per unit in ``automutants/<unit>.allow.json``;
``--write`` stores the verdicts in ``automutants/<unit>.results.json`` for
``test_automutate.py``.  See ``automutants/README.md``.

Usage::

    .venv/bin/python tests/grading/automutate.py UNIT [UNIT...] [--exercise NAME]
        [--survivors] [--write] [--jobs N]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import difflib
import hashlib
import json
import os
import random
import re
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
REPO = TESTS_DIR.parents[1]
SOLUTIONS = REPO / "solutions"
AUTOMUTANTS_DIR = TESTS_DIR / "automutants"

# Bump when the operators, the id format or the way mutants are run changes: every committed
# results file then has to be regenerated (its hash includes this number).
OPERATOR_VERSION = 1
TARGET_VISIBLE = 0.97
TARGET_ALL = 0.995
MIN_TIMEOUT_S = 10.0
BASELINE_TIMEOUT_S = 600.0
# Address space a mutant may add to the worker's (MemoryError beyond: caught, as the grader's
# kernels run under a 4 GiB limit); it keeps a runaway mutant from swapping the machine.
CHILD_MEMORY_BYTES = 3 * 1024**3
TIMEOUT_FACTOR = 8.0

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"

# Documented in automutants/README.md; every one is exercised by test_automutate.py.
OPERATORS = {
    "binop": "arithmetic operator swap (+ -, * /, / //, // /, % //, ** *, @ *)",
    "augassign": "augmented assignment: x += y -> x = y and x -= y (likewise -=, *=, /=)",
    "compare": "comparison swap (< <= > >= == != is/is not in/not in)",
    "boolop": "and <-> or",
    "not": "removal of `not` or `~`",
    "neg_remove": "removal of a unary minus (-x -> x)",
    "neg_insert": "negation of a returned value or of an arithmetic right-hand side",
    "const": "numbers: n -> n+1 (and 1 -> 0), float c -> 2c and c+1",
    "bool": "True <-> False",
    "none": "None -> 0 (outside comparisons)",
    "axis": "axis= value: any other of 0, 1, -1, None",
    "attr_T": "removal of a transpose .T",
    "index": "subscript shift: x[i] -> x[i + 1], x[i - 1] for a name i",
    "slice": "slice bound removed (x[a:b] -> x[:b], x[a:]; not a 0 start) or shifted (b -> b + 1)",
    "func": "function swap (max/min, argmax/argmin, maximum/minimum, sum/mean, zeros/ones, ...)",
    "unwrap": "an elementwise call or copy removed (np.exp(x) -> x, x.copy() -> x)",
    "swap_args": "two adjacent positional call arguments swapped",
    "delete": "a statement other than return replaced by pass",
}

BINOP_SWAPS = {
    ast.Add: [ast.Sub],
    ast.Sub: [ast.Add],
    ast.Mult: [ast.Div],
    ast.Div: [ast.Mult, ast.FloorDiv],
    ast.FloorDiv: [ast.Div],
    ast.Mod: [ast.FloorDiv],
    ast.Pow: [ast.Mult],
    ast.MatMult: [ast.Mult],
}
AUG_SWAPS = {ast.Add: [ast.Sub], ast.Sub: [ast.Add], ast.Mult: [ast.Div], ast.Div: [ast.Mult]}
COMPARE_SWAPS = {
    ast.Lt: [ast.LtE, ast.Gt],
    ast.LtE: [ast.Lt, ast.GtE],
    ast.Gt: [ast.GtE, ast.Lt],
    ast.GtE: [ast.Gt, ast.LtE],
    ast.Eq: [ast.NotEq],
    ast.NotEq: [ast.Eq],
    ast.Is: [ast.IsNot],
    ast.IsNot: [ast.Is],
    ast.In: [ast.NotIn],
    ast.NotIn: [ast.In],
}
OP_TEXT = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.MatMult: "@",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.And: "and",
    ast.Or: "or",
}
FUNC_SWAPS = {
    "max": ["min"],
    "min": ["max"],
    "amax": ["amin"],
    "amin": ["amax"],
    "nanmax": ["nanmin"],
    "nanmin": ["nanmax"],
    "argmax": ["argmin"],
    "argmin": ["argmax"],
    "maximum": ["minimum"],
    "minimum": ["maximum"],
    "sum": ["mean"],
    "mean": ["sum"],
    "nansum": ["nanmean"],
    "nanmean": ["nansum"],
    "zeros": ["ones"],
    "ones": ["zeros"],
    "zeros_like": ["ones_like"],
    "ones_like": ["zeros_like"],
    "any": ["all"],
    "all": ["any"],
    "floor": ["ceil"],
    "ceil": ["floor"],
    "sin": ["cos"],
    "cos": ["sin"],
    "var": ["std"],
    "std": ["var"],
    "log1p": ["log"],
    "expm1": ["exp"],
}
UNWRAP_FUNCS = {"exp", "log", "sqrt", "abs", "tanh", "copy", "log1p", "expm1", "square"}
AXIS_VALUES = ("0", "1", "-1", "None")
MAX_SNIPPET = 32


# ----------------------------------------------------------------------------------------------
# Reading a unit
# ----------------------------------------------------------------------------------------------


def _harness():
    sys.path.insert(0, str(TESTS_DIR))
    try:
        import grading_harness
    finally:
        sys.path.remove(str(TESTS_DIR))
    return grading_harness


def split_hidden(source: str) -> tuple[str, str]:
    """``(visible, hidden)``: the cell without its hidden-tests block, and that block's code.

    The hidden code keeps its line numbers (blank lines stand for the visible part) so a
    traceback points at the right line of the cell."""
    lines = source.split("\n")
    visible, hidden, inside = [], [], False
    for line in lines:
        if BEGIN_HIDDEN in line:
            inside = True
            visible.append("")
            hidden.append("")
        elif END_HIDDEN in line:
            inside = False
            visible.append("")
            hidden.append("")
        elif inside:
            visible.append("")
            hidden.append(line)
        else:
            visible.append(line)
            hidden.append("")
    if inside:
        raise ValueError("a test cell opens ### BEGIN HIDDEN TESTS and never closes it")
    return "\n".join(visible), "\n".join(hidden)


@dataclasses.dataclass
class Exercise:
    name: str
    answer: str  # the answer cell's source, solution markers included
    tests: list[tuple[str, str, str]]  # (grade_id, visible part, hidden part)
    test_sources: list[str]

    def digest(self, setup: str) -> str:
        payload = json.dumps(
            [OPERATOR_VERSION, setup, self.answer, self.test_sources], ensure_ascii=True
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclasses.dataclass
class Unit:
    name: str
    directory: Path
    setup: str
    exercises: dict[str, Exercise]

    def digest(self) -> str:
        parts = [f"{name}={ex.digest(self.setup)}" for name, ex in self.exercises.items()]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def load_unit(unit: str, solutions: Path = SOLUTIONS) -> Unit:
    """The setup cell, and each graded exercise's answer cell and test cells, of ``unit``."""
    harness = _harness()
    directory = solutions / unit
    if not directory.is_dir():
        raise SystemExit(f"automutate: no unit {unit!r} in {solutions}")
    spec = harness.inspect_unit(directory)
    if spec.problems:
        raise SystemExit(f"automutate: {unit}: " + "; ".join(spec.problems))
    setup, exercises = None, {}
    for nb in spec.sources.values():
        cells = {}
        for cell in nb.cells:
            gid = harness.nbgrader_meta(cell).get("grade_id")
            if gid is not None and cell.cell_type == "code":
                cells[gid] = cell.source
        if "setup" in cells:
            setup = cells["setup"]
        for name in spec.exercises:
            if name in cells:
                sources = [cells[t] for t in spec.tests[name]]
                tests = [(t, *split_hidden(cells[t])) for t in spec.tests[name]]
                exercises[name] = Exercise(name, cells[name], tests, sources)
    if setup is None:
        raise SystemExit(f"automutate: {unit} has no setup cell (grade_id 'setup')")
    return Unit(unit, directory, setup, exercises)


# ----------------------------------------------------------------------------------------------
# Generating mutants
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Mutant:
    id: str
    exercise: str
    operator: str
    source: str  # the whole mutated answer cell
    line: int  # 1-based line of the change in the answer cell

    def diff(self, original: str) -> str:
        """Unified diff of the answer cell, solution -> mutant."""
        return "".join(
            difflib.unified_diff(
                original.splitlines(keepends=True),
                self.source.splitlines(keepends=True),
                "solution",
                "mutant",
                n=0,
            )
        )

    def one_line(self, original: str) -> str:
        """``line N: old -> new`` for the changed lines."""
        old, new = original.split("\n"), self.source.split("\n")
        matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                before = " / ".join(s.strip() for s in old[i1:i2]) or "(nothing)"
                after = " / ".join(s.strip() for s in new[j1:j2]) or "(removed)"
                return f"line {i1 + 1}: {before}  ->  {after}"
        return "(no change)"


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SNIPPET else text[: MAX_SNIPPET - 1] + "~"


def _solution_blocks(source: str) -> list[tuple[int, int]]:
    """``[(begin line, end line)]`` (1-based, the marker lines) of each solution block."""
    blocks, start = [], None
    for number, line in enumerate(source.split("\n"), start=1):
        if BEGIN_SOLUTION in line:
            start = number
        elif END_SOLUTION in line and start is not None:
            blocks.append((start, number))
            start = None
    return blocks


_ATOMS = (ast.Name, ast.Attribute, ast.Subscript, ast.Call, ast.List, ast.Tuple, ast.Dict)


class _Generator:
    def __init__(self, exercise: str, source: str):
        self.exercise = exercise
        self.source = source
        self.data = source.encode()
        self.line_starts = [0]
        for line in self.data.split(b"\n")[:-1]:
            self.line_starts.append(self.line_starts[-1] + len(line) + 1)
        self.blocks = _solution_blocks(source)
        self.tree = ast.parse(source)
        self.parents: dict[int, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[id(child)] = node
        # f-strings are messages, and their inner positions are not reliable before 3.12
        self.in_fstring = {
            id(inner)
            for node in ast.walk(self.tree)
            if isinstance(node, ast.JoinedStr)
            for inner in ast.walk(node)
        }

    # positions --------------------------------------------------------------------------------
    def start(self, node) -> int:
        return self.line_starts[node.lineno - 1] + node.col_offset

    def end(self, node) -> int:
        return self.line_starts[node.end_lineno - 1] + node.end_col_offset

    def text(self, a: int, b: int) -> str:
        return self.data[a:b].decode()

    def segment(self, node) -> str:
        return self.text(self.start(node), self.end(node))

    def block_of(self, node) -> int | None:
        """Index of the solution block that wholly contains ``node``, else None."""
        for i, (begin, end) in enumerate(self.blocks):
            if begin < node.lineno and node.end_lineno < end:
                return i
        return None

    def line_of(self, offset: int) -> int:
        line = 0
        while line + 1 < len(self.line_starts) and self.line_starts[line + 1] <= offset:
            line += 1
        return line + 1

    # output -----------------------------------------------------------------------------------
    def make(self, node, operator: str, a: int, b: int, new: str, label_old=None, label_new=None):
        """A candidate: bytes ``a:b`` replaced by ``new``; None if it changes nothing."""
        old = self.text(a, b)
        if old == new:
            return None
        block = self.block_of(node)
        line = self.line_of(a)
        rel = line - self.blocks[block][0]
        where = f"L{rel}" if len(self.blocks) == 1 else f"B{block + 1}L{rel}"
        label = f"{_snippet(label_old or old)}->{_snippet(label_new or new)}"
        mutated = (self.data[:a] + new.encode() + self.data[b:]).decode()
        return (a, f"{self.exercise}:{where}:{operator}:{label}", operator, mutated, line)

    def replace(self, node, operator, new, label_old=None, label_new=None, wrap=True):
        if wrap and not _is_atom_text(new):
            new = f"({new})"
        return self.make(
            node, operator, self.start(node), self.end(node), new, label_old, label_new
        )

    def replace_op(self, node, operator, left, right, new_op: str):
        """Replace the operator written between ``left`` and ``right`` (parentheses, spaces and
        comments around it stay)."""
        a, b = self.end(left), self.start(right)
        gap = self.text(a, b)
        blanked = re.sub(r"#[^\n]*", lambda m: " " * len(m.group()), gap)
        core = [i for i, ch in enumerate(blanked) if ch not in " \t\n\\()"]
        if not core:
            return None
        i, j = core[0], core[-1] + 1
        # i and j count characters of the decoded gap: convert them to byte offsets
        ca = a + len(gap[:i].encode())
        cb = a + len(gap[:j].encode())
        return self.make(node, operator, ca, cb, new_op)

    # the operators ----------------------------------------------------------------------------
    def candidates(self) -> list[tuple[str, str, str, int]]:
        """``(id, operator, mutated source, line)`` in the order of the changed text."""
        found = []
        for node in ast.walk(self.tree):
            if not hasattr(node, "lineno") or id(node) in self.in_fstring:
                continue
            if self.block_of(node) is None:
                continue
            found += [c for c in self.node_candidates(node) if c is not None]
        found.sort(key=lambda c: c[0])  # stable: at one position, in the order generated
        return [c[1:] for c in found]

    def in_axis_keyword(self, node) -> bool:
        parent = self.parents.get(id(node))
        while parent is not None:
            if isinstance(parent, ast.keyword):
                return parent.arg == "axis"
            if isinstance(parent, ast.stmt | ast.Call):
                return False
            parent = self.parents.get(id(parent))
        return False

    def in_comparison(self, node) -> bool:
        return isinstance(self.parents.get(id(node)), ast.Compare)

    def node_candidates(self, node):  # noqa: C901 - one branch per node type
        parent = self.parents.get(id(node))
        if isinstance(node, ast.keyword) and node.arg == "axis":
            old = self.segment(node.value)
            for new in AXIS_VALUES:
                if new != old:
                    yield self.replace(
                        node.value, "axis", new, f"axis={old}", f"axis={new}", wrap=False
                    )
        if isinstance(node, ast.BinOp):
            for new in BINOP_SWAPS.get(type(node.op), []):
                yield self.replace_op(node, "binop", node.left, node.right, OP_TEXT[new])
        elif isinstance(node, ast.AugAssign) and type(node.op) in AUG_SWAPS:
            yield self.replace_op(node, "augassign", node.target, node.value, "=")
            for new in AUG_SWAPS[type(node.op)]:
                yield self.replace_op(
                    node, "augassign", node.target, node.value, OP_TEXT[new] + "="
                )
        elif isinstance(node, ast.Compare):
            left = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                for new in COMPARE_SWAPS.get(type(op), []):
                    yield self.replace_op(node, "compare", left, right, OP_TEXT[new])
                left = right
        elif isinstance(node, ast.BoolOp):
            new = "or" if isinstance(node.op, ast.And) else "and"
            for left, right in zip(node.values, node.values[1:], strict=False):
                yield self.replace_op(node, "boolop", left, right, new)
        elif isinstance(node, ast.UnaryOp):
            operand = self.segment(node.operand)
            if isinstance(node.op, ast.Not | ast.Invert):
                op = "not" if isinstance(node.op, ast.Not) else "~"
                yield self.replace(node, "not", operand, f"{op} {operand}", operand)
            elif isinstance(node.op, ast.USub) and not (
                isinstance(node.operand, ast.Constant) and self.in_axis_keyword(node)
            ):
                yield self.replace(node, "neg_remove", operand, f"-{operand}", operand)
        elif isinstance(node, ast.Constant):
            yield from self.constant_candidates(node)
        elif isinstance(node, ast.Attribute):
            if node.attr == "T" and isinstance(node.ctx, ast.Load):
                value = self.segment(node.value)
                yield self.replace(node, "attr_T", value, f"{value}.T", value)
            if isinstance(parent, ast.Call) and parent.func is node:
                for new in FUNC_SWAPS.get(node.attr, []):
                    a = self.end(node) - len(node.attr.encode())
                    yield self.make(node, "func", a, self.end(node), new)
        elif isinstance(node, ast.Name):
            if isinstance(parent, ast.Call) and parent.func is node:
                for new in FUNC_SWAPS.get(node.id, []):
                    yield self.replace(node, "func", new)
        elif isinstance(node, ast.Subscript):
            yield from self.subscript_candidates(node)
        if isinstance(node, ast.Call):
            yield from self.call_candidates(node)
        if isinstance(node, ast.Return) and node.value is not None:
            yield from self.negate(node.value)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.BinOp):
            yield from self.negate(node.value)
        if isinstance(node, ast.stmt) and not isinstance(node, ast.Return | ast.Pass):
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
                yield self.replace(
                    node, "delete", "pass", self.segment(node).split("\n")[0], wrap=False
                )

    def negate(self, value):
        if isinstance(value, ast.Tuple | ast.Constant | ast.Compare | ast.BoolOp):
            return
        if isinstance(value, ast.UnaryOp):
            return
        text = self.segment(value)
        inner = text if _is_atom_text(text) else f"({text})"
        yield self.replace(value, "neg_insert", f"-{inner}", text, f"-{inner}", wrap=False)

    def constant_candidates(self, node):
        value = node.value
        if self.in_axis_keyword(node):
            return
        if isinstance(value, bool):
            yield self.replace(node, "bool", str(not value))
        elif value is None:
            if not self.in_comparison(node):
                yield self.replace(node, "none", "0")
        elif isinstance(value, int | float):
            news = [value + 1, 0] if value == 1 else [value + 1]
            if isinstance(value, float):
                news = [value * 2, value + 1]
            parent = self.parents.get(id(node))
            sign = (
                "-" if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub) else ""
            )
            old = self.segment(node)
            for new in news:
                yield self.replace(node, "const", repr(new), sign + old, sign + repr(new))

    def subscript_candidates(self, node):
        index = node.slice
        elements = index.elts if isinstance(index, ast.Tuple) else [index]
        for element in elements:
            if isinstance(element, ast.Name):
                for sign in ("+", "-"):
                    new = f"{element.id} {sign} 1"
                    yield self.replace(element, "index", new, wrap=len(elements) > 1)
            elif isinstance(element, ast.Slice):
                for bound in (element.lower, element.upper):
                    if bound is None:
                        continue
                    if bound is element.lower and _is_zero(bound):
                        continue  # x[0:b] is x[:b] for any sequence: not a mutant
                    old = self.segment(element)
                    without = self.segment_without(element, bound)
                    yield self.make(
                        element, "slice", self.start(element), self.end(element), without, old
                    )
                    if isinstance(bound, ast.Name):
                        yield self.replace(bound, "slice", f"{bound.id} + 1", wrap=False)

    def segment_without(self, element: ast.Slice, bound) -> str:
        """The slice ``element`` written without ``bound`` (``a:b`` -> ``:b`` or ``a:``)."""
        parts = [element.lower, element.upper, element.step]
        texts = ["" if p is None or p is bound else self.segment(p) for p in parts]
        text = f"{texts[0]}:{texts[1]}"
        if element.step is not None:
            text += f":{texts[2]}"
        return text

    def call_candidates(self, node: ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in UNWRAP_FUNCS and not node.keywords:
            if len(node.args) == 1 and not isinstance(node.args[0], ast.Starred):
                arg = self.segment(node.args[0])
                yield self.replace(node, "unwrap", arg, self.segment(node), arg)
            elif not node.args and isinstance(func, ast.Attribute) and name == "copy":
                value = self.segment(func.value)
                yield self.replace(node, "unwrap", value, self.segment(node), value)
        args = node.args
        for left, right in zip(args, args[1:], strict=False):
            if isinstance(left, ast.Starred) or isinstance(right, ast.Starred):
                continue
            a, b = self.segment(left), self.segment(right)
            if a == b:
                continue
            gap = self.text(self.end(left), self.start(right))
            new = b + gap + a
            yield self.make(
                node, "swap_args", self.start(left), self.end(right), new, f"{a}, {b}", f"{b}, {a}"
            )


def _is_zero(node) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value == 0


def _is_atom_text(text: str) -> bool:
    """Whether ``text`` needs no parentheses wherever an expression may stand."""
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return False
    if isinstance(node, ast.Constant):
        return not (isinstance(node.value, int | float) and node.value < 0)
    if isinstance(node, ast.Tuple):
        return text.startswith("(") and text.endswith(")")
    return isinstance(node, _ATOMS)


def generate(exercise: str, source: str) -> list[Mutant]:
    """Every distinct, compiling one-change mutant of the solution blocks of ``source``."""
    gen = _Generator(exercise, source)
    original = ast.dump(gen.tree)
    mutants, seen_sources, seen_ids = [], {source}, {}
    for mutant_id, operator, mutated, line in gen.candidates():
        if mutated in seen_sources:
            continue
        try:
            tree = compile(mutated, "<mutant>", "exec", ast.PyCF_ONLY_AST)
            compile(tree, "<mutant>", "exec")
        except (SyntaxError, ValueError):
            continue
        if ast.dump(tree) == original:
            continue
        seen_sources.add(mutated)
        n = seen_ids.get(mutant_id, 0) + 1
        seen_ids[mutant_id] = n
        mutants.append(
            Mutant(mutant_id if n == 1 else f"{mutant_id}#{n}", exercise, operator, mutated, line)
        )
    return mutants


def unit_mutants(unit: Unit, exercise: str | None = None) -> list[Mutant]:
    names = [exercise] if exercise else list(unit.exercises)
    out = []
    for name in names:
        if name not in unit.exercises:
            raise SystemExit(
                f"automutate: {unit.name} has no graded exercise {name!r} "
                f"(it has: {', '.join(unit.exercises)})"
            )
        out += generate(name, unit.exercises[name].answer)
    return out


# ----------------------------------------------------------------------------------------------
# Running mutants (the worker process)
# ----------------------------------------------------------------------------------------------

WORKER_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYTHONWARNINGS": "ignore",
}


def _describe(exc: BaseException) -> str:
    first = (str(exc).strip().split("\n") or [""])[0]
    return f"{type(exc).__name__}: {first}"[:160]


class _GraderNamespace(dict):
    """The test cells' globals in "grader" mode, as in ``dlgrade``'s grader process: its own
    names (the setup cell runs in it too), then the student's kernel for any other name, and
    ``using(globals(), ...)`` substituting in the kernel (``dlkit.testing.using`` calls
    ``substitute`` on a namespace that is not a plain dict)."""

    def __init__(self, kernel: dict):
        super().__init__()
        self.kernel = kernel

    def __missing__(self, name: str):
        if name in self.kernel:
            return self.kernel[name]
        raise KeyError(name)

    @contextlib.contextmanager
    def substitute(self, **replacements):
        from dlkit.testing import using

        with using(self.kernel, **replacements):
            yield


def _child_run(kernel: dict, job: dict, setup: str, say) -> None:
    """In the forked child: the answer cell in ``kernel``, then the job's test code.

    ``student`` mode runs the visible part of each test cell in the kernel itself, as in the
    student's own JupyterLab; ``grader`` mode runs the whole test cells (visible, then hidden
    part) in a :class:`_GraderNamespace` over the kernel, as ``dlgrade`` grades them."""
    try:
        exec(compile(job["answer"], "<answer cell>", "exec"), kernel)
    except BaseException as exc:  # noqa: BLE001 - any failure of the cell is a verdict
        say({"event": "raised", "where": "answer cell", "error": _describe(exc)})
        return
    namespace = kernel
    if job["mode"] == "grader":
        namespace = _GraderNamespace(kernel)
        namespace.update(__name__="__main__", __builtins__=kernel["__builtins__"])
        exec(compile(setup, "<setup cell>", "exec"), namespace)
    for gid, code in job["cells"]:
        say({"event": "cell", "cell": gid})
        try:
            exec(compile(code, f"<{gid}>", "exec"), namespace)
        except BaseException as exc:  # noqa: BLE001
            say({"event": "raised", "where": gid, "error": _describe(exc)})
            return
    say({"event": "passed"})


_MEMORY_LIMIT = 0  # bytes of address space a child may use; set by the worker


def _address_space() -> int:
    """This process's address-space size in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _fork_child(kernel: dict, job: dict, setup: str) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: report on the pipe, everything else to /dev/null
        code = 0
        try:
            os.close(read_fd)
            os.setpgid(0, 0)
            if _MEMORY_LIMIT:
                resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            with os.fdopen(write_fd, "w") as report:

                def say(event: dict) -> None:
                    report.write(json.dumps(event) + "\n")
                    report.flush()

                _child_run(kernel, job, setup, say)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def _outcome(events: list[dict], timed_out: bool, status: int) -> tuple[bool, str]:
    """``(caught, by)`` of one child."""
    for event in events:
        if event["event"] == "raised":
            return True, f"{event['where']}: {event['error']}"
        if event["event"] == "passed":
            return False, ""
    cells = [e["cell"] for e in events if e["event"] == "cell"]
    where = cells[-1] if cells else "answer cell"
    if timed_out:
        return True, f"{where}: timeout"
    return True, f"{where}: the process died (status {status})"


def _jobs_of(mutant: dict, exercise: dict) -> dict:
    """The ``student`` job of a mutant; its ``grader`` job is made when that one survives."""
    return {
        "id": mutant["id"],
        "answer": mutant["answer"],
        "mode": "student",
        "cells": exercise["visible"],
        "timeout": mutant["timeout"],
    }


def _run_batch(kernel: dict, payload: dict, mutants: list[dict], emit) -> None:
    """Fork up to ``parallel`` children at a time; ``emit(result)`` for each mutant."""
    exercises = payload["exercises"]
    pending = [_jobs_of(m, exercises[m["exercise"]]) for m in mutants]
    by_id = {m["id"]: m for m in mutants}
    running: dict[int, dict] = {}  # read fd -> state
    seconds: dict[str, float] = {}
    while pending or running:
        while pending and len(running) < payload["parallel"]:
            job = pending.pop(0)
            pid, fd = _fork_child(kernel, job, payload["setup"])
            running[fd] = {"job": job, "pid": pid, "buf": b"", "t0": time.monotonic()}
        now = time.monotonic()
        wait = min(s["t0"] + s["job"]["timeout"] - now for s in running.values())
        ready, _, _ = select.select(list(running), [], [], max(0.0, min(wait, 1.0)))
        for fd in list(running):
            state = running[fd]
            closed = False
            if fd in ready:
                chunk = os.read(fd, 65536)
                state["buf"] += chunk
                closed = not chunk
            elapsed = time.monotonic() - state["t0"]
            timed_out = not closed and elapsed > state["job"]["timeout"]
            if not (closed or timed_out):
                continue
            if timed_out:
                for kill in (os.killpg, os.kill):
                    try:
                        kill(state["pid"], signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
            _, status = os.waitpid(state["pid"], 0)
            os.close(fd)
            del running[fd]
            job = state["job"]
            events = [json.loads(line) for line in state["buf"].decode().splitlines() if line]
            caught, by = _outcome(events, timed_out, status)
            seconds[job["id"]] = seconds.get(job["id"], 0.0) + elapsed
            if job["mode"] == "student" and not caught:
                mutant = by_id[job["id"]]
                cells = exercises[mutant["exercise"]]["full"]
                pending.insert(0, {**job, "mode": "grader", "cells": cells})
                continue
            verdict = "survived"
            if caught:
                verdict = "visible" if job["mode"] == "student" else "hidden"
            result = {"id": job["id"], "verdict": verdict, "by": by}
            result["seconds"] = round(seconds[job["id"]], 3)
            emit(result)


def worker_main() -> None:
    """``automutate.py --worker``: read a job from stdin, run it, write JSON lines to stdout."""
    payload = json.load(sys.stdin)
    out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)  # the setup cell and anything it prints stay off the channel
    os.chdir(payload["cwd"])
    kernel = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        exec(compile(payload["setup"], "<setup cell>", "exec"), kernel)
        for module in payload["preimport"]:
            try:
                __import__(module)
            except ImportError:
                pass
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)
        import matplotlib.pyplot as plt  # noqa: PLC0415 - Agg, through MPLBACKEND

        plt.show = lambda *args, **kwargs: None
        global _MEMORY_LIMIT  # noqa: PLW0603 - the worker's one setting for its children
        size = _address_space()
        _MEMORY_LIMIT = size + CHILD_MEMORY_BYTES if size else 0
    except BaseException as exc:  # noqa: BLE001
        out.write(json.dumps({"setup_failed": _describe(exc)}) + "\n")
        out.flush()
        return

    def emit(result: dict) -> None:
        out.write(json.dumps(result) + "\n")
        out.flush()

    # the unmutated solutions first, through the same path: they must pass, and their time
    # sets the mutants' time limits
    solutions = [
        {"id": name, "exercise": name, "answer": payload["exercises"][name]["answer"]}
        for name in sorted({m["exercise"] for m in payload["mutants"]})
    ]
    for job in solutions:
        job["timeout"] = BASELINE_TIMEOUT_S
    base: dict[str, dict] = {}
    _run_batch(kernel, payload, solutions, lambda r: base.__setitem__(r["id"], r))
    emit({"baseline": base})
    if any(r["verdict"] != "survived" for r in base.values()):
        return
    for mutant in payload["mutants"]:
        if "timeout" not in mutant:
            mutant["timeout"] = timeout_for(base[mutant["exercise"]]["seconds"])
    _run_batch(kernel, payload, payload["mutants"], emit)


def _preimports(unit: Unit) -> list[str]:
    """Top-level modules the test cells import, imported once in the worker before forking."""
    modules = set()
    for exercise in unit.exercises.values():
        for source in exercise.test_sources:
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module)
    return sorted(modules)


class HarnessError(AssertionError):
    """The tool cannot run this unit's tests faithfully (setup fails, or the unmutated
    solution does not pass its own tests through the tool's path)."""


def timeout_for(seconds: float) -> float:
    """A mutant's time limit from its solution's seconds (both modes together)."""
    return max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * seconds)


def run_mutants(
    unit: Unit, mutants: list[Mutant] | list[dict], parallel: int = 2
) -> dict[str, dict]:
    """``{mutant id: {"verdict", "by", "seconds"}}`` for ``mutants`` of ``unit``.

    One worker process runs the setup cell, then the unmutated solution of each exercise
    concerned (HarnessError unless it passes both modes), then the mutants.  A mutant is a
    :class:`Mutant` or a dict ``{id, exercise, answer[, timeout]}``."""
    jobs = [dataclasses.asdict(m) if isinstance(m, Mutant) else dict(m) for m in mutants]
    jobs = [
        {"id": j["id"], "exercise": j["exercise"], "answer": j.get("answer", j.get("source"))}
        | ({"timeout": j["timeout"]} if "timeout" in j else {})
        for j in jobs
    ]
    if not jobs:
        return {}
    payload = {
        "cwd": str(unit.directory),
        "setup": unit.setup,
        "preimport": _preimports(unit),
        "exercises": {
            name: {
                "answer": ex.answer,
                "visible": [(gid, visible) for gid, visible, _ in ex.tests],
                "full": [(ex.tests[i][0], src) for i, src in enumerate(ex.test_sources)],
            }
            for name, ex in unit.exercises.items()
        },
        "mutants": jobs,
        "parallel": max(1, parallel),
    }
    errors = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: it never fills up
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        env={**os.environ, **WORKER_ENV},
        text=True,
    )
    results = {}
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(payload))
    proc.stdin.close()
    for line in proc.stdout:
        result = json.loads(line)
        if "setup_failed" in result:
            proc.wait()
            raise HarnessError(f"{unit.name}: the setup cell failed: {result['setup_failed']}")
        if "baseline" in result:
            bad = {n: r for n, r in result["baseline"].items() if r["verdict"] != "survived"}
            if bad:
                proc.wait()
                raise HarnessError(
                    f"{unit.name}: the unmutated solution fails its own tests when automutate "
                    "runs them, so every mutant would count as caught; fix the notebook or "
                    "the tool first:\n"
                    + "\n".join(
                        f"  {n}: {r['verdict']} tests raised in {r['by']}" for n, r in bad.items()
                    )
                )
            continue
        results[result.pop("id")] = result
    proc.wait()
    errors.seek(0)
    stderr = errors.read()[-4000:]
    errors.close()
    if proc.wait() != 0 or len(results) != len(jobs):
        raise HarnessError(
            f"{unit.name}: the mutant worker stopped early (exit {proc.returncode}):\n{stderr}"
        )
    return results


# ----------------------------------------------------------------------------------------------
# Allow-lists, results files, rates
# ----------------------------------------------------------------------------------------------


def shown(path: Path) -> str:
    """``path`` relative to the repository where it lies inside it."""
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def allow_path(unit: str) -> Path:
    return AUTOMUTANTS_DIR / f"{unit}.allow.json"


def results_path(unit: str) -> Path:
    return AUTOMUTANTS_DIR / f"{unit}.results.json"


def load_allow(unit: str, directory: Path | None = None) -> dict[str, dict[str, str]]:
    """``{"equivalent": {id: reason}, "accepted": {id: reason}}`` ({} parts if no file)."""
    path = (directory or AUTOMUTANTS_DIR) / f"{unit}.allow.json"
    allow = {"equivalent": {}, "accepted": {}}
    if path.is_file():
        data = json.loads(path.read_text())
        unknown = set(data) - set(allow)
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)}; expected {sorted(allow)}")
        for key in allow:
            allow[key] = dict(data.get(key, {}))
    return allow


def unlisted_survivors(verdicts: dict[str, str], allow: dict) -> list[str]:
    """Mutants that pass visible and hidden tests and are in neither list."""
    listed = set(allow["equivalent"]) | set(allow["accepted"])
    return [i for i, v in verdicts.items() if v == "survived" and i not in listed]


def allow_problems(allow: dict, verdicts: dict[str, str]) -> list[str]:
    """Stale or contradictory allow-list entries, and entries without a reason."""
    problems = []
    both = set(allow["equivalent"]) & set(allow["accepted"])
    problems += [f"{i}: listed as both equivalent and accepted" for i in sorted(both)]
    for kind in ("equivalent", "accepted"):
        for mutant_id, reason in allow[kind].items():
            if not isinstance(reason, str) or len(reason.strip()) < 10:
                problems.append(f"{mutant_id}: {kind} without a reason (write why)")
            if mutant_id not in verdicts:
                problems.append(f"{mutant_id}: stale {kind} entry, no such mutant any more")
            elif kind == "equivalent" and verdicts[mutant_id] != "survived":
                problems.append(
                    f"{mutant_id}: listed as equivalent but the {verdicts[mutant_id]} tests "
                    "catch it, so it is not equivalent: remove it from the allow-list"
                )
            elif kind == "accepted" and verdicts[mutant_id] != "survived":
                problems.append(
                    f"{mutant_id}: listed as accepted but the tests now catch it: remove it"
                )
    return problems


@dataclasses.dataclass
class Rates:
    mutants: int = 0
    equivalent: int = 0
    visible: int = 0  # caught by the visible tests
    caught: int = 0  # caught by visible + hidden
    accepted: int = 0

    @property
    def counted(self) -> int:
        return self.mutants - self.equivalent

    @property
    def visible_rate(self) -> float:
        return self.visible / self.counted if self.counted else 1.0

    @property
    def all_rate(self) -> float:
        return self.caught / self.counted if self.counted else 1.0

    def add(self, other: Rates) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def meets(self) -> bool:
        return self.visible_rate >= TARGET_VISIBLE and self.all_rate >= TARGET_ALL

    def line(self, label: str) -> str:
        return (
            f"{label:<40} {self.mutants:>5} {self.equivalent:>6} "
            f"{self.visible:>5} {100 * self.visible_rate:>6.1f}% "
            f"{self.caught:>5} {100 * self.all_rate:>6.1f}%"
        )


HEADER = f"{'':<40} {'mut':>5} {'equiv':>6} {'vis':>5} {'vis%':>7} {'v+h':>5} {'v+h%':>7}"


def rates(verdicts: dict[str, str], exercise_of: dict[str, str], allow: dict) -> dict[str, Rates]:
    """Per exercise, and ``""`` for the unit, from ``{id: verdict}``."""
    out: dict[str, Rates] = {"": Rates()}
    for mutant_id, verdict in verdicts.items():
        r = Rates(mutants=1)
        if mutant_id in allow["equivalent"]:
            r.equivalent = 1
        else:
            r.visible = int(verdict == "visible")
            r.caught = int(verdict in ("visible", "hidden"))
            r.accepted = int(mutant_id in allow["accepted"])
        out.setdefault(exercise_of[mutant_id], Rates()).add(r)
        out[""].add(r)
    return out


def write_results(unit: Unit, mutants: list[Mutant], results: dict[str, dict]) -> Path:
    """``automutants/<unit>.results.json``: verdicts per exercise and what they depend on."""
    exercises = {}
    for name, exercise in unit.exercises.items():
        exercises[name] = {
            "hash": exercise.digest(unit.setup),
            "mutants": {
                m.id: {"verdict": results[m.id]["verdict"], "by": results[m.id]["by"]}
                for m in mutants
                if m.exercise == name
            },
        }
    data = {
        "unit": unit.name,
        "operator_version": OPERATOR_VERSION,
        "hash": unit.digest(),
        "note": "written by `python tests/grading/automutate.py UNIT --write`; do not edit",
        "exercises": exercises,
    }
    AUTOMUTANTS_DIR.mkdir(parents=True, exist_ok=True)
    path = results_path(unit.name)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return path


def stored_verdicts(data: dict) -> dict[str, str]:
    return {
        mutant_id: entry["verdict"]
        for exercise in data["exercises"].values()
        for mutant_id, entry in exercise["mutants"].items()
    }


def sample_ids(data: dict, allow: dict, size: int) -> list[str]:
    """Every survivor and allow-listed mutant, plus ``size`` others drawn with a seed taken from
    the results' hash (a new sample whenever the notebook or the tool changes)."""
    verdicts = stored_verdicts(data)
    must = [i for i, v in verdicts.items() if v != "visible"]
    must += [i for kind in allow.values() for i in kind if i in verdicts and i not in must]
    others = sorted(set(verdicts) - set(must))
    rng = random.Random(data["hash"])
    return must + rng.sample(others, min(size, len(others)))


# ----------------------------------------------------------------------------------------------
# The command line
# ----------------------------------------------------------------------------------------------


def _report_unit(unit, mutants, results, allow, survivors: bool, seconds: float):
    """Print the table (and survivors) of one unit; ``(its Rates, whether it meets the bar)``."""
    verdicts = {m.id: results[m.id]["verdict"] for m in mutants}
    exercise_of = {m.id: m.exercise for m in mutants}
    table = rates(verdicts, exercise_of, allow)
    print(f"\n{unit.name}  ({len(mutants)} mutants, {seconds:.0f} s)")
    print(HEADER)
    for name in unit.exercises:
        if name in table:
            print(table[name].line(f"  {name}"))
    label = f"{unit.name} (these exercises)" if _partial(unit, mutants) else f"{unit.name} (all)"
    print(table[""].line(f"  {label}"))
    unlisted = unlisted_survivors(verdicts, allow)
    ok = table[""].meets() and not unlisted
    print(
        f"  target: visible >= {100 * TARGET_VISIBLE:g}%, visible+hidden >= "
        f"{100 * TARGET_ALL:g}% of non-equivalent mutants: {'meets' if ok else 'BELOW'}"
    )
    if unlisted:
        print(
            f"  {len(unlisted)} mutant(s) pass visible AND hidden tests and are not in "
            f"{allow_path(unit.name).name} (catch them, or list them with a reason)"
        )
    problems = allow_problems(allow, verdicts) if not _partial(unit, mutants) else []
    for problem in problems:
        print(f"  allow-list: {problem}")
    if survivors:
        by_id = {m.id: m for m in mutants}
        for mutant_id, verdict in verdicts.items():
            if verdict == "visible":
                continue
            mutant = by_id[mutant_id]
            if mutant_id in allow["equivalent"]:
                tag = "equivalent (allow-listed)"
            elif verdict == "hidden":
                tag = "passes the VISIBLE tests (hidden catch it)"
            elif mutant_id in allow["accepted"]:
                tag = "passes visible AND hidden tests (accepted)"
            else:
                tag = "passes visible AND hidden tests"
            print(f"\n  {mutant_id}\n    {tag}")
            if verdict == "hidden":
                print(f"    caught by {results[mutant_id]['by']}")
            original = unit.exercises[mutant.exercise].answer
            for line in mutant.diff(original).splitlines()[2:]:
                print(f"    {line}")
    return table[""], ok


def _partial(unit: Unit, mutants: list[Mutant]) -> bool:
    return {m.exercise for m in mutants} != set(unit.exercises)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--worker"]:
        worker_main()
        return 0
    parser = argparse.ArgumentParser(
        prog="automutate.py", description=__doc__.split("\n\n")[0].strip()
    )
    parser.add_argument("units", nargs="+", metavar="UNIT", help="e.g. 09_rnn")
    parser.add_argument("--exercise", help="only this exercise (answer cell grade_id)")
    parser.add_argument("--survivors", action="store_true", help="print each surviving mutant")
    parser.add_argument("--write", action="store_true", help="write automutants/UNIT.results.json")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--list", action="store_true", help="only list the mutants' ids")
    args = parser.parse_args(argv)
    if args.write and args.exercise:
        parser.error("--write records a whole unit; leave out --exercise")
    total, failing, broken = Rates(), [], []
    for name in args.units:
        unit = load_unit(name.rstrip("/").split("/")[-1])
        mutants = unit_mutants(unit, args.exercise)
        if args.list:
            for m in mutants:
                print(m.id)
            continue
        allow = load_allow(unit.name)
        t0 = time.monotonic()
        try:
            results = run_mutants(unit, mutants, max(1, args.jobs))
        except HarnessError as exc:
            print(f"\nautomutate: {exc}", file=sys.stderr)
            broken.append(unit.name)
            continue
        seconds = time.monotonic() - t0
        unit_rates, ok = _report_unit(unit, mutants, results, allow, args.survivors, seconds)
        total.add(unit_rates)
        if not ok:
            failing.append(unit.name)
        if args.write:
            print(f"  wrote {shown(write_results(unit, mutants, results))}")
    if len(args.units) > 1 and not args.list:
        print("\n" + HEADER)
        print(total.line("all units"))
    return 2 if broken else 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
