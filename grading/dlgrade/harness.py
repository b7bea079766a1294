"""The grader process: test cells run here, never in the student's kernel.

``dlgrade``'s executor (:mod:`dlgrade.execute`) runs a submission with two processes:

* the **student's kernel** (sandboxed by ``dlgrade grade``) runs the student's cells, the
  narrative cells and the setup cell, with a dlkit whose references of the graded unit are
  redacted (:mod:`dlgrade.redact`);
* the **grader process** (this module) runs the setup cell too, then every test cell. It holds
  the real dlkit and the hidden tests and never runs a line of student code: a name the test
  cell does not define itself (``sigmoid``, ``Value``) is looked up in the kernel and arrives
  as plain data or as a :class:`dlkit.testing.remote.Proxy` (see that module for the wire).

For each test cell the executor asks the kernel to :func:`~dlkit.testing.remote.serve` (an
ordinary execute request, so interrupts and time limits work as for any cell) and this process
to run the cell; the verdict is whether *this process's* ``exec`` of the cell raised. The
outputs written into the autograded notebook (the check's message, the points nbgrader derives
from them) are this process's: nothing the kernel prints, replies or signs can turn a failure
into a pass.

A grader process is forked from a server (``python -m dlgrade.harness``, one per nbgrader
process, killed with it) that imported NumPy, dlkit and matplotlib once, so one per
submission costs a fork, not the imports.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import importlib.util
import io
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

PRELOAD = [
    "numpy",
    "dlkit",
    "dlkit.testing",
    "dlkit.testing.remote",
    "dlkit.functional",
    "dlkit.autograd",
    "dlkit.nn",
    "dlkit.data",
    "dlkit.viz",
    "matplotlib",
    "matplotlib.pyplot",
]
MAX_OUTPUT_CHARS = 200_000  # what one test cell may print into the autograded notebook
ACCEPT_SECONDS = 60.0  # how long a test cell waits for the kernel's agent to connect
GRACE_SECONDS = 10.0  # after an interrupt, before the grader process is killed

_SERVER: dict = {}


def _server_socket() -> str:
    """The control socket of this process's grader server, started on first use.

    The server (``python -m dlgrade.harness SOCKET``) imports :data:`PRELOAD` once, then forks
    one grader process per connection; it dies with this process."""
    proc = _SERVER.get("process")
    if proc is not None and proc.poll() is None:
        return _SERVER["path"]
    folder = tempfile.mkdtemp(prefix="dlg-s-")
    path = os.path.join(folder, "s.sock")
    env = dict(os.environ, MPLBACKEND="agg", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dlgrade.harness", path, str(os.getpid())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    line = proc.stdout.readline().strip() if proc.stdout is not None else ""
    if line != "ready":
        proc.kill()
        raise RuntimeError(f"the grader server did not start (it said {line!r})")
    _SERVER.update(process=proc, path=path, folder=folder)
    return path


def _serve_graders(path: str, parent: int) -> None:
    """The grader server: import once, then fork a grader for every connection to ``path``."""
    import ctypes

    from dlgrade.workers import _die_with_parent

    def stop(*_):  # the parent died (or asked): remove the socket's folder, then exit
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    if ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM) != 0:  # PR_SET_PDEATHSIG
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before the call
        stop()
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].use("agg")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    print("ready", flush=True)
    server = os.getpid()
    while True:
        conn, _ = listener.accept()
        pid = os.fork()
        if pid:
            conn.close()
            continue
        code = 0
        try:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the folder is the server's
            _die_with_parent(server)
            control = Connection(conn.detach())
            socket_path, uid = control.recv()
            control.send(os.getpid())
            _grader_main(control, socket_path, uid)
        except BaseException:
            code = 1
        finally:
            os._exit(code)


# --- inside the grader process --------------------------------------------------------------
def _policy():
    """What the student's code may do with grader objects a test hands it: call callables, and
    use the public attributes of random generators and of instances of dlkit's classes
    (autograd values, hyperparameters, search spaces)."""
    import numpy as np

    from dlkit.testing.remote import Policy

    return Policy(
        permissive=False,
        attribute_types=(np.random.Generator, np.random.RandomState),
        attribute_packages=("dlkit",),
    )


class GraderNamespace(dict):
    """The globals of the test cells: the grader's own names, then the student's kernel.

    A name the grader cells bound is always the grader's (``np``, ``F``, ``assert_close``);
    builtins are never looked up remotely; a name that is an importable module is refused
    (a test must import what it uses, or the student's ``math`` would answer for it). Any other
    name is fetched from the kernel on every lookup, so a test sees the student's current
    definition. :meth:`substitute` is what :func:`dlkit.testing.using` does here."""

    def __init__(self):
        super().__init__(__name__="__main__", __builtins__=builtins)
        self.peer = None

    def __missing__(self, name: str) -> Any:
        if name in builtins.__dict__ or name.startswith("__"):
            raise KeyError(name)
        if name in sys.modules or _importable(name):
            raise KeyError(name)
        if self.peer is None:
            raise KeyError(name)
        from dlkit.testing.remote import RemoteError

        try:
            return self.peer.request("global", name=name)
        except RemoteError as exc:
            if exc.ename == "NameError":
                raise KeyError(name) from None
            raise

    def kernel_module(self, name: str) -> Any:
        """A proxy of the kernel's module ``name`` (imported there if it was not): what
        :func:`dlkit.testing.kernel_module` returns while a unit is graded."""
        if self.peer is None:
            raise RuntimeError(f"no student kernel is connected to import {name!r} in")
        return self.peer.request("import", name=name)

    @contextlib.contextmanager
    def substitute(self, **replacements: Any):
        """Bind ``replacements`` here and in the kernel's globals for the ``with`` block (the
        kernel receives each value as a callable handle into this process)."""
        missing = object()
        saved = {name: dict.get(self, name, missing) for name in replacements}
        dict.update(self, replacements)
        tokens = []
        try:
            if self.peer is not None:
                for name, value in replacements.items():
                    tokens.append(self.peer.request("swap", (value,), name=name))
            yield
        finally:
            for token in reversed(tokens):
                with contextlib.suppress(Exception):
                    self.peer.request("unswap", token=token)
            for name, value in saved.items():
                if value is missing:
                    dict.pop(self, name, None)
                else:
                    dict.__setitem__(self, name, value)


@functools.lru_cache(maxsize=4096)
def _importable(name: str) -> bool:
    """Whether ``name`` is a top-level module the grader could import (asked once per name)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


class _Capped(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters written to it."""

    def __init__(self, limit: int):
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(len(text), room)
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def text(self) -> str:
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n[dlgrade: {self.dropped} more characters of output were cut]\n"
        return out


def _error_output(exc: BaseException) -> dict:
    """The error output of a failed test cell: the message and, for an exception raised in
    the student's code, the student's own frames (never the grader's: hidden tests)."""
    from dlkit.testing.remote import RemoteError

    if isinstance(exc, RemoteError) and exc.ename == "KeyboardInterrupt":
        ename, evalue = "CellTimeoutError", "the code under test ran out of time and was stopped"
        frames = list(exc.remote_traceback)
    elif isinstance(exc, RemoteError):
        ename, evalue, frames = exc.ename, exc.evalue, list(exc.remote_traceback)
    elif isinstance(exc, KeyboardInterrupt):
        ename, evalue, frames = "TimeoutError", "the test ran out of time", []
    else:
        ename = type(exc).__name__
        try:
            evalue = str(exc)
        except Exception:
            evalue = "(the message could not be shown)"
        frames = []
    evalue = evalue[:20_000]
    return {
        "output_type": "error",
        "ename": ename,
        "evalue": evalue,
        "traceback": [*frames, f"{ename}: {evalue}"],
    }


class _Session:
    """The grader process's state: one namespace for all the notebook's grader cells."""

    def __init__(self, control, listener: socket.socket):
        self.control = control
        self.listener = listener
        self.ns = GraderNamespace()

    def run(self, kind: str, source: str, name: str) -> dict:
        out = _Capped(MAX_OUTPUT_CHARS)
        error = None
        peer = None
        try:
            code = compile(source, f"<grader cell {name}>", "exec")
            if kind == "test":
                peer = self._connect()
                self.ns.peer = peer
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                exec(code, self.ns)
        except BaseException as exc:  # the verdict: anything raised is a failure
            error = _error_output(exc)
        finally:
            self.ns.peer = None
            if peer is not None:
                with contextlib.suppress(Exception):
                    peer.send({"op": "bye", "rid": 0}, [])
                peer.forget()
                with contextlib.suppress(OSError):
                    peer.sock.close()
        outputs = []
        text = out.text()
        if text:
            outputs.append({"output_type": "stream", "name": "stdout", "text": text})
        if error is not None:
            outputs.append(error)
        return {"passed": error is None, "outputs": outputs}

    def _connect(self):
        from dlkit.testing.remote import Peer

        deadline = time.monotonic() + ACCEPT_SECONDS
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConnectionError("the student's kernel did not answer the tests")
            ready, _, _ = select.select([self.listener, self.control], [], [], left)
            if self.listener in ready:
                conn, _ = self.listener.accept()
                conn.setblocking(True)
                return Peer(conn, "g", _policy())
            if self.control in ready:
                msg = self.control.recv()
                if msg == "abort":
                    raise ConnectionError(
                        "the student's kernel stopped before the tests could reach it "
                        "(it crashed, ran out of time, or its test agent was broken)"
                    )


def _grader_main(control, path: str, uid: int | None) -> None:
    """The grader process: listen at ``path`` and run the cells sent over ``control``."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ["MPLBACKEND"] = "agg"
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].use("agg")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o777)
    if uid is not None:
        with contextlib.suppress(OSError):
            os.chown(path, uid, uid)
    listener.listen(4)
    session = _Session(control, listener)
    control.send("ready")
    while True:
        try:
            msg = control.recv()
        except (EOFError, OSError):
            break
        if msg == "abort":
            continue
        if msg is None or msg == "stop":
            break
        kind, source, name = msg
        try:
            result = session.run(kind, source, name)
        except BaseException as exc:  # an interrupt outside the cell itself
            result = {"passed": False, "outputs": [_error_output(exc)]}
        control.send(result)
    listener.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


# --- on the host (the nbgrader process) -----------------------------------------------------
@dataclass
class Grader:
    """A grader process for one notebook, driven from the executor.

    :meth:`start` sends a cell; :meth:`wait` returns its outputs, interrupting and finally
    killing the process when it runs past its time (the cell then fails). A killed process is
    replaced at the next cell, with the grader cells that ran before replayed."""

    path: str  # where the grader listens for the kernel's agent
    uid: int | None = None  # owner of the socket (the sandboxed kernel's uid)
    history: list[tuple[str, str, str]] = field(default_factory=list)
    _pid: int | None = None
    _control: Any = None

    def _alive(self) -> bool:
        if self._pid is None:
            return False
        try:
            os.kill(self._pid, 0)
        except ProcessLookupError:
            return False
        return True

    def _ensure(self) -> None:
        if self._control is not None and self._alive():
            return
        self.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(_server_socket())
        control = Connection(sock.detach())
        control.send((self.path, self.uid))
        if not control.poll(60):
            control.close()
            raise RuntimeError("the grader process did not start")
        self._pid = control.recv()
        if not control.poll(60) or control.recv() != "ready":
            control.close()
            raise RuntimeError("the grader process did not start")
        self._control = control
        for kind, source, name in self.history:  # replay the setup cells after a restart
            control.send((kind, source, name))
            self._wait(120)

    def start(self, kind: str, source: str, name: str) -> None:
        self._ensure()
        if kind == "setup":
            self.history.append((kind, source, name))
        self._control.send((kind, source, name))

    def abort(self) -> None:
        """Tell a grader waiting for the kernel's agent that it will not come."""
        if self._control is not None:
            with contextlib.suppress(OSError, BrokenPipeError):
                self._control.send("abort")

    def wait(self, timeout: float | None) -> dict:
        try:
            return self._wait(timeout)
        except TimeoutError:
            return {
                "passed": False,
                "outputs": [
                    {
                        "output_type": "error",
                        "ename": "TimeoutError",
                        "evalue": "the test did not finish in time and was stopped",
                        "traceback": [
                            "TimeoutError: the test did not finish in time and was stopped"
                        ],
                    }
                ],
                "killed": True,
            }

    def _wait(self, timeout: float | None) -> dict:
        if self._control.poll(timeout):
            return self._recv()
        with contextlib.suppress(ProcessLookupError, TypeError):
            os.kill(self._pid, signal.SIGINT)
        if self._control.poll(GRACE_SECONDS):
            return self._recv()
        self.close()
        raise TimeoutError

    def _recv(self) -> dict:
        try:
            return self._control.recv()
        except (EOFError, OSError):
            self.close()
            return {
                "passed": False,
                "outputs": [
                    {
                        "output_type": "error",
                        "ename": "GraderError",
                        "evalue": "the grader process stopped unexpectedly",
                        "traceback": ["GraderError: the grader process stopped unexpectedly"],
                    }
                ],
            }

    def close(self) -> None:
        if self._control is not None:
            with contextlib.suppress(OSError, BrokenPipeError):
                self._control.send("stop")
            self._control.close()
        if self._pid is not None:
            deadline = time.monotonic() + 2
            while self._alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
        self._pid = self._control = None


if __name__ == "__main__":  # the grader server: python -m dlgrade.harness SOCKET PARENT_PID
    _serve_graders(sys.argv[1], int(sys.argv[2]))
