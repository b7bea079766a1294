"""Graph neural networks in NumPy: message passing, the GCN layer and node classification.

A graph of ``N`` nodes is an adjacency matrix ``A`` (``A[i, j] > 0`` when node ``i`` hears
from node ``j``) and one feature row per node, ``H`` of shape ``(N, F)``. One round of
*message passing* gives every node an aggregate (sum, mean or max) of its neighbours' rows
(:func:`message_passing`). The graph convolution of Kipf & Welling (2017) averages each
node's neighbourhood, the node included, with the symmetric weights of
:func:`normalized_adjacency`, ``A_hat = D^-1/2 (A + I) D^-1/2``, then mixes the features
with one weight matrix shared by all nodes, ``out = A_hat @ H @ W + b`` (:func:`gcn_layer`,
backward in :func:`gcn_layer_backward`).

:func:`train_gcn` stacks such layers for semi-supervised node classification (only the
nodes of ``train_mask`` have known labels) on a :class:`Graph`: Zachary's karate club from
networkx (:func:`karate_club`, no download) or a generated two-block graph
(:func:`two_communities`). The training loop reaches the layer only through its
``gcn_layer`` and ``gcn_layer_backward`` arguments, so a notebook trains with its own
functions; :func:`hidden_embedding` recomputes a layer's node embedding from a recorded
snapshot the same way.

Everything is float64 NumPy; random choices take an explicit ``rng`` or ``seed``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validate import check_generator, check_labels, check_shape, check_size
from .backend import describe

__all__ = [
    "Graph",
    "GCNHistory",
    "normalized_adjacency",
    "gcn_layer",
    "gcn_layer_backward",
    "message_passing",
    "karate_club",
    "two_communities",
    "sample_train_mask",
    "train_gcn",
    "hidden_embedding",
]

_AGGREGATES = ("sum", "mean", "max")


# -- graphs ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Graph:
    """A graph for node classification.

    Attributes:
        adjacency: ``(N, N)`` float64, symmetric, ``1`` where two nodes are joined, no self
            loops.
        labels: ``(N,)`` integer class of every node, in ``[0, C)``.
        names: one display name per node.
        class_names: one name per class.
        features: optional ``(N, F)`` float64 node features; ``None`` means "no features",
            and the GCN then reads the identity (every node its own one-hot row).
    """

    adjacency: np.ndarray
    labels: np.ndarray
    names: tuple[str, ...]
    class_names: tuple[str, ...]
    features: np.ndarray | None = None

    @property
    def n_nodes(self) -> int:
        """The number of nodes ``N``."""
        return int(self.adjacency.shape[0])

    @property
    def n_classes(self) -> int:
        """The number of classes ``C``."""
        return len(self.class_names)

    def edges(self) -> np.ndarray:
        """The undirected edges as an ``(E, 2)`` int array of pairs ``i < j``."""
        i, j = np.nonzero(np.triu(self.adjacency, k=1))
        return np.stack([i, j], axis=1)

    def __repr__(self) -> str:
        return (
            f"Graph({self.n_nodes} nodes, {len(self.edges())} edges, "
            f"classes {list(self.class_names)})"
        )


def _square(adj: Any, name: str) -> np.ndarray:
    """``adj`` as a float64 square NumPy array; clear errors otherwise."""
    if _is_sparse(adj):
        adj = adj.toarray()
    if isinstance(adj, (list, tuple)):
        adj = np.asarray(adj, dtype=np.float64)
    if not isinstance(adj, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of shape (N, N); got {describe(adj)}")
    if adj.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers; got dtype {adj.dtype}")
    adj = adj.astype(np.float64, copy=False)
    if adj.ndim != 2 or adj.shape[0] != adj.shape[1]:
        raise ValueError(f"{name} must be a square (N, N) matrix; got shape {adj.shape}")
    if not np.all(np.isfinite(adj)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(adj < 0):
        raise ValueError(f"{name} must be non-negative (edge weights); got min {adj.min():g}")
    return adj


def _is_sparse(x: Any) -> bool:
    sp = sys.modules.get("scipy.sparse")  # only if scipy is loaded already: import stays fast
    return sp is not None and sp.issparse(x)


def normalized_adjacency(adj: Any, *, self_loops: bool = True) -> np.ndarray:
    """The GCN's propagation matrix ``D^-1/2 (A + I) D^-1/2``.

    Adding ``I`` lets every node keep its own features; dividing by ``sqrt(d_i d_j)``, with
    ``d`` the degrees of ``A + I``, keeps repeated propagation from blowing up or vanishing
    (the largest eigenvalue of the result is 1).

    Args:
        adj: ``(N, N)`` symmetric, non-negative adjacency (edge weights); a scipy.sparse
            matrix is densified.
        self_loops: add ``I`` first (the GCN's "renormalisation trick"). Without it a node
            of degree 0 gets a zero row.

    Returns:
        ``(N, N)`` float64, symmetric.
    """
    a = _square(adj, "adj")
    if not np.allclose(a, a.T, rtol=0, atol=1e-12):
        raise ValueError(
            "adj must be symmetric (an undirected graph); got adj[i, j] != adj[j, i]. "
            "Symmetrise it first, e.g. np.maximum(adj, adj.T)"
        )
    if not isinstance(self_loops, bool):
        raise TypeError(f"self_loops must be True or False; got {self_loops!r}")
    if self_loops:
        a = a + np.eye(a.shape[0])
    deg = a.sum(axis=1)
    inv_sqrt = np.zeros_like(deg)
    np.divide(1.0, np.sqrt(deg), out=inv_sqrt, where=deg > 0)
    return inv_sqrt[:, None] * a * inv_sqrt[None, :]


# -- the layer -------------------------------------------------------------------------------
def _float2d(x: Any, name: str) -> np.ndarray:
    if isinstance(x, (list, tuple)):
        x = np.asarray(x, dtype=np.float64)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array; got {describe(x)}")
    if x.dtype.kind != "f":
        raise TypeError(
            f"{name} must hold floating-point numbers; got dtype {x.dtype}. "
            f"Convert it first, e.g. {name}.astype(np.float64)"
        )
    return x


def gcn_layer(a_hat: Any, h: Any, w: Any, b: Any = None) -> tuple[np.ndarray, tuple]:
    """Forward pass of a graph convolution: ``out = a_hat @ h @ w (+ b)``.

    Args:
        a_hat: ``(N, N)`` propagation matrix (usually :func:`normalized_adjacency`); a dense
            array or a scipy.sparse matrix. Any matrix works: nothing here assumes symmetry.
        h: ``(N, F)`` node features.
        w: ``(F, F')`` weights, shared by every node.
        b: ``(F',)`` bias, or ``None`` for none.

    Returns:
        ``(out, cache)``: ``out`` of shape ``(N, F')``; ``cache = (a_hat, h, w, b)`` for
        :func:`gcn_layer_backward`.
    """
    if not _is_sparse(a_hat):
        a_hat = _float2d(a_hat, "a_hat")
    h, w = _float2d(h, "h"), _float2d(w, "w")
    sizes = check_shape(a_hat, "a_hat", ("N", "N"), names=("N", "N"))
    check_shape(h, "h", ("N", "F"), names=("N", "F"), sizes=sizes)
    check_shape(w, "w", ("F", None), names=("F", "F'"), sizes=sizes)
    out = a_hat @ h @ w  # (N, F'): average the neighbours, then mix the features
    if b is not None:
        b = _float2d(b, "b")
        check_shape(b, "b", (w.shape[1],), names=("F'",))
        out = out + b
    return np.asarray(out), (a_hat, h, w, b)


def gcn_layer_backward(dout: Any, cache: tuple) -> tuple[np.ndarray, np.ndarray, Any]:
    """Backward pass of :func:`gcn_layer`.

    Args:
        dout: upstream gradient ``dL/dout``, shape ``(N, F')``.
        cache: ``(a_hat, h, w, b)`` from the forward pass.

    Returns:
        ``(dh, dw, db)``: ``dh = a_hat.T @ dout @ w.T`` of shape ``(N, F)`` (a node's
        features reach every node that listens to it, hence the transpose),
        ``dw = (a_hat @ h).T @ dout`` of shape ``(F, F')`` and ``db = dout.sum(0)`` of shape
        ``(F',)``, or ``None`` when the layer had no bias.
    """
    if not (isinstance(cache, tuple) and len(cache) == 4):
        raise TypeError("cache must be the (a_hat, h, w, b) tuple returned by gcn_layer")
    a_hat, h, w, b = cache
    dout = _float2d(dout, "dout")
    check_shape(dout, "dout", (h.shape[0], w.shape[1]), names=("N", "F'"))
    dh = np.asarray(a_hat.T @ (dout @ w.T))  # (N, F)
    dw = np.asarray(a_hat @ h).T @ dout  # (F, F')
    db = None if b is None else dout.sum(axis=0)  # (F',)
    return dh, dw, db


def message_passing(adj: Any, h: Any, aggregate: str = "sum") -> np.ndarray:
    """One round of neighbour aggregation: every node collects its neighbours' features.

    Row ``i`` of the result aggregates the rows ``h[j]`` of the nodes with ``adj[i, j] > 0``
    (the node itself only if ``adj`` has a self loop):

    * ``"sum"``: ``adj @ h``, the sum weighted by the edge weights;
    * ``"mean"``: that sum divided by the total edge weight of row ``i`` (the plain mean
      for a 0/1 adjacency);
    * ``"max"``: the element-wise maximum over the neighbours (edge weights ignored).

    A node without neighbours gets a zero row.

    Args:
        adj: ``(N, N)`` non-negative adjacency; it need not be symmetric (row ``i`` lists
            whom node ``i`` hears from).
        h: ``(N, F)`` node features.
        aggregate: ``"sum"``, ``"mean"`` or ``"max"``.

    Returns:
        ``(N, F)`` float64.
    """
    a = _square(adj, "adj")
    h = _float2d(h, "h")
    check_shape(h, "h", (a.shape[0], None), names=("N", "F"))
    if aggregate not in _AGGREGATES:
        raise ValueError(f"aggregate must be one of {_AGGREGATES}; got {aggregate!r}")
    if aggregate == "sum":
        return a @ h
    if aggregate == "mean":
        total = a.sum(axis=1, keepdims=True)
        out = np.zeros((a.shape[0], h.shape[1]))
        np.divide(a @ h, total, out=out, where=total > 0)
        return out
    neighbour = a > 0  # (N, N)
    stacked = np.where(neighbour[:, :, None], h[None, :, :], -np.inf)  # (N, N, F)
    out = stacked.max(axis=1)
    out[~neighbour.any(axis=1)] = 0.0
    return out


# -- data ------------------------------------------------------------------------------------
def karate_club() -> Graph:
    """Zachary's karate club (34 members, 78 friendships), as networkx ships it.

    The club split in two after a dispute; ``labels`` says which side each member joined
    (networkx's ``"club"`` attribute: 0 for ``"Mr. Hi"``, the instructor, node 0; 1 for
    ``"Officer"``, the administrator, node 33). The adjacency is unweighted (0/1).
    """
    import networkx as nx

    g = nx.karate_club_graph()
    n = g.number_of_nodes()
    adj = np.zeros((n, n))
    for i, j in g.edges():
        adj[i, j] = adj[j, i] = 1.0
    classes = ("Mr. Hi", "Officer")
    labels = np.array([classes.index(g.nodes[i]["club"]) for i in range(n)])
    names = tuple(
        "Mr. Hi" if i == 0 else "Officer" if i == n - 1 else f"member {i}" for i in range(n)
    )
    return Graph(adj, labels, names, classes)


def two_communities(n: int, p_in: float, p_out: float, *, rng: np.random.Generator) -> Graph:
    """A stochastic block model: two communities, dense inside, sparse between.

    Nodes ``0 .. n//2 - 1`` form community 0 and the rest community 1; each pair inside a
    community is joined with probability ``p_in``, each pair across with ``p_out``.

    Args:
        n: the number of nodes (>= 4).
        p_in, p_out: edge probabilities in ``[0, 1]``.
        rng: a ``numpy.random.Generator``.
    """
    n = check_size(n, "n")
    if n < 4:
        raise ValueError(f"n must be >= 4 (two communities of two); got {n}")
    for name, p in (("p_in", p_in), ("p_out", p_out)):
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)):
            raise TypeError(f"{name} must be a probability (a float); got {p!r}")
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"{name} must be in [0, 1]; got {p!r}")
    rng = check_generator(rng)
    labels = (np.arange(n) >= n // 2).astype(int)
    same = labels[:, None] == labels[None, :]
    prob = np.where(same, float(p_in), float(p_out))
    upper = np.triu(rng.random((n, n)) < prob, k=1)
    adj = (upper | upper.T).astype(np.float64)
    names = tuple(f"node {i}" for i in range(n))
    return Graph(adj, labels, names, ("community 0", "community 1"))


def sample_train_mask(labels: Any, per_class: int, *, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask that labels ``per_class`` randomly chosen nodes of every class.

    Args:
        labels: ``(N,)`` integer classes.
        per_class: how many labelled nodes per class (each class must have more).
        rng: a ``numpy.random.Generator``.

    Returns:
        ``(N,)`` bool, ``True`` on the chosen nodes.
    """
    labels = np.asarray(labels)
    labels = check_labels(labels, "labels", labels.shape[0] if labels.ndim == 1 else -1)
    per_class = check_size(per_class, "per_class")
    rng = check_generator(rng)
    mask = np.zeros(labels.shape[0], dtype=bool)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if per_class >= len(members):
            raise ValueError(
                f"per_class={per_class} leaves no test node of class {c} "
                f"({len(members)} nodes): choose fewer"
            )
        mask[rng.choice(members, size=per_class, replace=False)] = True
    return mask


# -- training --------------------------------------------------------------------------------
@dataclass
class GCNHistory:
    """What :func:`train_gcn` recorded.

    Attributes:
        loss, train_acc, test_acc: ``epochs + 1`` values, entry ``e`` measured after ``e``
            updates (entry 0 is the untrained network); ``test_acc`` on the nodes outside
            ``train_mask``.
        snapshots: ``[{"epoch": e, "params": {name: array}}, ...]``: copies of the parameters
            after ``e`` updates, every ``record_every`` epochs, from 0 to the last.
        params: the final parameters ``{"w0", "b0", "w1", "b1", ...}``.
        train_mask: the labelled nodes.
        layers: the width of every layer, input first, e.g. ``(34, 16, 2, 2)``.
        graph, features: what it was trained on; gcn_layer: the layer function it used
            (``None`` for this module's), which :meth:`predict` uses too.
        seconds: wall-clock time of the training.
    """

    loss: list[float]
    train_acc: list[float]
    test_acc: list[float]
    snapshots: list[dict[str, Any]]
    params: dict[str, np.ndarray]
    train_mask: np.ndarray
    layers: tuple[int, ...]
    graph: Graph = field(repr=False)
    features: np.ndarray = field(repr=False)
    gcn_layer: Callable[..., Any] | None = field(default=None, repr=False)
    seconds: float = 0.0

    def predict(self, params: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """The predicted class of every node, ``(N,)``, with ``params`` (the final ones)."""
        chosen = self.params if params is None else params
        logits = hidden_embedding(
            self.graph, chosen, layer=-1, gcn_layer=self.gcn_layer, features=self.features
        )
        return logits.argmax(axis=1)


def _features(graph: Graph, features: Any) -> np.ndarray:
    n = graph.n_nodes
    if features is None:
        features = graph.features
    if features is None:
        return np.eye(n)
    x = _float2d(features, "features")
    check_shape(x, "features", (n, None), names=("N", "F"))
    return x


def _n_layers(params: dict[str, np.ndarray]) -> int:
    if not isinstance(params, dict):
        raise TypeError(
            f"params must be a dict of arrays {{'w0', 'b0', ...}}; got {describe(params)}"
        )
    k = 0
    while f"w{k}" in params:
        k += 1
    if k == 0:
        raise ValueError("params must hold the weights 'w0', 'w1', ... of a GCN; found none")
    return k


def _forward(
    a_hat: np.ndarray,
    x: np.ndarray,
    params: dict[str, np.ndarray],
    layer_fn: Callable[..., Any],
    upto: int | None = None,
) -> tuple[list[np.ndarray], list[Any]]:
    """Every layer's output and the caches of the layers (activations: :func:`_activation`)."""
    from .functional import relu

    k = _n_layers(params)
    upto = k - 1 if upto is None else upto
    h, outs, caches = x, [], []
    for i in range(upto + 1):
        z, cache = layer_fn(a_hat, h, params[f"w{i}"], params.get(f"b{i}"))
        z = np.asarray(z, dtype=np.float64)
        act = _activation(i, k)
        h = relu(z) if act == "relu" else np.tanh(z) if act == "tanh" else z
        outs.append(h)
        caches.append((cache, z))
    return outs, caches


def _activation(i: int, k: int) -> str:
    """Layer ``i`` of ``k``: none on the logits, tanh on the embedding layer, else ReLU."""
    if i == k - 1:
        return "none"
    if k >= 3 and i == k - 2:
        return "tanh"
    return "relu"


def train_gcn(
    graph: Graph,
    *,
    features: Any = None,
    train_mask: Any,
    hidden: int = 16,
    embed: int | None = 2,
    epochs: int = 200,
    lr: float = 0.01,
    weight_decay: float = 5e-4,
    seed: int = 0,
    gcn_layer: Callable[..., Any] | None = None,
    gcn_layer_backward: Callable[..., Any] | None = None,
    record_every: int = 10,
) -> GCNHistory:
    """Semi-supervised node classification with a GCN, trained full-batch with Adam.

    The network: ``features -> relu(gcn, hidden) [-> tanh(gcn, embed)] -> gcn, C`` logits,
    every layer ``a_hat @ h @ w + b`` with ``a_hat = normalized_adjacency(graph.adjacency)``.
    ``embed`` adds a narrow layer (2 units by default) whose output is directly a 2-D picture
    of the nodes; it uses tanh, not ReLU, because a ReLU on two units collapses many nodes
    onto 0 (up to 21 of the 34 karate-club nodes in our runs). ``embed=None`` gives Kipf & Welling's
    two-layer GCN. The loss is the softmax
    cross-entropy of the labelled nodes only, yet every node's prediction improves: the
    propagation carries the labels' information along the edges.

    Weights start Glorot-normal (``rng = np.random.default_rng(seed)``), biases at 0. Adam
    (``lr``) updates them; ``weight_decay`` is an L2 penalty on the weights (not the biases),
    added to their gradient as ``torch.optim.Adam``'s ``weight_decay`` does.

    Args:
        graph: a :class:`Graph`.
        features: ``(N, F)`` node features; ``None`` uses ``graph.features`` or, if that is
            ``None`` too, the identity (each node its own one-hot feature).
        train_mask: ``(N,)`` bool, the nodes whose labels the loss sees.
        hidden: width of the first layer; embed: width of the optional second layer.
        epochs: full-batch updates; lr: Adam's step size; weight_decay: L2 strength.
        seed: seeds the initial weights.
        gcn_layer, gcn_layer_backward: the layer's forward and backward (default: this
            module's, looked up at call time). The loop reaches the layer only through them.
        record_every: keep a snapshot of the parameters every this many epochs.

    Returns:
        a :class:`GCNHistory`.
    """
    import time

    from .functional import relu_backward, softmax_cross_entropy, tanh_backward
    from .init import xavier_init
    from .optim import Adam

    if not isinstance(graph, Graph):
        raise TypeError(f"graph must be a dlkit.gnn.Graph; got {describe(graph)}")
    module = sys.modules[__name__]
    layer_fn = module.gcn_layer if gcn_layer is None else gcn_layer
    backward_fn = module.gcn_layer_backward if gcn_layer_backward is None else gcn_layer_backward
    for name, fn in (("gcn_layer", layer_fn), ("gcn_layer_backward", backward_fn)):
        if not callable(fn):
            raise TypeError(f"{name} must be a function; got {describe(fn)}")
    n = graph.n_nodes
    mask = np.asarray(train_mask)
    if mask.dtype != bool or mask.shape != (n,):
        raise ValueError(
            f"train_mask must be a bool array of shape ({n},) (one entry per node); "
            f"got {describe(train_mask)}"
        )
    if not mask.any():
        raise ValueError("train_mask must select at least one node")
    hidden = check_size(hidden, "hidden")
    if embed is not None:
        embed = check_size(embed, "embed", " or None")
    epochs = check_size(epochs, "epochs")
    record_every = check_size(record_every, "record_every")
    for name, v in (("lr", lr), ("weight_decay", weight_decay)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or v < 0:
            raise ValueError(f"{name} must be a number >= 0; got {v!r}")
    if lr == 0:
        raise ValueError("lr must be > 0")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int; got {seed!r}")

    start = time.perf_counter()
    x = _features(graph, features)
    a_hat = normalized_adjacency(graph.adjacency)
    y = graph.labels
    n_classes = int(max(graph.n_classes, y.max() + 1))
    widths = (x.shape[1], hidden, *(() if embed is None else (embed,)), n_classes)
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {}
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        params[f"w{i}"] = xavier_init(fan_in, fan_out, rng=rng)
        params[f"b{i}"] = np.zeros(fan_out)
    k = len(widths) - 1
    weights = [params[f"w{i}"] for i in range(k)]
    biases = [params[f"b{i}"] for i in range(k)]
    opt_w = Adam(weights, lr=lr, weight_decay=weight_decay)  # updates the arrays in place
    opt_b = Adam(biases, lr=lr)
    test = ~mask

    history = GCNHistory([], [], [], [], params, mask.copy(), widths, graph, x, gcn_layer)

    def snapshot(epoch: int) -> None:
        history.snapshots.append(
            {"epoch": epoch, "params": {name: p.copy() for name, p in params.items()}}
        )

    for epoch in range(epochs + 1):
        outs, caches = _forward(a_hat, x, params, layer_fn)
        logits = outs[-1]
        pred = logits.argmax(axis=1)
        loss, dlogits_train = softmax_cross_entropy(logits[mask], y[mask])
        history.loss.append(float(loss))
        history.train_acc.append(float(np.mean(pred[mask] == y[mask])))
        history.test_acc.append(float(np.mean(pred[test] == y[test])) if test.any() else np.nan)
        if epoch % record_every == 0 or epoch == epochs:
            snapshot(epoch)
        if epoch == epochs:
            break
        d = np.zeros_like(logits)
        d[mask] = dlogits_train
        gw: list[Any] = [None] * k
        gb: list[Any] = [None] * k
        for i in reversed(range(k)):
            cache, z = caches[i]
            act = _activation(i, k)
            if act == "relu":
                d = relu_backward(d, z)
            elif act == "tanh":
                d = tanh_backward(d, z)
            dh, gw[i], gb[i] = backward_fn(d, cache)
            d = np.asarray(dh, dtype=np.float64)
        opt_w.step([np.asarray(g, dtype=np.float64) for g in gw])
        opt_b.step([np.asarray(g, dtype=np.float64) for g in gb])
    history.seconds = time.perf_counter() - start
    return history


def hidden_embedding(
    graph: Graph,
    params: dict[str, np.ndarray],
    *,
    layer: int | str,
    gcn_layer: Callable[..., Any] | None = None,
    features: Any = None,
) -> np.ndarray:
    """The node embedding of one layer of a trained (or snapshot) GCN of :func:`train_gcn`.

    Args:
        graph: the :class:`Graph` it was trained on.
        params: ``{"w0", "b0", ...}``, e.g. ``history.params`` or a snapshot's ``"params"``.
        layer: which layer's output: an index (``0`` the first hidden layer, ``-1`` the
            logits), or ``"hidden"`` (layer 0), ``"embed"`` (the layer before the logits)
            or ``"output"`` (the logits).
        gcn_layer: the layer's forward (default: this module's, looked up at call time).
        features: the features the network was trained with (default as in
            :func:`train_gcn`: ``graph.features`` or the identity).

    Returns:
        ``(N, d)`` float64: the activations of a hidden layer (ReLU, or tanh for the
        ``embed`` layer), the logits for the output.
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"graph must be a dlkit.gnn.Graph; got {describe(graph)}")
    k = _n_layers(params)
    names = {"hidden": 0, "embed": k - 2, "output": k - 1}
    if isinstance(layer, str):
        if layer not in names or names[layer] < 0:
            raise ValueError(f"layer must be an int or one of {sorted(names)}; got {layer!r}")
        index = names[layer]
    elif isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        if not -k <= layer < k:
            raise ValueError(f"layer={layer} is out of range for a GCN of {k} layers")
        index = int(layer) % k
    else:
        raise TypeError(f"layer must be an int or a layer name; got {layer!r}")
    layer_fn = sys.modules[__name__].gcn_layer if gcn_layer is None else gcn_layer
    if not callable(layer_fn):
        raise TypeError(f"gcn_layer must be a function; got {describe(layer_fn)}")
    x = _features(graph, features)
    a_hat = normalized_adjacency(graph.adjacency)
    outs, _ = _forward(a_hat, x, params, layer_fn, upto=index)
    return outs[index]
