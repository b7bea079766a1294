"""dlkit.nn.blocks: residual, Inception and depthwise-separable blocks against torch."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import nn
from dlkit.autograd import Tensor
from dlkit.nn.costs import count_parameters

# -- helpers: the same block in torch, with dlkit's weights copied over ----------------------


def _copy(torch, ours, theirs) -> None:
    with torch.no_grad():
        theirs.weight.copy_(torch.as_tensor(ours.weight.data))
        if ours.bias is not None:
            theirs.bias.copy_(torch.as_tensor(ours.bias.data))


def _conv(torch, ours, **kwargs):
    """A torch Conv2d with the geometry and weights of a dlkit Conv2d / DepthwiseConv2d."""
    f, c, kh, kw = ours.weight.shape
    groups = kwargs.pop("groups", 1)
    theirs = torch.nn.Conv2d(
        c * groups, f, (kh, kw), bias=ours.bias is not None, groups=groups, **kwargs
    ).double()
    _copy(torch, ours, theirs)
    return theirs


def torch_residual(torch, block):
    relu = torch.nn.functional.relu
    conv1 = _conv(torch, block.conv1, stride=block.conv1.stride, padding=1)
    conv2 = _conv(torch, block.conv2, padding=1)
    shortcut = None
    if block.shortcut is not None:
        shortcut = _conv(torch, block.shortcut, stride=block.shortcut.stride)

    def forward(x):
        skip = x if shortcut is None else shortcut(x)
        return relu(conv2(relu(conv1(x))) + skip)

    return forward, [conv1, conv2] + ([shortcut] if shortcut is not None else [])


def torch_inception(torch, block):
    relu, pool = torch.nn.functional.relu, torch.nn.functional.max_pool2d
    c = {
        name: _conv(torch, getattr(block, name), padding=getattr(block, name).padding)
        for name in ("branch1", "reduce3", "branch3", "reduce5", "branch5", "pool_proj")
    }

    def forward(x):
        return torch.cat(
            [
                relu(c["branch1"](x)),
                relu(c["branch3"](relu(c["reduce3"](x)))),
                relu(c["branch5"](relu(c["reduce5"](x)))),
                relu(c["pool_proj"](pool(x, 3, stride=1, padding=1))),
            ],
            dim=1,
        )

    order = ("branch1", "reduce3", "branch3", "reduce5", "branch5", "pool_proj")
    return forward, [c[k] for k in order]


def torch_separable(torch, block):
    relu = torch.nn.functional.relu
    dw = block.depthwise
    depthwise = _conv(torch, dw, stride=dw.stride, padding=dw.padding, groups=dw.channels)
    pointwise = _conv(torch, block.pointwise)

    def forward(x):
        return relu(pointwise(relu(depthwise(x))))

    return forward, [depthwise, pointwise]


BLOCKS = {
    "residual identity": (lambda r: nn.ResidualBlock(4, 4, rng=r), torch_residual, 4, (4, 7, 6)),
    "residual projection": (
        lambda r: nn.ResidualBlock(3, 6, stride=2, rng=r),
        torch_residual,
        3,
        (6, 4, 3),
    ),
    "residual forced projection": (
        lambda r: nn.ResidualBlock(4, 4, projection=True, rng=r),
        torch_residual,
        4,
        (4, 7, 6),
    ),
    "inception": (
        lambda r: nn.InceptionBlock(5, 2, 3, 1, 2, r3=3, r5=2, rng=r),
        torch_inception,
        5,
        (8, 7, 6),
    ),
    "separable": (
        lambda r: nn.DepthwiseSeparableConv(4, 6, rng=r),
        torch_separable,
        4,
        (6, 7, 6),
    ),
    "separable stride 2, 5x5": (
        lambda r: nn.DepthwiseSeparableConv(3, 5, 5, stride=2, rng=r),
        torch_separable,
        3,
        (5, 4, 3),
    ),
}


def _nonzero_biases(block, rng) -> None:
    """Biases start at zero; give them values so that a forgotten bias would show."""
    for p in block.parameters():
        if p.ndim == 1:
            p.data[...] = rng.standard_normal(p.shape)


# -- parity with torch: values, gradients, parameter counts ---------------------------------


@pytest.mark.parametrize("name", list(BLOCKS))
def test_forward_and_backward_match_torch(name, torch, rng):
    make, mirror, channels, out_shape = BLOCKS[name]
    block = make(rng)
    _nonzero_biases(block, rng)
    forward, torch_convs = mirror(torch, block)
    x = rng.standard_normal((2, channels, 7, 6))
    dout = rng.standard_normal((2, *out_shape))

    xt = Tensor(x, requires_grad=True)
    out = block(xt)
    assert out.shape == (2, *out_shape)
    (out * Tensor(dout)).sum().backward()

    x_ref = torch.tensor(x, requires_grad=True)
    ref = forward(x_ref)
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xt.grad, x_ref.grad.numpy(), rtol=1e-10, atol=1e-12)

    ours = [p for p in block.parameters()]
    theirs = [p for conv in torch_convs for p in conv.parameters()]
    assert len(ours) == len(theirs)
    for p, q in zip(ours, theirs, strict=True):
        assert tuple(p.shape) == tuple(q.shape)
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-9, atol=1e-11)
    assert count_parameters(block) == sum(q.numel() for q in theirs)


def test_every_parameter_receives_a_gradient(rng):
    for make, _, channels, _ in BLOCKS.values():
        block = make(rng)
        block(Tensor(rng.standard_normal((2, channels, 7, 6)))).sum().backward()
        for p in block.parameters():
            assert p.grad is not None and np.abs(p.grad).sum() > 0


def test_identity_shortcut_passes_the_gradient_when_the_branch_is_dead(rng):
    block = nn.ResidualBlock(3, 3, rng=rng)
    block.conv2.weight.data[...] = 0.0  # F(x) = 0: the block is the identity (after ReLU)
    x = np.abs(rng.standard_normal((1, 3, 5, 5))) + 0.1
    xt = Tensor(x, requires_grad=True)
    out = block(xt)
    np.testing.assert_allclose(out.numpy(), x)
    out.sum().backward()
    np.testing.assert_allclose(xt.grad, np.ones_like(x))


def test_shortcut_is_a_projection_exactly_when_shapes_change(rng):
    assert nn.ResidualBlock(4, 4, rng=rng).shortcut is None
    assert nn.ResidualBlock(4, 8, rng=rng).shortcut is not None
    assert nn.ResidualBlock(4, 4, stride=2, rng=rng).shortcut is not None
    assert "identity" in repr(nn.ResidualBlock(4, 4, rng=rng))


def test_inception_keeps_the_size_and_stacks_the_branches(rng):
    block = nn.InceptionBlock(6, 4, 8, 2, 3, rng=rng)
    assert block.out_channels == 17
    assert block(rng.standard_normal((1, 6, 5, 9))).shape == (1, 17, 5, 9)
    assert block.reduce3.out_channels == 3 and block.reduce5.out_channels == 3  # in // 2


def test_pool_branch_pads_with_minus_infinity_as_torch(torch, rng):
    block = nn.InceptionBlock(2, 1, 1, 1, 1, rng=rng)
    _nonzero_biases(block, rng)
    forward, _ = torch_inception(torch, block)
    x = -10.0 - np.abs(rng.standard_normal((1, 2, 4, 4)))  # all < 0: a zero padding would win
    np.testing.assert_allclose(block(x).numpy(), forward(torch.tensor(x)).detach().numpy())


@pytest.mark.parametrize(
    "make, bad, match",
    [
        (lambda r: nn.ResidualBlock(4, 4, rng=r), (1, 3, 5, 5), r"\(N, 4, H, W\).*\(1, 3, 5, 5\)"),
        (lambda r: nn.InceptionBlock(4, 1, 1, 1, 1, rng=r), (4, 5, 5), r"\(N, 4, H, W\)"),
        (lambda r: nn.DepthwiseSeparableConv(2, 3, rng=r), (1, 3, 4, 4), r"\(N, 2, H, W\)"),
    ],
)
def test_wrong_input_shape_names_the_expected_shape(make, bad, match, rng):
    with pytest.raises(ValueError, match=match):
        make(rng)(np.zeros(bad))


def test_bad_channel_counts_are_rejected(rng):
    with pytest.raises(ValueError, match="out_channels must be a positive integer"):
        nn.ResidualBlock(4, 0, rng=rng)
    with pytest.raises(ValueError, match="c5 must be a positive integer"):
        nn.InceptionBlock(4, 1, 1, -1, 1, rng=rng)
    with pytest.raises(ValueError, match="channels must be a positive integer"):
        nn.DepthwiseConv2d(2.5, rng=rng)


def test_depthwise_module_without_bias_matches_torch(torch, rng):
    layer = nn.DepthwiseConv2d(3, 3, padding=1, dilation=2, bias=False, rng=rng)
    x = rng.standard_normal((2, 3, 6, 6))
    ref = torch.nn.functional.conv2d(
        torch.tensor(x), torch.tensor(layer.weight.data), padding=1, dilation=2, groups=3
    )
    np.testing.assert_allclose(layer(x).numpy(), ref.numpy(), rtol=1e-12)
    assert count_parameters(layer) == 27
