"""Computation graphs and training curves.

* :class:`GraphExplorer` draws the graph of a scalar expression built from a ``Value`` class
  (the student's own engine, or ``dlkit.autograd.Value``): one box per node with its label,
  value and gradient after ``backward()``, one circle per operation. Sliders set the inputs.
* :class:`TrainingCurves` plots loss and accuracy per epoch and redraws in place while a
  training loop runs.

Any class with ``.data``, ``.grad``, ``._prev``, ``._op`` and ``backward()`` works.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .explorer import Control, Explorer, Slider

__all__ = ["GraphExplorer", "TrainingCurves", "neuron"]


def neuron(V: type, x1: float, w1: float, x2: float, w2: float, b: float) -> Any:
    """``tanh(x1*w1 + x2*w2 + b)`` built from the ``Value`` class ``V``, with labelled nodes."""
    leaves = {"x1": x1, "w1": w1, "x2": x2, "w2": w2, "b": b}
    n = {k: _labelled(V(float(v)), k) for k, v in leaves.items()}
    x1w1 = _labelled(n["x1"] * n["w1"], "x1*w1")
    x2w2 = _labelled(n["x2"] * n["w2"], "x2*w2")
    z = _labelled(x1w1 + x2w2 + n["b"], "z")
    return _labelled(z.tanh(), "out")


NEURON_CONTROLS = {
    "x1": Slider(-3.0, 3.0, 2.0, label="x1"),
    "w1": Slider(-3.0, 3.0, -3.0, label="w1"),
    "x2": Slider(-3.0, 3.0, 0.0, label="x2"),
    "w2": Slider(-3.0, 3.0, 1.0, label="w2"),
    "b": Slider(-10.0, 10.0, 6.88, label="b"),
}


def _labelled(node: Any, label: str) -> Any:
    try:
        node.label = label
    except AttributeError:  # a class with __slots__ and no label: draw without names
        pass
    return node


def _graph(root: Any) -> tuple[list[Any], dict[int, int]]:
    """The nodes under ``root`` (iterative DFS) and each one's depth from the leaves."""
    nodes, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(getattr(node, "_prev", ()))
    depth: dict[int, int] = {}
    pending = list(reversed(nodes))
    while pending:  # longest path from a leaf; children are resolved before parents
        node = pending.pop()
        children = list(getattr(node, "_prev", ()))
        missing = [c for c in children if id(c) not in depth]
        if missing:
            pending.append(node)
            pending.extend(missing)
            continue
        depth[id(node)] = 1 + max((depth[id(c)] for c in children), default=-1)
    return nodes, depth


class GraphExplorer(Explorer):
    """The computation graph of ``build(value_class, **inputs)`` after ``backward()``.

    Args:
        value_class: the ``Value`` class to build the expression from (the student's).
        build: ``build(value_class, **values) -> output node``; default :func:`neuron`.
        controls: one slider per input of ``build``; default the neuron's five inputs.
    """

    def __init__(
        self,
        value_class: type,
        build: Callable[..., Any] = neuron,
        controls: Mapping[str, Control] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(value_class, type):
            raise TypeError(f"value_class must be a class; got {type(value_class).__name__}")
        if not callable(build):
            raise TypeError(f"build must be a function; got {type(build).__name__}")
        self.value_class, self.build = value_class, build
        self.root: Any = None
        kwargs.setdefault("figsize", (9.0, 4.2))
        super().__init__(controls=dict(NEURON_CONTROLS if controls is None else controls), **kwargs)

    def draw(self, fig: Figure, **values: Any) -> None:
        root = self.build(self.value_class, **values)
        for attr in ("data", "grad", "_prev", "backward"):
            if not hasattr(root, attr):
                raise TypeError(f"build must return a Value-like node with .{attr}; got {root!r}")
        root.backward()
        self.root = root
        nodes, depth = _graph(root)
        columns: dict[int, list[Any]] = {}
        for node in reversed(nodes):
            columns.setdefault(depth[id(node)], []).append(node)
        pos = {}
        for d, column in columns.items():
            for i, node in enumerate(column):
                pos[id(node)] = (2.0 * d, (len(column) - 1) / 2 - i)
        ax = fig.add_subplot()
        for node in nodes:
            x, y = pos[id(node)]
            op = str(getattr(node, "_op", ""))
            if op:  # operation circle just left of the node, edges from its inputs
                ax.annotate(
                    "", xy=(x - 0.6, y), xytext=(x - 0.45, y),
                    arrowprops={"arrowstyle": "<-", "color": "0.4"},
                )  # fmt: skip
                ax.text(x - 0.75, y, op, ha="center", va="center", fontsize=9, zorder=3,
                        bbox={"boxstyle": "circle", "fc": "#fde9c9", "ec": "0.4"})  # fmt: skip
                for child in node._prev:
                    cx, cy = pos[id(child)]
                    ax.annotate(
                        "", xy=(x - 0.95, y), xytext=(cx + 0.5, cy),
                        arrowprops={"arrowstyle": "->", "color": "0.55", "lw": 1},
                    )  # fmt: skip
            grad = float(node.grad)
            color = "#1a7f37" if grad > 0 else ("#b31d28" if grad < 0 else "0.3")
            label = getattr(node, "label", "") or op or "leaf"
            ax.text(x, y, f"{label}\ndata {float(node.data):.4f}", ha="center",
                    va="center", fontsize=8.5, zorder=4,
                    bbox={"boxstyle": "round", "fc": "#e8f0fb", "ec": "0.3"})  # fmt: skip
            ax.text(x, y - 0.3, f"grad {grad:.4f}", ha="center", va="top", fontsize=8.5,
                    color=color, zorder=4)  # fmt: skip
        xs = [p[0] for p in pos.values()]
        ys = [p[1] for p in pos.values()]
        ax.set_xlim(min(xs) - 1.2, max(xs) + 1.0)
        ax.set_ylim(min(ys) - 0.8, max(ys) + 0.9)
        ax.axis("off")
        ax.set_title(
            f"output {float(root.data):.4f}; grad = d output / d node "
            "(green > 0, red < 0)", fontsize=10
        )  # fmt: skip


class TrainingCurves(Explorer):
    """Loss and accuracy per epoch; ``log(...)`` after each epoch redraws the picture.

    ``curves.show()`` displays it once; every later ``log`` updates that same output in
    place (a live plot in JupyterLab, the final picture in an exported notebook). With
    ``every=k`` the picture is redrawn only on every k-th call (drawing costs more than a
    small network's epoch); :meth:`redraw` forces it.
    """

    def __init__(self, *, every: int = 1, **kwargs: Any) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a whole number >= 1; got {every!r}")
        self.history: dict[str, list[float]] = {}
        self.every, self._calls = every, 0
        self._handle: Any = None
        kwargs.setdefault("figsize", (9.0, 3.4))
        super().__init__(controls={}, **kwargs)

    def log(self, **metrics: float) -> None:
        """Append one value per metric, e.g. ``log(train_loss=0.3, val_accuracy=0.9)``."""
        for name, value in metrics.items():
            value = float(value)
            if not np.isfinite(value):
                raise ValueError(f"{name} must be a finite number; got {value!r}")
            self.history.setdefault(name, []).append(value)
        self._calls += 1
        if self._calls % self.every == 0:
            self.refresh()

    def refresh(self) -> None:
        """Redraw now, and update the displayed picture."""
        self.redraw()
        if self._handle is not None:
            from IPython.display import Image

            self._handle.update(Image(self.png()))

    def show(self, static: bool | None = None) -> None:
        from IPython.display import Image, display

        self._handle = display(Image(self.png()), display_id=True)

    def draw(self, fig: Figure, **values: Any) -> None:
        losses = {k: v for k, v in self.history.items() if "acc" not in k}
        accuracies = {k: v for k, v in self.history.items() if "acc" in k}
        for i, (group, ylabel) in enumerate(((losses, "loss"), (accuracies, "accuracy"))):
            ax = fig.add_subplot(1, 2, i + 1)
            for name, series in group.items():
                ax.plot(np.arange(1, len(series) + 1), series, marker=".", label=name)
            ax.set_xlabel("epoch")
            ax.set_ylabel(ylabel)
            if group:
                ax.legend()
            ax.grid(alpha=0.3)
