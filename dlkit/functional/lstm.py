"""The LSTM cell, one step and a whole sequence, in torch's gate order i, f, g, o.

With the pre-activations ``a = x Wx + h_prev Wh + b`` ``(N, 4H)`` cut into four ``(N, H)``
slices::

    i = sigmoid(a_i)   input gate        c = f * c_prev + i * g
    f = sigmoid(a_f)   forget gate       h = o * tanh(c)
    g = tanh(a_g)      candidate cell
    o = sigmoid(a_o)   output gate

The cell ``c`` is the long-term memory: its gradient flows back through ``c = f * c_prev +
...`` multiplied only by ``f``, not squashed by a weight matrix and a ``tanh`` at every
step, which is why an LSTM remembers where a plain RNN's gradients vanish.

:func:`lstm_forward` / :func:`lstm_backward` run the sequence fast: per step ONE product
``[x_t, 1, h_{t-1}] @ [Wx; b; Wh]`` (the bias is the weight of a constant input 1) into one
``(N, 4H)`` slab whose four gates take ONE ``exp``, one ``+ 1`` and one ``1 / x``: the
weights' columns are scaled by -1 (i, f, o) and -2 (g), exactly, so the slab holds ``-a``
and ``-2 a_g``, and ``1 / (1 + exp(-a))`` is ``sigmoid(a)`` while ``2 / (1 + exp(-2 a)) - 1``
is ``tanh(a)``. (NumPy's ``tanh`` on float32 is a scalar loop on AVX2 machines, about three
times the cost of its vectorized ``exp``: measured.) Every per-step result is written with
``out=``, without temporaries. The backward pass gets ``dWx``, ``db`` and ``dWh`` from one
product over all steps and ``dx`` from another. The large buffers come from
``_recurrent.reusable``: fresh multi-megabyte arrays at every call cost page faults and cache
misses.

Shapes: ``x`` ``(N, T, D)``, ``h0`` ``(N, H)``, ``Wx`` ``(D, 4H)``, ``Wh`` ``(H, 4H)``,
``b`` ``(4H,)``. torch's ``nn.LSTM``: ``weight_ih_l0 = Wx.T``, ``weight_hh_l0 = Wh.T``,
``bias_ih_l0 + bias_hh_l0 = b``.
"""

from __future__ import annotations

import contextlib
from typing import Any, NamedTuple

import numpy as np

from ..backend import is_torch, namespace
from ._recurrent import (
    batch_major,
    check_cache,
    check_sequence,
    check_step,
    check_upstream,
    mul_into,
    reusable,
    sigmoid_scale,
    tanh_into,
)
from ._windows import empty, matmul, zeros
from .activations import sigmoid

__all__ = ["lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward"]

# The slab of step t holds -a for i, f, o and -2 a_g for g (the weights' columns scaled by
# these factors, exactly: a sign and a power of 2); exp, + 1 and 1 / x then give
# s = sigmoid(a) for i, f, o and s = sigmoid(2 a_g) for g, with g = tanh(a_g) = 2 s - 1.
_NEGATE = (-1.0, -1.0, -2.0, -1.0)
# d gate / d a = q * s (1 - s): 1 for a sigmoid gate, 4 for g (1 - g^2 = 4 s (1 - s))
_DERIV = (1.0, 1.0, 4.0, 1.0)
_GATE = ((1.0, 1.0, 2.0, 1.0), (0.0, 0.0, -1.0, 0.0))  # gate = s * scale + shift


class LSTMStepCache(NamedTuple):
    x: Any  # (N, D)
    h_prev: Any  # (N, H)
    c_prev: Any  # (N, H)
    Wx: Any  # (D, 4H)
    Wh: Any  # (H, 4H)
    gates: Any  # (N, 4H): i, f, g, o after their activations
    tanh_c: Any  # (N, H)


class LSTMCache(NamedTuple):
    xh: Any  # (T + 1, N, D + 1 + H): row t is [x_t, 1, h_{t-1}], step t's product inputs
    hs: Any  # (T + 1, N, H): h0, h_1, ..., h_T (a view of xh's last H columns)
    cs: Any  # (T + 1, N, H): c0 = 0, c_1, ..., c_T
    tanh_c: Any  # (T, N, H)
    sig: Any  # (T, N, 4H): sigmoid(a) for i, f, o; sigmoid(2 a_g) for g
    Wx: Any  # (D, 4H)
    Wh: Any  # (H, 4H)

    @property
    def gates(self) -> Any:
        """``(T, N, 4H)``: i, f, g, o of every step (for a gate inspector), computed on
        demand from ``sig``: storing them would cost a pass over memory per call."""
        hid = int(self.tanh_c.shape[2])
        scale, shift = (sigmoid_scale(self.tanh_c, p, hid) for p in _GATE)
        return self.sig * scale + shift


def lstm_step_forward(
    x: Any, h_prev: Any, c_prev: Any, Wx: Any, Wh: Any, b: Any
) -> tuple[Any, Any, LSTMStepCache]:
    """One LSTM step (gate order i, f, g, o, as torch).

    Args:
        x: ``(N, D)``; h_prev, c_prev: the previous hidden and cell states, ``(N, H)``.
        Wx: ``(D, 4H)``; Wh: ``(H, 4H)``; b: ``(4H,)``.

    Returns:
        ``(h, c, cache)``: the new hidden and cell states, each ``(N, H)``.
    """
    x, h_prev, c_prev, Wx, Wh, b = check_step(
        x, {"h_prev": h_prev, "c_prev": c_prev}, {"Wx": Wx, "Wh": Wh, "b": b}, 4
    )
    xp = namespace(x)
    hid = int(h_prev.shape[1])
    a = x @ Wx + h_prev @ Wh + b  # (N, 4H)
    i = sigmoid(a[:, :hid])
    f = sigmoid(a[:, hid : 2 * hid])
    g = xp.tanh(a[:, 2 * hid : 3 * hid])
    o = sigmoid(a[:, 3 * hid :])
    c = f * c_prev + i * g
    tanh_c = xp.tanh(c)
    h = o * tanh_c
    gates = xp.concat([i, f, g, o], axis=1)  # (N, 4H)
    return h, c, LSTMStepCache(x, h_prev, c_prev, Wx, Wh, gates, tanh_c)


def lstm_step_backward(dh: Any, dc: Any, cache: LSTMStepCache) -> tuple[Any, ...]:
    """Backward pass of :func:`lstm_step_forward`.

    Args:
        dh: ``dL/dh`` ``(N, H)``; dc: ``dL/dc`` ``(N, H)`` from the next step (zeros at the
            last step).
        cache: from :func:`lstm_step_forward`.

    Returns:
        ``(dx, dh_prev, dc_prev, dWx, dWh, db)`` of shapes ``(N, D)``, ``(N, H)``,
        ``(N, H)``, ``(D, 4H)``, ``(H, 4H)``, ``(4H,)``. The cell gets ``dc + dh * o * (1 -
        tanh(c)^2)``; ``dc_prev = dc_total * f``; each gate's gradient times its activation's
        derivative (``s (1 - s)`` for a sigmoid, ``1 - g^2`` for tanh) gives ``da``.
    """
    check_cache(cache, LSTMStepCache, "lstm_step_forward")
    x, h_prev, c_prev, Wx, Wh, gates, tanh_c = cache
    shape = tuple(h_prev.shape)
    dh = check_upstream("dh", dh, x, shape, "(N, H)")
    dc = check_upstream("dc", dc, x, shape, "(N, H)")
    xp = namespace(x)
    hid = shape[1]
    i, f = gates[:, :hid], gates[:, hid : 2 * hid]
    g, o = gates[:, 2 * hid : 3 * hid], gates[:, 3 * hid :]
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)  # (N, H): both paths into c
    da = xp.concat(
        [
            dc * g * i * (1.0 - i),  # da_i
            dc * c_prev * f * (1.0 - f),  # da_f
            dc * i * (1.0 - g * g),  # da_g
            dh * tanh_c * o * (1.0 - o),  # da_o
        ],
        axis=1,
    )  # (N, 4H)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def _ops(like: Any) -> tuple[Any, ...]:
    """``(matmul, multiply, tanh, add, subtract, exp, reciprocal)``, each writing into its
    last argument or ``out=``: NumPy's own functions for NumPy arrays, dlkit's dispatchers
    for torch. The sequence loops make about 25 calls a step; a dispatching wrapper around
    each NumPy call was measured at a tenth of the forward + backward time (N=32, T=40,
    H=128)."""
    if not is_torch(like):
        one = np.ones((), like.dtype)

        def recip(a: Any, out: Any) -> Any:
            return np.divide(one, a, out)  # measured: faster than np.reciprocal

        return np.matmul, np.multiply, np.tanh, np.add, np.subtract, np.exp, recip
    import torch

    def add(a: Any, b: Any, out: Any) -> Any:
        return torch.add(a, b, out=out)

    def sub(a: Any, b: Any, out: Any) -> Any:
        if torch.is_tensor(a):
            return torch.sub(a, b, out=out)
        return out.copy_(b).neg_().add_(a)  # a - b for a Python number a (b may be out)

    def exp(a: Any, out: Any) -> Any:
        return torch.exp(a, out=out)

    def recip(a: Any, out: Any) -> Any:
        return torch.reciprocal(a, out=out)

    return matmul, mul_into, tanh_into, add, sub, exp, recip


def _numbers(like: Any, *values: float) -> tuple[Any, ...]:
    """The loops' constants: 0-d arrays of ``like``'s dtype for NumPy (measured: a ufunc
    takes one about 1 us faster than a Python float, which it must convert each call),
    Python floats for torch."""
    if is_torch(like):
        return values
    return tuple(np.full((), v, like.dtype) for v in values)


def _quiet(like: Any) -> Any:
    """``exp`` of a large pre-activation is ``inf`` and its gate exactly 0, as it should be:
    NumPy's overflow warning is silenced for the loop (torch does not warn)."""
    return (
        contextlib.nullcontext() if is_torch(like) else np.errstate(over="ignore", under="ignore")
    )


def lstm_forward(x: Any, h0: Any, Wx: Any, Wh: Any, b: Any) -> tuple[Any, LSTMCache]:
    """An LSTM over a whole sequence, starting from ``h0`` and ``c0 = 0``.

    Args:
        x: ``(N, T, D)``; h0: ``(N, H)``; Wx: ``(D, 4H)``; Wh: ``(H, 4H)``; b: ``(4H,)``.

    Returns:
        ``(h, cache)``: every hidden state, ``(N, T, H)``. The last cell state (torch's
        ``c_n``) is ``cache.cs[-1]`` ``(N, H)``; every step's gates are ``cache.gates``
        ``(T, N, 4H)``, time-major.
    """
    x, h0, Wx, Wh, b = check_sequence(x, h0, {"Wx": Wx, "Wh": Wh, "b": b}, 4)
    xp = namespace(x)
    n, t, d = (int(s) for s in x.shape)
    hid = int(h0.shape[1])
    # one buffer holds every product's input, [x_t, 1, h_{t-1}], time-major: the bias is
    # the weight of the constant 1, and the backward gets dWx, db, dWh from ONE product
    xh = reusable((t + 1, n, d + 1 + hid), x)
    xh[:t, :, :d] = xp.permute_dims(x, (1, 0, 2))
    xh[:, :, d] = 1.0
    xh[t, :, :d] = 0.0  # row T: only its h_T is used
    hs = xh[:, :, d + 1 :]  # (T + 1, N, H)
    hs[0] = h0
    w_all = reusable((d + 1 + hid, 4 * hid), x)  # [Wx; b; Wh], columns times _NEGATE
    negate = sigmoid_scale(x, _NEGATE, hid)
    mul_into(Wx, negate, w_all[:d])
    mul_into(b, negate, w_all[d])
    mul_into(Wh, negate, w_all[d + 1 :])
    sig = reusable((t, n, 4 * hid), x)  # -a (-2 a_g), then the gates' sigmoids in place
    cs = reusable((t + 1, n, hid), x)
    cs[0] = 0.0
    tanh_c = reusable((t, n, hid), x)
    g = empty((n, hid), x)  # per-step scratch: g, then i * g
    mm, mul, tanh, add, sub, exp, recip = _ops(x)
    one, two = _numbers(x, 1.0, 2.0)
    with _quiet(x):
        for step in range(t):  # 11 calls a step
            s = sig[step]  # (N, 4H)
            mm(xh[step], w_all, out=s)  # -[x_t, 1, h_{t-1}] @ [Wx; b; Wh] (g: twice that)
            exp(s, s)
            add(s, one, s)
            recip(s, s)  # i, f, sigmoid(2 a_g), o
            mul(s[:, 2 * hid : 3 * hid], two, g)
            sub(g, one, g)  # g = tanh(a_g)
            c = cs[step + 1]
            mul(s[:, hid : 2 * hid], cs[step], c)  # f * c_prev
            mul(s[:, :hid], g, g)  # i * g
            add(c, g, c)
            tc = tanh_c[step]
            tanh(c, tc)
            mul(s[:, 3 * hid :], tc, hs[step + 1])  # h = o * tanh(c)
    h = batch_major(hs[1:], reuse=True)  # (N, T, H)
    return h, LSTMCache(xh, hs, cs, tanh_c, sig, Wx, Wh)


def lstm_backward(dh: Any, cache: LSTMCache) -> tuple[Any, Any, Any, Any, Any]:
    """Backpropagation through time for :func:`lstm_forward`.

    Args:
        dh: the upstream gradient of every hidden state, ``(N, T, H)``.
        cache: from :func:`lstm_forward`.

    Returns:
        ``(dx, dh0, dWx, dWh, db)`` of shapes ``(N, T, D)``, ``(N, H)``, ``(D, 4H)``,
        ``(H, 4H)``, ``(4H,)``. Per step, with ``gh = dh_t + da_{t+1} Wh^T`` and
        ``gc = gc_{t+1} * f_{t+1} + gh * o (1 - tanh(c)^2)``: ``da = [gc g i(1-i),
        gc c_prev f(1-f), gc i (1-g^2), gh tanh(c) o(1-o)]``. The coefficients in brackets do
        not depend on the recurrence; the loop computes them step by step, where the
        arrays are still in the cache (measured: faster than whole-sequence passes).
    """
    check_cache(cache, LSTMCache, "lstm_forward")
    xh, hs, cs, tanh_c, sig, Wx, Wh = cache
    t, n, hid = (int(s) for s in tanh_c.shape)
    d = int(Wx.shape[0])
    dh = check_upstream("dh", dh, hs, (n, t, hid), "(N, T, H)")  # read in place: dh[:, step]
    # d gate / d a = q * s (1 - s): the loop keeps dA / q, and q goes into the weights
    # (exact: powers of 2), never into the loop
    q = sigmoid_scale(xh, _DERIV, hid)  # (4H,)
    # transposed views: BLAS reads them as they are; NumPy's transposing copy of Wh * q
    # costs more than it saves (measured)
    wh_q_t = mul_into(Wh, q, reusable((hid, 4 * hid), xh)).T  # (4H, H)
    w = empty((n, 4 * hid), xh)  # per-step scratch
    g, u = empty((n, hid), xh), empty((n, hid), xh)
    gh = empty((n, hid), xh)  # dL/dh_t (returned as dh0)
    gh[...] = dh[:, t - 1]
    gc = zeros((n, hid), xh)  # dL/dc_t
    da = reusable((t, n, 4 * hid), xh)
    mm, mul, _, add, sub, _, _ = _ops(xh)
    one, two = _numbers(xh, 1.0, 2.0)
    for step in range(t - 1, -1, -1):  # 16 calls a step, no temporaries
        a, s, tc = da[step], sig[step], tanh_c[step]
        i, f, o = s[:, :hid], s[:, hid : 2 * hid], s[:, 3 * hid :]
        mul(s[:, 2 * hid : 3 * hid], two, g)
        sub(g, one, g)  # g = tanh(a_g)
        mul(hs[step + 1], tc, u)  # o tanh(c)^2, as h = o tanh(c)
        sub(u, o, u)
        mul(u, gh, u)
        sub(gc, u, gc)  # through h = o tanh(c): gh o (1 - tanh(c)^2)
        mul(gc, g, a[:, :hid])  # di
        mul(gc, cs[step], a[:, hid : 2 * hid])  # df
        mul(gc, i, a[:, 2 * hid : 3 * hid])  # dg
        mul(gh, tc, a[:, 3 * hid :])  # do
        mul(s, s, w)
        sub(s, w, w)  # s (1 - s)
        mul(a, w, a)  # (N, 4H): da / q
        mul(gc, f, gc)  # dL/dc_{t-1} through the cell
        mm(a, wh_q_t, out=gh)  # dL/dh_{t-1} through the recurrence
        if step:
            add(gh, dh[:, step - 1], gh)
    da2 = da.reshape(t * n, 4 * hid)
    dxt = reusable((t, n, d), xh)
    wx_q_t = mul_into(Wx, q, reusable((d, 4 * hid), xh)).T  # (4H, D)
    matmul(da2, wx_q_t, out=dxt.reshape(t * n, d))
    dw = reusable((d + 1 + hid, 4 * hid), xh)  # dWx, db, dWh
    matmul(xh[:t].reshape(t * n, d + 1 + hid).T, da2, out=dw)
    dw *= q
    return batch_major(dxt, reuse=True), gh, dw[:d], dw[d + 1 :], dw[d]
