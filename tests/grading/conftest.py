"""Fixtures of the grading tests.

* Every test runs with ``DLGRADE_STATE_DIR`` / ``DLGRADE_RELEASE_DIR`` pointing into its own
  temporary folder, so no test can write to the real ``grading/`` state or ``course/``.
* :func:`shared_run` computes an expensive result (an nbgrader autograde run) once per pytest
  session, even when pytest-xdist spreads the tests that need it over several workers.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from grading_harness import TOY_SOURCE

try:
    import fcntl
except ImportError:  # Windows: no cross-worker lock, at worst the work is done twice
    fcntl = None


@pytest.fixture(autouse=True)
def _isolated_grading_state(tmp_path, monkeypatch):
    monkeypatch.setenv("DLGRADE_STATE_DIR", str(tmp_path / "isolated-state"))
    monkeypatch.setenv("DLGRADE_RELEASE_DIR", str(tmp_path / "isolated-release"))


@pytest.fixture(scope="session")
def shared_tmp(tmp_path_factory) -> Path:
    """A temporary folder shared by all xdist workers of this session."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def shared_run(shared_tmp) -> Callable[[str, Callable[[Path], dict]], dict]:
    """``shared_run(key, produce)``: ``produce(folder)`` once per session, its JSON result
    returned to every caller (``folder`` stays available to read files from)."""

    def run(key: str, produce: Callable[[Path], dict]) -> dict:
        folder, result = shared_tmp / key, shared_tmp / key / "result.json"
        with open(shared_tmp / f"{key}.lock", "w") as lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
            if not result.exists():
                shutil.rmtree(folder, ignore_errors=True)  # a failed earlier attempt
                folder.mkdir(parents=True)
                data = produce(folder)
                data["folder"] = str(folder)
                result.write_text(json.dumps(data))
            return json.loads(result.read_text())

    return run


@pytest.fixture
def toy_source_dir(tmp_path) -> Path:
    """A source folder holding one unit, ``toy``, copied from the fixture."""
    unit = tmp_path / "source" / "toy"
    unit.mkdir(parents=True)
    shutil.copy(TOY_SOURCE, unit / "toy.ipynb")
    return unit.parent
