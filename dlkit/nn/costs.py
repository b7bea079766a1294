"""What a convolutional network costs: parameters to store and multiply-adds to compute.

A multiply-add (MAC) is one ``a * b + c``; it is what the MobileNet and ResNet papers count
("Mult-Adds"). Twice the MACs is the FLOP count that some papers quote instead.

* :func:`conv2d_params` and :func:`conv2d_mult_adds`: the formulas for one convolution, with
  ``groups`` for depthwise (``groups = C``) convolutions;
* :func:`count_parameters`: the number of trainable numbers in a module;
* :func:`mult_adds`: walks a model (convolutions, linear layers, pools, activations and the
  blocks of ``dlkit.nn.blocks``) for an input shape and adds up the multiply-adds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["conv2d_params", "conv2d_mult_adds", "count_parameters", "mult_adds"]


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _pair(value: Any, name: str) -> tuple[int, int]:
    items = value if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2:
        raise ValueError(f"{name} must be an int or a pair (rows, cols); got {value!r}")
    return _positive(items[0], name), _positive(items[1], name)


def _groups(in_channels: int, out_channels: int, groups: Any) -> int:
    groups = _positive(groups, "groups")
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"groups must divide in_channels and out_channels; got groups={groups} for "
            f"in_channels={in_channels}, out_channels={out_channels}"
        )
    return groups


def conv2d_params(
    in_channels: int, out_channels: int, kernel_size: Any, *, bias: bool = True, groups: int = 1
) -> int:
    """Parameters of a convolution: ``out * (in / groups) * KH * KW`` weights + ``out`` biases.

    Examples: a 3x3 conv from 64 to 128 channels has ``128 * 64 * 9 + 128 = 73,856``; its
    depthwise version (``groups = in = out = 64``) has ``64 * 9 + 64 = 640``.
    """
    cin, cout = _positive(in_channels, "in_channels"), _positive(out_channels, "out_channels")
    kh, kw = _pair(kernel_size, "kernel_size")
    g = _groups(cin, cout, groups)
    return cout * (cin // g) * kh * kw + (cout if bias else 0)


def conv2d_mult_adds(
    in_channels: int, out_channels: int, kernel_size: Any, out_size: Any, *, groups: int = 1
) -> int:
    """Multiply-adds of one convolution for one image: each of the ``OH * OW * out`` outputs
    is a dot product of length ``(in / groups) * KH * KW``.

    Args:
        out_size: the output's spatial size ``OH`` (square) or ``(OH, OW)``.
    """
    cin, cout = _positive(in_channels, "in_channels"), _positive(out_channels, "out_channels")
    kh, kw = _pair(kernel_size, "kernel_size")
    oh, ow = _pair(out_size, "out_size")
    g = _groups(cin, cout, groups)
    return oh * ow * cout * (cin // g) * kh * kw


def count_parameters(module: Any) -> int:
    """The number of trainable numbers in ``module`` (every ``Parameter``, counted once)."""
    if not hasattr(module, "parameters"):
        raise TypeError(f"module must be a dlkit.nn.Module; got {type(module).__name__}")
    return int(sum(int(np.prod(p.shape)) for p in module.parameters()))


def _out(size: int, kernel: int, stride: int, pad: int, dilation: int = 1) -> int:
    return (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1


def _as_pair(value: Any) -> tuple[int, int]:
    return (int(value[0]), int(value[1])) if isinstance(value, (tuple, list)) else (value, value)


def _conv_geometry(layer: Any) -> tuple[Any, ...]:
    """``(F, C, KH, KW, stride, padding, dilation)`` of a Conv2d-like layer."""
    f, c, kh, kw = (int(s) for s in layer.weight.shape)
    geometry = (_as_pair(getattr(layer, a)) for a in ("stride", "padding", "dilation"))
    return (f, c, kh, kw, *geometry)


def mult_adds(module: Any, input_shape: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """Multiply-adds of one forward pass of ``module`` on ONE example of ``input_shape``.

    ``input_shape`` is ``(C, H, W)`` for images or ``(D,)`` for vectors, without the batch
    axis. Returns ``(mult_adds, output_shape)``. Activations, pooling and additions are
    counted as free (they are a small fraction of the work, and most papers leave them out).
    """
    from . import blocks
    from . import conv as conv_modules
    from .modules import Linear, Sequential

    shape = tuple(int(s) for s in input_shape)
    if isinstance(module, Sequential):
        total = 0
        for layer in module.layers:
            cost, shape = mult_adds(layer, shape)
            total += cost
        return total, shape
    if isinstance(module, (conv_modules.Conv2d, blocks.DepthwiseConv2d)):
        if len(shape) != 3:
            raise ValueError(f"a convolution needs input_shape (C, H, W); got {shape}")
        f, c, kh, kw, (sh, sw), (ph, pw), (dh, dw) = _conv_geometry(module)
        depthwise = isinstance(module, blocks.DepthwiseConv2d)
        cin = shape[0]
        cout = cin if depthwise else f
        oh, ow = _out(shape[1], kh, sh, ph, dh), _out(shape[2], kw, sw, pw, dw)
        cost = conv2d_mult_adds(cin, cout, (kh, kw), (oh, ow), groups=cin if depthwise else 1)
        return cost, (cout, oh, ow)
    if isinstance(module, Linear):
        return module.in_features * module.out_features, (module.out_features,)
    if isinstance(module, blocks.ResidualBlock):
        c1, s1 = mult_adds(module.conv1, shape)
        c2, s2 = mult_adds(module.conv2, s1)
        c3 = mult_adds(module.shortcut, shape)[0] if module.shortcut is not None else 0
        return c1 + c2 + c3, s2
    if isinstance(module, blocks.InceptionBlock):
        total = 0
        for first, second in (
            (module.branch1, None),
            (module.reduce3, module.branch3),
            (module.reduce5, module.branch5),
            (module.pool_proj, None),
        ):
            cost, mid = mult_adds(first, shape)
            total += cost + (mult_adds(second, mid)[0] if second is not None else 0)
        return total, (module.out_channels, *shape[1:])
    if isinstance(module, blocks.DepthwiseSeparableConv):
        c1, s1 = mult_adds(module.depthwise, shape)
        c2, s2 = mult_adds(module.pointwise, s1)
        return c1 + c2, s2
    pool_size = getattr(module, "size", None)
    if pool_size is not None and len(shape) == 3:  # MaxPool2d / AvgPool2d: no multiply-adds
        (kh, kw), stride = _pair(pool_size, "size"), getattr(module, "stride", None)
        sh, sw = _pair(stride, "stride") if stride else (kh, kw)
        return 0, (shape[0], _out(shape[1], kh, sh, 0), _out(shape[2], kw, sw, 0))
    if type(module).__name__ == "Flatten":
        return 0, (int(np.prod(shape)),)
    if not module.parameters():  # activations, dropout: shape-preserving and free
        return 0, shape
    raise TypeError(f"mult_adds does not know the layer {type(module).__name__}")
