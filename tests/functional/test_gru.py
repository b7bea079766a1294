"""GRU specifics: torch's equations, where the hidden-side bias of n sits inside r * (...)."""

from __future__ import annotations

import numpy as np

import dlkit.functional as F

from ._recurrent import inputs


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def test_step_is_torchs_equations(rng):
    a = inputs(rng, "gru", 3, 1, 5, 4)
    x, h = a["x"][:, 0], a["h0"]
    ax, ah = x @ a["Wx"] + a["bx"], h @ a["Wh"] + a["bh"]
    r = _sigmoid(ax[:, :4] + ah[:, :4])
    z = _sigmoid(ax[:, 4:8] + ah[:, 4:8])
    n = np.tanh(ax[:, 8:] + r * ah[:, 8:])
    out, _ = F.gru_step_forward(x, h, a["Wx"], a["Wh"], a["bx"], a["bh"])
    np.testing.assert_allclose(out, (1 - z) * n + z * h, rtol=1e-12)


def test_the_two_biases_are_not_interchangeable(rng):
    a = inputs(rng, "gru", 2, 3, 3, 2)
    h1, _ = F.gru_forward(**a)
    h2, _ = F.gru_forward(**{**a, "bx": a["bx"] + a["bh"], "bh": np.zeros_like(a["bh"])})
    assert not np.allclose(h1, h2)  # b_hn is scaled by r
    same = {**a, "bx": a["bx"].copy(), "bh": a["bh"].copy()}
    same["bx"][:4] += same["bh"][:4]
    same["bh"][:4] = 0  # r and z only see the sum
    np.testing.assert_allclose(F.gru_forward(**same)[0], h1, rtol=1e-12)


def test_cache_gates_are_r_z_n(rng):
    a = inputs(rng, "gru", 2, 4, 3, 5)
    _, cache = F.gru_forward(**a)
    assert cache.gates.shape == (4, 2, 15)
    r, z, _ = np.split(cache.gates, 3, axis=2)
    assert np.all((0 < r) & (r < 1)) and np.all((0 < z) & (z < 1))
