"""Optimizers as pure update rules: explicit state in, new parameter and state out.

Every optimizer is three things, in the style of jax's ``example_libraries/optimizers.py``:

* a frozen dataclass of **hyperparameters** (``SGDHyper(lr=0.1, momentum=0.9)``), checked
  when it is built, so a bad value fails where it was written;
* ``init(param, hp) -> state``: the optimizer's memory for one parameter array, a NamedTuple
  of arrays shaped like ``param`` (fields that the hyperparameters switch off are ``None``);
* ``update(param, grad, state, hp, step) -> (new_param, new_state)``: one step, where ``step``
  counts the updates made to this parameter, this one included (1 on the first call).

Update rules never modify their inputs: they return new arrays. The same code runs on NumPy
arrays and torch tensors (any device), through :func:`dlkit.backend.namespace`. The maths
follows ``torch.optim`` operation for operation, so a rule and its torch counterpart agree to
rounding error for the same hyperparameters (``tests/optim`` checks it over 100 steps).

The stateful, PyTorch-style wrappers in :mod:`dlkit.optim.optimizers` call these functions.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..backend import namespace

__all__ = [
    "SGDHyper",
    "SGDState",
    "sgd_init",
    "sgd_update",
    "AdaGradHyper",
    "AdaGradState",
    "adagrad_init",
    "adagrad_update",
    "RMSPropHyper",
    "RMSPropState",
    "rmsprop_init",
    "rmsprop_update",
    "AdadeltaHyper",
    "AdadeltaState",
    "adadelta_init",
    "adadelta_update",
    "AdamHyper",
    "AdamState",
    "adam_init",
    "adam_update",
    "adamw_update",
    "Rule",
    "RULES",
    "run",
]


# -- checks shared by the hyperparameter classes ---------------------------------------
def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {type(value).__name__} {value!r}")
    if math.isnan(value):
        raise ValueError(f"{name} must be a number; got nan")
    return float(value)


def _at_least(name: str, value: Any, low: float = 0.0) -> None:
    if _number(name, value) < low:
        raise ValueError(f"Invalid {name}: {name} must be >= {low:g}; got {value!r}")


def _in_unit(name: str, value: Any, *, closed: bool = False) -> None:
    v = _number(name, value)
    ok = 0.0 <= v <= 1.0 if closed else 0.0 <= v < 1.0
    if not ok:
        interval = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"Invalid {name}: {name} must be in {interval}; got {value!r}")


def _zeros(param: Any) -> Any:
    return namespace(param).zeros_like(param)


# -- SGD, with momentum and Nesterov momentum ------------------------------------------
@dataclass(frozen=True)
class SGDHyper:
    """Hyperparameters of (momentum) SGD, as in ``torch.optim.SGD``."""

    lr: float
    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        _at_least("lr", self.lr)
        _at_least("momentum", self.momentum)
        _number("dampening", self.dampening)
        _at_least("weight_decay", self.weight_decay)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                "nesterov=True requires momentum > 0 and dampening = 0; "
                f"got momentum={self.momentum!r}, dampening={self.dampening!r}"
            )


class SGDState(NamedTuple):
    """The velocity ``b`` (torch's ``momentum_buffer``); ``None`` without momentum."""

    velocity: Any = None


def sgd_init(param: Any, hp: SGDHyper) -> SGDState:
    return SGDState(_zeros(param) if hp.momentum != 0 else None)


def sgd_update(param: Any, grad: Any, state: SGDState, hp: SGDHyper, step: int) -> tuple:
    """``b <- mu b + (1 - dampening) g`` (``b = g`` on step 1); ``p <- p - lr b``.

    Nesterov replaces the step direction ``b`` by the look-ahead ``g + mu b``. Weight decay is
    the L2 penalty: ``g <- g + weight_decay * p`` before anything else.
    """
    g = grad + hp.weight_decay * param if hp.weight_decay != 0 else grad
    velocity = state.velocity
    if hp.momentum != 0:
        if step == 1:  # torch starts the buffer at the first gradient, undamped
            velocity = g
        else:
            velocity = hp.momentum * velocity + (1 - hp.dampening) * g
        g = g + hp.momentum * velocity if hp.nesterov else velocity
        state = SGDState(velocity)
    return param - hp.lr * g, state  # without momentum the (empty) state is unchanged


# -- AdaGrad ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AdaGradHyper:
    """Hyperparameters of AdaGrad, as in ``torch.optim.Adagrad``."""

    lr: float = 0.01
    lr_decay: float = 0.0
    weight_decay: float = 0.0
    initial_accumulator_value: float = 0.0
    eps: float = 1e-10

    def __post_init__(self) -> None:
        _at_least("lr", self.lr)
        _at_least("lr_decay", self.lr_decay)
        _at_least("weight_decay", self.weight_decay)
        _at_least("initial_accumulator_value", self.initial_accumulator_value)
        _at_least("eps", self.eps)


class AdaGradState(NamedTuple):
    """The running sum of squared gradients, per element."""

    sum_sq: Any


def adagrad_init(param: Any, hp: AdaGradHyper) -> AdaGradState:
    return AdaGradState(_zeros(param) + hp.initial_accumulator_value)


def adagrad_update(
    param: Any, grad: Any, state: AdaGradState, hp: AdaGradHyper, step: int
) -> tuple:
    """``s <- s + g^2``; ``p <- p - lr_t g / (sqrt(s) + eps)``.

    The rate decays as ``lr_t = lr / (1 + (t - 1) lr_decay)``.
    """
    xp = namespace(param, grad)
    g = grad + hp.weight_decay * param if hp.weight_decay != 0 else grad
    lr_t = hp.lr / (1 + (step - 1) * hp.lr_decay)
    sum_sq = state.sum_sq + g * g
    return param - lr_t * g / (xp.sqrt(sum_sq) + hp.eps), AdaGradState(sum_sq)


# -- RMSProp ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RMSPropHyper:
    """Hyperparameters of RMSProp, as in ``torch.optim.RMSprop``."""

    lr: float = 0.01
    alpha: float = 0.99
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum: float = 0.0
    centered: bool = False

    def __post_init__(self) -> None:
        _at_least("lr", self.lr)
        _in_unit("alpha", self.alpha, closed=True)
        _at_least("eps", self.eps)
        _at_least("weight_decay", self.weight_decay)
        _at_least("momentum", self.momentum)


class RMSPropState(NamedTuple):
    """Leaky average of ``g^2``; of ``g`` (``centered`` only); momentum buffer (if any)."""

    square_avg: Any
    grad_avg: Any = None
    velocity: Any = None


def rmsprop_init(param: Any, hp: RMSPropHyper) -> RMSPropState:
    return RMSPropState(
        _zeros(param),
        _zeros(param) if hp.centered else None,
        _zeros(param) if hp.momentum > 0 else None,
    )


def rmsprop_update(
    param: Any, grad: Any, state: RMSPropState, hp: RMSPropHyper, step: int
) -> tuple:
    """``v <- alpha v + (1 - alpha) g^2``; ``p <- p - lr g / (sqrt(v) + eps)``.

    ``centered`` divides by the standard deviation ``sqrt(v - m^2)`` instead, with ``m`` the
    leaky average of ``g``; ``momentum`` accumulates the scaled steps in a buffer.
    """
    xp = namespace(param, grad)
    g = grad + hp.weight_decay * param if hp.weight_decay != 0 else grad
    square_avg = hp.alpha * state.square_avg + (1 - hp.alpha) * g * g
    grad_avg = state.grad_avg
    if hp.centered:
        grad_avg = grad_avg + (1 - hp.alpha) * (g - grad_avg)  # torch's lerp
        denom = xp.sqrt(square_avg - grad_avg * grad_avg) + hp.eps
    else:
        denom = xp.sqrt(square_avg) + hp.eps
    velocity = state.velocity
    if hp.momentum > 0:
        velocity = hp.momentum * velocity + g / denom
        new_param = param - hp.lr * velocity
    else:
        new_param = param - hp.lr * g / denom
    return new_param, RMSPropState(square_avg, grad_avg, velocity)


# -- Adadelta --------------------------------------------------------------------------
@dataclass(frozen=True)
class AdadeltaHyper:
    """Hyperparameters of Adadelta, as in ``torch.optim.Adadelta``."""

    lr: float = 1.0
    rho: float = 0.9
    eps: float = 1e-6
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        _at_least("lr", self.lr)
        _in_unit("rho", self.rho, closed=True)
        _at_least("eps", self.eps)
        _at_least("weight_decay", self.weight_decay)


class AdadeltaState(NamedTuple):
    """Leaky averages of the squared gradients and of the squared steps."""

    square_avg: Any
    acc_delta: Any


def adadelta_init(param: Any, hp: AdadeltaHyper) -> AdadeltaState:
    return AdadeltaState(_zeros(param), _zeros(param))


def adadelta_update(
    param: Any, grad: Any, state: AdadeltaState, hp: AdadeltaHyper, step: int
) -> tuple:
    """``v <- rho v + (1-rho) g^2``; ``d = sqrt(u + eps) / sqrt(v + eps) g``;
    ``u <- rho u + (1-rho) d^2``; ``p <- p - lr d``."""
    xp = namespace(param, grad)
    g = grad + hp.weight_decay * param if hp.weight_decay != 0 else grad
    square_avg = hp.rho * state.square_avg + (1 - hp.rho) * g * g
    delta = xp.sqrt(state.acc_delta + hp.eps) / xp.sqrt(square_avg + hp.eps) * g
    acc_delta = hp.rho * state.acc_delta + (1 - hp.rho) * delta * delta
    return param - hp.lr * delta, AdadeltaState(square_avg, acc_delta)


# -- Adam and AdamW --------------------------------------------------------------------
@dataclass(frozen=True)
class AdamHyper:
    """Hyperparameters of Adam and AdamW (``torch.optim.Adam`` / ``AdamW``).

    ``weight_decay`` is an L2 penalty added to the gradient in :func:`adam_update`, and a
    decoupled shrinking of the parameter in :func:`adamw_update`.
    """

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    amsgrad: bool = False

    def __post_init__(self) -> None:
        _at_least("lr", self.lr)
        _in_unit("beta1", self.beta1)
        _in_unit("beta2", self.beta2)
        _at_least("eps", self.eps)
        _at_least("weight_decay", self.weight_decay)


class AdamState(NamedTuple):
    """First moment ``m``, second moment ``v``, and the running maximum of ``v`` (amsgrad)."""

    m: Any
    v: Any
    v_max: Any = None


def adam_init(param: Any, hp: AdamHyper) -> AdamState:
    return AdamState(_zeros(param), _zeros(param), _zeros(param) if hp.amsgrad else None)


def _adam_step(param: Any, g: Any, state: AdamState, hp: AdamHyper, step: int) -> tuple:
    xp = namespace(param, g)
    m = state.m + (1 - hp.beta1) * (g - state.m)  # = beta1 m + (1 - beta1) g, as torch's lerp
    v = hp.beta2 * state.v + (1 - hp.beta2) * g * g
    v_max = state.v_max
    if hp.amsgrad:
        v_max = xp.maximum(v_max, v)
    bias1 = 1 - hp.beta1**step
    bias2_sqrt = math.sqrt(1 - hp.beta2**step)
    # eps is added after the bias correction of sqrt(v), exactly where torch adds it
    denom = xp.sqrt(v_max if hp.amsgrad else v) / bias2_sqrt + hp.eps
    return param - (hp.lr / bias1) * m / denom, AdamState(m, v, v_max)


def adam_update(param: Any, grad: Any, state: AdamState, hp: AdamHyper, step: int) -> tuple:
    """Adam: ``m, v`` leaky averages of ``g`` and ``g^2``, bias-corrected by ``1 - beta^t``;
    ``p <- p - lr m_hat / (sqrt(v_hat) + eps)``. Weight decay is coupled (an L2 penalty)."""
    g = grad + hp.weight_decay * param if hp.weight_decay != 0 else grad
    return _adam_step(param, g, state, hp, step)


def adamw_update(param: Any, grad: Any, state: AdamState, hp: AdamHyper, step: int) -> tuple:
    """AdamW: ``p <- p (1 - lr weight_decay)``, then the Adam step with the raw gradient."""
    decayed = param * (1 - hp.lr * hp.weight_decay) if hp.weight_decay != 0 else param
    return _adam_step(decayed, grad, state, hp, step)


# -- the catalogue, and a driver for whole trajectories --------------------------------
class Rule(NamedTuple):
    """An optimizer as data: its hyperparameter class, ``init`` and ``update``."""

    hyper: type
    init: Callable[..., Any]
    update: Callable[..., Any]


RULES: dict[str, Rule] = {
    "sgd": Rule(SGDHyper, sgd_init, sgd_update),
    "adagrad": Rule(AdaGradHyper, adagrad_init, adagrad_update),
    "rmsprop": Rule(RMSPropHyper, rmsprop_init, rmsprop_update),
    "adadelta": Rule(AdadeltaHyper, adadelta_init, adadelta_update),
    "adam": Rule(AdamHyper, adam_init, adam_update),
    "adamw": Rule(AdamHyper, adam_init, adamw_update),
}


def run(
    update: Callable[..., Any],
    init: Callable[..., Any],
    hp: Any,
    param: Any,
    grad_fn: Callable[[Any], Any],
    steps: int,
) -> list[Any]:
    """Apply ``update`` ``steps`` times from ``param``; return ``[param_0, ..., param_steps]``.

    ``grad_fn(param)`` gives the gradient at a point. The inputs are not modified.
    """
    state = init(param, hp)
    path = [param]
    for t in range(1, steps + 1):
        param, state = update(param, grad_fn(param), state, hp, t)
        path.append(param)
    return path
