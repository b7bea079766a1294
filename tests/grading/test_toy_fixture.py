"""The toy fixture: committed file up to date with its builder, and following the conventions."""

from __future__ import annotations

import sys

import nbformat
from grading_harness import TESTS_DIR, TOY_SOURCE, inspect_unit

sys.path.insert(0, str(TESTS_DIR / "fixtures"))
from build_toy import build_toy  # noqa: E402


def test_committed_toy_matches_its_builder():
    assert nbformat.read(TOY_SOURCE, as_version=4) == build_toy(), (
        "run: .venv/bin/python tests/grading/fixtures/build_toy.py"
    )


def test_toy_follows_the_conventions(toy_source_dir):
    spec = inspect_unit(toy_source_dir / "toy")
    assert spec.problems == []
    assert spec.answers == ["relu", "mse"]
    assert spec.tests == {"relu": ["test_relu"], "mse": ["test_mse", "test_mse__symmetric"]}
    assert "widgets" not in nbformat.read(TOY_SOURCE, as_version=4).metadata
