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
  files), a private home folder, a fresh ``/tmp`` (tmpfs), ``/proc`` and a minimal ``/dev``;
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
    DLGRADE_SANDBOX_FIGURES     "0": figures are not drawn (``dlgrade grade --no-figures``)

Figures: drawing a notebook's matplotlib figures is about a third of a kernel's time in the
early units, and no test reads a figure.  With ``DLGRADE_SANDBOX_FIGURES=0`` the kernel uses
matplotlib's non-drawing ``agg`` backend and closes every figure after each cell (an IPython
startup file in the private home), so the autograded notebook has no images -- only the
scores, the tests' messages and the text outputs.  Widgets still draw when they are built.
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
_LIMIT_ENV = {
    "memory_mb": ("DLGRADE_SANDBOX_MEMORY_MB", 4096),
    "cpu_s": ("DLGRADE_SANDBOX_CPU_S", 1800),
    "nproc": ("DLGRADE_SANDBOX_NPROC", 256),
    "fsize_mb": ("DLGRADE_SANDBOX_FSIZE_MB", 512),
}
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


# Runs inside the sandbox before the kernel: set the limits, drop root, exec the kernel.
_LAUNCHER = """\
import json, os, resource, sys
spec = json.loads(sys.argv[1])
for name, value in spec["limits"].items():
    resource.setrlimit(getattr(resource, name), (value, value))
if spec["uid"] is not None:
    os.setgroups([])
    os.setgid(spec["uid"])
    os.setuid(spec["uid"])
os.execv(sys.argv[2], sys.argv[2:])
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


def _matplotlib_fontlist() -> Path | None:
    """The host's matplotlib font cache (copied in, so each kernel does not rebuild it)."""
    root = Path(os.environ.get("MPLCONFIGDIR") or Path.home() / ".cache" / "matplotlib")
    found = sorted(root.glob("fontlist-*.json"))
    return found[-1] if found else None


def bwrap_args(
    *,
    bwrap: str,
    conn_dir: Path,
    cwd: Path | None,
    cwd_copy: Path | None,
    home: Path,
    figures: bool = True,
) -> list[str]:
    """The ``bwrap ...`` prefix of a sandboxed kernel command (ending with ``--``)."""
    args = [
        bwrap,
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
        "--perms",
        "1777",
        "--tmpfs",
        "/tmp",
    ]
    binds = [("--ro-bind", path, path) for path in readonly_paths()]
    binds += [("--bind", conn_dir, conn_dir), ("--bind", home, Path("/tmp/home"))]
    if cwd is not None and cwd_copy is not None:
        binds.append(("--bind", cwd_copy, cwd))
    made = {Path("/"), Path("/tmp")}
    for _, _, target in binds:  # bwrap would create missing parents as root-only (0700)
        for parent in reversed(target.parents):
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
    for kind, source, target in binds:
        args += [kind, str(source), str(target)]
    for link, target in [("/bin", "usr/bin"), ("/lib", "usr/lib"), ("/lib64", "usr/lib64")]:
        if Path(link).is_symlink():
            args += ["--symlink", target, link]
    args += ["--chdir", str(cwd) if cwd is not None and cwd_copy is not None else "/tmp/home"]
    env = {
        "HOME": "/tmp/home",
        "USER": "student",
        "LANG": "C.UTF-8",
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "MPLCONFIGDIR": "/tmp/home/.config/matplotlib",
        "IPYTHONDIR": "/tmp/home/.ipython",
        "PYTHONDONTWRITEBYTECODE": "1",
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
        home = self._sandbox_dir / "home"
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
            shutil.copytree(self._sandbox_cwd, self._sandbox_dir / "work", symlinks=True)
        if self._uid is not None:
            for path in [self._sandbox_dir, *self._sandbox_dir.rglob("*")]:
                os.lchown(path, self._uid, self._uid)
        self.transport = "ipc"
        self.connection_file = str(conn / "kernel.json")
        self.ip = str(conn / "k")
        # signals do not cross bwrap's new session: interrupt through the control channel
        self.kernel_spec.interrupt_mode = "message"
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if self._uid is not None:
            os.chown(self.connection_file, self._uid, self._uid)
        work = self._sandbox_dir / "work" if self._sandbox_cwd is not None else None
        prefix = bwrap_args(
            bwrap=self._bwrap,
            conn_dir=Path(self.connection_file).parent,
            cwd=self._sandbox_cwd,
            cwd_copy=work,
            home=self._sandbox_dir / "home",
            figures=self._figures,
        )
        spec = json.dumps({"limits": self._limits.rlimits(self._as_root), "uid": self._uid})
        python = cmd[0] if Path(cmd[0]).is_absolute() else sys.executable
        return [*prefix, python, "-I", "-S", "-c", _LAUNCHER, spec, python, *cmd[1:]]

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._sandbox_dir is not None:
            shutil.rmtree(self._sandbox_dir, ignore_errors=True)
            self._sandbox_dir = None

    cleanup_resources = _async_cleanup_resources
