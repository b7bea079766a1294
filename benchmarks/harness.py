"""Side-by-side timing: dlkit against a reference in one process, as ratios.

Wall-clock numbers on a shared machine are noise; a ratio of two implementations timed
alternately in the same process, on the same data, moments apart, is signal. Each case runs
``repeats`` rounds; in each round every contender runs once (in alternating order), after
warm-up. We report the median and the minimum per contender and the ratios
``dlkit / reference`` of both.

Threads are pinned to one (BLAS through the environment *before* NumPy loads, torch through
``torch.set_num_threads``), so the comparison is of algorithms, not of thread pools.
"""

from __future__ import annotations

import os

for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ.setdefault(_var, "1")

import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402


@dataclass(frozen=True)
class Timing:
    """Seconds per call for one contender over all rounds."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)


@dataclass(frozen=True)
class Result:
    case: str
    timings: dict[str, Timing]
    baseline: str
    target: float | None = None  # the largest acceptable median ratio, if the case has one

    def ratio(self, name: str, stat: str = "median") -> float:
        return getattr(self.timings[name], stat) / getattr(self.timings[self.baseline], stat)


def _time_once(
    fn: Callable[[], object], number: int, clock: Callable[[], float] = time.perf_counter
) -> float:
    start = clock()
    for _ in range(number):
        fn()
    return (clock() - start) / number


def compare(
    case: str,
    contenders: dict[str, Callable[[], object]],
    *,
    baseline: str,
    repeats: int = 11,
    min_time: float = 0.02,
    target: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Result:
    """Time every contender ``repeats`` times, alternating, and return the result.

    Each sample averages enough calls to last about ``min_time`` seconds (calibrated once,
    per contender, during warm-up), so fast ops are not lost in timer resolution.
    ``clock`` is wall-clock time by default; ``time.thread_time`` counts only the CPU time
    of this thread, which a busy machine inflates far less (for single-threaded contenders).
    """
    if baseline not in contenders:
        raise ValueError(f"baseline must be one of {list(contenders)}; got {baseline!r}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1; got {repeats}")
    numbers = {}
    for name, fn in contenders.items():
        fn()  # warm-up: caches, lazy imports, allocator
        once = max(_time_once(fn, 1, clock), 1e-7)
        numbers[name] = max(1, int(min_time / once))
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    order = list(contenders)
    for round_ in range(repeats):
        for name in order if round_ % 2 == 0 else reversed(order):
            samples[name].append(_time_once(contenders[name], numbers[name], clock))
    return Result(case, {k: Timing(tuple(v)) for k, v in samples.items()}, baseline, target)


def matmul_gflops(
    dtype: str = "float32",
    n: int = 1024,
    repeats: int = 11,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """The machine's single-threaded matrix-product speed in GFLOP/s (best of ``repeats``).

    An ``n x n`` by ``n x n`` NumPy product does ``2 n^3`` floating-point operations at
    close to the best rate BLAS reaches on this core: the yardstick against which the
    benchmarks report what fraction of the hardware an op actually uses.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    a @ b  # warm-up
    best = min(_time_once(lambda: a @ b, 1, clock) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def pin_threads() -> None:
    """One thread for torch too (NumPy's BLAS was pinned at import of this module)."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


def machine() -> str:
    """One line describing where the numbers were taken."""
    try:
        import torch

        torch_v = f"torch {torch.__version__} ({torch.get_num_threads()} thread)"
    except ImportError:
        torch_v = "no torch"
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.system()} {cpu}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, NumPy {np.__version__} ({blas()}), {torch_v}"
    )


def blas() -> str:
    """Which BLAS NumPy runs and with which kernels (``OPENBLAS_CORETYPE`` forces them)."""
    try:
        from threadpoolctl import threadpool_info

        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        info = []
    if not info:
        return "BLAS unknown"
    forced = os.environ.get("OPENBLAS_CORETYPE")
    how = f", OPENBLAS_CORETYPE={forced}" if forced else ""
    return f"{info[0].get('internal_api')} {info[0].get('architecture')} kernels{how}"


def table(results: list[Result], contender: str) -> str:
    """A Markdown table of ``contender``'s time ratios against each case's baseline."""
    lines = [
        f"| case | {contender} median | baseline median | ratio (median) | ratio (min) "
        "| target | ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = r.ratio(contender)
        ok = "" if r.target is None else ("yes" if ratio <= r.target else "NO")
        target = "" if r.target is None else f"<= {r.target:g}x"
        lines.append(
            f"| {r.case} | {r.timings[contender].median * 1e6:.1f} us | "
            f"{r.timings[r.baseline].median * 1e6:.1f} us | {ratio:.2f}x | "
            f"{r.ratio(contender, 'min'):.2f}x | {target} | {ok} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class FlopsRow:
    """One row of :func:`flops_table`: a timed case, its FLOP count, and which contender
    dlkit is compared with on this row (a case may give several rows)."""

    result: Result
    flops: float
    reference: str = "torch"
    label: str = ""  # the row's case column; the result's case when empty


def flops_table(rows: list[FlopsRow], peak: float) -> str:
    """A Markdown table of dlkit's time ratios to each row's reference, the target where the
    reference is the case's baseline, and dlkit's GFLOP/s against ``peak`` (the matmul's)."""
    lines = [
        "| case | dlkit median | torch median | ratio (median) | ratio (min) | target | met "
        "| dlkit GFLOP/s | of matmul |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        r = row.result
        mine, ref = r.timings["dlkit"], r.timings[row.reference]
        ratio, ratio_min = mine.median / ref.median, mine.min / ref.min
        has_target = r.target is not None and row.reference == r.baseline
        target = f"<= {r.target:g}x" if has_target else ""
        met = ("yes" if ratio <= r.target else "NO") if has_target else ""
        rate = row.flops / mine.median / 1e9
        lines.append(
            f"| {row.label or r.case} | {mine.median * 1e3:.2f} ms | {ref.median * 1e3:.2f} ms "
            f"| {ratio:.2f}x | {ratio_min:.2f}x | {target} | {met} "
            f"| {rate:.1f} | {rate / peak:.0%} |"
        )
    return "\n".join(lines)


def ratio_cli(description: str, argv, dtypes: tuple[str, ...]):
    """The shared start of a ratio benchmark's ``main``: parse ``--quick``/``--cpu-time``,
    pin one thread, print the machine, the matmul yardstick of each dtype and the clock.
    Returns ``(args, {dtype: GFLOP/s})``."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 3 repeats")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time by this thread's CPU time, not the wall clock (for a busy machine)",
    )
    args = parser.parse_args(argv)
    pin_threads()
    print(machine())
    clock = time.thread_time if args.cpu_time else time.perf_counter
    peaks = {dtype: matmul_gflops(dtype, clock=clock) for dtype in dtypes}
    print(
        "1024x1024 matmul, 1 thread: "
        + ", ".join(f"{dtype} {rate:.1f} GFLOP/s" for dtype, rate in peaks.items())
    )
    print(f"clock: {'thread CPU time' if args.cpu_time else 'wall clock'}")
    return args, peaks
