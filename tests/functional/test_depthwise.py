"""dlkit.functional.depthwise: the depthwise convolution kernel pair against torch (groups=C)."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.functional as F
from dlkit.functional.depthwise import conv_output_size
from dlkit.testing import check_layer_gradients

from ._reference import expect_like, expect_numpy

GEOMETRIES = [  # (kernel, stride, pad, dilation)
    (3, 1, 0, 1),
    (3, 1, 1, 1),
    (3, 2, 1, 1),
    (2, 3, 2, 1),
    (3, 1, 2, 2),
    (5, 2, 1, 2),
    (1, 1, 0, 1),
]


def depthwise_inputs(rng, n=2, c=3, h=9, w=8, k=3, dtype=np.float64):
    return {
        "x": rng.standard_normal((n, c, h, w)).astype(dtype),
        "w": rng.standard_normal((c, 1, k, k)).astype(dtype),
        "b": rng.standard_normal(c).astype(dtype),
    }


@pytest.mark.parametrize("k, s, p, d", GEOMETRIES)
def test_backward_matches_central_differences(k, s, p, d, rng):
    check_layer_gradients(
        F.depthwise_conv2d_forward,
        F.depthwise_conv2d_backward,
        depthwise_inputs(rng, n=2, c=2, h=10, w=9, k=k),
        rng=rng,
        stride=s,
        pad=p,
        dilation=d,
    )


@pytest.mark.parametrize("k, s, p, d", GEOMETRIES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch_groups_equal_channels(k, s, p, d, dtype, device, torch, rng):
    tdtype = getattr(torch, dtype)
    arrays = depthwise_inputs(rng, k=k)
    x, w, b = (torch.tensor(a, dtype=tdtype, device=device) for a in arrays.values())
    leaves = [t.clone().requires_grad_(True) for t in (x, w, b)]
    ref = torch.nn.functional.conv2d(*leaves, stride=s, padding=p, dilation=d, groups=3)
    dout = torch.tensor(rng.standard_normal(tuple(ref.shape)), dtype=tdtype, device=device)
    ref.backward(dout)

    out, cache = F.depthwise_conv2d_forward(x, w, b, stride=s, pad=p, dilation=d)
    expect_like(out, ref)
    for grad, leaf in zip(F.depthwise_conv2d_backward(dout, cache), leaves, strict=True):
        expect_like(grad, leaf.grad)


def test_numpy_float32_stays_float32_and_shapes_follow_the_formula(rng):
    inputs = depthwise_inputs(rng, dtype=np.float32)
    out, cache = F.depthwise_conv2d_forward(**inputs, stride=2, pad=1)
    oh, ow = conv_output_size(9, 3, stride=2, pad=1), conv_output_size(8, 3, stride=2, pad=1)
    expect_numpy(out, (2, 3, oh, ow), np.float32)
    dx, dw, db = F.depthwise_conv2d_backward(np.ones_like(out), cache)
    expect_numpy(dx, (2, 3, 9, 8), np.float32)
    expect_numpy(dw, (3, 1, 3, 3), np.float32)
    expect_numpy(db, (3,), np.float32)


def test_each_channel_is_filtered_on_its_own(rng):
    inputs = depthwise_inputs(rng)
    out, _ = F.depthwise_conv2d_forward(**inputs, pad=1)
    for c in range(3):  # the same as an ordinary convolution of channel c with filter c
        single, _ = F.conv2d_forward(
            inputs["x"][:, c : c + 1], inputs["w"][c : c + 1], inputs["b"][c : c + 1], 1, 1
        )
        np.testing.assert_allclose(out[:, c : c + 1], single, rtol=1e-12, atol=1e-12)


def test_bad_input_names_the_argument(rng):
    inputs = depthwise_inputs(rng)
    with pytest.raises(ValueError, match=r"w must be 4-D with shape \(C, 1, KH, KW\)"):
        F.depthwise_conv2d_forward(inputs["x"], np.ones((3, 3, 3)), inputs["b"])
    with pytest.raises(ValueError, match=r"w has shape \(4, 1, 3, 3\).*C=3"):
        F.depthwise_conv2d_forward(inputs["x"], np.ones((4, 1, 3, 3)), inputs["b"])
    with pytest.raises(ValueError, match=r"w must have shape \(C, 1, KH, KW\) with size 1"):
        F.depthwise_conv2d_forward(inputs["x"], np.ones((3, 2, 3, 3)), inputs["b"])
    with pytest.raises(ValueError, match="stride must be an integer >= 1; got 0"):
        F.depthwise_conv2d_forward(**inputs, stride=0)
    with pytest.raises(ValueError, match="does not fit"):
        F.depthwise_conv2d_forward(inputs["x"], np.ones((3, 1, 11, 11)), inputs["b"])
    _, cache = F.depthwise_conv2d_forward(**inputs)
    with pytest.raises(ValueError, match=r"dout must have shape"):
        F.depthwise_conv2d_backward(np.ones((2, 3, 5, 5)), cache)
    with pytest.raises(TypeError, match="cache must be the tuple"):
        F.depthwise_conv2d_backward(np.ones((2, 3, 7, 6)), (1, 2))
