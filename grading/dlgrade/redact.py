"""A copy of dlkit without the references of the unit being graded.

The rule: a reference implementation of the exercise being graded never exists in a process
that runs student code.  :func:`redacted_dlkit` copies the installed ``dlkit`` package folder
and rewrites, with an :mod:`ast` transformation of the source files, every definition that
``dlkit.references.REFERENCES[unit]`` lists: a function or method keeps its name, signature
and decorators, and its body becomes ``raise ReferenceUnavailable(...)``; a class (``Value``)
keeps its name and bases and its whole body becomes a ``__new__`` that raises, so the setup
cell's ``from dlkit.autograd import Value`` still imports.  A rewritten file is written from
the transformed tree (``ast.unparse``), so none of the original text of that file survives
(not even comments), and no ``__pycache__`` is copied or written.  Everything the table does
not list for this unit stays: files without a listed definition byte for byte, the other
definitions of a rewritten file as the same code; other units' references, ``dlkit.testing``,
datasets and widgets all work.

``dlgrade grade`` builds the copy once per run and the sandbox binds it read-only at the path
of the real package folder (``DLGRADE_SANDBOX_DLKIT``, see :mod:`dlgrade.sandbox`), so the
kernel's ``import dlkit`` finds the copy while nbgrader itself keeps the real dlkit.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

from dlgrade.errors import DlgradeError
from dlkit.references import REFERENCES

__all__ = ["REFERENCES", "redact_source", "redacted_dlkit", "source_digest", "targets"]

# bump when the transformation changes: a cached copy of an older version is rebuilt
_VERSION = "1"
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".DS_Store")


def _package_dir() -> Path:
    spec = importlib.util.find_spec("dlkit")
    if spec is None or not spec.submodule_search_locations:
        raise DlgradeError("dlkit is not installed: nothing to redact (pip install -e .)")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def _files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    )


def source_digest(root: Path | None = None) -> str:
    """SHA-256 over the package folder's files (paths and bytes), the Python version and the
    version of this transformation: the cache key of a redacted copy."""
    root = _package_dir() if root is None else Path(root)
    h = hashlib.sha256(f"{_VERSION}|{sys.version_info[:2]}".encode())
    for path in _files(root):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def targets(unit: str) -> dict[str, dict[str, tuple[str, str]]]:
    """``{file relative to the package: {qualname: (exercise, listed name)}}`` for ``unit``."""
    from dlkit import references

    table = references.exercises_of(unit)  # ValueError naming the known units
    root = _package_dir()
    out: dict[str, dict[str, tuple[str, str]]] = {}
    # a name listed for several exercises is named after the one it is the first entry of
    order = sorted(
        ((i, exercise, name) for exercise, names in table.items() for i, name in enumerate(names)),
        key=lambda t: t[0],
    )
    for _, exercise, name in order:
        module, qualname = references.definition_site(name)
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            raise DlgradeError(f"{name}: module {module} has no source file")
        try:
            rel = Path(spec.origin).resolve().relative_to(root).as_posix()
        except ValueError:
            raise DlgradeError(
                f"{name} is defined in {spec.origin}, outside the dlkit folder {root}"
            ) from None
        out.setdefault(rel, {}).setdefault(qualname, (exercise, name))
    return out


def _raise_stmts(text: str) -> list[ast.stmt]:
    return ast.parse(
        "from dlkit.references import ReferenceUnavailable as _ReferenceUnavailable\n"
        f"raise _ReferenceUnavailable({text!r})\n"
    ).body


class _Redact(ast.NodeTransformer):
    """Replace the bodies of the listed qualnames; record which ones were found."""

    def __init__(self, unit: str, wanted: dict[str, tuple[str, str]]) -> None:
        self.unit, self.wanted, self.found = unit, wanted, set()
        self.scope: list[str] = []

    def _message(self, qualname: str) -> str:
        from dlkit.references import message

        exercise, name = self.wanted[qualname]
        return message(self.unit, exercise, name)

    def _function(self, node):
        qualname = ".".join([*self.scope, node.name])
        if qualname in self.wanted:
            self.found.add(qualname)
            text = self._message(qualname)
            node.body = [ast.Expr(ast.Constant(text)), *_raise_stmts(text)]
            return node
        self.scope += [node.name, "<locals>"]
        self.generic_visit(node)
        del self.scope[-2:]
        return node

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef):
        qualname = ".".join([*self.scope, node.name])
        if qualname in self.wanted:
            self.found.add(qualname)
            text = self._message(qualname)
            stub = ast.parse(
                "def __new__(cls, *args, **kwargs):\n    pass\n"
                "def __init_subclass__(cls, **kwargs):\n    pass\n"
            ).body
            for fn in stub:
                fn.body = _raise_stmts(text)
            node.body = [ast.Expr(ast.Constant(text)), *stub]
            node.decorator_list = []
            return node
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()
        return node


def redact_source(source: str, unit: str, wanted: dict[str, tuple[str, str]], filename: str):
    """``source`` with the ``wanted`` qualnames' bodies replaced (see the module docstring)."""
    tree = ast.parse(source, filename=filename)
    transformer = _Redact(unit, wanted)
    tree = ast.fix_missing_locations(transformer.visit(tree))
    missing = sorted(set(wanted) - transformer.found)
    if missing:
        raise DlgradeError(f"{filename}: no def or class {', '.join(missing)} to redact")
    header = f"# dlkit redacted for grading {unit} (dlgrade.redact): generated, do not edit\n"
    text = header + ast.unparse(tree) + "\n"
    compile(text, filename, "exec", dont_inherit=True)  # a syntax check; nothing is written
    return text


def redacted_dlkit(unit: str, dest: Path | str) -> Path:
    """The path of a ``dlkit`` package folder, under ``dest``, in which ``unit``'s references
    raise :class:`dlkit.references.ReferenceUnavailable`.

    Built once per ``(unit, source digest)`` and reused: ``dest/<unit>-<digest>/dlkit``.
    """
    from dlkit import references

    if not isinstance(unit, str) or unit not in REFERENCES:
        raise ValueError(f"unit must be one of {references.units()}; got {unit!r}")
    if not isinstance(dest, (str, os.PathLike)):
        raise TypeError(f"dest must be a folder path; got {type(dest).__name__}")
    dest = Path(dest)
    source = _package_dir()
    digest = source_digest(source)
    final = dest / f"{unit}-{digest[:20]}"
    package = final / "dlkit"
    if (final / "complete").is_file():
        return package
    dest.mkdir(parents=True, exist_ok=True)
    wanted = targets(unit)
    work = Path(tempfile.mkdtemp(prefix=f".{unit}-", dir=dest))
    try:
        copy = work / "dlkit"
        shutil.copytree(source, copy, ignore=_SKIP, symlinks=False)
        for rel, names in wanted.items():
            path = copy / rel
            path.write_text(redact_source(path.read_text(), unit, names, f"dlkit/{rel}"))
        listed = sorted({name for names in wanted.values() for _, name in names.values()})
        (copy / "_redacted.py").write_text(
            f'"""Written by dlgrade.redact: this dlkit is the graded copy of {unit}."""\n\n'
            f"UNIT = {unit!r}\nREDACTED = {tuple(listed)!r}\n"
        )
        (work / "complete").write_text(digest + "\n")
        try:
            work.rename(final)
        except OSError:  # built meanwhile by another process: keep that one
            if not (final / "complete").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return package
