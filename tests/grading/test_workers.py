"""dlgrade.workers: ``python -m MODULE`` runs forked from a warm server behave like subprocesses.

The grading of a class relies on each forked run having exactly the working directory,
environment, arguments, output file and exit status it would have had as a new process; on
runs in parallel staying apart; and on a dead server costing nothing but its speed.  Each Dask
worker process starts its server when it joins (``warm``) and ends it when it closes (``stop``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from dlgrade import workers

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the fork server is used on Linux only"
)


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **extra}


def _stop_server() -> None:
    server = workers._SERVER._proc
    if server is not None:
        server.kill()
        server.wait()
        deadline = time.monotonic() + 10
        while workers._SERVER._proc is server and time.monotonic() < deadline:
            time.sleep(0.05)  # the reader thread notices the end of the server's output


def test_a_run_gets_its_own_cwd_arguments_output_and_exit_status(tmp_path):
    (tmp_path / "good.json").write_text('{"b": [1, 2], "a": null}')
    (tmp_path / "bad.json").write_text("{not json")
    log = tmp_path / "good.log"
    code = workers.run_module("json.tool", ["--sort-keys", "good.json"], _env(), tmp_path, log)
    assert code == 0
    assert json.loads(log.read_text()) == {"a": None, "b": [1, 2]}
    assert log.read_text().index('"a"') < log.read_text().index('"b"')  # --sort-keys arrived
    log = tmp_path / "bad.log"
    code = workers.run_module("json.tool", ["bad.json"], _env(), tmp_path, log)
    assert code == 1  # json.tool's own exit status, passed through
    assert "Expecting property name" in log.read_text()  # its stderr, in the log


def test_a_run_sees_exactly_the_environment_it_is_given(tmp_path, monkeypatch):
    # A server started now inherits PYTHONUSERBASE; the child must not see it.
    _stop_server()
    monkeypatch.setenv("PYTHONUSERBASE", str(tmp_path / "leaked"))
    home = tmp_path / "somebody"
    log = tmp_path / "site.log"
    workers.run_module("site", ["--user-base"], _env(HOME=str(home)), tmp_path, log)
    assert log.read_text().strip() == str(home / ".local")
    _stop_server()  # the next test gets a server without the variable


def test_parallel_runs_do_not_mix(tmp_path):
    def one(i: int) -> tuple[int, str]:
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        (folder / "data.json").write_text(json.dumps({"run": i}))
        log = folder / "out.log"
        return workers.run_module("json.tool", ["data.json"], _env(), folder, log), log.read_text()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(one, range(12)))
    assert [code for code, _ in results] == [0] * 12
    assert [json.loads(text)["run"] for _, text in results] == list(range(12))


def test_a_dead_server_is_replaced_and_the_run_still_happens(tmp_path):
    (tmp_path / "x.json").write_text("[1]")
    assert workers.run_module("json.tool", ["x.json"], _env(), tmp_path, tmp_path / "a.log") == 0
    server = workers._SERVER._proc
    assert server is not None and server.poll() is None
    _stop_server()
    assert workers.run_module("json.tool", ["x.json"], _env(), tmp_path, tmp_path / "b.log") == 0
    assert json.loads((tmp_path / "b.log").read_text()) == [1]
    assert workers._SERVER._proc is not server  # a new server took over


def test_nbgrader_runs_forked_with_its_version(tmp_path):
    log = tmp_path / "nbgrader.log"
    assert workers.run_nbgrader(["--version"], _env(), tmp_path, log) == 0
    import nbgrader

    assert nbgrader.__version__ in log.read_text()


def test_warm_starts_the_server_before_any_run_and_stop_ends_it(tmp_path):
    _stop_server()
    workers.warm()
    server = workers._SERVER._proc
    assert server is not None and server.poll() is None
    workers.warm()  # again: the same server
    assert workers._SERVER._proc is server
    (tmp_path / "x.json").write_text("[2]")
    assert workers.run_module("json.tool", ["x.json"], _env(), tmp_path, tmp_path / "a.log") == 0
    assert workers._SERVER._proc is server  # the run used the warm server
    workers.stop()
    assert server.poll() is not None  # ended, and waited for
    assert workers._SERVER._proc is None
    workers.stop()  # nothing to stop: no error
    assert workers.run_module("json.tool", ["x.json"], _env(), tmp_path, tmp_path / "b.log") == 0
    assert json.loads((tmp_path / "b.log").read_text()) == [2]
