"""dlkit.functional attention kernels: torch parity, gradient checks, masks, empty rows, shapes.

Also the causal mask, the sinusoidal positions and the autograd op around the kernel.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dlkit.autograd as A
import dlkit.functional as F
from dlkit.autograd import Tensor
from dlkit.testing import assert_close, check_directional, check_layer_gradients

from ._reference import expect_like, expect_numpy

# (leading axes, Tq, Tk, d, dv, mask): every mask shape the curriculum uses, Tq != Tk,
# dv != d, T = 1, and a causal mask with Tq > Tk (its first rows allow no key)
CASES = [
    ((), 4, 4, 8, 8, "none"),
    ((2,), 5, 7, 4, 6, "causal"),
    ((2, 3), 6, 4, 5, 3, "causal"),
    ((2, 3), 5, 6, 4, 4, "padding"),
    ((2,), 3, 5, 4, 2, "random"),
    ((2, 3), 4, 5, 3, 6, "random"),
    ((2, 3), 1, 1, 3, 2, "none"),
    ((), 1, 6, 4, 5, "causal"),
    ((), 3, 4, 2, 3, "padding"),
    ((3,), 6, 6, 4, 4, "padding"),
]


def _id(case):
    lead, tq, tk, d, dv, mask = case
    return f"lead{''.join(map(str, lead)) or '0'}_Tq{tq}_Tk{tk}_d{d}_dv{dv}_{mask}"


def make_mask(rng, kind, lead, tq, tk):
    """``None``, or a boolean mask of the shape that kind of mask has in practice."""
    if kind == "none":
        return None
    if kind == "causal":  # (Tq, Tk), shared by the whole batch
        return F.causal_mask(tq, tk)
    if kind == "padding":  # (B, 1, 1, Tk) for (B, H): each sequence has 1..Tk real keys
        batch = lead[:1] + (1,) * len(lead[1:])
        return np.arange(tk) < rng.integers(1, tk + 1, batch + (1, 1))
    # random: (B, 1, Tq, Tk) for (B, H), with at least one True per row
    shape = lead[:1] + (1,) * len(lead[1:]) + (tq, tk)
    mask = rng.random(shape) < 0.5
    rows = np.indices(shape[:-1])
    mask[(*rows, rng.integers(0, tk, shape[:-1]))] = True
    return mask


def make_inputs(rng, lead, tq, tk, d, dv, dtype=np.float64):
    q = rng.standard_normal(lead + (tq, d))
    k = rng.standard_normal(lead + (tk, d))
    v = rng.standard_normal(lead + (tk, dv))
    return {"q": q.astype(dtype), "k": k.astype(dtype), "v": v.astype(dtype)}


def allowed_rows(mask, shape):
    """Booleans ``(..., Tq)``: the query rows with at least one allowed key."""
    if mask is None:
        return np.ones(shape[:-1], dtype=bool)
    return np.broadcast_to(np.asarray(mask), shape).any(axis=-1)


def torch_reference(torch, arrays, mask, dout, device, dtype):
    """torch's SDPA (math backend) output and its three gradients, by torch autograd.

    Rows with no allowed key get a fully allowed mask and a zero upstream gradient, so
    whatever torch does on empty rows (NaN in older versions) reaches neither the other
    rows nor ``dk``, ``dv``: what dlkit must then equal on the non-empty rows.
    """
    from torch.nn.attention import SDPBackend, sdpa_kernel

    tdtype = getattr(torch, dtype)
    leaves = {
        name: torch.tensor(a, dtype=tdtype, device=device, requires_grad=True)
        for name, a in arrays.items()
    }
    q, k, v = leaves["q"], leaves["k"], leaves["v"]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    shape = tuple(batch) + (q.shape[-2], k.shape[-2])
    rows = allowed_rows(mask, shape)
    attn_mask = None
    if mask is not None:
        patched = np.broadcast_to(mask, shape) | ~rows[..., None]
        attn_mask = torch.tensor(patched, device=device)
    with sdpa_kernel(SDPBackend.MATH):
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
    upstream = np.where(rows[..., None], dout, 0.0)
    out.backward(torch.tensor(upstream, dtype=tdtype, device=device))
    return out, [q.grad, k.grad, v.grad], rows


def as_torch(torch, arrays, device, dtype):
    return {
        k: torch.tensor(a, dtype=getattr(torch, dtype), device=device) for k, a in arrays.items()
    }


# -- torch parity ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_matches_torch_in_values_and_every_gradient(torch, device, rng, case, dtype):
    lead, tq, tk, d, dv, kind = case
    arrays = make_inputs(rng, lead, tq, tk, d, dv)
    mask = make_mask(rng, kind, lead, tq, tk)
    dout = rng.standard_normal(lead + (tq, dv))
    ref, ref_grads, rows = torch_reference(torch, arrays, mask, dout, device, dtype)
    tmask = None if mask is None else torch.tensor(mask, device=device)
    out, cache = F.scaled_dot_product_attention(
        **as_torch(torch, arrays, device, dtype), mask=tmask
    )
    keep = torch.tensor(rows, device=device)
    expect_like(out[keep], ref[keep])  # kind, device, dtype, then the non-empty rows
    assert not bool(out[~keep].any()), "rows with no allowed key must be zeros"
    tdout = torch.tensor(dout, dtype=getattr(torch, dtype), device=device)
    dq, dk, dv_ = F.scaled_dot_product_attention_backward(tdout, cache)
    expect_like(dq[keep], ref_grads[0][keep])
    assert not bool(dq[~keep].any()), "no gradient flows through an empty row"
    expect_like(dk, ref_grads[1])
    expect_like(dv_, ref_grads[2])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("qs", "ks", "vs", "ms"),
    [
        ((2, 1, 3, 4), (1, 2, 5, 4), (2, 2, 5, 6), (3, 5)),  # heads shared, batch shared
        ((3, 4), (2, 5, 4), (2, 5, 3), (2, 1, 5)),  # one query set for every batch entry
        ((2, 3, 4, 4), (3, 6, 4), (6, 2), None),  # k and v without the batch axis
    ],
)
def test_leading_axes_broadcast_like_torch(torch, device, rng, qs, ks, vs, ms, dtype):
    arrays = {"q": rng.standard_normal(qs), "k": rng.standard_normal(ks)}
    arrays["v"] = rng.standard_normal(vs)
    mask = None
    if ms is not None:
        mask = rng.random(ms) < 0.6
        mask[..., 0] = True
    shape = tuple(np.broadcast_shapes(qs[:-2], ks[:-2], vs[:-2])) + (qs[-2], vs[-1])
    dout = rng.standard_normal(shape)
    ref, ref_grads, _ = torch_reference(torch, arrays, mask, dout, device, dtype)
    tmask = None if mask is None else torch.tensor(mask, device=device)
    out, cache = F.scaled_dot_product_attention(
        **as_torch(torch, arrays, device, dtype), mask=tmask
    )
    expect_like(out, ref)
    tdout = torch.tensor(dout, dtype=getattr(torch, dtype), device=device)
    grads = F.scaled_dot_product_attention_backward(tdout, cache)
    for grad, expected in zip(grads, ref_grads, strict=True):
        expect_like(grad, expected)


# -- gradients, float64 ------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        ((), 3, 4, 2, 3, "none"),
        ((2,), 4, 3, 3, 2, "causal"),  # Tq > Tk: one empty row
        ((2, 2), 3, 4, 2, 2, "padding"),
        ((2,), 3, 3, 2, 3, "random"),
    ],
    ids=_id,
)
def test_gradients_by_finite_differences(rng, case):
    lead, tq, tk, d, dv, kind = case
    arrays = make_inputs(rng, lead, tq, tk, d, dv)
    mask = make_mask(rng, kind, lead, tq, tk)
    forward, backward = F.scaled_dot_product_attention, F.scaled_dot_product_attention_backward
    check_layer_gradients(forward, backward, arrays, rng=rng, mask=mask)


def test_gradients_by_finite_differences_with_broadcasting(rng):
    arrays = {
        "q": rng.standard_normal((2, 1, 3, 2)),
        "k": rng.standard_normal((1, 2, 4, 2)),
        "v": rng.standard_normal((4, 3)),
    }
    forward, backward = F.scaled_dot_product_attention, F.scaled_dot_product_attention_backward
    check_layer_gradients(forward, backward, arrays, rng=rng, mask=F.causal_mask(3, 4))
    big = make_inputs(rng, (3, 4), 8, 9, 6, 5)
    mask = make_mask(rng, "random", (3, 4), 8, 9)
    check_layer_gradients(forward, backward, big, rng=rng, elementwise=False, mask=mask)


# -- empty rows, stability, dtype, no side effects ----------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_that_allow_no_key_are_zeros_with_zero_gradients(rng, dtype):
    arrays = make_inputs(rng, (2,), 3, 4, 5, 2, dtype)
    mask = np.ones((2, 3, 4), dtype=bool)
    mask[0, 1] = False  # query 1 of sequence 0 sees nothing
    mask[1] = False  # sequence 1 sees nothing at all
    out, cache = F.scaled_dot_product_attention(**arrays, mask=mask)
    assert np.all(np.isfinite(out)) and out.dtype == dtype
    np.testing.assert_array_equal(out[0, 1], 0.0)
    np.testing.assert_array_equal(out[1], 0.0)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dq, dk, dv = F.scaled_dot_product_attention_backward(dout, cache)
    for grad in (dq, dk, dv):
        assert np.all(np.isfinite(grad)) and grad.dtype == dtype
    np.testing.assert_array_equal(dq[0, 1], 0.0)
    for grad in (dq[1], dk[1], dv[1]):
        np.testing.assert_array_equal(grad, 0.0)
    # the empty row's dout is ignored: zeroing it changes no gradient
    quiet = dout.copy()
    quiet[0, 1] = 0.0
    for a, b in zip(
        F.scaled_dot_product_attention_backward(quiet, cache), (dq, dk, dv), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    # the other rows are what attention over the allowed keys gives
    ref, _ = F.scaled_dot_product_attention(*(a[0] for a in arrays.values()), mask=mask[0])
    np.testing.assert_array_equal(out[0], ref)


def test_empty_rows_on_the_torch_backend(torch, device):
    q, k, v = (torch.ones(2, 3, 4, dtype=torch.float64, device=device) for _ in range(3))
    mask = torch.tensor([[True, True, True], [False, False, False]], device=device)
    out, cache = F.scaled_dot_product_attention(q, k, v, mask[:, None, :])  # key padding
    assert out.device == q.device and bool(torch.isfinite(out).all())
    assert bool((out[1] == 0).all()) and bool((out[0] == 1).all())
    grads = F.scaled_dot_product_attention_backward(torch.ones_like(out), cache)
    assert all(bool(torch.isfinite(g).all()) for g in grads)
    assert bool((grads[0][1] == 0).all())


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_of_1e8_give_finite_exact_results(rng, dtype, masked):
    """Each query's largest logit wins outright. With the mask, the largest logit of rows 0
    and 2 is on a disallowed key: a maximum over every key, allowed or not, would make all
    their weights underflow to 0."""
    d = 4
    q = (1e8 * np.eye(3, d) * math.sqrt(d)).astype(dtype)  # query i picks feature i
    # logits: row 0 [1e8, 0, 0, 0, 0], row 1 [0, 2e8, 0, 0, 0], row 2 [0, 0, 3e8, 0, 0]
    k = (np.eye(5, d)[[0, 1, 2, 3, 3]] * np.array([[1], [2], [3], [1], [5]])).astype(dtype)
    v = rng.standard_normal((5, 2)).astype(dtype)
    mask = np.ones((3, 5), dtype=bool)
    if masked:  # forbid the winners of rows 0 and 2: their allowed logits are all 0
        mask[0, 0] = mask[2, 2] = False
    out, cache = F.scaled_dot_product_attention(q, k, v, mask if masked else None)
    assert out.dtype == dtype and np.all(np.isfinite(out))
    expected = v[[0, 1, 2]]
    if masked:
        expected = np.stack([v[[1, 2, 3, 4]].mean(0), v[1], v[[0, 1, 3, 4]].mean(0)])
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    grads = F.scaled_dot_product_attention_backward(np.ones_like(out), cache)
    assert all(np.all(np.isfinite(g)) and g.dtype == dtype for g in grads)
    np.testing.assert_allclose(grads[2].sum(0), np.full(2, 3.0), rtol=1e-6)  # weights sum to 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_keeps_dtype_and_never_modifies_its_inputs(rng, dtype):
    arrays = make_inputs(rng, (2, 3), 4, 5, 3, 2, dtype)
    mask = make_mask(rng, "random", (2, 3), 4, 5)
    copies = {name: a.copy() for name, a in arrays.items()}
    mask_copy = mask.copy()
    out, cache = F.scaled_dot_product_attention(**arrays, mask=mask)
    expect_numpy(out, (2, 3, 4, 2), dtype)
    dout = np.ones(out.shape, dtype)
    grads = F.scaled_dot_product_attention_backward(dout, cache)
    for grad, (name, a) in zip(grads, arrays.items(), strict=True):
        expect_numpy(grad, a.shape, dtype)
        np.testing.assert_array_equal(a, copies[name], err_msg=name)
    np.testing.assert_array_equal(mask, mask_copy)
    np.testing.assert_array_equal(dout, 1.0)
    assert cache.weights.shape == (2, 3, 4, 5) and cache.scale == 1 / math.sqrt(3)
    np.testing.assert_allclose(cache.weights.sum(-1), 1.0, rtol=1e-6)
    assert not np.any(cache.weights[~np.broadcast_to(mask, cache.weights.shape)])


def test_torch_backend_keeps_inputs_dtype_and_device(torch, device, rng):
    arrays = as_torch(torch, make_inputs(rng, (2,), 3, 4, 5, 6), device, "float32")
    copies = {name: a.clone() for name, a in arrays.items()}
    out, cache = F.scaled_dot_product_attention(**arrays)
    assert out.dtype == torch.float32 and out.device == arrays["q"].device
    assert tuple(out.shape) == (2, 3, 6)
    grads = F.scaled_dot_product_attention_backward(torch.ones_like(out), cache)
    for grad, (name, a) in zip(grads, arrays.items(), strict=True):
        assert grad.dtype == a.dtype and grad.device == a.device and grad.shape == a.shape
        assert torch.equal(a, copies[name]), name


# -- properties of shapes -----------------------------------------------------------------


def naive_attention(q, k, v, mask):
    """A loop over every query row, for any broadcastable leading axes (float64)."""
    batch = tuple(np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2]))
    tq, tk = q.shape[-2], k.shape[-2]
    q = np.broadcast_to(q, batch + q.shape[-2:])
    k = np.broadcast_to(k, batch + k.shape[-2:])
    v = np.broadcast_to(v, batch + v.shape[-2:])
    m = np.ones((tq, tk), bool) if mask is None else mask
    m = np.broadcast_to(m, batch + (tq, tk))
    out = np.zeros(batch + (tq, v.shape[-1]))
    for idx in np.ndindex(*batch, tq):
        allowed = m[idx]
        if allowed.any():
            s = k[idx[:-1]][allowed] @ q[idx] / math.sqrt(q.shape[-1])
            w = np.exp(s - s.max())
            out[idx] = (w / w.sum()) @ v[idx[:-1]][allowed]
    return out


@st.composite
def attention_shapes(draw):
    """Shapes of q, k, v (leading axes that broadcast) and of a mask, or None."""
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    tq, tk, d, dv = (draw(st.integers(1, 4)) for _ in range(4))

    def lead(axes):  # a suffix of axes, each kept or set to 1
        axes = [draw(st.sampled_from([n, 1])) for n in axes]
        return tuple(axes[draw(st.integers(0, len(axes))) :])

    shapes = [lead(batch) + (tq, d), lead(batch) + (tk, d), lead(batch) + (tk, dv)]
    mask = None
    if draw(st.booleans()):  # broadcasts to (*batch, Tq, Tk) without enlarging it
        full = tuple(np.broadcast_shapes(*(s[:-2] for s in shapes))) + (tq, tk)
        mask = lead(full)
    return shapes, mask


@settings(max_examples=25, deadline=None)
@given(attention_shapes(), st.integers(0, 2**32 - 1))
def test_property_shapes_and_values_match_a_loop(shapes, seed):
    """For any broadcastable shapes: out is ``(*batch, Tq, dv)`` and equals a per-row loop;
    every gradient has its input's shape; empty rows are zeros; ``<dout, out>`` is linear in
    ``v``, so ``<dv, v> = <dout, out>``."""
    rng = np.random.default_rng(seed)
    (qs, ks, vs), ms = shapes
    q, k, v = (rng.standard_normal(s) for s in (qs, ks, vs))
    mask = None if ms is None else rng.random(ms) < 0.6
    out, cache = F.scaled_dot_product_attention(q, k, v, mask)
    batch = tuple(np.broadcast_shapes(qs[:-2], ks[:-2], vs[:-2]))
    assert out.shape == batch + (qs[-2], vs[-1])
    np.testing.assert_allclose(out, naive_attention(q, k, v, mask), rtol=1e-10, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    grads = F.scaled_dot_product_attention_backward(dout, cache)
    assert [g.shape for g in grads] == [qs, ks, vs]
    assert np.isclose(np.vdot(grads[2], v), np.vdot(dout, out))
    assert np.all(np.isfinite(out)) and all(np.all(np.isfinite(g)) for g in grads)


# -- bad input ---------------------------------------------------------------------------


def test_bad_shapes_name_the_argument_and_both_shapes(rng):
    q, k, v = (rng.standard_normal(s) for s in [(2, 3, 4), (2, 5, 4), (2, 5, 6)])
    sdpa = F.scaled_dot_product_attention
    with pytest.raises(ValueError, match=r"q must have shape \(\.\.\., Tq, d\).*1-D shape \(4,\)"):
        sdpa(np.zeros(4), k, v)
    with pytest.raises(ValueError, match=r"v must have shape \(\.\.\., Tk, dv\).*\(6,\)"):
        sdpa(q, k, np.zeros(6))
    with pytest.raises(
        ValueError,
        match=r"k must have shape \(\.\.\., Tk, d\) with d = 4 from q of shape "
        r"\(2, 3, 4\); got shape \(2, 5, 3\)",
    ):
        sdpa(q, k[..., :3], v)
    with pytest.raises(
        ValueError,
        match=r"v must have shape \(\.\.\., Tk, dv\) with Tk = 5 from k of shape "
        r"\(2, 5, 4\); got shape \(2, 4, 6\)",
    ):
        sdpa(q, k, v[:, :4])
    with pytest.raises(ValueError, match=r"leading \(batch\) axes.*\(2, 3, 4\).*\(3, 5, 4\)"):
        sdpa(q, rng.standard_normal((3, 5, 4)), v)
    with pytest.raises(ValueError, match=r"k must hold at least one key.*\(2, 0, 4\)"):
        sdpa(q, k[:, :0], v[:, :0])
    with pytest.raises(TypeError, match=r"same dtype"):
        sdpa(q.astype(np.float32), k, v)
    with pytest.raises(TypeError, match=r"q must hold floating-point numbers"):
        sdpa(q.astype(int), k, v)


def test_bad_masks_name_the_mask_and_the_shapes(rng):
    q, k, v = (rng.standard_normal(s) for s in [(2, 3, 4), (2, 5, 4), (2, 5, 6)])
    sdpa = F.scaled_dot_product_attention
    with pytest.raises(TypeError, match=r"mask must be boolean.*got dtype float64.*mask != 0"):
        sdpa(q, k, v, np.ones((3, 5)))
    with pytest.raises(TypeError, match=r"mask must be boolean.*got dtype int64"):
        sdpa(q, k, v, [[1, 0, 1, 1, 1]])
    with pytest.raises(
        ValueError,
        match=r"mask must broadcast to \(\.\.\., Tq, Tk\) = \(2, 3, 5\) for q of shape "
        r"\(2, 3, 4\).*got shape \(5, 3\)",
    ):
        sdpa(q, k, v, np.ones((5, 3), bool))
    with pytest.raises(ValueError, match=r"mask must broadcast.*got shape \(4, 2, 3, 5\)"):
        sdpa(q, k, v, np.ones((4, 2, 3, 5), bool))  # would enlarge the output
    with pytest.raises(TypeError, match=r"mask must be a boolean array"):
        sdpa(q, k, v, "causal")
    _, cache = sdpa(q, k, v)
    with pytest.raises(
        ValueError, match=r"dout must have shape \(\.\.\., Tq, dv\) = \(2, 3, 6\).*\(2, 3, 4\)"
    ):
        F.scaled_dot_product_attention_backward(np.zeros((2, 3, 4)), cache)
    with pytest.raises(TypeError, match=r"cache must be the AttentionCache"):
        F.scaled_dot_product_attention_backward(np.zeros((2, 3, 6)), (q, k, v))


def test_mask_of_another_kind_is_refused(torch, rng):
    q, k, v = (torch.randn(2, 3, 4, dtype=torch.float64) for _ in range(3))
    with pytest.raises(TypeError, match=r"mix NumPy arrays and torch tensors"):
        F.scaled_dot_product_attention(q, k, v, F.causal_mask(3))
    with pytest.raises(TypeError, match=r"mask must be boolean.*torch.float64"):
        F.scaled_dot_product_attention(q, k, v, torch.zeros(3, 3, dtype=torch.float64))


# -- causal mask ---------------------------------------------------------------------------


def test_causal_mask_by_hand():
    np.testing.assert_array_equal(F.causal_mask(1), [[True]])
    np.testing.assert_array_equal(F.causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    # Tk > T: the last query sees every key (new queries after a cache of keys)
    np.testing.assert_array_equal(F.causal_mask(2, 4), [[1, 1, 1, 0], [1, 1, 1, 1]])
    np.testing.assert_array_equal(F.causal_mask(1, 3), [[1, 1, 1]])
    # T > Tk: the first T - Tk queries see nothing
    np.testing.assert_array_equal(F.causal_mask(3, 2), [[0, 0], [1, 0], [1, 1]])
    assert F.causal_mask(3).dtype == np.bool_


@pytest.mark.parametrize(("t", "tk"), [(5, None), (4, 7), (7, 4), (1, 1)])
def test_causal_mask_formula_and_torch(torch, device, t, tk):
    mask = F.causal_mask(t, tk)
    n = t if tk is None else tk
    np.testing.assert_array_equal(mask, np.tril(np.ones((t, n), bool), k=n - t))
    np.testing.assert_array_equal(mask, [[j <= i + n - t for j in range(n)] for i in range(t)])
    # torch's causal_lower_right is documented as ones(T, Tk).tril(diagonal=Tk - T)
    lower_right = torch.ones(t, n, dtype=torch.bool, device=device).tril(diagonal=n - t)
    like = torch.zeros(1, device=device)
    for tensor in (F.causal_mask(t, tk, like=like), F.causal_mask(t, tk, like=like.device)):
        assert tensor.dtype == torch.bool and tensor.device == like.device
        assert torch.equal(tensor, lower_right)
    if tk is None:  # T == Tk: the same as torch's is_causal=True
        assert torch.equal(torch.ones(t, t, dtype=torch.bool).tril(), lower_right.cpu())


def test_causal_mask_attends_like_torch_causal_lower_right(torch, rng):
    from torch.nn.attention.bias import causal_lower_right

    arrays = make_inputs(rng, (2, 3), 3, 6, 4, 5)
    ref = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in arrays.values()), attn_mask=causal_lower_right(3, 6)
    )
    out, _ = F.scaled_dot_product_attention(**arrays, mask=F.causal_mask(3, 6))
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-10, atol=1e-12)


def test_causal_mask_bad_arguments():
    with pytest.raises(ValueError, match=r"T must be >= 1; got 0"):
        F.causal_mask(0)
    with pytest.raises(TypeError, match=r"Tk must be an int"):
        F.causal_mask(3, 2.0)
    with pytest.raises(TypeError, match=r"like must be None \(NumPy\), a NumPy array"):
        F.causal_mask(3, like="cuda")


# -- positional encoding -------------------------------------------------------------------


def test_positional_encoding_by_hand():
    pe = F.positional_encoding(3, 4)  # frequencies 1 and 1/100
    expected = [
        [0.0, 1.0, 0.0, 1.0],
        [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)],
        [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)],
    ]
    np.testing.assert_allclose(pe, expected, rtol=1e-15, atol=1e-16)
    expect_numpy(pe, (3, 4), np.float64)
    # odd d: the last column is a sine of frequency base^(-2/3), with no cosine partner
    pe3 = F.positional_encoding(2, 3, base=8.0)
    np.testing.assert_allclose(pe3, [[0, 1, 0], [math.sin(1), math.cos(1), math.sin(0.25)]])


@pytest.mark.parametrize(("t", "d", "base"), [(7, 6, 10000.0), (5, 9, 100.0), (1, 1, 10000)])
def test_positional_encoding_formula(t, d, base):
    pe = F.positional_encoding(t, d, base=base)
    for pos in range(t):
        for c in range(d):
            angle = pos / base ** (2 * (c // 2) / d)
            expected = math.sin(angle) if c % 2 == 0 else math.cos(angle)
            assert pe[pos, c] == pytest.approx(expected, rel=1e-13, abs=1e-15)
    assert np.all(np.abs(pe) <= 1.0)


def test_positional_encoding_like(torch, device):
    ref = F.positional_encoding(6, 8)
    np.testing.assert_array_equal(
        F.positional_encoding(6, 8, like=np.zeros(1, np.float32)), ref.astype(np.float32)
    )
    assert F.positional_encoding(2, 2, like=np.zeros(1, int)).dtype == np.float64
    x = torch.zeros(2, 6, 8, dtype=torch.float32, device=device)
    pe = F.positional_encoding(6, 8, like=x)
    assert pe.dtype == torch.float32 and pe.device == x.device and tuple(pe.shape) == (6, 8)
    np.testing.assert_array_equal(pe.cpu().numpy(), ref.astype(np.float32))
    ids = torch.zeros(2, 6, dtype=torch.int64, device=device)
    assert F.positional_encoding(6, 8, like=ids).dtype == torch.float64
    assert F.positional_encoding(6, 8, like=x.device).dtype == torch.float64


def test_positional_encoding_bad_arguments():
    with pytest.raises(ValueError, match=r"d must be >= 1; got 0"):
        F.positional_encoding(3, 0)
    with pytest.raises(TypeError, match=r"T must be an int"):
        F.positional_encoding(3.0, 4)
    with pytest.raises(ValueError, match=r"base must be a finite number > 0; got -1"):
        F.positional_encoding(3, 4, base=-1)
    with pytest.raises(TypeError, match=r"base must be a number > 0; got str"):
        F.positional_encoding(3, 4, base="10000")


# -- the autograd op -----------------------------------------------------------------------


def leaf(a):
    return Tensor(a, requires_grad=True)


@pytest.mark.parametrize("kind", ["none", "causal", "padding"])
def test_autograd_op_gives_the_kernel_gradients(rng, kind):
    arrays = make_inputs(rng, (2, 3), 4, 5, 3, 2)
    mask = make_mask(rng, kind, (2, 3), 4, 5)
    leaves = [leaf(a) for a in arrays.values()]
    out = A.scaled_dot_product_attention(*leaves, mask=None if mask is None else Tensor(mask))
    ref, cache = F.scaled_dot_product_attention(**arrays, mask=mask)
    assert_close(out.data, ref, name="attention")
    dout = rng.standard_normal(ref.shape)
    (out * Tensor(dout)).sum().backward()
    expected = F.scaled_dot_product_attention_backward(dout, cache)
    for t, grad in zip(leaves, expected, strict=True):
        assert_close(t.grad, grad, name="grad")


def test_self_attention_graph_end_to_end_gradient(rng):
    """x -> (x Wq, x Wk, x Wv) -> causal attention -> sum: one graph, checked numerically."""
    x = rng.standard_normal((2, 4, 3))
    wq, wk, wv = (rng.standard_normal((3, 3)) for _ in range(3))
    c = rng.standard_normal((2, 4, 3))
    mask = F.causal_mask(4)

    def loss_of(wq_, x_=x):
        xt = Tensor(x_)
        q, k, v = A.matmul(xt, wq_), A.matmul(xt, Tensor(wk)), A.matmul(xt, Tensor(wv))
        return A.sum(A.mul(A.scaled_dot_product_attention(q, k, v, mask), Tensor(c)))

    t_wq = leaf(wq)
    loss_of(t_wq).backward()
    check_directional(lambda w: loss_of(Tensor(w)).data, wq.copy(), t_wq.grad, rng=rng, name="dWq")
