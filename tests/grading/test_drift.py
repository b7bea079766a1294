"""``course/`` (committed) must be exactly what ``nbgrader generate_assignment`` makes of
``solutions/``.

The release is regenerated into a temporary folder and compared file by file: notebooks as
parsed JSON (so only formatting may differ), other files byte for byte.  No field needs
ignoring: two generations from the same source are byte-identical (cell ids and nbgrader
checksums come from the source; notebooks without cell ids stay without them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from grading_harness import REPO
from grading_runs import dlgrade, grading_env

SOLUTIONS, COURSE = REPO / "solutions", REPO / "course"
FIX = "run `dlgrade release` and commit course/ (see grading/README.md)"


def _units(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()


IGNORED = {".ipynb_checkpoints", "__pycache__", "feedback"}  # nbgrader's CourseDirectory.ignore


def _files(folder: Path) -> dict[str, Path]:
    return {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not IGNORED & set(p.parts) and p.suffix != ".pyc"
    }


def _same(a: Path, b: Path) -> bool:
    if a.suffix == ".ipynb":
        return json.loads(a.read_text()) == json.loads(b.read_text())
    return a.read_bytes() == b.read_bytes()


@pytest.mark.slow
def test_course_matches_generated_release(tmp_path):
    sources = (
        {p.name for p in SOLUTIONS.iterdir() if (p / f"{p.name}.ipynb").is_file()}
        if SOLUTIONS.is_dir()
        else set()
    )
    if not sources and not _units(COURSE):
        pytest.skip("no units in solutions/ or course/ yet")
    if sources:
        proc = dlgrade(["release"], grading_env(tmp_path, SOLUTIONS))
        assert proc.returncode == 0, proc.stdout + proc.stderr
    fresh = tmp_path / "release"
    problems = [
        f"course/{u}/ has no source solutions/{u}/{u}.ipynb (stale unit?)"
        for u in sorted(_units(COURSE) - sources)
    ]
    for unit in sorted(sources):
        want, have = _files(fresh / unit), _files(COURSE / unit)
        problems += [f"course/{unit}/{name} is missing" for name in sorted(want.keys() - have)]
        problems += [
            f"course/{unit}/{name} is not generated from solutions/ (stale?)"
            for name in sorted(have.keys() - want)
        ]
        problems += [
            f"course/{unit}/{name} differs from the generated release"
            for name in sorted(want.keys() & have)
            if not _same(want[name], have[name])
        ]
    assert not problems, "course/ is out of date:\n  " + "\n  ".join(problems) + f"\n{FIX}"
