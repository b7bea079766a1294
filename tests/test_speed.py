"""dlkit.speed: one dlkit kernel on NumPy and on torch tensors against torch's layer.

The three contenders must compute the same output and gradients (otherwise the chart
compares different work); compare_backends must return one well-formed row per op and batch
size, pin torch to one thread and give the setting back, and refuse bad arguments with a
message naming them. No test asserts a time.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dlkit import speed  # noqa: E402
from dlkit.backend import to_numpy  # noqa: E402


@pytest.mark.parametrize("op", speed.OPS)
def test_the_three_contenders_compute_the_same_values_and_gradients(op):
    both = speed.contenders(op, 3, "cpu", seed=1)
    assert list(both) == list(speed.CONTENDERS)
    results = {name: fn() for name, fn in both.items()}
    assert all(isinstance(a, np.ndarray) for a in results["numpy"])
    assert all(isinstance(a, torch.Tensor) for a in results["dlkit_torch"] + results["torch"])
    reference = [to_numpy(a) for a in results["torch"]]
    assert len(reference) == 4  # out, dx, dw, db
    for name in ("numpy", "dlkit_torch"):
        for what, a, b in zip(("out", "dx", "dw", "db"), results[name], reference, strict=True):
            a = to_numpy(a)
            assert a.dtype == np.float32 and a.shape == b.shape, (name, what)
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4, err_msg=f"{name} {what}")


def test_the_dlkit_contender_really_runs_on_tensors_on_the_device():
    out, dx, dw, db = speed.contenders("affine", 2, torch.device("cpu"))["dlkit_torch"]()
    assert out.shape == (2, 128) and dw.shape == (256, 128) and db.shape == (128,)
    assert out.device.type == "cpu" and not out.requires_grad


def test_compare_backends_returns_one_row_per_op_and_batch():
    before = torch.get_num_threads()
    rows = speed.compare_backends(("conv2d", "affine"), (2, 3), repeats=1)
    assert torch.get_num_threads() == before
    assert [(r["op"], r["batch"]) for r in rows] == [
        ("conv2d", 2),
        ("conv2d", 3),
        ("affine", 2),
        ("affine", 3),
    ]
    expected_device = "cuda" if torch.cuda.is_available() else "cpu"
    for row in rows:
        assert row["device"] == expected_device
        assert row["shape"] == speed.describe_case(row["op"], row["batch"])
        for name in speed.CONTENDERS:
            assert row[f"{name}_s"] > 0 and math.isfinite(row[f"{name}_s"])
            assert 0 < row[f"{name}_min_s"] <= row[f"{name}_s"]
        for name in ("numpy", "dlkit_torch"):
            assert row[f"{name}_ratio"] == pytest.approx(row[f"{name}_s"] / row["torch_s"])


def test_the_shapes_are_described():
    assert speed.describe_case("affine", 16) == "x (16, 256) @ w (256, 128) + b"
    assert speed.describe_case("conv2d", 4) == "x (4, 16, 8, 8) * w (32, 16, 3, 3), pad 1"


def test_torch_threads_are_restored_after_an_error(monkeypatch):
    before = torch.get_num_threads()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(speed, "_measure", broken)
    with pytest.raises(RuntimeError, match="boom"):
        speed.compare_backends(("affine",), (2,), repeats=1)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ops": ("affine", "lstm")}, "unknown op 'lstm'; the ops are 'affine', 'conv2d'"),
        ({"ops": "affine"}, "ops must be a list or tuple"),
        ({"ops": ()}, "ops must not be empty"),
        ({"batch_sizes": (16, 0)}, "batch_sizes must be a positive int; got 0"),
        ({"batch_sizes": (2.5,)}, "positive int; got 2.5"),
        ({"batch_sizes": (True,)}, "positive int; got True"),
        ({"batch_sizes": 16}, "batch_sizes must be a list or tuple of positive ints"),
        ({"repeats": 0}, "repeats must be a positive int"),
        ({"device": "tpu"}, "device must be None, 'cpu', 'cuda'"),
    ],
)
def test_bad_arguments_are_refused_with_a_message(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        speed.compare_backends(**kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_cuda_without_a_gpu_says_so():
    with pytest.raises(ValueError, match="torch.cuda.is_available\\(\\) is False"):
        speed.compare_backends(device="cuda")


def test_importing_dlkit_speed_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, dlkit.speed; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
