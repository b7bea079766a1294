"""The runtime guard that runs INSIDE the student's kernel.

:class:`dlgrade.tamper.InjectGuard` puts a grader cell at the top of the notebook that compiles
this file into a private namespace (its own copy of the builtins, so that nothing the student
rebinds in the notebook or in ``builtins`` changes what the guard's code calls) and calls
``install(CONFIG)``; :class:`dlgrade.tamper.VerifyGuard` removes the cell again after execution,
so neither the student nor the feedback ever sees it. Everything lives in the closure of one
audit hook (``sys.addaudithook``; Python offers no way to remove one):

* **Snapshot.** Before any student code runs, the guard imports what the grader's cells import
  and records the identity of every function and class of ``numpy*``, ``dlkit*``, ``builtins``,
  ``warnings`` and ``math``, of the ``sys.modules`` entries holding them, of IPython's input and
  AST transformers, event callbacks and cell-running methods, and of the kernel's stdout writer.
  After each grader cell it also records the notebook names that cell imported
  (``assert_close``, ``np``...).
* **Checks.** A grader cell before each locked cell raises the audit event ``dlgrade.guard``.
  The hook compares everything with the snapshot and prints one line, signed with an HMAC whose
  key reached the kernel in a file that the guard reads and deletes before student code runs::

      DLGRADE-GUARD <nonce> <hmac> <json list of findings>

  Each change found is also undone (the original function, module, transformer list or name is
  put back), so the grader's next cell runs with the genuine helpers. A check that does not run
  (an input transformer blanked it, ``sys.audit`` was replaced) or a line that was forged
  leaves no valid signature; the host flags that too.
* **Audit events.** Raised by student code (the first frame outside the standard library is a
  notebook cell or a file in the submission folder, and no import is under way), these are
  blocked with a ``RuntimeError`` and recorded: ``ctypes``, walking the garbage collector,
  reading call frames (``sys._getframe``, ``tb_frame``, ``gi_frame``, ``f_code``), trace and
  profile functions, new audit hooks, starting processes or sending signals, opening notebooks,
  the gradebook, the grader's folders or ``/proc/*/environ|mem``. Directory listings outside
  the submission, writes outside it and ``exec`` of code are recorded only.

This is detection inside a shared process: it raises the bar far above a one-line monkeypatch,
but it is not a sandbox (see grading/SECURITY.md for what it does not catch).
"""


def install(config):  # noqa: C901  (one closure on purpose: nothing reachable from outside)
    """Install the guard (``config``: key file, modules to import, forbidden folders)."""
    import _hashlib
    import importlib
    import json
    import os
    import sys
    import sysconfig
    import tempfile
    import types

    try:
        with open(config["key_file"], "rb") as fh:
            key = fh.read().strip()
        os.remove(config["key_file"])
    except OSError:
        key = b""  # every report is then unsigned: the host flags the guard as not running
    hmac_digest = _hashlib.hmac_digest
    from IPython import get_ipython

    ip = get_ipython()
    out = sys.stdout
    out_write, out_flush = type(out).write, type(out).flush
    user_ns = ip.user_ns
    for name in config["imports"]:
        try:
            importlib.import_module(name)
        except Exception:  # the grader's own cell will show the error
            pass

    volatile = {"input", "raw_input", "getpass", "display", "get_ipython", "help", "exit"}
    volatile |= {"quit", "copyright", "credits", "license", "breakpoint", "__IPYTHON__"}
    volatile |= {"_", "__", "___"}
    prefixes = ("numpy", "dlkit", "builtins", "warnings", "math")

    def guarded(value):
        return callable(value) or isinstance(value, types.ModuleType)

    def snapshot_modules():
        snap = {}
        for mname, mod in list(sys.modules.items()):
            if mod is None or mname.split(".")[0] not in prefixes:
                continue
            names = vars(mod)
            snap[mname] = (
                mod,
                {
                    k: v
                    for k, v in list(names.items())
                    if guarded(v) and not (mname == "builtins" and k in volatile)
                },
            )
        return snap

    modules = snapshot_modules()
    sys_funcs = {k: getattr(sys, k) for k in ("audit", "addaudithook", "settrace", "setprofile")}
    shell_methods = (
        "run_cell",
        "run_cell_async",
        "_run_cell",
        "run_ast_nodes",
        "run_code",
        "transform_cell",
        "transform_ast",
        "should_run_async",
    )
    shell_cls = {
        (cls, m): vars(cls)[m] for cls in type(ip).__mro__ for m in shell_methods if m in vars(cls)
    }
    manager = ip.input_transformer_manager

    def transformer_lists():
        return {
            "input_transformers_cleanup": list(manager.cleanup_transforms),
            "input_transformers_post": list(ip.input_transformers_post),
            "line_transforms": list(manager.line_transforms),
            "token_transformers": list(manager.token_transformers),
            "ast_transformers": list(ip.ast_transformers),
        }

    transformers = transformer_lists()
    callbacks = {ev: list(cbs) for ev, cbs in ip.events.callbacks.items()}
    trusted_cb = ("matplotlib", "matplotlib_inline", "IPython", "ipykernel", "ipywidgets")
    out_cls = {k: v for k, v in vars(type(out)).items() if callable(v)}
    recorded = {}
    events = []
    busy = [False]

    stdlib = tuple(
        {sysconfig.get_paths()["stdlib"] + os.sep, sysconfig.get_paths()["platstdlib"] + os.sep}
    )
    cwd = os.getcwd()
    cells = os.path.join(tempfile.gettempdir(), "ipykernel_")
    forbidden = tuple(os.path.join(os.path.abspath(p), "") for p in config["forbidden"])
    prefix_dirs = tuple({sys.prefix + os.sep, sys.base_prefix + os.sep})
    getframe = sys._getframe
    importing = ("<frozen importlib", os.path.join(os.path.dirname(os.__file__), "importlib", ""))

    def is_student(filename):
        if filename.startswith(cells) or filename.startswith("<ipython-input"):
            return True
        return filename.startswith(cwd + os.sep) and not filename.startswith(prefix_dirs)

    def caller_is_student(walk):
        """Whether student code triggered the event: the frame that raised it (``walk``:
        the first frame outside the standard library; never the import machinery)."""
        frame = getframe(2)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith(importing):  # an import (of a module, or its metadata)
                return False
            if not walk or not (filename.startswith(stdlib) or filename.startswith("<frozen")):
                return is_student(filename)
            frame = frame.f_back
        return False

    def where(path):
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str):
            return None
        return os.path.abspath(os.path.join(cwd, path))

    def inside(path, folder):
        return path == folder or path.startswith(folder + os.sep)

    def protected_file(path):
        if path.endswith(".ipynb") or "gradebook" in os.path.basename(path):
            return True
        if path.startswith("/proc/") and any(s in path for s in ("environ", "/mem", "/maps")):
            return True
        return any(inside(path, root.rstrip(os.sep)) for root in forbidden) and not inside(
            path, cwd
        )

    def note(check, detail):
        if len(events) < 50 and [check, detail] not in events:
            events.append([check, detail])

    blocked_exact = {
        "sys._getframe": "read the interpreter's call frames (sys._getframe)",
        "sys._current_frames": "read the interpreter's call frames",
        "sys.settrace": "install a trace function",
        "sys.setprofile": "install a profile function",
        "gc.get_referrers": "walk the garbage collector",
        "gc.get_referents": "walk the garbage collector",
        "gc.get_objects": "walk the garbage collector",
        "os.system": "run a shell command",
        "os.exec": "replace the kernel process",
        "os.posix_spawn": "start a process",
        "os.spawn": "start a process",
        "os.fork": "start a process",
        "os.forkpty": "start a process",
        "subprocess.Popen": "start a process",
        "os.kill": "send a signal",
        "os.killpg": "send a signal",
        "signal.pthread_kill": "send a signal",
        "socket.connect": "open a network connection",
    }
    # the standard library itself calls these (namedtuple reads sys._getframe): only a direct
    # call from student code counts
    direct_only = {"sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile"}
    direct_only |= {"gc.get_referrers", "gc.get_referents", "gc.get_objects"}
    frame_attrs = {"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_code", "__code__"}

    def block(check, detail):
        note(check, detail)
        raise RuntimeError(f"blocked by the grader: student code may not {detail}")

    def compare():
        """What changed since the snapshot; every change is also put back (prevention)."""
        found = []
        for mname, (mod, names) in modules.items():
            if sys.modules.get(mname, mod) is not mod:
                found.append(["sys-modules", f"sys.modules[{mname!r}] was replaced"])
                sys.modules[mname] = mod
            current = vars(mod)
            for k, v in names.items():
                if current.get(k, None) is not v:
                    found.append(["patched-module", f"{mname}.{k} was replaced or deleted"])
                    current[k] = v
        for k, v in sys_funcs.items():
            if getattr(sys, k, None) is not v:
                found.append(["patched-module", f"sys.{k} was replaced"])
                setattr(sys, k, v)
        for (cls, m), fn in shell_cls.items():
            if vars(cls).get(m) is not fn:
                found.append(["ipython-hook", f"IPython's {cls.__name__}.{m} was replaced"])
                setattr(cls, m, fn)
        for m in shell_methods:
            if m in vars(ip):
                found.append(["ipython-hook", f"the shell's {m} was overridden"])
                delattr(ip, m)
        if ip.input_transformer_manager is not manager:
            found.append(["ipython-hook", "IPython's input transformer manager was replaced"])
            ip.input_transformer_manager = manager
        for name, items in transformer_lists().items():
            want = transformers[name]
            if len(items) != len(want) or any(a is not b for a, b in zip(items, want)):  # noqa: B905
                found.append(["ipython-hook", f"IPython's {name} were changed"])
                restore_transformers(name, want)
        for ev, cbs in list(ip.events.callbacks.items()):
            before = callbacks.get(ev, [])
            keep = []
            for cb in cbs:
                module = getattr(cb, "__module__", None) or ""
                if any(cb is b for b in before) or module.startswith(trusted_cb):
                    keep.append(cb)
                else:
                    found.append(["ipython-hook", f"a callback was registered for {ev!r}"])
            if len(keep) != len(cbs):
                cbs[:] = keep
        for k, v in out_cls.items():
            if vars(type(out)).get(k) is not v:
                found.append(["patched-module", f"the kernel's output stream .{k} was replaced"])
                setattr(type(out), k, v)
        for name, value in recorded.items():
            if user_ns.get(name, recorded) is not value:
                found.append(["redefined-helper", f"{name!r}, bound by the grader, was rebound"])
                user_ns[name] = value
        return found

    def restore_transformers(name, want):
        if name == "input_transformers_cleanup":
            manager.cleanup_transforms = list(want)
        elif name == "line_transforms":
            manager.line_transforms = list(want)
        elif name == "token_transformers":
            manager.token_transformers = list(want)
        elif name == "input_transformers_post":
            ip.input_transformers_post = list(want)
        else:
            ip.ast_transformers = list(want)

    def on_guard(args):
        nonce, names = str(args[0]), list(args[1])
        found = compare() + events
        del events[:]
        for name in names:
            if name in user_ns:
                recorded[name] = user_ns[name]
        unique = []
        for item in found:
            if item not in unique:
                unique.append(item)
        message = json.dumps(unique[:50])
        mac = hmac_digest(key, f"{nonce}|{message}".encode(), "sha256").hex()
        out_write(out, f"DLGRADE-GUARD {nonce} {mac} {message}\n")
        out_flush(out)

    def hook(event, args):
        if busy[0]:
            return
        busy[0] = True
        try:
            if event == "dlgrade.guard":
                on_guard(args)
            elif event == "sys.addaudithook":
                note("audit-hook", "install an audit hook")
                raise RuntimeError("blocked by the grader: no new audit hooks")
            elif event.startswith("ctypes.") and caller_is_student(True):
                block("ctypes", "use ctypes")
            elif event == "object.__getattr__" and len(args) > 1 and args[1] in frame_attrs:
                if caller_is_student(False):
                    block("introspection", f"read {args[1]}")
            elif event in blocked_exact and caller_is_student(event not in direct_only):
                block("forbidden-call", blocked_exact[event])
            elif event == "open" and caller_is_student(True):
                path, mode, flags = (list(args) + [None, None, None])[:3]
                path = where(path)
                if path is not None and protected_file(path):
                    block("file-access", f"open {path}")
                writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                    isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR)
                )
                if path is not None and writing and not inside(path, cwd):
                    note("file-access", f"wrote outside the submission folder: {path}")
            elif event == "sqlite3.connect" and caller_is_student(True):
                path = where(args[0] if args else None)
                if path is not None and protected_file(path):
                    block("file-access", f"open the database {path}")
            elif event in ("os.listdir", "os.scandir") and caller_is_student(True):
                path = where(args[0] if args and args[0] is not None else ".")
                if path is not None and not inside(path, cwd):
                    note("file-access", f"listed the folder {path}")
            elif event == "glob.glob" and caller_is_student(True):
                pattern = str(args[0]) if args else ""
                if os.path.isabs(pattern) or ".." in pattern:
                    note("file-access", f"listed files matching {pattern}")
            elif event == "exec" and caller_is_student(False):
                note("dynamic-code", "ran code with exec() or eval()")
        finally:
            busy[0] = False

    sys.addaudithook(hook)
