"""LSTM specifics: the last cell state, the gates kept in the cache, the forget-gate path."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import dlkit.functional as F

from ._recurrent import inputs


def test_last_cell_state_and_gates_match_torch(torch, rng):
    arrays = inputs(rng, "lstm", 3, 5, 7, 4)
    layer = torch.nn.LSTM(7, 4, batch_first=True).double()
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.tensor(arrays["Wx"].T))
        layer.weight_hh_l0.copy_(torch.tensor(arrays["Wh"].T))
        layer.bias_ih_l0.copy_(torch.tensor(arrays["b"]))
        layer.bias_hh_l0.zero_()
    h0 = torch.tensor(arrays["h0"][None])
    _, (h_n, c_n) = layer(torch.tensor(arrays["x"]), (h0, torch.zeros_like(h0)))
    h, cache = F.lstm_forward(**arrays)
    np.testing.assert_allclose(cache.cs[-1], c_n[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h[:, -1], h_n[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    assert cache.gates.shape == (5, 3, 16)  # (T, N, 4H), time-major
    i, f, g, o = np.split(cache.gates, 4, axis=2)
    assert np.all((0 < i) & (i < 1)) and np.all((0 < f) & (f < 1)) and np.all(np.abs(g) < 1)
    pre = arrays["x"][:, 0] @ arrays["Wx"] + arrays["h0"] @ arrays["Wh"] + arrays["b"]
    np.testing.assert_allclose(i[0], 1 / (1 + np.exp(-pre[:, :4])), rtol=1e-12)


def test_open_forget_gate_carries_the_gradient_back_unchanged(rng):
    """With f = 1 and i = 0 the cell is a conveyor belt: dL/dc_0 equals dL/dc_T."""
    h = 3
    x, h_prev, c_prev = rng.standard_normal((2, 2)), np.zeros((2, h)), rng.standard_normal((2, h))
    wx, wh = np.zeros((2, 4 * h)), np.zeros((h, 4 * h))
    b = np.zeros(4 * h)
    b[:h], b[h : 2 * h] = -50.0, 50.0  # i = 0, f = 1
    _, c, cache = F.lstm_step_forward(x, h_prev, c_prev, wx, wh, b)
    np.testing.assert_allclose(c, c_prev)
    dc = rng.standard_normal((2, h))
    _, _, dc_prev, *_ = F.lstm_step_backward(np.zeros((2, h)), dc, cache)
    np.testing.assert_allclose(dc_prev, dc)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_gates_are_exact_finite_and_silent(torch, rng, dtype):
    """Pre-activations of +-1000 overflow exp() inside the kernel: the gates must come out
    exactly 0 or 1 (no NaN, no RuntimeWarning) and the gradients must still match torch."""
    arrays = inputs(rng, "lstm", 2, 4, 3, 5)
    arrays["b"] = (np.sign(rng.standard_normal(20)) * 1000.0).astype(np.float64)
    arrays = {k: a.astype(dtype) for k, a in arrays.items()}
    dh = rng.standard_normal((2, 4, 5)).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h, cache = F.lstm_forward(**arrays)
        grads = F.lstm_backward(dh, cache)
    gates = cache.gates
    assert np.all(np.isin(gates[..., :10], (0.0, 1.0))) and np.all(
        np.isin(gates[..., 15:], (0.0, 1.0))
    )
    assert np.all(np.abs(gates[..., 10:15]) == 1.0)  # g = tanh(+-1000) = +-1
    layer = torch.nn.LSTM(3, 5, batch_first=True).to(getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.tensor(arrays["Wx"].T))
        layer.weight_hh_l0.copy_(torch.tensor(arrays["Wh"].T))
        layer.bias_ih_l0.copy_(torch.tensor(arrays["b"]))
        layer.bias_hh_l0.zero_()
    x = torch.tensor(arrays["x"], requires_grad=True)
    h0 = torch.tensor(arrays["h0"][None], requires_grad=True)
    out, _ = layer(x, (h0, torch.zeros_like(h0)))
    out.backward(torch.tensor(dh))
    expected = [out, x.grad, h0.grad[0], layer.weight_ih_l0.grad.T, layer.weight_hh_l0.grad.T]
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    for got, want in zip([h, *grads[:4]], expected, strict=True):
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, want.detach().numpy(), **tol)
    np.testing.assert_allclose(grads[4], layer.bias_ih_l0.grad.numpy(), **tol)
