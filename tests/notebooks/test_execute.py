"""Every solution notebook runs top to bottom in a fresh kernel, cleanly.

A cell fails the run if it raises or writes to stderr (a warning in the reference solution is
a bug: students would see it). Each run's wall time is written to
``test-artifacts/notebook-time-<unit>.json``; no time is asserted (the machines are shared):
``python -m benchmarks.bench_notebooks`` measures the notebooks against their budgets. A cell
that hangs fails at nbclient's per-cell timeout, four times the unit's budget.
"""

from __future__ import annotations

import json
import os
import time

import nbformat
import pytest
from nbclient import NotebookClient

from benchmarks.bench_notebooks import budget

from .conftest import ROOT, source_notebook, unit_names

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("unit", unit_names())
def test_solution_notebook_runs_cleanly(unit: str) -> None:
    path = source_notebook(unit)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=int(4 * budget(unit)),
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start

    problems = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append(f"cell {index}: {out.ename}: {out.evalue}")
            elif out.output_type == "stream" and out.name == "stderr":
                problems.append(f"cell {index} wrote to stderr: {out.text.strip()[:300]}")
    assert not problems, f"{unit} does not run cleanly:\n" + "\n".join(problems)

    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    record = artifacts / f"notebook-time-{unit}.json"
    record.write_text(
        json.dumps(
            {
                "unit": unit,
                "seconds": round(elapsed, 2),
                "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
            }
        )
    )
