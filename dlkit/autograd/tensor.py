"""``Tensor``: an array (NumPy or torch, any device) that records the ops applied to it.

The array lives in ``.data``; after ``loss.backward()`` every leaf tensor with
``requires_grad=True`` holds ``dloss/dleaf`` in ``.grad``, an array of the same kind, device
and shape as ``.data`` (``None`` before any backward pass). This is torch's convention, so an
optimizer updates ``p.data`` in place from ``p.grad`` and works for both.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..backend import asarray_like, describe, is_array, is_torch, namespace, to_numpy
from .function import backpropagate

__all__ = ["Tensor", "tensor"]


def _as_array(data: Any) -> Any:
    if isinstance(data, Tensor):
        return data.data
    if is_torch(data):
        return data.detach()
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, np.generic):  # NumPy reductions return scalars: keep their dtype
        return np.asarray(data)
    if isinstance(data, bool) or not isinstance(data, (numbers.Real, list, tuple)):
        raise TypeError(
            f"data must be a NumPy array, a torch tensor, a number or a list; got {describe(data)}"
        )
    return np.asarray(data, dtype=np.float64)


class Tensor:
    """An array with an optional gradient.

    Args:
        data: a NumPy array or torch tensor (kept as is: no copy, same device), or a number
            or nested list (converted to a float64 NumPy array).
        requires_grad: whether ``backward`` should compute ``.grad`` for this tensor; needs a
            floating-point ``data``.
    """

    __array_priority__ = 1000  # numpy_array + tensor dispatches to Tensor.__radd__

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        self.data = _as_array(data)
        if requires_grad and "float" not in str(self.data.dtype):
            raise TypeError(
                f"only floating-point tensors can require gradients; got {describe(self.data)}"
            )
        self.requires_grad = bool(requires_grad)
        self.grad: Any = None
        self._node: tuple | None = None  # (Function subclass, Context, parent tensors)

    # -- information ---------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        op = f", op={self._node[0].__name__}" if self._node is not None else ""
        return f"Tensor({describe(self.data)}{grad}{op})"

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if int(np.prod(self.shape)) != 1:
            raise ValueError(f"item() needs a tensor with one element; got shape {self.shape}")
        return float(to_numpy(self.data).reshape(()))

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (copied from the device for a torch tensor)."""
        return to_numpy(self.data)

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self.data)

    # -- backpropagation -----------------------------------------------------------------
    def backward(self, grad: Any = None) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires one.

        Args:
            grad: ``dL/dself`` (same shape as ``self``); may be omitted for a one-element
                tensor (a loss), where it is 1. Leaves *accumulate* gradients: set ``.grad``
                to ``None`` (``Module.zero_grad()``) before the next backward pass.
        """
        if not self.requires_grad:
            raise ValueError(
                "backward() on a tensor that does not require grad: create the leaves with "
                "requires_grad=True (or use nn.Parameter)"
            )
        if grad is None:
            if int(np.prod(self.shape)) != 1:
                raise ValueError(
                    f"backward() without grad needs a one-element tensor (a loss); this one "
                    f"has shape {self.shape}: pass grad=dL/dself of that shape"
                )
            grad = namespace(self.data).ones_like(self.data)
        else:
            grad = _as_array(grad)
            namespace(grad, self.data)  # same kind, or a TypeError that says so
            if tuple(grad.shape) != self.shape:
                raise ValueError(f"grad must have shape {self.shape}; got {describe(grad)}")
            grad = asarray_like(grad, self.data)
        backpropagate(self, grad)

    # -- operators (the ops live in functions.py) -----------------------------------------
    def _other(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return other
        if is_array(other):
            return Tensor(other)
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return Tensor(asarray_like(other, self.data))
        raise TypeError(f"cannot combine a Tensor with {describe(other)}")

    def __add__(self, other: Any) -> Tensor:
        return F.add(self, self._other(other))

    def __radd__(self, other: Any) -> Tensor:
        return F.add(self._other(other), self)

    def __sub__(self, other: Any) -> Tensor:
        return F.sub(self, self._other(other))

    def __rsub__(self, other: Any) -> Tensor:
        return F.sub(self._other(other), self)

    def __mul__(self, other: Any) -> Tensor:
        return F.mul(self, self._other(other))

    def __rmul__(self, other: Any) -> Tensor:
        return F.mul(self._other(other), self)

    def __truediv__(self, other: Any) -> Tensor:
        return F.div(self, self._other(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return F.div(self._other(other), self)

    def __matmul__(self, other: Any) -> Tensor:
        return F.matmul(self, self._other(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return F.matmul(self._other(other), self)

    def __neg__(self) -> Tensor:
        return F.neg(self)

    def __pow__(self, exponent: Any) -> Tensor:
        return F.pow(self, exponent)

    # -- methods -------------------------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return F.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return F.mean(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return F.reshape(self, shape)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return F.transpose(self, axes or None)

    @property
    def T(self) -> Tensor:  # noqa: N802 (NumPy's name)
        return F.transpose(self, None)

    def exp(self) -> Tensor:
        return F.exp(self)

    def log(self) -> Tensor:
        return F.log(self)

    def relu(self) -> Tensor:
        return F.relu(self)

    def sigmoid(self) -> Tensor:
        return F.sigmoid(self)

    def tanh(self) -> Tensor:
        return F.tanh(self)


def tensor(data: Any, requires_grad: bool = False) -> Tensor:
    """Shorthand for ``Tensor(data, requires_grad)``."""
    return Tensor(data, requires_grad=requires_grad)


from . import functions as F  # noqa: E402  (the ops need Tensor defined first)
