"""dlkit.nn.costs: parameter and multiply-add counts, checked against torch and by hand."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import nn
from dlkit.nn.costs import conv2d_mult_adds, conv2d_params, count_parameters, mult_adds


@pytest.mark.parametrize(
    "cin, cout, k, bias, groups",
    [
        (3, 16, 3, True, 1),
        (64, 128, 3, True, 1),
        (8, 8, (3, 5), False, 1),
        (12, 12, 3, True, 12),
        (6, 9, 1, True, 3),
    ],
)
def test_conv2d_params_equals_torch_numel(cin, cout, k, bias, groups, torch):
    layer = torch.nn.Conv2d(cin, cout, k, bias=bias, groups=groups)
    assert conv2d_params(cin, cout, k, bias=bias, groups=groups) == sum(
        p.numel() for p in layer.parameters()
    )


def test_conv2d_params_worked_examples():
    assert conv2d_params(64, 128, 3) == 73_856
    assert conv2d_params(64, 64, 3, groups=64) == 640
    assert conv2d_params(3, 64, 7) == 9_472


def test_conv2d_mult_adds_counts_one_dot_product_per_output():
    # 32x32 output, 64 -> 64 channels, 3x3: each of 64*32*32 outputs is a length-576 dot product
    assert conv2d_mult_adds(64, 64, 3, 32) == 64 * 32 * 32 * 64 * 9
    assert conv2d_mult_adds(64, 64, 3, (32, 16)) == 64 * 32 * 16 * 64 * 9
    assert conv2d_mult_adds(64, 64, 3, 32, groups=64) == 64 * 32 * 32 * 9


def test_mobilenet_ratio_is_one_over_f_plus_one_over_k_squared(rng):
    full = nn.Conv2d(32, 48, 3, padding=1, rng=rng)
    separable = nn.DepthwiseSeparableConv(32, 48, rng=rng)
    macs_full, shape_full = mult_adds(full, (32, 10, 10))
    macs_sep, shape_sep = mult_adds(separable, (32, 10, 10))
    assert shape_full == shape_sep == (48, 10, 10)
    assert macs_sep / macs_full == pytest.approx(1 / 48 + 1 / 9)


def test_mult_adds_of_a_whole_cnn(rng):
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, stride=2, rng=rng), nn.ReLU(),
        nn.Flatten(), nn.Linear(16 * 3 * 3, 10, rng=rng),
    )  # fmt: skip
    macs, shape = mult_adds(model, (1, 16, 16))
    conv1 = 16 * 16 * 8 * 9
    conv2 = 3 * 3 * 16 * 8 * 9  # 8x8 input, 3x3, stride 2, no padding: 3x3 output
    assert macs == conv1 + conv2 + 144 * 10
    assert shape == (10,)
    assert model(np.zeros((1, 1, 16, 16))).shape == (1, 10)


def test_block_costs_add_up_their_convolutions(rng):
    res = nn.ResidualBlock(4, 8, stride=2, rng=rng)
    macs, shape = mult_adds(res, (4, 8, 8))
    assert shape == (8, 4, 4)
    assert macs == 16 * (8 * 4 * 9 + 8 * 8 * 9 + 8 * 4)
    inc = nn.InceptionBlock(4, 2, 3, 1, 2, r3=2, r5=1, rng=rng)
    macs, shape = mult_adds(inc, (4, 5, 5))
    assert shape == (8, 5, 5)
    assert macs == 25 * (2 * 4 + 2 * 4 + 3 * 2 * 9 + 1 * 4 + 1 * 1 * 25 + 2 * 4)


def test_count_parameters_matches_the_parameters(rng):
    model = nn.Sequential(nn.Conv2d(3, 4, 3, rng=rng), nn.Flatten(), nn.Linear(4, 2, rng=rng))
    assert count_parameters(model) == 3 * 4 * 9 + 4 + 4 * 2 + 2
    with pytest.raises(TypeError, match="dlkit.nn.Module"):
        count_parameters(np.zeros(3))


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="in_channels must be a positive integer; got 0"):
        conv2d_params(0, 4, 3)
    with pytest.raises(ValueError, match="groups must divide"):
        conv2d_params(6, 4, 3, groups=4)
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        conv2d_mult_adds(2, 2, (1, 2, 3), 4)
    with pytest.raises(ValueError, match=r"input_shape \(C, H, W\)"):
        mult_adds(nn.Conv2d(1, 1, 1, rng=np.random.default_rng(0)), (4,))
