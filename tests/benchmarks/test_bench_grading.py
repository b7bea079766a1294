"""The class-grading benchmark, tiny: 3 submissions graded both ways, same scores."""

from __future__ import annotations

import re

import pytest
from dlgrade.sandbox import bwrap_path

from benchmarks import bench_grading

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap (bwrap) is not installed"),
]


def test_bench_grading_compares_both_ways_on_three_submissions(capsys):
    status = bench_grading.main(["--submissions", "3", "--workers", "2"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "scores: identical; statuses: graded" in out
    assert re.search(r"speed-up: \d+\.\d\dx \(target >= 2x\)", out), out
    rows = [line for line in out.splitlines() if line.startswith("| ") and " s |" in line]
    assert len(rows) == 2 and all("| 3 |" in row for row in rows)


def test_bench_grading_refuses_an_empty_class():
    with pytest.raises(SystemExit):
        bench_grading.main(["--submissions", "0"])
