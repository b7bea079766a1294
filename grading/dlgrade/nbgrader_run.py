"""Run nbgrader as a subprocess, strictly.

Every nbgrader command runs as ``python -m nbgrader ...`` with this interpreter, from the folder
holding ``nbgrader_config.py`` (nbgrader reads its config from the working directory), and with:

* ``TRAITLETS_APPLICATION_RAISE_CONFIG_FILE_ERROR=1``: by default nbgrader *logs* an exception
  raised by ``nbgrader_config.py`` and goes on with its defaults (wrong folders, 30 s timeouts,
  none of our preprocessors), exiting 0.  Strict, it exits non-zero; we then load the file
  ourselves to say what is wrong with it.
* the resolved ``DLGRADE_*`` folders as absolute paths, so the config (run in another working
  directory) sees the same layout as the CLI;
* this interpreter's ``bin/`` first on ``PATH``: nbgrader's ``Gradebook`` runs the ``alembic``
  executable when it creates a gradebook, which fails when the virtualenv is not activated.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import traceback
from pathlib import Path

from dlgrade.errors import DlgradeError
from dlgrade.paths import (
    ENV_CONFIG_DIR,
    ENV_DB_URL,
    ENV_RELEASE_DIR,
    ENV_SOURCE_DIR,
    ENV_STATE_DIR,
    Layout,
)

STRICT_CONFIG_ENV = "TRAITLETS_APPLICATION_RAISE_CONFIG_FILE_ERROR"


def nbgrader_env(layout: Layout) -> dict[str, str]:
    """The environment of an nbgrader subprocess (see the module docstring)."""
    env = dict(os.environ)
    env[STRICT_CONFIG_ENV] = "1"
    env[ENV_CONFIG_DIR] = str(layout.config_dir)
    env[ENV_SOURCE_DIR] = str(layout.source)
    env[ENV_RELEASE_DIR] = str(layout.release)
    env[ENV_STATE_DIR] = str(layout.state)
    env[ENV_DB_URL] = layout.database_url
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_module(
    module: str, args: list[str], layout: Layout, capture: bool = False
) -> subprocess.CompletedProcess:
    """Run ``python -m module args`` the strict way; raise if the config file is broken.

    Returns the finished process (its return code is the caller's to judge).  With
    ``capture`` its stdout and stderr are returned instead of shown.
    """
    if not layout.config_file.is_file():
        raise DlgradeError(
            f"no nbgrader config: expected {layout.config_file} "
            f"(set {ENV_CONFIG_DIR} to the folder holding nbgrader_config.py)"
        )
    layout.state.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", module, *args]
    print(f"dlgrade: running {module} {shlex.join(args)}", file=sys.stderr, flush=True)
    proc = subprocess.run(
        cmd,
        cwd=layout.config_dir,
        env=nbgrader_env(layout),
        text=True,
        capture_output=capture,
        check=False,
    )
    if proc.returncode != 0:
        problem = config_problem(layout)
        if problem:
            raise DlgradeError(problem)
    return proc


def run_nbgrader(
    args: list[str], layout: Layout, capture: bool = False
) -> subprocess.CompletedProcess:
    """Run ``nbgrader args`` (see :func:`run_module`)."""
    return run_module("nbgrader", args, layout, capture=capture)


def config_problem(layout: Layout) -> str | None:
    """Load ``nbgrader_config.py`` as nbgrader does; describe its exception, if it raises one."""
    from traitlets.config.loader import PyFileConfigLoader

    env = nbgrader_env(layout)
    saved = dict(os.environ)
    os.environ.update(env)  # the config reads DLGRADE_* exactly as the subprocess saw them
    try:
        PyFileConfigLoader(layout.config_file.name, path=str(layout.config_dir)).load_config()
    except Exception as exc:  # any exception raised by the file is the problem to report
        frames = [
            f
            for f in traceback.extract_tb(exc.__traceback__)
            if Path(f.filename) == layout.config_file
        ]
        where = f", line {frames[-1].lineno}" if frames else ""
        return (
            f"the nbgrader config {layout.config_file}{where} failed to load: "
            f"{type(exc).__name__}: {exc}. nbgrader would have carried on with its defaults "
            "(wrong folders, no hardening); fix the file and run the command again"
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return None
