"""dlkit.nn.callbacks: hook order, History, EarlyStopping (the unit 06 contract),
LearningRateScheduler, LambdaCallback and LiveCurves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlkit import nn, optim
from dlkit.data import make_moons
from dlkit.testing import assert_close


def mlp(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(2, 8, rng=rng), nn.ReLU(), nn.Linear(8, 2, rng=rng))


def data(n=40):
    return make_moons(n, noise=0.2, rng=np.random.default_rng(1))


def compiled(optimizer="sgd", lr=0.1, **kwargs):
    model = mlp()
    model.compile(optimizer, "sparse_categorical_crossentropy", ["accuracy"], lr=lr, **kwargs)
    return model


class Recorder(nn.Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin",))

    def on_train_end(self, logs=None):
        self.events.append(("train_end",))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, sorted(logs)))

    def on_batch_begin(self, batch, logs=None):
        self.events.append(("batch_begin", batch))

    def on_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, sorted(logs)))


class Inject(nn.Callback):
    """Puts a scripted number into the epoch logs under ``key``, before the others read them."""

    def __init__(self, key, values):
        self.key, self.values = key, list(values)

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


# -- hooks and History --------------------------------------------------------------------------


def test_hooks_run_in_order_with_the_documented_logs():
    X, y = data(30)
    rec = Recorder()
    model = compiled()
    model.fit(X, y, epochs=2, batch_size=20, validation_split=1 / 3, callbacks=[rec], verbose=0)
    epoch_keys = ["accuracy", "loss", "val_accuracy", "val_loss"]
    batch_keys = ["batch", "loss", "size"]
    one_epoch = lambda e: (
        [  # noqa: E731
            ("epoch_begin", e),
            ("batch_begin", 0),
            ("batch_end", 0, batch_keys),
        ]
        + [("epoch_end", e, epoch_keys)]
    )
    assert rec.events == [("train_begin",), *one_epoch(0), *one_epoch(1), ("train_end",)]
    assert rec.model is model and rec.params == {"epochs": 2, "steps": 1, "verbose": 0}


def test_history_records_each_epoch_and_restarts_with_each_fit():
    X, y = data()
    model = compiled()
    first = model.fit(X, y, epochs=3, verbose=0, seed=0)
    assert first.epoch == [0, 1, 2] and list(first.history) == ["loss", "accuracy"]
    assert "History(epochs=3" in repr(first)
    second = model.fit(X, y, epochs=1, verbose=0, seed=0)
    assert second is model.history and second.epoch == [0] and len(first.epoch) == 3


def test_lambda_callback_runs_the_functions_it_is_given():
    X, y = data()
    seen = []
    cb = nn.LambdaCallback(
        on_train_begin=lambda logs: seen.append("begin"),
        on_epoch_end=lambda epoch, logs: seen.append(round(logs["loss"], 12)),
    )
    history = compiled().fit(X, y, epochs=2, callbacks=[cb], verbose=0, seed=0)
    assert seen == ["begin"] + [round(v, 12) for v in history.history["loss"]]
    with pytest.raises(ValueError, match=r"unknown hook 'on_step'.*'on_batch_end'"):
        nn.LambdaCallback(on_step=print)
    with pytest.raises(TypeError, match="on_epoch_end must be a function"):
        nn.LambdaCallback(on_epoch_end=3)


# -- EarlyStopping: the rule ---------------------------------------------------------------------


def reference_stop(values, patience, min_delta, mode):
    """The contract, written out plainly: (stop index or None, best, best_epoch, wait)."""
    best, best_epoch, wait = (math.inf if mode == "min" else -math.inf), None, 0
    for i, v in enumerate(values):
        better = v < best - min_delta if mode == "min" else v > best + min_delta
        if better:
            best, best_epoch, wait = v, i, 0
        else:
            wait += 1
            if wait >= patience:
                return i, best, best_epoch, wait
    return None, best, best_epoch, wait


@pytest.mark.parametrize("mode", ["min", "max"])
def test_update_follows_the_contract_on_random_sequences_with_plateaus(mode):
    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(1, 15))
        values = np.round(rng.standard_normal(n).cumsum() * 0.1, 1)  # many ties and plateaus
        patience, min_delta = int(rng.integers(1, 4)), float(rng.choice([0.0, 0.05, 0.1]))
        es = nn.EarlyStopping(patience=patience, min_delta=min_delta, mode=mode)
        stop_at = next((i for i, v in enumerate(values) if es.update(v)), None)
        want = reference_stop(values, patience, min_delta, mode)
        assert (stop_at, es.best, es.best_epoch, es.wait) == want, (trial, values)
        assert es.stopped_epoch == stop_at


def test_update_details():
    es = nn.EarlyStopping(patience=2, min_delta=0.1)
    assert es.mode == "min" and es.best == math.inf and es.stopped_epoch is None
    assert not es.update(1.0)  # the first value always improves
    assert (es.best, es.best_epoch, es.wait) == (1.0, 0, 0)
    assert not es.update(0.95)  # within min_delta: a plateau
    assert (es.best, es.wait) == (1.0, 1)
    assert not es.update(0.8, epoch=10)  # an explicit epoch number is kept
    assert (es.best, es.best_epoch, es.wait) == (0.8, 10, 0)
    assert not es.update(float("nan"))  # NaN never improves
    assert es.update(0.75) and es.stopped_epoch == 4 and es.wait == 2
    es.reset()
    assert (es.best, es.best_epoch, es.wait, es.stopped_epoch) == (math.inf, None, 0, None)
    assert not es.update(3.0) and es.best_epoch == 0  # the call count restarts too
    assert nn.EarlyStopping("val_accuracy").mode == "max"
    assert nn.EarlyStopping("val_acc", mode="min").mode == "min"
    assert nn.EarlyStopping("accuracy").best == -math.inf
    assert "patience=5" in repr(nn.EarlyStopping())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"patience": 0}, ValueError, r"patience must be an int >= 1.*got 0"),
        ({"patience": 2.5}, ValueError, "patience must be an int >= 1"),
        ({"patience": True}, ValueError, "patience must be an int >= 1"),
        ({"min_delta": -0.1}, ValueError, "min_delta must be a number >= 0"),
        ({"mode": "lowest"}, ValueError, "mode must be 'auto', 'min' or 'max'"),
        ({"monitor": 3}, TypeError, "monitor must be the name"),
    ],
)
def test_early_stopping_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        nn.EarlyStopping(**kwargs)


# -- EarlyStopping: as a callback ----------------------------------------------------------------


def test_training_stops_at_the_epoch_the_rule_says():
    X, y = data()
    scores = [0.9, 0.8, 0.85, 0.8, 0.81, 0.7, 0.6]  # best at 1, then three without progress
    es = nn.EarlyStopping("score", patience=3)
    history = compiled().fit(X, y, epochs=7, callbacks=[Inject("score", scores), es], verbose=0)
    assert history.epoch == [0, 1, 2, 3, 4] and es.stopped_epoch == 4
    assert es.best == 0.8 and es.best_epoch == 1
    assert history.history["score"] == scores[:5]


def test_restore_best_weights_puts_back_the_best_epoch():
    X, y = data()
    snapshots = []
    keep = nn.LambdaCallback(
        on_epoch_end=lambda e, logs: snapshots.append([p.data.copy() for p in model.parameters()])
    )
    model = compiled(lr=0.5)
    es = nn.EarlyStopping("score", patience=2, restore_best_weights=True)
    model.fit(X, y, epochs=6, callbacks=[Inject("score", [3, 1, 2, 2, 0, 0]), es, keep], verbose=0)
    assert es.stopped_epoch == 3 and len(snapshots) == 4
    last = snapshots[-1]
    for p, best, final in zip(model.parameters(), snapshots[1], last, strict=True):
        assert np.array_equal(p.data, best)
        assert not np.array_equal(best, final)
    # without restore_best_weights the last weights stay
    model = compiled(lr=0.5)
    snapshots.clear()
    es = nn.EarlyStopping("score", patience=2)
    model.fit(X, y, epochs=6, callbacks=[Inject("score", [3, 1, 2, 2, 0, 0]), es, keep], verbose=0)
    assert all(
        np.array_equal(p.data, s) for p, s in zip(model.parameters(), snapshots[-1], strict=True)
    )


def test_restore_best_weights_on_torch_parameters(torch):
    X, y = data()
    model = compiled(lr=0.5)
    for p in model.parameters():
        p.data = torch.as_tensor(p.data)
    model.compile("sgd", "sparse_categorical_crossentropy", lr=0.5)
    snapshots = []
    keep = nn.LambdaCallback(
        on_epoch_end=lambda e, logs: snapshots.append([p.data.clone() for p in model.parameters()])
    )
    es = nn.EarlyStopping("score", patience=1, restore_best_weights=True)
    model.fit(X, y, epochs=5, callbacks=[Inject("score", [2, 1, 1, 0, 0]), es, keep], verbose=0)
    assert es.stopped_epoch == 2
    assert all(
        torch.equal(p.data, s) for p, s in zip(model.parameters(), snapshots[1], strict=True)
    )


def test_early_stopping_on_real_validation_loss():
    X, y = data(80)
    es = nn.EarlyStopping(patience=2, min_delta=10.0)  # nothing improves by 10: stop at 2
    history = compiled().fit(X, y, epochs=20, validation_split=0.25, callbacks=[es], verbose=0)
    assert history.epoch == [0, 1, 2] and es.best == history.history["val_loss"][0]


def test_a_missing_monitor_lists_the_available_keys():
    X, y = data()
    es = nn.EarlyStopping()  # val_loss, but no validation data
    with pytest.raises(ValueError, match=r"no 'val_loss'.*\['accuracy', 'loss'\].*validation_data"):
        compiled().fit(X, y, epochs=2, callbacks=[es], verbose=0)


# -- LearningRateScheduler ------------------------------------------------------------------------


def lrs_during_training(model, X, y, scheduler, epochs=4):
    used = []
    spy = nn.LambdaCallback(on_batch_end=lambda b, logs: used.append(model.optimizer.lr))
    history = model.fit(
        X, y, epochs=epochs, batch_size=len(y), callbacks=[scheduler, spy], verbose=0
    )
    return used, history.history["lr"]


def test_scheduler_from_a_function_of_the_epoch():
    X, y = data()
    model = compiled(lr=1.0)
    used, logged = lrs_during_training(
        model, X, y, nn.LearningRateScheduler(lambda e: 0.1 / (e + 1))
    )
    assert_close(used, [0.1, 0.05, 0.1 / 3, 0.025], name="lr per epoch")
    assert logged == used


def test_scheduler_from_a_dlkit_schedule_class_or_object():
    X, y = data()
    model = compiled(lr=0.8)
    scheduler = nn.LearningRateScheduler(optim.StepLR, step_size=2, gamma=0.5)
    used, logged = lrs_during_training(model, X, y, scheduler)
    assert used == [0.8, 0.8, 0.4, 0.4] and logged == used
    model = compiled(lr=0.8)
    schedule = optim.ExponentialLR(model.optimizer, gamma=0.5)
    used, _ = lrs_during_training(model, X, y, nn.LearningRateScheduler(schedule))
    assert used == [0.8, 0.4, 0.2, 0.1]


def test_scheduler_errors():
    X, y = data()
    with pytest.raises(TypeError, match="schedule must be a dlkit.optim schedule"):
        nn.LearningRateScheduler(0.1)
    with pytest.raises(TypeError, match=r"options \['gamma'\] are for a schedule class"):
        nn.LearningRateScheduler(lambda e: 0.1, gamma=0.5)
    other = compiled()
    stray = nn.LearningRateScheduler(optim.StepLR(other.optimizer, step_size=1))
    with pytest.raises(ValueError, match="built on another optimizer"):
        compiled().fit(X, y, callbacks=[stray], verbose=0)
    negative = nn.LearningRateScheduler(lambda e: -0.1)
    with pytest.raises(ValueError, match=r"returned -0.1 for epoch 0.*>= 0"):
        compiled().fit(X, y, callbacks=[negative], verbose=0)


# -- LiveCurves -----------------------------------------------------------------------------------


def test_live_curves_log_every_epoch_and_draw(monkeypatch):
    from dlkit.viz import TrainingCurves

    shown = []
    monkeypatch.setattr(TrainingCurves, "show", lambda self, static=None: shown.append(self))
    X, y = data()
    live = nn.LiveCurves(every=2)
    history = compiled().fit(X, y, epochs=3, validation_split=0.25, callbacks=[live], verbose=0)
    assert shown == [live.curves]
    assert live.curves.history == history.history
    axes = live.curves.figure.axes
    assert [ax.get_ylabel() for ax in axes] == ["loss", "accuracy"]
    assert len(axes[0].lines) == 2 and len(axes[0].lines[0].get_xdata()) == 3  # drawn at the end
    quiet = nn.LiveCurves(show=False)
    compiled().fit(X, y, epochs=1, callbacks=[quiet], verbose=0)
    assert len(shown) == 1 and quiet.curves.history["loss"]
    with pytest.raises(ValueError, match="every must be a whole number >= 1"):
        nn.LiveCurves(every=0)
