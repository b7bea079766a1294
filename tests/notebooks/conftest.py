"""The course's notebooks, found on disk (so a new unit is tested without editing a list)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
COURSE = ROOT / "course"


def unit_names() -> list[str]:
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and not p.name.startswith("."))


def source_notebook(unit: str) -> Path:
    return SOLUTIONS / unit / f"{unit}.ipynb"
