"""dlkit.nn.arrays: checks and conversions of the data given to fit / evaluate / predict."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import nn
from dlkit.nn import arrays


def test_lists_become_numpy_and_labels_stay_integers():
    x = arrays.as_data([[0.0, 1.0], [2.0, 3.0]], "x")
    y = arrays.as_data([0, 1], "y")
    assert x.dtype == np.float64 and y.dtype.kind == "i"
    with pytest.raises(ValueError, match="y must hold at least one example"):
        arrays.as_data(np.float64(3.0), "y")


def test_to_model_casts_floats_to_the_parameters_dtype_only():
    like = np.zeros(2, dtype=np.float32)
    assert arrays.to_model(np.ones(3), like).dtype == np.float32
    assert arrays.to_model(np.arange(3), like).dtype.kind == "i"


def test_to_model_moves_between_numpy_and_torch(torch, device):
    like = torch.zeros(2, dtype=torch.float64, device=device)
    moved = arrays.to_model(np.ones(3, dtype=np.float32), like)
    assert moved.dtype == torch.float64 and moved.device.type == device
    labels = arrays.to_model(np.arange(3), like)
    assert labels.dtype == torch.int64 and labels.device.type == device
    back = arrays.to_model(torch.ones(3, device=device), np.zeros(1))
    assert isinstance(back, np.ndarray) and back.dtype == np.float64
    idx = np.array([2, 0])
    assert arrays.take(torch.arange(4, device=device), idx).tolist() == [2, 0]
    assert arrays.concat([torch.ones(2), torch.zeros(1)]).tolist() == [1.0, 1.0, 0.0]


def test_pair_names_the_arguments_and_make_rng():
    model = nn.Linear(2, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"y_val must have one entry per example of x_val"):
        arrays.pair(model, np.ones((3, 2)), np.ones(2), names=("x_val", "y_val"))
    a = arrays.make_rng(None, 3).random(2)
    assert np.array_equal(a, np.random.default_rng(3).random(2))
    gen = np.random.default_rng(0)
    assert arrays.make_rng(gen, None) is gen
    assert arrays.check_count(np.int64(4), "epochs", 0) == 4
