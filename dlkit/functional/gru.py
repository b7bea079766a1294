"""The GRU cell, one step and a whole sequence, in torch's gate order r, z, n.

With ``ax = x Wx + bx`` and ``ah = h_prev Wh + bh`` (each ``(N, 3H)``, cut into r, z, n)::

    r = sigmoid(ax_r + ah_r)          reset gate
    z = sigmoid(ax_z + ah_z)          update gate
    n = tanh(ax_n + r * ah_n)         candidate (the reset gate scales ah_n, bias included)
    h = (1 - z) * n + z * h_prev

which is exactly torch's ``nn.GRU`` (its ``b_hn`` sits inside ``r * (...)``; that is why a
GRU has two biases). torch holds ``weight_ih_l0 = Wx.T``, ``weight_hh_l0 = Wh.T``,
``bias_ih_l0 = bx``, ``bias_hh_l0 = bh``.

:func:`gru_forward` / :func:`gru_backward` are the same maths arranged for speed, as for the
LSTM (``lstm.py``): one product for every step's input projection, r and z from one
``tanh`` over an ``(N, 2H)`` slab (columns pre-scaled by 0.5), coefficients of the backward
pass for all steps before its loop, weight gradients as one product over all steps.

Shapes: ``x`` ``(N, T, D)``, ``h0`` ``(N, H)``, ``Wx`` ``(D, 3H)``, ``Wh`` ``(H, 3H)``,
``bx``, ``bh`` ``(3H,)``.
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
    mul_into,
    sigmoid_scale,
    tanh_into,
    time_major,
)
from ._windows import add, contiguous, empty, matmul
from .activations import sigmoid

__all__ = ["gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward"]

_SCALE = (0.5, 0.5, 1.0)  # r, z as tanh(a/2); n unscaled


class GRUStepCache(NamedTuple):
    x: Any  # (N, D)
    h_prev: Any  # (N, H)
    Wx: Any  # (D, 3H)
    Wh: Any  # (H, 3H)
    gates: Any  # (N, 3H): r, z, n after their activations
    ah_n: Any  # (N, H): h_prev Wh_n + bh_n


class GRUCache(NamedTuple):
    x: Any  # (T, N, D), time-major copy of the input
    hs: Any  # (T + 1, N, H): h0, h_1, ..., h_T
    gates: Any  # (T, N, 3H): r, z, n of every step
    ah: Any  # (T, N, 3H): h_{t-1} Wh + bh (r and z columns halved; the n columns exact)
    Wx: Any  # (D, 3H)
    Wh: Any  # (H, 3H)


def gru_step_forward(
    x: Any, h_prev: Any, Wx: Any, Wh: Any, bx: Any, bh: Any
) -> tuple[Any, GRUStepCache]:
    """One GRU step (gate order r, z, n, as torch).

    Args:
        x: ``(N, D)``; h_prev: ``(N, H)``; Wx: ``(D, 3H)``; Wh: ``(H, 3H)``;
        bx, bh: ``(3H,)``, the input-side and hidden-side biases.

    Returns:
        ``(h, cache)``: ``h = (1 - z) * n + z * h_prev``, ``(N, H)``.
    """
    x, h_prev, Wx, Wh, bx, bh = check_step(
        x, {"h_prev": h_prev}, {"Wx": Wx, "Wh": Wh, "bx": bx, "bh": bh}, 3
    )
    xp = namespace(x)
    hid = int(h_prev.shape[1])
    ax = x @ Wx + bx  # (N, 3H)
    ah = h_prev @ Wh + bh  # (N, 3H)
    r = sigmoid(ax[:, :hid] + ah[:, :hid])
    z = sigmoid(ax[:, hid : 2 * hid] + ah[:, hid : 2 * hid])
    ah_n = ah[:, 2 * hid :]
    n = xp.tanh(ax[:, 2 * hid :] + r * ah_n)
    h = (1.0 - z) * n + z * h_prev
    gates = xp.concat([r, z, n], axis=1)
    return h, GRUStepCache(x, h_prev, Wx, Wh, gates, ah_n)


def gru_step_backward(dh: Any, cache: GRUStepCache) -> tuple[Any, ...]:
    """Backward pass of :func:`gru_step_forward`.

    Args:
        dh: ``dL/dh``, ``(N, H)``.
        cache: from :func:`gru_step_forward`.

    Returns:
        ``(dx, dh_prev, dWx, dWh, dbx, dbh)`` of shapes ``(N, D)``, ``(N, H)``, ``(D, 3H)``,
        ``(H, 3H)``, ``(3H,)``, ``(3H,)``. The input side gets ``dax = [da_r, da_z, da_n]``
        and the hidden side ``dah = [da_r, da_z, da_n * r]``, with ``da_n = dh (1 - z)
        (1 - n^2)``, ``da_z = dh (h_prev - n) z (1 - z)``, ``da_r = da_n ah_n r (1 - r)``;
        ``dh_prev = dh * z + dah Wh^T``.
    """
    check_cache(cache, GRUStepCache, "gru_step_forward")
    x, h_prev, Wx, Wh, gates, ah_n = cache
    dh = check_upstream("dh", dh, x, tuple(h_prev.shape), "(N, H)")
    xp = namespace(x)
    hid = int(h_prev.shape[1])
    r, z, n = gates[:, :hid], gates[:, hid : 2 * hid], gates[:, 2 * hid :]
    da_n = dh * (1.0 - z) * (1.0 - n * n)
    da_z = dh * (h_prev - n) * z * (1.0 - z)
    da_r = da_n * ah_n * r * (1.0 - r)
    dax = xp.concat([da_r, da_z, da_n], axis=1)  # (N, 3H)
    dah = xp.concat([da_r, da_z, da_n * r], axis=1)  # (N, 3H)
    dh_prev = dh * z + dah @ Wh.T
    return dax @ Wx.T, dh_prev, x.T @ dax, h_prev.T @ dah, dax.sum(axis=0), dah.sum(axis=0)


def gru_forward(x: Any, h0: Any, Wx: Any, Wh: Any, bx: Any, bh: Any) -> tuple[Any, GRUCache]:
    """A GRU over a whole sequence (torch's equations and gate order r, z, n).

    Args:
        x: ``(N, T, D)``; h0: ``(N, H)``; Wx: ``(D, 3H)``; Wh: ``(H, 3H)``; bx, bh: ``(3H,)``.

    Returns:
        ``(h, cache)``: every hidden state, ``(N, T, H)``; ``cache.gates`` ``(T, N, 3H)``
        holds r, z, n of every step, time-major.
    """
    x, h0, Wx, Wh, bx, bh = check_sequence(x, h0, {"Wx": Wx, "Wh": Wh, "bx": bx, "bh": bh}, 3)
    n, t, d = (int(s) for s in x.shape)
    hid = int(h0.shape[1])
    scale = sigmoid_scale(x, _SCALE, hid)
    xt = time_major(x)  # (T, N, D)
    gates = (xt.reshape(t * n, d) @ (Wx * scale)).reshape(t, n, 3 * hid)  # ax, r z halved
    gates += bx * scale
    wh_s, bh_s = Wh * scale, bh * scale
    hs = empty((t + 1, n, hid), x)
    hs[0] = h0
    ah = empty((t, n, 3 * hid), x)
    for step in range(t):
        ah_t, g = ah[step], gates[step]
        matmul(hs[step], wh_s, out=ah_t)
        ah_t += bh_s
        rz = g[:, : 2 * hid]
        rz += ah_t[:, : 2 * hid]
        tanh_into(rz, rz)
        rz *= 0.5
        rz += 0.5  # r, z
        cand = g[:, 2 * hid :]
        cand += g[:, :hid] * ah_t[:, 2 * hid :]  # ax_n + r * ah_n
        tanh_into(cand, cand)  # n
        h_new = hs[step + 1]
        add(hs[step], -cand, out=h_new)
        h_new *= g[:, hid : 2 * hid]
        h_new += cand  # n + z (h_prev - n)
    return batch_major(hs[1:]), GRUCache(xt, hs, gates, ah, Wx, Wh)


def gru_backward(dh: Any, cache: GRUCache) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Backpropagation through time for :func:`gru_forward`.

    Args:
        dh: the upstream gradient of every hidden state, ``(N, T, H)``.
        cache: from :func:`gru_forward`.

    Returns:
        ``(dx, dh0, dWx, dWh, dbx, dbh)`` of shapes ``(N, T, D)``, ``(N, H)``, ``(D, 3H)``,
        ``(H, 3H)``, ``(3H,)``, ``(3H,)`` (the step formulas of :func:`gru_step_backward`,
        with ``dh_t`` the upstream gradient plus the one from step ``t + 1``).
    """
    check_cache(cache, GRUCache, "gru_forward")
    xt, hs, gates, ah, Wx, Wh = cache
    t, n, d = (int(s) for s in xt.shape)
    hid = int(hs.shape[2])
    dh = time_major(check_upstream("dh", dh, hs, (n, t, hid), "(N, T, H)"))  # (T, N, H)
    r, z, cand = gates[..., :hid], gates[..., hid : 2 * hid], gates[..., 2 * hid :]
    to_n = (1.0 - z) * (1.0 - cand * cand)  # (T, N, H): da_n = dh_t * to_n
    to_z = (hs[:-1] - cand) * (z - z * z)  # da_z = dh_t * to_z
    to_r = ah[..., 2 * hid :] * (r - r * r)  # da_r = da_n * to_r
    dah = empty((t, n, 3 * hid), xt)  # [da_r, da_z, da_n * r] per step
    da_n = empty((t, n, hid), xt)
    wh_t = contiguous(Wh.T)  # (3H, H)
    g = dh[t - 1]
    for step in range(t - 1, -1, -1):
        a, an = dah[step], da_n[step]
        mul_into(g, to_n[step], an)
        mul_into(g, to_z[step], a[:, hid : 2 * hid])
        mul_into(an, to_r[step], a[:, :hid])
        mul_into(an, r[step], a[:, 2 * hid :])
        g_next = a @ wh_t
        g_next += g * z[step]  # dL/dh_{t-1}
        if step:
            g_next += dh[step - 1]
        g = g_next
    xp = namespace(xt)
    dax = xp.concat([dah[..., : 2 * hid], da_n], axis=2).reshape(t * n, 3 * hid)
    dah2 = dah.reshape(t * n, 3 * hid)
    dx = batch_major((dax @ Wx.T).reshape(t, n, d))
    dwx = xt.reshape(t * n, d).T @ dax
    dwh = hs[:-1].reshape(t * n, hid).T @ dah2
    return dx, g, dwx, dwh, dax.sum(axis=0), dah2.sum(axis=0)
