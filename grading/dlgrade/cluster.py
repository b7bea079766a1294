"""Grading tasks on Dask distributed: the workers need no shared file system.

``dlgrade grade`` sends each batch of submissions to a Dask cluster as ONE task,
:func:`grade_batch`, a function of bytes returning data:

* in: the run's *context* (the unit, the template gradebook snapshot, ``nbgrader_config.py``,
  the redacted ``dlkit`` the kernels import, the grading settings), scattered once to every
  worker, and the batch's prepared submissions (``{student: {relative path: bytes}}``);
* out: the batch's private gradebook file, every autograded notebook, nbgrader's log and exit
  code.

On the worker the task runs in a scratch folder under the worker's local directory, removed
afterwards: real ``nbgrader autograde`` forked from the worker process's fork server
(:mod:`dlgrade.workers`, started when the worker joins: :class:`WarmNbgrader`), the kernel in
the bubblewrap sandbox of that machine, exactly as a local run.  The host alone writes the
course gradebook, from the returned files (:mod:`dlgrade.grade`).

The cluster is either a :class:`distributed.LocalCluster` started for the run (the default:
no set-up) or an existing one: ``--scheduler tcp://HOST:8786`` (environment variable
``DLGRADE_SCHEDULER``), e.g. ``dask worker`` processes on other machines, dask-jobqueue or
dask-kubernetes.  A task that raises is retried (:data:`RETRIES`); one whose worker dies is
rescheduled by Dask on another worker; a batch that still fails comes back as the exception,
and :mod:`dlgrade.grade` regrades its students one by one, then marks any that cannot be
graded.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

from dlgrade.nbgrader_run import nbgrader_env
from dlgrade.paths import (
    ENV_CONFIG_DIR,
    ENV_DB_URL,
    ENV_RELEASE_DIR,
    ENV_SOURCE_DIR,
    ENV_STATE_DIR,
    REPO_ROOT,
    Layout,
)
from dlgrade.sandbox import ENV_DLKIT

ENV_SCHEDULER = "DLGRADE_SCHEDULER"
RETRIES = 2  # extra tries of a task that raised (a dead worker is Dask's own rescheduling)
CONTEXT_TRIES = 3  # sends of a batch whose scattered context was lost with a worker
# the host's settings that are no worker's: its folders, its database, its scheduler
_HOST_ONLY = {ENV_CONFIG_DIR, ENV_DB_URL, ENV_RELEASE_DIR, ENV_SOURCE_DIR, ENV_STATE_DIR}
_HOST_ONLY |= {ENV_DLKIT, ENV_SCHEDULER}


def pack_tree(folder: Path) -> dict[str, bytes]:
    """``{relative posix path: bytes}`` of the regular files under ``folder`` (no links)."""
    files = {}
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def unpack_tree(files: dict[str, bytes], dest: Path) -> None:
    """Write ``files`` (from :func:`pack_tree`) under ``dest``; refuse paths leaving it."""
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    for rel, data in files.items():
        path = (dest / rel).resolve()
        if root not in path.parents:
            raise ValueError(f"{rel!r} is not a path inside the folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def context(layout: Layout, unit: str, template: Path, env: dict[str, str]) -> dict:
    """What every task of a run shares (see the module docstring).  ``env``: the grading
    settings; the host's other ``DLGRADE_*`` settings (cell timeout, output cap...) go too,
    the folders excepted (each worker has its own)."""
    settings = {
        k: v for k, v in os.environ.items() if k.startswith("DLGRADE_") and k not in _HOST_ONLY
    }
    settings.update({k: v for k, v in env.items() if k != ENV_DLKIT})
    dlkit = Path(env[ENV_DLKIT]) if env.get(ENV_DLKIT) else None
    return {
        "unit": unit,
        "template": template.read_bytes(),
        "config": {layout.config_file.name: layout.config_file.read_bytes()},
        "source": str(layout.source),
        "release": str(layout.release),
        "env": settings,
        # redacted_dlkit's folder name, <unit>-<digest>, keys the copy each worker keeps
        "dlkit": (dlkit.parent.name, pack_tree(dlkit)) if dlkit else None,
    }


def grade_batch(ctx: dict, batch: list[tuple[str, dict[str, bytes]]]) -> dict:
    """Run ONE ``nbgrader autograde`` for ``batch`` (``[(student, files)]``) on this worker;
    ``{"log", "code", "gradebook": bytes, "autograded": {student: files}}``."""
    base = _local_directory()
    work = Path(tempfile.mkdtemp(prefix="dlgrade-batch-", dir=base))
    try:
        return _grade_in(work, base, ctx, batch)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _local_directory() -> Path:
    try:
        from distributed import get_worker

        return Path(get_worker().local_directory)
    except (ImportError, ValueError):  # called outside a worker (tests, debugging)
        return Path(tempfile.gettempdir())


def _grade_in(work: Path, base: Path, ctx: dict, batch: list) -> dict:
    from dlgrade.workers import run_nbgrader

    unit = ctx["unit"]
    config, state = work / "config", work / "state"
    unpack_tree(ctx["config"], config)
    state.mkdir()
    (state / "gradebook.db").write_bytes(ctx["template"])
    for student, files in batch:
        unpack_tree(files, state / "submitted" / student / unit)
    env = dict(ctx["env"])
    if ctx["dlkit"] is not None:
        env[ENV_DLKIT] = str(_dlkit_copy(base, *ctx["dlkit"]))
    source, release = Path(ctx["source"]), Path(ctx["release"])
    layout = Layout(REPO_ROOT, config, source, release, state, database_url="")
    args = ["autograde", unit, "--force"]
    if len(batch) == 1:
        args.append(f"--student={batch[0][0]}")
    log = state / "nbgrader.log"
    code = run_nbgrader(args, {**nbgrader_env(layout), **env}, config, log)
    autograded = {}
    for student, _files in batch:
        folder = state / "autograded" / student / unit
        if folder.is_dir():
            autograded[student] = pack_tree(folder)
    return {
        "log": log.read_text(errors="replace") if log.is_file() else "",
        "code": code,
        "gradebook": (state / "gradebook.db").read_bytes(),
        "autograded": autograded,
    }


def _dlkit_copy(base: Path, key: str, files: dict[str, bytes]) -> Path:
    """This worker's copy of the redacted dlkit ``key``, written on first use."""
    final = base / "dlgrade-dlkit" / key
    if not (final / "complete").is_file():
        final.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=final.parent))
        unpack_tree(files, work / "dlkit")
        (work / "complete").write_text("")
        try:
            work.rename(final)
        except OSError:  # another task of this machine wrote it first
            shutil.rmtree(work, ignore_errors=True)
    return final / "dlkit"


class WarmNbgrader(WorkerPlugin):
    """Worker plugin: start this worker process's nbgrader fork server when it joins, so
    every batch it grades forks from an nbgrader that is already imported; end it (after its
    running batches) when the worker closes."""

    name = "dlgrade-warm-nbgrader"
    idempotent = True  # registered by every run; a worker that has it keeps its server

    def setup(self, worker) -> None:
        from dlgrade.workers import warm

        warm()

    def teardown(self, worker) -> None:
        from dlgrade.workers import stop

        stop()


class Cluster:
    """The Dask cluster of one grading run (a context manager), started on first use.

    ``scheduler``: the address of an existing cluster, or ``None`` for a LocalCluster in this
    process (``processes=False``) with ``workers`` threads: each thread only waits on a batch
    forked from this process's one fork server, so nbgrader is imported once per run, and no
    worker process is started (a separate one cost 3.6 CPU seconds a run, 8% of a class of 12
    submissions of 01_perceptron, for no isolation that the forked nbgrader and the sandbox do
    not already give).
    ``make_context``: builds the run's context (:func:`context`), sent once to every worker.
    ``task``: the function of ``(context, batch)`` run for each batch (:func:`grade_batch`;
    the tests give their own), and ``warm``: start :class:`WarmNbgrader` on the workers.
    :meth:`grade` may be called from several threads at once."""

    def __init__(
        self, scheduler: str | None, workers: int, make_context, *, task=None, warm: bool = True
    ) -> None:
        self.scheduler, self.workers, self._make_context = scheduler, workers, make_context
        self._task, self._warm = task or grade_batch, warm
        self._lock = threading.Lock()
        self.client = self.local = self._shared = None

    def _start(self):
        from distributed import Client, LocalCluster

        with self._lock:
            if self.client is None:
                if self.scheduler:
                    self.client = Client(self.scheduler, timeout="30s")
                else:
                    self.local = LocalCluster(
                        n_workers=1,
                        threads_per_worker=self.workers,
                        processes=False,  # in-process transport: nothing listens for it
                        dashboard_address=None,
                        # no dashboard; its HTTP server (metrics) on a free local port, so no
                        # "port 8787 is in use" warning
                        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                        silence_logs=logging.ERROR,
                    )
                    self.client = Client(self.local)
                if self._warm:
                    self.client.register_plugin(WarmNbgrader())
            if self._shared is None:
                ctx = [self._make_context()]
                self._shared = self.client.scatter(ctx, broadcast=True, hash=False)[0]
            return self.client, self._shared

    @property
    def slots(self) -> int:
        """Tasks the cluster runs at the same time (its worker threads), at least 1."""
        if not self.scheduler:
            return self.workers
        client, _ = self._start()
        return max(1, sum(client.nthreads().values()))

    def grade(self, batch: list[tuple[str, dict[str, bytes]]]) -> dict:
        """:func:`grade_batch` of ``batch`` on the cluster: its result, or the exception of its
        last try (a task that raised is tried :data:`RETRIES` more times; one whose worker
        died, rescheduled by Dask) -- KilledWorker, the task's own exception, a lost cluster.

        A task cancelled because the context is gone ("lost dependencies": the scheduler's
        active memory manager keeps ONE copy of scattered data, so a worker that dies can
        take the context with it) is sent again with the context scattered again, up to
        :data:`CONTEXT_TRIES` times."""
        from distributed.client import FutureCancelledError

        for attempt in range(CONTEXT_TRIES):
            client, shared = self._start()
            future = client.submit(self._task, shared, batch, retries=RETRIES, pure=False)
            try:
                return future.result()
            except FutureCancelledError as exc:
                lost = shared.status != "finished" or exc.reason == "lost dependencies"
                if not lost or attempt == CONTEXT_TRIES - 1:
                    raise  # cancelled for another reason, or lost again and again
                self._forget(shared)
            finally:
                future.release()
        raise AssertionError("unreachable")  # the loop returns or raises

    def _forget(self, shared) -> None:
        """Drop the scattered context ``shared`` (lost with a worker): the next
        :meth:`_start` scatters it again. Other threads that lost it too find it replaced."""
        with self._lock:
            if self._shared is shared:
                self._shared = None
                shared.release()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            if self.client is not None:
                self.client.close()
        finally:
            if self.local is not None:
                self.local.close()
