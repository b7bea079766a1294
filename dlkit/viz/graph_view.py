"""Graph embedding view: where a GCN puts every node of a graph, epoch by epoch.

The left panel draws each node at its embedding in one layer of a GCN trained by
``dlkit.gnn.train_gcn``, recomputed from a recorded snapshot of the parameters with your
``gcn_layer`` (through ``dlkit.gnn.hidden_embedding``): a 2-D layer as it is, a wider one
projected on its first two principal components (one basis for every epoch, so the picture
moves only when the embedding does). Nodes are coloured by their true class, the labelled
(training) nodes ringed, the misclassified ones crossed, and the edges drawn faintly. The
right panel shows the accuracy on the labelled and the other nodes over training, with the
chosen epoch marked. Moving the epoch slider replays how the labels of a few nodes spread
along the edges to the whole graph.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ._student import as_array, check_functions, unpack
from .explorer import Choice, Explorer, Slider, Toggle, legend_beside

__all__ = ["GraphEmbeddingView"]

MARGIN = 0.08  # the view reaches this fraction of the embedding's spread beyond its extremes


def _numpy(value: Any, name: str) -> np.ndarray:
    from ..backend import to_numpy

    try:
        return np.asarray(to_numpy(getattr(value, "data", value)), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers; got {type(value).__name__}") from exc


def _layer_names(widths: Sequence[int]) -> list[str]:
    """One dropdown entry per GCN layer: ``widths`` holds each layer's output width."""
    k = len(widths)
    names = []
    for i, d in enumerate(widths):
        if i == k - 1:
            role = "output"
        elif i == 0:
            role = "hidden"
        elif i == k - 2:
            role = "embed"
        else:
            role = f"layer {i}"
        if i == k - 1:
            shape = f"{d} logits" if d == 2 else f"{d} logits, PCA"
        else:
            shape = f"{d}-D" if d <= 2 else f"{d}-D, PCA"
        names.append(f"{role} ({shape})")
    return names


def _snapshots(history: Any, n_inputs: int) -> tuple[list[int], list[dict], list[int]]:
    """The epochs, the parameter dicts and the layer widths of ``history``'s snapshots."""
    snaps = getattr(history, "snapshots", None)
    if snaps is None:
        raise TypeError(
            "history must be the dlkit.gnn.GCNHistory that train_gcn returns (with "
            f"snapshots and train_mask); got {type(history).__name__}"
        )
    if not isinstance(snaps, Sequence) or len(snaps) < 2:
        got = len(snaps) if isinstance(snaps, Sequence) else type(snaps).__name__
        raise ValueError(
            "history.snapshots must be a list of at least 2 recorded snapshots "
            f"(train_gcn's record_every sets how often); got {got}"
        )
    epochs, params = [], []
    for k, snap in enumerate(snaps):
        if not (isinstance(snap, Mapping) and "epoch" in snap and "params" in snap):
            raise ValueError(
                f"history.snapshots[{k}] must be a dict with 'epoch' and 'params'; "
                f"got {type(snap).__name__}"
            )
        epoch, p = snap["epoch"], snap["params"]
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"history.snapshots[{k}]['epoch'] must be an int >= 0; got {epoch!r}")
        if not isinstance(p, Mapping) or "w0" not in p:
            raise ValueError(
                f"history.snapshots[{k}]['params'] must be a dict of the GCN's weights "
                "{'w0', 'b0', 'w1', ...}"
            )
        epochs.append(int(epoch))
        params.append(dict(p))
    if np.any(np.diff(epochs) <= 0):
        raise ValueError(f"history.snapshots must be in increasing epochs; got {epochs}")
    widths, rows = [], n_inputs
    while f"w{len(widths)}" in params[0]:
        w = np.shape(params[0][f"w{len(widths)}"])
        if len(w) != 2 or w[0] != rows:
            raise ValueError(
                f"history.snapshots[0]['params']['w{len(widths)}'] must have shape ({rows}, d); "
                f"got shape {w}"
            )
        widths.append(int(w[1]))
        rows = w[1]
    for k, p in enumerate(params[1:], start=1):
        for i in range(len(widths)):
            if np.shape(p.get(f"w{i}")) != np.shape(params[0][f"w{i}"]):
                raise ValueError(
                    f"history.snapshots[{k}] has other layer shapes than snapshot 0 "
                    f"(w{i}: {np.shape(p.get(f'w{i}'))} vs {np.shape(params[0][f'w{i}'])})"
                )
    return epochs, params, widths


class GraphEmbeddingView(Explorer):
    """The nodes of a graph at their GCN embedding, over the recorded epochs of training.

    Args:
        graph: the ``dlkit.gnn.Graph`` the GCN was trained on (adjacency, labels).
        history: the ``dlkit.gnn.GCNHistory`` of ``train_gcn``: its ``snapshots`` (at least
            two), ``train_mask`` (the labelled nodes, ringed), ``features`` and the accuracy
            curves ``train_acc`` and ``test_acc``.
        gcn_layer: yours, ``gcn_layer(a_hat, h, w, b) -> (out, cache)``; dlkit's when
            ``None``. Called (through ``dlkit.gnn.hidden_embedding``) on every redraw for
            the chosen layer of the chosen snapshot and for its logits (the predictions).
        names: optional class names for the legend (``names[c]`` for label ``c``); the
            graph's ``class_names`` when ``None``.

    Controls: ``epoch`` (a slider over the recorded epochs, the last one first), ``layer``
    (every GCN layer, input to output: the wide ``hidden`` layer on its principal components,
    the narrow 2-D ``embed`` layer, shown first when there is one, and the ``output`` logits,
    with the line of equal logits, the decision boundary, for two classes) and ``edges``
    (draw the edges or not).
    """

    def __init__(
        self,
        graph: Any,
        history: Any,
        *,
        gcn_layer: Callable[..., Any] | None = None,
        names: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        from .. import gnn

        if not isinstance(graph, gnn.Graph):
            raise TypeError(
                f"graph must be a dlkit.gnn.Graph (e.g. gnn.karate_club()); "
                f"got {type(graph).__name__}"
            )
        self.graph = graph
        n = graph.n_nodes
        check_functions(gcn_layer=gcn_layer)
        self.gcn_layer = gcn_layer
        features = getattr(history, "features", None)
        self.features = None if features is None else _numpy(features, "history.features")
        n_inputs = n if self.features is None else self.features.shape[-1]
        if self.features is None and graph.features is not None:
            n_inputs = np.shape(graph.features)[1]
        if getattr(history, "snapshots", None) is not None:
            mask = np.asarray(getattr(history, "train_mask", None))
            if mask.dtype != bool or mask.shape != (n,):
                raise ValueError(
                    f"history.train_mask must be a bool array of shape ({n},), one entry per "
                    f"node of graph (the graph the GCN was trained on); got dtype {mask.dtype} "
                    f"and shape {mask.shape}"
                )
            self.train_mask = mask
        self.epochs, self.params, widths = _snapshots(history, n_inputs)
        self.labels = np.asarray(graph.labels, dtype=np.int64)
        classes = int(max(graph.n_classes, self.labels.max() + 1))
        if widths[-1] != classes:
            raise ValueError(
                f"the GCN of history outputs {widths[-1]} logits; graph has {classes} classes: "
                "pass the graph it was trained on"
            )
        if names is None:
            names = graph.class_names
        if isinstance(names, str) or not isinstance(names, Sequence) or len(names) < classes:
            raise ValueError(f"names must hold one name per class ({classes}); got {names!r}")
        self.names = [str(s).replace("$", r"\$") for s in names]
        self.curves = {}
        for key in ("train_acc", "test_acc"):
            values = getattr(history, key, None)
            if values is not None:
                self.curves[key] = _numpy(values, f"history.{key}")
        self.widths = widths
        self.layer_names = _layer_names(widths)
        self._views: dict[int, tuple[np.ndarray, np.ndarray, tuple]] = {}  # per layer
        edges = graph.edges()
        self.edges = edges
        k = len(widths)
        first = k - 2 if k >= 2 and widths[k - 2] <= 2 else k - 1  # the 2-D embedding
        controls = {
            "epoch": Slider(
                self.epochs[0], self.epochs[-1], self.epochs[-1], label="epoch", integer=True,
                stops=tuple(float(e) for e in self.epochs),
            ),
            "layer": Choice(tuple(self.layer_names), self.layer_names[first], label="layer"),
            "edges": Toggle(True, label="edges"),
        }  # fmt: skip
        kwargs.setdefault("figsize", (10.5, 4.6))
        super().__init__(controls=controls, **kwargs)

    # -- the computation ----------------------------------------------------------------
    def snapshot(self, epoch: float) -> int:
        """The index of the recorded snapshot nearest to ``epoch``."""
        return int(np.argmin(np.abs(np.asarray(self.epochs) - epoch)))

    def embedding(self, index: int, layer: int) -> np.ndarray:
        """Layer ``layer``'s ``(N, d)`` output at snapshot ``index``, computed with
        ``gcn_layer`` (yours, or dlkit's)."""
        from ..gnn import hidden_embedding

        got = hidden_embedding(
            self.graph, self.params[index], layer=layer, gcn_layer=self._layer_fn(),
            features=self.features,
        )  # fmt: skip
        return as_array(got, f"the layer-{layer} embedding (from gcn_layer)",
                        (self.graph.n_nodes, self.widths[layer]))  # fmt: skip

    def _layer_fn(self) -> Callable[..., Any] | None:
        """Your gcn_layer, its result checked to be ``(out, cache)``; None for dlkit's."""
        fn = self.gcn_layer
        if fn is None:
            return None

        def checked(a_hat: Any, h: Any, w: Any, b: Any = None) -> tuple[Any, Any]:
            out, cache = unpack(fn(a_hat, h, w, b), 2, "gcn_layer", "(out, cache)")
            return out, cache

        return checked

    def view(self, layer: int) -> tuple[np.ndarray, np.ndarray, tuple]:
        """For ``layer``: the centre and ``(d, 2)`` basis of its 2-D picture, fixed across
        epochs (the first two principal components of every snapshot's embedding), and the
        plot limits that hold every snapshot."""
        if layer not in self._views:
            d = self.widths[layer]
            stacked = np.concatenate([self.embedding(i, layer) for i in range(len(self.params))])
            finite = stacked[np.all(np.isfinite(stacked), axis=1)]
            centre = np.zeros(d)
            basis = np.eye(d, 2)
            if d > 2 and len(finite) > 1:
                centre = finite.mean(axis=0)
                _, _, vt = np.linalg.svd(finite - centre, full_matrices=False)
                basis = vt[:2].T
            points = (finite - centre) @ basis if len(finite) else np.zeros((1, 2))
            low, high = points.min(axis=0), points.max(axis=0)
            spread = np.maximum(high - low, 1e-6)
            limits = (low - MARGIN * spread, high + MARGIN * spread)
            self._views[layer] = (centre, basis, limits)
        return self._views[layer]

    # -- the picture --------------------------------------------------------------------
    def draw(self, fig: Figure, *, epoch: int, layer: str, edges: bool) -> None:
        fig.set_layout_engine("none")  # fixed margins: the same values give the same pixels
        index = self.snapshot(epoch)
        k = len(self.widths)
        which = self.layer_names.index(layer)
        emb = self.embedding(index, which)  # the student's gcn_layer: may be unwritten
        logits = emb if which == k - 1 else self.embedding(index, k - 1)
        centre, basis, (low, high) = self.view(which)
        xy = (emb - centre) @ basis
        shown = np.all(np.isfinite(xy), axis=1)
        finite_logits = np.all(np.isfinite(logits), axis=1)
        predicted = np.where(finite_logits, np.nan_to_num(logits).argmax(axis=1), -1)
        wrong = predicted != self.labels
        ax = fig.add_axes((0.06, 0.12, 0.45, 0.74))
        ax_acc = fig.add_axes((0.69, 0.12, 0.17, 0.74))
        if edges and len(self.edges):
            pair = self.edges[shown[self.edges].all(axis=1)]
            segments = np.stack([xy[pair[:, 0]], xy[pair[:, 1]]], axis=1)
            ax.add_collection(LineCollection(segments, colors="0.55", linewidths=0.6,
                                             alpha=0.35, zorder=1))  # fmt: skip
        for c in range(len(self.names)):
            pick = shown & (self.labels == c)
            if pick.any():
                ax.scatter(xy[pick, 0], xy[pick, 1], s=36, color=f"C{c % 10}", zorder=3,
                           edgecolors="none", label=self.names[c])  # fmt: skip
        ringed = shown & self.train_mask
        ax.scatter(xy[ringed, 0], xy[ringed, 1], s=110, facecolors="none", edgecolors="k",
                   linewidths=1.2, zorder=4, label="labelled (train)")  # fmt: skip
        crossed = shown & wrong
        ax.scatter(xy[crossed, 0], xy[crossed, 1], s=24, marker="x", color="k", linewidths=1.1,
                   zorder=5, label="misclassified")  # fmt: skip
        if which == k - 1 and self.widths[which] == 2:  # equal logits: the decision boundary
            ends = [min(low[0], low[1]), max(high[0], high[1])]
            ax.plot(ends, ends, color="0.5", lw=0.8, ls="--", zorder=0, label="boundary")
        legend_beside(ax, fontsize=7, title="true class", title_fontsize=7)
        ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]))
        d = self.widths[which]
        if d > 2:
            ax.set(xlabel="principal component 1", ylabel="principal component 2")
        elif which == k - 1 and d == 2:
            ax.set(xlabel=f"logit of {self.names[0]}", ylabel=f"logit of {self.names[1]}")
        else:
            ax.set(xlabel="unit 1", ylabel="unit 2" if d == 2 else "")
        test = ~self.train_mask
        acc = f"{np.mean(~wrong[test]):.0%}" if test.any() else "no test nodes"
        lost = "" if shown.all() else f", {int((~shown).sum())} nodes not finite"
        ax.set_title(
            f"epoch {self.epochs[index]}, {layer}: {int(wrong.sum())} misclassified, "
            f"test accuracy {acc}{lost}",
            fontsize=10,
        )
        self._draw_accuracy(ax_acc, self.epochs[index])

    def _draw_accuracy(self, ax: Any, epoch: int) -> None:
        styles = {"train_acc": ("labelled nodes", "-"), "test_acc": ("other nodes", "--")}
        for key, values in self.curves.items():
            label, ls = styles[key]
            ax.plot(np.arange(len(values)), values, color="C2" if key == "train_acc" else "C4",
                    ls=ls, lw=1.3, label=label)  # fmt: skip
        ax.axvline(epoch, color="k", lw=0.8, ls=":")
        ax.set(xlim=(0, max(self.epochs[-1], 1)), ylim=(-0.03, 1.03), xlabel="epoch",
               ylabel="accuracy")  # fmt: skip
        ax.set_title("accuracy over training", fontsize=10)
        if self.curves:
            legend_beside(ax, fontsize=7)
