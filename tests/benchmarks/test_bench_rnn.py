"""benchmarks/bench_rnn.py in a tiny configuration, so that it cannot rot."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from benchmarks import bench_rnn  # noqa: E402


def _numpy(values):
    return [v.detach().numpy() if hasattr(v, "detach") else np.asarray(v) for v in values]


@pytest.mark.parametrize("case", bench_rnn.cases(quick=True), ids=lambda c: c.name)
def test_contenders_compute_the_same_values_and_gradients(case):
    both = bench_rnn.contenders(case, np.random.default_rng(0))
    mine, theirs = _numpy(both["dlkit"]()), _numpy(both["torch"]())
    h, dx, dh0, dwx, dwh = mine[:5]
    np.testing.assert_allclose(h, theirs[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dx, theirs[1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dh0, theirs[2][0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dwx, theirs[3].T, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dwh, theirs[4].T, rtol=1e-4, atol=1e-5)


def test_charlm_contenders_agree():
    both = bench_rnn.charlm_contenders(bench_rnn.CharLM(v=7, d=3, h=4, n=2, t=5),
                                       np.random.default_rng(0))  # fmt: skip
    mine, theirs = _numpy(both["dlkit"]()), _numpy(both["torch"]())
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-5)  # the loss
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-4, atol=1e-6)  # d embedding
    np.testing.assert_allclose(mine[5], theirs[6].T, rtol=1e-4, atol=1e-6)  # d output weight


def test_quick_run_reports_every_case():
    rows = bench_rnn.run(quick=True)
    assert len(rows) == 3 and rows[0].result.target == 1.2
    assert all(len(r.result.timings["dlkit"].samples) == 3 for r in rows)
    table = bench_rnn.table(rows, 100.0)
    assert len(table.splitlines()) == 5 and all(
        line.count("|") == 10 for line in table.splitlines()
    )
