"""Convolution and pooling: dlkit on NumPy vs torch on the CPU, and vectorized vs naive.

    python -m benchmarks.bench_conv            # full run (a few minutes); prints a table
    python -m benchmarks.bench_conv --quick    # tiny sizes, 3 repeats (the test runs this)
    python -m benchmarks.bench_conv --cpu-time # on a busy machine: thread CPU time

Every case is timed side by side in one process, single-threaded, dlkit and the reference
alternating (``harness.compare``), 11 repeats, median and minimum:

* ``conv2d`` forward + backward (``dx``, ``dw``, ``db``) at batch 64, 3x3 kernels, padding
  1, for C = 3, 8, 16 input channels, F = 16, 32 filters, 28x28 and 32x32 images, in
  float32 and float64. dlkit runs ``conv2d_forward`` + ``conv2d_backward``; torch runs
  ``F.conv2d`` and ``torch.autograd.grad`` for the same three gradients. Targets (issue 5):
  float32 at most 2.0x torch's time for C >= 8 and 1.5x for C = 3; float64 at most 1.0x.
* ``maxpool2d`` 2x2, stride 2, forward + backward at batch 64: target at most 0.5x torch.
* ``conv2d_forward`` against ``conv2d_naive`` (the loops), both measured on the same small
  case, forward only (the naive version has no backward): target at least 300x faster.

The same run measures a 1024x1024 matrix product with NumPy's BLAS, and reports each
convolution's useful arithmetic (``2 N F C KH KW OH OW`` per product, three products per
forward + backward) in GFLOP/s and as a fraction of that matrix product of its dtype.
"""

from __future__ import annotations  # noqa: I001 (harness must load before NumPy)

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import harness  # sets thread variables before NumPy loads
import numpy as np

import dlkit.functional as F

REPEATS = 11


@dataclass(frozen=True)
class ConvCase:
    """One convolution layer: ``(n, c, size, size)`` images, ``f`` filters of 3x3, pad 1."""

    n: int
    c: int
    f: int
    size: int
    dtype: str

    @property
    def name(self) -> str:
        hw = f"{self.size}x{self.size}"
        return f"conv2d fwd+bwd {self.dtype} N={self.n} C={self.c} F={self.f} {hw}"

    @property
    def flops(self) -> float:
        """Forward, ``dx`` and ``dw`` products: three times ``2 N F C 9 OH OW``."""
        return 3 * 2 * self.n * self.f * self.c * 9 * self.size**2

    @property
    def target(self) -> float:
        if self.dtype == "float64":
            return 1.0
        return 1.5 if self.c < 8 else 2.0


def conv_cases(n: int = 64) -> list[ConvCase]:
    return [
        ConvCase(n, c, f, size, dtype)
        for dtype in ("float32", "float64")
        for size in (28, 32)
        for c in (3, 8, 16)
        for f in (16, 32)
    ]


def conv_contenders(case: ConvCase, rng: np.random.Generator) -> dict[str, Callable[[], Any]]:
    """dlkit and torch, each returning ``(out, dx, dw, db)`` for the same data."""
    import torch

    x = rng.standard_normal((case.n, case.c, case.size, case.size)).astype(case.dtype)
    w = (rng.standard_normal((case.f, case.c, 3, 3)) / np.sqrt(9 * case.c)).astype(case.dtype)
    b = rng.standard_normal(case.f).astype(case.dtype)
    dout = rng.standard_normal((case.n, case.f, case.size, case.size)).astype(case.dtype)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tdout = torch.tensor(dout)

    def dlkit_conv() -> tuple[Any, ...]:
        out, cache = F.conv2d_forward(x, w, b, stride=1, pad=1)
        return (out, *F.conv2d_backward(dout, cache))

    def torch_conv() -> tuple[Any, ...]:
        out = torch.nn.functional.conv2d(tx, tw, tb, padding=1)
        return (out, *torch.autograd.grad(out, (tx, tw, tb), tdout))

    return {"dlkit": dlkit_conv, "torch": torch_conv}


def maxpool_contenders(
    shape: tuple[int, int, int, int], dtype: str, rng: np.random.Generator
) -> dict[str, Callable[[], Any]]:
    """dlkit and torch 2x2 max pooling, each returning ``(out, dx)``."""
    import torch

    x = rng.standard_normal(shape).astype(dtype)
    n, c, h, w = shape
    dout = rng.standard_normal((n, c, h // 2, w // 2)).astype(dtype)
    tx, tdout = torch.tensor(x, requires_grad=True), torch.tensor(dout)

    def dlkit_pool() -> tuple[Any, Any]:
        out, cache = F.maxpool2d_forward(x, 2)
        return out, F.maxpool2d_backward(dout, cache)

    def torch_pool() -> tuple[Any, Any]:
        out = torch.nn.functional.max_pool2d(tx, 2)
        return out, torch.autograd.grad(out, tx, tdout)[0]

    return {"dlkit": dlkit_pool, "torch": torch_pool}


def naive_contenders(
    shape: tuple[int, int, int, int], f: int, rng: np.random.Generator
) -> dict[str, Callable[[], Any]]:
    """``conv2d_forward`` and ``conv2d_naive`` (3x3, pad 1, float32), each returning ``out``."""
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((f, shape[1], 3, 3)).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32)
    return {
        "dlkit": lambda: F.conv2d_forward(x, w, b, 1, 1)[0],
        "naive": lambda: F.conv2d_naive(x, w, b, 1, 1),
    }


@dataclass(frozen=True)
class Row:
    """A timed case with what the table needs beyond the timings."""

    result: harness.Result
    flops: float | None = None
    dtype: str = "float32"
    speedup_target: float | None = None  # for naive vs vectorized: at least this much faster


def run(quick: bool = False, cpu_time: bool = False) -> list[Row]:
    """Time every case; ``quick`` shrinks the sizes and repeats so a test can run it;
    ``cpu_time`` times with this thread's CPU time instead of the wall clock."""
    harness.pin_threads()
    rng = np.random.default_rng(0)
    repeats, min_time = (3, 0.001) if quick else (REPEATS, 0.05)
    clock = time.thread_time if cpu_time else time.perf_counter
    rows = []
    for case in conv_cases(n=2 if quick else 64):
        r = harness.compare(
            case.name,
            conv_contenders(case, rng),
            baseline="torch",
            repeats=repeats,
            min_time=min_time,
            target=case.target,
            clock=clock,
        )
        rows.append(Row(r, case.flops, case.dtype))
    for dtype in ("float32", "float64"):
        shape = (2, 4, 8, 8) if quick else (64, 32, 28, 28)
        name = f"maxpool2d 2x2 fwd+bwd {dtype} {shape}"
        r = harness.compare(
            name,
            maxpool_contenders(shape, dtype, rng),
            baseline="torch",
            repeats=repeats,
            min_time=min_time,
            target=0.5,
            clock=clock,
        )
        rows.append(Row(r, None, dtype))
    shape, f = ((1, 2, 6, 6), 2) if quick else ((4, 8, 28, 28), 16)
    r = harness.compare(
        f"conv2d fwd vectorized vs naive float32 {shape} F={f} (same case)",
        naive_contenders(shape, f, rng),
        baseline="naive",
        repeats=repeats,
        min_time=min_time,
        clock=clock,
    )
    rows.append(Row(r, None, "float32", speedup_target=300.0))
    return rows


def table(rows: list[Row], peaks: dict[str, float]) -> str:
    """A Markdown table: ratios to the reference, targets, and GFLOP/s against BLAS."""
    lines = [
        "| case | dlkit median | reference median | ratio (median) | ratio (min) | target "
        "| met | dlkit GFLOP/s | of matmul |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        r = row.result
        mine, ref = r.timings["dlkit"], r.timings[r.baseline]
        if row.speedup_target is not None:
            speedup = ref.median / mine.median
            ratio = f"{speedup:.0f}x faster"
            ratio_min = f"{ref.min / mine.min:.0f}x faster"
            target = f">= {row.speedup_target:g}x faster"
            met = speedup >= row.speedup_target
        else:
            ratio, ratio_min = f"{r.ratio('dlkit'):.2f}x", f"{r.ratio('dlkit', 'min'):.2f}x"
            target = "" if r.target is None else f"<= {r.target:g}x"
            met = r.target is None or r.ratio("dlkit") <= r.target
        gflops = fraction = ""
        if row.flops is not None:
            rate = row.flops / mine.median / 1e9
            gflops, fraction = f"{rate:.1f}", f"{rate / peaks[row.dtype]:.0%}"
        lines.append(
            f"| {r.case} | {mine.median * 1e3:.2f} ms | {ref.median * 1e3:.2f} ms | {ratio} "
            f"| {ratio_min} | {target} | {'yes' if met else 'NO'} | {gflops} | {fraction} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args, peaks = harness.ratio_cli(__doc__.splitlines()[0], argv, ("float32", "float64"))
    print(table(run(quick=args.quick, cpu_time=args.cpu_time), peaks))


if __name__ == "__main__":
    main()
