"""Scaled dot-product attention as an autograd op (unit 10).

:class:`ScaledDotProductAttention` is a :class:`Function` around the ``dlkit.functional``
kernels ``scaled_dot_product_attention`` / ``scaled_dot_product_attention_backward``, whose
gradients are checked against torch; the graph records ONE node for the whole
``softmax(q k^T / sqrt(d)) v``, not one per matmul and softmax. The mask is data (booleans),
not an input of the graph: it gets no gradient.
"""

from __future__ import annotations

from typing import Any

from .. import functional as K
from .function import Context, Function
from .tensor import Tensor

__all__ = ["scaled_dot_product_attention"]


class ScaledDotProductAttention(Function):
    @staticmethod
    def forward(ctx: Context, q: Any, k: Any, v: Any, *, mask: Any = None) -> Any:
        out, cache = K.scaled_dot_product_attention(q, k, v, mask)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, ...]:
        return K.scaled_dot_product_attention_backward(dout, ctx.saved_values[0])


def _data(a: Any) -> Any:
    return a.data if isinstance(a, Tensor) else a


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Any = None) -> Tensor:
    """``softmax(q k^T / sqrt(d)) v`` ``(..., Tq, dv)`` over the keys that the boolean
    ``mask`` (broadcastable to ``(..., Tq, Tk)``, True where allowed) lets each query see;
    see :func:`dlkit.functional.scaled_dot_product_attention` (empty rows give zeros)."""
    return ScaledDotProductAttention.apply(q, k, v, mask=_data(mask))
