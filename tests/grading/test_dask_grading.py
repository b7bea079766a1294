"""``dlgrade grade --scheduler``: a class graded on a real Dask cluster of separate processes.

A ``dask scheduler`` and two ``dask worker`` processes run on 127.0.0.1, started with the
plain environment of the tests: the workers know nothing of the class's folders, so all they
grade comes to them as bytes in the tasks (the template gradebook, the configuration, the
notebooks) and goes back as data; the host alone writes the gradebook.  Then the class is
graded again while one worker is killed (SIGKILL) in the middle of a task, the one holding the
run's scattered context where it can: every student must still end graded, none dropped.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from dlgrade.sandbox import bwrap_path
from grading_harness import TOY_SOURCE, build_submission
from grading_runs import dlgrade, grading_env, read_scores, release_notebooks, write_submission

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap (bwrap) is not installed"),
]

FULL = {"test_relu": 2.0, "test_mse": 2.0, "test_mse__symmetric": 1.0}
SOLVED = [f"solved{k}" for k in range(5)]
STUDENTS = [*SOLVED, "blank"]
DASK = Path(sys.executable).parent / "dask"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _client(address: str):
    from distributed import Client

    return Client(address, timeout="30s")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``(address, {worker address: worker process})`` of a scheduler and two workers."""
    work = tmp_path_factory.mktemp("dask")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLGRADE_")}
    address = f"tcp://127.0.0.1:{_free_port()}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    port = address.rsplit(":", 1)[1]
    cmd = [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"]
    procs = [subprocess.Popen(cmd, **quiet)]
    try:
        for k in range(2):
            cmd = [str(DASK), "worker", address, "--nworkers", "1", "--nthreads", "1"]
            cmd += ["--no-dashboard", "--no-nanny", "--local-directory", str(work / f"w{k}")]
            procs.append(subprocess.Popen(cmd, **quiet))
        with _client(address) as client:
            client.wait_for_workers(2, timeout=120)
            pids = client.run(os.getpid)  # {worker address: its process id}
        workers = {a: next(p for p in procs if p.pid == pid) for a, pid in pids.items()}
        yield address, workers
    finally:
        for proc in reversed(procs):
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def toy_class(tmp_path_factory) -> tuple[Path, dict]:
    """A released toy unit with five solved submissions and a blank one."""
    folder = tmp_path_factory.mktemp("class")
    unit = folder / "source" / "toy"
    unit.mkdir(parents=True)
    nbformat.write(nbformat.read(TOY_SOURCE, as_version=4), unit / "toy.ipynb")
    env = grading_env(folder, unit.parent, DLGRADE_CELL_TIMEOUT="5")
    proc = dlgrade(["release", "toy"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    release, src = release_notebooks(folder, "toy")["toy.ipynb"], nbformat.read(TOY_SOURCE, 4)
    for student in SOLVED:
        write_submission(folder, student, "toy", {"toy.ipynb": build_submission(release, src)})
    write_submission(folder, "blank", "toy", {"toy.ipynb": release})
    return folder, env


def _statuses(folder: Path) -> dict[str, dict]:
    return json.loads((folder / "state" / "status" / "toy.json").read_text())["students"]


def _check_class(folder: Path, log: str) -> None:
    records = _statuses(folder)
    assert sorted(records) == sorted(STUDENTS), log
    assert {s: r["status"] for s, r in records.items()} == dict.fromkeys(STUDENTS, "graded"), log
    scores = read_scores(folder, "toy", STUDENTS)
    for student in SOLVED:
        got = {gid: score for gid, (score, _) in scores[student].items() if gid in FULL}
        assert got == FULL, f"{student}: {got}\n{log}"
        notebook = folder / "state" / "autograded" / student / "toy" / "toy.ipynb"
        assert notebook.is_file(), log
    assert all(score == 0 for score, _ in scores["blank"].values()), log


def test_a_class_is_graded_through_a_dask_scheduler_and_two_workers(cluster, toy_class):
    address, _workers = cluster
    folder, env = toy_class
    proc = dlgrade(["grade", "toy", "--scheduler", address], env)
    log = proc.stdout + proc.stderr[-4000:]
    assert proc.returncode == 0, log
    assert f"with the Dask cluster {address}" in proc.stdout, log
    _check_class(folder, log)
    assert "distributed." not in proc.stderr, proc.stderr[-4000:]  # no Dask chatter


def test_a_worker_killed_mid_run_loses_no_submission(cluster, toy_class):
    address, workers = cluster
    folder, env = toy_class
    (folder / "state" / "status" / "toy.json").unlink(missing_ok=True)
    run = subprocess.Popen(
        [sys.executable, "-m", "dlgrade.cli", "grade", "toy", "--scheduler", address],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = None
    with _client(address) as client:
        deadline = time.monotonic() + 120
        while killed is None and time.monotonic() < deadline and run.poll() is None:
            busy = [a for a, keys in client.processing().items() if keys and a in workers]
            if busy:
                # the worker that holds the scattered context, where one is busy: the
                # scheduler keeps one copy, so the context dies with it (and is sent again)
                held = {a for addrs in client.who_has().values() for a in addrs}
                killed = workers[next((a for a in busy if a in held), busy[0])]
                killed.send_signal(signal.SIGKILL)
                killed.wait()
            time.sleep(0.1)
    out, err = run.communicate(timeout=600)
    log = out + err[-4000:]
    assert killed is not None, f"no worker was ever seen grading\n{log}"
    assert run.returncode == 0, log
    _check_class(folder, log)


def test_the_default_local_cluster_grades_quietly(toy_class):
    folder, env = toy_class
    proc = dlgrade(["grade", "toy", "--workers", "2"], {**env, "DLGRADE_SCHEDULER": ""})
    log = proc.stdout + proc.stderr[-4000:]
    assert proc.returncode == 0, log
    assert "with 2 worker(s)" in proc.stdout, log
    _check_class(folder, log)
    assert proc.stderr.strip() == "", proc.stderr[-4000:]  # no Dask log lines or warnings
