"""Learning-rate schedules, with ``torch.optim.lr_scheduler`` semantics.

Each schedule is a pure function of the epoch (the number of ``.step()`` calls so far) and the
optimizer's initial learning rate, wrapped in a small object that sets ``opt.lr``:

    opt = SGD(params, lr=0.1)
    sched = CosineAnnealingLR(opt, T_max=100)
    for epoch in range(100):
        train_one_epoch(opt)
        sched.step()

Like torch, building a schedule already sets the learning rate for epoch 0, ``get_last_lr()``
returns a one-element list, and every schedule on the same optimizer starts from the same base
rate (the optimizer's ``lr`` when the first schedule was attached, kept as ``initial_lr``).
The functions ``step_lr``, ``exponential_lr``, ``cosine_lr`` and ``linear_lr`` give the same
numbers without an optimizer, for plots.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "step_lr",
    "exponential_lr",
    "cosine_lr",
    "linear_lr",
    "Schedule",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearWarmup",
    "SequentialLR",
]


def step_lr(epoch: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    """``base_lr * gamma ** (epoch // step_size)``: drop by ``gamma`` every ``step_size``."""
    return base_lr * gamma ** (epoch // step_size)


def exponential_lr(epoch: int, base_lr: float, gamma: float) -> float:
    """``base_lr * gamma ** epoch``."""
    return base_lr * gamma**epoch


def cosine_lr(epoch: int, base_lr: float, T_max: int, eta_min: float = 0.0) -> float:  # noqa: N803
    """``eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2``: half a cosine wave."""
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / T_max)) / 2


def linear_lr(
    epoch: int,
    base_lr: float,
    start_factor: float = 1 / 3,
    end_factor: float = 1.0,
    total_iters: int = 5,
) -> float:
    """The factor moves linearly from ``start_factor`` to ``end_factor`` in ``total_iters``."""
    frac = min(epoch, total_iters) / total_iters
    return base_lr * (start_factor + (end_factor - start_factor) * frac)


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int; got {value!r}")
    return value


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a number > 0; got {value!r}")
    return float(value)


class Schedule:
    """Base class: subclasses define :meth:`lr_at`, the rate at an epoch."""

    def __init__(self, optimizer: Any) -> None:
        if not hasattr(optimizer, "lr"):
            raise TypeError(
                "optimizer must be a dlkit.optim optimizer (with .lr); "
                f"got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        if not hasattr(optimizer, "initial_lr"):
            optimizer.initial_lr = optimizer.lr
        self.base_lr = optimizer.initial_lr
        self.last_epoch = 0
        self._set(self.lr_at(0))

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def _set(self, lr: float) -> None:
        self.optimizer.lr = lr
        self._last_lr = [lr]

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate."""
        self.last_epoch += 1
        self._set(self.lr_at(self.last_epoch))

    def get_last_lr(self) -> list[float]:
        """The learning rate set by the last ``step()`` (or at construction), in a list."""
        return list(self._last_lr)


class StepLR(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _positive_int("step_size", step_size)
        self.gamma = _positive("gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return step_lr(epoch, self.base_lr, self.step_size, self.gamma)


class ExponentialLR(Schedule):
    """Multiply the rate by ``gamma`` every epoch."""

    def __init__(self, optimizer: Any, gamma: float) -> None:
        self.gamma = _positive("gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return exponential_lr(epoch, self.base_lr, self.gamma)


class CosineAnnealingLR(Schedule):
    """Half a cosine from the base rate down to ``eta_min`` over ``T_max`` epochs."""

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        self.T_max = _positive_int("T_max", T_max)
        if isinstance(eta_min, bool) or not isinstance(eta_min, (int, float)) or eta_min < 0:
            raise ValueError(f"eta_min must be a number >= 0; got {eta_min!r}")
        self.eta_min = float(eta_min)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return cosine_lr(epoch, self.base_lr, self.T_max, self.eta_min)


class LinearWarmup(Schedule):
    """Scale the rate linearly from ``start_factor`` to ``end_factor`` (torch's ``LinearLR``)."""

    def __init__(
        self,
        optimizer: Any,
        start_factor: float = 1 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        if not isinstance(start_factor, (int, float)) or not 0 < start_factor <= 1:
            raise ValueError(f"start_factor must be in (0, 1]; got {start_factor!r}")
        if not isinstance(end_factor, (int, float)) or not 0 <= end_factor <= 1:
            raise ValueError(f"end_factor must be in [0, 1]; got {end_factor!r}")
        self.start_factor, self.end_factor = float(start_factor), float(end_factor)
        self.total_iters = _positive_int("total_iters", total_iters)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return linear_lr(epoch, self.base_lr, self.start_factor, self.end_factor, self.total_iters)


class SequentialLR(Schedule):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` from its epoch 0...

    The usual use is warm-up then decay::

        warm = LinearWarmup(opt, start_factor=0.1, total_iters=5)
        decay = CosineAnnealingLR(opt, T_max=95)
        sched = SequentialLR(opt, [warm, decay], milestones=[5])
    """

    def __init__(
        self, optimizer: Any, schedulers: Sequence[Schedule], milestones: Sequence[int]
    ) -> None:
        self.schedulers = list(schedulers)
        self.milestones = list(milestones)
        if len(self.schedulers) < 1:
            raise ValueError("schedulers must hold at least one schedule; got none")
        if len(self.milestones) != len(self.schedulers) - 1:
            raise ValueError(
                f"milestones must have one entry fewer than schedulers ({len(self.schedulers)}); "
                f"got {len(self.milestones)}"
            )
        if any(b <= a for a, b in zip(self.milestones, self.milestones[1:], strict=False)):
            raise ValueError(f"milestones must increase; got {self.milestones}")
        for i, s in enumerate(self.schedulers):
            if not isinstance(s, Schedule) or s.optimizer is not optimizer:
                raise ValueError(f"schedulers[{i}] must be a schedule of this same optimizer")
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        start, current = 0, self.schedulers[0]
        for milestone, sched in zip(self.milestones, self.schedulers[1:], strict=True):
            if epoch >= milestone:
                start, current = milestone, sched
        return current.lr_at(epoch - start)
