"""dlkit.autograd rnn, lstm, gru, embedding, sequence_cross_entropy, last_step."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.autograd as A
import dlkit.functional as F
from dlkit.autograd import Tensor
from dlkit.testing import assert_close, check_directional


def leaf(a):
    return Tensor(a, requires_grad=True)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_ops_give_the_kernel_gradients(rng, kind):
    g = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    arrays = [rng.standard_normal(s) * 0.5 for s in [(2, 3, 4), (2, 5), (4, 5 * g), (5, 5 * g)]]
    arrays += [rng.standard_normal(5 * g) for _ in range(2 if kind == "gru" else 1)]
    leaves = [leaf(a) for a in arrays]
    out = getattr(A, kind)(*leaves)
    ref, cache = getattr(F, f"{kind}_forward")(*arrays)
    assert_close(out.data, ref, name=kind)
    dout = rng.standard_normal(ref.shape)
    (out * Tensor(dout)).sum().backward()
    for t, expected in zip(leaves, getattr(F, f"{kind}_backward")(dout, cache), strict=True):
        assert_close(t.grad, expected, name="grad")


def test_char_model_end_to_end_gradient(rng):
    """embedding -> lstm -> last_step and the full sequence -> affine -> masked loss."""
    ids, targets = rng.integers(0, 6, (2, 4)), rng.integers(0, 6, (2, 4))
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], dtype=bool)
    emb, wx, wh = (
        rng.standard_normal((6, 3)),
        rng.standard_normal((3, 8)),
        rng.standard_normal((2, 8)),
    )
    b, w, c = rng.standard_normal(8), rng.standard_normal((2, 6)), rng.standard_normal(2)

    def loss_of(emb_):
        x = A.embedding(ids, leaf(emb_))
        h = A.lstm(x, Tensor(np.zeros((2, 2))), leaf(wx), leaf(wh), leaf(b))
        logits = A.reshape(A.matmul(A.reshape(h, (8, 2)), leaf(w)), (2, 4, 6))
        tail = A.sum(A.mul(A.last_step(h), Tensor(c)))
        return A.add(A.sequence_cross_entropy(logits, targets, mask), tail)

    t_emb = leaf(emb)
    x = A.embedding(ids, t_emb)
    h = A.lstm(x, Tensor(np.zeros((2, 2))), leaf(wx), leaf(wh), leaf(b))
    logits = A.reshape(A.matmul(A.reshape(h, (8, 2)), leaf(w)), (2, 4, 6))
    tail = A.sum(A.mul(A.last_step(h), Tensor(c)))
    A.add(A.sequence_cross_entropy(logits, targets, mask), tail).backward()
    check_directional(lambda e: loss_of(e).data, emb.copy(), t_emb.grad, rng=rng, name="dW")


def test_lstm_hands_back_the_last_cell(rng):
    cell = []
    x, h0 = rng.standard_normal((2, 3, 4)), np.zeros((2, 5))
    wx, wh, b = rng.standard_normal((4, 20)), rng.standard_normal((5, 20)), np.zeros(20)
    A.lstm(Tensor(x), Tensor(h0), Tensor(wx), Tensor(wh), Tensor(b), cell_out=cell)
    _, cache = F.lstm_forward(x, h0, wx, wh, b)
    assert_close(cell[0], cache.cs[-1], name="c_n")
