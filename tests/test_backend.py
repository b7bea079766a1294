"""dlkit.backend: one implementation for NumPy arrays and torch tensors; no import-time work."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.special

from dlkit import backend


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_dlkit_loads_no_heavy_library():
    # "no import-time work": torch, plotting and widgets are imported on first use only
    loaded = run_python(
        "import sys, dlkit, dlkit.functional, dlkit.data, dlkit.testing, dlkit.backend\n"
        "heavy = ('torch', 'matplotlib', 'ipywidgets', 'IPython', 'sklearn', 'scipy')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))"
    )
    assert loaded == "[]"


def test_importing_viz_loads_no_widgets_and_no_pyplot():
    loaded = run_python(
        "import sys, dlkit.viz\n"
        "print(sorted(m for m in ('torch', 'ipywidgets', 'matplotlib.pyplot') if m in sys.modules))"
    )
    assert loaded == "[]"


def test_is_torch_works_without_importing_torch():
    out = run_python(
        "import sys, numpy as np\n"
        "from dlkit.backend import is_torch, is_array, namespace\n"
        "print(is_torch(np.ones(2)), is_torch([1.0]), is_array(np.ones(2)), "
        "namespace(np.ones(2)) is np, 'torch' in sys.modules)"
    )
    assert out == "False False True True False"


def test_namespace_for_numpy_and_plain_values():
    assert backend.namespace() is np
    assert backend.namespace(np.ones(2), 3.0, None) is np
    assert backend.namespace(1, [2]) is np


def test_namespace_for_tensors(torch):
    xp = backend.namespace(torch.ones(2), 2.0, None)
    assert xp is not np
    out = xp.sum(torch.ones(2, 3), axis=1, keepdims=True)  # NumPy-style names on tensors
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (2, 1)


def test_mixing_numpy_and_torch_is_an_error_that_tells_the_fix(torch):
    with pytest.raises(
        TypeError,
        match=r"arguments mix NumPy arrays and torch tensors: got numpy\.ndarray\(shape=\(2,\), "
        r"dtype=float64\), torch\.Tensor\(shape=\(3,\), dtype=torch\.float32, device=cpu\); "
        r"convert them to one kind \(e\.g\. torch\.as_tensor",
    ):
        backend.namespace(np.ones(2), torch.ones(3))


def test_is_torch_and_is_array(torch):
    assert backend.is_torch(torch.ones(1)) and backend.is_array(torch.ones(1))
    assert not backend.is_torch(np.ones(1))
    assert not backend.is_array([1.0]) and not backend.is_array(1.0)


def test_to_numpy(torch, device):
    a = np.arange(3.0)
    assert backend.to_numpy(a) is a
    np.testing.assert_array_equal(backend.to_numpy([1, 2]), [1, 2])
    t = torch.arange(3.0, device=device, requires_grad=True)
    out = backend.to_numpy(t * 2)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])


def test_asarray_like_and_arange_like(torch, device):
    like = torch.zeros(2, dtype=torch.float64, device=device)
    t = backend.asarray_like([1, 2], like)
    assert t.dtype == torch.float64 and t.device == like.device
    r = backend.arange_like(3, like)
    assert r.device == like.device and r.tolist() == [0, 1, 2] and not r.is_floating_point()
    a = backend.asarray_like([1, 2], np.zeros(1, np.float32))
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    np.testing.assert_array_equal(backend.arange_like(3, np.zeros(1)), [0, 1, 2])


def test_erf_numpy():
    x = np.linspace(-4, 4, 17)
    np.testing.assert_allclose(backend.erf(x), [math.erf(v) for v in x], rtol=1e-14)
    np.testing.assert_array_equal(backend.erf(x), scipy.special.erf(x))


def test_erf_torch(torch, device):
    x = torch.linspace(-4, 4, 17, dtype=torch.float64, device=device)
    out = backend.erf(x)
    assert isinstance(out, torch.Tensor) and out.device == x.device and out.dtype == x.dtype
    np.testing.assert_allclose(out.cpu().numpy(), [math.erf(v) for v in x.tolist()], rtol=1e-14)


def test_describe(torch):
    assert backend.describe(np.zeros((2, 3))) == "numpy.ndarray(shape=(2, 3), dtype=float64)"
    assert backend.describe(torch.zeros(2, dtype=torch.int64)) == (
        "torch.Tensor(shape=(2,), dtype=torch.int64, device=cpu)"
    )
    assert backend.describe("abc") == "str 'abc'"
    assert len(backend.describe("x" * 500)) == 80
