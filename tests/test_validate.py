"""dlkit._validate: the argument checks behind every public function."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import _validate as v


def test_as_array():
    a = np.ones(2, dtype=np.float32)
    assert v.as_array(a, "x") is a
    out = v.as_array([1, 2], "x")
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert v.as_array(2.5, "x").dtype == np.float64
    with pytest.raises(TypeError, match=r"x must be a NumPy array or a torch tensor; got str"):
        v.as_array("a", "x")
    with pytest.raises(TypeError, match=r"w must be a NumPy array or a torch tensor; got list"):
        v.as_array(["a", "b"], "w")
    with pytest.raises(ValueError, match=r"w must be a rectangular array of numbers; got ragged"):
        v.as_array([[1.0], [2.0, 3.0]], "w")


def test_check_float():
    assert v.check_float(np.ones(2, np.float32), "x").dtype == np.float32
    with pytest.raises(TypeError, match=r"x must hold floating-point numbers; got dtype int32"):
        v.check_float(np.ones(2, np.int32), "x")
    with pytest.raises(TypeError, match=r"got dtype complex128"):
        v.check_float(np.ones(2, complex), "x")


def test_check_labels():
    np.testing.assert_array_equal(v.check_labels([2, 0], "y", 2, num_classes=3), [2, 0])
    with pytest.raises(TypeError, match=r"y must hold integer class labels; got dtype bool"):
        v.check_labels(np.array([True, False]), "y", 2)
    with pytest.raises(ValueError, match=r"y must be 1-D with shape \(N,\); got 2-D shape"):
        v.check_labels(np.zeros((2, 1), int), "y", 2)
    with pytest.raises(ValueError, match=r"labels in \[0, 2\); got values from 0 to 2"):
        v.check_labels(np.array([0, 2]), "y", 2, num_classes=2)
    assert v.check_labels(np.zeros(0, int), "y", 0, num_classes=2).shape == (0,)


def test_check_shape_binds_named_sizes():
    sizes = v.check_shape(np.ones((4, 3)), "x", ("N", "D"))
    assert sizes == {"N": 4, "D": 3}
    v.check_shape(np.ones((3, 5)), "w", ("D", "M"), sizes=sizes)
    assert sizes == {"N": 4, "D": 3, "M": 5}
    with pytest.raises(
        ValueError, match=r"b has shape \(6,\), but its axis 0 \(M\) must match M=5"
    ):
        v.check_shape(np.ones(6), "b", ("M",), sizes=sizes)
    with pytest.raises(ValueError, match=r"x must have shape \(\?, 2\) with size 2 on axis 1"):
        v.check_shape(np.ones((4, 3)), "x", (None, 2))
    with pytest.raises(ValueError, match=r"img must be 4-D with shape \(N, C, H, W\); got 2-D"):
        v.check_shape(np.ones((4, 3)), "img", ("N", "C", "H", "W"))


def test_check_same_kind_and_dtype(torch):
    v.check_same_kind(a=np.ones(1), b=np.ones(2))
    v.check_same_kind(a=torch.ones(1), b=torch.ones(2))
    with pytest.raises(TypeError, match=r"mix NumPy arrays and torch tensors"):
        v.check_same_kind(a=np.ones(1), b=torch.ones(1))
    with pytest.raises(ValueError, match=r"tensors must be on one device; got a on cpu, b on meta"):
        v.check_same_kind(a=torch.ones(1), b=torch.ones(1, device="meta"))
    v.check_same_dtype(a=torch.ones(1), b=torch.ones(2))
    with pytest.raises(TypeError, match=r"a, b must have the same dtype; got a float64, b float32"):
        v.check_same_dtype(a=np.ones(1), b=np.ones(1, np.float32))


def test_check_finite():
    v.check_finite(np.ones(3), "x")
    with pytest.raises(ValueError, match=r"x contains NaN or infinite values"):
        v.check_finite(np.array([1.0, np.nan]), "x")
    with pytest.raises(ValueError, match=r"h contains NaN"):
        v.check_finite(np.array([np.inf]), "h")


def test_check_axis():
    assert v.check_axis(-1, 3) == 2
    assert v.check_axis(np.int64(1), 3) == 1
    with pytest.raises(ValueError, match=r"axis=3 is out of range for a 3-D array"):
        v.check_axis(3, 3)
    with pytest.raises(TypeError, match=r"dim must be an int; got bool True"):
        v.check_axis(True, 3, name="dim")
