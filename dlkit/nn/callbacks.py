"""Callbacks: code that ``fit`` runs at fixed points of training, as in Keras.

``model.fit(..., callbacks=[...])`` calls, in this order::

    on_train_begin(logs)
    for each epoch:
        on_epoch_begin(epoch, logs)
        for each batch:  on_batch_begin(batch, logs);  on_batch_end(batch, logs)
        on_epoch_end(epoch, logs)      # logs: loss, metrics, val_loss, val_<metric>, ...
        (stop here when model.stop_training is True)
    on_train_end(logs)

``epoch`` and ``batch`` count from 0. The batch logs hold ``batch``, ``size`` (its number of
examples) and ``loss``; the epoch logs hold the numbers that ``History`` records. A callback
may add entries to the epoch logs (``LearningRateScheduler`` adds ``lr``): the user's
callbacks run first, then ``History`` and the progress bar, so what they add is recorded.

:class:`EarlyStopping` is a shared contract with unit 06, whose students write its
:meth:`~EarlyStopping.update` rule themselves: keep the two in step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import describe, is_torch

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "LiveCurves",
]

Logs = dict[str, Any]


class Callback:
    """Base class: override the hooks you need; each default does nothing.

    ``fit`` calls :meth:`set_model` and :meth:`set_params` before ``on_train_begin``, so a
    hook can read ``self.model`` (and ``self.model.optimizer``) and ``self.params``
    (``epochs``, ``steps`` per epoch, ``verbose``).
    """

    model: Any = None
    params: dict[str, Any] | None = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = dict(params)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        pass

    def on_train_end(self, logs: Logs | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        pass

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        pass


class History(Callback):
    """Records the epoch logs: ``history["loss"][e]`` is the loss of epoch ``epoch[e]``.

    ``fit`` returns it and also keeps it as ``model.history``. A second ``fit`` call starts a
    new ``History`` (as Keras does).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


def _check_patience(patience: Any) -> int:
    if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
        raise ValueError(
            "patience must be an int >= 1 (how many epochs without improvement to wait; "
            f"1 stops at the first epoch that does not improve); got {patience!r}"
        )
    return int(patience)


class EarlyStopping(Callback):
    """Stop training when a monitored number stops improving.

    Args:
        monitor: the key of the epoch logs to watch, e.g. ``"val_loss"`` or
            ``"val_accuracy"``.
        patience: how many epochs in a row without improvement to accept, an int ``>= 1``:
            training stops at the ``patience``-th one. (Keras also accepts 0, which behaves
            as 1; we refuse it so that each behaviour has one spelling.)
        min_delta: the smallest change that counts as an improvement, ``>= 0``. A value
            within ``min_delta`` of the best one is a plateau, not progress.
        mode: ``"min"`` (lower is better), ``"max"``, or ``"auto"``: ``"max"`` when
            ``"acc"`` occurs in ``monitor``, else ``"min"``.
        restore_best_weights: copy the parameters at each improvement and put the best
            copy back when training ends, so the model is that of the best epoch rather
            than of the last one.

    The rule, in :meth:`update`: ``value`` improves when ``value < best - min_delta``
    (``"min"``) or ``value > best + min_delta`` (``"max"``); ``best`` starts at ``+inf``
    (``-inf``), so the first value always improves. On improvement ``best = value``,
    ``best_epoch = epoch`` and ``wait = 0``; otherwise ``wait += 1`` and training stops
    once ``wait >= patience``. NaN never improves. As a callback, ``fit`` resets the state
    when training begins.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        *,
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"monitor must be the name of a logged value; got {monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}")
        ok = isinstance(min_delta, (int, float, np.number)) and not isinstance(min_delta, bool)
        if not ok or not min_delta >= 0:
            raise ValueError(f"min_delta must be a number >= 0; got {min_delta!r}")
        self.monitor = monitor
        self.patience = _check_patience(patience)
        self.min_delta = float(min_delta)
        self.mode = ("max" if "acc" in monitor else "min") if mode == "auto" else mode
        self.restore_best_weights = bool(restore_best_weights)
        self.reset()

    def reset(self) -> None:
        """Forget everything seen: ``best = +-inf``, ``wait = 0``, no stop, no weights."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_weights: list[Any] | None = None
        self._calls = 0

    def improved(self, value: float) -> bool:
        """Whether ``value`` beats ``best`` by more than ``min_delta``."""
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, value: float, epoch: int | None = None) -> bool:
        """Take one new value of the monitored number; return True when training should stop.

        Args:
            value: this epoch's value of ``monitor``.
            epoch: its epoch number; ``None`` counts the calls instead (0, 1, 2, ...).
        """
        value = float(value)
        if epoch is None:
            epoch = self._calls
        self._calls += 1
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    # -- as a callback -------------------------------------------------------------------
    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.reset()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping(monitor={self.monitor!r}): the epoch logs have no "
                f"{self.monitor!r}; they hold {sorted(logs)}. Monitor one of those "
                "(a 'val_' key needs validation_data or validation_split in fit)"
            )
        stop = self.update(logs[self.monitor], epoch)
        if self.restore_best_weights and self.wait == 0:  # this epoch improved
            self.best_weights = [_copy(p.data) for p in self.model.parameters()]
        if stop:
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            for p, saved in zip(self.model.parameters(), self.best_weights, strict=True):
                _write(p.data, saved)

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
            f"min_delta={self.min_delta}, mode={self.mode!r}, best={self.best}, "
            f"wait={self.wait})"
        )


def _copy(data: Any) -> Any:
    return data.detach().clone() if is_torch(data) else np.array(data, copy=True)


def _write(target: Any, value: Any) -> None:
    """Copy ``value`` into the array ``target`` in place (the optimizer keeps ``target``)."""
    if is_torch(target):
        import torch

        with torch.no_grad():
            target.copy_(value)
    else:
        target[...] = value


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate every epoch.

    Args:
        schedule: one of

            * a ``dlkit.optim`` schedule class (``StepLR``, ``CosineAnnealingLR``, ...): it is
              built on ``model.optimizer`` with ``**options`` when training begins and
              stepped after every epoch, e.g.
              ``LearningRateScheduler(StepLR, step_size=10, gamma=0.5)``;
            * a schedule already built on ``model.optimizer``: stepped after every epoch;
            * a function ``epoch -> lr`` (``epoch`` from 0), called before every epoch.

        options: the schedule class's arguments (only with a class).

    The rate used during each epoch is logged as ``lr``.
    """

    def __init__(self, schedule: Any, **options: Any) -> None:
        from ..optim.schedules import Schedule

        if isinstance(schedule, type) and issubclass(schedule, Schedule):
            self._kind = "class"
        elif isinstance(schedule, Schedule):
            self._kind = "object"
        elif callable(schedule):
            self._kind = "function"
        else:
            raise TypeError(
                "schedule must be a dlkit.optim schedule class or object, or a function "
                f"epoch -> lr; got {describe(schedule)}"
            )
        if options and self._kind != "class":
            raise TypeError(
                f"options {sorted(options)} are for a schedule class; this schedule is a "
                f"{self._kind}: put them into it"
            )
        self.schedule, self.options = schedule, options
        self._built: Any = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        optimizer = self.model.optimizer
        if self._kind == "class":
            self._built = self.schedule(optimizer, **self.options)
        elif self._kind == "object":
            if self.schedule.optimizer is not optimizer:
                raise ValueError(
                    "the schedule was built on another optimizer than model.optimizer; build "
                    "it on model.optimizer, or pass its class and options instead"
                )
            self._built = self.schedule

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        if self._kind == "function":
            lr = self.schedule(epoch)
            if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr >= 0:
                raise ValueError(
                    f"the schedule function returned {lr!r} for epoch {epoch}; "
                    "it must return a learning rate >= 0"
                )
            self.model.optimizer.lr = float(lr)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is not None:
            logs["lr"] = float(self.model.optimizer.lr)
        if self._built is not None:
            self._built.step()


class LambdaCallback(Callback):
    """A callback from plain functions, e.g.
    ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))``.

    Each argument is the function for the hook of that name, with that hook's arguments.
    """

    _HOOKS = (
        "on_train_begin",
        "on_train_end",
        "on_epoch_begin",
        "on_epoch_end",
        "on_batch_begin",
        "on_batch_end",
    )

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        for name, fn in hooks.items():
            if name not in self._HOOKS:
                raise ValueError(f"unknown hook {name!r}; the hooks are {list(self._HOOKS)}")
            if not callable(fn):
                raise TypeError(f"{name} must be a function; got {describe(fn)}")
            setattr(self, name, fn)


class LiveCurves(Callback):
    """Training curves that redraw after every epoch (``dlkit.viz.TrainingCurves``).

    Losses go to the left panel, accuracies (keys containing ``acc``) to the right one. In
    JupyterLab the picture updates in place; in an exported notebook or a terminal session
    it is the final picture (the static fallback). The widget library is imported only when
    training begins.

    Args:
        every: redraw after every ``every``-th epoch (drawing costs more than an epoch of a
            small network); the last epoch is always drawn.
        show: display the picture when training begins (``False`` keeps it off screen:
            read ``self.curves.figure``).
    """

    def __init__(self, *, every: int = 1, show: bool = True) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a whole number >= 1; got {every!r}")
        self.every, self.show = every, bool(show)
        self.curves: Any = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        from ..viz import TrainingCurves

        self.curves = TrainingCurves(every=self.every)
        if self.show:
            self.curves.show()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        numbers = {
            key: float(value)
            for key, value in (logs or {}).items()
            if key != "lr" and isinstance(value, (int, float)) and math.isfinite(value)
        }
        self.curves.log(**numbers)

    def on_train_end(self, logs: Logs | None = None) -> None:
        self.curves.refresh()
