"""Weight penalties and dropout as autograd ops, around ``dlkit.functional.regularization``.

* :func:`l1_penalty` and :func:`l2_penalty` take one weight tensor or a list of them and
  return the total penalty as a 0-d tensor: one node in the graph for all the weights, whose
  backward pass hands each weight the gradient its kernel already computed.
* :func:`dropout` draws its mask from an explicit ``np.random.Generator`` in the forward
  pass; the backward pass multiplies by the same saved mask (``dropout_backward``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import functional as K
from .function import Context, Function
from .tensor import Tensor

__all__ = ["dropout", "l1_penalty", "l2_penalty"]


def _penalty_op(name: str, kernel: Any) -> type[Function]:
    def forward(ctx: Context, *weights: Any, lam: float) -> Any:
        penalty, grads = kernel(list(weights), lam)
        ctx.save_for_backward(*grads)
        return penalty

    def backward(ctx: Context, dout: Any) -> tuple[Any, ...]:
        return tuple(g * dout for g in ctx.saved_values)

    return type(
        name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)}
    )


L1Penalty = _penalty_op("L1Penalty", K.l1_penalty)
L2Penalty = _penalty_op("L2Penalty", K.l2_penalty)


class Dropout(Function):
    @staticmethod
    def forward(
        ctx: Context, x: Any, *, p_drop: float, rng: np.random.Generator, training: bool
    ) -> Any:
        out, cache = K.dropout_forward(x, p_drop, rng=rng, training=training)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        return (K.dropout_backward(dout, ctx.saved_values[0]),)


def _weights(weights: Tensor | Sequence[Tensor]) -> tuple[Any, ...]:
    if isinstance(weights, (list, tuple)):
        if not weights:
            raise ValueError("weights must hold at least one tensor; got an empty list")
        return tuple(weights)
    return (weights,)


def l1_penalty(weights: Tensor | Sequence[Tensor], lam: float) -> Tensor:
    """``lam * sum(|w|)`` summed over ``weights`` (one tensor or a list), as a 0-d tensor."""
    return L1Penalty.apply(*_weights(weights), lam=lam)


def l2_penalty(weights: Tensor | Sequence[Tensor], lam: float) -> Tensor:
    """``0.5 * lam * sum(w**2)`` summed over ``weights`` (one tensor or a list): its
    gradient ``lam * w`` is SGD's ``weight_decay=lam``."""
    return L2Penalty.apply(*_weights(weights), lam=lam)


def dropout(x: Tensor, p_drop: float, *, rng: np.random.Generator, training: bool = True) -> Tensor:
    """Inverted dropout: zero each unit with probability ``p_drop`` and scale the survivors by
    ``1 / (1 - p_drop)``; the identity when ``training`` is False."""
    return Dropout.apply(x, p_drop=p_drop, rng=rng, training=training)
