"""dlkit.functional RNN, LSTM and GRU kernels: torch parity, gradient checks, step = sequence.

One file for the three cells (they share every test, parametrized by ``kind``); the
cell-specific checks live in ``test_lstm.py`` and ``test_gru.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.functional as F
from dlkit.testing import check_layer_gradients

from ._recurrent import SIZES, as_torch, inputs, kernels, torch_run
from ._reference import expect_like, expect_numpy

KINDS = ["rnn", "lstm", "gru"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: "N{}_T{}_D{}_H{}".format(*s))
@pytest.mark.parametrize("kind", KINDS)
def test_matches_torch_in_values_and_every_gradient(torch, device, rng, kind, size, dtype):
    arrays = inputs(rng, kind, *size)
    dh = rng.standard_normal(size[:2] + (size[3],))
    ref, ref_grads = torch_run(torch, kind, arrays, dh, device, dtype)
    forward, backward = kernels(kind)
    h, cache = forward(**as_torch(torch, arrays, device, dtype))
    expect_like(h, ref)
    grads = backward(torch.tensor(dh, dtype=getattr(torch, dtype), device=device), cache)
    assert len(grads) == len(ref_grads)
    for grad, expected in zip(grads, ref_grads, strict=True):
        expect_like(grad, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", KINDS)
def test_numpy_keeps_dtype_and_shapes(rng, kind, dtype):
    arrays = inputs(rng, kind, 3, 5, 7, 4, dtype)
    forward, backward = kernels(kind)
    h, cache = forward(**arrays)
    expect_numpy(h, (3, 5, 4), dtype)
    grads = backward(np.ones((3, 5, 4), dtype), cache)
    for grad, (name, a) in zip(grads, arrays.items(), strict=True):
        expect_numpy(grad, a.shape, dtype), name


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_by_finite_differences(rng, kind):
    arrays = inputs(rng, kind, 2, 3, 3, 2)
    forward, backward = kernels(kind)
    check_layer_gradients(forward, backward, arrays, rng=rng)
    big = inputs(rng, kind, 3, 6, 5, 4)
    check_layer_gradients(forward, backward, big, rng=rng, elementwise=False)


def _steps(kind, arrays, dh):
    """The sequence run with the step functions, forward then backward."""
    x, h = arrays["x"], arrays["h0"]
    weights = [arrays[k] for k in arrays if k not in ("x", "h0")]
    c = np.zeros_like(h)
    hs, caches = [], []
    for t in range(x.shape[1]):
        if kind == "lstm":
            h, c, cache = F.lstm_step_forward(x[:, t], h, c, *weights)
        else:
            h, cache = getattr(F, f"{kind}_step_forward")(x[:, t], h, *weights)
        hs.append(h)
        caches.append(cache)
    grads = [np.zeros_like(w) for w in weights]
    dx = np.zeros_like(x)
    dnext, dc = np.zeros_like(h), np.zeros_like(h)
    for t in reversed(range(x.shape[1])):
        if kind == "lstm":
            dx[:, t], dnext, dc, *dw = F.lstm_step_backward(dh[:, t] + dnext, dc, caches[t])
        else:
            step_backward = getattr(F, f"{kind}_step_backward")
            dx[:, t], dnext, *dw = step_backward(dh[:, t] + dnext, caches[t])
        grads = [g + d for g, d in zip(grads, dw, strict=True)]
    return np.stack(hs, axis=1), (dx, dnext, *grads)


@pytest.mark.parametrize("kind", KINDS)
def test_step_functions_agree_with_the_sequence_functions(rng, kind):
    arrays = inputs(rng, kind, 3, 5, 7, 4)
    dh = rng.standard_normal((3, 5, 4))
    forward, backward = kernels(kind)
    h, cache = forward(**arrays)
    h_steps, grads_steps = _steps(kind, arrays, dh)
    np.testing.assert_allclose(h, h_steps, rtol=1e-12, atol=1e-13)
    for a, b in zip(backward(dh, cache), grads_steps, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_step_gradients_by_finite_differences(rng, kind):
    arrays = inputs(rng, kind, 2, 1, 3, 2)
    step = {k: (a[:, 0] if k == "x" else a) for k, a in arrays.items()}
    if kind == "lstm":
        step = {"x": step["x"], "h_prev": step["h0"], "c_prev": rng.standard_normal((2, 2))}
        step.update({k: arrays[k] for k in ("Wx", "Wh", "b")})

        def forward(**a):
            h, c, cache = F.lstm_step_forward(**a)
            return np.concatenate([h, c], axis=1), cache

        def backward(dout, cache):
            return F.lstm_step_backward(dout[:, :2], dout[:, 2:], cache)

    else:
        step["h_prev"] = step.pop("h0")
        order = ["x", "h_prev"] + [k for k in step if k not in ("x", "h_prev")]
        step = {k: step[k] for k in order}
        forward = getattr(F, f"{kind}_step_forward")
        backward = getattr(F, f"{kind}_step_backward")
    check_layer_gradients(forward, backward, step, rng=rng)


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_bad_shapes_name_the_argument_and_both_shapes(rng, kind):
    arrays = inputs(rng, kind, 3, 5, 7, 4)
    forward, backward = kernels(kind)
    g = {"rnn": "", "lstm": "4", "gru": "3"}[kind]
    cases = {
        "x": (rng.standard_normal((3, 7)), r"x must be 3-D with shape \(N, T, D\).*\(3, 7\)"),
        "h0": (rng.standard_normal((2, 4)), r"h0 must have shape \(N, H\) with N = 3.*\(2, 4\)"),
        "Wx": (rng.standard_normal((6, 4)), rf"Wx must have shape \(D, {g}H\).*got shape \(6, 4\)"),
        "Wh": (rng.standard_normal((4, 5)), rf"Wh must have shape \(H, {g}H\).*got shape \(4, 5\)"),
    }
    for name, (bad, message) in cases.items():
        with pytest.raises(ValueError, match=message):
            forward(**{**arrays, name: bad})
    bias = "bx" if kind == "gru" else "b"
    with pytest.raises(ValueError, match=rf"{bias} must have shape \({g}H,\)"):
        forward(**{**arrays, bias: np.zeros(3)})
    with pytest.raises(ValueError, match=r"at least one time step"):
        forward(**{**arrays, "x": np.zeros((3, 0, 7))})
    with pytest.raises(TypeError, match=r"same dtype"):
        forward(**{**arrays, "x": arrays["x"].astype(np.float32)})
    _, cache = forward(**arrays)
    with pytest.raises(ValueError, match=r"dh must have shape \(N, T, H\) = \(3, 5, 4\).*\(3, 4\)"):
        backward(np.zeros((3, 4)), cache)
    with pytest.raises(TypeError, match=r"cache must be"):
        backward(np.zeros((3, 5, 4)), (1, 2))


def test_step_bad_input(rng):
    arrays = inputs(rng, "rnn", 3, 1, 7, 4)
    x, h0 = arrays["x"][:, 0], arrays["h0"]
    with pytest.raises(ValueError, match=r"x must be 2-D with shape \(N, D\).*\*_forward"):
        F.rnn_step_forward(arrays["x"], h0, arrays["Wx"], arrays["Wh"], arrays["b"])
    with pytest.raises(ValueError, match=r"h_prev must have shape \(N, H\) with N = 3"):
        F.rnn_step_forward(x, h0[:2], arrays["Wx"], arrays["Wh"], arrays["b"])
    with pytest.raises(ValueError, match=r"c_prev must have shape \(N, H\)"):
        lstm = inputs(rng, "lstm", 3, 1, 7, 4)
        F.lstm_step_forward(x, h0, h0[:, :3], lstm["Wx"], lstm["Wh"], lstm["b"])
