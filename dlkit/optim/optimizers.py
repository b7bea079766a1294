"""PyTorch-style optimizers: a thin stateful shell around the pure rules in ``rules.py``.

    opt = Adam(model.parameters(), lr=1e-3)
    loss.backward()        # fills each parameter's .grad
    opt.step()             # updates each parameter's .data in place
    opt.zero_grad()

``params`` is a list of objects with ``.data`` (a NumPy array or torch tensor, updated in
place) and ``.grad`` (same shape, or ``None``: that parameter is skipped), which is torch's
convention, so ``torch.nn.Parameter`` objects work too. A list of plain NumPy arrays works as
well: pass the gradients to ``step(grads)``, in the same order.

Each parameter keeps its own state and its own step count, created on its first update, as
torch does. Hyperparameters live in a frozen dataclass (``opt.hp``); ``opt.lr`` can be set (a
learning-rate schedule does it), which replaces ``opt.hp`` with a copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..backend import describe, is_torch
from . import rules

__all__ = ["Optimizer", "SGD", "AdaGrad", "RMSProp", "Adadelta", "Adam", "AdamW"]


def _assign(target: Any, value: Any) -> None:
    """Write ``value`` into the array ``target`` in place (no autograd record for tensors)."""
    if type(target) is not np.ndarray and is_torch(target):
        import torch

        with torch.no_grad():
            target.copy_(value)
    else:
        target[...] = value


class Optimizer:
    """Apply ``update(param, grad, state, hp, step)`` to every parameter, in place."""

    def __init__(
        self,
        params: Iterable[Any],
        hp: Any,
        init: Callable[..., Any],
        update: Callable[..., Any],
    ) -> None:
        if is_torch(params) or isinstance(params, np.ndarray):
            raise TypeError(
                "params must be a list of parameters (or arrays), not a single array; "
                "wrap it in a list: [param]"
            )
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list (params=[])")
        for i, p in enumerate(self.params):
            data = self._data(p)
            if not isinstance(data, np.ndarray) and not is_torch(data):
                raise TypeError(
                    f"params[{i}] must be an array or an object with .data and .grad; "
                    f"got {describe(p)}"
                )
            floating = data.dtype.is_floating_point if is_torch(data) else data.dtype.kind == "f"
            if not floating:
                raise TypeError(
                    f"params[{i}] must hold floating-point numbers; got dtype {data.dtype}"
                )
        self.hp = hp
        self._init, self._update = init, update
        self.state: list[Any] = [None] * len(self.params)  # created on the first update
        self.steps: list[int] = [0] * len(self.params)

    @staticmethod
    def _data(p: Any) -> Any:
        return p if isinstance(p, np.ndarray) else getattr(p, "data", p)

    @property
    def lr(self) -> float:
        return self.hp.lr

    @lr.setter
    def lr(self, value: float) -> None:
        self.hp = replace(self.hp, lr=value)

    def step(self, grads: Sequence[Any] | None = None) -> None:
        """One update of every parameter that has a gradient.

        Args:
            grads: the gradients, one per parameter in order (``None`` entries are skipped);
                leave it out to read each parameter's ``.grad``.
        """
        if grads is not None:
            grads = list(grads)
            if len(grads) != len(self.params):
                raise ValueError(
                    f"grads must hold one gradient per parameter: {len(self.params)}; "
                    f"got {len(grads)}"
                )
        hp, init, update = self.hp, self._init, self._update  # hot loop: locals are cheap
        states, steps = self.state, self.steps
        for i, p in enumerate(self.params):
            data = p if type(p) is np.ndarray else self._data(p)
            if grads is not None:
                grad = grads[i]
            elif type(p) is np.ndarray:
                raise TypeError(
                    "these params are plain arrays, which have no .grad: "
                    "pass the gradients to step(grads)"
                )
            else:
                grad = p.grad
            if grad is None:
                continue
            if type(grad) is not np.ndarray and is_torch(grad):
                grad = grad.detach()
            if grad.shape != data.shape:
                raise ValueError(
                    f"the gradient of params[{i}] must have the parameter's shape "
                    f"{tuple(data.shape)}; got {tuple(grad.shape)}"
                )
            state = states[i]
            if state is None:
                state = init(data, hp)
            steps[i] += 1
            new, states[i] = update(data, grad, state, hp, steps[i])
            if type(data) is np.ndarray:
                data[...] = new
            else:
                _assign(data, new)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``.grad = None`` (torch's default), or fill them with zeros."""
        for p in self.params:
            if isinstance(p, np.ndarray) or getattr(p, "grad", None) is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                _assign(p.grad, 0.0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.params)} params, {self.hp})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum: ``torch.optim.SGD``."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        hp = rules.SGDHyper(lr, momentum, dampening, nesterov, weight_decay)
        super().__init__(params, hp, rules.sgd_init, rules.sgd_update)


class AdaGrad(Optimizer):
    """AdaGrad: per-element rates shrinking with the summed squared gradients."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        hp = rules.AdaGradHyper(lr, lr_decay, weight_decay, initial_accumulator_value, eps)
        super().__init__(params, hp, rules.adagrad_init, rules.adagrad_update)


class RMSProp(Optimizer):
    """RMSProp: divide by a leaky RMS of recent gradients: ``torch.optim.RMSprop``."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        hp = rules.RMSPropHyper(lr, alpha, eps, weight_decay, momentum, centered)
        super().__init__(params, hp, rules.rmsprop_init, rules.rmsprop_update)


class Adadelta(Optimizer):
    """Adadelta: steps in the units of the parameter: ``torch.optim.Adadelta``."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
    ) -> None:
        hp = rules.AdadeltaHyper(lr, rho, eps, weight_decay)
        super().__init__(params, hp, rules.adadelta_init, rules.adadelta_update)


def _betas(betas: Any) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2); got {betas!r}")
    for i, b in enumerate(betas):
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: betas[{i}]={b!r} not in [0, 1)")
    return float(betas[0]), float(betas[1])


class Adam(Optimizer):
    """Adam, with L2 weight decay and optional AMSGrad: ``torch.optim.Adam``."""

    _rule = staticmethod(rules.adam_update)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        beta1, beta2 = _betas(betas)
        hp = rules.AdamHyper(lr, beta1, beta2, eps, weight_decay, amsgrad)
        super().__init__(params, hp, rules.adam_init, self._rule)


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay: ``torch.optim.AdamW``."""

    _rule = staticmethod(rules.adamw_update)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
