"""The vanilla (Elman) RNN: ``h_t = tanh(x_t Wx + h_{t-1} Wh + b)``.

Two ways to run it:

* :func:`rnn_step_forward` / :func:`rnn_step_backward`: ONE time step, written as the
  equation (the unit 09 exercise);
* :func:`rnn_forward` / :func:`rnn_backward`: the whole sequence, the same maths arranged for
  speed. Everything that does not depend on the recurrence is taken out of the time loop:
  the input projection of all ``T`` steps is one product ``(T*N, D) @ (D, H)``; the loop does
  only ``h_{t-1} @ Wh`` and a ``tanh``; the backward pass (backpropagation through time)
  keeps every step's gradient ``da_t = dL/d(pre-activation)`` in one ``(T, N, H)`` array
  and computes ``dWx``, ``dWh``, ``db`` and ``dx`` after the loop as ONE product each over
  all steps: ``dWh = sum_t h_{t-1}^T da_t`` is ``Hprev^T @ dA`` with the steps stacked.

Shapes: ``x`` ``(N, T, D)``, ``h0`` ``(N, H)``, ``Wx`` ``(D, H)``, ``Wh`` ``(H, H)``,
``b`` ``(H,)``, ``h`` ``(N, T, H)``. torch's ``nn.RNN`` holds ``weight_ih_l0 = Wx.T``,
``weight_hh_l0 = Wh.T`` and two biases whose sum is ``b``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..backend import namespace
from ._recurrent import (
    batch_major,
    check_cache,
    check_sequence,
    check_step,
    check_upstream,
    tanh_into,
    time_major,
)
from ._windows import contiguous, empty

__all__ = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward"]


class RNNStepCache(NamedTuple):
    x: Any  # (N, D)
    h_prev: Any  # (N, H)
    Wx: Any  # (D, H)
    Wh: Any  # (H, H)
    h: Any  # (N, H), the step's output


class RNNCache(NamedTuple):
    x: Any  # (T, N, D), time-major copy of the input
    hs: Any  # (T + 1, N, H): h0, h_1, ..., h_T (time-major)
    Wx: Any  # (D, H)
    Wh: Any  # (H, H)


def rnn_step_forward(x: Any, h_prev: Any, Wx: Any, Wh: Any, b: Any) -> tuple[Any, RNNStepCache]:
    """One step of a tanh RNN: ``h = tanh(x @ Wx + h_prev @ Wh + b)``.

    Args:
        x: the inputs of this step, ``(N, D)``.
        h_prev: the previous hidden state, ``(N, H)``.
        Wx: input-to-hidden weights, ``(D, H)``.
        Wh: hidden-to-hidden weights, ``(H, H)``.
        b: bias, ``(H,)``.

    Returns:
        ``(h, cache)``: the new hidden state ``(N, H)`` and what the backward step needs.
    """
    x, h_prev, Wx, Wh, b = check_step(x, {"h_prev": h_prev}, {"Wx": Wx, "Wh": Wh, "b": b}, 1)
    h = namespace(x).tanh(x @ Wx + h_prev @ Wh + b)  # (N, H)
    return h, RNNStepCache(x, h_prev, Wx, Wh, h)


def rnn_step_backward(dh: Any, cache: RNNStepCache) -> tuple[Any, Any, Any, Any, Any]:
    """Backward pass of :func:`rnn_step_forward`.

    Args:
        dh: ``dL/dh``, ``(N, H)``: the gradient from this step's output and from the next
            step (their sum).
        cache: from :func:`rnn_step_forward`.

    Returns:
        ``(dx, dh_prev, dWx, dWh, db)`` of shapes ``(N, D)``, ``(N, H)``, ``(D, H)``,
        ``(H, H)``, ``(H,)``. With ``da = dh * (1 - h^2)`` (tanh' in terms of its output):
        ``dx = da Wx^T``, ``dh_prev = da Wh^T``, ``dWx = x^T da``, ``dWh = h_prev^T da``,
        ``db = sum_n da``.
    """
    check_cache(cache, RNNStepCache, "rnn_step_forward")
    x, h_prev, Wx, Wh, h = cache
    dh = check_upstream("dh", dh, h, tuple(h.shape), "(N, H)")
    da = dh * (1.0 - h * h)  # (N, H)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def rnn_forward(x: Any, h0: Any, Wx: Any, Wh: Any, b: Any) -> tuple[Any, RNNCache]:
    """A tanh RNN over a whole sequence: ``h_t = tanh(x_t Wx + h_{t-1} Wh + b)``.

    Args:
        x: inputs, ``(N, T, D)``.
        h0: the initial hidden state, ``(N, H)``.
        Wx: ``(D, H)``; Wh: ``(H, H)``; b: ``(H,)``.

    Returns:
        ``(h, cache)``: every hidden state ``h[:, t] = h_{t+1}``, shape ``(N, T, H)``
        (``h[:, -1]`` is the last one); ``cache`` holds the time-major input and states.
    """
    x, h0, Wx, Wh, b = check_sequence(x, h0, {"Wx": Wx, "Wh": Wh, "b": b}, 1)
    n, t, d = (int(s) for s in x.shape)
    h = int(h0.shape[1])
    xt = time_major(x)  # (T, N, D)
    a = (xt.reshape(t * n, d) @ Wx).reshape(t, n, h)  # every step's input projection
    a += b
    hs = empty((t + 1, n, h), x)  # (T + 1, N, H)
    hs[0] = h0
    for step in range(t):  # the recurrence: one product and one tanh per step
        a_t = a[step]
        a_t += hs[step] @ Wh
        tanh_into(a_t, hs[step + 1])
    return batch_major(hs[1:]), RNNCache(xt, hs, Wx, Wh)


def rnn_backward(dh: Any, cache: RNNCache) -> tuple[Any, Any, Any, Any, Any]:
    """Backpropagation through time for :func:`rnn_forward`.

    Args:
        dh: the upstream gradient of EVERY hidden state, ``(N, T, H)`` (zeros where a
            state feeds no loss, e.g. all but ``[:, -1]`` for a many-to-one model).
        cache: from :func:`rnn_forward`.

    Returns:
        ``(dx, dh0, dWx, dWh, db)`` of shapes ``(N, T, D)``, ``(N, H)``, ``(D, H)``,
        ``(H, H)``, ``(H,)``. Going back from ``t = T``: ``g_t = dh_t + da_{t+1} Wh^T``,
        ``da_t = g_t * (1 - h_t^2)``; ``dh0 = da_1 Wh^T``.
    """
    check_cache(cache, RNNCache, "rnn_forward")
    xt, hs, Wx, Wh = cache
    t, n, d = (int(s) for s in xt.shape)
    h = int(hs.shape[2])
    dh = time_major(check_upstream("dh", dh, hs, (n, t, h), "(N, T, H)"))  # (T, N, H)
    da = 1.0 - hs[1:] * hs[1:]  # (T, N, H): tanh', becomes dA in place
    wh_t = contiguous(Wh.T)
    g = dh[t - 1]  # dL/dh_T
    for step in range(t - 1, -1, -1):
        da_t = da[step]
        da_t *= g
        g = da_t @ wh_t  # dL/dh_{step} through the recurrence
        if step:
            g += dh[step - 1]
    da2 = da.reshape(t * n, h)
    dx = batch_major((da2 @ Wx.T).reshape(t, n, d))
    dwx = xt.reshape(t * n, d).T @ da2
    dwh = hs[:-1].reshape(t * n, h).T @ da2
    return dx, g, dwx, dwh, da2.sum(axis=0)
