"""``Value``: a scalar that remembers how it was computed, and backpropagates through it.

Every arithmetic operation on ``Value`` objects returns a new ``Value`` holding the result
(``.data``), the operands it came from (``._prev``), a short label of the operation
(``._op``, used to draw the graph) and a closure ``._backward`` that applies the chain rule
for that one operation: it multiplies the output's gradient (the *upstream* gradient) by the
*local* derivative and adds the product to each operand's ``.grad``.

``backward()`` sorts the graph topologically and runs those closures from the output back to
the leaves, so each node's gradient is complete before it is passed on. Gradients are
*accumulated* (``+=``): a value used twice receives the sum of both contributions.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Value", "backward", "topological_order"]


def _as_value(other: Any) -> Value:
    if isinstance(other, Value):
        return other
    if isinstance(other, bool) or not isinstance(other, numbers.Real):
        raise TypeError(
            f"a Value can be combined with a Value or a real number; got {type(other).__name__}"
        )
    return Value(other)


class Value:
    """A scalar node of a computation graph.

    Args:
        data: the number this node holds.
        _children: the nodes it was computed from (empty for a leaf).
        _op: a short label of the operation that produced it (``""`` for a leaf).
        label: an optional name, shown when the graph is drawn.
    """

    def __init__(
        self, data: float, _children: Iterable[Value] = (), _op: str = "", label: str = ""
    ) -> None:
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"data must be a real number; got {type(data).__name__} {data!r}")
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._backward: Callable[[], None] = lambda: None
        self.label = label

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # -- binary operations ---------------------------------------------------------------
    def __add__(self, other: Any) -> Value:
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:  # d(a + b)/da = d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Any) -> Value:
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: Any) -> Value:
        if isinstance(exponent, bool) or not isinstance(exponent, numbers.Real):
            raise TypeError(
                "Value ** exponent needs a constant real exponent (int or float); "
                f"got {type(exponent).__name__}"
            )
        exponent = float(exponent)
        out = Value(self.data**exponent, (self,), f"**{exponent:g}")

        def _backward() -> None:  # d(a^k)/da = k a^(k-1)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Any) -> Value:
        return self + (-_as_value(other))

    def __truediv__(self, other: Any) -> Value:
        return self * _as_value(other) ** -1

    def __radd__(self, other: Any) -> Value:
        return self + other

    def __rmul__(self, other: Any) -> Value:
        return self * other

    def __rsub__(self, other: Any) -> Value:
        return _as_value(other) - self

    def __rtruediv__(self, other: Any) -> Value:
        return _as_value(other) / self

    # -- unary functions -----------------------------------------------------------------
    def _unary(self, value: float, local: float, op: str) -> Value:
        """A node ``op(self)`` with value ``value`` and local derivative ``local``."""
        out = Value(value, (self,), op)

        def _backward() -> None:
            self.grad += local * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        e = math.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log needs a positive Value; got data={self.data!r}")
        return self._unary(math.log(self.data), 1.0 / self.data, "log")

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return self._unary(t, 1.0 - t * t, "tanh")

    def relu(self) -> Value:
        positive = self.data > 0
        return self._unary(self.data if positive else 0.0, 1.0 if positive else 0.0, "relu")

    def sigmoid(self) -> Value:
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return self._unary(s, s * (1.0 - s), "sigmoid")

    # -- backpropagation -----------------------------------------------------------------
    def topological_order(self) -> list[Value]:
        """Every node this one depends on, each after all of its children."""
        return topological_order(self)

    def backward(self) -> None:
        """Fill ``.grad`` of every node in the graph with ``d self / d node`` (see
        :func:`backward`)."""
        backward(self)


def topological_order(root: Any) -> list[Any]:
    """The nodes under ``root``, each after all of its children (``._prev``).

    An iterative depth-first search, so a graph of any depth stays clear of Python's
    recursion limit. Works for any Value-like class.
    """
    order: list[Any] = []
    visited: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:  # all children are in ``order`` already
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in node._prev if id(child) not in visited)
    return order


def backward(root: Any) -> None:
    """Backpropagate from ``root``: seed ``root.grad = 1``, then run every node's
    ``_backward`` in reverse topological order, so each node's gradient is complete before it
    is passed on to its children. Gradients accumulate: reset ``.grad`` before a second call.
    """
    order = topological_order(root)
    root.grad = 1.0
    for node in reversed(order):
        node._backward()
