"""Batch, layer, group and instance normalization and weight norm as autograd ops.

Each op is a :class:`Function` around the ``dlkit.functional`` kernels of the same name, so
the maths (and its gradient checks) exists once. Running statistics are not tensors of the
graph: they are plain arrays passed as options and updated in place by the kernel, exactly as
torch's ``F.batch_norm`` updates a module's buffers.
"""

from __future__ import annotations

import math
from typing import Any

from .. import functional as K
from .function import Context, Function
from .tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "weight_norm"]


def _data(a: Any) -> Any:
    """The array inside a :class:`Tensor` (running statistics are plain arrays)."""
    return a.data if isinstance(a, Tensor) else a


class BatchNorm(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, gamma: Any, beta: Any, **options: Any) -> Any:
        out, cache = K.batchnorm_forward(x, gamma, beta, **options)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, Any, Any]:
        return K.batchnorm_backward(dout, ctx.saved_values[0])


class LayerNorm(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, gamma: Any, beta: Any, *, eps: float) -> Any:
        out, cache = K.layernorm_forward(x, gamma, beta, eps=eps)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, Any, Any]:
        return K.layernorm_backward(dout, ctx.saved_values[0])


class GroupNorm(Function):
    """Group norm of ``x`` with ``(gamma, beta)`` as the optional further inputs."""

    @staticmethod
    def forward(ctx: Context, x: Any, *affine: Any, num_groups: int, eps: float) -> Any:
        gamma, beta = affine if affine else (None, None)
        out, cache = K.groupnorm_forward(x, gamma, beta, num_groups, eps=eps)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, ...]:
        dx, dgamma, dbeta = K.groupnorm_backward(dout, ctx.saved_values[0])
        return (dx,) if dgamma is None else (dx, dgamma, dbeta)


class WeightNorm(Function):
    @staticmethod
    def forward(ctx: Context, v: Any, g: Any, *, dim: int | None) -> Any:
        w, cache = K.weightnorm_forward(v, g, dim=dim)
        ctx.save_for_backward(cache)
        return w

    @staticmethod
    def backward(ctx: Context, dw: Any) -> tuple[Any, Any]:
        return K.weightnorm_backward(dw, ctx.saved_values[0])


def batch_norm(
    x: Tensor,
    gamma: Tensor,
    beta: Tensor,
    running_mean: Any = None,
    running_var: Any = None,
    *,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch norm of ``x`` ``(N, C, ...)``; the running arrays ``(C,)`` update in place.

    See :func:`dlkit.functional.batchnorm_forward` for the arguments.
    """
    return BatchNorm.apply(
        x,
        gamma,
        beta,
        running_mean=_data(running_mean),
        running_var=_data(running_var),
        training=training,
        momentum=momentum,
        eps=eps,
    )


def layer_norm(x: Tensor, gamma: Tensor, beta: Tensor, *, eps: float = 1e-5) -> Tensor:
    """Layer norm of ``x`` over its trailing axes of ``gamma``'s shape."""
    return LayerNorm.apply(x, gamma, beta, eps=eps)


def group_norm(
    x: Tensor, gamma: Tensor | None, beta: Tensor | None, num_groups: int, *, eps: float = 1e-5
) -> Tensor:
    """Group norm of ``x`` ``(N, C, ...)`` in ``num_groups`` groups; ``gamma``, ``beta``
    ``(C,)`` or both ``None``."""
    if (gamma is None) != (beta is None):
        raise ValueError("gamma and beta must both be given or both be None")
    affine = () if gamma is None else (gamma, beta)
    return GroupNorm.apply(x, *affine, num_groups=num_groups, eps=eps)


def instance_norm(
    x: Tensor, gamma: Tensor | None = None, beta: Tensor | None = None, *, eps: float = 1e-5
) -> Tensor:
    """Instance norm of ``x`` ``(N, C, ...)``: group norm with one group per channel."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.ndim < 3 or math.prod(x.shape[2:]) <= 1:
        # the kernel's own message, before the group norm loses the word "instance"
        K.instancenorm_forward(x.data, _data(gamma), _data(beta), eps=eps)
    return group_norm(x, gamma, beta, x.shape[1], eps=eps)


def weight_norm(v: Tensor, g: Tensor, *, dim: int | None = 0) -> Tensor:
    """``g * v / ||v||`` with the norm over every axis of ``v`` except ``dim``."""
    return WeightNorm.apply(v, g, dim=dim)
