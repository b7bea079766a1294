"""benchmarks/bench_conv.py in a tiny configuration, so that it cannot rot."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from benchmarks import bench_conv  # noqa: E402


def numpy_of(values):
    return [v.detach().numpy() if hasattr(v, "detach") else np.asarray(v) for v in values]


@pytest.mark.parametrize("case", bench_conv.conv_cases(n=2)[::5], ids=lambda c: c.name)
def test_conv_contenders_compute_the_same_values_and_gradients(case):
    both = bench_conv.conv_contenders(case, np.random.default_rng(0))
    mine, theirs = numpy_of(both["dlkit"]()), numpy_of(both["torch"]())
    assert len(mine) == len(theirs) == 4  # out, dx, dw, db
    tol = 1e-4 if case.dtype == "float32" else 1e-10
    for name, a, b in zip(("out", "dx", "dw", "db"), mine, theirs, strict=True):
        assert a.dtype == b.dtype == np.dtype(case.dtype), name
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_maxpool_and_naive_contenders_agree(dtype):
    rng = np.random.default_rng(1)
    both = bench_conv.maxpool_contenders((2, 3, 6, 6), dtype, rng)
    for a, b in zip(numpy_of(both["dlkit"]()), numpy_of(both["torch"]()), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    both = bench_conv.naive_contenders((1, 2, 5, 5), 3, rng)
    np.testing.assert_allclose(both["dlkit"](), both["naive"](), rtol=1e-5, atol=1e-5)


def test_quick_run_reports_every_case_with_its_target():
    rows = bench_conv.run(quick=True)
    conv = bench_conv.conv_cases(n=2)
    assert len(rows) == len(conv) + 3  # + maxpool float32, float64 + naive
    for row, case in zip(rows, conv, strict=False):
        assert row.result.case == case.name and row.result.target == case.target
        assert set(row.result.timings) == {"dlkit", "torch"}
        assert len(row.result.timings["dlkit"].samples) == 3
    assert {r.result.target for r in rows[len(conv) : -1]} == {0.5}
    assert rows[-1].speedup_target == 300 and rows[-1].result.baseline == "naive"
    table = bench_conv.table(rows, {"float32": 100.0, "float64": 50.0})
    lines = table.splitlines()
    assert len(lines) == 2 + len(rows)
    for row in rows:
        assert f"| {row.result.case} |" in table
    assert all(line.count("|") == 10 for line in lines)
    assert "faster" in lines[-1] and "%" in lines[2]


def test_targets_follow_the_issue():
    cases = {(c.c, c.dtype): c.target for c in bench_conv.conv_cases()}
    assert cases[(3, "float32")] == 1.5 and cases[(8, "float32")] == cases[(16, "float32")] == 2.0
    assert {t for (_, d), t in cases.items() if d == "float64"} == {1.0}
    assert len(bench_conv.conv_cases()) == 24


def test_matmul_yardstick_is_a_positive_rate():
    from benchmarks import harness

    assert harness.matmul_gflops("float32", n=64, repeats=2) > 0.01
