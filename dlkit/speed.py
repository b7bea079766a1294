"""One kernel, three ways: dlkit on NumPy, the same dlkit code on torch tensors, and torch.

dlkit's kernels are written once against an array namespace (``dlkit.backend``), so the
same ``affine_forward`` runs on NumPy arrays and on torch tensors, on the CPU or a GPU.
:func:`compare_backends` times a layer's forward and backward pass three ways, side by
side in one process:

* ``numpy``: the dlkit kernel on NumPy arrays (always on the CPU);
* ``dlkit_torch``: the same dlkit kernel on torch tensors on ``device``;
* ``torch``: torch's own layer on ``device``, its gradients from autograd.

Every contender computes the layer's output and the three gradients ``dx``, ``dw`` and
``db`` for the same data, float32. Timing follows ``benchmarks/harness.py``: a warm-up call
per contender, each sample averaging enough calls to last a few milliseconds, ``repeats``
rounds in alternating order, the median per contender. Threads are pinned to one (torch's
and, where ``threadpoolctl`` is installed, NumPy's BLAS) and restored afterwards, so the
comparison is of the code, not of thread pools. On CUDA the clock is read only after
``torch.cuda.synchronize()``: GPU calls return before the GPU has finished.

torch is imported only when :func:`compare_backends` is called.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["OPS", "CONTENDERS", "compare_backends", "contenders", "describe_case"]

OPS = ("affine", "conv2d")
CONTENDERS = ("numpy", "dlkit_torch", "torch")

AFFINE_SIZES = (256, 128)  # x (N, 256) @ w (256, 128)
CONV_SIZES = (16, 32, 8)  # C=16 input channels, F=32 filters of 3x3, pad 1, 8x8 images
MIN_TIME = 0.004  # seconds per sample


def describe_case(op: str, batch: int) -> str:
    """The layer of ``op`` at ``batch`` in words, e.g. ``x (16, 256) @ w (256, 128) + b``."""
    if op == "affine":
        d, m = AFFINE_SIZES
        return f"x ({batch}, {d}) @ w ({d}, {m}) + b"
    c, f, s = CONV_SIZES
    return f"x ({batch}, {c}, {s}, {s}) * w ({f}, {c}, 3, 3), pad 1"


def _data(op: str, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """``(x, w, b, dout)`` in float32 for one op and batch size."""
    if op == "affine":
        d, m = AFFINE_SIZES
        x = rng.standard_normal((batch, d))
        w = rng.standard_normal((d, m)) / np.sqrt(d)
        dout = rng.standard_normal((batch, m))
        b = rng.standard_normal(m)
    else:
        c, f, s = CONV_SIZES
        x = rng.standard_normal((batch, c, s, s))
        w = rng.standard_normal((f, c, 3, 3)) / np.sqrt(9 * c)
        dout = rng.standard_normal((batch, f, s, s))
        b = rng.standard_normal(f)
    return tuple(a.astype(np.float32) for a in (x, w, b, dout))


def _check_device(device: Any) -> Any:
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be None, 'cpu', 'cuda' or a torch.device; got {device!r}"
        ) from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {str(device)!r} was asked for but torch.cuda.is_available() is False; "
            "pass device=None to use the GPU only when there is one"
        )
    return device


def contenders(
    op: str, batch: int, device: Any = None, *, seed: int = 0
) -> dict[str, Callable[[], tuple[Any, ...]]]:
    """The three contenders for ``op`` at ``batch``, each returning ``(out, dx, dw, db)``.

    All three see the same float32 data (drawn from ``seed``). The NumPy contender returns
    NumPy arrays, the other two torch tensors on ``device``; on CUDA the torch contenders
    synchronize before returning, so that timing them measures the GPU's work.
    """
    import torch

    import dlkit.functional as F

    op = _check_op(op)
    batch = _check_batch(batch, "batch")
    device = _check_device(device)
    x, w, b, dout = _data(op, batch, np.random.default_rng(seed))
    tx, tw, tb, tdout = (torch.as_tensor(a, device=device) for a in (x, w, b, dout))
    gx, gw, gb = (t.clone().requires_grad_(True) for t in (tx, tw, tb))
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    if op == "affine":
        forward, backward = F.affine_forward, F.affine_backward

        def torch_layer() -> Any:
            return torch.nn.functional.linear(gx, gw.T, gb)  # x @ w + b, w of shape (D, M)
    else:

        def forward(x_: Any, w_: Any, b_: Any) -> tuple[Any, Any]:
            return F.conv2d_forward(x_, w_, b_, stride=1, pad=1)

        backward = F.conv2d_backward

        def torch_layer() -> Any:
            return torch.nn.functional.conv2d(gx, gw, gb, padding=1)

    def on_numpy() -> tuple[Any, ...]:
        out, cache = forward(x, w, b)
        return (out, *backward(dout, cache))

    def on_torch_backend() -> tuple[Any, ...]:
        out, cache = forward(tx, tw, tb)
        grads = backward(tdout, cache)
        sync()
        return (out, *grads)

    def torch_autograd() -> tuple[Any, ...]:
        out = torch_layer()
        grads = torch.autograd.grad(out, (gx, gw, gb), tdout)
        sync()
        return (out.detach(), *grads)

    return {"numpy": on_numpy, "dlkit_torch": on_torch_backend, "torch": torch_autograd}


def _check_op(op: Any) -> str:
    if not isinstance(op, str) or op not in OPS:
        raise ValueError(f"unknown op {op!r}; the ops are {', '.join(map(repr, OPS))}")
    return op


def _check_batch(batch: Any, name: str) -> int:
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"{name} must be a positive int; got {batch!r}")
    return int(batch)


def _check_sequence(values: Any, name: str) -> tuple[Any, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        what = "op names" if name == "ops" else "positive ints"
        raise ValueError(f"{name} must be a list or tuple of {what}; got {values!r}")
    if not values:
        raise ValueError(f"{name} must not be empty")
    return tuple(values)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """torch (and NumPy's BLAS, where threadpoolctl is installed) on one thread, restored."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        limits: Any = contextlib.nullcontext()
        with contextlib.suppress(ImportError):
            from threadpoolctl import threadpool_limits

            limits = threadpool_limits(limits=1, user_api="blas")
        with limits:
            yield
    finally:
        torch.set_num_threads(before)


def _time(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def _measure(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    numbers = {}
    for name, fn in fns.items():
        fn()  # warm-up: lazy imports, caches, the allocator, CUDA kernels
        once = max(_time(fn, 1), 1e-7)
        numbers[name] = max(1, int(MIN_TIME / once))
    samples: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns)
    for round_ in range(repeats):
        for name in order if round_ % 2 == 0 else reversed(order):
            samples[name].append(_time(fns[name], numbers[name]))
    return samples


def compare_backends(
    ops: Sequence[str] = OPS,
    batch_sizes: Sequence[int] = (16, 64, 256),
    *,
    device: Any = None,
    repeats: int = 5,
) -> list[dict[str, Any]]:
    """Time forward + backward of each op and batch size on the three contenders.

    Args:
        ops: which layers: ``"affine"`` (``x (N, 256) @ w (256, 128) + b``) and/or
            ``"conv2d"`` (16 -> 32 channels, 3x3 filters, pad 1, on 8x8 images).
        batch_sizes: the batch sizes ``N``, positive ints.
        device: where the torch contenders run: ``None`` picks ``"cuda"`` when
            ``torch.cuda.is_available()`` and ``"cpu"`` otherwise; or ``"cpu"``,
            ``"cuda"``, a ``torch.device``. The NumPy contender always runs on the CPU.
        repeats: timed rounds per case (the median is reported), a positive int.

    Returns:
        One dict per ``(op, batch)``, in that order: ``op``, ``batch``, ``shape`` (the
        layer in words), ``device`` (``"cpu"`` or ``"cuda"``), the median seconds per call
        ``numpy_s``, ``dlkit_torch_s`` and ``torch_s``, the fastest sample of each
        (``numpy_min_s``, ...), and ``numpy_ratio`` and ``dlkit_torch_ratio``, the median
        time divided by torch's (below 1: faster than torch).
    """
    ops = tuple(_check_op(op) for op in _check_sequence(ops, "ops"))
    batches = tuple(
        _check_batch(n, "batch_sizes") for n in _check_sequence(batch_sizes, "batch_sizes")
    )
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeats must be a positive int; got {repeats!r}")
    device = _check_device(device)
    rows = []
    with _one_thread():
        for op in ops:
            for batch in batches:
                samples = _measure(contenders(op, batch, device), int(repeats))
                row: dict[str, Any] = {
                    "op": op,
                    "batch": batch,
                    "shape": describe_case(op, batch),
                    "device": device.type,
                }
                for name in CONTENDERS:
                    row[f"{name}_s"] = statistics.median(samples[name])
                for name in CONTENDERS:
                    row[f"{name}_min_s"] = min(samples[name])
                for name in CONTENDERS[:2]:
                    row[f"{name}_ratio"] = row[f"{name}_s"] / row["torch_s"]
                rows.append(row)
    return rows
