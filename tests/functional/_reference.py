"""Helpers for comparing dlkit against torch: kind, shape, dtype and device before values."""

from __future__ import annotations

from typing import Any

import numpy as np

# float32 keeps ~7 digits; float64 results should agree with torch to rounding
TOL = {"float32": {"rtol": 2e-5, "atol": 2e-6}, "float64": {"rtol": 1e-10, "atol": 1e-12}}


def expect_like(out: Any, ref: Any, *, dtype: str | None = None) -> None:
    """``out`` (dlkit) matches ``ref`` (a torch tensor): kind, device, shape, dtype, values."""
    import torch

    assert isinstance(out, torch.Tensor), f"expected a torch.Tensor, got {type(out).__name__}"
    assert out.device == ref.device, f"device {out.device}, expected {ref.device}"
    assert tuple(out.shape) == tuple(ref.shape), f"shape {tuple(out.shape)} != {ref.shape}"
    assert out.dtype == ref.dtype, f"dtype {out.dtype}, expected {ref.dtype}"
    tol = TOL[dtype or str(ref.dtype).removeprefix("torch.")]
    np.testing.assert_allclose(
        out.detach().cpu().double().numpy(), ref.detach().cpu().double().numpy(), **tol
    )


def expect_numpy(out: Any, shape: tuple[int, ...], dtype: Any) -> None:
    """``out`` is a NumPy array (or NumPy scalar for 0-d) of this shape and dtype."""
    assert isinstance(out, (np.ndarray, np.generic)), f"got {type(out).__name__}"
    assert np.shape(out) == tuple(shape), f"shape {np.shape(out)} != {shape}"
    assert out.dtype == np.dtype(dtype), f"dtype {out.dtype} != {np.dtype(dtype)}"
