"""Run a student's kernel inside a bubblewrap sandbox.

nbgrader and the gradebook stay on the host (trusted); only the *kernel* that executes the
student's notebook runs inside ``bwrap``.  :class:`SandboxKernelManager` is a jupyter_client
kernel manager whose kernel command is wrapped in ``bwrap`` and talks to nbgrader over
unix-socket files (ZeroMQ ``ipc`` transport) in a per-kernel folder bound into the sandbox,
so the sandbox needs no network at all.  Inside the sandbox the kernel sees:

* read-only: ``/usr`` (system libraries, fonts), the Python installation and virtualenv running
  nbgrader, and the installed ``dlkit`` package folder -- nothing else of the repository (no
  ``solutions/``, no ``grading/`` state, no gradebook, no other student's folder);
* read-write: a private *copy* of the folder nbgrader runs the notebook in (the student's own
  files) at ``/home/student/work``, a private home ``/home/student`` and ``/tmp``, all three
  in ONE size-limited tmpfs (``DLGRADE_SANDBOX_DISK_MB``), ``/proc`` and a minimal ``/dev``;
* no host path: the kernel's working folder, home and connection folder (``/run/kernel``)
  have neutral paths, and bwrap's arguments travel through a memfd (``bwrap --args FD``), so
  ``/proc/<pid>/cmdline`` shows ``bwrap --args 3 python -I -S /run/seed/launch.py`` and then
  ``python -P -m ipykernel_launcher -f /run/kernel/kernel.json``.  Only the Python
  installation, the virtualenv and ``dlkit`` keep their real paths (a virtualenv finds its
  ``pyvenv.cfg`` and site-packages by its own path, so it cannot move);
  ``/proc/self/mountinfo`` still names the sources of the bind mounts;
* the kernel's folder is not importable: Python runs with ``-P`` (and ``PYTHONSAFEPATH=1``,
  which IPython also respects), so a ``numpy.py`` or ``ipykernel_launcher.py`` handed in
  next to the notebook never shadows the real module;
* no network (own network namespace with only a down loopback), its own PID, IPC and UTS
  namespaces, a new session (no terminal injection), killed with its parent;
* resource limits (:class:`Limits`): address space, CPU seconds, file size, and -- when grading
  as root, where the kernel runs under a dedicated unprivileged uid -- number of processes;
  one BLAS/OpenMP thread per kernel so that parallel workers share the cores fairly.

Settings come from environment variables (read when a kernel starts), so that the
``dlgrade grade`` command can pass them through nbgrader to here:

    DLGRADE_SANDBOX             "1": nbgrader_config.py selects this kernel manager
    DLGRADE_SANDBOX_MEMORY_MB   address-space limit of the kernel       (default 4096)
    DLGRADE_SANDBOX_CPU_S       CPU seconds for the whole notebook      (default 1800)
    DLGRADE_SANDBOX_NPROC       processes/threads of the kernel's uid   (default 256)
    DLGRADE_SANDBOX_FSIZE_MB    largest file the kernel may write       (default 512)
    DLGRADE_SANDBOX_DISK_MB     space of /tmp, home and working folder  (default 256)
    DLGRADE_SANDBOX_FIGURES     "0": figures are not drawn (``dlgrade grade --no-figures``)
    DLGRADE_SANDBOX_DLKIT       a redacted copy of dlkit (``dlgrade.redact``) that the kernel
                                sees at the real dlkit folder's path (unset: the real one)

Figures: drawing a notebook's matplotlib figures is about a third of a kernel's time in the
early units, and no test reads a figure.  With ``DLGRADE_SANDBOX_FIGURES=0`` the kernel uses
matplotlib's non-drawing ``agg`` backend and closes every figure after each cell (an IPython
startup file in the private home), so the autograded notebook has no images -- only the
scores, the tests' messages and the text outputs.  Widgets still draw when they are built.

Disk: bwrap (>= 0.8, checked here) mounts one tmpfs of ``--size DLGRADE_SANDBOX_DISK_MB`` at
``/home/student``; ``/tmp`` is a symbolic link to ``/home/student/.tmp``, so the three
writable folders share the limit (when the virtualenv or dlkit lives under ``/tmp``, which
must then exist as a folder, ``/tmp`` is a second tmpfs of the same size instead).  bwrap
cannot copy a folder into a tmpfs, so the launcher (first process in the sandbox) copies the
private home and the student's folder from a
read-only *seed* bound at ``/run/seed`` before it drops root and starts the kernel.  Writing
past the limit fails inside the kernel with ``OSError`` (ENOSPC); the host's disk is never
touched.  A tmpfs lives in memory: count workers x DLGRADE_SANDBOX_DISK_MB of RAM.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from dlgrade.errors import DlgradeError

ENV_SANDBOX = "DLGRADE_SANDBOX"
ENV_DLKIT = "DLGRADE_SANDBOX_DLKIT"
_LIMIT_ENV = {
    "memory_mb": ("DLGRADE_SANDBOX_MEMORY_MB", 4096),
    "cpu_s": ("DLGRADE_SANDBOX_CPU_S", 1800),
    "nproc": ("DLGRADE_SANDBOX_NPROC", 256),
    "fsize_mb": ("DLGRADE_SANDBOX_FSIZE_MB", 512),
    "disk_mb": ("DLGRADE_SANDBOX_DISK_MB", 256),
}
# Neutral paths inside the sandbox (module docstring, "no host path").
SANDBOX_HOME = "/home/student"
SANDBOX_WORK = "/home/student/work"
SANDBOX_CONN = "/run/kernel"
SANDBOX_SEED = "/run/seed"
SANDBOX_PYTHON = "/run/python"  # a symbolic link to the virtualenv's python
# Kernels started as root switch to uid/gid SANDBOX_UID_BASE + (manager pid mod 50000): a
# dedicated, unprivileged identity per grading process, so that RLIMIT_NPROC (counted per uid)
# limits one student's kernel and not the parallel workers' kernels together.
SANDBOX_UID_BASE = 200_000

ENV_FIGURES = "DLGRADE_SANDBOX_FIGURES"
_NO_FIGURES_STARTUP = """\
# Written by dlgrade (DLGRADE_SANDBOX_FIGURES=0): figures are not drawn while grading.
import warnings as _dlgrade_warnings

_dlgrade_warnings.filterwarnings(
    "ignore", message=".*non-interactive.*cannot be shown", category=UserWarning
)


def _dlgrade_close_figures(*_):
    import sys

    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


get_ipython().events.register("post_run_cell", _dlgrade_close_figures)
del _dlgrade_warnings
"""


def figures_from_env(environ=None) -> bool:
    """Whether sandboxed kernels draw figures (``DLGRADE_SANDBOX_FIGURES``, default yes)."""
    raw = (os.environ if environ is None else environ).get(ENV_FIGURES, "").strip() or "1"
    if raw not in ("0", "1"):
        raise ValueError(f"{ENV_FIGURES}={raw!r}: expected 0 or 1")
    return raw == "1"


# Runs inside the sandbox before the kernel (as /run/seed/launch.py, its settings in
# /run/seed/spec.json): fill the size-limited home from the seed, set the limits, drop root,
# exec the kernel.
_LAUNCHER = """\
import json, os, resource, shutil
spec = json.load(open(os.path.join(os.path.dirname(__file__), "spec.json")))
home, seed, uid = spec["home"], spec["seed"], spec["uid"]
shutil.copytree(os.path.join(seed, "home"), home, symlinks=True, dirs_exist_ok=True)
if spec["work"]:
    shutil.copytree(os.path.join(seed, "work"), spec["work"], symlinks=True)
os.makedirs(os.path.join(home, ".tmp"), exist_ok=True)
os.chmod(os.path.join(home, ".tmp"), 0o1777)
if uid is not None:
    for root, dirs, files in os.walk(home):
        for name in [root] + [os.path.join(root, n) for n in dirs + files]:
            os.lchown(name, uid, uid)
os.chdir(spec["work"] or home)
for name, value in spec["limits"].items():
    resource.setrlimit(getattr(resource, name), (value, value))
if uid is not None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
os.execv(spec["argv"][0], [os.path.basename(spec["argv"][0])] + spec["argv"][1:])
"""


def bwrap_path() -> str | None:
    """The ``bwrap`` executable, or None when bubblewrap is not installed."""
    return shutil.which("bwrap")


def require_bwrap() -> str:
    """``bwrap``'s path; a :class:`DlgradeError` saying how to install it when it is missing."""
    path = bwrap_path()
    if path is None:
        raise DlgradeError(
            "bubblewrap (bwrap) is not installed, so student code cannot be sandboxed; "
            "install it (Debian/Ubuntu: apt-get install -y bubblewrap) or, on a development "
            "machine with trusted notebooks only, pass --no-sandbox"
        )
    return path


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed kernel (see the module docstring)."""

    memory_mb: int = 4096
    cpu_s: int = 1800
    nproc: int = 256
    fsize_mb: int = 512
    disk_mb: int = 256  # /tmp, home and working folder together (a tmpfs, not an rlimit)

    @classmethod
    def from_env(cls, environ=None) -> Limits:
        """Limits from ``DLGRADE_SANDBOX_*`` variables; a ValueError names a bad one."""
        env = os.environ if environ is None else environ
        values = {}
        for field, (name, default) in _LIMIT_ENV.items():
            raw = env.get(name, "").strip() or str(default)
            if not raw.isdigit() or int(raw) <= 0:
                raise ValueError(f"{name}={raw!r}: expected a positive whole number")
            values[field] = int(raw)
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The ``DLGRADE_SANDBOX_*`` variables that :meth:`from_env` reads back."""
        return {name: str(getattr(self, f)) for f, (name, _) in _LIMIT_ENV.items()}

    def rlimits(self, as_root: bool) -> dict[str, int]:
        """``{resource.RLIMIT_* name: value}`` applied inside the sandbox."""
        limits = {
            "RLIMIT_AS": self.memory_mb * 2**20,
            "RLIMIT_CPU": self.cpu_s,
            "RLIMIT_FSIZE": self.fsize_mb * 2**20,
            "RLIMIT_CORE": 0,
        }
        if as_root:  # RLIMIT_NPROC counts per uid: only meaningful with a dedicated uid
            limits["RLIMIT_NPROC"] = self.nproc
        return limits


def _package_dir(name: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def readonly_paths() -> list[Path]:
    """Host folders the kernel sees read-only: system, Python, virtualenv, course package."""
    candidates = [
        Path("/usr"),
        Path("/etc/ld.so.cache"),
        Path("/etc/localtime"),
        Path(sys.base_prefix).resolve(),
        Path(sys.prefix),
        _package_dir("dlkit"),
    ]
    seen, paths = set(), []
    for path in candidates:
        if path is not None and path.exists() and path not in seen:
            seen.add(path)
            paths.append(path)
    return paths


def kernel_view(path: Path, environ=None) -> Path:
    """What the kernel sees at ``path``: the redacted dlkit of ``DLGRADE_SANDBOX_DLKIT`` at
    the real dlkit folder (no reference of the graded unit in the kernel), else ``path``."""
    raw = (os.environ if environ is None else environ).get(ENV_DLKIT, "").strip()
    if not raw or path != _package_dir("dlkit"):
        return path
    copy = Path(raw)
    if not (copy / "__init__.py").is_file() or not (copy / "_redacted.py").is_file():
        raise ValueError(f"{ENV_DLKIT}={raw!r}: expected a redacted dlkit folder (dlgrade.redact)")
    return copy


def _matplotlib_fontlist() -> Path | None:
    """The host's matplotlib font cache (copied in, so each kernel does not rebuild it)."""
    root = Path(os.environ.get("MPLCONFIGDIR") or Path.home() / ".cache" / "matplotlib")
    found = sorted(root.glob("fontlist-*.json"))
    return found[-1] if found else None


def bwrap_args(
    *,
    conn_dir: Path,
    seed: Path,
    disk_mb: int = 256,
    figures: bool = True,
    python: str | None = None,
) -> list[str]:
    """bwrap's options for a sandboxed kernel (passed through ``--args FD``, ending with
    ``--``): ``conn_dir`` is bound at :data:`SANDBOX_CONN`, the ``seed`` folder (launcher,
    home, student's folder) read-only at :data:`SANDBOX_SEED`."""
    args = [
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]
    binds = [("--ro-bind", kernel_view(path), path) for path in readonly_paths()]
    binds += [("--bind", conn_dir, Path(SANDBOX_CONN)), ("--ro-bind", seed, Path(SANDBOX_SEED))]
    binds.append(("--tmpfs", None, Path(SANDBOX_HOME)))
    made = {Path("/")}
    tmp = Path("/tmp")
    # /tmp is a link into the sized tmpfs, unless a folder that must keep its path (the
    # virtualenv, dlkit) lives under /tmp: then /tmp is a second tmpfs of the same size
    tmp_is_a_folder = any(tmp in target.parents for _, _, target in binds)
    if tmp_is_a_folder:
        args += ["--perms", "1777", "--size", str(disk_mb * 2**20), "--tmpfs", str(tmp)]
        made.add(tmp)
    for _, _, target in binds:  # bwrap would create missing parents as root-only (0700)
        for parent in reversed(target.parents):
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
    for kind, source, target in binds:
        if kind == "--tmpfs":  # the one writable folder, size-limited (module docstring)
            args += ["--perms", "0755", "--size", str(disk_mb * 2**20), kind, str(target)]
        else:
            args += [kind, str(source), str(target)]
    python = os.path.normpath(python or sys.executable)  # no "..": it must exist inside
    if not tmp_is_a_folder:
        args += ["--perms", "1777", "--dir", f"{SANDBOX_HOME}/.tmp"]
        args += ["--symlink", f"{SANDBOX_HOME[1:]}/.tmp", "/tmp"]  # relative, as /bin -> usr/bin
    args += ["--symlink", python, SANDBOX_PYTHON]
    for link, target in [("/bin", "usr/bin"), ("/lib", "usr/lib"), ("/lib64", "usr/lib64")]:
        if Path(link).is_symlink():
            args += ["--symlink", target, link]
    args += ["--remount-ro", "/", "--chdir", SANDBOX_HOME]  # only the sized tmpfs is writable
    env = {
        "HOME": SANDBOX_HOME,
        "USER": "student",
        "LANG": "C.UTF-8",
        "PATH": f"{Path(python).parent}:/usr/bin:/bin",
        "MPLCONFIGDIR": f"{SANDBOX_HOME}/.config/matplotlib",
        "IPYTHONDIR": f"{SANDBOX_HOME}/.ipython",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONSAFEPATH": "1",  # the working folder is not on sys.path (module docstring)
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "TORCH_NUM_THREADS": "1",
    }
    if not figures:
        env["MPLBACKEND"] = "agg"
    for key, value in env.items():
        args += ["--setenv", key, value]
    return [*args, "--"]


class SandboxKernelManager(AsyncKernelManager):
    """An async kernel manager whose kernels run inside bubblewrap (module docstring)."""

    _sandbox_dir: Path | None = None
    _sandbox_cwd: Path | None = None

    async def _async_pre_start_kernel(self, **kw):
        bwrap = require_bwrap()
        self._bwrap = bwrap
        self._limits = Limits.from_env()
        self._as_root = os.geteuid() == 0
        self._uid = SANDBOX_UID_BASE + os.getpid() % 50_000 if self._as_root else None
        # a short path: unix socket paths are limited to about 100 characters
        self._sandbox_dir = Path(tempfile.mkdtemp(prefix="dlg-"))
        conn = self._sandbox_dir / "c"
        home = self._sandbox_dir / "seed" / "home"  # copied into the sandbox's tmpfs
        (home / ".config" / "matplotlib").mkdir(parents=True)
        conn.mkdir()
        fontlist = _matplotlib_fontlist()
        if fontlist is not None:
            shutil.copy(fontlist, home / ".config" / "matplotlib" / fontlist.name)
        self._figures = figures_from_env()
        if not self._figures:
            startup = home / ".ipython" / "profile_default" / "startup"
            startup.mkdir(parents=True)
            (startup / "00-dlgrade-no-figures.py").write_text(_NO_FIGURES_STARTUP)
        cwd = kw.get("cwd")
        self._sandbox_cwd = Path(cwd).resolve() if cwd else None
        if self._sandbox_cwd is not None:
            shutil.copytree(self._sandbox_cwd, self._sandbox_dir / "seed" / "work", symlinks=True)
        if self._uid is not None:  # the kernel's sockets are created in ``conn``
            for path in [self._sandbox_dir, conn]:
                os.lchown(path, self._uid, self._uid)
        self.transport = "ipc"
        self.connection_file = str(conn / "host.json")  # the kernel's copy: kernel.json
        self.ip = str(conn / "k")
        # signals do not cross bwrap's new session: interrupt through the control channel
        self.kernel_spec.interrupt_mode = "message"
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        conn = Path(self.connection_file).parent
        # the kernel's connection file: the same sockets, under their path inside the sandbox
        info = json.loads(Path(self.connection_file).read_text())
        info["ip"] = f"{SANDBOX_CONN}/{Path(self.ip).name}"
        (conn / "kernel.json").write_text(json.dumps(info))
        if self._uid is not None:
            for path in conn.iterdir():
                os.chown(path, self._uid, self._uid)
        inside = f"{SANDBOX_CONN}/kernel.json"
        # normpath, not resolve: the virtualenv's python is a symbolic link it must not follow
        python = os.path.normpath(cmd[0] if Path(cmd[0]).is_absolute() else sys.executable)
        argv = [python, "-P", *(inside if a == self.connection_file else a for a in cmd[1:])]
        seed = self._sandbox_dir / "seed"
        spec = {
            "limits": self._limits.rlimits(self._as_root),
            "uid": self._uid,
            "home": SANDBOX_HOME,
            "seed": SANDBOX_SEED,
            "work": SANDBOX_WORK if self._sandbox_cwd is not None else None,
            "argv": argv,
        }
        (seed / "spec.json").write_text(json.dumps(spec))
        (seed / "launch.py").write_text(_LAUNCHER)
        options = bwrap_args(
            conn_dir=conn,
            seed=seed,
            disk_mb=self._limits.disk_mb,
            figures=self._figures,
            python=python,
        )
        # bwrap reads its options from a memfd, so that no /proc/<pid>/cmdline of the
        # sandbox shows them (or the host paths in them)
        self._close_args_fd()
        self._args_fd = os.memfd_create("bwrap-args")
        os.write(self._args_fd, b"".join(a.encode() + b"\0" for a in options[:-1]))
        os.lseek(self._args_fd, 0, os.SEEK_SET)
        launcher = f"{SANDBOX_SEED}/launch.py"
        return [self._bwrap, "--args", str(self._args_fd), SANDBOX_PYTHON, "-I", "-S", launcher]

    _args_fd: int | None = None

    def _close_args_fd(self) -> None:
        if self._args_fd is not None:
            os.close(self._args_fd)
            self._args_fd = None

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        try:
            kw["pass_fds"] = (*kw.get("pass_fds", ()), self._args_fd)
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            self._close_args_fd()  # bwrap has its own copy (or never started)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        self._close_args_fd()
        if not restart and self._sandbox_dir is not None:
            shutil.rmtree(self._sandbox_dir, ignore_errors=True)
            self._sandbox_dir = None

    cleanup_resources = _async_cleanup_resources
