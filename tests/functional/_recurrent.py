"""Shared by the RNN, LSTM and GRU tests: random inputs and torch's layer on the same weights."""

from __future__ import annotations

import numpy as np

import dlkit.functional as F

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
# (N, T, D, H): odd, T = 1, H != D, and D == H (the kernels' pooled buffers of equal shape)
SIZES = [(3, 5, 7, 4), (2, 1, 3, 5), (1, 4, 4, 6), (2, 3, 4, 4)]


def inputs(rng, kind, n, t, d, h, dtype=np.float64):
    """``{x, h0, Wx, Wh, b}`` (GRU: ``bx``, ``bh``) with torch's initial scale."""
    g, k = GATES[kind], 1.0 / np.sqrt(h)
    arrays = {
        "x": rng.standard_normal((n, t, d)),
        "h0": 0.5 * rng.standard_normal((n, h)),
        "Wx": rng.uniform(-k, k, (d, g * h)) * 2,
        "Wh": rng.uniform(-k, k, (h, g * h)) * 2,
    }
    biases = ("bx", "bh") if kind == "gru" else ("b",)
    arrays.update({name: rng.uniform(-k, k, g * h) for name in biases})
    return {key: a.astype(dtype) for key, a in arrays.items()}


def kernels(kind):
    return getattr(F, f"{kind}_forward"), getattr(F, f"{kind}_backward")


def torch_run(torch, kind, arrays, dh, device, dtype):
    """torch.nn.RNN/LSTM/GRU on the same weights: output and every gradient, dlkit's layout."""
    tdtype = getattr(torch, dtype)
    d, h = arrays["x"].shape[2], arrays["h0"].shape[1]
    layer = getattr(torch.nn, kind.upper())(d, h, batch_first=True).to(device, tdtype)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.tensor(arrays["Wx"].T))
        layer.weight_hh_l0.copy_(torch.tensor(arrays["Wh"].T))
        if kind == "gru":
            layer.bias_ih_l0.copy_(torch.tensor(arrays["bx"]))
            layer.bias_hh_l0.copy_(torch.tensor(arrays["bh"]))
        else:  # one bias in dlkit: torch's two sum to it
            layer.bias_ih_l0.copy_(torch.tensor(arrays["b"]))
            layer.bias_hh_l0.zero_()
    x = torch.tensor(arrays["x"], dtype=tdtype, device=device, requires_grad=True)
    h0 = torch.tensor(arrays["h0"][None], dtype=tdtype, device=device, requires_grad=True)
    state = (h0, torch.zeros_like(h0)) if kind == "lstm" else h0
    out, _ = layer(x, state)
    out.backward(torch.tensor(dh, dtype=tdtype, device=device))
    grads = [x.grad, h0.grad[0], layer.weight_ih_l0.grad.T, layer.weight_hh_l0.grad.T]
    grads.append(layer.bias_ih_l0.grad)
    if kind == "gru":
        grads.append(layer.bias_hh_l0.grad)
    return out, grads


def as_torch(torch, arrays, device, dtype):
    return {
        k: torch.tensor(a, dtype=getattr(torch, dtype), device=device) for k, a in arrays.items()
    }
