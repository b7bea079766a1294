"""benchmarks/bench_backends.py in a tiny configuration, so that it cannot rot."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from benchmarks import bench_backends  # noqa: E402
from dlkit import speed  # noqa: E402


def test_quick_run_times_every_op_and_batch_against_torch():
    rows = bench_backends.run(quick=True)
    expected = [(op, n) for op in speed.OPS for n in bench_backends.QUICK_BATCHES]
    assert [(row.op, row.batch) for row in rows] == expected
    for row in rows:
        assert row.result.baseline == "torch"
        assert set(row.result.timings) == set(speed.CONTENDERS)
        assert all(len(t.samples) == 3 for t in row.result.timings.values())
    table = bench_backends.table(rows)
    lines = table.splitlines()
    assert len(lines) == 2 + len(rows)
    assert all(line.count("|") == 10 for line in lines)
    assert "numpy/torch" in lines[0] and "dlkit_torch/torch" in lines[0]
    for row in rows:
        assert f"| {row.op} | {speed.describe_case(row.op, row.batch)} |" in table


def test_the_cli_prints_the_machine_with_its_blas_kernel_and_the_table(capsys):
    bench_backends.main(["--quick", "--cpu-time"])
    out = capsys.readouterr().out
    assert "NumPy" in out and "torch" in out and "(1 thread)" in out
    assert "thread CPU time" in out and "torch contenders on: cpu" in out
    assert out.count("| affine |") == out.count("| conv2d |") == len(bench_backends.QUICK_BATCHES)
