"""dlkit.nn.training: compile / fit / evaluate / predict on dlkit modules."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import dlkit.autograd as A
from dlkit import metrics, nn, optim
from dlkit.backend import is_torch, to_numpy
from dlkit.data import load_digits, make_moons
from dlkit.testing import assert_close


def mlp(seed=0, sizes=(2, 16, 3), p_drop=0.0, bias=True):
    rng = np.random.default_rng(seed)
    layers = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(d_in, d_out, rng=rng, bias=bias))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if p_drop:
                layers.append(nn.Dropout(p_drop, rng=rng))
    return nn.Sequential(*layers)


def moons(n=120, seed=1):
    X, y = make_moons(n, noise=0.15, rng=np.random.default_rng(seed))
    return X, y


def weights(model):
    return [to_numpy(p.data).copy() for p in model.parameters()]


class ModeProbe(nn.Module):
    """Records the mode of every forward pass (training or eval) and the batch sizes."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def forward(self, x):
        self.calls.append((self.training, x.shape[0]))
        return self.inner(x)


# -- the whole workflow -------------------------------------------------------------------------


def test_fit_returns_a_history_with_every_key_and_one_value_per_epoch():
    X, y = moons()
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        X, y, epochs=3, batch_size=16, validation_data=(X[:30], y[:30]), seed=0, verbose=0
    )
    assert history is model.history and isinstance(history, nn.History)
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert history.epoch == [0, 1, 2]
    assert all(len(v) == 3 for v in history.history.values())
    assert all(isinstance(v, float) for vs in history.history.values() for v in vs)
    assert all(0.0 <= a <= 1.0 for a in history.history["val_accuracy"])


def test_an_mlp_learns_digits_to_over_95_percent_in_a_few_epochs():
    X, y = load_digits()
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    model = mlp(0, (64, 64, 10))
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"], lr=3e-3)
    history = model.fit(X, y, epochs=8, batch_size=32, validation_split=0.2, seed=0, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.95
    assert history.history["loss"][-1] < history.history["loss"][0] / 4
    held_out = model.evaluate(X[-360:], y[-360:])
    assert held_out["accuracy"] > 0.95
    assert_close(held_out["loss"], history.history["val_loss"][-1], name="evaluate vs val_loss")


def test_same_seed_same_numbers_and_different_seeds_differ():
    X, y = moons()

    def run(seed):
        model = mlp(p_drop=0.2)  # dropout draws from the model's own generator
        model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"], lr=0.1)
        history = model.fit(
            X, y, epochs=3, batch_size=8, validation_split=0.25, seed=seed, verbose=0
        )
        return history.history, weights(model)

    (h1, w1), (h2, w2), (h3, w3) = run(5), run(5), run(6)
    assert h1 == h2
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2, strict=True))
    assert h1["loss"] != h3["loss"]
    assert not all(np.array_equal(a, b) for a, b in zip(w1, w3, strict=True))
    # a generator passed as rng is the same as its seed
    model = mlp(p_drop=0.2)
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"], lr=0.1)
    h4 = model.fit(
        X, y, epochs=3, batch_size=8, validation_split=0.25, rng=np.random.default_rng(5), verbose=0
    ).history
    assert h4 == h1


def test_names_and_objects_give_identical_results():
    X, y = moons()

    def run(**compile_args):
        model = mlp()
        optimizer = compile_args.pop("optimizer")
        if optimizer == "instance":
            optimizer = optim.Adam(model.parameters(), lr=0.01)
        model.compile(optimizer=optimizer, **compile_args)
        return model.fit(X, y, epochs=2, batch_size=16, seed=3, verbose=0).history

    by_name = run(
        optimizer="adam", lr=0.01, loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    by_class = run(
        optimizer=optim.Adam, lr=0.01, loss=A.softmax_cross_entropy, metrics=[metrics.accuracy]
    )
    by_factory = run(
        optimizer=functools.partial(optim.Adam, lr=0.01),
        loss="sparse_categorical_crossentropy",
        metrics={"accuracy": "accuracy"},
    )
    by_instance = run(
        optimizer="instance", loss=A.softmax_cross_entropy, metrics={"accuracy": metrics.accuracy}
    )
    assert by_name == by_class == by_factory == by_instance


def test_named_optimizers_get_the_documented_defaults_and_lr():
    expected = {
        "sgd": 0.01,
        "adam": 1e-3,
        "adamw": 1e-3,
        "rmsprop": 1e-2,
        "adagrad": 1e-2,
        "adadelta": 1.0,
    }
    for name, lr in expected.items():
        model = mlp()
        model.compile(name, "mse")
        assert model.optimizer.lr == lr and model.optimizer.params == model.parameters()
        model.compile(name.upper(), "mse", lr=0.5)
        assert model.optimizer.lr == 0.5
    model.compile(optim.SGD, "mse")  # a class gets the defaults of its name
    assert isinstance(model.optimizer, optim.SGD) and model.optimizer.lr == 0.01
    model.compile("adamw", "mse")
    assert isinstance(model.optimizer, optim.AdamW) and model.optimizer.hp.weight_decay == 1e-2


# -- what an epoch reports ----------------------------------------------------------------------


def test_training_loss_is_the_batch_losses_weighted_by_batch_size():
    X, y = moons(50)
    seen = []
    record = nn.LambdaCallback(
        on_batch_end=lambda b, logs: seen.append((logs["size"], logs["loss"]))
    )
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", lr=0.1)
    history = model.fit(X, y, epochs=1, batch_size=16, callbacks=[record], seed=0, verbose=0)
    assert [s for s, _ in seen] == [16, 16, 16, 2]  # the last batch is smaller
    weighted = sum(s * v for s, v in seen) / 50
    assert_close(history.history["loss"][0], weighted, name="epoch loss")
    assert history.history["loss"][0] != pytest.approx(np.mean([v for _, v in seen]))


def test_train_mode_for_steps_eval_mode_for_validation_and_the_mode_is_restored():
    X, y = moons(40)
    probe = ModeProbe(mlp())
    probe.compile("sgd", "sparse_categorical_crossentropy", lr=0.1)
    probe.eval()
    probe.fit(X, y, epochs=1, batch_size=20, validation_data=(X[:10], y[:10]), verbose=0, seed=0)
    assert probe.calls == [(True, 20), (True, 20), (False, 10)]
    assert not probe.training and not probe.inner.training  # back to eval, as before fit
    probe.train()
    probe.calls.clear()
    out = probe.predict(X, batch_size=32)
    assert probe.calls == [(False, 32), (False, 8)] and out.shape == (40, 3)
    assert probe.training
    probe.calls.clear()
    probe.evaluate(X, y, batch_size=64)
    assert probe.calls == [(False, 40)] and probe.training


def test_validation_split_holds_out_the_end_of_the_data():
    X, y = moons(100)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(X, y, epochs=2, validation_split=0.3, seed=0, verbose=0)
    assert_close(
        model.evaluate(X[70:], y[70:])["loss"],
        history.history["val_loss"][-1],
        name="val_loss on the last 30%",
    )
    seen = []
    count = nn.LambdaCallback(on_batch_end=lambda b, logs: seen.append(logs["size"]))
    model.fit(X, y, epochs=1, batch_size=100, validation_split=0.3, callbacks=[count], verbose=0)
    assert seen == [70]


def test_stop_training_is_honoured_at_the_end_of_the_epoch():
    X, y = moons(40)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", lr=0.1)

    def stop_after_second(epoch, logs):
        if epoch == 1:
            model.stop_training = True

    history = model.fit(
        X,
        y,
        epochs=10,
        callbacks=[nn.LambdaCallback(on_epoch_end=stop_after_second)],
        verbose=0,
        seed=0,
    )
    assert history.epoch == [0, 1]
    history = model.fit(X, y, epochs=2, verbose=0, seed=0)  # a new fit starts afresh
    assert history.epoch == [0, 1] and model.stop_training is False


def test_evaluate_returns_a_dict_equal_to_the_full_batch_numbers():
    X, y = moons(70)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy", "precision", "recall"])
    result = model.evaluate(X, y, batch_size=16)
    assert list(result) == ["loss", "accuracy", "precision", "recall"]
    logits = model(X).data
    assert_close(result["loss"], A.softmax_cross_entropy(model(X), y).item(), name="loss")
    assert result["accuracy"] == metrics.accuracy(y, logits)
    p, r, _ = metrics.precision_recall_f1(y, logits.argmax(axis=1), average="macro")
    assert result["precision"] == p and result["recall"] == r


def test_predict_is_deterministic_in_eval_mode_and_needs_no_compile():
    X, _ = moons(30)
    model = mlp(p_drop=0.5)
    a, b = model.predict(X), model.predict(X, batch_size=7)
    assert a.shape == (30, 3) and isinstance(a, np.ndarray)
    assert_close(a, b, name="predict in batches")
    model.eval()
    assert_close(a, model(X).data, name="predict vs forward in eval mode")
    model.train()
    assert not np.allclose(model(X).data, a)  # dropout is on in training mode


# -- losses, metrics and penalties -------------------------------------------------------------


def test_binary_and_regression_losses_train_with_n_by_1_outputs():
    X, y = moons(120)
    model = mlp(sizes=(2, 16, 1))
    model.compile("adam", "binary_crossentropy", ["accuracy", "precision", "recall"], lr=0.03)
    history = model.fit(X, y, epochs=15, batch_size=16, seed=0, verbose=0)
    assert history.history["accuracy"][-1] > 0.85
    rng = np.random.default_rng(0)
    Xr = rng.standard_normal((200, 3))
    yr = Xr @ np.array([1.0, -2.0, 0.5]) + 0.3  # (N,) targets for (N, 1) outputs
    for loss in ("mse", "mae", "huber"):
        reg = mlp(sizes=(3, 1))
        reg.compile("adam", loss, ["mae", "mse"], lr=0.05)
        h = reg.fit(Xr, yr, epochs=30, batch_size=20, seed=0, verbose=0).history
        assert h["mse"][-1] < 0.05 * h["mse"][0], loss  # no (N, N) broadcasting accident


def test_categorical_crossentropy_with_one_hot_targets_equals_sparse_with_labels():
    X, y = moons()
    runs = []
    for loss, target in (
        ("sparse_categorical_crossentropy", y),
        ("categorical_crossentropy", np.eye(3)[y]),
    ):
        model = mlp()
        model.compile("adam", loss, ["accuracy"])
        runs.append(model.fit(X, target, epochs=2, batch_size=16, seed=0, verbose=0).history)
    assert runs[0]["accuracy"] == runs[1]["accuracy"]
    assert_close(runs[0]["loss"], runs[1]["loss"], name="loss")


def test_l2_in_compile_is_sgd_weight_decay_and_spares_the_biases():
    X, y = moons(32)
    lam, lr = 0.3, 0.1

    def one_step(bias, **compile_args):
        model = mlp(bias=bias)
        model.compile(loss="sparse_categorical_crossentropy", **compile_args)
        model.fit(X, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
        return weights(model)

    penalised = one_step(False, optimizer="sgd", lr=lr, l2=lam)
    decayed = one_step(False, optimizer=functools.partial(optim.SGD, lr=lr, weight_decay=lam))
    for a, b in zip(penalised, decayed, strict=True):
        assert_close(a, b, name="l2 vs weight_decay")
    start, plain = weights(mlp()), one_step(True, optimizer="sgd", lr=lr)
    for w0, w, w_l1 in zip(
        start, plain, one_step(True, optimizer="sgd", lr=lr, l1=lam), strict=True
    ):
        expected = lr * lam * np.sign(w0) if w0.ndim == 2 else np.zeros_like(w0)  # no bias term
        assert_close(w - w_l1, expected, name="l1 step", atol=1e-12)


def test_the_penalty_is_logged_apart_from_the_data_loss():
    X, y = moons(40)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", lr=1e-9, l2=2.0)
    w = [p.data for p in model.parameters() if p.ndim == 2]
    expected = 0.5 * 2.0 * sum(float(np.sum(a * a)) for a in w)
    history = model.fit(X, y, epochs=1, batch_size=40, verbose=0, validation_data=(X, y))
    assert_close(history.history["penalty"][0], expected, name="penalty", rtol=1e-6)
    assert_close(
        history.history["loss"][0],
        history.history["val_loss"][0],
        rtol=1e-6,
        name="loss without the penalty",
    )


# -- torch tensors ------------------------------------------------------------------------------


def test_torch_inputs_on_a_numpy_model_give_torch_outputs(torch):
    X, y = moons(60)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)
    history = model.fit(Xt, yt, epochs=2, validation_data=(Xt, yt), seed=0, verbose=0)
    twin = mlp()
    twin.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    expected = twin.fit(
        X.astype(np.float32).astype(np.float64),
        y,
        epochs=2,
        validation_data=(X.astype(np.float32).astype(np.float64), y),
        seed=0,
        verbose=0,
    )
    assert history.history == expected.history
    out = model.predict(Xt)
    assert is_torch(out) and tuple(out.shape) == (60, 3)
    assert set(model.evaluate(Xt, yt)) == {"loss", "accuracy"}


def test_a_torch_model_trains_on_its_device(torch, device):
    X, y = moons(80)
    model = mlp()
    for p in model.parameters():
        p.data = torch.as_tensor(p.data, device=device)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"], lr=0.01)
    history = model.fit(X, y, epochs=3, batch_size=16, validation_split=0.25, seed=0, verbose=0)
    numpy_model = mlp()
    numpy_model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"], lr=0.01)
    reference = numpy_model.fit(
        X, y, epochs=3, batch_size=16, validation_split=0.25, seed=0, verbose=0
    )
    assert_close(history.history["loss"], reference.history["loss"], rtol=1e-9, name="loss")
    assert all(p.data.device.type == device for p in model.parameters())
    out = model.predict(torch.as_tensor(X, device=device))
    assert is_torch(out) and out.device.type == device
    assert isinstance(model.predict(X), np.ndarray)


# -- errors -------------------------------------------------------------------------------------


def test_fit_and_evaluate_before_compile_say_what_to_do():
    X, y = moons(10)
    with pytest.raises(RuntimeError, match=r"model.compile\(.*\) before model.fit"):
        mlp().fit(X, y)
    with pytest.raises(RuntimeError, match="before model.evaluate"):
        mlp().evaluate(X, y)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ({"optimizer": "adamax", "loss": "mse"}, r"unknown optimizer 'adamax'.*'adadelta'.*'sgd'"),
        ({"loss": "cross_entropy"}, r"unknown loss 'cross_entropy'.*'binary_crossentropy'"),
        ({"loss": "mse", "metrics": ["f1"]}, r"unknown metric 'f1'.*'accuracy'.*'recall'"),
        ({}, r"compile needs a loss.*'huber'"),
        ({"loss": "mse", "lr": -1.0}, "lr must be a number > 0"),
        ({"loss": "mse", "l2": -0.1}, "l2 must be a number >= 0"),
        ({"loss": "mse", "l1": "big"}, "l1 must be a number >= 0"),
        ({"loss": "mse", "metrics": ["mae", "mae"]}, "'mae' is given twice"),
        ({"loss": "mse", "metrics": {"val_acc": "accuracy"}}, "reserved or invalid"),
        ({"loss": "mse", "metrics": [lambda t, p: 0.0]}, "pass a dict instead"),
    ],
)
def test_compile_rejects_bad_arguments_with_the_valid_choices(args, match):
    with pytest.raises(ValueError, match=match):
        mlp().compile(**args)


def test_compile_rejects_the_wrong_kinds_of_objects():
    model = mlp()
    with pytest.raises(TypeError, match="optimizer must be a name"):
        model.compile(optimizer=3, loss="mse")
    with pytest.raises(TypeError, match="loss must be a name"):
        model.compile(loss=3)
    with pytest.raises(TypeError, match="metric 'acc' must be a name or a function"):
        model.compile(loss="mse", metrics={"acc": 3})
    with pytest.raises(TypeError, match="factory returned"):
        model.compile(optimizer=lambda params, **kw: "adam", loss="mse")
    with pytest.raises(ValueError, match="built on other parameters"):
        model.compile(optimizer=optim.Adam(mlp(seed=1).parameters()), loss="mse")
    with pytest.raises(ValueError, match="already built"):
        model.compile(optimizer=optim.Adam(model.parameters()), loss="mse", lr=0.1)
    with pytest.raises(ValueError, match="no parameters"):
        nn.Sequential(nn.ReLU()).compile(loss="mse")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"y": np.zeros(9, dtype=int)}, ValueError, r"y must have one entry per example of x: x"),
        ({"x": "data"}, TypeError, "x must be a NumPy array or a torch tensor"),
        ({"x": np.zeros((0, 2))}, ValueError, "x must hold at least one example"),
        ({"validation_data": (np.zeros((3, 2)), np.zeros(4, dtype=int))}, ValueError,
         r"y_val must have one entry per example of x_val: x_val has N=3"),
        ({"validation_data": np.zeros((3, 2))}, TypeError, "validation_data must be a pair"),
        ({"validation_split": 0.5, "validation_data": (np.zeros((3, 2)), np.zeros(3))},
         ValueError, "not both"),
        ({"validation_split": 1.5}, ValueError, r"validation_split must be a fraction in \(0, 1\)"),
        ({"validation_split": 0.95}, ValueError, "at least one example on each side"),
        ({"batch_size": 0}, ValueError, "batch_size must be an int >= 1; got 0"),
        ({"epochs": -1}, ValueError, "epochs must be an int >= 0"),
        ({"epochs": 2.5}, ValueError, "epochs must be an int"),
        ({"verbose": 3}, ValueError, "verbose must be 0"),
        ({"shuffle": "yes"}, TypeError, "shuffle must be True or False"),
        ({"rng": np.random.default_rng(0), "seed": 1}, ValueError, "rng or seed, not both"),
        ({"rng": 0}, TypeError, "rng must be a np.random.Generator"),
        ({"seed": "zero"}, TypeError, "seed must be an int"),
        ({"callbacks": [print]}, TypeError, r"callbacks\[0\] must be a dlkit.nn Callback"),
        ({"x": np.zeros((10, 3))}, ValueError, r"expects x of shape \(N, 2\)"),
    ],
)  # fmt: skip
def test_fit_errors_name_the_argument(kwargs, error, match):
    X, y = moons(10)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", lr=0.1)
    args = {"x": X, "y": y, "verbose": 0, **kwargs}
    with pytest.raises(error, match=match):
        model.fit(args.pop("x"), args.pop("y"), **args)


def test_bad_targets_fail_with_the_kernels_messages():
    X, y = moons(10)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", lr=0.1)
    with pytest.raises(TypeError, match="y must hold integer class labels"):
        model.fit(X, y.astype(float), verbose=0)
    with pytest.raises(ValueError, match=r"labels in \[0, 3\)"):
        model.fit(X, y + 3, verbose=0)
    with pytest.raises(TypeError, match="must return a Tensor"):
        bad = ModeProbe(mlp())
        bad.forward = lambda x: x.data
        bad.predict(X)
