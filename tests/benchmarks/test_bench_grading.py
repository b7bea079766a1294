"""The class-grading benchmark, tiny: 3 submissions graded every way, same scores; the
capacity mode on one unit."""

from __future__ import annotations

import json
import re
from pathlib import Path

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


GRADE_PY = Path(bench_grading.REPO) / "grading" / "dlgrade" / "grade.py"


def test_bench_grading_compares_four_ways_on_three_submissions(capsys, tmp_path):
    args = ["--submissions", "3", "--workers", "2", "--keep", str(tmp_path / "work")]
    status = bench_grading.main([*args, "--baseline", str(GRADE_PY)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "scores: identical; statuses: graded" in out
    assert re.search(r"speed-up of `dlgrade grade`: \d+\.\d\dx \(target >= 2x\)", out), out
    assert re.search(r"/ baseline throughput: \d+\.\d\dx wall, \d+\.\d\dx CPU", out), out
    rows = [line for line in out.splitlines() if line.startswith("| ") and " s |" in line]
    assert len(rows) == 4 and all("| 3 |" in row for row in rows), out
    # every run's CPU seconds and submissions per CPU-second are measured, not left out
    assert all(re.search(r"\| \d+\.\d s \| \d\.\d{3} \|$", row) for row in rows), out
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


def test_bench_grading_capacity_projects_a_unit_from_its_measured_cost(capsys, tmp_path):
    args = ["--capacity", "--units", "01_perceptron", "--project", "4"]
    status = bench_grading.main([*args, "--keep", str(tmp_path / "work")])
    out = capsys.readouterr().out
    assert status == 0, out
    row = next(line for line in out.splitlines() if line.startswith("| 01_perceptron |"))
    cpu = float(re.search(r"\| 01_perceptron \| (\d+\.\d) s \|", row).group(1))
    assert cpu > 0.5, row  # a kernel was started and ran the notebook
    assert "1,000 on 4 | 10,000 on 4 |" in out, out
    batch = float(re.search(r"per-batch part .*?: (\d+\.\d) CPU s", out).group(1))
    # 10,000 submissions on 4 workers: each worker's share of their CPU, no more, no less
    expected = (10000 * max(0.0, cpu - batch) + 8 * batch) / 4
    shown = row.rsplit("|", 2)[1].strip()
    value, unit = shown.split()
    factor = {"s": 1, "min": 60, "h": 3600}[unit]
    assert abs(float(value) * factor - expected) <= 0.06 * expected + 60, (shown, expected)
