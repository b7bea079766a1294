"""One dlkit kernel on NumPy and on torch tensors, against torch's own layer (unit 13).

    python -m benchmarks.bench_backends            # full run (under a minute); prints a table
    python -m benchmarks.bench_backends --quick    # tiny sizes, 3 repeats (the test runs this)
    python -m benchmarks.bench_backends --cpu-time # on a busy machine: thread CPU time
    python -m benchmarks.bench_backends --device cuda  # the torch contenders on the GPU

dlkit's kernels are written once against an array namespace (``dlkit.backend``), so the same
``affine_forward`` / ``conv2d_forward`` and their backward passes run on NumPy arrays and on
torch tensors. Each case times three contenders side by side in one process (the notebook's
``dlkit.speed.compare_backends`` with more repeats), float32, forward + backward (``out``,
``dx``, ``dw``, ``db``), single-threaded, alternating, 11 repeats, median and minimum:

* ``numpy``: the dlkit kernel on NumPy arrays (always on the CPU);
* ``dlkit_torch``: the same dlkit kernel on torch tensors on the chosen device;
* ``torch``: ``F.linear`` / ``F.conv2d`` with ``torch.autograd.grad``, the baseline.

Cases: ``affine`` ``x (N, 256) @ w (256, 128) + b`` and ``conv2d`` 16 -> 32 channels, 3x3,
pad 1, on 8x8 images, at batch sizes N = 16, 64, 256. No speed target: the table reports
the ratios ``numpy / torch`` and ``dlkit_torch / torch``; what dlkit's torch backend costs
over torch's own layers is the namespace's translation and dlkit's argument checks per call,
and, for ``conv2d``, an im2col written for NumPy where torch calls its own kernel.
"""

from __future__ import annotations  # noqa: I001 (harness must load before NumPy)

import argparse
import time
from dataclasses import dataclass

from benchmarks import harness  # sets thread variables before NumPy loads

from dlkit import speed

REPEATS = 11
BATCHES = (16, 64, 256)
QUICK_BATCHES = (2, 4)


@dataclass(frozen=True)
class Row:
    """One timed case: an op at a batch size, its three contenders."""

    op: str
    batch: int
    result: harness.Result


def run(quick: bool = False, cpu_time: bool = False, device: str | None = "cpu") -> list[Row]:
    """Time every case; ``quick`` shrinks the sizes and repeats so a test can run it;
    ``cpu_time`` times with this thread's CPU time instead of the wall clock; ``device``
    is where the torch contenders run (``None``: CUDA when available)."""
    harness.pin_threads()
    repeats, min_time = (3, 0.001) if quick else (REPEATS, 0.02)
    clock = time.thread_time if cpu_time else time.perf_counter
    rows = []
    for op in speed.OPS:
        for batch in QUICK_BATCHES if quick else BATCHES:
            r = harness.compare(
                f"{op} N={batch}",
                speed.contenders(op, batch, device),
                baseline="torch",
                repeats=repeats,
                min_time=min_time,
                clock=clock,
            )
            rows.append(Row(op, batch, r))
    return rows


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def table(rows: list[Row]) -> str:
    """A Markdown table: the three medians and the ratios to torch (median, and of minima)."""
    lines = [
        "| op | shape | numpy median | dlkit_torch median | torch median | numpy/torch "
        "| dlkit_torch/torch | numpy/torch (min) | dlkit_torch/torch (min) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        r, t = row.result, row.result.timings
        lines.append(
            f"| {row.op} | {speed.describe_case(row.op, row.batch)} | {_ms(t['numpy'].median)} "
            f"| {_ms(t['dlkit_torch'].median)} | {_ms(t['torch'].median)} "
            f"| {r.ratio('numpy'):.2f}x | {r.ratio('dlkit_torch'):.2f}x "
            f"| {r.ratio('numpy', 'min'):.2f}x | {r.ratio('dlkit_torch', 'min'):.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 3 repeats")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time by this thread's CPU time, not the wall clock (for a busy machine, CPU only)",
    )
    parser.add_argument(
        "--device", default="cpu", help="where the torch contenders run: cpu (default) or cuda"
    )
    args = parser.parse_args(argv)
    harness.pin_threads()
    print(harness.machine())
    print(f"torch contenders on: {args.device}")
    print(f"clock: {'thread CPU time' if args.cpu_time else 'wall clock'}")
    print(table(run(quick=args.quick, cpu_time=args.cpu_time, device=args.device)))


if __name__ == "__main__":
    main()
