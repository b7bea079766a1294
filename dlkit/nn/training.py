"""``compile``, ``fit``, ``evaluate`` and ``predict``: the Keras workflow on dlkit modules.

Every :class:`~dlkit.nn.Module` has these four as methods::

    model = nn.Sequential(nn.Linear(64, 128, rng=rng), nn.ReLU(), nn.Linear(128, 10, rng=rng))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X, y, epochs=10, batch_size=32, validation_data=(Xv, yv), seed=0)
    model.evaluate(Xt, yt)        # {"loss": 0.09, "accuracy": 0.97}
    model.predict(Xt)             # the logits, (N, 10)

Why on dlkit. After writing the training loop by hand in units 04 and 05, students meet the
workflow most practitioners use, and can open it: ``fit`` is the loop they wrote, in one
readable file, over the same autograd and optimizers. Nothing here is new maths.

How it maps to Keras: the same names and arguments (``compile(optimizer, loss, metrics)``,
``fit(x, y, epochs, batch_size, validation_data, validation_split, shuffle, callbacks,
verbose)``, ``History``, ``EarlyStopping``, ...), with three deliberate differences. Losses
take **logits** (Keras's ``from_logits=True``), since the fused kernels are exact where
``log(softmax(z))`` is not. Randomness is explicit: ``fit(..., seed=0)`` or ``rng=`` makes
shuffling reproducible, and a ``Dropout`` layer owns its generator. ``evaluate`` returns a
dict ``{"loss": ..., "accuracy": ...}`` rather than Keras's list ordered by
``model.metrics_names``, so a result can never be read under the wrong name.

How it maps to a torch loop: one step of ``fit`` is exactly ::

    model.train()
    for xb, yb in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb) + penalty(weights)
        loss.backward()
        optimizer.step()

followed by an evaluation pass in ``model.eval()`` mode. The reported training ``loss`` of
an epoch is the mean of the batch losses weighted by batch size: the average loss over the
epoch's examples, each measured with the weights of its own step (so it lags the end-of-epoch
weights a little; ``val_loss`` uses the final ones). ``loss`` and ``val_loss`` are the data
loss alone, so that they compare; with ``l1``/``l2`` the penalty is logged as ``penalty``.

Regularization: ``compile(..., l1=..., l2=...)`` adds ``l1 * sum|w|`` and
``0.5 * l2 * sum(w**2)`` over every parameter with two or more axes (the weight matrices and
kernels), never over biases or normalization gains, which set offsets and scales rather than
model complexity. One pair of numbers for the model keeps experiments to one knob; weight
decay inside the optimizer (``SGD(weight_decay=...)``, ``"adamw"``) is the alternative.

Data: ``x`` and ``y`` are NumPy arrays or torch tensors. The computation runs where the
model's parameters live (NumPy, or torch on their device), the data is converted to that
kind and float dtype once, and ``predict`` returns the kind of its ``x``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import autograd as A
from ..backend import describe, is_torch, to_numpy
from .arrays import as_data, check_count, concat, make_rng, pair, take, to_model
from .callbacks import Callback, History
from .progress import ProgressBar
from .registry import LOSSES, get_loss, get_metrics, get_optimizer

__all__ = ["TrainingSetup", "compile", "fit", "evaluate", "predict"]


@dataclass(frozen=True)
class TrainingSetup:
    """What ``compile`` decided (kept as ``model.compiled``)."""

    optimizer: Any
    loss: Any
    metrics: dict[str, Any]
    l1: float = 0.0
    l2: float = 0.0


def _strength(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0 (the penalty strength); got {value!r}")
    return float(value)


def compile(  # noqa: A001 (Keras's name)
    model: Any,
    optimizer: Any = "adam",
    loss: Any = None,
    metrics: Any = None,
    *,
    lr: float | None = None,
    l1: float = 0.0,
    l2: float = 0.0,
) -> None:
    """Choose the optimizer, the loss, the metrics and the weight penalties.

    Args:
        optimizer: a name (``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``,
            ``"adadelta"``), an optimizer class or factory (``functools.partial(SGD,
            momentum=0.9)``), or an optimizer built on ``model.parameters()``.
        loss: a name (``"sparse_categorical_crossentropy"``, ``"categorical_crossentropy"``,
            ``"binary_crossentropy"``, ``"mse"``, ``"mae"``, ``"huber"``; the cross-entropies
            take logits) or a function ``(outputs, y) -> 0-d Tensor``.
        metrics: names (``"accuracy"``, ``"precision"``, ``"recall"``, ``"mae"``, ``"mse"``)
            or functions ``(y_true, y_pred) -> float``, as a list or a ``{name: ...}`` dict.
        lr: the learning rate of a named or factory-built optimizer.
        l1, l2: strengths of the penalties ``l1 * sum|w|`` and ``0.5 * l2 * sum(w**2)`` on
            the weight matrices (parameters with two or more axes).
    """
    if loss is None:
        raise ValueError(f"compile needs a loss: a function or one of {sorted(LOSSES)}")
    params = model.parameters()
    if not params:
        raise ValueError(f"{type(model).__name__} has no parameters: there is nothing to train")
    setup = TrainingSetup(
        optimizer=get_optimizer(optimizer, params, lr),
        loss=get_loss(loss),
        metrics=get_metrics(metrics),
        l1=_strength(l1, "l1"),
        l2=_strength(l2, "l2"),
    )
    model.compiled, model.optimizer = setup, setup.optimizer
    model.stop_training, model.history = False, None


def _setup(model: Any, action: str) -> TrainingSetup:
    setup = getattr(model, "compiled", None)
    if not isinstance(setup, TrainingSetup):
        raise RuntimeError(
            f"call model.compile(optimizer=..., loss=...) before model.{action}(): "
            "the model does not know its loss and optimizer yet"
        )
    return setup


def _forward(model: Any, xb: Any) -> A.Tensor:
    out = model(A.Tensor(xb))
    if not isinstance(out, A.Tensor):
        raise TypeError(f"{type(model).__name__}.forward must return a Tensor; got {describe(out)}")
    return out


def _penalty(model: Any, setup: TrainingSetup) -> A.Tensor | None:
    weights = [p for p in model.parameters() if p.ndim >= 2]
    terms = []
    if setup.l1 > 0 and weights:
        terms.append(A.l1_penalty(weights, setup.l1))
    if setup.l2 > 0 and weights:
        terms.append(A.l2_penalty(weights, setup.l2))
    return None if not terms else terms[0] if len(terms) == 1 else terms[0] + terms[1]


def _score(model: Any, setup: TrainingSetup, x: Any, y: Any, batch_size: int) -> dict[str, float]:
    """Loss (weighted mean over batches) and metrics of ``(x, y)`` in the current mode."""
    n, total, outputs = x.shape[0], 0.0, []
    for start in range(0, n, batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        out = _forward(model, xb)
        total += setup.loss(out, yb).item() * xb.shape[0]
        outputs.append(out.data)
    logs = {"loss": total / n}
    if setup.metrics:
        pred = concat(outputs)
        logs.update({name: float(fn(y, pred)) for name, fn in setup.metrics.items()})
    return logs


# -- the four methods --------------------------------------------------------------------------


def fit(
    model: Any,
    x: Any,
    y: Any,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float | None = None,
    shuffle: bool = True,
    callbacks: Sequence[Callback] | None = None,
    rng: np.random.Generator | None = None,
    seed: int | None = None,
    verbose: int = 1,
) -> History:
    """Train for ``epochs`` passes over ``(x, y)`` in mini-batches; return the ``History``.

    Args:
        x, y: inputs ``(N, ...)`` and targets ``(N, ...)`` (NumPy arrays or torch tensors).
        epochs: passes over the data (``model.stop_training = True`` ends training early).
        batch_size: examples per step (the last batch may be smaller).
        validation_data: ``(x_val, y_val)`` scored after every epoch in eval mode.
        validation_split: instead, hold out this fraction of ``(x, y)``, taken from the end
            *before* shuffling (as Keras: shuffle your data first if it is sorted).
        shuffle: draw a new order of the training examples every epoch.
        callbacks: :class:`~dlkit.nn.callbacks.Callback` objects.
        rng, seed: the generator of the shuffling order, or a seed for a new one (neither:
            a fresh unseeded generator). Same seed, same model: same numbers.
        verbose: 0 silent, 1 a progress bar per epoch, 2 one bar for the run.

    Returns:
        a :class:`~dlkit.nn.callbacks.History` (also ``model.history``): ``history.history``
        maps ``loss``, each metric, ``val_loss`` and ``val_<metric>`` to one value per epoch.
    """
    setup = _setup(model, "fit")
    x, y = pair(model, x, y)
    epochs = check_count(epochs, "epochs", 0)
    batch_size = check_count(batch_size, "batch_size", 1)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False; got {describe(shuffle)}")
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0 (silent), 1 or 2; got {verbose!r}")
    generator = make_rng(rng, seed)
    if validation_data is not None and validation_split is not None:
        raise ValueError("pass validation_data or validation_split, not both")
    if validation_split is not None:
        ok = isinstance(validation_split, float) and 0.0 < validation_split < 1.0
        split_at = int(x.shape[0] * (1.0 - validation_split)) if ok else 0
        if not ok or not 0 < split_at < x.shape[0]:
            raise ValueError(
                "validation_split must be a fraction in (0, 1) that leaves at least one "
                f"example on each side of N={x.shape[0]}; got {validation_split!r}"
            )
        validation_data = (x[split_at:], y[split_at:])
        x, y = x[:split_at], y[:split_at]
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError(
                f"validation_data must be a pair (x_val, y_val); got {describe(validation_data)}"
            )
        validation_data = pair(model, *validation_data, names=("x_val", "y_val"))
    callbacks = list(callbacks or [])
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks[{i}] must be a dlkit.nn Callback; got {describe(cb)}")

    n = x.shape[0]
    steps = -(-n // batch_size)
    history = History()
    progress = ProgressBar(verbose) if verbose else None
    everyone = callbacks + [history] + ([progress] if progress else [])
    for cb in everyone:
        cb.set_model(model)
        cb.set_params({"epochs": epochs, "steps": steps, "verbose": verbose})
    was_training = model.training
    model.stop_training, model.history = False, history
    optimizer, metrics = setup.optimizer, setup.metrics
    try:
        for cb in everyone:
            cb.on_train_begin({})
        for epoch in range(epochs):
            for cb in everyone:
                cb.on_epoch_begin(epoch, {})
            model.train()
            order = generator.permutation(n) if shuffle else np.arange(n)
            loss_sum = penalty_sum = 0.0
            outputs, targets = [], []
            for batch in range(steps):
                idx = order[batch * batch_size : (batch + 1) * batch_size]
                xb, yb = take(x, idx), take(y, idx)
                size = len(idx)
                for cb in everyone:
                    cb.on_batch_begin(batch, {"batch": batch, "size": size})
                optimizer.zero_grad()
                out = _forward(model, xb)
                loss = setup.loss(out, yb)
                penalty = _penalty(model, setup)
                (loss if penalty is None else loss + penalty).backward()
                optimizer.step()
                loss_value = loss.item()
                loss_sum += loss_value * size
                if penalty is not None:
                    penalty_sum += penalty.item() * size
                if metrics:
                    outputs.append(out.data)
                    targets.append(yb)
                logs = {"batch": batch, "size": size, "loss": loss_value}
                for cb in everyone:
                    cb.on_batch_end(batch, logs)
            logs = {"loss": loss_sum / n}
            if setup.l1 > 0 or setup.l2 > 0:
                logs["penalty"] = penalty_sum / n
            if metrics:
                y_seen, pred = concat(targets), concat(outputs)
                logs.update({name: float(fn(y_seen, pred)) for name, fn in metrics.items()})
            if validation_data is not None:
                model.eval()
                scores = _score(model, setup, *validation_data, batch_size)
                logs.update({f"val_{k}": v for k, v in scores.items()})
            for cb in everyone:
                cb.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        for cb in everyone:
            cb.on_train_end({})
    finally:
        if progress is not None:
            progress.close()
        model.train(was_training)
    return history


def evaluate(model: Any, x: Any, y: Any, *, batch_size: int = 32) -> dict[str, float]:
    """The loss and metrics of the model on ``(x, y)``, in eval mode.

    Returns:
        ``{"loss": ..., <metric>: ...}``: a dict, so that each number carries its name (the
        loss is the data loss, without the weight penalty, as ``fit``'s ``val_loss``).
    """
    setup = _setup(model, "evaluate")
    x, y = pair(model, x, y)
    batch_size = check_count(batch_size, "batch_size", 1)
    was_training = model.training
    model.eval()
    try:
        return _score(model, setup, x, y, batch_size)
    finally:
        model.train(was_training)


def predict(model: Any, x: Any, *, batch_size: int = 32) -> Any:
    """The model's outputs for ``x`` (logits for a classifier), in eval mode (dropout off,
    batch norm on its running statistics), batch by batch; the previous mode is restored.

    Returns:
        the outputs as the kind of ``x``: a NumPy array, or a torch tensor on ``x``'s device.
        Needs no ``compile``.
    """
    raw = as_data(x, "x")
    params = model.parameters()
    data = to_model(raw, params[0].data) if params else raw
    batch_size = check_count(batch_size, "batch_size", 1)
    was_training = model.training
    model.eval()
    try:
        outs = [
            _forward(model, data[start : start + batch_size]).data
            for start in range(0, data.shape[0], batch_size)
        ]
    finally:
        model.train(was_training)
    out = concat(outs)
    if is_torch(raw):
        import torch

        return torch.as_tensor(out, device=raw.device)
    return to_numpy(out)
