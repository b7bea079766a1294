"""What the static tamper scan (:mod:`dlgrade.tamper_scan`) looks for: names, attributes,
calls, modules and path fragments that correct course code never needs.

Each table is a policy decision, documented in grading/SECURITY.md; widening one must keep the
zero-false-positive test (tests/grading/test_tamper.py, every unit's solution and mutants).
"""

# Names every graded test relies on, whether or not the setup cell imports them.
TEST_HELPERS = frozenset(
    {
        "assert_close",
        "passed",
        "using",
        "check_gradient",
        "check_directional",
        "check_layer_gradients",
        "numerical_gradient",
        "CheckFailed",
    }
)
IPYTHON_HOOKS = frozenset(
    {
        "input_transformers_cleanup",
        "input_transformers_post",
        "input_transformer_manager",
        "ast_transformers",
        "events",
        "register_magic_function",
        "register_magics",
        "set_custom_exc",
        "set_hook",
        "run_cell",
        "run_ast_nodes",
        "run_code",
        "transform_cell",
        "user_ns",
        "user_global_ns",
        "push",
        "prefilter_manager",
        "displayhook",
        "display_pub",
        "history_manager",
        "compile",
        "kernel",
    }
)
INTROSPECTION = frozenset(
    {
        "__closure__",
        "__globals__",
        "__code__",
        "__subclasses__",
        "__builtins__",
        "__setattr__",
        "__delattr__",
        "f_globals",
        "f_locals",
        "f_back",
        "f_builtins",
        "gi_frame",
        "cr_frame",
        "tb_frame",
        "cell_contents",
    }
)
# (module, function) pairs that student code has no business calling.
FORBIDDEN_CALLS = {
    ("importlib", "reload"): "reloads a module",
    ("imp", "reload"): "reloads a module",
    ("gc", "get_referrers"): "walks the garbage collector to reach other objects",
    ("gc", "get_referents"): "walks the garbage collector to reach other objects",
    ("gc", "get_objects"): "walks the garbage collector to reach other objects",
    ("sys", "settrace"): "installs a trace function",
    ("sys", "setprofile"): "installs a profile function",
    ("sys", "_getframe"): "reads the interpreter's call frames",
    ("sys", "_current_frames"): "reads the interpreter's call frames",
    ("sys", "addaudithook"): "installs an audit hook",
    ("inspect", "currentframe"): "reads the interpreter's call frames",
    ("inspect", "stack"): "reads the interpreter's call frames",
    ("threading", "settrace"): "installs a trace function",
    ("os", "kill"): "sends a signal to a process",
    ("os", "killpg"): "sends a signal to a process",
    ("os", "fork"): "starts a process",
    ("os", "system"): "runs a shell command",
    ("os", "popen"): "runs a shell command",
    ("signal", "signal"): "changes how the kernel reacts to interrupts",
    ("signal", "pthread_kill"): "sends a signal to a thread",
    ("os", "listdir"): "lists a directory",
    ("os", "scandir"): "lists a directory",
    ("os", "walk"): "lists a directory",
    ("glob", "glob"): "lists files by pattern",
    ("glob", "iglob"): "lists files by pattern",
}
FORBIDDEN_MODULES = {
    "ctypes": "loads ctypes, which can rewrite any object in memory",
    "cffi": "loads cffi, which can rewrite any object in memory",
    "subprocess": "can start processes",
    "multiprocessing": "can start processes",
    "socket": "can open network connections",
}
PATH_WORDS = ("gradebook", ".ipynb", "solutions/", "submitted/", "autograded/", "/proc/")
NAMESPACE_FUNCS = frozenset({"globals", "vars", "locals"})
MUTATORS = frozenset({"update", "pop", "popitem", "setdefault", "clear", "__setitem__"})
SHELL_OK = ("pip ", "pip3 ", "conda ")
SAFE_MAGICS = frozenset({"matplotlib", "time", "timeit", "precision", "pprint", "who", "whos"})
