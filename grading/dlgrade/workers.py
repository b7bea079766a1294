"""nbgrader runs forked from a process that has already imported nbgrader.

``python -m nbgrader`` spends about 2.5 s of CPU importing before it grades anything (most of it
in ``nbformat``'s JSON-schema validator and ``jupyter_server``, pulled in by nbgrader's package
``__init__``).  ``dlgrade grade`` runs one nbgrader process per batch of students, so on a
2-core machine those imports were a tenth of a class's grading time.

Here one *fork server* per process (``python -m dlgrade.workers``: in ``dlgrade grade`` one per
Dask worker process, started when the worker joins and ended when it closes, see
:class:`dlgrade.cluster.WarmNbgrader`; elsewhere started on first use and ended with the
process) imports nbgrader, nbconvert, nbclient and the course's preprocessors once; every batch
then runs in a child forked from it.  Nothing is shared between batches: each child
is its own process, with nbgrader's application, configuration and gradebook objects created
from scratch, its own working directory, its own environment (replaced whole: exactly what
``python -m nbgrader`` would have been given) and its own log file; the student's kernel is
started by that child, in the sandbox, as before.

Protocol: one JSON request per line on the server's stdin (``id``, ``module``, ``args``,
``env``, ``cwd``, ``log``); the child runs ``python -m module args`` in-process (``runpy``);
one JSON line ``{"id": ..., "code": ...}`` comes back on the server's stdout when that child
has exited (``code`` as :attr:`subprocess.Popen.returncode`: negative for a signal).  Children
are killed if the server dies (``PR_SET_PDEATHSIG``), so a request the server did not answer
can safely run again, as a plain ``python -m`` subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path


class ForkServer:
    """The grading process's side: start the server once, send requests from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._waiting: dict[int, list] = {}  # id -> [threading.Event, exit code]
        self._next = 0

    def _start(self) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dlgrade.workers"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()
        return proc

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            reply = json.loads(line)
            with self._lock:
                slot = self._waiting.pop(reply["id"], None)
            if slot is not None:
                slot[1] = reply["code"]
                slot[0].set()
        with self._lock:  # the server is gone: nobody waits for ever
            if self._proc is proc:
                self._proc = None
            for slot in self._waiting.values():
                slot[0].set()
            self._waiting.clear()

    def warm(self) -> None:
        """Start the server now (it imports nbgrader while nothing waits for it)."""
        with self._lock:
            if self._proc is None:
                self._proc = self._start()

    def stop(self, timeout: float = 60.0) -> None:
        """End the server: it lets running children finish, then exits; wait for it (so its
        CPU time and its children's count in this process's ``RUSAGE_CHILDREN``)."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
            proc.wait(timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()

    def run(
        self, module: str, args: list[str], env: dict[str, str], cwd: Path, log: Path
    ) -> int | None:
        """Run ``python -m module args``; its exit code, or ``None`` if the server failed."""
        slot = [threading.Event(), None]
        with self._lock:
            if self._proc is None:
                self._proc = self._start()
            self._next += 1
            ident = self._next
            self._waiting[ident] = slot
            request = {"id": ident, "module": module, "args": args, "env": env}
            request.update(cwd=str(cwd), log=str(log))
            try:
                self._proc.stdin.write(json.dumps(request) + "\n")
            except OSError:
                self._waiting.pop(ident, None)
                return None
        slot[0].wait()
        return slot[1]


_SERVER = ForkServer()


def warm() -> None:
    """Start this process's fork server if it is not running (Dask workers do it on joining:
    :class:`dlgrade.cluster.WarmNbgrader`)."""
    if hasattr(os, "fork") and sys.platform.startswith("linux"):
        _SERVER.warm()


def stop() -> None:
    """End this process's fork server, if it runs (a Dask worker does it when it closes)."""
    _SERVER.stop()


def run_module(module: str, args: list[str], env: dict[str, str], cwd: Path, log: Path) -> int:
    """Run ``python -m module args`` in ``cwd`` with exactly the environment ``env``, forked
    from the warm server; its stdout and stderr go to the file ``log``.  Returns its exit
    status (negative: killed by that signal)."""
    if hasattr(os, "fork") and sys.platform.startswith("linux"):
        code = _SERVER.run(module, list(args), dict(env), cwd, log)
        if code is not None:
            return code
    with log.open("w") as out:
        cmd = [sys.executable, "-m", module, *args]
        done = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=out, check=False)
    return done.returncode


def run_nbgrader(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> int:
    """``nbgrader args`` through :func:`run_module`."""
    return run_module("nbgrader", args, env, cwd, log)


# --- the server (python -m dlgrade.workers) ------------------------------------------------------


def _serve() -> None:
    import selectors
    import signal

    import dlgrade._nbgrader_preload  # noqa: F401  (the imports every run shares)

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    stdin, stdout = sys.stdin.fileno(), sys.stdout
    selector = selectors.DefaultSelector()
    selector.register(stdin, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    children: dict[int, int] = {}  # pid -> request id
    pending, open_ = b"", True
    while open_ or children:
        for key, _ in selector.select(timeout=1.0):
            if key.fd == wake_r:
                os.read(wake_r, 4096)
                continue
            data = os.read(stdin, 1 << 16)
            if not data:  # the grading process is gone; let running children finish
                open_ = False
                selector.unregister(stdin)
                continue
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                server = os.getpid()
                pid = os.fork()
                if pid == 0:
                    os.close(wake_r)
                    os.close(wake_w)
                    _child(request, server)
                children[pid] = request["id"]
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            ident = children.pop(pid, None)
            if ident is not None and open_:
                code = os.waitstatus_to_exitcode(status)
                stdout.write(json.dumps({"id": ident, "code": code}) + "\n")
                stdout.flush()


def _die_with_parent(server: int) -> None:
    """Linux: the kernel kills this process with SIGKILL when the server exits."""
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(1, signal.SIGKILL) != 0:  # PR_SET_PDEATHSIG
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != server:  # the server died before the call
        os._exit(1)


def _child(request: dict, server: int) -> None:
    """In the forked child: become ``python -m module args`` and exit with its status."""
    import runpy
    import signal

    code = 1
    try:
        _die_with_parent(server)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(null)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [request["module"], *request["args"]]
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:  # as the interpreter would: an int is the status, else print it
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:  # reported in the log; the batch's students are then retried alone
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


if __name__ == "__main__":
    _serve()
