"""Browser end to end: a real JupyterLab (and formgrader) driven by Debian's Chromium.

Every test here is marked ``browser`` and ``slow``. The whole course is one test item (a
subtest per unit), so under ``make test`` (``pytest -n 2``) one worker starts one JupyterLab
for all units; the formgrader test has its own server (the instructor's configuration) and
may run on the other worker. ``-m "not browser"`` deselects the tier; otherwise a missing
Chromium is a failure that says how to install it, never a silent skip.

The servers get fresh ``JUPYTER_CONFIG_DIR``/``JUPYTER_DATA_DIR``/``JUPYTER_RUNTIME_DIR``
folders, so nothing of the developer's own Jupyter set-up (settings, workspaces, extensions
installed per user) takes part, and are killed on teardown with their kernels.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COURSE, SOLUTIONS = ROOT / "course", ROOT / "solutions"
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = Path(os.environ.get("DLKIT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:  # every test of this folder, also one a later author forgets to mark
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


# -- waiting ---------------------------------------------------------------------------------


def wait_until(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.25
) -> Any:
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # a page mid-reload, a server not yet listening
            last_error = exc
        if time.monotonic() > deadline:
            detail = f" (last error: {type(last_error).__name__}: {last_error})" * bool(last_error)
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(interval)


def wait_until_stable(
    sample: Callable[[], Any], timeout: float, what: str, interval: float = 0.3
) -> Any:
    """Poll ``sample`` until two consecutive samples are equal (and not None); return it."""
    previous: list[Any] = [None]

    def settled() -> Any:
        current = sample()
        same = current is not None and current == previous[0]
        previous[0] = current
        return current if same else None

    return wait_until(settled, timeout, what, interval)


# -- a Jupyter server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running Jupyter server: its base URL, token and process."""

    url: str
    token: str
    process: subprocess.Popen
    log: Path

    def api(self, path: str) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def delete(self, path: str) -> None:
        request = urllib.request.Request(
            f"{self.url}{path}", method="DELETE", headers={"Authorization": f"token {self.token}"}
        )
        urllib.request.urlopen(request, timeout=30).close()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def start_server(
    args: list[str], *, cwd: Path, home: Path, env: dict[str, str] | None = None
) -> Server:
    """``jupyter <args>`` on 127.0.0.1 with a token, fresh Jupyter folders, waited for."""
    port, token = free_port(), secrets.token_hex(16)
    folders = {}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        folders[name] = str(home / name.lower())
        Path(folders[name]).mkdir(parents=True, exist_ok=True)
    # no "get notified about Jupyter news?" pop-up over the screenshots, no fetch of the news
    news = Path(folders["JUPYTER_CONFIG_DIR"], "lab", "user-settings", "@jupyterlab",
                "apputils-extension", "notification.jupyterlab-settings")  # fmt: skip
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text(json.dumps({"fetchNews": "false"}))
    environ = {**os.environ, **folders, **(env or {})}
    environ.pop("DLKIT_STATIC", None)  # the kernels must show live widgets
    environ.pop("JUPYTER_PATH", None)
    environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + environ.get("PATH", "")
    jupyter = Path(sys.executable).parent / "jupyter"
    command = [
        str(jupyter),
        *args,
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.allow_root=True",
    ]
    log = home / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: teardown kills kernels too
        )
    server = Server(f"http://127.0.0.1:{port}", token, process, log)

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(
                f"jupyter {args[0]} exited with {process.returncode} before answering:\n"
                + server.log_tail()
            )
        return "started" in server.api("/api/status")

    wait_until(answers, 120, f"jupyter {args[0]} to answer /api/status")
    return server


def stop_server(server: Server) -> None:
    """Shut the server down (its kernels with it); kill its process group if it lingers."""
    if server.process.poll() is None:
        try:
            request = urllib.request.Request(
                f"{server.url}/api/shutdown",
                method="POST",
                headers={"Authorization": f"token {server.token}"},
            )
            urllib.request.urlopen(request, timeout=10).close()
            server.process.wait(timeout=20)
        except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(server.process.pid, signal.SIGKILL)  # leftovers of this group only
    except ProcessLookupError:
        pass
    server.process.wait(timeout=10)


# -- the course with its answers filled in ---------------------------------------------------


def units() -> list[str]:
    """Every unit of the course: the folders of course/ holding a notebook of the same name."""
    return sorted(p.parent.name for p in COURSE.glob("*/*.ipynb") if p.stem == p.parent.name)


SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def _grade_id(cell: Any) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def filled_notebook(unit: str) -> Any:
    """The student notebook of ``unit`` with every answer cell replaced by the solution's code.

    The solution's ``### BEGIN/END SOLUTION`` marker lines are removed, so the cell is exactly
    what a student who solved it would have typed; every other cell is the student's.
    """
    import nbformat

    student = nbformat.read(COURSE / unit / f"{unit}.ipynb", as_version=4)
    solution = nbformat.read(SOLUTIONS / unit / f"{unit}.ipynb", as_version=4)
    answers = {_grade_id(c): c for c in solution.cells if _grade_id(c)}
    for cell in student.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        if _grade_id(cell) not in answers:
            raise AssertionError(f"{unit}: answer cell {_grade_id(cell)!r} is not in solutions/")
        lines = answers[_grade_id(cell)].source.splitlines()
        cell.source = "\n".join(ln for ln in lines if ln.strip() not in SOLUTION_MARKERS)
    return student


def build_filled_course(target: Path) -> None:
    """A copy of course/ whose notebooks have their answers filled in (see filled_notebook)."""
    import nbformat

    shutil.copytree(COURSE, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for unit in units():
        nbformat.write(filled_notebook(unit), target / unit / f"{unit}.ipynb")


#: What `make lab` adds to the environment: nbgrader's instructor tools off (jupyter/README.md).
STUDENT_ENV = {"JUPYTER_CONFIG_PATH": str(ROOT / "jupyter" / "student")}
HINTS_DIR = "hints"


def hint_case(unit: str) -> tuple[str, str, str]:
    """The unit's first hint case (tests/notebooks/hint_cases): exercise, description, hint."""
    from tests.notebooks.test_hint_cases import load_cases

    cases = load_cases(unit)
    if not cases:
        raise AssertionError(
            f"{unit} has no hint cases (tests/notebooks/hint_cases/{unit}.py): every unit "
            "lists the mistakes its visible tests teach about"
        )
    exercise, items = next(iter(cases.items()))
    return exercise, items[0][0], items[0][2]


def build_hint_notebooks(target: Path) -> None:
    """``target/<unit>.ipynb`` per unit: the setup cell, the unit's first hint case's wrong
    answer and that exercise's visible tests, as a student who made the mistake has them."""
    import nbformat

    from tests.notebooks.test_hint_cases import cases_notebook, load_cases

    target.mkdir(parents=True, exist_ok=True)
    for unit in units():
        if not load_cases(unit):
            continue  # test_student_view fails for this unit, saying so
        exercise, description, _ = hint_case(unit)
        case = next(c for c in load_cases(unit)[exercise] if c[0] == description)
        nb, _ = cases_notebook(unit, {exercise: [case]})
        nbformat.write(nb, target / f"{unit}.ipynb")


# -- fixtures ------------------------------------------------------------------------------------


def require_chromium() -> None:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}, and the browser tests need it: install "
            "it with `sudo apt-get install -y chromium` (Debian/Ubuntu; `make test` and "
            ".ci/run do this when they can), point DLKIT_CHROMIUM at another Chromium, or "
            'deselect these tests with -m "not browser"',
            pytrace=False,
        )
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.fail(
            "the browser tests need Playwright: .venv/bin/pip install -e '.[test]'",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """JupyterLab as `make lab` starts it (the student configuration of jupyter/student),
    serving a copy of course/ with the answers filled in, and the hint notebooks."""
    require_chromium()  # fail fast, before a server is started for nothing
    home = tmp_path_factory.mktemp("lab")
    root = home / "course"
    build_filled_course(root)
    build_hint_notebooks(root / HINTS_DIR)
    server = start_server(
        ["lab", f"--ServerApp.root_dir={root}"], cwd=ROOT, home=home, env=STUDENT_ENV
    )
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def formgrader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The instructor's server as grading/README.md starts it, its gradebook in a temp folder."""
    require_chromium()
    home = tmp_path_factory.mktemp("formgrader")
    state = home / "state"
    state.mkdir()  # as dlgrade does before it runs nbgrader: nbgrader will not create it
    env = {
        "DLGRADE_STATE_DIR": str(state),
        "TRAITLETS_APPLICATION_RAISE_CONFIG_FILE_ERROR": "1",
    }
    server = start_server(
        ["lab", f"--ServerApp.root_dir={ROOT}"], cwd=ROOT / "grading", home=home, env=env
    )
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
