"""Three famous CNN building blocks, made of ``Conv2d`` layers and autograd ops.

* :class:`ResidualBlock` (ResNet, 2015): two 3x3 convolutions and a *skip connection* that
  adds the block's input to its output, ``relu(F(x) + x)``. The identity path lets the
  gradient reach early layers undiminished, which made networks of 100+ layers trainable.
* :class:`InceptionBlock` (GoogLeNet, 2014): 1x1, 3x3 and 5x5 convolutions and a max pool
  side by side, their outputs concatenated on the channel axis, so that the next layer can
  pick the scale that suits each feature. 1x1 "reduce" convolutions in front of the large
  kernels keep the cost down.
* :class:`DepthwiseSeparableConv` (MobileNet, 2017): a 3x3 *depthwise* convolution (one
  filter per channel) then a 1x1 *pointwise* convolution that mixes channels: about
  ``1/C_out + 1/9`` of the multiply-adds of a full 3x3 convolution.

Every block matches the equivalent torch modules (same weights in, same values and gradients
out); ``tests/nn/test_blocks.py`` proves it. ``dlkit.nn.costs`` counts their parameters and
multiply-adds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import autograd as A
from ..autograd import Tensor
from ..autograd.block_functions import concat, depthwise_conv2d, pad2d
from ..autograd.conv_functions import max_pool2d
from .conv import Conv2d
from .modules import Module, Parameter

__all__ = ["ResidualBlock", "InceptionBlock", "DepthwiseConv2d", "DepthwiseSeparableConv"]


def _channels(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer (a number of channels); got {value!r}")
    return int(value)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _check_input(x: Tensor, channels: int, block: str) -> None:
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(
            f"{block} expects x of shape (N, {channels}, H, W); got shape {tuple(x.shape)}"
        )


class ResidualBlock(Module):
    """``relu(conv2(relu(conv1(x))) + shortcut(x))``, the basic block of ResNet-18/34.

    Both convolutions are 3x3 with padding 1; the first has stride ``stride``. The shortcut is
    the identity when the shapes allow it, otherwise (more channels out than in, or a stride
    that halves the image) a 1x1 convolution with the same stride, the *projection* shortcut.
    ``projection=True`` forces it. (ResNet also puts batch normalisation after each
    convolution; it is left out here to keep the skip connection in plain sight.)

    Args:
        in_channels, out_channels: channels of ``x`` and of the output.
        stride: 1 keeps the image size, 2 halves it.
        projection: force a 1x1 projection shortcut even when the identity would fit.
        rng: generator the weights are drawn from.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        stride: int = 1,
        projection: bool = False,
        rng: np.random.Generator,
    ) -> None:
        self.in_channels = _channels(in_channels, "in_channels")
        self.out_channels = _channels(out_channels, "out_channels")
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, rng=rng)
        self.conv2 = Conv2d(out_channels, out_channels, 3, padding=1, rng=rng)
        needs = projection or stride != 1 or in_channels != out_channels
        self.shortcut = (
            Conv2d(in_channels, out_channels, 1, stride=stride, rng=rng) if needs else None
        )

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        _check_input(x, self.in_channels, "ResidualBlock")
        residual = self.conv2(A.relu(self.conv1(x)))  # F(x): what the block adds
        skip = x if self.shortcut is None else self.shortcut(x)
        return A.relu(residual + skip)

    def __repr__(self) -> str:
        kind = "identity" if self.shortcut is None else "1x1 projection"
        return f"ResidualBlock({self.in_channels}, {self.out_channels}, shortcut={kind})"


class InceptionBlock(Module):
    """Four branches on the same input, concatenated on the channel axis (GoogLeNet's module).

    * ``c1`` channels from a 1x1 convolution;
    * ``c3`` channels from a 3x3 convolution (padding 1), after a 1x1 reduction to ``r3``;
    * ``c5`` channels from a 5x5 convolution (padding 2), after a 1x1 reduction to ``r5``;
    * ``cpool`` channels from a 1x1 convolution after a 3x3 max pool (stride 1, padding 1).

    Every convolution is followed by a ReLU. The output has ``c1 + c3 + c5 + cpool`` channels
    and the input's height and width. ``r3``/``r5`` default to half the input channels
    (at least 1).
    """

    def __init__(
        self,
        in_channels: int,
        c1: int,
        c3: int,
        c5: int,
        cpool: int,
        *,
        r3: int | None = None,
        r5: int | None = None,
        rng: np.random.Generator,
    ) -> None:
        self.in_channels = _channels(in_channels, "in_channels")
        half = max(in_channels // 2, 1)
        r3, r5 = _channels(r3 or half, "r3"), _channels(r5 or half, "r5")
        for name, value in (("c1", c1), ("c3", c3), ("c5", c5), ("cpool", cpool)):
            _channels(value, name)
        self.out_channels = c1 + c3 + c5 + cpool
        self.branch1 = Conv2d(in_channels, c1, 1, rng=rng)
        self.reduce3 = Conv2d(in_channels, r3, 1, rng=rng)
        self.branch3 = Conv2d(r3, c3, 3, padding=1, rng=rng)
        self.reduce5 = Conv2d(in_channels, r5, 1, rng=rng)
        self.branch5 = Conv2d(r5, c5, 5, padding=2, rng=rng)
        self.pool_proj = Conv2d(in_channels, cpool, 1, rng=rng)

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        _check_input(x, self.in_channels, "InceptionBlock")
        b1 = A.relu(self.branch1(x))
        b3 = A.relu(self.branch3(A.relu(self.reduce3(x))))
        b5 = A.relu(self.branch5(A.relu(self.reduce5(x))))
        pooled = max_pool2d(pad2d(x, 1, value=-np.inf), size=3, stride=1)  # same size as x
        bp = A.relu(self.pool_proj(pooled))
        return concat([b1, b3, b5, bp], axis=1)  # (N, c1 + c3 + c5 + cpool, H, W)

    def __repr__(self) -> str:
        return f"InceptionBlock({self.in_channels} -> {self.out_channels})"


class DepthwiseConv2d(Module):
    """One ``k x k`` filter per input channel (torch: ``Conv2d(C, C, k, groups=C)``).

    ``weight`` has shape ``(C, 1, k, k)``, He-initialised for a fan-in of ``k * k``.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 3,
        *,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        bias: bool = True,
        rng: np.random.Generator,
    ) -> None:
        self.channels = _channels(channels, "channels")
        self.kernel_size, self.stride = int(kernel_size), int(stride)
        self.padding, self.dilation = int(padding), int(dilation)
        scale = np.sqrt(2.0 / (kernel_size * kernel_size))
        w = scale * rng.standard_normal((channels, 1, kernel_size, kernel_size))
        self.weight = Parameter(w)  # (C, 1, k, k)
        self.bias = Parameter(np.zeros(channels)) if bias else None

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        _check_input(x, self.channels, "DepthwiseConv2d")
        b = self.bias
        if b is None:
            b = Tensor(np.zeros(self.channels, dtype=self.weight.data.dtype))
        return depthwise_conv2d(
            x, self.weight, b, stride=self.stride, pad=self.padding, dilation=self.dilation
        )

    def __repr__(self) -> str:
        return f"DepthwiseConv2d({self.channels}, kernel_size={self.kernel_size})"


class DepthwiseSeparableConv(Module):
    """MobileNet's block: ``relu(pointwise(relu(depthwise(x))))``.

    The depthwise ``k x k`` convolution (stride ``stride``, padding ``k // 2``) filters each
    channel on its own; the 1x1 pointwise convolution mixes the channels. Same output shape
    as ``Conv2d(in_channels, out_channels, k, stride=stride, padding=k // 2)``, for about
    ``1/out_channels + 1/k**2`` of its multiply-adds (batch norm left out, as in the others).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        *,
        stride: int = 1,
        rng: np.random.Generator,
    ) -> None:
        self.in_channels = _channels(in_channels, "in_channels")
        self.out_channels = _channels(out_channels, "out_channels")
        self.depthwise = DepthwiseConv2d(
            in_channels, kernel_size, stride=stride, padding=kernel_size // 2, rng=rng
        )
        self.pointwise = Conv2d(in_channels, out_channels, 1, rng=rng)

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        _check_input(x, self.in_channels, "DepthwiseSeparableConv")
        return A.relu(self.pointwise(A.relu(self.depthwise(x))))

    def __repr__(self) -> str:
        return f"DepthwiseSeparableConv({self.in_channels}, {self.out_channels})"
