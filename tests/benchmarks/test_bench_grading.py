"""The class-grading benchmark, tiny: 3 submissions graded both ways, same scores."""

from __future__ import annotations

import json
import re

import pytest
from dlgrade.sandbox import bwrap_path

from benchmarks import bench_grading

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap (bwrap) is not installed"),
]


def _figures(state, unit="01_perceptron") -> list[int]:
    """Per autograded notebook: how many outputs are drawn figures (not a widget's picture)."""
    counts = []
    for path in sorted((state / "autograded").glob(f"*/{unit}/*.ipynb")):
        nb = json.loads(path.read_text())
        counts.append(
            sum(
                "image/png" in out.get("data", {})
                and "application/vnd.jupyter.widget-view+json" not in out["data"]
                for cell in nb["cells"]
                for out in cell.get("outputs", [])
            )
        )
    return counts


def test_bench_grading_compares_three_ways_on_three_submissions(capsys, tmp_path):
    status = bench_grading.main(
        ["--submissions", "3", "--workers", "2", "--keep", str(tmp_path / "work")]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "scores: identical; statuses: graded" in out
    assert re.search(r"speed-up of `dlgrade grade`: \d+\.\d\dx \(target >= 2x\)", out), out
    rows = [line for line in out.splitlines() if line.startswith("| ") and " s |" in line]
    assert len(rows) == 3 and all("| 3 |" in row for row in rows), out
    # by default dlgrade's kernels draw no figures; --figures draws them, as plain nbgrader does
    plain, bare, drawn = (
        _figures(tmp_path / "work" / name) for name in ("plain", "dlgrade", "dlgrade-figures")
    )
    assert len(plain) == len(bare) == len(drawn) == 3
    assert bare == [0, 0, 0]
    assert drawn == plain and min(drawn) > 5


def test_bench_grading_refuses_an_empty_class():
    with pytest.raises(SystemExit):
        bench_grading.main(["--submissions", "0"])
