"""The bubblewrap sandbox of student kernels (dlgrade.sandbox): each promised property, probed.

One sandboxed kernel is started (module fixture) in a student's folder next to another
student's folder and a gradebook, and a probe cell tries everything a hostile notebook would:
read the solutions, the gradebook, the other student's work, the grader's environment; open
sockets; write outside its folder; allocate far too much memory.  Every attempt is reported
back as "allowed: ..." or "denied: <exception>" and judged on the host.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from dlgrade import sandbox
from dlgrade.errors import DlgradeError
from dlgrade.sandbox import (
    Limits,
    SandboxKernelManager,
    bwrap_args,
    bwrap_path,
    figures_from_env,
    require_bwrap,
)
from grading_harness import REPO
from grading_runs import dlgrade, grading_env

needs_bwrap = pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap is not installed")

PROBE = r"""
import json, os, resource, socket
def attempt(fn):
    try:
        return "allowed: " + repr(fn())[:200]
    except BaseException as exc:
        return "denied: " + type(exc).__name__
def connect(host, port):
    with socket.create_connection((host, port), timeout=3):
        return "connected"
def write(path):
    with open(path, "w") as fh:
        fh.write("tampered")
    return path
def fill(path):
    import errno
    try:
        with open(path, "wb") as fh:
            for _ in range(DISK_MB + 16):
                fh.write(b"x" * 2**20)
        return "wrote"
    except OSError as exc:
        return "OSError " + errno.errorcode.get(exc.errno, str(exc.errno))
    finally:
        if os.path.exists(path):
            os.remove(path)
import sys
import numpy as np
result = {
    "solutions": attempt(lambda: os.listdir(SOLUTIONS)),
    "grading": attempt(lambda: os.listdir(GRADING)),
    "gradebook": attempt(lambda: open(GRADEBOOK, "rb").read(16)),
    "other_student": attempt(lambda: open(OTHER).read()),
    "other_folder": attempt(lambda: os.listdir(os.path.dirname(OTHER))),
    "host_socket": attempt(lambda: connect("127.0.0.1", HOST_PORT)),
    "internet": attempt(lambda: connect("1.1.1.1", 53)),
    "write_outside": attempt(lambda: write(OUTSIDE)),
    "write_usr": attempt(lambda: write(os.path.join(os.path.dirname(np.__file__), "x.py"))),
    "write_own": attempt(lambda: write("answer.txt")),
    "read_own": attempt(lambda: open("data.txt").read()),
    "fill_tmp": fill("/tmp/big.bin"),
    "fill_work": fill("big.bin"),
    "fill_home": fill(os.path.expanduser("~/big.bin")),
    "cmdlines": {
        pid: open(f"/proc/{pid}/cmdline").read().replace("\0", " ")
        for pid in os.listdir("/proc") if pid.isdigit() or pid == "self"
    },
    "cwd": os.getcwd(),
    "home": os.path.expanduser("~"),
    "sys_path": sys.path,
    "numpy_file": np.__file__,
    "launcher_ran": "LAUNCHER_RAN" in os.environ,
    "memory_bomb": attempt(lambda: np.ones((2**17, 2**17))),
    "dlkit": attempt(lambda: __import__("dlkit").__name__),
    "env_leak": sorted(k for k in os.environ if k.startswith(("DLGRADE", "SECRET"))),
    "host_pids": len([p for p in os.listdir("/proc") if p.isdigit()]),
    "uid": os.getuid(),
    "rlimit_as": resource.getrlimit(resource.RLIMIT_AS)[0],
    "rlimit_nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0],
    "threads": os.environ.get("OMP_NUM_THREADS"),
}
print("PROBE" + json.dumps(result))
"""


async def _run_probe(cwd: Path, code: str) -> dict:
    km = SandboxKernelManager(kernel_name="python3")
    await km.start_kernel(cwd=str(cwd))
    kc = km.client()
    kc.start_channels()
    printed = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])

    try:
        await kc.wait_for_ready(timeout=60)
        await kc.execute_interactive(code, timeout=120, output_hook=hook)
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
    text = "".join(printed)
    assert "PROBE" in text, text
    return json.loads(text.split("PROBE", 1)[1].strip().splitlines()[0])


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> dict:
    if bwrap_path() is None:
        pytest.skip("bubblewrap is not installed")
    root = tmp_path_factory.mktemp("sandbox")
    mine, other = root / "submitted" / "alice" / "toy", root / "submitted" / "bob" / "toy"
    mine.mkdir(parents=True)
    other.mkdir(parents=True)
    (mine / "data.txt").write_text("alice's data")
    # files that would run instead of the kernel or of numpy were the folder on sys.path
    (mine / "numpy.py").write_text("raise SystemExit('the student numpy.py ran')")
    (mine / "ipykernel_launcher.py").write_text("import os\nos.environ['LAUNCHER_RAN'] = '1'")
    (other / "toy.ipynb").write_text("bob's work")
    (root / "gradebook.db").write_bytes(b"SQLite format 3\x00")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    values = {
        "SOLUTIONS": str(REPO / "solutions"),
        "GRADING": str(REPO / "grading"),
        "GRADEBOOK": str(root / "gradebook.db"),
        "OTHER": str(other / "toy.ipynb"),
        "OUTSIDE": str(root / "outside.txt"),
        "HOST_PORT": server.getsockname()[1],
        "DISK_MB": 32,
    }
    code = "\n".join(f"{k} = {v!r}" for k, v in values.items()) + PROBE
    saved = dict(os.environ)
    os.environ.update(
        DLGRADE_SANDBOX_MEMORY_MB="1536", DLGRADE_SANDBOX_DISK_MB="32", SECRET_TOKEN="grader-only"
    )
    try:
        # in a thread of its own: a browser test earlier in this worker may leave an event
        # loop running in the main thread, where asyncio.run() refuses to start another
        with ThreadPoolExecutor(max_workers=1) as pool:
            result = pool.submit(asyncio.run, _run_probe(mine, code)).result()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.close()
    result["_root"] = str(root)
    result["_hidden"] = [str(root), str(mine), sys.prefix, str(REPO), "/tmp/dlg-", "--bind"]
    return result


@pytest.mark.slow
@pytest.mark.parametrize(
    "attempt", ["solutions", "grading", "gradebook", "other_student", "other_folder"]
)
def test_kernel_cannot_read_what_is_not_its_own(probe, attempt):
    assert probe[attempt].startswith("denied: FileNotFoundError"), probe[attempt]


@pytest.mark.slow
@pytest.mark.parametrize("attempt", ["host_socket", "internet"])
def test_kernel_has_no_network(probe, attempt):
    assert probe[attempt].startswith("denied: "), probe[attempt]


@pytest.mark.slow
def test_kernel_cannot_write_outside_its_folder(probe):
    root = Path(probe["_root"])
    assert probe["write_outside"].startswith("denied: "), probe["write_outside"]
    assert probe["write_usr"].startswith("denied: "), probe["write_usr"]
    assert not (root / "outside.txt").exists()
    # its own folder is a private copy: writes work inside, the host's folder is untouched
    assert probe["write_own"].startswith("allowed: ") and probe["read_own"] == "allowed: " + repr(
        "alice's data"
    )
    mine = sorted(p.name for p in (root / "submitted" / "alice" / "toy").iterdir())
    assert mine == ["data.txt", "ipykernel_launcher.py", "numpy.py"]


@pytest.mark.slow
@pytest.mark.parametrize("where", ["fill_tmp", "fill_work", "fill_home"])
def test_writable_folders_share_a_size_limit(probe, where):
    # DLGRADE_SANDBOX_DISK_MB=32 for /tmp, home and working folder together: ENOSPC (28)
    assert probe[where] == "OSError ENOSPC", probe[where]
    assert probe["write_own"].startswith("allowed: ")  # small files are fine


@pytest.mark.slow
def test_no_process_of_the_sandbox_shows_a_host_path_or_bwraps_options(probe):
    assert "1" in probe["cmdlines"] and "self" in probe["cmdlines"], probe["cmdlines"]
    for pid, cmdline in probe["cmdlines"].items():
        for hidden in probe["_hidden"]:
            assert hidden not in cmdline, f"/proc/{pid}/cmdline shows {hidden}: {cmdline}"
    assert probe["cmdlines"]["1"].startswith(("bwrap --args ", "/usr/bin/bwrap --args "))
    assert probe["cwd"] == sandbox.SANDBOX_WORK and probe["home"] == sandbox.SANDBOX_HOME


@pytest.mark.slow
def test_the_kernels_folder_is_not_importable(probe):
    # the folder held numpy.py and ipykernel_launcher.py: neither ran
    assert not probe["launcher_ran"]
    assert probe["numpy_file"].startswith(sys.prefix), probe["numpy_file"]
    assert "" not in probe["sys_path"] and probe["cwd"] not in probe["sys_path"]
    assert "." not in probe["sys_path"], probe["sys_path"]


@pytest.mark.slow
def test_kernel_runs_the_course_with_limits_and_nothing_of_the_grader(probe):
    assert probe["dlkit"] == "allowed: 'dlkit'"
    assert probe["memory_bomb"] == "denied: MemoryError"
    assert probe["rlimit_as"] == 1536 * 2**20
    assert probe["threads"] == "1"
    assert probe["env_leak"] == []
    assert probe["host_pids"] <= 3, "the kernel must not see the host's processes"
    if os.geteuid() == 0:
        assert probe["uid"] >= sandbox.SANDBOX_UID_BASE
        assert probe["rlimit_nproc"] == Limits().nproc


def test_limits_come_from_the_environment_and_are_checked():
    limits = Limits.from_env({"DLGRADE_SANDBOX_MEMORY_MB": "2048", "DLGRADE_SANDBOX_CPU_S": "60"})
    assert (limits.memory_mb, limits.cpu_s, limits.nproc) == (2048, 60, Limits().nproc)
    assert Limits.from_env({"DLGRADE_SANDBOX_DISK_MB": "64"}).disk_mb == 64
    assert Limits.from_env(limits.to_env()) == limits
    with pytest.raises(ValueError, match=r"DLGRADE_SANDBOX_CPU_S='-5': expected a positive"):
        Limits.from_env({"DLGRADE_SANDBOX_CPU_S": "-5"})
    assert "RLIMIT_NPROC" in limits.rlimits(as_root=True)
    assert "RLIMIT_NPROC" not in limits.rlimits(as_root=False)  # per-uid: the grader's own


def test_bwrap_command_binds_only_the_course_install(tmp_path):
    args = bwrap_args(conn_dir=tmp_path / "c", seed=tmp_path / "seed", disk_mb=100)
    binds = {args[i + 2]: (args[i], args[i + 1]) for i, a in enumerate(args) if "bind" in a}
    for flag in ["--unshare-net", "--unshare-pid", "--die-with-parent", "--new-session"]:
        assert flag in args
    assert "--clearenv" in args and args[-1] == "--"
    assert str(REPO) not in binds and str(REPO / "solutions") not in binds
    assert binds[str(REPO / "dlkit")] == ("--ro-bind", str(REPO / "dlkit"))
    assert binds[sys.prefix][0] == "--ro-bind"
    # the host's scratch folders only at neutral paths; the one writable folder is sized
    assert binds[sandbox.SANDBOX_CONN] == ("--bind", str(tmp_path / "c"))
    assert binds[sandbox.SANDBOX_SEED] == ("--ro-bind", str(tmp_path / "seed"))
    tmpfs = next(i for i, a in enumerate(args) if a == "--tmpfs" and args[i + 1] == "/home/student")
    assert args[tmpfs - 2 : tmpfs + 2] == ["--size", str(100 * 2**20), "--tmpfs", "/home/student"]
    if REPO.is_relative_to("/tmp"):  # the course install keeps its path: /tmp is a tmpfs
        at = next(i for i, a in enumerate(args) if a == "/tmp" and args[i - 1] == "--tmpfs")
        assert args[at - 3 : at] == ["--size", str(100 * 2**20), "--tmpfs"]
    else:  # /tmp is a link into the one sized tmpfs
        at = next(i for i, a in enumerate(args) if a == "/tmp" and args[i - 2] == "--symlink")
        assert args[at - 1] == "home/student/.tmp"


def test_figures_setting_reaches_the_kernel_environment(tmp_path):
    def env_of(figures):
        args = bwrap_args(conn_dir=tmp_path, seed=tmp_path, figures=figures)
        return {args[i + 1]: args[i + 2] for i, a in enumerate(args) if a == "--setenv"}

    assert env_of(False)["MPLBACKEND"] == "agg"
    assert "MPLBACKEND" not in env_of(True)
    assert figures_from_env({}) is True  # drawing is the kernel manager's default
    assert figures_from_env({"DLGRADE_SANDBOX_FIGURES": "0"}) is False
    with pytest.raises(ValueError, match=r"DLGRADE_SANDBOX_FIGURES='no': expected 0 or 1"):
        figures_from_env({"DLGRADE_SANDBOX_FIGURES": "no"})


def test_missing_bubblewrap_is_refused_not_ignored(monkeypatch, tmp_path, toy_source_dir):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.raises(DlgradeError, match=r"apt-get install -y bubblewrap.*--no-sandbox"):
        require_bwrap()
    env = grading_env(tmp_path, toy_source_dir)
    env["PATH"] = str(Path(sys.executable).parent)  # no /usr/bin: no bwrap
    proc = dlgrade(["grade", "toy"], env)
    assert proc.returncode == 2
    assert "bubblewrap (bwrap) is not installed" in proc.stderr
