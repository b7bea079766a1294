"""Solution notebooks against their run-time budgets: wall time and the kernel's CPU time.

    python -m benchmarks.bench_notebooks                 # every unit in solutions/
    python -m benchmarks.bench_notebooks 09_rnn 13_torch_gpu

Each notebook runs top to bottom in a fresh kernel (nbclient), one at a time. The table gives
the wall time, the CPU time the kernel used (user + system, of the kernel process and its
children, read with ``resource.getrusage(RUSAGE_CHILDREN)`` around the run: far less inflated
than the wall time when other work shares the cores) and the unit's budget from
:data:`BUDGETS`. The budgets are for a 2-core machine with nothing else running; on a shared
machine, judge by the CPU column. tests/notebooks/test_execute.py runs the same notebooks for
errors and stderr output and records their wall times in ``test-artifacts/``, but asserts no
time (tests never do; see benchmarks/README.md).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as `make test` runs them

import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BUDGET_S = 60.0
BUDGETS = {"13_torch_gpu": 90.0}  # seconds; every other unit has DEFAULT_BUDGET_S


def budget(unit: str) -> float:
    """The unit's notebook budget in seconds on this course's reference 2-core machine."""
    return BUDGETS.get(unit, DEFAULT_BUDGET_S)


@dataclass(frozen=True)
class Run:
    unit: str
    wall_s: float
    cpu_s: float

    @property
    def budget_s(self) -> float:
        return budget(self.unit)


def units() -> list[str]:
    folder = ROOT / "solutions"
    return sorted(p.name for p in folder.iterdir() if (p / f"{p.name}.ipynb").is_file())


def run_notebook(unit: str, timeout: float | None = None) -> Run:
    """Execute ``solutions/<unit>/<unit>.ipynb`` in a fresh kernel; raise if a cell fails."""
    import nbformat
    from nbclient import NotebookClient

    path = ROOT / "solutions" / unit / f"{unit}.ipynb"
    if not path.is_file():
        raise ValueError(f"unit must name a folder of solutions/ with its notebook; got {unit!r}")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=int(timeout or 4 * budget(unit)),
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the kernel has exited by now
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(unit, wall, cpu)


def table(runs: list[Run]) -> str:
    lines = [
        "| unit | wall | kernel CPU | budget | CPU within budget |",
        "|---|---|---|---|---|",
    ]
    for r in runs:
        ok = "yes" if r.cpu_s <= r.budget_s else "NO"
        lines.append(
            f"| {r.unit} | {r.wall_s:.1f} s | {r.cpu_s:.1f} s | {r.budget_s:.0f} s | {ok} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    import argparse

    from benchmarks import harness

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("units", nargs="*", help="units to run (default: all)")
    args = parser.parse_args(argv)
    chosen = args.units or units()
    unknown = sorted(set(chosen) - set(units()))
    if unknown:
        sys.exit(f"unknown units {unknown}; expected some of {units()}")
    print(harness.machine())
    print(table([run_notebook(unit) for unit in chosen]))


if __name__ == "__main__":
    main()
