"""Static scan of a student's code cells for ways of defeating the hidden tests.

nbgrader runs the student's cells and the grader's test cells in one Python process, so code in
an answer cell can change what the tests see: rebind ``assert_close``, assign to
``numpy.testing.assert_allclose`` or ``builtins``, swap entries of ``sys.modules``, register an
IPython input transformer that blanks the test cells, read the hidden tests from disk...
:func:`scan_cell` parses a cell (after IPython's own transformation of magics and shell
escapes) and reports every such construct with its line. Each :class:`Finding` becomes a flag
for the instructor; nothing here changes a score.

The scan is deliberately narrow: correct deep-learning code never needs any of these
constructs, and ``tests/grading/test_tamper.py`` checks that no unit's solution and no mutant
triggers it. Obfuscated tampering that slips past it is the runtime guard's job
(:mod:`dlgrade.tamper_guard`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from dlgrade.tamper_rules import (
    FORBIDDEN_CALLS,
    FORBIDDEN_MODULES,
    INTROSPECTION,
    IPYTHON_HOOKS,
    MUTATORS,
    NAMESPACE_FUNCS,
    PATH_WORDS,
    SAFE_MAGICS,
    SHELL_OK,
    TEST_HELPERS,
)


@dataclass(frozen=True)
class Finding:
    """One suspicious construct: a short check id, the cell's line, and what it does."""

    check: str
    line: int
    reason: str


def _transform(source: str) -> str:
    """``source`` as IPython runs it: magics and ``!`` escapes become ``get_ipython()`` calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # IPython is a dependency of nbgrader; keep the scan usable without it
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # an unbalanced cell: parse it as it is
        return source


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _root(node: ast.AST) -> ast.AST:
    """The innermost object of an attribute / subscript / call chain."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call, ast.Starred)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


class _Scanner(ast.NodeVisitor):
    def __init__(self, modules: dict[str, str], protected: set[str], grader_bindings: dict):
        self.modules = dict(modules)  # local name -> dotted module (or object) it came from
        self.protected = protected
        self.grader_bindings = grader_bindings  # name -> "module:attr" the grader bound
        self.findings: list[Finding] = []
        self.depth = 0  # > 0 inside a function or class body: plain names there are local
        self.declared: set[str] = set()  # names declared ``global`` somewhere in the cell
        self.shells: set[str] = set()  # names bound to get_ipython()

    # --- helpers ---------------------------------------------------------------------------
    def flag(self, node: ast.AST, check: str, reason: str) -> None:
        self.findings.append(Finding(check, getattr(node, "lineno", 0), reason))

    def resolve(self, node: ast.AST) -> str | None:
        """The module path an expression names (``np.testing`` -> ``numpy.testing``)."""
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if head in self.modules:
            return self.modules[head] + ("." + rest if rest else "")
        return None

    def is_shared(self, node: ast.AST) -> bool:
        """Whether ``node`` reaches an object shared with the grader (a module, builtins...)."""
        root = _root(node)
        if isinstance(root, ast.Name):
            return root.id in self.modules or root.id in {"__builtins__", "builtins"}
        text = ast.unparse(node)
        return any(
            word in text
            for word in ("modules", "__import__", "import_module", "__builtins__", "getattr")
        ) or any(f"{f}()" in text for f in NAMESPACE_FUNCS)

    def bind(self, name: str, node: ast.AST, how: str) -> None:
        if name in self.protected and (self.depth == 0 or name in self.declared):
            self.flag(
                node,
                "redefined-helper",
                f"{how} '{name}', a name the grader's tests call",
            )

    # --- imports: track module aliases, flag dangerous modules and protected rebinding -----
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            top = alias.name.split(".")[0]
            if top in FORBIDDEN_MODULES:
                self.flag(
                    node, "dangerous-import", f"imports {alias.name}: {FORBIDDEN_MODULES[top]}"
                )
            local = alias.asname or top
            target = alias.name if alias.asname else top
            if self.grader_bindings.get(local) != target:
                self.bind(local, node, "re-imports")
            self.modules[local] = target

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        top = module.split(".")[0]
        if top in FORBIDDEN_MODULES:
            self.flag(node, "dangerous-import", f"imports from {module}: {FORBIDDEN_MODULES[top]}")
        for alias in node.names:
            local = alias.asname or alias.name
            target = f"{module}.{alias.name}"
            if self.grader_bindings.get(local) != target:
                self.bind(local, node, "re-imports")
            self.modules[local] = target

    # --- bindings ------------------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.bind(node.name, node, "defines")
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.bind(node.name, node, "defines a class")
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    def visit_Global(self, node: ast.Global) -> None:
        self.declared.update(node.names)
        for name in node.names:
            self.bind(name, node, "declares global")

    def _targets(self, target: ast.AST, node: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, node, "assigns to")
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._targets(elt, node)
        elif isinstance(target, ast.Starred):
            self._targets(target.value, node)
        elif isinstance(target, ast.Attribute):
            if self.is_shared(target.value):
                self.flag(
                    node,
                    "patched-module",
                    f"assigns to {ast.unparse(target)}, an attribute of a module the grader uses",
                )
            elif target.attr in INTROSPECTION or target.attr == "__class__":
                self.flag(node, "introspection", f"assigns to {ast.unparse(target)}")
        elif isinstance(target, ast.Subscript):
            base = target.value
            if self.is_shared(base) or _is_namespace_call(base):
                self.flag(
                    node,
                    "patched-namespace",
                    f"writes {ast.unparse(target)}: a module table or the notebook's namespace",
                )

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._targets(target, node)
        self._alias(node.targets, node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._targets(node.target, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._targets(node.target, node)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._targets(target, node)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self._targets(node.target, node)
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self._targets(item.optional_vars, node)
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._targets(node.target, node)
        self.generic_visit(node)

    def is_shell(self, node: ast.AST) -> bool:
        """Whether ``node`` is ``get_ipython()`` or a name bound to it."""
        return _is_get_ipython(node) or (isinstance(node, ast.Name) and node.id in self.shells)

    def _alias(self, targets: list[ast.AST], value: ast.AST) -> None:
        """``t = np.testing`` makes ``t`` a module alias too; ``ip = get_ipython()`` a shell."""
        if _is_get_ipython(value):
            self.shells.update(t.id for t in targets if isinstance(t, ast.Name))
        resolved = self.resolve(value)
        is_module_call = isinstance(value, ast.Call) and _dotted(value.func) in {
            "__import__",
            "importlib.import_module",
        }
        if resolved is None and not is_module_call:
            return
        for target in targets:
            if isinstance(target, ast.Name):
                self.modules[target.id] = resolved or "<imported>"

    # --- calls and attribute reads -------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = _dotted(func)
        resolved = self.resolve(func) if name else None
        if isinstance(func, ast.Name) and func.id in {"exec", "eval", "compile"}:
            self._dynamic(node, func.id)
        elif isinstance(func, ast.Name) and func.id in {"setattr", "delattr"} and node.args:
            if self.is_shared(node.args[0]) or not isinstance(_root(node.args[0]), ast.Name):
                self.flag(
                    node,
                    "patched-module",
                    f"{func.id}() on {ast.unparse(node.args[0])}, an object the grader uses",
                )
        elif isinstance(func, ast.Name) and func.id == "reload":
            self.flag(node, "reload", "reloads a module")
        elif resolved is not None:
            module, _, attr = resolved.rpartition(".")
            reason = FORBIDDEN_CALLS.get((module, attr))
            if reason:
                self.flag(node, "forbidden-call", f"calls {name}(): it {reason}")
        if isinstance(func, ast.Attribute):
            if func.attr in MUTATORS and (
                _is_namespace_call(func.value)
                or (self.is_shared(func.value) and "modules" in ast.unparse(func.value))
            ):
                self.flag(
                    node,
                    "patched-namespace",
                    f"calls {ast.unparse(func)}(): changes a module table or the notebook's "
                    "namespace",
                )
            if self.is_shell(func.value):
                self._ipython_call(node, func.attr)
        if isinstance(func, ast.Attribute) and func.attr in {"iterdir", "rglob", "glob"}:
            if resolved is None:  # Path(...).glob() and friends
                self.flag(node, "forbidden-call", f"calls {ast.unparse(func)}(): lists files")
        self.generic_visit(node)

    def _dynamic(self, node: ast.Call, kind: str) -> None:
        arg = node.args[0] if node.args else None
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            inner = _Scanner(self.modules, self.protected, self.grader_bindings)
            try:
                inner.visit(ast.parse(_transform(arg.value)))
            except SyntaxError:
                return
            for f in inner.findings:
                self.flag(node, f.check, f"{f.reason} (inside {kind}() of a string)")
        else:
            self.flag(node, "dynamic-code", f"runs code built at run time with {kind}()")

    def _ipython_call(self, node: ast.Call, attr: str) -> None:
        first = node.args[0] if node.args else None
        text = first.value if isinstance(first, ast.Constant) else None
        if attr in {"run_line_magic", "run_cell_magic"} and text in SAFE_MAGICS:
            return
        if attr in {"system", "getoutput"} and isinstance(node.args[0], ast.Constant):
            if str(node.args[0].value).lstrip().startswith(SHELL_OK):
                return
        self.flag(
            node, "ipython-hook", f"calls get_ipython().{attr}(): it can change how cells run"
        )

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in INTROSPECTION:
            self.flag(node, "introspection", f"reads {ast.unparse(node)}")
        elif node.attr in IPYTHON_HOOKS and self.is_shell(node.value):
            self.flag(node, "ipython-hook", f"uses get_ipython().{node.attr}")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in {"_ih", "In", "_i", "_ii", "_iii"} and isinstance(node.ctx, ast.Load):
            self.flag(node, "ipython-hook", f"reads the input history ({node.id})")
        elif node.id == "__builtins__":
            self.flag(node, "introspection", "uses __builtins__")

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            hit = next((w for w in PATH_WORDS if w in node.value), None)
            if hit:
                self.flag(
                    node, "file-access", f"mentions {hit!r}: grading files are not the student's"
                )


def _is_get_ipython(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _dotted(node.func) in {
        "get_ipython",
        "IPython.get_ipython",
    }


def _is_namespace_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _dotted(node.func) in NAMESPACE_FUNCS


def grader_bindings(sources: list[str]) -> dict[str, str]:
    """Names bound by imports in grader-owned cells: ``{local name: what it was bound to}``."""
    bound: dict[str, str] = {}
    for source in sources:
        try:
            tree = ast.parse(_transform(source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    bound[a.asname or a.name.split(".")[0]] = (
                        a.name if a.asname else a.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom):
                for a in node.names:
                    bound[a.asname or a.name] = f"{node.module}.{a.name}"
    return bound


def defined_names(sources: list[str]) -> set[str]:
    """Top-level functions and classes of ``sources`` (the unit's answer cells: the student's
    own names, never protected even when a later unit's tests also have one of that name)."""
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(_transform(source))
        except SyntaxError:
            continue
        names.update(
            node.name
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        )
    return names


def scan_cell(
    source: str,
    bindings: dict[str, str],
    modules: dict[str, str] | None = None,
    owned: set[str] = frozenset(),
) -> list[Finding]:
    """The tampering constructs in one student cell (see the module docstring).

    ``bindings`` is :func:`grader_bindings` of the grader's cells: those names are protected,
    and the modules among them are what attribute writes must not touch. ``modules`` (updated
    in place) carries module aliases from one cell to the next; ``owned`` names (see
    :func:`defined_names`) are the student's to define.
    """
    if modules is None:
        modules = {}
    known = {**bindings, **modules}
    scanner = _Scanner(known, (set(bindings) | TEST_HELPERS) - set(owned), bindings)
    try:
        tree = ast.parse(_transform(source))
    except SyntaxError:
        return []  # it fails when run; nothing to scan
    scanner.visit(tree)
    modules.update({k: v for k, v in scanner.modules.items() if k not in bindings})
    unique = {(f.check, f.line, f.reason): f for f in scanner.findings}
    return sorted(unique.values(), key=lambda f: f.line)
