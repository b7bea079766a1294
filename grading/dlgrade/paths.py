"""Where the course's grading files live, with environment overrides.

One :class:`Layout` is the single source of truth for every path: ``grading/nbgrader_config.py``
builds nbgrader's ``CourseDirectory`` from it and the ``dlgrade`` CLI uses it to find units and
submissions.  Defaults follow the repository layout::

    solutions/<unit>/<unit>.ipynb     source (instructor) notebooks
    course/<unit>/<unit>.ipynb        release (student) notebooks, committed
    grading/nbgrader_config.py        nbgrader configuration (cwd of every nbgrader run)
    grading/{submitted,autograded,feedback}/, grading/gradebook.db    mutable state, git-ignored

Environment variables move the parts that tests (or an instructor trying something out) must
not write into the repository:

    DLGRADE_STATE_DIR    folder holding submitted/, autograded/, feedback/ and gradebook.db
    DLGRADE_RELEASE_DIR  folder that receives the release (default: course/)
    DLGRADE_SOURCE_DIR   folder holding the source units (default: solutions/)
    DLGRADE_CONFIG_DIR   folder holding nbgrader_config.py (default: grading/)
    DLGRADE_DB_URL       SQLAlchemy URL of the gradebook (default: sqlite:///<state>/gradebook.db;
                         e.g. postgresql://user@host/gradebook for a large course)

Relative values are taken from the current directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dlgrade.errors import DlgradeError

REPO_ROOT = Path(__file__).resolve().parents[2]
COURSE_ID = "dl-course"

ENV_STATE_DIR = "DLGRADE_STATE_DIR"
ENV_RELEASE_DIR = "DLGRADE_RELEASE_DIR"
ENV_SOURCE_DIR = "DLGRADE_SOURCE_DIR"
ENV_CONFIG_DIR = "DLGRADE_CONFIG_DIR"
ENV_DB_URL = "DLGRADE_DB_URL"

# nbgrader builds glob patterns and (partly unescaped) regular expressions from these paths.
_UNSAFE_CHARS = re.compile(r"[\[\]*?(){}+^$|\\]")
_UNIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class LayoutError(DlgradeError):
    """A configured folder or a requested unit is not usable."""


@dataclass(frozen=True)
class Layout:
    """Absolute folders of one grading setup (see the module docstring)."""

    root: Path
    config_dir: Path
    source: Path
    release: Path
    state: Path
    database_url: str = ""  # empty: the SQLite file gradebook.db in the state folder

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Layout:
        """Build the layout from the defaults, overridden by ``DLGRADE_*`` variables."""
        env = os.environ if environ is None else environ

        def pick(name: str, default: Path) -> Path:
            value = env.get(name, "").strip()
            path = Path(value).expanduser() if value else default
            return path if path.is_absolute() else (Path.cwd() / path)

        layout = cls(
            root=REPO_ROOT,
            config_dir=pick(ENV_CONFIG_DIR, REPO_ROOT / "grading").resolve(),
            source=pick(ENV_SOURCE_DIR, REPO_ROOT / "solutions").resolve(),
            release=pick(ENV_RELEASE_DIR, REPO_ROOT / "course").resolve(),
            state=pick(ENV_STATE_DIR, REPO_ROOT / "grading").resolve(),
            database_url=env.get(ENV_DB_URL, "").strip(),
        )
        layout.check_chars()
        return layout

    @property
    def submitted(self) -> Path:
        return self.state / "submitted"

    @property
    def autograded(self) -> Path:
        return self.state / "autograded"

    @property
    def feedback(self) -> Path:
        return self.state / "feedback"

    @property
    def gradebook(self) -> Path:
        return self.state / "gradebook.db"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.gradebook}"

    @property
    def config_file(self) -> Path:
        return self.config_dir / "nbgrader_config.py"

    def step(self, folder: Path) -> str:
        """``folder`` as nbgrader wants a ``*_directory`` value: relative to root when inside it."""
        try:
            return folder.relative_to(self.root).as_posix()
        except ValueError:
            return str(folder)

    def check_chars(self) -> None:
        """Refuse folders whose names nbgrader would misread as glob or regex syntax."""
        for name, folder in [
            ("repository root", self.root),
            (ENV_SOURCE_DIR, self.source),
            (ENV_RELEASE_DIR, self.release),
            (ENV_STATE_DIR, self.state),
        ]:
            bad = _UNSAFE_CHARS.search(str(folder))
            if bad:
                raise LayoutError(
                    f"{name} is {folder}: nbgrader cannot handle the character {bad.group()!r} "
                    "in paths; expected a folder whose path has no []*?(){}+^$|\\ characters"
                )

    def units(self) -> list[str]:
        """Names of the source units: folders of ``source`` holding ``<unit>.ipynb``."""
        if not self.source.is_dir():
            return []
        return sorted(
            p.name
            for p in self.source.iterdir()
            if p.is_dir() and (p / f"{p.name}.ipynb").is_file()
        )

    def require_unit(self, unit: str) -> str:
        """Return ``unit`` if the source has it, else raise a :class:`LayoutError` saying why."""
        if not _UNIT_NAME.match(unit):
            raise LayoutError(f"UNIT {unit!r} is not a unit name; expected e.g. '01_perceptron'")
        known = self.units()
        if unit not in known:
            hint = ", ".join(known) if known else "none yet"
            raise LayoutError(
                f"UNIT {unit!r} not found: expected a folder {self.source / unit} holding "
                f"{unit}.ipynb (known units: {hint})"
            )
        return unit
