"""dlkit.nn Embedding, RNN, LSTM, GRU and clip_grad_norm_: torch parity, init, layouts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlkit import nn
from dlkit.autograd import Tensor
from dlkit.testing import assert_close


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [True, False])
def test_modules_match_torch(torch, rng, cls, batch_first):
    layer = getattr(nn, cls)(7, 4, batch_first=batch_first, rng=rng)
    ref = getattr(torch.nn, cls)(7, 4, batch_first=batch_first).double()
    with torch.no_grad():
        ref.weight_ih_l0.copy_(torch.tensor(layer.weight_ih.data.T))
        ref.weight_hh_l0.copy_(torch.tensor(layer.weight_hh.data.T))
        if cls == "GRU":
            ref.bias_ih_l0.copy_(torch.tensor(layer.bias_ih.data))
            ref.bias_hh_l0.copy_(torch.tensor(layer.bias_hh.data))
        else:
            ref.bias_ih_l0.copy_(torch.tensor(layer.bias.data))
            ref.bias_hh_l0.zero_()
    x = rng.standard_normal((3, 5, 7) if batch_first else (5, 3, 7))
    tx = torch.tensor(x, requires_grad=True)
    ref_out, ref_state = ref(tx)
    out, state = layer(Tensor(x, requires_grad=True))
    assert_close(out.data, ref_out.detach().numpy(), name="out")
    if cls == "LSTM":
        (h_n, c_n), (ref_h, ref_c) = state, ref_state
        assert_close(c_n, ref_c[0].detach().numpy(), name="c_n")
    else:
        h_n, ref_h = state, ref_state
    assert_close(h_n.data, ref_h[0].detach().numpy(), name="h_n")
    dout = rng.standard_normal(out.shape)
    (ref_out * torch.tensor(dout)).sum().add(ref_h.sum()).backward()
    ((out * Tensor(dout)).sum() + h_n.sum()).backward()
    assert_close(layer.weight_ih.grad, ref.weight_ih_l0.grad.numpy().T, name="dW_ih")
    assert_close(layer.weight_hh.grad, ref.weight_hh_l0.grad.numpy().T, name="dW_hh")


def test_init_is_torchs_uniform_from_the_rng():
    layer = nn.LSTM(3, 4, rng=np.random.default_rng(0))
    expected = np.random.default_rng(0).uniform(-0.5, 0.5, (3, 16))
    assert_close(layer.weight_ih.data, expected, name="weight_ih")
    k = 1 / math.sqrt(4)
    for p in layer.parameters():
        assert np.all(np.abs(p.data) <= k)
    assert [p.shape for p in nn.GRU(3, 4, rng=np.random.default_rng(0)).parameters()] == [
        (3, 12), (4, 12), (12,), (12,)]  # fmt: skip
    assert len(nn.RNN(3, 4, rng=np.random.default_rng(0)).parameters()) == 3


def test_embedding_module_and_clip(torch, rng):
    emb = nn.Embedding(10, 3, rng=rng)
    ids = np.array([[1, 1, 9], [0, 1, 2]])
    out = emb(ids)
    assert out.shape == (2, 3, 3)
    (out * out).sum().backward()
    ref = torch.tensor(emb.weight.data, requires_grad=True)
    (torch.nn.functional.embedding(torch.tensor(ids), ref) ** 2).sum().backward()
    assert_close(emb.weight.grad, ref.grad.numpy(), name="dW")
    norm = nn.clip_grad_norm_(emb.parameters(), 0.1)
    assert norm == pytest.approx(float(ref.grad.norm()))
    assert np.linalg.norm(emb.weight.grad) == pytest.approx(0.1, rel=1e-4)


def test_bad_input(rng):
    layer = nn.GRU(3, 2, rng=rng)
    with pytest.raises(ValueError, match=r"expects x of shape \(N, T, D\) with D = 3"):
        layer(np.zeros((2, 4, 5)))
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        nn.RNN(3, 2, rng=None)
    with pytest.raises(ValueError, match=r"hidden_size must be >= 1"):
        nn.LSTM(3, 0, rng=rng)
