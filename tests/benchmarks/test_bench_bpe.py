"""benchmarks/bench_bpe.py in a tiny configuration, so that it cannot rot."""

from __future__ import annotations

from benchmarks import bench_bpe
from dlkit.data import BPE, python_docs_text


def test_both_contenders_learn_the_same_merges():
    text = python_docs_text()[:5_000]
    bpe = BPE.train(text, 20)
    assert [(m.pair, m.count) for m in bpe.history] == bench_bpe.naive_bpe(text, 20)


def test_quick_run_times_both(capsys):
    bench_bpe.main(["--quick"])
    out = capsys.readouterr().out
    assert "| BPE training, 5 KB, 20 merges |" in out and "merges/s" in out
    result, size, merges = bench_bpe.run(quick=True)
    assert set(result.timings) == {"dlkit", "naive"} and (size, merges) == (5_000, 20)
    assert all(len(t.samples) == 3 for t in result.timings.values())
