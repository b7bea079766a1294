"""dlgrade.redact: the graded kernel's dlkit has no reference of the unit being graded.

Each redacted copy is imported in a fresh, isolated interpreter (``python -I -B``: no
bytecode written) with the copy's parent folder first on ``sys.path``, and probed there:
the unit's references (by any route: attribute, ``importlib``, ``__import__``, the autograd
and nn wrappers) raise :class:`ReferenceUnavailable`; the other units' references and the
setup cells' imports work.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dlgrade import sandbox
from dlgrade.redact import redact_source, redacted_dlkit, source_digest

from dlkit.references import REFERENCES, message

REPO = Path(__file__).resolve().parents[2]

PRELUDE = r"""
import json, sys
sys.path.insert(0, COPY_PARENT)
import numpy as np
import dlkit
from dlkit.references import ReferenceUnavailable
results = {"file": dlkit.__file__}
def attempt(key, fn):
    try:
        fn()
    except ReferenceUnavailable as exc:
        results[key] = "unavailable: " + str(exc)
    except Exception as exc:
        results[key] = "error: " + type(exc).__name__ + ": " + str(exc)
    else:
        results[key] = "ok"
"""


def probe(copy: Path, code: str) -> dict:
    """Run ``code`` (after PRELUDE) in ``python -I -B`` against the copy; its ``results``."""
    script = f"COPY_PARENT = {str(copy.parent)!r}\n" + PRELUDE + code
    script += "\nprint('RESULTS' + json.dumps(results))\n"
    done = subprocess.run(
        [sys.executable, "-I", "-B", "-c", script], capture_output=True, text=True, timeout=120
    )
    assert "RESULTS" in done.stdout, done.stderr[-3000:]
    results = json.loads(done.stdout.split("RESULTS", 1)[1])
    assert results.pop("file").startswith(str(copy)), "the copy was not the dlkit imported"
    return results


@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> dict[str, Path]:
    dest = tmp_path_factory.mktemp("redacted")
    return {unit: redacted_dlkit(unit, dest) for unit in ("01_perceptron", "04_backprop", "08_cnn")}


def _unavailable(result: str, exercise: str, unit: str) -> bool:
    return result.startswith("unavailable: ") and result.endswith(
        f"is not available while {unit} is graded: your {exercise} must compute the answer itself"
    )


def test_perceptron_references_raise_by_every_route(copies):
    results = probe(
        copies["01_perceptron"],
        r"""
import importlib
from dlkit import autograd as A, functional as F, nn, perceptron as P
z = np.linspace(-3, 3, 5)
X, w = np.eye(3), np.ones(3)
attempt("F.sigmoid", lambda: F.sigmoid(z))
attempt("import_module", lambda: importlib.import_module("dl" + "kit.functional").sigmoid(z))
attempt("__import__", lambda: __import__("dlkit.functional.activations",
                                         fromlist=["x"]).sigmoid(z))
attempt("sigmoid_backward", lambda: F.sigmoid_backward(z, z))
attempt("autograd", lambda: A.sigmoid(A.tensor(z)))
attempt("Tensor.sigmoid", lambda: A.tensor(z).sigmoid())
attempt("Value.sigmoid", lambda: A.Value(0.5).sigmoid())
attempt("nn.Sigmoid", lambda: nn.Sigmoid()(A.tensor(z)))
attempt("bce", lambda: F.binary_cross_entropy(z, (z > 0).astype(float)))
attempt("predict", lambda: P.perceptron_predict(X, w, 0.0))
attempt("update", lambda: P.perceptron_update(X[0], 1, w, 0.0))
attempt("train", lambda: P.perceptron_train(X, np.array([1, 0, 1]), epochs=1,
                                            rng=np.random.default_rng(0)))
attempt("logistic_gradient", lambda: P.logistic_gradient(X, np.array([1., 0., 1.]), w, 0.0))
attempt("fit", lambda: P.logistic_regression_fit(X, np.array([1., 0., 1.]), lr=0.1, steps=2))
# other units' references and the shared helpers are intact
attempt("relu", lambda: F.relu(z))
attempt("softmax", lambda: F.softmax(z))
attempt("conv", lambda: F.conv2d_forward(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)),
                                         np.zeros(1)))
attempt("Value.add", lambda: (A.Value(1.0) + 2.0).data)
attempt("setup", lambda: exec(
    "from dlkit.data import logic_gate, make_blobs\n"
    "from dlkit.testing import assert_close, check_gradient, passed, using\n"
    "from dlkit.viz import DecisionBoundaryExplorer\n"
    "assert_close(np.ones(2), np.ones(2))\n", {"np": np}))
""",
    )
    for key in ("F.sigmoid", "import_module", "__import__", "sigmoid_backward", "autograd"):
        assert _unavailable(results[key], "sigmoid", "01_perceptron"), (key, results[key])
    for key in ("Tensor.sigmoid", "Value.sigmoid", "nn.Sigmoid"):
        assert _unavailable(results[key], "sigmoid", "01_perceptron"), (key, results[key])
    assert results["F.sigmoid"] == "unavailable: " + message(
        "01_perceptron", "sigmoid", "dlkit.functional.sigmoid"
    )
    assert _unavailable(results["bce"], "bce_loss", "01_perceptron"), results["bce"]
    assert _unavailable(results["predict"], "perceptron_predict", "01_perceptron")
    assert _unavailable(results["update"], "perceptron_update", "01_perceptron")
    assert _unavailable(results["train"], "perceptron_update", "01_perceptron")
    assert _unavailable(results["logistic_gradient"], "logistic_gradient", "01_perceptron")
    assert _unavailable(results["fit"], "logistic_regression_fit", "01_perceptron")
    for key in ("relu", "softmax", "conv", "Value.add", "setup"):
        assert results[key] == "ok", (key, results[key])


def test_backprop_hides_the_scalar_engine_and_the_gradients(copies):
    results = probe(
        copies["04_backprop"],
        r"""
from dlkit import autograd as A, functional as F, nn
from dlkit.autograd import Value
from dlkit.autograd.scalar import backward as reference_backward
from dlkit.testing import numerical_gradient
x, w, b = np.ones((2, 3)), np.ones((3, 4)), np.zeros(4)
attempt("Value", lambda: Value(1.0))
attempt("subclass", lambda: type("Mine", (Value,), {}))
attempt("backward", lambda: reference_backward(None))
attempt("affine_backward", lambda: F.affine_backward(np.ones((2, 4)), (x, w)))
attempt("autograd affine", lambda: A.affine(A.tensor(x, requires_grad=True), A.tensor(w),
                                            A.tensor(b)).sum().backward())
attempt("sce", lambda: F.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1])))
attempt("log_softmax", lambda: F.log_softmax(np.zeros((2, 3))))
attempt("numerical_gradient", lambda: numerical_gradient(lambda v: float(v.sum()), np.ones(2)))
attempt("affine_forward", lambda: F.affine_forward(x, w, b))
attempt("relu_backward", lambda: F.relu_backward(np.ones(3), np.ones(3)))
attempt("setup", lambda: exec(
    "from dlkit import data, functional as F, viz\n"
    "from dlkit.init import init_mlp\n"
    "from dlkit.testing import assert_close, check_directional, check_gradient, passed, using\n",
    {}))
""",
    )
    assert _unavailable(results["Value"], "Value", "04_backprop"), results["Value"]
    assert _unavailable(results["subclass"], "Value", "04_backprop"), results["subclass"]
    assert _unavailable(results["backward"], "backward", "04_backprop")
    assert _unavailable(results["affine_backward"], "affine_backward", "04_backprop")
    assert _unavailable(results["autograd affine"], "affine_backward", "04_backprop")
    assert _unavailable(results["sce"], "softmax_cross_entropy", "04_backprop")
    assert _unavailable(results["log_softmax"], "softmax_cross_entropy", "04_backprop")
    assert _unavailable(results["numerical_gradient"], "numerical_gradient", "04_backprop")
    for key in ("affine_forward", "relu_backward", "setup"):
        assert results[key] == "ok", (key, results[key])


def test_cnn_hides_conv_and_pool_kernels_and_their_modules(copies):
    results = probe(
        copies["08_cnn"],
        r"""
from dlkit import autograd as A, functional as F, nn
from dlkit.autograd import Tensor
from dlkit.nn.costs import conv2d_mult_adds, conv2d_params, count_parameters, mult_adds
x, w, b = np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3)), np.zeros(2)
attempt("naive", lambda: F.conv2d_naive(x, w, b))
attempt("forward", lambda: F.conv2d_forward(x, w, b))
attempt("backward", lambda: F.conv2d_backward(np.ones((1, 2, 2, 2)), (x, w, 1, 0, 1)))
attempt("private", lambda: __import__("dlkit.functional.conv", fromlist=["x"])._correlate(
    x, w, None))
attempt("nn.Conv2d", lambda: nn.Conv2d(1, 2, 3, rng=np.random.default_rng(0))(Tensor(x)))
attempt("A.conv2d", lambda: A.conv2d(Tensor(x), Tensor(w), Tensor(b)))
attempt("pool", lambda: F.maxpool2d_forward(x))
attempt("pool_backward", lambda: F.maxpool2d_backward(np.ones((1, 1, 2, 2)), (x, 2, 2)))
attempt("nn.MaxPool2d", lambda: nn.MaxPool2d(2)(Tensor(x)))
attempt("avgpool", lambda: F.avgpool2d_forward(x))
attempt("sigmoid", lambda: F.sigmoid(np.zeros(2)))
attempt("batchnorm", lambda: F.batchnorm_forward(np.ones((4, 2)), np.ones(2), np.zeros(2)))
""",
    )
    for key in ("naive", "forward", "private", "nn.Conv2d", "A.conv2d"):
        assert results[key].startswith("unavailable: "), (key, results[key])
    assert _unavailable(results["naive"], "conv2d_naive", "08_cnn")
    assert _unavailable(results["backward"], "conv2d_backward", "08_cnn")
    for key in ("pool", "pool_backward", "nn.MaxPool2d"):
        assert results[key].startswith("unavailable: "), (key, results[key])
    for key in ("avgpool", "sigmoid", "batchnorm"):
        assert results[key] == "ok", (key, results[key])


def test_the_copy_holds_no_original_body_and_no_bytecode(copies):
    real = sandbox._package_dir("dlkit")
    perceptron = (copies["01_perceptron"] / "perceptron.py").read_text()
    assert "X.T @ dz, xp.sum(dz)" in (real / "perceptron.py").read_text()
    assert "X.T @ dz" not in perceptron and "xp.where(z >= 0" not in perceptron
    activations = (copies["01_perceptron"] / "functional" / "activations.py").read_text()
    assert "1.0 / (1.0 + e)" not in activations and "without overflow" not in activations
    assert "np.maximum(x, 0)" in activations  # relu, another unit's reference, is still there
    scalar = (copies["04_backprop"] / "autograd" / "scalar.py").read_text()
    assert "out._backward" in (real / "autograd" / "scalar.py").read_text()
    assert "out._backward" not in scalar and "self.grad +=" not in scalar
    for copy in copies.values():
        assert not list(copy.rglob("__pycache__")) and not list(copy.rglob("*.pyc"))
        assert (copy / "_redacted.py").is_file()
    # a file without any listed definition is copied byte for byte
    data = "data.py"
    assert (copies["08_cnn"] / data).read_bytes() == (real / data).read_bytes()


def test_copies_are_cached_per_unit_and_source(copies, tmp_path):
    again = redacted_dlkit("01_perceptron", copies["01_perceptron"].parent.parent)
    assert again == copies["01_perceptron"]
    assert source_digest()[:20] in again.parent.name
    assert copies["01_perceptron"] != copies["08_cnn"]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"unit must be one of .*'01_perceptron'.*'99_nope'"):
        redacted_dlkit("99_nope", "/tmp")
    with pytest.raises(TypeError, match="dest must be a folder path"):
        redacted_dlkit("01_perceptron", 3)


def test_a_listed_name_that_is_not_in_the_file_is_an_error():
    from dlgrade.errors import DlgradeError

    with pytest.raises(DlgradeError, match="no def or class missing"):
        redact_source("def present():\n    return 1\n", "u", {"missing": ("e", "n")}, "f.py")


def test_every_unit_builds(tmp_path):
    for unit in REFERENCES:
        path = redacted_dlkit(unit, tmp_path)
        assert (path / "_redacted.py").read_text().count(unit) >= 2


def test_the_sandbox_binds_the_copy_at_the_real_dlkit_path(copies, tmp_path):
    real = sandbox._package_dir("dlkit")
    env = {sandbox.ENV_DLKIT: str(copies["01_perceptron"])}
    assert sandbox.kernel_view(real, env) == copies["01_perceptron"]
    assert sandbox.kernel_view(Path("/usr"), env) == Path("/usr")
    assert sandbox.kernel_view(real, {}) == real
    with pytest.raises(ValueError, match="DLGRADE_SANDBOX_DLKIT"):
        sandbox.kernel_view(real, {sandbox.ENV_DLKIT: str(tmp_path)})


@pytest.mark.slow
def test_a_sandboxed_kernel_imports_the_redacted_dlkit(copies, tmp_path, monkeypatch):
    """A real sandboxed kernel (as dlgrade grade starts it) sees the copy at dlkit's path."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    if sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap is not installed")
    probe_bwrap = subprocess.run(
        ["bwrap", "--ro-bind", "/", "/", "--unshare-user", "--unshare-net", "true"],
        capture_output=True,
    )
    if probe_bwrap.returncode != 0:
        pytest.skip(f"bwrap cannot run here: {probe_bwrap.stderr.decode()[-200:]}")
    monkeypatch.setenv(sandbox.ENV_DLKIT, str(copies["01_perceptron"]))
    code = (
        "import json, numpy as np, dlkit, dlkit.functional as F\n"
        "from dlkit.references import ReferenceUnavailable\n"
        "try:\n    F.sigmoid(np.ones(2)); r = 'ok'\n"
        "except ReferenceUnavailable as e:\n    r = str(e)\n"
        "print('RESULT' + json.dumps([dlkit.__file__, r, float(F.relu(-np.ones(2)).sum())]))\n"
    )

    async def run() -> str:
        km = sandbox.SandboxKernelManager(kernel_name="python3")
        await km.start_kernel(cwd=str(tmp_path))
        kc = km.client()
        kc.start_channels()
        printed = []
        try:
            await kc.wait_for_ready(timeout=60)
            await kc.execute_interactive(
                code,
                timeout=60,
                output_hook=lambda m: printed.append(
                    m["content"].get("text") or "\n".join(m["content"].get("traceback", []))
                ),
            )
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        return "".join(printed)

    with ThreadPoolExecutor(max_workers=1) as pool:
        text = pool.submit(asyncio.run, run()).result()
    assert "RESULT[" in text, text
    file, raised, relu = json.loads("[" + text.split("RESULT[", 1)[1].strip().splitlines()[0])
    assert file == str(sandbox._package_dir("dlkit") / "__init__.py")  # the real path...
    assert raised == message("01_perceptron", "sigmoid", "dlkit.functional.sigmoid")  # ...copy
    assert relu == 0.0  # another unit's reference still works
