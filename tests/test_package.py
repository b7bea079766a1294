"""dlkit/__init__.py: lazy submodules and the device report."""

from __future__ import annotations

import importlib

import pytest

import dlkit


def test_submodules_load_on_first_use():
    assert dlkit.data is importlib.import_module("dlkit.data")
    assert dlkit.functional.softmax is importlib.import_module("dlkit.functional").softmax


def test_version_agrees_with_pyproject_and_changelog():
    import re
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    latest = re.search(r"^## (\S+) ", (root / "CHANGELOG.md").read_text(), re.M).group(1)
    assert dlkit.__version__ == project == latest


def test_unknown_attribute():
    with pytest.raises(AttributeError, match=r"module 'dlkit' has no attribute 'nope'"):
        dlkit.nope  # noqa: B018


def test_device_report_lists_numpy_and_torch(torch):
    report = dlkit.device_report().splitlines()
    assert report[0].startswith("NumPy ") and report[0].endswith(": CPU")
    assert report[1].startswith(f"torch {torch.__version__}: CPU")
    assert ("no CUDA GPU" in report[1]) != torch.cuda.is_available()


def test_every_subpackage_is_installed_by_pyproject():
    """A non-editable install ships only the packages ``pyproject.toml`` lists."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    listed = set(
        tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(root).parts) for p in (root / "dlkit").rglob("__init__.py")
    }
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages"
