"""benchmarks/bench_attention.py in a tiny configuration, so that it cannot rot."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from benchmarks import bench_attention  # noqa: E402


def _numpy(values):
    return [v.detach().numpy() if hasattr(v, "detach") else np.asarray(v) for v in values]


def test_attention_contenders_compute_the_same_values_and_gradients():
    case = bench_attention.Attention(b=2, heads=2, t=5, d=4)
    both = bench_attention.attention_contenders(case, np.random.default_rng(0))
    assert set(both) == {"dlkit", "torch", bench_attention.CAUSAL}
    mine = _numpy(both["dlkit"]())
    for reference in ("torch", bench_attention.CAUSAL):
        theirs = _numpy(both[reference]())
        assert len(mine) == len(theirs) == 4  # out, dq, dk, dv
        for name, a, b in zip(("out", "dq", "dk", "dv"), mine, theirs, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=f"{name} {reference}")


def test_block_contenders_agree_on_the_loss_and_every_gradient():
    size = bench_attention.Block(n=2, t=5, e=8, heads=2, m=16)
    both = bench_attention.block_contenders(size, np.random.default_rng(0))
    mine, theirs = _numpy(both["dlkit"]()), _numpy(both["torch"]())
    names = ["loss", "dx", *bench_attention.TORCH_NAMES]
    assert len(mine) == len(theirs) == len(names) == 14
    for name, a, b in zip(names, mine, theirs, strict=True):
        if name in ("w_qkv", "w_o", "w1", "w2"):
            a = a.T  # dlkit's (in, out) against torch's (out, in)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6, err_msg=name)


def test_quick_run_reports_every_case():
    rows = bench_attention.run(quick=True)
    assert len(rows) == 3
    assert rows[0].result.target == 1.5 and rows[0].reference == "torch"
    assert rows[1].reference == bench_attention.CAUSAL and rows[2].result.target is None
    assert all(len(r.result.timings["dlkit"].samples) == 3 for r in rows)
    table = bench_attention.table(rows, 100.0)
    lines = table.splitlines()
    assert len(lines) == 5 and all(line.count("|") == 10 for line in lines)
    assert "<= 1.5x" in lines[2] and "is_causal=True" in lines[3] and "transformer" in lines[4]
    assert "<=" not in lines[3] and "<=" not in lines[4]  # targets on the first row only


def test_main_prints_the_machine_and_the_table(capsys):
    bench_attention.main(["--quick"])
    out = capsys.readouterr().out
    assert "cores" in out and "GFLOP/s" in out and "| case |" in out
