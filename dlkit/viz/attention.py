"""Unit 10's widgets: attention weights as heatmaps, and a 2-D query/key playground."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ._student import as_array, check_functions, printable, unpack
from .explorer import Choice, Explorer, Slider

__all__ = ["AttentionHeatmaps", "QueryKeyPlayground", "attention_layers"]

MAX_LABELS = 32  # more tokens than this on an axis: label every k-th
MAX_HEADS = 16  # the "all" grid shows at most this many heads
TOL = 1e-5  # softmax rows must sum to 1 (or 0) within this


# -- AttentionHeatmaps ------------------------------------------------------------------------


def attention_layers(model: Any) -> list[tuple[str, Any]]:
    """Every ``MultiHeadAttention`` inside ``model``, in attribute order, with its attribute path
    (``"encoder.0.attn"``, ``"decoder.1.cross_attn"``); the model itself is ``""``."""
    from ..nn import Module
    from ..nn.attention import MultiHeadAttention

    if not isinstance(model, Module):
        raise TypeError(f"model must be a dlkit.nn.Module; got {type(model).__name__}")
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()

    def walk(module: Any, path: str) -> None:
        if id(module) in seen:
            return
        seen.add(id(module))
        if isinstance(module, MultiHeadAttention):
            found.append((path, module))
            return
        for name, value in vars(module).items():
            items = list(enumerate(value)) if isinstance(value, (list, tuple)) else [(None, value)]
            for index, child in items:
                if isinstance(child, Module):
                    sub = name if index is None else f"{name}.{index}"
                    walk(child, f"{path}.{sub}" if path else sub)

    walk(model, "")
    return found


def _run_model(model: Any, inputs: Any) -> dict[str, np.ndarray]:
    """Run ``model`` once on ``inputs`` and collect each attention layer's ``last_weights``."""
    from ..backend import to_numpy

    layers = attention_layers(model)
    if not layers:
        raise ValueError(f"model ({type(model).__name__}) holds no MultiHeadAttention layer")
    for _, layer in layers:
        layer.last_weights = None
    if isinstance(inputs, Mapping):
        model(**inputs)
    elif isinstance(inputs, tuple):
        model(*inputs)
    else:
        model(inputs)
    found = {
        name or "attention": np.array(to_numpy(layer.last_weights), dtype=np.float64)
        for name, layer in layers
        if layer.last_weights is not None
    }
    if not found:
        raise ValueError(
            "running the model on inputs used none of its MultiHeadAttention layers "
            f"({[name for name, _ in layers]})"
        )
    return found


def _check_weights(name: str, w: Any) -> np.ndarray:
    from ..backend import to_numpy

    try:
        a = np.array(to_numpy(w), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"weights[{name!r}] must be an array of numbers; got {w!r}") from exc
    if a.ndim in (2, 3):
        a = a.reshape((1,) * (4 - a.ndim) + a.shape)
    if a.ndim != 4 or min(a.shape) < 1:
        raise ValueError(
            f"weights[{name!r}] must have shape (N, heads, Tq, Tk) (or (heads, Tq, Tk), "
            f"(Tq, Tk)); got shape {np.shape(w)}"
        )
    if not np.all(np.isfinite(a)):
        raise ValueError(f"weights[{name!r}] must be finite; it holds NaN or infinity")
    if a.min() < -TOL:
        raise ValueError(f"weights[{name!r}] must be >= 0 (softmax rows); its minimum is {a.min()}")
    sums = a.sum(axis=-1)
    bad = ~((np.abs(sums - 1.0) <= TOL) | (np.abs(sums) <= TOL))
    if bad.any():
        n, h, i = (int(x) for x in np.argwhere(bad)[0])
        raise ValueError(
            f"weights[{name!r}] rows must sum to 1 over the keys (the last axis), or to 0 for a "
            f"query with no allowed key; row (example {n}, head {h}, query {i}) sums to "
            f"{sums[n, h, i]:.4g}. Is the array (N, heads, Tq, Tk) with keys last?"
        )
    return a


def _labels(given: Any, name: str) -> list[str] | None:
    """Tick labels: a string is its characters; anything else one label per item."""
    if given is None:
        return None
    try:
        items = list(given)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of tokens; got {given!r}") from None
    return [printable(t) for t in items]


class AttentionHeatmaps(Explorer):
    """Attention weights as heatmaps: rows are queries, columns are keys, one panel per head.

    Args:
        weights: the attention weights of each layer, ``(N, heads, Tq, Tk)`` arrays (a
            ``(heads, Tq, Tk)`` or ``(Tq, Tk)`` array is one example): a list (layers named
            ``"layer 0"``, ...), or a dict ``name -> array``. Every row must be a softmax
            distribution over the keys (sum 1), or all zeros (a query with no allowed key).
        model, inputs: instead of ``weights``, a dlkit model and what to call it with:
            ``model(inputs)``, ``model(*inputs)`` for a tuple (e.g. ``(src_ids, tgt_ids)`` of a
            ``Seq2SeqTransformer``) or ``model(**inputs)`` for a dict. The model runs once;
            every ``MultiHeadAttention`` inside it (found through its attributes and lists of
            modules, in order) gives its ``last_weights``, named by attribute path, e.g.
            ``"encoder.0.attn"`` or ``"decoder.0.cross_attn"``.
        tokens: the key tokens (the column labels); query_tokens: the query tokens (the row
            labels), ``tokens`` when ``None``. A layer's keys are labelled with whichever of
            ``tokens`` and ``query_tokens`` (in that order) has ``Tk`` entries, its queries with
            whichever of ``query_tokens`` and ``tokens`` has ``Tq``, else by position: so one
            ``tokens=source, query_tokens=target`` labels an encoder-decoder's self- and
            cross-attention alike.
        layer_names: names for a list of ``weights`` (or to rename the model's layers).

    Controls: ``layer``; ``head``: ``"all"`` (a grid of every head), ``"mean"`` (their
    average) or one head; ``example``: the batch index (only when ``N > 1``).
    """

    def __init__(
        self,
        weights: Any = None,
        *,
        model: Any = None,
        inputs: Any = None,
        tokens: Sequence[Any] | None = None,
        query_tokens: Sequence[Any] | None = None,
        layer_names: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if (weights is None) == (model is None):
            raise TypeError(
                "give either weights (a list or dict of (N, heads, Tq, Tk) arrays) or "
                "model and inputs, not " + ("both" if weights is not None else "neither")
            )
        if model is not None:
            if inputs is None:
                raise TypeError("model needs inputs: what to call it with once")
            weights = _run_model(model, inputs)
        elif inputs is not None:
            raise TypeError("inputs are only used with model; weights were given")
        if isinstance(weights, Mapping):
            names, arrays = [str(k) for k in weights], list(weights.values())
        elif isinstance(weights, (list, tuple)):
            names, arrays = [f"layer {k}" for k in range(len(weights))], list(weights)
        else:
            arrays, names = [weights], ["layer 0"]
        if not arrays:
            raise ValueError("weights must hold at least one layer; got none")
        if layer_names is not None:
            layer_names = [str(n) for n in layer_names]
            if len(layer_names) != len(arrays):
                raise ValueError(
                    f"layer_names must have one name per layer, {len(arrays)}; got "
                    f"{len(layer_names)}"
                )
            names = layer_names
        if len(set(names)) != len(names):
            raise ValueError(f"layer_names must be distinct; got {names}")
        self.weights = {n: _check_weights(n, a) for n, a in zip(names, arrays, strict=True)}
        shapes = {n: a.shape for n, a in self.weights.items()}
        if len({s[:2] for s in shapes.values()}) > 1:
            raise ValueError(
                "every layer's weights must have the same N (examples) and heads; got shapes "
                f"{shapes}"
            )
        self.examples, self.heads = next(iter(shapes.values()))[:2]
        self.tokens = _labels(tokens, "tokens")
        self.query_tokens = _labels(query_tokens, "query_tokens")
        for name, given in (("tokens", self.tokens), ("query_tokens", self.query_tokens)):
            sizes = {s[2] for s in shapes.values()} | {s[3] for s in shapes.values()}
            if given is not None and len(given) not in sizes:
                raise ValueError(
                    f"{name} has {len(given)} entries, which fits no layer: their (Tq, Tk) are "
                    f"{sorted({s[2:] for s in shapes.values()})}"
                )
        controls: dict[str, Any] = {
            "layer": Choice(tuple(self.weights), names[0], label="layer"),
            "head": Choice(
                ("all", "mean", *(str(h) for h in range(self.heads))),
                "all" if self.heads > 1 else "0",
                label="head",
            ),
        }
        if self.examples > 1:
            controls["example"] = Slider(0, self.examples - 1, 0, label="example", integer=True)
        kwargs.setdefault("figsize", (8.0, 6.4))
        super().__init__(controls=controls, **kwargs)

    def labels(self, layer: str) -> tuple[list[str], list[str]]:
        """The (query, key) tick labels of ``layer``."""
        _, _, tq, tk = self.weights[layer].shape
        keys = next((t for t in (self.tokens, self.query_tokens) if t and len(t) == tk), None)
        queries = next((t for t in (self.query_tokens, self.tokens) if t and len(t) == tq), None)
        return queries or [str(i) for i in range(tq)], keys or [str(j) for j in range(tk)]

    def panels(self, layer: str, head: str, example: int = 0) -> list[tuple[str, np.ndarray]]:
        """What is drawn: ``(title, (Tq, Tk) weights)`` per panel."""
        w = self.weights[layer][example]  # (heads, Tq, Tk)
        if head == "mean":
            return [(f"mean of {self.heads} heads", w.mean(axis=0))]
        if head == "all":
            return [(f"head {h}", w[h]) for h in range(min(self.heads, MAX_HEADS))]
        return [(f"head {head}", w[int(head)])]

    def draw(self, fig: Figure, *, layer: str, head: str, example: int = 0) -> None:
        panels = self.panels(layer, head, example)
        queries, keys = self.labels(layer)
        cols = math.ceil(math.sqrt(len(panels)))
        rows = math.ceil(len(panels) / cols)
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        vmax = max(max(float(w.max()) for _, w in panels), 1e-12)
        image = None
        for k, ax in enumerate(axes):
            if k >= len(panels):
                ax.axis("off")
                continue
            title, w = panels[k]
            image = ax.imshow(w, cmap="viridis", vmin=0.0, vmax=vmax, interpolation="nearest",
                              aspect="auto")  # fmt: skip
            ax.set_title(title, fontsize=9)
            size = 7 if len(panels) > 1 else 8
            bottom, left = k + cols >= len(panels), k % cols == 0  # the outer panels: labels
            self._ticks(ax.set_xticks, keys, size, rotate=True, show=bottom)
            self._ticks(ax.set_yticks, queries, size, rotate=False, show=left)
            if bottom:
                ax.set_xlabel("key", fontsize=8)
            if left:
                ax.set_ylabel("query", fontsize=8)
        bar = fig.colorbar(image, ax=list(axes[: len(panels)]), shrink=0.9)
        bar.set_label("attention weight", fontsize=8)
        bar.ax.tick_params(labelsize=7)
        shown = "" if self.heads <= MAX_HEADS or head != "all" else f" (first {MAX_HEADS})"
        where = f", example {example}" if self.examples > 1 else ""
        fig.suptitle(
            f"{printable(layer)}: {len(queries)} queries x {len(keys)} keys, "
            f"{self.heads} heads{shown}{where}",
            fontsize=10,
        )

    @staticmethod
    def _ticks(setter: Any, labels: list[str], size: int, *, rotate: bool, show: bool) -> None:
        every = -(-len(labels) // MAX_LABELS)
        ticks = np.arange(0, len(labels), every)
        if not show:
            setter(ticks, [""] * len(ticks))
            return
        setter(ticks, [labels[t] for t in ticks], fontsize=size, rotation=90 if rotate else 0)


# -- QueryKeyPlayground -----------------------------------------------------------------------

#: The default keys, in the plane, and their scalar values.
DEFAULT_KEYS: dict[str, tuple[float, float]] = {
    "a": (2.0, 0.4), "b": (0.6, 1.8), "c": (-1.6, 1.0), "d": (-1.0, -1.6), "e": (1.4, -1.4),
}  # fmt: skip
DEFAULT_VALUES = (1.0, 2.0, 3.0, 4.0, 5.0)
MATCH = "your attention matches softmax(q k^T / sqrt(d))"
AXIS = "softmax over the query axis? take it over the keys (the last axis)"
DIFFER = "your weights differ from softmax(q k^T / sqrt(d))"


def _softmax(scores: np.ndarray, allowed: np.ndarray, axis: int) -> np.ndarray:
    """Softmax along ``axis`` over the ``allowed`` entries; 0 elsewhere and on empty slices."""
    s = np.where(allowed, scores, -np.inf)
    top = np.max(s, axis=axis, keepdims=True)
    e = np.where(allowed, np.exp(s - np.where(np.isfinite(top), top, 0.0)), 0.0)
    total = e.sum(axis=axis, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


class QueryKeyPlayground(Explorer):
    """Your ``attention`` on a tiny 2-D example: a few keys in the plane, a query you steer.

    Panel 1: the keys (labelled arrows) and the query ``q``; panel 2: your attention weights
    as bars, with ``softmax(q k^T / sqrt(d))`` as dots; panel 3: your output, the weighted
    average of the values. The title says whether your weights match the softmax, and if
    not, the likely slip (a missing ``1/sqrt(d)``, a softmax over the query axis, an ignored
    mask).

    Args:
        attention: yours, ``attention(q, k, v, mask=None) -> (out, cache)`` with ``q``
            ``(Tq, d)``, ``k`` ``(Tk, d)``, ``v`` ``(Tk, dv)`` and a boolean ``mask``
            ``(Tq, Tk)`` (True = may attend; passed only when a key is masked); dlkit's
            ``scaled_dot_product_attention`` when ``None``. The weights are read from your
            ``out``, not your cache: it is called with ``v`` the identity ``(Tk, Tk)``, so that
            ``out = weights``; a second call with the real values gives the output shown.
            ``q`` holds the shown query and two fixed probe queries (drawn with ``seed``),
            which make the diagnosis work even where the shown query is 0.
        keys: ``(Tk, 2)`` points (labelled ``a, b, ...``) or a dict ``label -> (x, y)``;
            five fixed keys when ``None``.
        values: ``(Tk,)`` numbers, or ``(Tk, 3)`` RGB colours in [0, 1]; ``1 .. Tk`` when
            ``None``.
        seed: for the probe queries.

    Controls: the query's ``angle`` (degrees) and ``length``, ``sharpness`` (multiplies ``q``,
    as an inverse temperature) and ``mask`` (a key to mask out, or ``"none"``).
    """

    def __init__(
        self,
        attention: Callable[..., Any] | None = None,
        *,
        keys: Any = None,
        values: Any = None,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        from .. import functional as F
        from ..backend import to_numpy

        check_functions(attention=attention)
        self.attention = attention or F.scaled_dot_product_attention
        if keys is None:
            keys = DEFAULT_KEYS
            values = DEFAULT_VALUES if values is None else values
        if isinstance(keys, Mapping):
            self.key_labels = [str(k) for k in keys]
            keys = list(keys.values())
        else:
            keys = to_numpy(keys) if not isinstance(keys, list) else keys
            self.key_labels = [chr(ord("a") + j) if j < 26 else str(j) for j in range(len(keys))]
        try:
            k = np.array(keys, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"keys must be (Tk, 2) numbers; got {keys!r}") from exc
        if k.ndim != 2 or k.shape[1] != 2 or not 2 <= k.shape[0] <= 26:
            raise ValueError(f"keys must have shape (Tk, 2) with 2 <= Tk <= 26; got {k.shape}")
        if not np.all(np.isfinite(k)):
            raise ValueError("keys must be finite")
        if len(set(self.key_labels)) != len(k) or "none" in self.key_labels:
            raise ValueError(f"keys' labels must be distinct and not 'none'; got {self.key_labels}")
        self.shown_labels = [printable(label) for label in self.key_labels]  # for matplotlib
        self.keys = k
        tk = len(k)
        if values is None:
            values = np.arange(1.0, tk + 1.0)
        try:
            v = np.array(to_numpy(values) if not isinstance(values, (list, tuple)) else values,
                         dtype=np.float64)  # fmt: skip
        except (TypeError, ValueError) as exc:
            raise TypeError(f"values must be numbers; got {values!r}") from exc
        if v.shape not in ((tk,), (tk, 3)):
            raise ValueError(
                f"values must have shape (Tk,) = ({tk},) (numbers) or (Tk, 3) = ({tk}, 3) (RGB "
                f"colours); got {v.shape}"
            )
        if not np.all(np.isfinite(v)):
            raise ValueError("values must be finite")
        if v.ndim == 2 and (v.min() < 0 or v.max() > 1):
            raise ValueError("values as colours must be RGB in [0, 1]")
        self.values_ = v.reshape(tk, -1)  # (Tk, dv)
        self.colours = v.ndim == 2
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int; got {seed!r}")
        rng = np.random.default_rng(seed)
        angles = rng.uniform(0, 2 * np.pi, size=2)
        self.probes = 1.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (2, 2)
        self.radius = max(float(np.abs(k).max()), 3.0) * 1.15
        controls = {
            "angle": Slider(-180.0, 180.0, 30.0, step=5.0, label="query angle"),
            "length": Slider(0.0, 3.0, 1.5, step=0.05, label="query length"),
            "sharpness": Slider(0.1, 10.0, 1.0, label="sharpness", log=True),
            "mask": Choice(("none", *self.key_labels), "none", label="mask key"),
        }
        kwargs.setdefault("figsize", (10.0, 4.2))
        super().__init__(controls=controls, **kwargs)

    # -- the computation --------------------------------------------------------------
    def query(self, angle: float, length: float) -> np.ndarray:
        t = math.radians(angle)
        return np.array([length * math.cos(t), length * math.sin(t)])

    def compute(
        self, angle: float = 30.0, length: float = 1.5, sharpness: float = 1.0, mask: str = "none"
    ) -> dict[str, Any]:
        """Run ``attention`` and compare it with the softmax.

        Returns ``"weights"`` ``(Tk,)`` (yours, for the shown query), ``"reference"``
        ``(Tk,)`` (``softmax(q k^T / sqrt(d))``), ``"out"`` ``(dv,)`` (your output),
        ``"matches"`` (bool) and ``"hint"`` (what the title says).
        """
        tk, d = len(self.keys), 2
        q = sharpness * np.vstack([self.query(angle, length), self.probes])  # (3, 2)
        allowed = np.ones((len(q), tk), dtype=bool)
        if mask != "none":
            allowed[:, self.key_labels.index(mask)] = False
        kwargs = {} if allowed.all() else {"mask": allowed.copy()}
        with np.errstate(all="ignore"):
            w = self._call(q, np.eye(tk), kwargs, "attention's out for v = identity (Tk, Tk)")
            out = self._call(q, self.values_, kwargs, "attention's out")
            scores = q @ self.keys.T
            ref = _softmax(scores / math.sqrt(d), allowed, axis=-1)
            hint, ok = self._diagnose(w, out, scores, allowed, ref)
        return {"weights": w[0], "reference": ref[0], "out": out[0], "matches": ok, "hint": hint,
                "allowed": allowed[0]}  # fmt: skip

    def _call(self, q: np.ndarray, v: np.ndarray, kwargs: dict, name: str) -> np.ndarray:
        """The student's ``out`` for these ``q`` and ``v``, copied (it may be a reused buffer)."""
        got = self.attention(q.copy(), self.keys.copy(), v.copy(), **kwargs)
        out = unpack(got, 2, "attention", "(out, cache)")[0]
        return np.array(as_array(out, name, (len(q), v.shape[1])))

    def _diagnose(
        self, w: np.ndarray, out: np.ndarray, scores: np.ndarray, allowed: np.ndarray,
        ref: np.ndarray,
    ) -> tuple[str, bool]:  # fmt: skip
        d = 2

        def close(a: np.ndarray) -> bool:
            return bool(np.allclose(w, a, atol=1e-6, rtol=1e-5))

        if not np.all(np.isfinite(w)):
            if not np.all(np.isfinite(w[allowed])):
                return "your weights hold NaN or infinity", False
            w = np.where(allowed, w, 0.0)  # NaN at masked keys only: e.g. a column of -inf
            if any(close(_softmax(scores * c, allowed, axis=0)) for c in (1 / math.sqrt(d), 1.0)):
                return f"{AXIS} (and NaN at the masked key)", False
            return (
                "your weights hold NaN or infinity at the masked key: it must get weight 0",
                False,
            )
        if close(ref):
            if not np.allclose(out, w @ self.values_, atol=1e-6, rtol=1e-5):
                return "your weights match the softmax, but your out is not weights @ v", False
            return MATCH, True
        sums = w.sum(axis=-1)
        if close(_softmax(scores, allowed, axis=-1)):
            return f"{DIFFER}: missing 1/sqrt(d)?", False
        if close(_softmax(scores / d, allowed, axis=-1)):
            return f"{DIFFER}: divided by d, not sqrt(d)?", False
        if any(close(_softmax(scores * c, allowed, axis=0)) for c in (1 / math.sqrt(d), 1.0)):
            return f"your weights sum to {sums[0]:.3g}, not 1: {AXIS}", False
        if not allowed.all():
            everything = np.ones_like(allowed)
            for scale in (1.0 / math.sqrt(d), 1.0):
                if close(_softmax(scores * scale, everything, axis=-1)):
                    return "your weights ignore the mask: a masked key must get weight 0", False
        if not np.allclose(sums, 1.0, atol=1e-6):
            return (
                f"{DIFFER}: they sum to {sums[0]:.3g}, not 1",
                False,
            )
        gap = float(np.abs(w - ref).max())
        return f"your weights differ from softmax(q k^T / sqrt(d)) by up to {gap:.3g}", False

    # -- the picture --------------------------------------------------------------------
    def draw(
        self, fig: Figure, *, angle: float, length: float, sharpness: float, mask: str
    ) -> None:
        r = self.compute(angle, length, sharpness, mask)
        fig.set_layout_engine("none")  # fixed margins: the same values give the same pixels
        ax_plane, ax_w, ax_out = fig.subplots(1, 3, gridspec_kw=dict(width_ratios=(1.1, 1, 0.8),
                                              left=0.05, right=0.98, bottom=0.13, top=0.8,
                                              wspace=0.3))  # fmt: skip
        tk = len(self.keys)
        colours = self._key_colours()
        w = np.nan_to_num(r["weights"], nan=0.0, posinf=0.0, neginf=0.0)
        # panel 1: the plane
        lim = self.radius
        ax_plane.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
        ax_plane.axhline(0, color="0.85", lw=0.8, zorder=0)  # background: labels may sit on it
        ax_plane.axvline(0, color="0.85", lw=0.8, zorder=0)
        for j, (x, y) in enumerate(self.keys):
            masked = not r["allowed"][j]
            colour = "0.7" if masked else colours[j]
            width = 0.6 + 3.0 * min(max(float(w[j]), 0.0), 1.0)
            ax_plane.annotate("", (x, y), (0, 0), arrowprops=dict(arrowstyle="->", color=colour,
                              lw=width, ls="--" if masked else "-"))  # fmt: skip
            label = self.shown_labels[j] + (" (masked)" if masked else "")
            ax_plane.text(x * 1.08, y * 1.08, label, fontsize=9, color=colour, ha="center",
                          va="center")  # fmt: skip
        qx, qy = self.query(angle, length)
        ax_plane.annotate("", (qx, qy), (0, 0),
                          arrowprops=dict(arrowstyle="-|>", color="k", lw=2.2))  # fmt: skip
        ax_plane.plot([qx], [qy], "k.", ms=4)
        ax_plane.set_title(f"keys and query q: angle {angle:.0f} deg, length {length:.2f}",
                           fontsize=9)  # fmt: skip
        ax_plane.tick_params(labelsize=7)
        # panel 2: the weights
        shown = np.arange(tk)
        ax_w.bar(shown, w, color=colours, label="your weights")
        ax_w.plot(shown, r["reference"], "o", color="k", ms=4, label="softmax(q k^T / sqrt(d))")
        ax_w.set_xticks(shown, self.shown_labels, fontsize=8)
        top = max(1.4, float(w.max()) * 1.4 if w.size else 1.4)  # room for the legend above
        ax_w.set(ylim=(min(0.0, float(w.min()) * 1.1), top), xlim=(-0.6, tk - 0.4))
        ax_w.tick_params(labelsize=7)
        ax_w.legend(fontsize=7, loc="upper left")
        ax_w.set_title(f"weights, sharpness {sharpness:.3g} (sum {w.sum():.3g})", fontsize=9)
        # panel 3: the output
        self._draw_output(ax_out, r, colours)
        colour = "k" if r["matches"] else "#b00"
        fig.suptitle(r["hint"], fontsize=10, color=colour)

    def _key_colours(self) -> list[Any]:
        if self.colours:
            return [tuple(c) for c in self.values_]
        return [f"C{j % 10}" for j in range(len(self.keys))]

    def _draw_output(self, ax: Any, r: Mapping[str, Any], colours: list[Any]) -> None:
        out = np.nan_to_num(r["out"], nan=0.0, posinf=0.0, neginf=0.0)
        tk = len(self.keys)
        if self.colours:
            ax.imshow(self.values_[None, :, :], extent=(-0.5, tk - 0.5, 1.6, 2.4))
            ax.imshow(np.clip(out, 0, 1)[None, None, :], extent=(tk / 2 - 1.5, tk / 2 + 0.5,
                      -0.2, 1.2))  # fmt: skip
            ax.set_xticks(np.arange(tk), self.shown_labels, fontsize=8)
            ax.set(xlim=(-0.6, tk - 0.4), ylim=(-0.4, 2.6), aspect="auto")
            ax.set_yticks([0.5, 2.0], ["out", "values"], fontsize=8)
            rgb = ", ".join(f"{c:.2f}" for c in out)
            ax.set_title(f"output: weighted colour\n({rgb})", fontsize=9)
            return
        v = self.values_[:, 0]
        ax.scatter(np.zeros(tk), v, c=colours, s=30 + 200 * np.clip(np.nan_to_num(
                   r["weights"]), 0, 1), zorder=3)  # fmt: skip
        for j in range(tk):
            ax.text(0.12, v[j], f"{self.shown_labels[j]} = {v[j]:.3g}", fontsize=8, va="center")
        ax.plot([-0.3, 0.08], [out[0], out[0]], color="k", lw=2.5)  # ends left of the labels
        ax.text(-0.35, out[0], f"out {out[0]:.3g}", fontsize=8, ha="right", va="center")
        span = max(float(np.ptp(v)), 1.0)
        lo, hi = min(v.min(), out[0]) - 0.1 * span, max(v.max(), out[0]) + 0.1 * span
        ax.set(xlim=(-1.2, 0.9), ylim=(lo, hi))
        ax.set_xticks([])
        ax.tick_params(labelsize=7)
        ax.set_title("output: weights @ values", fontsize=9)
