"""dlkit.nn.progress: the tqdm bars of ``fit(verbose=...)``."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import nn
from dlkit.data import make_moons


def model_and_data():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(2, 8, rng=rng), nn.ReLU(), nn.Linear(8, 2, rng=rng))
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    return model, *make_moons(40, noise=0.2, rng=rng)


def test_verbose_1_draws_a_bar_per_epoch_with_the_loss(capsys):
    model, X, y = model_and_data()
    model.fit(X, y, epochs=2, batch_size=10, validation_split=0.25, seed=0, verbose=1)
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err and "3/3" in err  # 30 examples, 3 batches
    assert "loss=" in err and "accuracy=" in err and "val_accuracy=" in err


def test_verbose_2_draws_one_bar_for_the_run(capsys):
    model, X, y = model_and_data()
    model.fit(X, y, epochs=3, verbose=2, seed=0)
    err = capsys.readouterr().err
    assert "training" in err and "3/3" in err and "epoch 1/3" not in err and "loss=" in err


def test_verbose_0_and_evaluate_and_predict_are_silent(capsys):
    model, X, y = model_and_data()
    model.fit(X, y, epochs=2, verbose=0, seed=0)
    model.evaluate(X, y)
    model.predict(X)
    assert capsys.readouterr() == ("", "")


def test_the_bar_is_closed_and_the_mode_restored_when_training_fails(capsys):
    from tqdm import tqdm

    model, X, y = model_and_data()
    model.eval()

    def explode(batch, logs):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        model.fit(X, y, epochs=1, callbacks=[nn.LambdaCallback(on_batch_end=explode)], verbose=1)
    assert "epoch 1/1" in capsys.readouterr().err
    assert len(tqdm._instances) == 0 and not model.training
    with pytest.raises(ValueError, match=r"verbose must be 1 \(a bar per epoch\) or 2"):
        nn.ProgressBar(0)
