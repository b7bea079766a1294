"""Shared fixtures: hypothesis profiles, an optional torch, a seeded rng and the devices."""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# HYPOTHESIS_PROFILE=dev for more, random examples while writing code; ci (the default) is
# derandomized and has no deadline, so a slow shared runner never fails a test by timing.
settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@functools.cache
def devices() -> list[str]:
    """``["cpu"]``, plus ``"cuda"`` when torch sees a GPU: the devices parity tests run on."""
    try:
        import torch
    except ImportError:
        return ["cpu"]
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # torch is imported only when a collected test asks for a device
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", devices())


# Modules whose tests share one expensive session result (tests/grading/conftest.py's
# shared_run, the browser tier's JupyterLab and Chromium): `make test` runs with
# `--dist loadgroup`, which gives a group's tests to one pytest-xdist worker, so the other
# worker never waits on the first one's lock (measured: the adversarial corpus kept a worker
# idle for about 3 minutes).
GROUPS = {
    "tests/e2e/": "browser",
    "tests/grading/test_adversarial.py": "adversarial",
    "tests/grading/test_grade_command.py": "grade-command",
    "tests/grading/test_hardening.py": "hardening",
    "tests/grading/test_execute_limits.py": "execute-limits",
    "tests/grading/test_harness_selftest.py": "harness-selftest",
    "tests/grading/test_postgres_gradebook.py": "postgres",
    "tests/grading/test_dask_grading.py": "dask",
    "tests/grading/test_jupyterhub.py": "jupyterhub",
}

# Expected seconds of the long tests and groups, from `--durations` of a full run: the longest
# are handed out first, so neither worker is left alone with a long test at the end.
GROUP_SECONDS = {
    "browser": 900,
    "adversarial": 220,
    "grade-command": 110,
    "hardening": 40,
    "execute-limits": 40,
    "harness-selftest": 60,
    "postgres": 160,
    "dask": 90,
    "jupyterhub": 90,
}
TEST_SECONDS = {
    "tests/benchmarks/test_bench_grading.py": 60,
    "tests/grading/test_drift.py::test_course_matches_generated_release": 60,
    "tests/grading/test_workflow.py": 45,
}


@functools.cache
def _budgets() -> dict[str, float]:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "grading" / "budgets.json"
    try:
        return json.loads(path.read_text())["seconds"]
    except (OSError, ValueError, KeyError):
        return {}


def expected_seconds(item: pytest.Item) -> float:
    """A rough cost of ``item``, enough to order the suite longest first."""
    nodeid = item.nodeid
    for prefix, group in GROUPS.items():
        if nodeid.startswith(prefix):
            return GROUP_SECONDS[group]
    for prefix, seconds in TEST_SECONDS.items():
        if nodeid.startswith(prefix):
            return seconds
    params = getattr(getattr(item, "callspec", None), "params", {})
    unit = params.get("unit", params.get("unit_name"))
    budget = _budgets().get(unit, 0.0) if isinstance(unit, str) else 0.0
    if "test_roundtrip.py::test_round_trip[" in nodeid:
        return 10 + 5 * budget  # solution, blank, two mutant students: four notebook runs
    if any(name in nodeid for name in UNIT_RUNS):
        return 2 + budget
    return 0.0


# Tests that run a unit's notebook (or its test cells) once: about the unit's budget.
UNIT_RUNS = (
    "test_execute.py::",
    "test_run_single_exercise.py::",
    "test_hint_cases.py::",
    "test_automutate.py::test_stored_verdicts_reproduce",
    "test_roundtrip.py::test_further_mutants",
)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `-m "not torch"` deselects everything that needs torch
    for item in items:
        if "torch" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.torch)
        for prefix, group in GROUPS.items():
            if item.nodeid.startswith(prefix):
                item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: -expected_seconds(item))  # stable: ties keep their order


@pytest.fixture
def torch():
    """The torch module; the test is skipped cleanly where torch is not installed."""
    module = pytest.importorskip("torch")
    module.set_num_threads(1)  # pytest-xdist already uses every core
    return module


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed: every test sees the same numbers every run."""
    return np.random.default_rng(20240531)
