"""The mechanism of the tensor autograd: ``Context``, ``Function`` and the backward sweep.

A :class:`Function` is one differentiable op written as two static methods over plain arrays
(NumPy or torch, never ``Tensor``):

* ``forward(ctx, *arrays, **options) -> array`` computes the result and stores what the
  backward pass needs with ``ctx.save_for_backward(...)``;
* ``backward(ctx, dout) -> tuple of gradients``, one per array input (``None`` where the
  input needs none), each of that input's shape.

``Function.apply(*inputs)`` unwraps the tensors, runs ``forward`` and, when any input
requires a gradient, records the node (function, context, parents) on the output tensor.
:func:`backpropagate` then visits the recorded graph in reverse topological order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..backend import describe, namespace

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["Context", "Function", "backpropagate", "unbroadcast"]


class Context:
    """What a forward pass leaves for its backward pass."""

    __slots__ = ("saved_values", "needs_input_grad", "options")

    def __init__(self, needs_input_grad: tuple[bool, ...] = ()) -> None:
        self.saved_values: tuple[Any, ...] = ()
        self.needs_input_grad = needs_input_grad
        self.options: dict[str, Any] = {}

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays (or anything) for ``backward``; read them back from ``saved_values``."""
        self.saved_values = values


class Function:
    """Base class of the differentiable ops (see the module docstring)."""

    @staticmethod
    def forward(ctx: Context, *arrays: Any, **options: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **options: Any) -> Tensor:
        """Run the op on tensors (or arrays) and record it for backpropagation."""
        from .tensor import Tensor

        tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in inputs)
        namespace(*(t.data for t in tensors))  # one kind of array, or a TypeError that says so
        needs = tuple(t.requires_grad for t in tensors)
        ctx = Context(needs)
        out = cls.forward(ctx, *(t.data for t in tensors), **options)
        result = Tensor(out, requires_grad=any(needs))
        if any(needs):
            result._node = (cls, ctx, tensors)
        return result


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` down to ``shape``: undo NumPy broadcasting in the backward pass.

    An operand that was broadcast was *reused* along the new or stretched axes, and a value
    used several times receives the sum of the gradients of its uses.
    """
    shape = tuple(shape)
    if tuple(grad.shape) == shape:
        return grad
    xp = namespace(grad)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = xp.sum(grad, axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = xp.sum(grad, axis=stretched, keepdims=True)
    return xp.reshape(grad, shape)


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors of the recorded graph under ``root``, each after its parents (iterative)."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if node._node is not None:
            stack.extend((p, False) for p in node._node[2] if p.requires_grad)
    return order


def backpropagate(root: Tensor, grad: Any) -> None:
    """Push ``grad`` (dL/droot) through the graph; accumulate into the leaves' ``.grad``."""
    grads: dict[int, Any] = {id(root): grad}
    for node in reversed(_topological_order(root)):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if node._node is None:  # a leaf: accumulate, as torch does
            node.grad = g if node.grad is None else node.grad + g
            continue
        fn, ctx, parents = node._node
        input_grads = fn.backward(ctx, g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(parents):
            raise RuntimeError(
                f"{fn.__name__}.backward returned {len(input_grads)} gradients for "
                f"{len(parents)} inputs"
            )
        for parent, pg in zip(parents, input_grads, strict=True):
            if pg is None or not parent.requires_grad:
                continue
            if tuple(pg.shape) != tuple(parent.shape):
                raise RuntimeError(
                    f"{fn.__name__}.backward returned a gradient {describe(pg)} for an input "
                    f"of shape {tuple(parent.shape)}"
                )
            key = id(parent)
            grads[key] = pg if key not in grads else grads[key] + pg
