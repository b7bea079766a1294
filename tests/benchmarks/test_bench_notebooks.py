"""benchmarks/bench_notebooks.py on the shortest unit, so that it cannot rot."""

from __future__ import annotations

import pytest

from benchmarks import bench_notebooks


def test_budgets():
    assert bench_notebooks.budget("13_torch_gpu") == 90.0
    assert bench_notebooks.budget("00_welcome") == bench_notebooks.DEFAULT_BUDGET_S == 60.0
    assert "00_welcome" in bench_notebooks.units()


@pytest.mark.slow
def test_runs_a_notebook_and_reports_wall_and_kernel_cpu_time(capsys):
    bench_notebooks.main(["00_welcome"])
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| 00_welcome |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    wall, cpu = (float(c.removesuffix(" s")) for c in cells[1:3])
    assert wall > 0 and cpu > 0 and cells[3] == "60 s" and cells[4] in ("yes", "NO")


def test_an_unknown_unit_is_refused():
    with pytest.raises(SystemExit, match="unknown units"):
        bench_notebooks.main(["99_nope"])
    with pytest.raises(ValueError, match="unit must name a folder"):
        bench_notebooks.run_notebook("99_nope")
