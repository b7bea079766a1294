"""Unit 15's graph embedding view: the karate club's nodes where a GCN puts them.

It must recompute each snapshot's embedding with the student's gcn_layer (dlkit's when none
is given) through dlkit.gnn.hidden_embedding, project a wide layer on principal components
with one basis for every epoch, colour the nodes by their true class, ring the labelled nodes,
cross the misclassified ones, draw the edges on request, and say clearly what is wrong with a
malformed history or a gcn_layer that is unwritten or returns the wrong thing.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection

from dlkit import gnn
from dlkit.viz.explorer import Explorer
from dlkit.viz.graph_view import GraphEmbeddingView
from tests.viz.conftest import Spy

CELL = "/tmp/ipykernel_4242/1519.py"  # how ipykernel names a notebook cell's code


@functools.cache
def trained(embed: int | None = 2) -> tuple[gnn.Graph, gnn.GCNHistory]:
    graph = gnn.karate_club()
    mask = gnn.sample_train_mask(graph.labels, 2, rng=np.random.default_rng(0))
    history = gnn.train_gcn(graph, train_mask=mask, embed=embed, epochs=40, record_every=10)
    return graph, history


def scatters(e: GraphEmbeddingView) -> dict[str, np.ndarray]:
    """The offsets of each scatter of the embedding panel, by its legend label."""
    ax = e.figure.axes[0]
    return {c.get_label(): np.asarray(c.get_offsets()) for c in ax.collections
            if isinstance(c, PathCollection)}  # fmt: skip


def positions(e: GraphEmbeddingView, graph: gnn.Graph) -> np.ndarray:
    """Every node's drawn position, (N, 2), from the per-class scatters."""
    got = scatters(e)
    xy = np.full((graph.n_nodes, 2), np.nan)
    for c, name in enumerate(graph.class_names):
        xy[graph.labels == c] = got[name]
    return xy


def test_it_is_an_explorer_with_epoch_layer_and_edges():
    graph, history = trained()
    e = GraphEmbeddingView(graph, history)
    assert isinstance(e, Explorer)
    assert list(e.controls) == ["epoch", "layer", "edges"]
    assert e.controls["epoch"].stops == (0.0, 10.0, 20.0, 30.0, 40.0)
    assert e.values["epoch"] == 40  # the trained network first
    assert e.controls["layer"].options == ("hidden (16-D, PCA)", "embed (2-D)", "output (2 logits)")
    assert e.values["layer"] == "embed (2-D)" and e.values["edges"] is True


def test_the_students_gcn_layer_gives_the_drawn_embedding():
    graph, history = trained()
    spy = Spy(gnn.gcn_layer)
    e = GraphEmbeddingView(graph, history, gcn_layer=spy)
    e.update(epoch=20)
    a_hat = spy.calls[-1][0]
    np.testing.assert_allclose(a_hat, gnn.normalized_adjacency(graph.adjacency))
    snap = history.snapshots[2]["params"]
    expected = gnn.hidden_embedding(graph, snap, layer=1, features=history.features)
    np.testing.assert_allclose(positions(e, graph), expected)
    e.update(layer="output (2 logits)")
    expected = gnn.hidden_embedding(graph, snap, layer="output", features=history.features)
    np.testing.assert_allclose(positions(e, graph), expected)
    assert e.figure.axes[0].get_xlabel() == "logit of Mr. Hi"


def test_a_wide_layer_is_projected_on_one_basis_for_every_epoch():
    graph, history = trained()
    e = GraphEmbeddingView(graph, history, gcn_layer=gnn.gcn_layer)
    e.update(layer="hidden (16-D, PCA)", epoch=10)
    centre, basis, _ = e.view(0)
    assert basis.shape == (16, 2)
    np.testing.assert_allclose(basis.T @ basis, np.eye(2), atol=1e-12)  # orthonormal
    every = np.concatenate(
        [gnn.hidden_embedding(graph, s["params"], layer=0) for s in history.snapshots]
    )
    np.testing.assert_allclose(centre, every.mean(axis=0))
    first = positions(e, graph)
    emb = gnn.hidden_embedding(graph, history.snapshots[1]["params"], layer=0)
    np.testing.assert_allclose(first, (emb - centre) @ basis)
    e.update(epoch=40)
    assert e.view(0)[1] is basis  # the same basis, computed once
    assert not np.allclose(positions(e, graph), first)  # the nodes moved
    assert "principal component 1" in e.figure.axes[0].get_xlabel()


def test_the_limits_hold_every_epoch():
    graph, history = trained()
    e = GraphEmbeddingView(graph, history)
    limits = []
    for epoch in (0, 20, 40):
        e.update(epoch=epoch)
        ax = e.figure.axes[0]
        limits.append((ax.get_xlim(), ax.get_ylim()))
        xy = positions(e, graph)
        assert np.all(xy[:, 0] >= ax.get_xlim()[0]) and np.all(xy[:, 0] <= ax.get_xlim()[1])
        assert np.all(xy[:, 1] >= ax.get_ylim()[0]) and np.all(xy[:, 1] <= ax.get_ylim()[1])
    assert limits[0] == limits[1] == limits[2]


def test_labelled_nodes_are_ringed_and_misclassified_ones_crossed():
    graph, history = trained()
    e = GraphEmbeddingView(graph, history)
    for epoch, k in ((0, 0), (40, 4)):
        e.update(epoch=epoch)
        got, xy = scatters(e), positions(e, graph)
        np.testing.assert_allclose(got["labelled (train)"], xy[history.train_mask])
        wrong = history.predict(history.snapshots[k]["params"]) != graph.labels
        np.testing.assert_allclose(got["misclassified"], xy[wrong].reshape(-1, 2))
        assert f"{int(wrong.sum())} misclassified" in e.figure.axes[0].get_title()
        test = ~history.train_mask
        accuracy = np.mean(~wrong[test])
        assert f"test accuracy {accuracy:.0%}" in e.figure.axes[0].get_title()
    assert np.isclose(history.test_acc[-1], accuracy)


def test_the_edges_are_drawn_faintly_on_request():
    graph, history = trained()
    e = GraphEmbeddingView(graph, history)
    (lines,) = [c for c in e.figure.axes[0].collections if isinstance(c, LineCollection)]
    assert len(lines.get_segments()) == len(graph.edges()) == 78
    assert lines.get_alpha() < 0.5
    e.update(edges=False)
    assert not [c for c in e.figure.axes[0].collections if isinstance(c, LineCollection)]


def test_the_accuracy_panel_marks_the_epoch():
    graph, history = trained()
    e = GraphEmbeddingView(graph, history)
    e.update(epoch=30)
    lines = e.figure.axes[1].get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), history.train_acc)
    np.testing.assert_allclose(lines[1].get_ydata(), history.test_acc)
    assert lines[2].get_xdata()[0] == 30


def test_a_two_layer_gcn_shows_its_logits_first():
    graph, history = trained(embed=None)
    e = GraphEmbeddingView(graph, history)
    assert e.controls["layer"].options == ("hidden (16-D, PCA)", "output (2 logits)")
    assert e.values["layer"] == "output (2 logits)"
    e.update(layer="hidden (16-D, PCA)", epoch=0)
    assert e.error is None


def test_class_names_can_be_given():
    graph, history = trained()
    e = GraphEmbeddingView(graph, history, names=["instructor", "administrator"])
    assert {"instructor", "administrator"} <= set(scatters(e))


def test_an_unwritten_gcn_layer_says_write_it_first():
    graph, history = trained()
    namespace: dict = {}
    source = "def gcn_layer(a_hat, h, w, b=None):\n    raise NotImplementedError()\n"
    exec(compile(source, CELL, "exec"), namespace)
    e = GraphEmbeddingView(graph, history, gcn_layer=namespace["gcn_layer"])
    assert e.error == "write `gcn_layer` first (it still raises NotImplementedError)"
    assert e.png().startswith(b"\x89PNG")
    assert "write `gcn_layer` first" in e.widget().children[2].value


def test_wrong_returns_raise_clear_errors_and_nan_is_said():
    graph, history = trained()
    with pytest.raises(ValueError, match=r"gcn_layer must return \(out, cache\)"):
        GraphEmbeddingView(graph, history, gcn_layer=lambda a, h, w, b=None: a @ h @ w)

    def nan_layer(a_hat, h, w, b=None):
        return np.full((h.shape[0], w.shape[1]), np.nan), None

    e = GraphEmbeddingView(graph, history, gcn_layer=nan_layer)
    assert "34 nodes not finite" in e.figure.axes[0].get_title()


def test_static_fallback_shows_the_figure():
    graph, history = trained()
    assert GraphEmbeddingView(graph, history).show(static=True) is None


def _history(**changes):
    _, history = trained()
    fields = {
        "snapshots": history.snapshots,
        "train_mask": history.train_mask,
        "features": history.features,
        "train_acc": history.train_acc,
        "test_acc": history.test_acc,
    }
    return SimpleNamespace(**{**fields, **changes})


@pytest.mark.parametrize(
    "graph, history, kwargs, error, match",
    [
        ("adjacency", None, {}, TypeError, "graph must be a dlkit.gnn.Graph"),
        (None, [1, 2], {}, TypeError, "history must be the dlkit.gnn.GCNHistory"),
        (None, _history(snapshots=[]), {}, ValueError, "at least 2 recorded snapshots"),
        (None, _history(snapshots=[{"epoch": 0}] * 2), {}, ValueError, r"snapshots\[0\]"),
        (None, "reversed", {}, ValueError, "increasing epochs"),
        (None, _history(train_mask=np.ones(34)), {}, ValueError, "train_mask must be a bool"),
        (None, _history(features=np.eye(34, 5)), {}, ValueError, r"w0'\] must have shape"),
        (None, None, {"names": ["one"]}, ValueError, "one name per class"),
        (None, None, {"gcn_layer": "mine"}, TypeError, "gcn_layer"),
    ],
)
def test_bad_arguments_raise_clear_errors(graph, history, kwargs, error, match):
    karate, trained_history = trained()
    if history == "reversed":
        history = _history(snapshots=trained_history.snapshots[::-1])
    with pytest.raises(error, match=match):
        GraphEmbeddingView(karate if graph is None else graph, history or trained_history, **kwargs)


def test_a_history_of_another_graph_is_refused():
    _, history = trained()
    other = gnn.two_communities(34, 0.3, 0.05, rng=np.random.default_rng(0))
    blocks = gnn.Graph(other.adjacency, other.labels, other.names, ("a", "b", "c"))
    with pytest.raises(ValueError, match="3 classes"):
        GraphEmbeddingView(blocks, history)
