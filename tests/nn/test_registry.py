"""dlkit.nn.registry: the named metrics and losses, and how objects are resolved."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.autograd as A
from dlkit import metrics as M
from dlkit import nn, optim
from dlkit.autograd import Tensor
from dlkit.nn import registry as R
from dlkit.testing import assert_close

LOGITS = np.array([[2.0, 0.1, -1.0], [0.0, 3.0, 0.5], [0.2, 0.1, 0.3], [1.0, -2.0, 0.0]])
LABELS = np.array([0, 1, 0, 0])


def test_accuracy_for_labels_one_hot_and_one_logit():
    assert R.accuracy(LABELS, LOGITS) == 0.75
    assert R.accuracy(np.eye(3)[LABELS], LOGITS) == 0.75  # one-hot rows
    logit = np.array([[1.5], [-0.2], [0.1], [-3.0]])
    y01 = np.array([1, 0, 0, 0])
    assert R.accuracy(y01, logit) == 0.75  # a logit > 0 predicts class 1
    assert R.accuracy(y01.astype(float).reshape(-1, 1), logit[:, 0]) == 0.75
    with pytest.raises(ValueError, match=r"y_true must be labels \(N,\) or one-hot"):
        R.accuracy(np.zeros((4, 2)), LOGITS)
    with pytest.raises(ValueError, match=r"outputs \(N,\) or \(N, C\)"):
        R.accuracy(LABELS, np.zeros((4, 3, 1)))


def test_precision_and_recall_binary_and_macro():
    p, r, _ = M.precision_recall_f1(LABELS, LOGITS.argmax(axis=1), average="macro")
    assert R.precision(LABELS, LOGITS) == p and R.recall(LABELS, LOGITS) == r
    logit = np.array([1.0, 1.0, -1.0, 1.0, -1.0])
    y = np.array([1, 0, 1, 1, 0])
    assert R.precision(y, logit) == pytest.approx(2 / 3)  # 2 of 3 predicted positives
    assert R.recall(y, logit) == pytest.approx(2 / 3)  # 2 of 3 positives found


def test_regression_metrics_fit_n_by_1_outputs():
    pred = np.array([[1.0], [2.0], [4.0]])
    y = np.array([1.0, 3.0, 2.0])
    assert R.mean_absolute_error(y, pred) == pytest.approx(1.0)
    assert R.mean_squared_error(y, pred) == pytest.approx(5 / 3)
    with pytest.raises(ValueError, match=r"y_true must have the outputs' shape \(3, 1\)"):
        R.mean_squared_error(np.ones((3, 2)), pred)


def test_named_losses_equal_the_autograd_ops(rng):
    z = Tensor(rng.standard_normal((4, 1)))
    y = np.array([1, 0, 1, 1])
    assert_close(
        R.binary_crossentropy(z, y).data,
        A.binary_cross_entropy(Tensor(z.data[:, 0]), y.astype(float)).data,
        name="bce",
    )
    target = rng.standard_normal(4)
    assert_close(R.mse(z, target).data, np.mean((z.data[:, 0] - target) ** 2), name="mse")
    assert_close(R.mae(z, target).data, np.mean(np.abs(z.data[:, 0] - target)), name="mae")
    assert R.huber(z, target).shape == ()
    assert_close(
        R.categorical_crossentropy(Tensor(LOGITS), np.eye(3)[LABELS]).data,
        R.sparse_categorical_crossentropy(Tensor(LOGITS), LABELS).data,
        name="ce",
    )


def test_get_functions_resolve_names_case_insensitively():
    params = nn.Linear(2, 2, rng=np.random.default_rng(0)).parameters()
    assert isinstance(R.get_optimizer("RMSProp", params), optim.RMSProp)
    assert R.get_loss("MSE") is R.mse
    assert R.get_metrics("Accuracy") == {"accuracy": R.accuracy}
    assert R.get_metrics(None) == {}
    assert list(R.get_metrics([M.accuracy, "mae"])) == ["accuracy", "mae"]
    with pytest.raises(TypeError, match="metrics must be a list"):
        R.get_metrics(3)
    assert sorted(R.OPTIMIZERS) == ["adadelta", "adagrad", "adam", "adamw", "rmsprop", "sgd"]
    assert sorted(R.LOSSES) == sorted(
        [
            "sparse_categorical_crossentropy",
            "categorical_crossentropy",
            "binary_crossentropy",
            "mse",
            "mae",
            "huber",
        ]
    )
