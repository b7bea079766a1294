"""A throwaway JupyterHub for tests: Unix accounts, the Python they run, the Hub, its REST API.

Used by test_jupyterhub.py. Everything lives in one temporary folder under /tmp (readable by
the test's accounts, unlike pytest's own ``tmp_path``, which is private to root) and is removed
at the end, with the accounts and every process they or the Hub started.

The students' servers run as the students' own accounts (JupyterHub's LocalProcessSpawner),
so they need a Python those accounts may execute. The repository's ``.venv/bin/python`` is
used when they can; when its base interpreter is private (a pyenv under ``/root``, as on the
course's own machine), :func:`account_python` copies that interpreter into the temporary
folder and points it at the repository's ``.venv`` site-packages, so the accounts run the
same interpreter and the very same packages.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
STUDENT_CONFIG = REPO / "jupyter" / "student"
PROXY_ENV = "CONFIGPROXY_BIN"  # where configurable-http-proxy is, when not on PATH


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_proxy() -> str | None:
    """The configurable-http-proxy executable (``$CONFIGPROXY_BIN``, PATH, npm's prefixes)."""
    explicit = os.environ.get(PROXY_ENV, "").strip()
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    for prefix in (REPO / "node_modules" / ".bin", Path("/usr/local/bin")):
        candidate = prefix / "configurable-http-proxy"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval=0.25) -> Any:
    """Poll ``condition`` until it returns something truthy; raise naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # not listening yet, a server mid-start
            last = exc
        time.sleep(interval)
    detail = f" (last error: {type(last).__name__}: {last})" if last else ""
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")


# --- Unix accounts ---------------------------------------------------------------------------


@dataclass
class Accounts:
    """Unix accounts made for one test, removed (with their processes) by :meth:`remove`."""

    homes: Path
    names: list[str] = field(default_factory=list)

    def add(self, name: str) -> str:
        home = self.homes / name
        subprocess.run(
            ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/sh", name],
            check=True,
            capture_output=True,
            text=True,
        )
        self.names.append(name)
        return name

    def home(self, name: str) -> Path:
        return Path(pwd.getpwnam(name).pw_dir)

    def chown(self, path: Path, name: str) -> None:
        user = pwd.getpwnam(name)
        for item in [path, *path.rglob("*")]:
            os.chown(item, user.pw_uid, user.pw_gid, follow_symlinks=False)

    def run(
        self, name: str, command: list[str], env: dict[str, str], cwd: Path, timeout: float = 300
    ) -> subprocess.CompletedProcess:
        """``command`` as account ``name`` (runuser), with exactly ``env``."""
        env = {**env, "HOME": str(self.home(name)), "USER": name, "LOGNAME": name}
        return subprocess.run(
            ["runuser", "-u", name, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items())]
            + command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def kill_processes(self) -> None:
        """SIGKILL every process owned by these accounts (their servers, kernels), by pid."""
        uids = {pwd.getpwnam(n).pw_uid for n in self.names}
        for _ in range(3):
            victims = []
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        if entry.stat().st_uid in uids:
                            victims.append(int(entry.name))
                    except OSError:
                        pass
            if not victims:
                return
            for pid in victims:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.5)

    def remove(self) -> list[str]:
        """Kill the accounts' processes and delete the accounts; the problems, if any."""
        problems = []
        try:
            self.kill_processes()
        except KeyError as exc:  # an account already gone
            problems.append(str(exc))
        for name in reversed(self.names):
            done = subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
            if done.returncode not in (0, 6):  # 6: no such user
                still = subprocess.run(["id", name], capture_output=True).returncode == 0
                if still:
                    problems.append(f"userdel {name}: {done.stderr.strip()}")
        self.names.clear()
        return problems


# --- the Python the accounts run -----------------------------------------------------------


@dataclass
class AccountPython:
    """A Python the test's accounts can run with the repository's packages."""

    python: str
    env: dict[str, str]  # what it needs in the environment of every process (servers, kernels)
    own_venv: bool  # the .venv's own interpreter (False: a copy, see account_python)

    @property
    def bin(self) -> Path:
        return Path(self.python).parent


def _runs_as(accounts: Accounts, name: str, python: AccountPython, cwd: Path) -> bool:
    probe = "import jupyterhub.singleuser, nbgrader, dlgrade, dlkit, jupyterlab, bs4, soupsieve"
    probe += "; bs4.BeautifulSoup('<img>', 'html.parser').select('img:not([alt])')"
    env = {"PATH": "/usr/bin:/bin", **python.env}
    done = accounts.run(name, [python.python, "-c", probe], env, cwd, timeout=120)
    return done.returncode == 0


def _bridge_scripts(venv_bin: Path, bridge_bin: Path) -> None:
    """The ``.venv``'s console scripts (``alembic``, ``jupyter``, ...) for the copy: the same
    files with the copy's Python in the shebang line (nbgrader calls some by name)."""
    shebangs = [f"#!{venv_bin / name}\n".encode() for name in ("python", "python3")]
    for script in venv_bin.iterdir():
        target = bridge_bin / script.name
        if script.name.startswith("python") or script.is_symlink() or not script.is_file():
            continue
        head = script.read_bytes()
        for shebang in shebangs:
            if head.startswith(shebang):
                target.unlink(missing_ok=True)  # the base's own (its shebang is private too)
                target.write_bytes(f"#!{bridge_bin / 'python3'}\n".encode() + head[len(shebang) :])
                target.chmod(0o755)


def account_python(accounts: Accounts, name: str, work: Path) -> AccountPython:
    """A Python that account ``name`` can run with the repository's packages.

    The ``.venv``'s own when the account may run it. Otherwise (its base interpreter is
    private, e.g. a pyenv under /root) a copy of the base interpreter in ``work`` -- without
    its own site-packages and test suite, about 150 MB -- whose site-packages holds one
    ``.pth`` file that adds the ``.venv``'s site-packages, and the ``.venv``'s console scripts
    pointed at it: the same interpreter and the very same packages (a system Python of
    another patch release is not used: e.g. 3.11.2's possessive quantifiers break soupsieve).
    """
    own = AccountPython(sys.executable, {}, True)
    if _runs_as(accounts, name, own, work):
        return own
    base = Path(sys.base_prefix).resolve()
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = sysconfig.get_paths()["purelib"]
    copy = work / "python"
    shutil.copytree(
        base,
        copy,
        symlinks=True,
        ignore=lambda folder, names: [
            n
            for n in names
            if Path(folder, n) in {base / "lib" / version / d for d in ("site-packages", "test")}
        ],
    )
    (copy / "lib" / version / "site-packages").mkdir()
    (copy / "lib" / version / "site-packages" / "_repo_venv.pth").write_text(
        f"import site; site.addsitedir({site_packages!r})\n"
    )
    _bridge_scripts(Path(sys.executable).parent, copy / "bin")
    for item in [copy, *copy.rglob("*")]:
        if not item.is_symlink():
            item.chmod(item.stat().st_mode | (0o555 if item.is_dir() else 0o444))
    # its RUNPATH names the private original folder: find the copy's libpython instead
    copied = AccountPython(
        str(copy / "bin" / version), {"LD_LIBRARY_PATH": str(copy / "lib")}, False
    )
    if _runs_as(accounts, name, copied, work):
        return copied
    raise RuntimeError(
        f"the test's accounts can run neither {sys.executable} nor a copy of its base "
        f"interpreter {base} with {site_packages} added: make the repository, its .venv and "
        "the Python it was made from readable by other users"
    )


def student_image_config(dest: Path) -> Path:
    """The folder that plays the course image's /etc/jupyter on a Hub: the student settings
    of jupyter/student with nbgrader's Assignments tab and its server endpoints turned on
    (the Hub's exchange is what they are for), and nbgrader_config_hub.py as
    nbgrader_config.py."""
    shutil.copytree(STUDENT_CONFIG, dest)
    server = json.loads((dest / "jupyter_server_config.json").read_text())
    server["ServerApp"]["jpserver_extensions"]["nbgrader.server_extensions.assignment_list"] = True
    (dest / "jupyter_server_config.json").write_text(json.dumps(server, indent=2))
    page = dest / "labconfig" / "page_config.json"
    labconfig = json.loads(page.read_text())
    labconfig["disabledExtensions"]["@jupyter/nbgrader:assignment-list"] = False
    page.write_text(json.dumps(labconfig, indent=2))
    shutil.copy(
        REPO / "grading" / "examples" / "nbgrader_config_hub.py", dest / "nbgrader_config.py"
    )
    return dest


# --- the Hub ---------------------------------------------------------------------------------


class HubError(RuntimeError):
    pass


@dataclass
class Hub:
    """A JupyterHub process on 127.0.0.1 and an admin service token for its REST API."""

    url: str
    token: str
    process: subprocess.Popen
    log: Path

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        timeout: float = 60,
        raw: bool = False,
    ) -> Any:
        """``method path`` (through the proxy) with ``token``; the JSON answer (or None), or
        with ``raw`` the answer's text."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"token {token or self.token}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body_bytes = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[-2000:]
            raise HubError(f"{method} {path}: HTTP {exc.code}: {detail}") from exc
        if raw:
            return body_bytes.decode()
        return json.loads(body_bytes) if body_bytes.strip() else None

    def user_token(self, name: str) -> str:
        answer = self.request("POST", f"/hub/api/users/{name}/tokens", {"note": "test"})
        return answer["token"]

    def start_server(self, name: str, timeout: float = 180) -> None:
        self.request("POST", f"/hub/api/users/{name}/server")

        def ready() -> bool:
            if self.process.poll() is not None:
                raise HubError(f"the Hub exited with {self.process.returncode}")
            server = self.request("GET", f"/hub/api/users/{name}")["servers"].get("", {})
            return bool(server.get("ready"))

        wait_for(ready, timeout, f"{name}'s server to be ready")

    def stop(self) -> None:
        """SIGTERM (the Hub stops the servers and the proxy), then kill its process group."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


def start_hub(work: Path, example: Path, env: dict[str, str], overrides: str, proxy: str) -> Hub:
    """``jupyterhub`` (as root, which LocalProcessSpawner needs) with a config file that loads
    ``example`` and then applies ``overrides`` (Python, ``c`` is the config)."""
    hub_dir = work / "hub"
    hub_dir.mkdir()
    port, hub_port, api_port = free_port(), free_port(), free_port()
    token = secrets.token_hex(24)
    config = hub_dir / "jupyterhub_config.py"
    config.write_text(
        f"""c = get_config()  # noqa: F821
load_subconfig({str(example)!r})  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.db_url = "sqlite:///{hub_dir / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = "{hub_dir / "cookie_secret"}"
c.JupyterHub.pid_file = "{hub_dir / "jupyterhub.pid"}"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
TEST_TOKEN = {token!r}
{overrides}
"""
    )
    log = hub_dir / "hub.log"
    environ = {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(config)],
            cwd=hub_dir,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    hub = Hub(f"http://127.0.0.1:{port}", token, process, log)

    def answers() -> bool:
        if process.poll() is not None:
            raise HubError(f"jupyterhub exited with {process.returncode}:\n{hub.log_tail()}")
        return "version" in hub.request("GET", "/hub/api/", timeout=5)

    try:
        wait_for(answers, 120, "the Hub's REST API")
    except Exception:
        hub.stop()
        raise
    return hub
