"""Class-wide grading: ``dlgrade grade`` (sandboxed, parallel) vs plain ``nbgrader autograde``.

    python -m benchmarks.bench_grading                      # 50 submissions of 01_perceptron
    python -m benchmarks.bench_grading --submissions 3      # tiny (the test runs this)
    python -m benchmarks.bench_grading --unit 02_mlp --workers 6

One run builds N synthetic submissions of a unit -- every third one the solution, the others
each one wrong answer from ``tests/grading/mutants/<unit>.py`` -- and grades the same N twice,
from two copies of the same freshly released course:

* **plain**: ONE ``nbgrader autograde UNIT`` invocation over all students, sequential, no
  sandbox (what an instructor runs with stock nbgrader, with this course's configuration);
* **dlgrade**: ``dlgrade grade UNIT`` -- every kernel in its bubblewrap sandbox, ``--workers``
  parallel nbgrader processes forked from one that imported nbgrader once, results written
  into the gradebook by one process.  By default its kernels do not draw figures;
* **dlgrade --figures**: the same, drawing every figure as the plain run does (the like-for-like
  comparison of the machinery; skip it with ``--skip-figures``).

It prints the wall-clock times and the ratios, and checks that every run gave every student
the same scores.  Target (issue 6): at least 2x on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = 2.0


def _harness():
    """The grading tests' builders of submissions (tests/grading/grading_harness.py)."""
    sys.path.insert(0, str(REPO / "tests" / "grading"))
    import grading_harness

    return grading_harness


def build_class(layout, unit: str, count: int) -> dict[str, str]:
    """Write ``count`` submissions into ``layout``'s submitted/; ``{student: what it is}``."""
    import nbformat

    h = _harness()
    spec = h.inspect_unit(layout.source / unit)
    mutants = list(h.mutant_students(h.load_mutants(unit) or {}).items())
    release = {p.name: nbformat.read(p, 4) for p in sorted((layout.release / unit).glob("*.ipynb"))}
    kinds = {}
    for i in range(count):
        student = f"student{i:03d}"
        replace_cells, kind = {}, "solution"
        if mutants and i % 3:
            name, (exercise, _, source) = mutants[i % len(mutants)]
            replace_cells, kind = {exercise: source}, name
        folder = layout.submitted / student / unit
        folder.mkdir(parents=True)
        for name, nb in release.items():
            built = h.build_submission(nb, spec.sources[name], replace=replace_cells)
            nbformat.write(built, folder / name)
        kinds[student] = kind
    return kinds


def read_scores(layout, unit: str, students: list[str]) -> dict[str, dict[str, float | None]]:
    """``{student: {grade_id: auto_score}}`` from ``layout``'s gradebook."""
    from dlgrade.results import grade_scores

    return grade_scores(layout, unit, students)


def run(
    unit: str, count: int, workers: int | None, work: Path, figures_run: bool = True, say=print
) -> dict:
    """Build, grade both ways, compare; return the figures."""
    from dlgrade.grade import default_workers, grade
    from dlgrade.nbgrader_run import run_nbgrader
    from dlgrade.paths import Layout

    base = Layout.from_env(
        {
            "DLGRADE_SOURCE_DIR": str(REPO / "solutions"),
            "DLGRADE_RELEASE_DIR": str(work / "release"),
            "DLGRADE_STATE_DIR": str(work / "plain"),
        }
    )
    unit = base.require_unit(unit)
    if run_nbgrader(["generate_assignment", unit, "--force"], base, capture=True).returncode:
        raise RuntimeError(f"could not release {unit}")
    kinds = build_class(base, unit, count)
    sandboxed = replace(base, state=work / "dlgrade")
    shutil.copytree(base.state, sandboxed.state)
    drawn = replace(base, state=work / "dlgrade-figures")
    if figures_run:
        shutil.copytree(base.state, drawn.state)
    workers = workers or default_workers()

    load_before = os.getloadavg()[0]
    say(f"grading {count} submissions of {unit}: plain nbgrader autograde (sequential) ...")
    start = time.perf_counter()
    run_nbgrader(["autograde", unit, "--force"], base, capture=True)
    plain_s = time.perf_counter() - start

    say(f"... and dlgrade grade (sandboxed, {workers} workers) ...")
    start = time.perf_counter()
    records = grade(sandboxed, unit, workers=workers, sandbox=True, say=lambda _: None)
    dlgrade_s = time.perf_counter() - start
    figures_s = None
    if figures_run:
        say(f"... and dlgrade grade --figures (sandboxed, {workers} workers) ...")
        start = time.perf_counter()
        more = grade(drawn, unit, workers=workers, sandbox=True, figures=True, say=lambda _: None)
        figures_s = time.perf_counter() - start
        records = {**records, **{f"{k} (figures)": v for k, v in more.items()}}

    students = sorted(kinds)
    plain_scores = read_scores(base, unit, students)
    dlgrade_scores = read_scores(sandboxed, unit, students)
    differ = [s for s in students if plain_scores.get(s) != dlgrade_scores.get(s)]
    if figures_run:
        drawn_scores = read_scores(drawn, unit, students)
        differ += [s for s in students if plain_scores.get(s) != drawn_scores.get(s)]
        graded = min(len(dlgrade_scores), len(drawn_scores))
    else:
        graded = len(dlgrade_scores)
    statuses = sorted({r.status for r in records.values()})
    return {
        "unit": unit,
        "submissions": count,
        "workers": workers,
        "plain_s": plain_s,
        "dlgrade_s": dlgrade_s,
        "ratio": plain_s / dlgrade_s,
        "figures_s": figures_s,
        "graded_plain": len(plain_scores),
        "graded_dlgrade": graded,
        "differ": differ,
        "statuses": statuses,
        "load": (load_before, os.getloadavg()[0]),
    }


def report(fig: dict) -> str:
    """The result as a small Markdown table plus the score check."""
    from benchmarks.harness import machine

    same = (
        "identical"
        if not fig["differ"] and fig["graded_plain"] == fig["submissions"]
        else (f"DIFFERENT for {', '.join(fig['differ']) or 'some students'}")
    )
    per = fig["plain_s"] / fig["submissions"], fig["dlgrade_s"] / fig["submissions"]
    n = fig["submissions"]
    lines = [
        f"Machine: {machine()}",
        "",
        "| run | submissions | wall | per submission | speed-up |",
        "|---|---|---|---|---|",
        f"| plain `nbgrader autograde`, sequential | {n} | "
        f"{fig['plain_s']:.1f} s | {per[0]:.2f} s | 1 |",
        f"| `dlgrade grade`, sandboxed, {fig['workers']} workers | {n} | "
        f"{fig['dlgrade_s']:.1f} s | {per[1]:.2f} s | {fig['ratio']:.2f}x |",
    ]
    if fig.get("figures_s"):
        lines.append(
            f"| `dlgrade grade --figures`, sandboxed, {fig['workers']} workers | {n} | "
            f"{fig['figures_s']:.1f} s | {fig['figures_s'] / n:.2f} s | "
            f"{fig['plain_s'] / fig['figures_s']:.2f}x |"
        )
    return "\n".join(
        [
            *lines,
            "",
            f"speed-up of `dlgrade grade`: {fig['ratio']:.2f}x (target >= {TARGET:.0f}x); "
            f"scores: {same}; statuses: {', '.join(fig['statuses'])}",
            f"1-minute load average of the machine: {fig['load'][0]:.1f} before, "
            f"{fig['load'][1]:.1f} after (other work shares the cores)",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_grading")
    parser.add_argument("--unit", default="01_perceptron")
    parser.add_argument("--submissions", type=int, default=50, metavar="N")
    parser.add_argument("--workers", type=int, default=None, metavar="N")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR", help="work here")
    parser.add_argument("--skip-figures", action="store_true", help="no third run with --figures")
    args = parser.parse_args(argv)
    if args.submissions < 1:
        parser.error(f"--submissions {args.submissions}: expected at least 1")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=False)
        fig = run(
            args.unit, args.submissions, args.workers, args.keep.resolve(), not args.skip_figures
        )
    else:
        with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
            fig = run(args.unit, args.submissions, args.workers, Path(tmp), not args.skip_figures)
    print(report(fig))
    return 0 if not fig["differ"] and fig["graded_dlgrade"] == args.submissions else 1


if __name__ == "__main__":
    sys.exit(main())
