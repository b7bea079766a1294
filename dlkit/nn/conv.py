"""Convolution, pooling and flattening layers for CNNs (unit 08).

Each module is a thin owner of parameters around an autograd op of
``dlkit.autograd.conv_functions``, whose gradients are those of the functional kernels.
Images are ``(N, C, H, W)`` throughout; :class:`Flatten` turns the last feature maps into
``(N, C*H*W)`` rows for a :class:`dlkit.nn.Linear` classifier head.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import autograd as A
from ..autograd import Tensor
from ..autograd.conv_functions import avg_pool2d, conv2d, max_pool2d
from ..functional._windows import pair
from .modules import Module, Parameter

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "Flatten"]


def _channels(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int (a number of channels); got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1; got {value!r}")
    return int(value)


def _images(x: Any, layer: Module, channels: int | None = None) -> Tensor:
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        c = "C" if channels is None else str(channels)
        raise ValueError(f"{layer!r} expects x of shape (N, {c}, H, W); got shape {x.shape}")
    return x


class Conv2d(Module):
    """A 2-D convolution layer: ``F = out_channels`` filters of ``(C, KH, KW)``.

    Args:
        in_channels: channels of the input images (``C``).
        out_channels: number of filters, the channels of the output (``F``).
        kernel_size: ``KH = KW`` as an int, or ``(KH, KW)``.
        stride, padding, dilation: ints or pairs, as in ``conv2d_forward`` (``padding`` is
            its ``pad``).
        bias: whether to add a learned bias per filter.
        rng: the generator the weights are drawn from.

    The weights ``(F, C, KH, KW)`` are He-initialised for ReLU networks: standard deviation
    ``sqrt(2 / fan_in)`` with ``fan_in = C * KH * KW``, the inputs of one output number.
    Biases start at zero. Parameters are float64, like :class:`dlkit.nn.Linear`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        *,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        bias: bool = True,
        rng: np.random.Generator,
    ) -> None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                "rng must be a numpy.random.Generator, e.g. rng=np.random.default_rng(0); "
                f"got {type(rng).__name__}"
            )
        self.in_channels = _channels(in_channels, "in_channels")
        self.out_channels = _channels(out_channels, "out_channels")
        self.kernel_size = pair(kernel_size, "kernel_size", minimum=1)
        self.stride = pair(stride, "stride", minimum=1)
        self.padding = pair(padding, "padding", minimum=0)
        self.dilation = pair(dilation, "dilation", minimum=1)
        kh, kw = self.kernel_size
        fan_in = self.in_channels * kh * kw
        shape = (self.out_channels, self.in_channels, kh, kw)
        self.weight = Parameter(rng.standard_normal(shape) * math.sqrt(2.0 / fan_in))
        self.bias = Parameter(np.zeros(self.out_channels)) if bias else None  # (F,)

    def forward(self, x: Any) -> Tensor:
        x = _images(x, self, self.in_channels)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def __repr__(self) -> str:
        extra = "".join(
            f", {name}={value}"
            for name, value, default in (
                ("stride", self.stride, (1, 1)),
                ("padding", self.padding, (0, 0)),
                ("dilation", self.dilation, (1, 1)),
            )
            if value != default
        )
        return (
            f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
            f"{extra}, bias={self.bias is not None})"
        )


class MaxPool2d(Module):
    """Max pooling over ``size`` windows moved by ``stride`` (default: ``size``)."""

    def __init__(self, size: Any = 2, stride: Any = None) -> None:
        self.size = pair(size, "size", minimum=1)
        self.stride = self.size if stride is None else pair(stride, "stride", minimum=1)

    def forward(self, x: Any) -> Tensor:
        return max_pool2d(_images(x, self), self.size, self.stride)

    def __repr__(self) -> str:
        return f"MaxPool2d(size={self.size}, stride={self.stride})"


class AvgPool2d(Module):
    """Average pooling over ``size`` windows moved by ``stride`` (default: ``size``), with
    ``padding`` zeros on each side that count in the mean (torch's default)."""

    def __init__(self, size: Any = 2, stride: Any = None, padding: Any = 0) -> None:
        self.size = pair(size, "size", minimum=1)
        self.stride = self.size if stride is None else pair(stride, "stride", minimum=1)
        self.padding = pair(padding, "padding", minimum=0)

    def forward(self, x: Any) -> Tensor:
        return avg_pool2d(_images(x, self), self.size, self.stride, self.padding)

    def __repr__(self) -> str:
        return f"AvgPool2d(size={self.size}, stride={self.stride}, padding={self.padding})"


class Flatten(Module):
    """``(N, d1, d2, ...)`` to ``(N, d1 * d2 * ...)``: feature maps become dense rows."""

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim < 2:
            raise ValueError(
                f"Flatten expects x with a batch axis and at least one more, (N, ...); "
                f"got shape {x.shape}"
            )
        return A.reshape(x, (x.shape[0], math.prod(x.shape[1:])))  # (N, d1 * d2 * ...)

    def __repr__(self) -> str:
        return "Flatten()"
