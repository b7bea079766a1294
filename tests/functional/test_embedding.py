"""dlkit.functional embedding_forward / embedding_backward."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.functional as F
from dlkit.testing import check_gradient

from ._reference import expect_like, expect_numpy


def test_lookup_and_scatter_add_with_repeated_ids(rng):
    w = rng.standard_normal((5, 3))
    ids = np.array([[0, 2, 2], [4, 2, 0]])
    out, cache = F.embedding_forward(ids, w)
    expect_numpy(out, (2, 3, 3), np.float64)
    np.testing.assert_array_equal(out[0, 1], w[2])
    dout = rng.standard_normal((2, 3, 3))
    dw = F.embedding_backward(dout, cache)
    expected = np.zeros_like(w)
    for (n, t), v in np.ndenumerate(ids):
        expected[v] += dout[n, t]
    np.testing.assert_allclose(dw, expected, rtol=1e-12)
    assert np.all(dw[[1, 3]] == 0)  # ids that never occur get no gradient

    def loss(w_):
        return float(np.sum(F.embedding_forward(ids, w_)[0] * dout))

    check_gradient(loss, w.copy(), dw, name="dW")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch_embedding(torch, device, rng, dtype):
    tdtype = getattr(torch, dtype)
    w_np = rng.standard_normal((7, 4))
    ids_np = rng.integers(0, 7, (3, 5))
    ids_np[0, :3] = 6  # repeats
    ref_w = torch.tensor(w_np, dtype=tdtype, device=device, requires_grad=True)
    ids = torch.tensor(ids_np, device=device)
    ref = torch.nn.functional.embedding(ids, ref_w)
    dout = torch.tensor(rng.standard_normal((3, 5, 4)), dtype=tdtype, device=device)
    ref.backward(dout)
    out, cache = F.embedding_forward(ids, ref_w.detach().clone())
    expect_like(out, ref)
    expect_like(F.embedding_backward(dout, cache), ref_w.grad)


def test_bad_input(rng):
    w = rng.standard_normal((5, 3))
    with pytest.raises(TypeError, match=r"ids must hold integers.*float64"):
        F.embedding_forward(np.array([0.0, 1.0]), w)
    with pytest.raises(TypeError, match=r"ids must hold integers.*bool"):
        F.embedding_forward(np.array([True]), w)
    with pytest.raises(ValueError, match=r"ids must hold ids in \[0, 5\).*from 0 to 5"):
        F.embedding_forward(np.array([0, 5]), w)
    with pytest.raises(ValueError, match=r"ids must hold ids in \[0, 5\).*from -1"):
        F.embedding_forward(np.array([-1, 2]), w)
    with pytest.raises(ValueError, match=r"W must be 2-D with shape \(V, D\).*\(5,\)"):
        F.embedding_forward(np.array([0]), w[:, 0])
    _, cache = F.embedding_forward(np.array([[0, 1]]), w)
    with pytest.raises(ValueError, match=r"dout must have shape .* = \(1, 2, 3\); got shape"):
        F.embedding_backward(np.zeros((2, 3)), cache)
