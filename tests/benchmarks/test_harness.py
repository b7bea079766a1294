"""The benchmark harness and each benchmark run in a tiny configuration, so they cannot rot."""

from __future__ import annotations

import time

import pytest

from benchmarks import harness


def test_compare_alternates_and_reports_ratios() -> None:
    calls: list[str] = []

    def slow() -> None:
        calls.append("slow")
        time.sleep(0.002)

    def fast() -> None:
        calls.append("fast")

    result = harness.compare(
        "sleep", {"slow": slow, "fast": fast}, baseline="fast", repeats=3, min_time=0.001
    )
    assert len(result.timings["slow"].samples) == 3
    assert result.ratio("slow") > 10, "a 2 ms sleep must time far slower than a no-op"
    assert result.ratio("fast") == 1.0
    assert "| sleep |" in harness.table([result], "slow")


def test_flops_table_judges_the_target_only_against_the_baseline() -> None:
    ms = lambda *t: harness.Timing(tuple(x / 1e3 for x in t))
    result = harness.Result(
        "attn", {"dlkit": ms(3, 2), "torch": ms(2, 2), "fast": ms(1, 1)}, "torch", target=1.2
    )
    rows = [harness.FlopsRow(result, 5e6), harness.FlopsRow(result, 5e6, "fast", "vs fast")]
    first, second = harness.flops_table(rows, 10.0).splitlines()[2:]
    # dlkit median 2.5 ms against torch's 2 ms: 1.25x, over the 1.2x target; 2 GFLOP/s
    assert first.startswith("| attn | 2.50 ms | 2.00 ms | 1.25x | 1.00x | <= 1.2x | NO |")
    assert first.endswith("| 2.0 | 20% |")
    # against a contender that is not the baseline: its ratio, but no target to meet
    assert second.startswith("| vs fast | 2.50 ms | 1.00 ms | 2.50x | 2.00x |  |  |")


def test_compare_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="baseline must be one of"):
        harness.compare("x", {"a": lambda: None}, baseline="b")
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        harness.compare("x", {"a": lambda: None}, baseline="a", repeats=0)


def test_functional_benchmark_runs_quick() -> None:
    pytest.importorskip("torch")
    from benchmarks import bench_functional

    results = bench_functional.run(quick=True)
    assert len(results) == 3
    for r in results:
        assert set(r.timings) == {"dlkit", "torch"}
        assert 0 < r.ratio("dlkit") < 1e4


def test_mlp_benchmark_runs_quick_and_trains() -> None:
    pytest.importorskip("torch")
    from benchmarks import bench_mlp

    (result,) = bench_mlp.run(quick=True, batch=16)
    assert result.target == bench_mlp.TARGET and set(result.timings) == {"dlkit", "torch"}
    assert 0 < result.ratio("dlkit") < 1e4


def test_mlp_benchmark_steps_compute_the_same_update() -> None:
    """Both contenders start from the same weights and batch, so after a step they agree."""
    pytest.importorskip("torch")
    import numpy as np

    from benchmarks import bench_mlp

    both = bench_mlp.steps(32, np.random.default_rng(1))
    before = both.dlkit_params[0].copy()
    both.dlkit_step()
    both.torch_step()
    assert not np.allclose(before, both.dlkit_params[0]), "the dlkit step must update w1"
    for mine, theirs in zip(both.dlkit_params[::2], both.torch_model[::2], strict=True):
        np.testing.assert_allclose(mine, theirs.weight.detach().numpy().T, rtol=1e-4, atol=1e-6)
