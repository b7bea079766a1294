"""dlkit.nn.regularization: the Dropout module (train vs eval, its generator, gradients)."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import nn
from dlkit.autograd import Tensor
from dlkit.testing import assert_close


def test_dropout_in_training_zeros_about_p_drop_and_scales_the_rest():
    layer = nn.Dropout(0.3, rng=np.random.default_rng(0))
    x = np.ones((200, 50))
    out = layer(x).data
    dropped = np.mean(out == 0)
    assert abs(dropped - 0.3) < 0.02  # 10,000 units: the fraction is within 2 points
    assert_close(out[out != 0], np.full(int(np.sum(out != 0)), 1 / 0.7), name="survivors")
    assert abs(out.mean() - 1.0) < 0.03  # inverted dropout keeps the expected value


def test_dropout_is_the_identity_in_eval_mode_and_for_p_drop_0():
    x = np.random.default_rng(1).standard_normal((4, 5))
    layer = nn.Dropout(0.5, rng=np.random.default_rng(0))
    layer.eval()
    assert_close(layer(x).data, x, name="eval mode")
    assert_close(nn.Dropout(0.0, rng=np.random.default_rng(0))(x).data, x, name="p_drop=0")
    model = nn.Sequential(nn.Linear(5, 3, rng=np.random.default_rng(2)), layer)
    model.train()
    assert layer.training
    model.eval()
    assert_close(model(x).data, model(x).data, name="two eval passes")


def test_the_gradient_flows_through_the_kept_units_only():
    x = Tensor(np.random.default_rng(2).standard_normal((6, 4)), requires_grad=True)
    out = nn.Dropout(0.5, rng=np.random.default_rng(3))(x)
    (out * 2.0).sum().backward()
    mask = out.data / x.data  # 0 or 2 where the unit was kept
    assert set(np.round(np.unique(mask), 12)) <= {0.0, 2.0}
    assert_close(x.grad, 2.0 * mask, name="dL/dx")


def test_the_layer_owns_its_generator_so_a_seed_repeats_the_masks():
    x = np.ones((3, 8))

    def masks(seed):
        layer = nn.Dropout(0.5, rng=np.random.default_rng(seed))
        return [layer(x).data for _ in range(3)]

    first, again, other = masks(4), masks(4), masks(5)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], first[1])  # a fresh mask every call
    assert not np.array_equal(first[0], other[0])
    assert repr(nn.Dropout(0.25, rng=np.random.default_rng(0))) == "Dropout(p_drop=0.25)"
    assert nn.Dropout(0.5, rng=np.random.default_rng(0)).parameters() == []


def test_dropout_on_torch_tensors_uses_the_same_mask(torch, device):
    x = np.random.default_rng(5).standard_normal((4, 6))
    expected = nn.Dropout(0.4, rng=np.random.default_rng(6))(x).data
    got = nn.Dropout(0.4, rng=np.random.default_rng(6))(torch.as_tensor(x, device=device)).data
    assert got.device.type == device
    assert_close(got, torch.as_tensor(expected, device=device), name="torch dropout")


@pytest.mark.parametrize(
    ("p_drop", "rng", "error", "match"),
    [
        (1.0, np.random.default_rng(0), ValueError, r"p_drop must be a number in \[0, 1\)"),
        (-0.1, np.random.default_rng(0), ValueError, "probability of dropping"),
        ("0.5", np.random.default_rng(0), ValueError, "p_drop must be a number"),
        (True, np.random.default_rng(0), ValueError, "p_drop must be a number"),
        (0.5, None, TypeError, "rng must be a np.random.Generator"),
        (0.5, 0, TypeError, "rng must be a np.random.Generator"),
    ],
)
def test_dropout_rejects_bad_arguments(p_drop, rng, error, match):
    with pytest.raises(error, match=match):
        nn.Dropout(p_drop, rng=rng)
