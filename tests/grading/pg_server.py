"""A throwaway PostgreSQL server for the gradebook tests (test_postgres_gradebook.py).

:class:`PostgresServer` runs Debian's PostgreSQL binaries (``apt-get install postgresql``
puts them in ``/usr/lib/postgresql/<version>/bin``, not on ``PATH``; :func:`find_bin_dir`
looks there and on ``PATH``): ``initdb`` a cluster in a fresh temporary folder with trust
authentication, ``pg_ctl start`` it listening on 127.0.0.1 only, on a free port, with its
unix socket in that folder too, and ``pg_ctl stop -m fast`` plus removing the folder at the
end.  PostgreSQL refuses to run as root, so as root the cluster belongs to, and the server
runs as, the unprivileged ``nobody`` user; as anyone else it runs as the current user.

:meth:`PostgresServer.create_database` gives each test a database of its own, as a
SQLAlchemy URL for the ``psycopg`` (version 3) driver.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

INSTALL_HINT = "apt-get install postgresql"
_SUPERUSER = "postgres"
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (the newest Debian version first)."""

    def version(path: str) -> tuple[int, ...]:
        found = re.search(r"/postgresql/([\d.]+)/bin", path)
        return tuple(int(n) for n in found.group(1).split(".") if n) if found else (0,)

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for folder in candidates:
        if all(os.access(Path(folder) / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return Path(folder)
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder; :meth:`start`, then :meth:`stop`."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = 0
        self.folder: Path | None = None
        self._running = False
        self._databases = 0
        self._user = pwd.getpwnam("nobody") if os.geteuid() == 0 else None

    @property
    def data(self) -> Path:
        assert self.folder is not None, "start() the server first"
        return self.folder / "data"

    def _demote(self) -> None:  # preexec_fn: drop root before exec'ing a PostgreSQL tool
        os.setgroups([])
        os.setgid(self._user.pw_gid)
        os.setuid(self._user.pw_uid)

    def _run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        if self._user is not None:
            env["HOME"] = str(self.folder)
        proc = subprocess.run(
            [str(self.bin_dir / tool), *args],
            cwd=self.folder,
            env=env,
            preexec_fn=self._demote if self._user is not None else None,
            text=True,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise RuntimeError(
                f"{tool} {' '.join(args)} exited with {proc.returncode}:\n"
                f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}\n{tail}"
            )
        return proc

    def start(self) -> PostgresServer:
        """initdb a cluster and start the server; on failure, nothing is left running."""
        # tempfile's own folder (not pytest's tmp_path): its parents must be traversable
        # by the unprivileged server user
        self.folder = Path(tempfile.mkdtemp(prefix="dlgrade-pg-"))
        if self._user is not None:
            os.chown(self.folder, self._user.pw_uid, self._user.pw_gid)
        atexit.register(self.stop)  # even when the test session is interrupted
        try:
            self._run(
                "initdb",
                "--pgdata",
                str(self.data),
                "--username",
                _SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-sync",
            )
            self.port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self.folder} -c fsync=off "
                "-c max_connections=50"
            )
            self._running = True
            self._run(
                "pg_ctl",
                "--pgdata",
                str(self.data),
                "--log",
                str(self.folder / "server.log"),
                "--options",
                options,
                "--wait",
                "--timeout",
                "60",
                "start",
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are cut) and remove its folder."""
        if self.folder is None:
            return
        try:
            if self._running and (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "--pgdata", str(self.data), "--mode", "fast", "stop")
        finally:
            self._running = False
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server (psycopg 3 driver)."""
        return f"postgresql+psycopg://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (``name`` or a fresh one); its SQLAlchemy URL."""
        import psycopg

        self._databases += 1
        name = name or f"gradebook_{self._databases}"
        if not _DB_NAME.match(name):
            raise ValueError(f"database name {name!r}: expected lower-case letters, digits, _")
        dsn = f"host=127.0.0.1 port={self.port} user={_SUPERUSER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}")
        return self.url(name)
