"""dlkit.gnn: the GCN layer against a dense torch formulation, message passing by hand, and
semi-supervised node classification on the karate club."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dlkit import gnn


def _random(seed: int, n: int = 7, f: int = 5, f_out: int = 3, *, symmetric: bool = False):
    rng = np.random.default_rng(seed)
    a_hat = rng.random((n, n))
    if symmetric:
        a_hat = (a_hat + a_hat.T) / 2
    return (
        a_hat,
        rng.standard_normal((n, f)),
        rng.standard_normal((f, f_out)),
        rng.standard_normal(f_out),
    )


def _torch_grads(torch, a_hat, h, w, b, dout):
    """``a_hat @ h @ w + b`` with autograd, float64: the value and the gradients of
    ``sum(out * dout)`` with respect to h, w and b."""
    th, tw = torch.tensor(h, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = None if b is None else torch.tensor(b, requires_grad=True)
    out = torch.tensor(a_hat) @ th @ tw
    if tb is not None:
        out = out + tb
    (out * torch.tensor(dout)).sum().backward()
    grads = [th.grad.numpy(), tw.grad.numpy(), None if tb is None else tb.grad.numpy()]
    return out.detach().numpy(), grads


@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("with_bias", [True, False])
def test_gcn_layer_and_backward_match_dense_torch(torch, symmetric, with_bias):
    a_hat, h, w, b = _random(0 if symmetric else 1, symmetric=symmetric)
    b = b if with_bias else None
    dout = np.random.default_rng(2).standard_normal((7, 3))
    out, cache = gnn.gcn_layer(a_hat, h, w, b)
    dh, dw, db = gnn.gcn_layer_backward(dout, cache)
    ref_out, (ref_dh, ref_dw, ref_db) = _torch_grads(torch, a_hat, h, w, b, dout)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dh, ref_dh, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-12, atol=1e-12)
    if with_bias:
        np.testing.assert_allclose(db, ref_db, rtol=1e-12, atol=1e-12)
    else:
        assert db is None


def test_backward_transposes_an_asymmetric_a_hat():
    a_hat, h, w, b = _random(3)
    assert not np.allclose(a_hat, a_hat.T)
    dout = np.ones((7, 3))
    dh, _, _ = gnn.gcn_layer_backward(dout, gnn.gcn_layer(a_hat, h, w, b)[1])
    wrong = a_hat @ dout @ w.T  # the misconception: no transpose
    assert not np.allclose(dh, wrong)
    np.testing.assert_allclose(dh, a_hat.T @ dout @ w.T, rtol=1e-12)


def test_gcn_layer_accepts_scipy_sparse():
    sparse = pytest.importorskip("scipy.sparse")
    a_hat, h, w, b = _random(4)
    a_hat[a_hat < 0.6] = 0.0
    dout = np.random.default_rng(5).standard_normal((7, 3))
    dense_out, dense_cache = gnn.gcn_layer(a_hat, h, w, b)
    out, cache = gnn.gcn_layer(sparse.csr_matrix(a_hat), h, w, b)
    np.testing.assert_allclose(out, dense_out, rtol=1e-12)
    for got, want in zip(
        gnn.gcn_layer_backward(dout, cache), gnn.gcn_layer_backward(dout, dense_cache), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_normalized_adjacency_of_a_three_node_path_by_hand():
    # path 0 - 1 - 2; with self loops the degrees are 2, 3, 2
    adj = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float)
    s6 = 1 / np.sqrt(6)
    expected = np.array([[1 / 2, s6, 0], [s6, 1 / 3, s6], [0, s6, 1 / 2]])
    np.testing.assert_allclose(gnn.normalized_adjacency(adj), expected, rtol=1e-14)
    # without self loops: degrees 1, 2, 1
    s2 = 1 / np.sqrt(2)
    no_loops = np.array([[0, s2, 0], [s2, 0, s2], [0, s2, 0]])
    np.testing.assert_allclose(gnn.normalized_adjacency(adj, self_loops=False), no_loops)


def test_normalized_adjacency_isolated_node_without_self_loops_gives_zero_row():
    adj = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = gnn.normalized_adjacency(adj, self_loops=False)
    np.testing.assert_array_equal(out[2], 0.0)


def test_message_passing_by_hand():
    # 0 hears from 1 and 2 (weights 1, 2); 1 hears from 0; 2 hears from nobody
    adj = np.array([[0, 1, 2], [1, 0, 0], [0, 0, 0]], dtype=float)
    h = np.array([[1.0, -1.0], [3.0, 5.0], [-2.0, 4.0]])
    np.testing.assert_allclose(
        gnn.message_passing(adj, h, "sum"), [[3 - 4, 5 + 8], [1, -1], [0, 0]]
    )
    np.testing.assert_allclose(
        gnn.message_passing(adj, h, "mean"), [[-1 / 3, 13 / 3], [1, -1], [0, 0]]
    )
    np.testing.assert_allclose(gnn.message_passing(adj, h, "max"), [[3, 5], [1, -1], [0, 0]])


def test_karate_club():
    g = gnn.karate_club()
    assert g.adjacency.shape == (34, 34) and g.adjacency.dtype == np.float64
    np.testing.assert_array_equal(g.adjacency, g.adjacency.T)
    assert set(np.unique(g.adjacency)) == {0.0, 1.0}
    assert len(g.edges()) == 78 and np.all(np.diag(g.adjacency) == 0)
    assert g.labels.shape == (34,) and set(g.labels) == {0, 1}
    assert g.labels[0] == 0 and g.labels[33] == 1  # the instructor and the administrator
    assert int((g.labels == 0).sum()) == 17
    assert len(g.names) == 34 and g.class_names == ("Mr. Hi", "Officer")


def test_two_communities_is_a_block_model():
    g = gnn.two_communities(200, 0.2, 0.01, rng=np.random.default_rng(0))
    a, y = g.adjacency, g.labels
    np.testing.assert_array_equal(a, a.T)
    assert np.all(np.diag(a) == 0) and np.bincount(y).tolist() == [100, 100]
    same = y[:, None] == y[None, :]
    inside = a[same].sum() / (same.sum() - 200)
    across = a[~same].sum() / (~same).sum()
    assert 0.17 < inside < 0.23 and across < 0.02


def test_sample_train_mask_picks_per_class():
    y = np.array([0, 0, 0, 1, 1, 1, 1])
    mask = gnn.sample_train_mask(y, 2, rng=np.random.default_rng(0))
    assert mask.dtype == bool and np.bincount(y[mask]).tolist() == [2, 2]


def test_train_gcn_reaches_the_layer_only_through_its_arguments():
    calls = {"forward": 0, "backward": 0}

    def counting_layer(a_hat, h, w, b=None):
        calls["forward"] += 1
        return gnn.gcn_layer(a_hat, h, w, b)

    def counting_backward(dout, cache):
        calls["backward"] += 1
        return gnn.gcn_layer_backward(dout, cache)

    g = gnn.karate_club()
    mask = np.zeros(34, dtype=bool)
    mask[[0, 33]] = True
    hooks = {"gcn_layer": counting_layer, "gcn_layer_backward": counting_backward}
    hist = gnn.train_gcn(g, train_mask=mask, epochs=5, **hooks)
    assert calls == {"forward": 3 * 6, "backward": 3 * 5}  # 3 layers, 6 forwards, 5 updates
    calls["forward"] = 0
    hist.predict()
    gnn.hidden_embedding(g, hist.params, layer="embed", gcn_layer=counting_layer)
    assert calls["forward"] == 3 + 2


def test_train_gcn_on_the_karate_club_from_the_two_leaders():
    g = gnn.karate_club()
    mask = np.zeros(34, dtype=bool)
    mask[[0, 33]] = True  # one labelled node per class
    hist = gnn.train_gcn(g, train_mask=mask, seed=0)
    assert len(hist.loss) == 201 and hist.loss[-1] < 0.1 * hist.loss[0]
    assert hist.train_acc[-1] == 1.0
    assert hist.test_acc[-1] >= 0.9
    np.testing.assert_array_equal(hist.predict()[mask], g.labels[mask])
    assert [s["epoch"] for s in hist.snapshots] == list(range(0, 201, 10))
    assert hist.layers == (34, 16, 2, 2)
    emb = gnn.hidden_embedding(g, hist.snapshots[-1]["params"], layer="embed")
    assert emb.shape == (34, 2) and np.all(np.abs(emb) < 1)  # the tanh embedding
    np.testing.assert_allclose(
        gnn.hidden_embedding(g, hist.params, layer="output").argmax(1), hist.predict()
    )
    first = gnn.hidden_embedding(g, hist.snapshots[0]["params"], layer=0)
    assert first.shape == (34, 16) and np.all(first >= 0)


def test_train_gcn_two_layer_and_features():
    g = gnn.two_communities(100, 0.2, 0.02, rng=np.random.default_rng(1))
    mask = gnn.sample_train_mask(g.labels, 2, rng=np.random.default_rng(2))
    hist = gnn.train_gcn(g, train_mask=mask, embed=None, epochs=100, record_every=50)
    assert hist.layers == (100, 16, 2) and hist.test_acc[-1] >= 0.9
    x = np.random.default_rng(3).standard_normal((100, 4))
    hist = gnn.train_gcn(g, train_mask=mask, features=x, epochs=3)
    assert hist.layers[0] == 4 and hist.snapshots[-1]["epoch"] == 3


def test_train_gcn_is_deterministic():
    g = gnn.karate_club()
    mask = gnn.sample_train_mask(g.labels, 2, rng=np.random.default_rng(0))
    a = gnn.train_gcn(g, train_mask=mask, epochs=20, seed=3)
    b = gnn.train_gcn(g, train_mask=mask, epochs=20, seed=3)
    assert a.loss == b.loss


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: gnn.normalized_adjacency(np.ones((2, 3))), "adj"),
        (lambda: gnn.normalized_adjacency(np.array([[0.0, 1.0], [0.0, 0.0]])), "adj"),
        (lambda: gnn.normalized_adjacency(-np.ones((2, 2))), "adj"),
        (lambda: gnn.gcn_layer(np.eye(3), np.ones((4, 2)), np.ones((2, 2))), "h"),
        (lambda: gnn.gcn_layer(np.eye(3), np.ones((3, 2)), np.ones((3, 2))), "w"),
        (lambda: gnn.gcn_layer(np.eye(3), np.ones((3, 2)), np.ones((2, 2)), np.ones(3)), "b"),
        (lambda: gnn.gcn_layer(np.eye(3), np.ones((3, 2), dtype=int), np.ones((2, 2))), "h"),
        (lambda: gnn.gcn_layer([[1, 0]], np.ones((1, 2)), np.ones((2, 2))), "a_hat"),
        (lambda: gnn.gcn_layer_backward(np.ones((3, 2)), (1, 2)), "cache"),
        (lambda: gnn.message_passing(np.eye(2), np.ones((2, 2)), "median"), "aggregate"),
        (lambda: gnn.message_passing(np.eye(2), np.ones((3, 2))), "h"),
        (lambda: gnn.two_communities(10, 1.5, 0.1, rng=np.random.default_rng(0)), "p_in"),
        (lambda: gnn.two_communities(10, 0.5, 0.1, rng=0), "rng"),
        (lambda: gnn.train_gcn(gnn.karate_club(), train_mask=np.ones(5, bool)), "train_mask"),
        (lambda: gnn.train_gcn(np.eye(3), train_mask=np.ones(3, bool)), "graph"),
        (
            lambda: gnn.train_gcn(gnn.karate_club(), train_mask=np.ones(34, bool), hidden=0),
            "hidden",
        ),
        (lambda: gnn.hidden_embedding(gnn.karate_club(), {}, layer=0), "params"),
        (
            lambda: gnn.sample_train_mask(np.array([0, 0, 1, 1]), 2, rng=np.random.default_rng()),
            "per_class",
        ),
    ],
)
def test_argument_errors_name_the_argument(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()
