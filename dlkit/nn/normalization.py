"""Normalization layers: batch, layer, group and instance norm, and a weight-normed Linear.

The maths is in ``dlkit.functional`` (``normalization.py``, ``group_norm.py``,
``weight_norm.py``); these modules hold the parameters and, for batch norm, the running
statistics. Those are **buffers**, plain arrays and not :class:`Parameter`: they are
estimated from the data, not trained, so ``model.parameters()`` (what an optimizer sees)
leaves them out. ``module.train()`` / ``module.eval()`` switch batch norm between batch and
running statistics, as in torch; the other layers compute the same thing in both modes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import autograd as A
from ..autograd import Tensor
from ..backend import asarray_like, to_numpy
from ..init import he_init
from .modules import Module, Parameter

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "GroupNorm",
    "InstanceNorm2d",
    "WeightNormLinear",
]


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}")
    return int(value)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _check_channels(layer: Module, x: Tensor, ndims: tuple[int, ...], shape: str) -> None:
    num = layer.num_features
    if x.ndim not in ndims or x.shape[1] != num:
        raise ValueError(f"{layer!r} expects x of shape {shape.format(C=num)}; got shape {x.shape}")


class _BatchNorm(Module):
    """Shared by :class:`BatchNorm1d` and :class:`BatchNorm2d` (which differ in the rank)."""

    _ndims: tuple[int, ...] = ()
    _shape = ""

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        self.num_features = _positive_int(num_features, "num_features")
        self.momentum, self.eps = momentum, eps
        self.weight = Parameter(np.ones(self.num_features))  # gamma, (C,)
        self.bias = Parameter(np.zeros(self.num_features))  # beta, (C,)
        self.running_mean = np.zeros(self.num_features)  # buffers: not Parameters
        self.running_var = np.ones(self.num_features)
        self.num_batches_tracked = 0

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        _check_channels(self, x, self._ndims, self._shape)
        self._follow(x.data)
        if self.training:
            self.num_batches_tracked += 1
        return A.batch_norm(
            x,
            self.weight,
            self.bias,
            self.running_mean,
            self.running_var,
            training=self.training,
            momentum=self.momentum,
            eps=self.eps,
        )

    def _follow(self, x: Any) -> None:
        """Move the buffers to ``x``'s kind, dtype and device when they differ (a model whose
        parameters were moved to torch or float32 keeps working, as after torch's ``.to``)."""
        rm = self.running_mean
        if (
            type(rm) is type(x)
            and rm.dtype == x.dtype
            and getattr(rm, "device", None) == getattr(x, "device", None)
        ):
            return
        self.running_mean = asarray_like(to_numpy(rm), x)
        self.running_var = asarray_like(to_numpy(self.running_var), x)

    def buffers(self) -> dict[str, Any]:
        """The running statistics by name (what torch's ``state_dict`` adds to parameters)."""
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.num_features}, momentum={self.momentum}, eps={self.eps})"
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm for features ``(N, C)`` or sequences ``(N, C, L)``, one mean per feature.

    Args:
        num_features: ``C``.
        momentum: weight of each new batch in the running averages (torch's convention).
        eps: added to the variance before the square root.
    """

    _ndims = (2, 3)
    _shape = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm for images ``(N, C, H, W)``: one mean and variance per channel."""

    _ndims = (4,)
    _shape = "(N, {C}, H, W)"


class LayerNorm(Module):
    """Layer norm over the trailing axes ``normalized_shape`` (an int ``D`` or a tuple).

    ``LayerNorm(D)`` normalizes each row of ``(N, D)`` or each token of ``(N, T, D)``.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5) -> None:
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        if not isinstance(shape, tuple) or not shape:
            raise ValueError(
                f"normalized_shape must be an int or a non-empty tuple of ints; "
                f"got {normalized_shape!r}"
            )
        self.normalized_shape = tuple(_positive_int(s, "normalized_shape") for s in shape)
        self.eps = eps
        self.weight = Parameter(np.ones(self.normalized_shape))
        self.bias = Parameter(np.zeros(self.normalized_shape))

    def forward(self, x: Any) -> Tensor:
        return A.layer_norm(_as_tensor(x), self.weight, self.bias, eps=self.eps)

    def __repr__(self) -> str:
        return f"LayerNorm({self.normalized_shape}, eps={self.eps})"


class GroupNorm(Module):
    """Group norm of ``(N, C, ...)`` in ``num_groups`` groups of consecutive channels.

    Args:
        num_groups: ``G``, a divisor of ``num_channels``.
        num_channels: ``C``.
        eps: added to the variance before the square root.
        affine: learn a per-channel scale and shift.
    """

    def __init__(
        self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True
    ) -> None:
        self.num_groups = _positive_int(num_groups, "num_groups")
        self.num_channels = _positive_int(num_channels, "num_channels")
        if self.num_channels % self.num_groups:
            raise ValueError(
                f"num_groups must divide num_channels={self.num_channels}; "
                f"got num_groups={self.num_groups}"
            )
        self.eps = eps
        self.weight = Parameter(np.ones(self.num_channels)) if affine else None
        self.bias = Parameter(np.zeros(self.num_channels)) if affine else None

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(
                f"{self!r} expects x of shape (N, {self.num_channels}, ...); got shape {x.shape}"
            )
        return A.group_norm(x, self.weight, self.bias, self.num_groups, eps=self.eps)

    def __repr__(self) -> str:
        return f"GroupNorm({self.num_groups}, {self.num_channels}, eps={self.eps})"


class InstanceNorm2d(Module):
    """Instance norm of images ``(N, C, H, W)``: each image and channel on its own.

    As torch's default, no running statistics and (``affine=False``) no scale and shift.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = False) -> None:
        self.num_features = _positive_int(num_features, "num_features")
        self.eps = eps
        self.weight = Parameter(np.ones(self.num_features)) if affine else None
        self.bias = Parameter(np.zeros(self.num_features)) if affine else None

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        _check_channels(self, x, (4,), "(N, {C}, H, W)")
        return A.instance_norm(x, self.weight, self.bias, eps=self.eps)

    def __repr__(self) -> str:
        return f"InstanceNorm2d({self.num_features}, affine={self.weight is not None})"


class WeightNormLinear(Module):
    """A :class:`~dlkit.nn.Linear` whose weight is ``g * v / ||v||``, one norm per output.

    The trained parameters are the direction ``v`` ``(in_features, out_features)`` and the
    lengths ``g`` ``(1, out_features)``, initialised so that ``g = ||v||``: at the start the
    layer computes exactly what a plain ``Linear`` with weight ``v`` would (the He-initialised
    scale), and training can then change each unit's length without touching its direction.

    Args:
        in_features, out_features: ``D`` and ``M``.
        rng: the generator ``v`` is drawn from.
        bias: whether to add a bias ``(M,)``.
    """

    def __init__(
        self, in_features: int, out_features: int, *, rng: np.random.Generator, bias: bool = True
    ) -> None:
        self.in_features = _positive_int(in_features, "in_features")
        self.out_features = _positive_int(out_features, "out_features")
        v = he_init(self.in_features, self.out_features, rng=rng)  # (D, M)
        self.v = Parameter(v)
        self.g = Parameter(np.sqrt(np.sum(v * v, axis=0, keepdims=True)))  # (1, M)
        self.bias = Parameter(np.zeros(self.out_features)) if bias else None

    @property
    def weight(self) -> Tensor:
        """The effective weight ``g * v / ||v||``, ``(D, M)``, as an autograd tensor."""
        return A.weight_norm(self.v, self.g, dim=1)

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"{self!r} expects x of shape (N, {self.in_features}); got shape {x.shape}"
            )
        w = self.weight
        if self.bias is None:
            return x @ w
        return A.affine(x, w, self.bias)  # (N, M)

    def __repr__(self) -> str:
        return (
            f"WeightNormLinear({self.in_features}, {self.out_features}, "
            f"bias={self.bias is not None})"
        )
