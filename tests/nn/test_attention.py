"""dlkit.nn attention layers: torch parity (MHA, encoder and decoder blocks), masks, seq2seq."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import nn
from dlkit import optim as O
from dlkit.autograd import Tensor, sequence_cross_entropy
from dlkit.functional import causal_mask, positional_encoding
from dlkit.testing import assert_close

E, H = 8, 2

# -- weight mapping dlkit <-> torch (the tables of the docstrings) -------------------------


def _get(p, grad):
    return p.grad if grad else p


def _mha_map(m, ref, grad=False):
    """``(dlkit parameter, torch view in dlkit's layout)`` for every MHA parameter."""
    e = m.embed_dim
    if ref.in_proj_weight is not None:
        w = _get(ref.in_proj_weight, grad)
        pairs = [(m.q_proj.weight, w[:e].T), (m.k_proj.weight, w[e : 2 * e].T)]
        pairs.append((m.v_proj.weight, w[2 * e :].T))
    else:
        pairs = [
            (m.q_proj.weight, _get(ref.q_proj_weight, grad).T),
            (m.k_proj.weight, _get(ref.k_proj_weight, grad).T),
            (m.v_proj.weight, _get(ref.v_proj_weight, grad).T),
        ]
    pairs.append((m.out_proj.weight, _get(ref.out_proj.weight, grad).T))
    if ref.in_proj_bias is not None:
        b = _get(ref.in_proj_bias, grad)
        pairs += [(m.q_proj.bias, b[:e]), (m.k_proj.bias, b[e : 2 * e])]
        pairs += [(m.v_proj.bias, b[2 * e :]), (m.out_proj.bias, _get(ref.out_proj.bias, grad))]
    return pairs


def _norm_map(ln, norm, grad=False):
    return [(ln.weight, _get(norm.weight, grad)), (ln.bias, _get(norm.bias, grad))]


def _linear_map(fc, lin, grad=False):
    return [(fc.weight, _get(lin.weight, grad).T), (fc.bias, _get(lin.bias, grad))]


def _encoder_map(block, ref, grad=False):
    return (
        _norm_map(block.ln1, ref.norm1, grad)
        + _mha_map(block.attn, ref.self_attn, grad)
        + _norm_map(block.ln2, ref.norm2, grad)
        + _linear_map(block.mlp.fc1, ref.linear1, grad)
        + _linear_map(block.mlp.fc2, ref.linear2, grad)
    )


def _decoder_map(block, ref, grad=False):
    return (
        _norm_map(block.ln1, ref.norm1, grad)
        + _mha_map(block.self_attn, ref.self_attn, grad)
        + _norm_map(block.ln2, ref.norm2, grad)
        + _mha_map(block.cross_attn, ref.multihead_attn, grad)
        + _norm_map(block.ln3, ref.norm3, grad)
        + _linear_map(block.mlp.fc1, ref.linear1, grad)
        + _linear_map(block.mlp.fc2, ref.linear2, grad)
    )


def _copy(torch, module, pairs, rng):
    """Perturb every dlkit parameter (biases start at 0, norms at 1) and copy it to torch."""
    assert {id(p) for p, _ in pairs} == {id(p) for p in module.parameters()}
    with torch.no_grad():
        for p, view in pairs:
            p.data = p.data + 0.3 * rng.standard_normal(p.shape)
            view.copy_(torch.tensor(p.data))


def _check_grads(pairs, what):
    for i, (p, g) in enumerate(pairs):
        assert_close(p.grad, g.numpy(), name=f"{what} grad of parameter {i} {p.shape}")


def _backward_both(torch, out, ref_out, rng):
    dout = rng.standard_normal(out.shape)
    (out * Tensor(dout)).sum().backward()
    (ref_out * torch.tensor(dout)).sum().backward()


def _leaf(torch, a):
    return Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


# -- MultiHeadAttention --------------------------------------------------------------------


def _masks(case, rng, n, tq, tk):
    """``(attn_mask, key_padding_mask)`` in dlkit's convention (True = allowed / real)."""
    pad = np.ones((n, tk), dtype=bool)
    pad[0, tk - 2 :] = False
    pad[-1, 1] = False
    if case == "causal+padding":
        return causal_mask(tq), pad
    if case in ("cross+padding", "kdim+vdim"):
        return None, pad
    if case == "per-head mask":
        mask = rng.random((n, H, tq, tk)) < 0.6
        mask[..., 0] = True  # no empty row: torch gives NaN there, dlkit zeros
        return mask, None
    if case == "per-sequence mask":
        mask = rng.random((n, 1, tq, tk)) < 0.6
        mask[..., -1] = True
        return mask, pad | np.eye(n, tk, k=tk - n, dtype=bool)
    return None, None


def _torch_attn_mask(torch, mask, n):
    if mask is None:
        return None
    if mask.ndim == 4:  # torch's MHA wants (N * heads, Tq, Tk)
        mask = np.broadcast_to(mask, (n, H, *mask.shape[2:])).reshape(n * H, *mask.shape[2:])
    return torch.tensor(~mask)  # torch's MHA: True = NOT allowed


CASES = [
    "self",
    "causal+padding",
    "cross+padding",
    "kdim+vdim",
    "per-head mask",
    "per-sequence mask",
    "no bias",
]


@pytest.mark.parametrize("case", CASES)
def test_mha_matches_torch(torch, rng, case):
    n, tq = 3, 5
    cross = case in ("cross+padding", "kdim+vdim")
    tk = 4 if cross else tq
    kdim, vdim = (6, 3) if case == "kdim+vdim" else (E, E)
    bias = case != "no bias"
    m = nn.MultiHeadAttention(E, H, rng=rng, kdim=kdim, vdim=vdim, bias=bias)
    ref = torch.nn.MultiheadAttention(
        E, H, bias=bias, kdim=kdim, vdim=vdim, batch_first=True, dtype=torch.float64
    )
    _copy(torch, m, _mha_map(m, ref), rng)
    attn_mask, pad = _masks(case, rng, n, tq, tk)
    q, tq_ = _leaf(torch, rng.standard_normal((n, tq, E)))
    if cross:
        (k, tk_), (v, tv_) = (_leaf(torch, rng.standard_normal((n, tk, d))) for d in (kdim, vdim))
        out, w = m(q, k, v, attn_mask=attn_mask, key_padding_mask=pad, need_weights=True)
    else:
        tk_ = tv_ = tq_
        out, w = m(q, attn_mask=attn_mask, key_padding_mask=pad, need_weights=True)
    kw = dict(
        attn_mask=_torch_attn_mask(torch, attn_mask, n),
        key_padding_mask=None if pad is None else torch.tensor(~pad),  # True = padding
    )
    ref_out, ref_w = ref(tq_, tk_, tv_, average_attn_weights=False, **kw)
    assert_close(out.data, ref_out.detach().numpy(), name="out")
    assert w.shape == (n, H, tq, tk) and m.last_weights is w
    assert_close(w, ref_w.detach().numpy(), name="per-head weights")
    _, ref_avg = ref(tq_, tk_, tv_, **kw)  # torch's default: averaged over the heads
    assert_close(w.mean(axis=1), ref_avg.detach().numpy(), name="averaged weights")
    _backward_both(torch, out, ref_out, rng)
    _check_grads(_mha_map(m, ref, grad=True), "MHA")
    assert_close(q.grad, tq_.grad.numpy(), name="dquery")
    if cross:
        assert_close(k.grad, tk_.grad.numpy(), name="dkey")
        assert_close(v.grad, tv_.grad.numpy(), name="dvalue")


def test_masks_are_true_where_allowed_the_opposite_of_torch_mha(torch, rng):
    m = nn.MultiHeadAttention(E, H, rng=rng)
    ref = torch.nn.MultiheadAttention(E, H, batch_first=True, dtype=torch.float64)
    _copy(torch, m, _mha_map(m, ref), rng)
    x = rng.standard_normal((2, 4, E))
    tx = torch.tensor(x)
    mask = causal_mask(4)
    out, w = m(x, attn_mask=mask, need_weights=True)
    assert np.all(w[..., ~mask] == 0) and np.all(w[..., mask] > 0)  # True = may attend
    flipped, _ = ref(tx, tx, tx, attn_mask=torch.tensor(~mask))
    wrong, _ = ref(tx, tx, tx, attn_mask=torch.tensor(mask))  # dlkit's mask as torch's: wrong
    assert_close(out.data, flipped.detach().numpy(), name="dlkit mask vs torch ~mask")
    assert not np.allclose(out.data, wrong.detach().numpy())  # (NaN where a row is all True)
    # is_causal=True is the same causal mask
    assert_close(m(x, is_causal=True)[0].data, out.data, name="is_causal")
    # key padding: True = REAL token; torch's True = padding
    pad = np.array([[True, True, True, False], [True, False, True, True]])
    out, w = m(x, key_padding_mask=pad, need_weights=True)
    assert np.all(w.transpose(0, 3, 1, 2)[~pad] == 0)  # (N, Tk, H, Tq)[padding keys]
    expected, _ = ref(tx, tx, tx, key_padding_mask=torch.tensor(~pad))
    assert_close(out.data, expected.detach().numpy(), name="padding vs torch ~padding")
    doc = nn.MultiHeadAttention.__doc__
    assert "OPPOSITE of" in doc and "True = NOT allowed" in doc and "REAL token" in doc


def test_heads_split_the_features_and_weights_are_stored(rng):
    m = nn.MultiHeadAttention(E, H, rng=rng)
    x = rng.standard_normal((2, 3, E))
    out, w = m(x)
    assert w is None and m.last_weights.shape == (2, H, 3, 3)
    assert_close(m.last_weights.sum(axis=-1), np.ones((2, H, 3)), name="softmax rows")
    d = E // H
    q, k = x @ m.q_proj.weight.data, x @ m.k_proj.weight.data
    for h in range(H):  # head h owns the features [h*d, (h+1)*d)
        s = q[..., h * d : (h + 1) * d] @ k[..., h * d : (h + 1) * d].transpose(0, 2, 1)
        e = np.exp((s - s.max(-1, keepdims=True)) / np.sqrt(d))
        assert_close(m.last_weights[:, h], e / e.sum(-1, keepdims=True), name=f"head {h}")
    assert len(m.parameters()) == 8
    assert len(nn.MultiHeadAttention(E, H, rng=rng, bias=False).parameters()) == 4


# -- transformer blocks --------------------------------------------------------------------


@pytest.mark.parametrize("causal", [False, True])
def test_transformer_block_matches_torch_encoder_layer(torch, rng, causal):
    n, t, mlp = 3, 5, 12
    block = nn.TransformerBlock(E, H, mlp, rng=rng, causal=causal)
    ref = torch.nn.TransformerEncoderLayer(
        E,
        H,
        mlp,
        dropout=0.0,
        activation="gelu",
        batch_first=True,
        norm_first=True,
        dtype=torch.float64,
    ).eval()
    _copy(torch, block, _encoder_map(block, ref), rng)
    x, tx = _leaf(torch, rng.standard_normal((n, t, E)))
    pad = np.ones((n, t), dtype=bool)
    pad[1, 3:] = False
    out = block(x, key_padding_mask=pad)
    kw = {"src_key_padding_mask": torch.tensor(~pad)}
    if causal:
        kw.update(src_mask=torch.tensor(~causal_mask(t)), is_causal=True)
    ref_out = ref(tx, **kw)
    assert_close(out.data, ref_out.detach().numpy(), name="block out")
    _backward_both(torch, out, ref_out, rng)
    _check_grads(_encoder_map(block, ref, grad=True), "encoder block")
    assert_close(x.grad, tx.grad.numpy(), name="dx")


def test_decoder_block_matches_torch_decoder_layer(torch, rng):
    n, tt, ts, mlp = 3, 4, 6, 12
    block = nn.TransformerDecoderBlock(E, H, mlp, rng=rng)
    ref = torch.nn.TransformerDecoderLayer(
        E,
        H,
        mlp,
        dropout=0.0,
        activation="gelu",
        batch_first=True,
        norm_first=True,
        dtype=torch.float64,
    ).eval()
    _copy(torch, block, _decoder_map(block, ref), rng)
    x, tx = _leaf(torch, rng.standard_normal((n, tt, E)))
    mem, tmem = _leaf(torch, rng.standard_normal((n, ts, E)))
    pad = np.ones((n, tt), dtype=bool)
    pad[0, 3] = False
    mpad = np.ones((n, ts), dtype=bool)
    mpad[2, 4:] = False
    out = block(x, mem, memory_padding_mask=mpad, padding_mask=pad)
    ref_out = ref(
        tx,
        tmem,
        tgt_mask=torch.tensor(~causal_mask(tt)),
        tgt_is_causal=True,
        tgt_key_padding_mask=torch.tensor(~pad),
        memory_key_padding_mask=torch.tensor(~mpad),
    )
    assert_close(out.data, ref_out.detach().numpy(), name="decoder out")
    _backward_both(torch, out, ref_out, rng)
    _check_grads(_decoder_map(block, ref, grad=True), "decoder block")
    assert_close(x.grad, tx.grad.numpy(), name="dx")
    assert_close(mem.grad, tmem.grad.numpy(), name="dmemory")


def test_dropout_acts_only_in_training_mode():
    x = np.random.default_rng(1).standard_normal((2, 4, E))
    plain = nn.TransformerBlock(E, H, 16, rng=np.random.default_rng(0))
    assert plain.drop1 is None and plain.mlp.drop is None
    block = nn.TransformerBlock(E, H, 16, rng=np.random.default_rng(0), dropout=0.5)
    a, b = block(x).data, block(x).data
    assert not np.allclose(a, b)  # fresh masks each call
    block.eval()
    assert not block.mlp.drop.training and not block.attn.training
    assert_close(block(x).data, plain(x).data, name="eval mode = no dropout")
    dec = nn.TransformerDecoderBlock(E, H, 16, rng=np.random.default_rng(0), dropout=0.5)
    assert len([c for c in dec.children() if isinstance(c, nn.Dropout)]) == 3


def test_positional_embedding(rng):
    x = rng.standard_normal((2, 5, 6))
    fixed = nn.PositionalEmbedding(7, 6, rng=None, learned=False)
    assert fixed.parameters() == []
    assert_close(fixed(x).data, x + positional_encoding(5, 6), name="sinusoidal")
    learned = nn.PositionalEmbedding(7, 6, rng=rng)
    assert [p.shape for p in learned.parameters()] == [(7, 6)]
    out = learned(x)
    assert_close(out.data, x + learned.weight.data[:5], name="learned")
    out.sum().backward()
    expected = np.zeros((7, 6))
    expected[:5] = 2.0  # two sequences use each of the first five positions
    assert_close(learned.weight.grad, expected, name="dP")
    with pytest.raises(ValueError, match=r"T = 8 positions, more than max_len = 7"):
        learned(np.zeros((1, 8, 6)))


# -- Seq2SeqTransformer --------------------------------------------------------------------


def _model(seed=0, **kw):
    args = dict(src_vocab=11, tgt_vocab=9, embed_dim=16, num_heads=2, mlp_dim=32)
    args.update(num_layers=2, max_len=8)
    args.update(kw)
    return nn.Seq2SeqTransformer(**args, rng=np.random.default_rng(seed))


def test_seq2seq_shapes_padding_and_causality(rng):
    model = _model()
    src = rng.integers(0, 11, (3, 6))
    tgt = rng.integers(0, 9, (3, 5))
    logits = model(src, tgt)
    assert logits.shape == (3, 5, 9)
    # embeddings and positions 4, encoder blocks 16 each, decoder blocks 26, norms 4, head 2
    assert len(model.parameters()) == 4 + 2 * 16 + 2 * 26 + 4 + 2
    # padded source tokens change nothing once the mask marks them
    real = np.ones((3, 6), dtype=bool)
    real[0, 4:] = real[2, 2:] = False
    other = src.copy()
    other[~real] = (other[~real] + 1) % 11
    base = model(src, tgt, src_padding_mask=real).data
    assert_close(model(other, tgt, src_padding_mask=real).data, base, name="padded src")
    assert not np.allclose(model(other, tgt).data, model(src, tgt).data)  # without the mask
    # causal: changing target token 3 leaves the logits of positions 0..2 unchanged
    changed = tgt.copy()
    changed[:, 3] = (changed[:, 3] + 1) % 9
    after = model(src, changed, src_padding_mask=real).data
    assert_close(after[:, :3], base[:, :3], name="earlier logits")
    assert not np.allclose(after[:, 3:], base[:, 3:])


def test_seq2seq_overfits_a_reversal_task_and_generates_it():
    rng = np.random.default_rng(3)
    bos = 0
    src = rng.integers(1, 9, (6, 5))
    tgt = np.concatenate([np.full((6, 1), bos), src[:, ::-1]], axis=1)  # (6, 6)
    model = _model(seed=1, num_layers=1, embed_dim=32, num_heads=4, mlp_dim=64)
    opt = O.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        loss = sequence_cross_entropy(model(src, tgt[:, :-1]), tgt[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    out = model.generate(src, bos, 6)
    np.testing.assert_array_equal(out, tgt)
    assert model.training  # generate restores the mode
    with_eos = model.generate(src[:1], bos, 8, eos_id=int(tgt[0, 3]))
    assert with_eos.shape[1] <= 8 and with_eos[0, -1] == tgt[0, 3]


def test_seq2seq_runs_on_torch_tensors(torch, device):
    model = _model()
    src = np.random.default_rng(0).integers(0, 11, (2, 6))
    tgt = np.random.default_rng(1).integers(0, 9, (2, 4))
    real = np.array([[True] * 6, [True] * 3 + [False] * 3])
    expected = model(src, tgt, src_padding_mask=real).data
    for p in model.parameters():
        p.data = torch.as_tensor(p.data, device=device)
    t = (torch.as_tensor(a, device=device) for a in (src, tgt))
    got = model(*t, src_padding_mask=real).data  # a NumPy mask is moved to the device
    assert got.device.type == device
    assert_close(got.cpu().numpy(), expected, name="torch logits")
    out = model.generate(torch.as_tensor(src, device=device), 0, 5)
    assert out.device.type == device and tuple(out.shape) == (2, 5)


# -- bad input -----------------------------------------------------------------------------


def test_bad_input(rng):
    with pytest.raises(ValueError, match=r"embed_dim must be divisible by num_heads"):
        nn.MultiHeadAttention(10, 3, rng=rng)
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        nn.MultiHeadAttention(E, H, rng=None)
    m = nn.MultiHeadAttention(E, H, rng=rng)
    x = np.zeros((2, 3, E))
    with pytest.raises(ValueError, match=r"expects query of shape \(N, Tq, 8\)"):
        m(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match=r"expects key of shape \(N, Tk, 8\)"):
        m(x, np.zeros((2, 4, 6)))
    with pytest.raises(TypeError, match=r"attn_mask must be boolean, True where attention is"):
        m(x, attn_mask=np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(Tq, Tk\) = \(3, 3\)"):
        m(x, attn_mask=np.ones((3, 4), dtype=bool))
    with pytest.raises(ValueError, match=r"attn_mask must have shape"):
        m(x, attn_mask=np.ones((2, 3, 3, 3), dtype=bool))
    with pytest.raises(TypeError, match=r"key_padding_mask must be boolean, True where a token"):
        m(x, key_padding_mask=np.ones((2, 3), dtype=int))
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(N, T\) = \(2, 3\)"):
        m(x, key_padding_mask=np.ones((3, 2), dtype=bool))
    with pytest.raises(ValueError, match=r"self-attention \(key=None\) needs kdim"):
        nn.MultiHeadAttention(E, H, rng=rng, kdim=4)(x)
    block = nn.TransformerBlock(E, H, 16, rng=rng)
    with pytest.raises(ValueError, match=r"expects x of shape \(N, T, 8\)"):
        block(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\)"):
        nn.TransformerBlock(E, H, 16, rng=rng, dropout=1.0)
    dec = nn.TransformerDecoderBlock(E, H, 16, rng=rng)
    with pytest.raises(ValueError, match=r"expects memory of shape \(N, Ts, 8\)"):
        dec(x, np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"memory_padding_mask must have shape"):
        dec(x, np.zeros((2, 5, E)), memory_padding_mask=np.ones((2, 3), dtype=bool))
    model = _model()
    src = np.zeros((2, 6), dtype=int)
    with pytest.raises(ValueError, match=r"src_padding_mask must have shape \(N, T\) = \(2, 6\)"):
        model(src, src[:, :3], src_padding_mask=np.ones((2, 5), dtype=bool))
    with pytest.raises(ValueError, match=r"tgt_ids has T = 9 tokens, more than max_len = 8"):
        model(src, np.zeros((2, 9), dtype=int))
    with pytest.raises(ValueError, match=r"max_len must be <= the model's max_len = 8"):
        model.generate(src, 0, 9)
