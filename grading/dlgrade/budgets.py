"""How long one submission may run: ``dlgrade grade --budget-seconds`` and its defaults.

``dlgrade grade`` gives the executor (:mod:`dlgrade.execute`) a wall-clock budget for each
submission's whole notebook, and the most cells a submission may have, through two
environment variables (next to the ``DLGRADE_SANDBOX_*`` ones):

    DLGRADE_SUBMISSION_SECONDS  wall-clock seconds for one submission's notebook(s)
    DLGRADE_MAX_CELLS           most cells one notebook may have

Without ``--budget-seconds`` the budget of a unit is :data:`FACTOR` times the measured run
time of its solution notebook, at least :data:`FLOOR_SECONDS`; a unit that was never
measured gets :data:`UNMEASURED_SECONDS`.  Measured times live in ``grading/budgets.json``;
``python -m dlgrade.budgets measure [UNIT ...]`` runs each solution notebook once (one
BLAS thread, as in the sandbox) and records its time there.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ENV_SUBMISSION_SECONDS = "DLGRADE_SUBMISSION_SECONDS"
ENV_MAX_CELLS = "DLGRADE_MAX_CELLS"
FACTOR = 10
FLOOR_SECONDS = 120
UNMEASURED_SECONDS = 1800
BUDGETS_FILE = Path(__file__).resolve().parents[1] / "budgets.json"
_ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def measured(path: Path = BUDGETS_FILE) -> dict[str, float]:
    """``{unit: seconds}`` of the solution runs recorded in ``path`` ({} when none)."""
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text()).get("seconds", {}))


def budget_for(unit: str, path: Path = BUDGETS_FILE) -> int:
    """Default wall-clock budget of one submission of ``unit``, in whole seconds."""
    seconds = measured(path).get(unit)
    if seconds is None:
        return UNMEASURED_SECONDS
    return max(FLOOR_SECONDS, math.ceil(seconds * FACTOR))


def measure_unit(source_unit: Path, timeout: int = 1800) -> float:
    """Seconds one run of the unit's solution notebook(s) takes (in a copy of its folder)."""
    import nbformat
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix="dlgrade-budget-") as tmp:
        work = Path(tmp) / source_unit.name
        shutil.copytree(source_unit, work)
        start = time.monotonic()
        for path in sorted(work.glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(
                nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": work}}
            )
            client.execute()
        return time.monotonic() - start


def record(units: list[str], path: Path = BUDGETS_FILE, say=print) -> dict[str, float]:
    """Measure ``units`` one after the other and merge their times into ``path``."""
    from dlgrade.paths import Layout

    layout = Layout.from_env()
    units = [layout.require_unit(u) for u in units] or layout.units()
    os.environ.update(dict.fromkeys(_ONE_THREAD, "1"))  # inherited by the kernels
    os.environ.setdefault("MPLBACKEND", "agg")  # as dlgrade grade: figures not drawn
    data = json.loads(path.read_text()) if path.is_file() else {}
    seconds = dict(data.get("seconds", {}))
    for unit in units:
        try:
            seconds[unit] = round(measure_unit(layout.source / unit), 1)
        except Exception as exc:  # one broken unit does not lose the others' times
            say(f"{unit}: not measured ({type(exc).__name__}: {str(exc)[:300]})")
            continue
        budget = max(FLOOR_SECONDS, math.ceil(seconds[unit] * FACTOR))
        say(f"{unit}: {seconds[unit]} s (budget {budget} s)")
    data = {
        "note": "seconds of one run of each solution notebook (python -m dlgrade.budgets "
        "measure); dlgrade grade's default budget is FACTOR x this, at least FLOOR_SECONDS",
        "seconds": dict(sorted(seconds.items())),
    }
    path.write_text(json.dumps(data, indent=1) + "\n")
    return seconds


def main(argv: list[str] | None = None) -> int:
    """``python -m dlgrade.budgets measure [UNIT ...]``."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "measure":
        print("usage: python -m dlgrade.budgets measure [UNIT ...]", file=sys.stderr)
        return 2
    record(args[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
