"""Class-wide grading: ``dlgrade grade`` (sandboxed, on Dask) vs plain ``nbgrader autograde``.

    python -m benchmarks.bench_grading                      # 50 submissions of 01_perceptron
    python -m benchmarks.bench_grading --submissions 3      # tiny (the test runs this)
    python -m benchmarks.bench_grading --unit 02_mlp --workers 6
    python -m benchmarks.bench_grading --baseline /tmp/old_grade.py   # vs another version
    python -m benchmarks.bench_grading --capacity           # per-unit costs, projections

One run builds N synthetic submissions of a unit -- every third one the solution, the others
each one wrong answer from ``tests/grading/mutants/<unit>.py`` -- and grades the same N twice,
from two copies of the same freshly released course:

* **plain**: ONE ``nbgrader autograde UNIT`` invocation over all students, sequential, no
  sandbox (what an instructor runs with stock nbgrader, with this course's configuration);
* **dlgrade**: ``dlgrade grade UNIT`` -- every kernel in its bubblewrap sandbox, the batches
  graded on the Dask LocalCluster that ``dlgrade grade`` starts (``--workers`` threads, each
  batch an nbgrader forked from the worker's one warm nbgrader), results written into the
  gradebook by the host.  By default its kernels do not draw figures;
* **dlgrade --figures**: the same, drawing every figure as the plain run does (the like-for-like
  comparison of the machinery; skip it with ``--skip-figures``);
* **baseline** (``--baseline FILE``): the same as **dlgrade**, by the ``grade`` function of
  another version of ``grading/dlgrade/grade.py`` (e.g. ``git show REV:grading/dlgrade/grade.py``
  saved to a file), on the same class in the same run.

It prints the wall-clock times, the CPU seconds of every process of each run (this one and all
it started, reaped before the run ends) and the ratios, and checks that every run gave every
student the same scores.  Target (issue 6): at least 2x on a 2-core machine.

``--capacity`` measures instead, for every unit (or ``--units``), what grading ONE solution
submission costs on a warm worker -- the CPU seconds and wall time of one
:func:`dlgrade.cluster.grade_batch` task, nbgrader and the sandboxed kernel included -- plus
the per-batch part (from a batch of three of the first unit), and projects a class of 1,000
and 10,000 submissions per unit on N workers (``--project``).
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import json
import os
import resource
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


def _rusage_seconds() -> float:
    """User + system CPU seconds of this process and of its children it has reaped."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class CpuMeter:
    """CPU seconds of this process and of every process it starts, however they end.

    Counting reaped children (``RUSAGE_CHILDREN``) misses processes nobody waits for -- the
    grader processes of :mod:`dlgrade.harness` are reaped by the kernel, their server is left
    to ``init`` --, so where it may, the meter moves this process into a cgroup of its own
    (cgroup v1 ``cpuacct``; its children inherit it) and reads the cgroup's usage;
    :attr:`whole_tree` says whether it could."""

    BASE = Path("/sys/fs/cgroup/cpuacct")

    def __init__(self) -> None:
        self.group: Path | None = None
        group = self.BASE / f"dlgrade-bench-{os.getpid()}-{time.time_ns()}"
        try:
            if (self.BASE / "cpuacct.usage").is_file():
                for old in self.BASE.glob("dlgrade-bench-*"):  # left by earlier runs
                    if not (old / "cgroup.procs").read_text().strip():
                        old.rmdir()
                group.mkdir()
                self.group = group
                (group / "cgroup.procs").write_text(str(os.getpid()))
        except OSError:
            self.close()

    @property
    def whole_tree(self) -> bool:
        return self.group is not None

    def seconds(self) -> float:
        if self.group is not None:
            return int((self.group / "cpuacct.usage").read_text()) / 1e9
        return _rusage_seconds()

    def close(self) -> None:
        """Move this process back; remove the cgroup once its last process has ended (else
        the next meter removes it)."""
        group, self.group = self.group, None
        if group is None:
            return
        from dlgrade.workers import stop

        stop()  # this process's fork server (its runs have all ended)
        try:
            (self.BASE / "cgroup.procs").write_text(str(os.getpid()))
        except OSError:
            pass
        for _ in range(100):  # the last grader processes may take a moment to end
            try:
                group.rmdir()
                return
            except OSError:
                time.sleep(0.1)


METER: CpuMeter | None = None


def cpu_seconds() -> float:
    """CPU seconds so far of this process and the processes it started (:class:`CpuMeter`)."""
    return METER.seconds() if METER is not None else _rusage_seconds()


def load_grade(path: Path):
    """The ``grade`` function of the ``grade.py`` at ``path`` (another version of dlgrade's)."""
    name = "dlgrade_baseline_grade"
    loader = importlib.machinery.SourceFileLoader(name, str(path))  # any file name
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.grade


def _timed(call) -> tuple[object, float, float]:
    """``call()``'s result, its wall seconds and its CPU seconds (see :func:`cpu_seconds`)."""
    cpu, start = cpu_seconds(), time.perf_counter()
    result = call()
    return result, time.perf_counter() - start, cpu_seconds() - cpu


def run(
    unit: str,
    count: int,
    workers: int | None,
    work: Path,
    figures_run: bool = True,
    say=print,
    baseline: Path | None = None,
) -> dict:
    """Build, grade each way, compare; return the figures."""
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
    old = replace(base, state=work / "baseline")
    if baseline is not None:
        shutil.copytree(base.state, old.state)
    workers = workers or default_workers()
    old_grade = load_grade(baseline) if baseline is not None else None

    load_before = os.getloadavg()[0]
    quiet = {"workers": workers, "sandbox": True, "say": lambda _: None}
    say(f"grading {count} submissions of {unit}: plain nbgrader autograde (sequential) ...")
    args = ["autograde", unit, "--force"]
    _, plain_s, plain_cpu = _timed(lambda: run_nbgrader(args, base, capture=True))

    say(f"... and dlgrade grade (sandboxed, Dask LocalCluster, {workers} workers) ...")
    records, dlgrade_s, dlgrade_cpu = _timed(lambda: grade(sandboxed, unit, **quiet))
    figures_s = figures_cpu = baseline_s = baseline_cpu = None
    if baseline is not None:
        say(f"... and the baseline {baseline} (sandboxed, {workers} workers) ...")
        more, baseline_s, baseline_cpu = _timed(lambda: old_grade(old, unit, **quiet))
        records = {**records, **{f"{k} (baseline)": v for k, v in more.items()}}
    if figures_run:
        say(f"... and dlgrade grade --figures (sandboxed, {workers} workers) ...")
        more, figures_s, figures_cpu = _timed(lambda: grade(drawn, unit, figures=True, **quiet))
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
    if baseline is not None:
        old_scores = read_scores(old, unit, students)
        differ += [s for s in students if plain_scores.get(s) != old_scores.get(s)]
        graded = min(graded, len(old_scores))
    statuses = sorted({r.status for r in records.values()})
    return {
        "unit": unit,
        "submissions": count,
        "workers": workers,
        "plain_s": plain_s,
        "dlgrade_s": dlgrade_s,
        "ratio": plain_s / dlgrade_s,
        "figures_s": figures_s,
        "plain_cpu": plain_cpu,
        "dlgrade_cpu": dlgrade_cpu,
        "figures_cpu": figures_cpu,
        "baseline": str(baseline) if baseline else None,
        "baseline_s": baseline_s,
        "baseline_cpu": baseline_cpu,
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
        "| run | submissions | wall | per submission | speed-up | CPU | per CPU-second |",
        "|---|---|---|---|---|---|---|",
        f"| plain `nbgrader autograde`, sequential | {n} | "
        f"{fig['plain_s']:.1f} s | {per[0]:.2f} s | 1 | {_cpu(fig['plain_cpu'], n)} |",
        f"| `dlgrade grade`, sandboxed, Dask LocalCluster, {fig['workers']} workers | {n} | "
        f"{fig['dlgrade_s']:.1f} s | {per[1]:.2f} s | {fig['ratio']:.2f}x | "
        f"{_cpu(fig['dlgrade_cpu'], n)} |",
    ]
    if fig.get("baseline_s"):
        lines.append(
            f"| baseline `{Path(fig['baseline']).name}`, sandboxed, {fig['workers']} workers | "
            f"{n} | {fig['baseline_s']:.1f} s | {fig['baseline_s'] / n:.2f} s | "
            f"{fig['plain_s'] / fig['baseline_s']:.2f}x | {_cpu(fig['baseline_cpu'], n)} |"
        )
    if fig.get("figures_s"):
        lines.append(
            f"| `dlgrade grade --figures`, sandboxed, {fig['workers']} workers | {n} | "
            f"{fig['figures_s']:.1f} s | {fig['figures_s'] / n:.2f} s | "
            f"{fig['plain_s'] / fig['figures_s']:.2f}x | {_cpu(fig['figures_cpu'], n)} |"
        )
    versus = []
    if fig.get("baseline_s"):
        versus.append(
            f"`dlgrade grade` / baseline throughput: {fig['baseline_s'] / fig['dlgrade_s']:.2f}x "
            f"wall, {fig['baseline_cpu'] / fig['dlgrade_cpu']:.2f}x CPU"
        )
    return "\n".join(
        [
            *lines,
            "",
            f"speed-up of `dlgrade grade`: {fig['ratio']:.2f}x (target >= {TARGET:.0f}x); "
            f"scores: {same}; statuses: {', '.join(fig['statuses'])}",
            *versus,
            f"1-minute load average of the machine: {fig['load'][0]:.1f} before, "
            f"{fig['load'][1]:.1f} after (other work shares the cores)",
        ]
    )


def _cpu(seconds: float, n: int) -> str:
    """``CPU | submissions per CPU-second`` cells of the table."""
    return f"{seconds:.1f} s | {n / seconds:.3f}" if seconds > 0 else "- | -"


# --- --capacity: what one submission of each unit costs, and classes projected from it --------


def units_with_solutions() -> list[str]:
    """Every unit of ``solutions/`` (a folder holding a notebook)."""
    return sorted(p.name for p in (REPO / "solutions").iterdir() if any(p.glob("*.ipynb")))


def batch_cost(layout, unit: str, students: list[str], scratch: Path) -> dict:
    """Grade ``students``' submissions of ``unit`` as ONE :func:`grade_batch` task on this
    process's warm fork server; its CPU seconds (nbgrader and kernels), wall and statuses."""
    from dlgrade.cluster import context, grade_batch, pack_tree
    from dlgrade.grade import _template_gradebook, grading_env, prepare
    from dlgrade.status import from_notebooks

    scratch.mkdir(parents=True)
    jobs = [prepare(layout, unit, student, scratch) for student in students]
    template = _template_gradebook(layout, unit, scratch)
    env = grading_env(layout, unit, scratch, say=lambda _: None)
    ctx = context(layout, unit, template, env)
    batch = [(job.student, pack_tree(job.folder)) for job in jobs]
    out, wall, cpu = _timed(lambda: grade_batch(ctx, batch))
    statuses = []
    for student in students:
        files = out["autograded"].get(student, {})
        nbs = [json.loads(data) for name, data in files.items() if name.endswith(".ipynb")]
        statuses.append(from_notebooks(student, nbs, []).status if nbs else "not graded")
    return {"cpu_s": cpu, "wall_s": wall, "statuses": sorted(set(statuses))}


def capacity(units: list[str], work: Path, say=print) -> dict:
    """Per unit: the cost of one solution submission on a warm worker (see the module
    docstring); for the first unit also a batch of three, which gives the per-batch part."""
    import nbformat
    from dlgrade.nbgrader_run import run_nbgrader
    from dlgrade.paths import Layout
    from dlgrade.workers import run_module

    h = _harness()
    layout = Layout.from_env(
        {
            "DLGRADE_SOURCE_DIR": str(REPO / "solutions"),
            "DLGRADE_RELEASE_DIR": str(work / "release"),
            "DLGRADE_STATE_DIR": str(work / "state"),
        }
    )
    # the fork server's own start (its imports) is no submission's: a first trivial run waits
    # for it
    work.mkdir(parents=True, exist_ok=True)
    run_module("json.tool", ["--help"], dict(os.environ), work, work / "warm.log")
    costs, failed = {}, {}
    for k, unit in enumerate(units):
        say(f"capacity: {unit} ...")
        proc = run_nbgrader(["generate_assignment", unit, "--force"], layout, capture=True)
        if proc.returncode:
            failed[unit] = f"could not release it: {(proc.stdout + proc.stderr)[-300:]}"
            continue
        spec = h.inspect_unit(layout.source / unit)
        names = ["one"] + (["three0", "three1", "three2"] if k == 0 else [])
        for student in names:
            folder = layout.submitted / student / unit
            folder.mkdir(parents=True)
            for path in sorted((layout.release / unit).glob("*.ipynb")):
                built = h.build_submission(nbformat.read(path, 4), spec.sources[path.name])
                nbformat.write(built, folder / path.name)
        one = batch_cost(layout, unit, ["one"], work / "scratch" / unit / "one")
        if one["statuses"] != ["graded"]:
            failed[unit] = f"its solution was not graded: {', '.join(one['statuses'])}"
            continue
        costs[unit] = one
        if k == 0:
            three = batch_cost(layout, unit, names[1:], work / "scratch" / unit / "three")
            per = max(0.0, (three["cpu_s"] - one["cpu_s"]) / 2)
            costs[unit]["batch_s"] = max(0.0, one["cpu_s"] - per)
    batch_s = next((c["batch_s"] for c in costs.values() if "batch_s" in c), 0.0)
    return {"costs": costs, "failed": failed, "batch_s": batch_s}


def projection(cpu_one: float, batch_s: float, submissions: int, workers: int) -> float:
    """Wall seconds for ``submissions`` of a unit on ``workers`` (each a core kept busy):
    every submission's own CPU, plus nbgrader's per-batch part for the two batches per worker
    that ``dlgrade grade`` makes, shared out over the workers."""
    own = max(0.0, cpu_one - batch_s)
    return (submissions * own + 2 * workers * batch_s) / workers


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def capacity_report(found: dict, workers: list[int]) -> str:
    """The per-unit costs and the projections as a Markdown table."""
    from benchmarks.harness import machine

    head = "| unit | CPU, one submission | wall | "
    head += " | ".join(f"{m:,} on {n}" for n in workers for m in (1000, 10000)) + " |"
    lines = [f"Machine: {machine()}", "", head, "|---" * (3 + 2 * len(workers)) + "|"]
    total = 0.0
    for unit, cost in found["costs"].items():
        total += cost["cpu_s"]
        cells = [
            _duration(projection(cost["cpu_s"], found["batch_s"], m, n))
            for n in workers
            for m in (1000, 10000)
        ]
        lines.append(
            f"| {unit} | {cost['cpu_s']:.1f} s | {cost['wall_s']:.1f} s | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        f"per-batch part (nbgrader's own start and bookkeeping, from a batch of three): "
        f"{found['batch_s']:.1f} CPU s; all units: {total:.1f} CPU s for one submission each "
        f"({len(found['costs'])} units, submissions per CPU-second "
        f"{len(found['costs']) / total:.3f})"
        if total
        else "no unit was measured",
    ]
    lines += [f"NOT measured: {unit}: {why}" for unit, why in found["failed"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_grading")
    parser.add_argument("--unit", default="01_perceptron")
    parser.add_argument("--submissions", type=int, default=50, metavar="N")
    parser.add_argument("--workers", type=int, default=None, metavar="N")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR", help="work here")
    parser.add_argument("--skip-figures", action="store_true", help="no third run with --figures")
    parser.add_argument(
        "--baseline", type=Path, default=None, metavar="FILE", help="another grade.py to compare"
    )
    parser.add_argument(
        "--capacity", action="store_true", help="per-unit costs and projections instead"
    )
    parser.add_argument("--units", default=None, help="--capacity: these units (comma-separated)")
    parser.add_argument(
        "--project", default="2,16,64", help="--capacity: project onto these worker counts"
    )
    args = parser.parse_args(argv)
    if args.submissions < 1:
        parser.error(f"--submissions {args.submissions}: expected at least 1")
    global METER
    METER = CpuMeter()
    try:
        return _main(args, parser)
    finally:
        METER.close()


def _main(args, parser) -> int:
    how = "every process" if METER.whole_tree else "reaped processes only (no cpuacct cgroup)"
    print(f"CPU counted: {how}")
    if args.capacity:
        units = args.units.split(",") if args.units else units_with_solutions()
        project = [int(n) for n in args.project.split(",")]
        with tempfile.TemporaryDirectory(prefix="bench-capacity-") as tmp:
            found = capacity(units, Path(args.keep or tmp).resolve())
        print(capacity_report(found, project))
        return 0 if found["costs"] and not found["failed"] else 1
    if args.baseline is not None and not args.baseline.is_file():
        parser.error(f"--baseline {args.baseline}: no such file")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=False)
        fig = run(
            args.unit,
            args.submissions,
            args.workers,
            args.keep.resolve(),
            not args.skip_figures,
            baseline=args.baseline,
        )
    else:
        with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
            fig = run(
                args.unit,
                args.submissions,
                args.workers,
                Path(tmp),
                not args.skip_figures,
                baseline=args.baseline,
            )
    print(report(fig))
    return 0 if not fig["differ"] and fig["graded_dlgrade"] == args.submissions else 1


if __name__ == "__main__":
    sys.exit(main())
