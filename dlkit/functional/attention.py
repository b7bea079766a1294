"""Scaled dot-product attention (unit 10), its causal mask and the sinusoidal positions.

* :func:`scaled_dot_product_attention` / :func:`scaled_dot_product_attention_backward`:
  ``out = softmax(q k^T / sqrt(d)) v`` over the allowed keys, for any leading batch axes
  ``...`` (e.g. ``(B, heads)``): every step is one ``matmul`` over all of them at once;
* :func:`causal_mask`: the boolean mask that lets a query see only the keys at or before
  its own position;
* :func:`positional_encoding`: the fixed sine/cosine position vectors of Vaswani et al.
  (2017), added to the token embeddings because attention itself ignores order.

The mask follows torch's boolean ``attn_mask`` convention: **True where attention is
allowed**. It broadcasts against ``(..., Tq, Tk)``, so one ``(Tq, Tk)`` causal mask serves a
whole batch, a key-padding mask is ``(B, 1, 1, Tk)`` for ``(B, heads)`` batches, and a
per-sequence mask is ``(B, 1, Tq, Tk)``.

The softmax runs over the allowed logits only, minus their row maximum (every exponent
``<= 0``: nothing overflows, even for logits of 1e8); disallowed keys get weight exactly 0.
A query row with NO allowed key has no softmax to take: its output row and every gradient
through it are defined as zeros (see :func:`scaled_dot_product_attention`).
"""

from __future__ import annotations

import math
import sys
from typing import Any, NamedTuple

import numpy as np

from .._validate import check_floats, check_same_kind, check_size
from ..backend import arange_like, describe, is_array, is_torch, namespace
from ._recurrent import check_cache, check_upstream, reusable
from ._windows import matmul

__all__ = [
    "scaled_dot_product_attention",
    "scaled_dot_product_attention_backward",
    "causal_mask",
    "positional_encoding",
]


class AttentionCache(NamedTuple):
    q: Any  # (..., Tq, d), the input as given
    k: Any  # (..., Tk, d)
    v: Any  # (..., Tk, dv)
    weights: Any  # (..., Tq, Tk): softmax rows, 0 at disallowed keys and on empty rows
    mask: Any  # the boolean mask as given (broadcastable to (*batch, Tq, Tk)), or None
    scale: float  # 1 / sqrt(d)


def _shape(a: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in a.shape)


def _check_qkv(q: Any, k: Any, v: Any) -> tuple[Any, Any, Any, tuple[int, ...]]:
    """``q`` ``(..., Tq, d)``, ``k`` ``(..., Tk, d)``, ``v`` ``(..., Tk, dv)`` of one kind,
    dtype and device, ``d >= 1``, ``Tk >= 1``, and leading axes that broadcast together.

    Returns the checked arrays and the broadcast batch shape ``...``.
    """
    q, k, v = check_floats(q=q, k=k, v=v)
    for name, a, labels in (
        ("q", q, "(..., Tq, d)"),
        ("k", k, "(..., Tk, d)"),
        ("v", v, "(..., Tk, dv)"),
    ):
        if a.ndim < 2:
            raise ValueError(
                f"{name} must have shape {labels}, at least 2-D (the leading axes ... are "
                f"batch axes such as (B, heads)); got {a.ndim}-D shape {_shape(a)}"
            )
    qs, ks, vs = _shape(q), _shape(k), _shape(v)
    d, tk = qs[-1], ks[-2]
    if d == 0:
        raise ValueError(f"q must have at least one feature (d >= 1); got shape {qs}")
    if ks[-1] != d:
        raise ValueError(
            f"k must have shape (..., Tk, d) with d = {d} from q of shape {qs}; got shape {ks}"
        )
    if tk == 0:
        raise ValueError(f"k must hold at least one key (Tk >= 1); got shape {ks}")
    if vs[-2] != tk:
        raise ValueError(
            f"v must have shape (..., Tk, dv) with Tk = {tk} from k of shape {ks}; got shape {vs}"
        )
    try:
        batch = tuple(np.broadcast_shapes(qs[:-2], ks[:-2], vs[:-2]))
    except ValueError:
        raise ValueError(
            f"the leading (batch) axes of q, k and v must be equal or broadcast together; "
            f"got q of shape {qs}, k of shape {ks} and v of shape {vs}"
        ) from None
    return q, k, v, batch


def _check_mask(mask: Any, full: tuple[int, ...], q: Any) -> Any:
    """A boolean ``mask`` of ``q``'s kind and device that broadcasts to ``full``."""
    if isinstance(mask, (list, tuple, bool, np.bool_)):
        mask = np.asarray(mask)
    labels = f"(..., Tq, Tk) = {full}"
    if not is_array(mask):
        raise TypeError(
            f"mask must be a boolean array broadcastable to {labels}; got {describe(mask)}"
        )
    check_same_kind(mask=mask, q=q)
    if "bool" not in str(mask.dtype):
        raise TypeError(
            f"mask must be boolean, True where a query may attend to a key (torch's attn_mask "
            f"convention); got dtype {mask.dtype}. A 0/1 array converts with mask != 0"
        )
    try:
        fits = tuple(np.broadcast_shapes(_shape(mask), full)) == full
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"mask must broadcast to {labels} for q of shape {_shape(q)}, e.g. (Tq, Tk) or "
            f"(B, 1, 1, Tk) for key padding; got shape {_shape(mask)}"
        )
    return mask


def _sum_to(grad: Any, shape: tuple[int, ...]) -> Any:
    """``grad`` summed over the axes along which an input of ``shape`` was broadcast."""
    shape = tuple(int(s) for s in shape)
    if _shape(grad) == shape:
        return grad
    xp = namespace(grad)
    extra = grad.ndim - len(shape)
    if extra:
        grad = xp.sum(grad, axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and int(grad.shape[i]) != 1)
    if stretched:
        grad = xp.sum(grad, axis=stretched, keepdims=True)
    return xp.reshape(grad, shape)


def _blocked_keys(mask: Any) -> Any:
    """``~mask`` laid out like the key-major scores: broadcastable to ``(..., Tk, Tq)``."""
    if mask.ndim < 2:
        mask = namespace(mask).reshape(mask, (1,) * (2 - mask.ndim) + _shape(mask))
    if is_torch(mask):
        return (~mask).transpose(-1, -2)
    return np.ascontiguousarray(np.logical_not(mask).swapaxes(-1, -2))  # small: Tq x Tk bytes


def _fill_where(a: Any, where: Any, value: float) -> None:
    """``a[where] = value`` in place, ``where`` broadcasting against ``a``."""
    if is_torch(a):
        a.masked_fill_(where, value)
    else:
        np.copyto(a, value, where=where)


def _exp_in_place(a: Any) -> None:
    """``a <- exp(a)``."""
    if is_torch(a):
        a.exp_()
    else:
        np.exp(a, out=a)


_POOLED = 1 << 24  # bytes: larger score arrays are allocated afresh, never kept in the pool


def _product(a: Any, b: Any, shape: tuple[int, ...]) -> Any:
    """``a @ b`` of ``shape`` in a new array; for NumPy, up to 16 MiB, in a :func:`reusable`
    one (measured: 1.4x torch's time with fresh score arrays, 1.2x with pooled ones, at
    B=8, heads=4, T=128, d=32 timed alternately with torch, whose freed memory glibc hands
    out again)."""
    if is_torch(a) or math.prod(shape) * a.dtype.itemsize > _POOLED:
        return a @ b
    return matmul(a, b, out=reusable(shape, a))


def scaled_dot_product_attention(
    q: Any, k: Any, v: Any, mask: Any = None
) -> tuple[Any, AttentionCache]:
    """``softmax(q k^T / sqrt(d)) v``, each query attending only to its allowed keys.

    Args:
        q: queries, ``(..., Tq, d)``.
        k: keys, ``(..., Tk, d)``.
        v: values, ``(..., Tk, dv)``. The leading axes ``...`` of ``q``, ``k`` and ``v``
            (e.g. ``(B, heads)``) are equal or broadcast together, as in torch.
        mask: ``None`` (every key allowed) or a boolean array broadcastable to
            ``(..., Tq, Tk)``, **True where query i may attend to key j** (torch's boolean
            ``attn_mask``): e.g. :func:`causal_mask` ``(Tq, Tk)``, a key-padding mask
            ``(B, 1, 1, Tk)``, a per-sequence mask ``(B, 1, Tq, Tk)``.

    Returns:
        ``(out, cache)``: ``out`` ``(..., Tq, dv)`` in the inputs' dtype, kind and device,
        ``out[..., i, :] = sum_j w_ij v[..., j, :]`` with ``w_ij = exp(s_ij - m_i) /
        sum_{allowed j'} exp(s_ij' - m_i)`` over the allowed keys (``w_ij = 0`` elsewhere),
        ``s = q k^T / sqrt(d)`` and ``m_i`` the largest allowed logit of row ``i``.

        **Empty rows**: a query whose mask row allows no key at all (e.g. a padding query,
        or the first queries of :func:`causal_mask` with ``Tq > Tk``) has no distribution
        to average with. Its output row is defined as zeros and no gradient flows through
        it (its ``dout`` row is ignored; its ``dq`` row is zero). The formula itself gives
        ``0 / 0 = NaN`` there, and so do older torch versions (torch 2.13's math backend
        gives zeros too): code that must agree with every torch should avoid empty rows.
    """
    q, k, v, batch = _check_qkv(q, k, v)
    tq, d = _shape(q)[-2:]
    tk = int(k.shape[-2])
    full = (*batch, tq, tk)
    if mask is not None:
        mask = _check_mask(mask, full, q)
    xp = namespace(q)
    scale = 1.0 / math.sqrt(d)
    # The scores are computed KEY-MAJOR, st[..., j, i] = s_ij: the softmax's reductions over
    # the keys then run down the columns (axis -2), which NumPy vectorises along a whole row
    # of queries (2.7x faster than a reduction along each short row, measured), and every
    # broadcast of a per-query number is along contiguous rows. All the softmax steps work
    # in place on this one array; the scale multiplies q (Tk times fewer numbers).
    st = _product(k, xp.matrix_transpose(q * scale), (*batch, tk, tq))  # (*batch, Tk, Tq)
    if mask is not None:
        _fill_where(st, _blocked_keys(mask), -math.inf)  # disallowed keys: exp(-inf) = 0
    top = xp.max(st, axis=-2, keepdims=True)  # (*batch, 1, Tq): the largest ALLOWED logit
    if mask is not None:
        top = xp.where(top == -math.inf, 0.0, top)  # empty rows: no NaN from -inf - -inf
    st -= top  # every exponent <= 0; the row maximum gives 1
    _exp_in_place(st)
    total = xp.sum(st, axis=-2, keepdims=True)  # >= 1 on a row with an allowed key, else 0
    if mask is not None:
        total = xp.where(total > 0, total, 1.0)  # empty rows stay 0
    st *= 1.0 / total
    weights = xp.matrix_transpose(st)  # (*batch, Tq, Tk), a view
    out = weights @ v  # (*batch, Tq, dv)
    return out, AttentionCache(q, k, v, weights, mask, scale)


def scaled_dot_product_attention_backward(dout: Any, cache: AttentionCache) -> tuple[Any, Any, Any]:
    """Backward pass of :func:`scaled_dot_product_attention`.

    Args:
        dout: upstream gradient, ``(..., Tq, dv)`` (the forward's output shape).
        cache: from :func:`scaled_dot_product_attention`.

    Returns:
        ``(dq, dk, dv)`` of the shapes of ``q``, ``k``, ``v`` (summed over the axes along
        which an input was broadcast). With ``dW = dout v^T`` and the softmax backward
        ``dS = W * (dW - rowsum(dW * W)) / sqrt(d)``: ``dq = dS k``, ``dk = dS^T q``,
        ``dv = W^T dout``. ``W`` is 0 at disallowed keys and on empty rows, so so is ``dS``.
    """
    check_cache(cache, AttentionCache, "scaled_dot_product_attention")
    q, k, v, weights, _, scale = cache
    batch = np.broadcast_shapes(_shape(weights)[:-2], _shape(v)[:-2])
    expected = (*batch, int(weights.shape[-2]), int(v.shape[-1]))
    dout = check_upstream("dout", dout, q, expected, "(..., Tq, dv)")
    xp = namespace(dout)
    wt = xp.matrix_transpose(weights)  # (*batch, Tk, Tq), contiguous: the forward's layout
    dv = wt @ dout  # (*batch, Tk, dv)
    # key-major like the forward: dst[..., j, i] = dW_ij = dout_i . v_j, then in place
    # dS^T = W^T * (dW^T - rowsum(dW * W)); the 1 / sqrt(d) goes on dq and dk
    dst = _product(v, xp.matrix_transpose(dout), (*batch, int(wt.shape[-2]), expected[-2]))
    dst -= xp.einsum("...ji,...ji->...i", dst, wt)[..., None, :]  # rowsum, no temporary
    dst *= wt
    dq = xp.matrix_transpose(dst) @ k  # (*batch, Tq, d)
    dq *= scale
    dk = dst @ q  # (*batch, Tk, d)
    dk *= scale
    return _sum_to(dq, q.shape), _sum_to(dk, k.shape), _sum_to(dv, v.shape)


# -- masks and positions -----------------------------------------------------------------


def _like_array(like: Any) -> Any:
    """``like`` as an array that fixes the kind and device of a result: ``None`` gives NumPy,
    a ``torch.device`` an empty tensor on it."""
    if like is None or is_array(like):
        return like
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(like, torch.device):
        return torch.empty(0, dtype=torch.float64, device=like)
    raise TypeError(
        "like must be None (NumPy), a NumPy array, a torch tensor or a torch.device; "
        f"got {describe(like)}"
    )


def causal_mask(T: int, Tk: int | None = None, *, like: Any = None) -> Any:
    """The boolean causal mask ``(T, Tk)``: True where query ``i`` may attend to key ``j``.

    Args:
        T: the number of queries, ``>= 1``.
        Tk: the number of keys, ``>= 1``; ``None``: ``T`` (self-attention).
        like: ``None`` for a NumPy array; a torch tensor (or a ``torch.device``) for a
            tensor on that device.

    Returns:
        ``mask[i, j] = j <= i + (Tk - T)``, of dtype bool. With ``Tk == T`` this is the
        lower triangle ``j <= i`` (torch's ``is_causal=True``). With ``Tk != T`` the LAST
        query is aligned with the LAST key (torch's ``causal_lower_right``): the ``T``
        queries are taken to be the last ``T`` positions of the ``Tk``-long sequence, as
        when new tokens attend to a cache of earlier keys. With ``T > Tk`` the first
        ``T - Tk`` rows allow no key (empty rows: zeros, see
        :func:`scaled_dot_product_attention`). Note that torch's ``is_causal=True``
        aligns the FIRST query with the first key instead (``j <= i``) when ``Tk != T``.
    """
    t = check_size(T, "T")
    tk = t if Tk is None else check_size(Tk, "Tk")
    ref = _like_array(like)
    rows = np.arange(t) if ref is None else arange_like(t, ref)
    cols = np.arange(tk) if ref is None else arange_like(tk, ref)
    return cols[None, :] <= rows[:, None] + (tk - t)


def positional_encoding(T: int, d: int, *, base: float = 10000.0, like: Any = None) -> Any:
    """The sinusoidal position encodings of Vaswani et al. (2017), ``(T, d)``.

    Args:
        T: the number of positions ``0, ..., T - 1``, ``>= 1``.
        d: the model width, ``>= 1``. An odd ``d`` is allowed: its last column is a sine
            (of frequency ``base^(-(d - 1)/d)``) without a cosine partner.
        base: the wavelength scale, a number ``> 0`` (10000 in the paper).
        like: ``None`` for a float64 NumPy array; an array or tensor for a result of its
            kind and device, and of its dtype when that is floating point (float64
            otherwise); a ``torch.device`` for a float64 tensor on it.

    Returns:
        ``pe`` with ``pe[pos, 2i] = sin(pos / base^(2i/d))`` and ``pe[pos, 2i + 1] =
        cos(pos / base^(2i/d))``. Computed in float64 with NumPy, then converted, so every
        backend gets the same numbers.
    """
    t, width = check_size(T, "T"), check_size(d, "d")
    if isinstance(base, bool) or not isinstance(base, (int, float, np.integer, np.floating)):
        raise TypeError(f"base must be a number > 0; got {describe(base)}")
    if not (math.isfinite(base) and base > 0):
        raise ValueError(f"base must be a finite number > 0; got {base!r}")
    pair = 2 * (np.arange(width) // 2)  # 0, 0, 2, 2, 4, ...: the 2i of every column
    angle = np.arange(t, dtype=np.float64)[:, None] / float(base) ** (pair / width)  # (T, d)
    pe = np.empty((t, width))
    pe[:, 0::2] = np.sin(angle[:, 0::2])
    pe[:, 1::2] = np.cos(angle[:, 1::2])
    ref = _like_array(like)
    if ref is None:
        return pe
    if is_torch(ref):
        import torch

        dtype = ref.dtype if ref.dtype.is_floating_point else torch.float64
        return torch.as_tensor(pe, dtype=dtype, device=ref.device)
    return pe.astype(ref.dtype) if ref.dtype.kind == "f" else pe
