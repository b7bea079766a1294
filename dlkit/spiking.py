"""Spiking neurons: the leaky integrate-and-fire model and training with a surrogate gradient.

A leaky integrate-and-fire (LIF) neuron integrates its input current into a membrane
potential that leaks back to rest with time constant ``tau``,
``tau dv/dt = -v + I(t)``; when ``v`` reaches the threshold ``v_th`` the neuron emits a
spike and ``v`` is reset. :func:`lif_simulate` integrates this with Euler steps;
:func:`lif_rate_theory` gives the firing rate of a constant current in closed form.

A spike is a step function of the potential, :func:`spike`, whose true derivative is zero
everywhere except at the threshold (:func:`spike_true_grad`): backpropagation through it
learns nothing. A *surrogate gradient* keeps the step in the forward pass and uses a smooth
stand-in for its derivative in the backward pass, here the fast sigmoid's
``1 / (1 + slope |x|)^2`` (:func:`spike_surrogate_grad`, SuperSpike, Zenke & Ganguli 2018).
:func:`train_spiking` trains a one-layer LIF classifier of Poisson spike trains
(:func:`poisson_patterns`) by backpropagation through time with either derivative.

Everything is float64 NumPy; random choices take an explicit ``rng`` or ``seed``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ._validate import check_generator, check_labels, check_size
from .backend import describe

__all__ = [
    "LIFTrace",
    "SpikeData",
    "SpikingHistory",
    "lif_simulate",
    "lif_rate_theory",
    "spike",
    "spike_surrogate_grad",
    "spike_true_grad",
    "poisson_patterns",
    "train_spiking",
]


def _positive(value: Any, name: str, *, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {value!r}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not zero):
        raise ValueError(f"{name} must be {'>= 0' if zero else '> 0'}; got {value!r}")
    return float(value)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return float(value)


def _floats(x: Any, name: str) -> np.ndarray:
    if isinstance(x, (int, float, list, tuple, np.number)) and not isinstance(x, bool):
        x = np.asarray(x, dtype=np.float64)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array; got {describe(x)}")
    if x.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold numbers; got dtype {x.dtype}")
    x = x.astype(np.float64, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


# -- one neuron ------------------------------------------------------------------------------
class LIFTrace(NamedTuple):
    """A simulated LIF run: ``v`` the potential at the end of each step (after any reset)
    and ``spikes`` whether each neuron fired in that step, both ``(T, N)``."""

    v: np.ndarray
    spikes: np.ndarray


def lif_simulate(
    current: Any,
    *,
    tau: float = 20.0,
    dt: float = 1.0,
    v_th: float = 1.0,
    v_reset: float = 0.0,
    refractory: int = 0,
    v0: float | None = None,
) -> LIFTrace:
    """Simulate leaky integrate-and-fire neurons with Euler steps.

    Starting from ``v0`` (default ``v_reset``), each step ``t``

    1. holds ``v = v_reset`` if the neuron is refractory (within ``refractory`` steps of its
       last spike), otherwise
    2. integrates ``v <- v + (dt / tau) (current[t] - v)`` and, if ``v >= v_th``, records a
       spike and resets ``v <- v_reset``.

    The current is in units of potential (the membrane resistance is 1), so a constant
    current ``I`` drives ``v`` towards ``I``: the neuron fires only when ``I > v_th``.

    Args:
        current: ``(T,)`` for one neuron or ``(T, N)`` for ``N`` independent neurons.
        tau: membrane time constant; dt: the step (same time unit, ``dt < tau``).
        v_th: the threshold; v_reset: the potential after a spike (below ``v_th``).
        refractory: the number of steps after a spike during which the neuron is silent.
        v0: the initial potential.

    Returns:
        a :class:`LIFTrace` ``(v, spikes)``, both ``(T, N)`` (``N = 1`` for a 1-D current).
    """
    i_t = _floats(current, "current")
    if i_t.ndim == 1:
        i_t = i_t[:, None]
    if i_t.ndim != 2 or i_t.shape[0] == 0:
        raise ValueError(f"current must be (T,) or (T, N) with T >= 1; got shape {i_t.shape}")
    tau, dt = _positive(tau, "tau"), _positive(dt, "dt")
    if dt >= tau:
        raise ValueError(f"dt must be smaller than tau for a stable Euler step; got {dt=}, {tau=}")
    v_th, v_reset = _number(v_th, "v_th"), _number(v_reset, "v_reset")
    if v_reset >= v_th:
        raise ValueError(f"v_reset must be below v_th; got v_reset={v_reset}, v_th={v_th}")
    if isinstance(refractory, bool) or not isinstance(refractory, (int, np.integer)):
        raise TypeError(f"refractory must be an int number of steps >= 0; got {refractory!r}")
    if refractory < 0:
        raise ValueError(f"refractory must be >= 0; got {refractory}")
    v = np.full(i_t.shape[1], v_reset if v0 is None else _number(v0, "v0"))
    steps, n = i_t.shape
    vs = np.empty((steps, n))
    spikes = np.zeros((steps, n), dtype=bool)
    wait = np.zeros(n, dtype=int)  # refractory steps left
    k = dt / tau
    for t in range(steps):
        resting = wait > 0
        v = np.where(resting, v_reset, v + k * (i_t[t] - v))
        fired = ~resting & (v >= v_th)
        v = np.where(fired, v_reset, v)
        wait = np.where(fired, refractory, np.maximum(wait - 1, 0))
        vs[t], spikes[t] = v, fired
    return LIFTrace(vs, spikes)


def lif_rate_theory(
    current: Any,
    *,
    tau: float = 20.0,
    v_th: float = 1.0,
    v_reset: float = 0.0,
    t_ref: float = 0.0,
) -> np.ndarray:
    """The firing rate of a LIF neuron driven by a constant current (continuous time).

    From ``v_reset`` the potential ``v(t) = I + (v_reset - I) e^{-t / tau}`` reaches ``v_th``
    after ``T = tau ln((I - v_reset) / (I - v_th))``, so the rate is ``1 / (t_ref + T)``
    for ``I > v_th`` and 0 otherwise (the potential settles at ``I``, below threshold).
    :func:`lif_simulate` approaches it as ``dt -> 0`` (with ``t_ref = refractory * dt``);
    with a finite ``dt`` each interval is rounded up to whole steps.

    Args:
        current: constant current(s), a number or an array of any shape.
        tau, v_th, v_reset: as in :func:`lif_simulate`.
        t_ref: the refractory time (a time, not a number of steps).

    Returns:
        spikes per unit time, float64, shaped like ``current``.
    """
    i = _floats(current, "current")
    tau = _positive(tau, "tau")
    v_th, v_reset = _number(v_th, "v_th"), _number(v_reset, "v_reset")
    if v_reset >= v_th:
        raise ValueError(f"v_reset must be below v_th; got v_reset={v_reset}, v_th={v_th}")
    t_ref = _positive(t_ref, "t_ref", zero=True)
    above = i > v_th
    safe = np.where(above, i, v_th + 1.0)  # no log of a non-positive number below threshold
    interval = tau * np.log((safe - v_reset) / (safe - v_th)) + t_ref
    return np.where(above, 1.0 / interval, 0.0)


# -- the spike and its derivatives -----------------------------------------------------------
def spike(x: Any) -> np.ndarray:
    """The spike non-linearity: the Heaviside step, ``1.0`` where ``x >= 0``, else ``0.0``.

    ``x`` is the potential minus the threshold, ``v - v_th``.
    """
    x = _floats(x, "x")
    return (x >= 0).astype(np.float64)


def spike_surrogate_grad(x: Any, slope: float = 1.0) -> np.ndarray:
    """A surrogate for the derivative of :func:`spike`: the fast sigmoid's derivative.

    ``1 / (1 + slope |x|)^2``: 1 at the threshold (``x = 0``), decaying like
    ``1 / (slope x)^2`` away from it, so a neuron far from firing still gets a (small)
    gradient. A larger ``slope`` is closer to the true step but lets fewer neurons learn.

    Args:
        x: the potential minus the threshold.
        slope: the steepness (> 0).
    """
    x = _floats(x, "x")
    slope = _positive(slope, "slope")
    return 1.0 / (1.0 + slope * np.abs(x)) ** 2


def spike_true_grad(x: Any) -> np.ndarray:
    """The true derivative of :func:`spike`: zero wherever it is defined.

    The step is flat on both sides of the threshold; its derivative is a Dirac delta at
    ``x = 0``, which a potential (a float) never hits in practice, so this returns zeros.
    """
    x = _floats(x, "x")
    return np.zeros_like(x)


# -- a toy task ------------------------------------------------------------------------------
class SpikeData(NamedTuple):
    """Spike trains ``x`` of shape ``(n, T, n_inputs)`` (0.0 or 1.0) and labels ``y``
    ``(n,)``, from :func:`poisson_patterns`."""

    x: np.ndarray
    y: np.ndarray


def poisson_patterns(
    n: int,
    *,
    n_inputs: int = 20,
    steps: int = 50,
    n_classes: int = 2,
    rates: tuple[float, float] = (0.05, 0.15),
    seed: int = 0,
    rng: np.random.Generator,
) -> SpikeData:
    """Poisson-coded inputs: each class is a fixed profile of firing rates over the inputs.

    Class ``k``'s profile gives every input channel a probability of a spike per step, drawn
    once uniformly from ``rates`` with ``np.random.default_rng(seed)`` (so two calls with
    one ``seed`` share the classes); each example draws independent Bernoulli spikes from its
    class's profile with ``rng``. Telling the classes apart needs the spike counts of many
    channels: no single channel or time step decides.

    Args:
        n: the number of examples (classes balanced, in random order).
        n_inputs: input channels; steps: time steps; n_classes: classes.
        rates: the lowest and highest spike probability per step, in ``[0, 1]``.
        seed: fixes the class profiles.
        rng: draws the examples.
    """
    n = check_size(n, "n")
    n_inputs, steps = check_size(n_inputs, "n_inputs"), check_size(steps, "steps")
    n_classes = check_size(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2; got {n_classes}")
    lo, hi = (float(r) for r in rates)
    if not 0.0 <= lo <= hi <= 1.0:
        raise ValueError(f"rates must be (low, high) with 0 <= low <= high <= 1; got {rates!r}")
    rng = check_generator(rng)
    profiles = np.random.default_rng(seed).uniform(lo, hi, size=(n_classes, n_inputs))
    y = rng.permutation(np.arange(n) % n_classes)
    x = (rng.random((n, steps, n_inputs)) < profiles[y][:, None, :]).astype(np.float64)
    return SpikeData(x, y)


@dataclass
class SpikingHistory:
    """What :func:`train_spiking` recorded, one value per epoch plus the initial one.

    Attributes:
        loss, train_acc, test_acc: entry ``e`` after ``e`` updates.
        grad_norm: the norm of the weight gradient at each update (0 for the true
            derivative: nothing flows back through a step function).
        weights: the final ``(n_inputs, n_classes)`` weights; bias: ``(n_classes,)``.
        grad: ``"surrogate"`` or ``"true"``; seconds: training time.
    """

    loss: list[float]
    train_acc: list[float]
    test_acc: list[float]
    grad_norm: list[float]
    weights: np.ndarray
    bias: np.ndarray
    grad: str
    seconds: float = 0.0


def _run(x: np.ndarray, w: np.ndarray, bias: np.ndarray, beta: float, v_th: float) -> tuple:
    """Forward through time: pre-reset potentials ``u`` and spikes ``s``, both ``(T, n, C)``."""
    n, steps, _ = x.shape
    currents = np.einsum("nti,ic->tnc", x, w) + bias  # (T, n, C)
    u = np.empty_like(currents)
    s = np.empty_like(currents)
    v = np.zeros(currents.shape[1:])
    for t in range(steps):
        u[t] = beta * v + currents[t]
        s[t] = spike(u[t] - v_th)
        v = u[t] * (1.0 - s[t])  # reset to 0 after a spike
    return u, s


def train_spiking(
    train: SpikeData | None = None,
    test: SpikeData | None = None,
    *,
    grad: str = "surrogate",
    slope: float = 1.0,
    spike_grad: Callable[..., Any] | None = None,
    epochs: int = 60,
    lr: float = 0.05,
    beta: float = 0.9,
    v_th: float = 1.0,
    seed: int = 0,
) -> SpikingHistory:
    """Train a one-layer spiking classifier by backpropagation through time.

    The network: ``C`` LIF output neurons, one per class, each receiving the weighted input
    spikes ``x_t @ w + bias`` as current: ``u_t = beta v_{t-1} + x_t @ w + bias``,
    ``s_t = spike(u_t - v_th)``, ``v_t = u_t (1 - s_t)`` (reset to 0). The predicted class is
    the neuron that fires most; the loss is the softmax cross-entropy of the spike counts
    ``sum_t s_t``. The backward pass runs through time with ``d s_t / d u_t`` replaced by
    the chosen derivative, the reset treated as a constant (the usual choice: its gradient
    only adds noise). Adam updates ``w`` (initial values ``N(0, 1 / n_inputs)``) and
    ``bias`` (0), full batch.

    Args:
        train, test: :class:`SpikeData`; default 200 examples each from
            :func:`poisson_patterns` (class profiles of ``seed``).
        grad: ``"surrogate"`` (the fast sigmoid's derivative, or ``spike_grad``) or ``"true"``
            (:func:`spike_true_grad`: zero, so nothing is learned).
        slope: the surrogate's steepness.
        spike_grad: a custom derivative ``f(x) -> array`` for ``grad="surrogate"``
            (default: :func:`spike_surrogate_grad` with ``slope``, looked up at call time).
        epochs: Adam steps; lr: its step size.
        beta: the leak per step, ``exp(-dt / tau)`` (in ``(0, 1]``); v_th: the threshold.
        seed: seeds the weights and the default data.

    Returns:
        a :class:`SpikingHistory`.
    """
    from .functional import softmax_cross_entropy
    from .optim import Adam

    if grad not in ("surrogate", "true"):
        raise ValueError(f'grad must be "surrogate" or "true"; got {grad!r}')
    module = sys.modules[__name__]
    if grad == "true":
        derivative = module.spike_true_grad
    elif spike_grad is None:
        slope = _positive(slope, "slope")

        def derivative(x: np.ndarray) -> np.ndarray:
            return module.spike_surrogate_grad(x, slope)

    elif callable(spike_grad):
        derivative = spike_grad
    else:
        raise TypeError(f"spike_grad must be a function; got {describe(spike_grad)}")
    epochs = check_size(epochs, "epochs")
    lr = _positive(lr, "lr")
    beta = _positive(beta, "beta")
    if beta > 1:
        raise ValueError(
            f"beta must be in (0, 1] (the fraction of potential kept per step); got {beta}"
        )
    v_th = _positive(v_th, "v_th")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int; got {seed!r}")
    if train is None:
        train = poisson_patterns(200, seed=seed, rng=np.random.default_rng([seed, 1]))
    if test is None:
        test = poisson_patterns(200, seed=seed, rng=np.random.default_rng([seed, 2]))
    for name, data in (("train", train), ("test", test)):
        if not isinstance(data, SpikeData):
            raise TypeError(
                f"{name} must be a SpikeData (see poisson_patterns); got {describe(data)}"
            )
        if data.x.ndim != 3:
            raise ValueError(f"{name}.x must be (n, T, n_inputs); got shape {data.x.shape}")
        check_labels(data.y, f"{name}.y", data.x.shape[0])
    if test.x.shape[2] != train.x.shape[2]:
        raise ValueError(
            f"test has {test.x.shape[2]} input channels but train has {train.x.shape[2]}"
        )
    n_classes = int(max(train.y.max(), test.y.max()) + 1)
    n_inputs = train.x.shape[2]

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n_inputs, n_classes)) / np.sqrt(n_inputs)
    bias = np.zeros(n_classes)
    opt = Adam([w, bias], lr=lr)
    history = SpikingHistory([], [], [], [], w, bias, grad)

    def accuracy(data: SpikeData) -> float:
        counts = _run(data.x, w, bias, beta, v_th)[1].sum(axis=0)
        return float(np.mean(counts.argmax(axis=1) == data.y))

    x, y = train.x, train.y
    for epoch in range(epochs + 1):
        u, s = _run(x, w, bias, beta, v_th)
        counts = s.sum(axis=0)  # (n, C)
        loss, dcounts = softmax_cross_entropy(counts, y)
        history.loss.append(float(loss))
        history.train_acc.append(float(np.mean(counts.argmax(axis=1) == y)))
        history.test_acc.append(accuracy(test))
        if epoch == epochs:
            break
        du = np.empty_like(u)
        dv = np.zeros_like(dcounts)  # dL/dv_t, carried back from step t + 1
        for t in reversed(range(u.shape[0])):
            du_reset = dv * (1.0 - s[t])  # through v_t = u_t (1 - s_t), s_t held constant
            du[t] = dcounts * np.asarray(derivative(u[t] - v_th)) + du_reset
            dv = beta * du[t]
        dw = np.einsum("nti,tnc->ic", x, du)
        db = du.sum(axis=(0, 1))
        history.grad_norm.append(float(np.sqrt(np.sum(dw * dw) + np.sum(db * db))))
        opt.step([dw, db])
    history.seconds = time.perf_counter() - start
    return history
