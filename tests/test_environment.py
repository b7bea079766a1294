"""environment.yml (conda) and pyproject.toml (pip) list the same packages and versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _split(spec: str) -> tuple[str, str]:
    name, version = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", spec.strip()).groups()
    version = version.replace(" ", "")
    version = re.sub(r"^=(?=\d)", "==", version)  # conda's `pkg=1.0` means `pkg==1.0`
    return name.lower().replace("_", "-"), version


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in ("torch", "test"):
        specs += project["optional-dependencies"][extra]
    return dict(_split(s) for s in specs)


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for pip_spec in dep["pip"]:
                if not pip_spec.startswith("-e"):
                    specs.update([_split(pip_spec)])
        elif not dep.startswith(("python=", "pip")) or dep.startswith("pip:"):
            specs.update([_split(dep)])
    return specs


def test_environment_yml_matches_pyproject() -> None:
    pip, conda = _pyproject(), _environment()
    assert set(conda) == set(pip), (
        f"only in environment.yml: {sorted(set(conda) - set(pip))}; "
        f"only in pyproject.toml: {sorted(set(pip) - set(conda))}"
    )
    differ = {k: (pip[k], conda[k]) for k in pip if pip[k] != conda[k]}
    assert not differ, f"versions differ (pyproject, environment.yml): {differ}"


def test_torch_is_pinned_everywhere() -> None:
    assert _pyproject()["torch"] == "==2.13.0"
    assert _environment()["torch"] == "==2.13.0"
    assert (
        "torch" not in (ROOT / ".ci" / "run").read_text()
        or "2.13.0" in (ROOT / ".ci" / "run").read_text()
    )
