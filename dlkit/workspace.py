"""The student's working copy of the course: answers live outside the files git tracks.

``course/`` is what the course ships and updates: a ``git pull`` that changes a notebook there
must never meet a student's edits. So students work in ``workspace/`` (git-ignored), which
:func:`sync` fills from ``course/``:

* a unit the workspace does not have yet is copied in whole;
* in a unit it has, files the student's copy lacks (a new data file, a new notebook) are
  added; a file that changed in ``course/`` since it was copied is updated only if the student
  never changed their copy; otherwise their copy is kept and the change is reported, with the
  command that takes a fresh copy (:func:`reset`, which first moves the student's file aside,
  so nothing is lost).

``make lab`` runs ``python -m dlkit.workspace sync`` and then serves ``workspace/``. The
record of what was copied is ``workspace/.course-copies.json`` (the hash of each file as it
was in ``course/`` when copied).

Command line::

    python -m dlkit.workspace sync  [--course course] [--workspace workspace]
    python -m dlkit.workspace reset UNIT [--course course] [--workspace workspace]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SyncReport", "reset", "sync"]

RECORD = ".course-copies.json"
_SKIP = {".ipynb_checkpoints", "__pycache__"}


@dataclass
class SyncReport:
    """What :func:`sync` did: units copied, files added, notebooks with a newer course copy."""

    copied_units: list[str] = field(default_factory=list)
    added_files: list[str] = field(default_factory=list)
    refreshed_files: list[str] = field(default_factory=list)  # unedited copies updated
    updated_upstream: list[str] = field(default_factory=list)  # edited copies, course newer

    def lines(self, workspace: Path) -> list[str]:
        out = []
        if self.copied_units:
            out.append(f"copied into {workspace}/: {', '.join(self.copied_units)}")
        for path in self.added_files:
            out.append(f"added {workspace}/{path} (new in the course)")
        for path in self.refreshed_files:
            out.append(f"updated {workspace}/{path} (you had not changed it)")
        for path in self.updated_upstream:
            unit = Path(path).parts[0]
            out.append(
                f"course/{path} changed since you copied it; your {workspace}/{path} is kept. "
                f"To start that unit again from the new version (yours is moved aside, not "
                f"deleted): python -m dlkit.workspace reset {unit}"
            )
        if not out:
            out.append(f"{workspace}/ is up to date with the course")
        return out


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(unit_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in unit_dir.rglob("*")
        if p.is_file() and not _SKIP.intersection(p.relative_to(unit_dir).parts)
    )


def _units(course: Path) -> list[Path]:
    if not course.is_dir():
        raise FileNotFoundError(f"course: no folder {course} (expected the course's notebooks)")
    return sorted(p for p in course.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def _load_record(workspace: Path) -> dict[str, str]:
    path = workspace / RECORD
    if not path.exists():
        return {}
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"workspace: {path} is not valid JSON ({exc}); delete it to rebuild"
        ) from exc
    if not isinstance(record, dict):
        raise ValueError(f"workspace: {path} must hold an object of path -> hash")
    return {str(k): str(v) for k, v in record.items()}


def _save_record(workspace: Path, record: dict[str, str]) -> None:
    tmp = workspace / (RECORD + ".tmp")
    tmp.write_text(json.dumps(dict(sorted(record.items())), indent=1) + "\n")
    tmp.replace(workspace / RECORD)


def sync(course: Path | str = "course", workspace: Path | str = "workspace") -> SyncReport:
    """Bring ``workspace`` up to date with ``course`` without changing a file of the student's."""
    course, workspace = Path(course), Path(workspace)
    if workspace.exists() and not workspace.is_dir():
        raise NotADirectoryError(f"workspace: {workspace} exists and is not a folder")
    workspace.mkdir(parents=True, exist_ok=True)
    record = _load_record(workspace)
    report = SyncReport()
    for unit_dir in _units(course):
        target = workspace / unit_dir.name
        is_new = not target.exists()
        for src in _files(unit_dir):
            rel = src.relative_to(course).as_posix()
            dst = workspace / rel
            if not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
                record[rel] = _digest(src)
                if not is_new:
                    report.added_files.append(rel)
            elif rel in record and record[rel] != _digest(src):
                if _digest(dst) == record[rel]:  # the student never changed it: follow
                    shutil.copy2(src, dst)
                    record[rel] = _digest(src)
                    report.refreshed_files.append(rel)
                else:
                    report.updated_upstream.append(rel)
            elif rel not in record:
                record[rel] = _digest(src)  # present before any record: take it as copied
        if is_new:
            report.copied_units.append(unit_dir.name)
    _save_record(workspace, record)
    return report


def reset(
    unit: str, course: Path | str = "course", workspace: Path | str = "workspace"
) -> list[Path]:
    """Copy ``unit`` afresh from ``course``; each file of the student's that differs from the
    new copy is first renamed ``<name>.before-reset-<time><suffix>``. Returns those backups."""
    course, workspace = Path(course), Path(workspace)
    names = [u.name for u in _units(course)]
    if unit not in names:
        raise ValueError(f"unit: {unit!r} is not a unit of {course}/ (one of {', '.join(names)})")
    record = _load_record(workspace)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backups = []
    for src in _files(course / unit):
        rel = src.relative_to(course).as_posix()
        dst = workspace / rel
        if dst.exists() and _digest(dst) != _digest(src):
            backup = dst.with_name(f"{dst.stem}.before-reset-{stamp}{dst.suffix}")
            dst.replace(backup)
            backups.append(backup)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        record[rel] = _digest(src)
    _save_record(workspace, record)
    return backups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dlkit.workspace", description="The student's working copy of course/."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("sync", "copy new units and files of course/ into the workspace; never overwrite"),
        ("reset", "take a fresh copy of one unit (your files are moved aside, not deleted)"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        if name == "reset":
            p.add_argument("unit", help="the unit's folder name, e.g. 02_mlp")
        p.add_argument("--course", default="course", help="the course's folder (default course)")
        p.add_argument(
            "--workspace", default="workspace", help="the working copy (default workspace)"
        )
    args = parser.parse_args(argv)
    try:
        if args.command == "sync":
            for line in sync(args.course, args.workspace).lines(Path(args.workspace)):
                print(line)
        else:
            for backup in reset(args.unit, args.course, args.workspace):
                print(f"your previous file is kept as {backup}")
            print(f"{args.workspace}/{args.unit} is a fresh copy of {args.course}/{args.unit}")
    except (OSError, ValueError) as exc:
        print(f"dlkit.workspace: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
