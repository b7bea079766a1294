"""What ``model.compile`` understands: optimizers, losses and metrics by name or as objects.

* Optimizers: ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``,
  ``"adadelta"`` with ``dlkit.optim``'s defaults, which are torch's (Adam ``lr=1e-3``, RMSProp
  ``lr=1e-2``, AdaGrad ``lr=1e-2``, Adadelta ``lr=1.0``, AdamW ``weight_decay=1e-2``), except
  SGD, which has no default rate in torch and gets Keras's ``lr=0.01``.
* Losses take the model's raw outputs and the targets and return a 0-d tensor. The
  cross-entropies work **from logits**: the model ends with a ``Linear`` layer, no softmax or
  sigmoid, because the fused kernels (log-sum-exp, softplus) are exact where
  ``log(softmax(z))`` overflows. Use ``softmax`` on ``predict``'s output for probabilities.
* Metrics take ``(y_true, y_pred)``, the targets and the raw outputs of a whole epoch (NumPy
  or torch), and return a float. They are evaluation, not training: computed once per epoch
  on every output, so precision and recall are exact rather than averages over batches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import autograd as A
from .. import metrics as M
from ..backend import describe, is_torch, to_numpy
from ..optim import SGD, Adadelta, AdaGrad, Adam, AdamW, Optimizer, RMSProp

__all__ = ["OPTIMIZERS", "LOSSES", "METRICS", "get_optimizer", "get_loss", "get_metrics"]

# name -> (class, defaults that differ from the class's own)
OPTIMIZERS: dict[str, tuple[type[Optimizer], dict[str, float]]] = {
    "sgd": (SGD, {"lr": 0.01}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
    "rmsprop": (RMSProp, {}),
    "adagrad": (AdaGrad, {}),
    "adadelta": (Adadelta, {}),
}


def get_optimizer(spec: Any, params: list[Any], lr: float | None = None) -> Optimizer:
    """An optimizer over ``params`` from a name, a class or factory, or an instance.

    Args:
        spec: a name in :data:`OPTIMIZERS`; a class (with the defaults of its name) or any
            function ``params -> optimizer`` (``functools.partial(SGD, lr=0.1,
            momentum=0.9)``); or an optimizer already built on exactly these parameters.
        params: the model's parameters.
        lr: the learning rate for a name or a factory (``None``: the default). An instance
            has its own.
    """
    if lr is not None and (isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0):
        raise ValueError(f"lr must be a number > 0; got {lr!r}")
    options = {} if lr is None else {"lr": float(lr)}
    if isinstance(spec, str):
        key = spec.lower()
        if key not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {spec!r}; the names are {sorted(OPTIMIZERS)}")
        cls, defaults = OPTIMIZERS[key]
        return cls(params, **{**defaults, **options})
    if isinstance(spec, Optimizer):
        if lr is not None:
            raise ValueError(
                "lr is for an optimizer given by name or class; this one is already built: "
                f"set its rate when you build it (it has lr={spec.lr})"
            )
        if len(spec.params) != len(params) or any(
            p is not q for p, q in zip(spec.params, params, strict=True)
        ):
            raise ValueError(
                "the optimizer was built on other parameters than this model's; build it on "
                "model.parameters(), or pass its class (or a name) and compile builds it"
            )
        return spec
    if callable(spec):
        # a class named in OPTIMIZERS gets the defaults of its name: SGD and "sgd" agree
        defaults = next((d for cls, d in OPTIMIZERS.values() if spec is cls), {})
        built = spec(params, **{**defaults, **options})
        if not isinstance(built, Optimizer):
            raise TypeError(
                f"the optimizer factory returned {describe(built)}; it must return a "
                "dlkit.optim optimizer built on the parameters it receives"
            )
        return built
    raise TypeError(
        f"optimizer must be a name ({sorted(OPTIMIZERS)}), a dlkit.optim optimizer or its "
        f"class; got {describe(spec)}"
    )


# -- losses ----------------------------------------------------------------------------------


def _float_like(y: Any, pred: Any) -> Any:
    """Targets as floats of the predictions' dtype (labels 0/1 become 0.0/1.0)."""
    if is_torch(y):
        return y.to(pred.dtype)
    return np.asarray(y).astype(pred.dtype, copy=False)


def _regression_target(pred: A.Tensor, y: Any) -> Any:
    y = _float_like(y, pred.data)
    # one output per example: (N, 1) against (N,) targets would broadcast to (N, N)
    if y.ndim == 1 and pred.ndim == 2 and pred.shape[1] == 1:
        y = y.reshape(-1, 1)
    return y


def sparse_categorical_crossentropy(pred: A.Tensor, y: Any) -> A.Tensor:
    """Softmax cross-entropy of logits ``(N, C)`` with integer labels ``(N,)``."""
    return A.softmax_cross_entropy(pred, y)


def categorical_crossentropy(pred: A.Tensor, y: Any) -> A.Tensor:
    """Softmax cross-entropy of logits ``(N, C)`` with one-hot or soft targets ``(N, C)``."""
    return A.categorical_cross_entropy(pred, _float_like(y, pred.data))


def binary_crossentropy(pred: A.Tensor, y: Any) -> A.Tensor:
    """Sigmoid cross-entropy of one logit per example, ``(N,)`` or ``(N, 1)``, with 0/1
    targets ``(N,)`` or ``(N, 1)``."""
    if pred.ndim == 2 and pred.shape[1] == 1:
        pred = pred.reshape(-1)
    y = _float_like(y, pred.data)
    return A.binary_cross_entropy(pred, y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y)


def mse(pred: A.Tensor, y: Any) -> A.Tensor:
    """Mean squared error over all elements; ``(N,)`` targets fit an ``(N, 1)`` output."""
    return A.mse_loss(pred, _regression_target(pred, y))


def mae(pred: A.Tensor, y: Any) -> A.Tensor:
    """Mean absolute error over all elements; ``(N,)`` targets fit an ``(N, 1)`` output."""
    return A.mae_loss(pred, _regression_target(pred, y))


def huber(pred: A.Tensor, y: Any) -> A.Tensor:
    """Huber loss with ``delta=1``; ``(N,)`` targets fit an ``(N, 1)`` output."""
    return A.huber_loss(pred, _regression_target(pred, y))


LOSSES: dict[str, Callable[[A.Tensor, Any], A.Tensor]] = {
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "mse": mse,
    "mae": mae,
    "huber": huber,
}


def get_loss(spec: Any) -> Callable[[A.Tensor, Any], A.Tensor]:
    """A loss function ``(outputs: Tensor, y) -> 0-d Tensor`` from a name or a callable."""
    if isinstance(spec, str):
        if spec.lower() not in LOSSES:
            raise ValueError(f"unknown loss {spec!r}; the names are {sorted(LOSSES)}")
        return LOSSES[spec.lower()]
    if callable(spec):
        return spec
    raise TypeError(
        f"loss must be a name ({sorted(LOSSES)}) or a function (outputs, y) -> loss tensor; "
        f"got {describe(spec)}"
    )


# -- metrics ---------------------------------------------------------------------------------


def _class_labels(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """True and predicted labels, and whether the problem is binary with one logit.

    ``y_pred`` ``(N, C)`` with ``C > 1``: the argmax; ``y_true`` is labels ``(N,)`` or one-hot
    ``(N, C)``. ``y_pred`` ``(N,)`` or ``(N, 1)``: one logit, positive when ``> 0``
    (probability ``> 0.5``); ``y_true`` is 0/1.
    """
    t, p = to_numpy(y_true), to_numpy(y_pred)
    if p.ndim == 2 and p.shape[1] > 1:
        if t.ndim == 2 and t.shape == p.shape:
            t = np.argmax(t, axis=1)
        elif t.ndim != 1:
            raise ValueError(
                f"y_true must be labels (N,) or one-hot (N, {p.shape[1]}) for outputs of shape "
                f"{p.shape}; got shape {t.shape}"
            )
        return t.astype(np.int64), np.argmax(p, axis=1), False
    if p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1):
        t = t.reshape(-1) if t.ndim == 2 and t.shape[1] == 1 else t
        if t.ndim != 1:
            raise ValueError(
                f"y_true must be 0/1 labels (N,) for one output per example; got shape {t.shape}"
            )
        return (t > 0.5).astype(np.int64), (p.reshape(-1) > 0).astype(np.int64), True
    raise ValueError(f"classification metrics need outputs (N,) or (N, C); got shape {p.shape}")


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of correct predictions: argmax of ``(N, C)`` logits against labels or
    one-hot rows, or the sign of one logit per example against 0/1 labels."""
    t, p, _ = _class_labels(y_true, y_pred)
    return M.accuracy(t, p)


def precision(y_true: Any, y_pred: Any) -> float:
    """Precision of class 1 for one logit per example; the macro average over classes for
    ``(N, C)`` logits."""
    t, p, binary = _class_labels(y_true, y_pred)
    return M.precision_recall_f1(t, p, average="binary" if binary else "macro")[0]


def recall(y_true: Any, y_pred: Any) -> float:
    """Recall of class 1 for one logit per example; the macro average over classes for
    ``(N, C)`` logits."""
    t, p, binary = _class_labels(y_true, y_pred)
    return M.precision_recall_f1(t, p, average="binary" if binary else "macro")[1]


def _errors(y_true: Any, y_pred: Any) -> np.ndarray:
    t, p = to_numpy(y_true).astype(np.float64), to_numpy(y_pred).astype(np.float64)
    if t.ndim == 1 and p.ndim == 2 and p.shape[1] == 1:
        t = t.reshape(-1, 1)
    if t.shape != p.shape:
        raise ValueError(f"y_true must have the outputs' shape {p.shape}; got shape {t.shape}")
    return p - t


def mean_absolute_error(y_true: Any, y_pred: Any) -> float:
    """``mean(|y_pred - y_true|)``."""
    return float(np.mean(np.abs(_errors(y_true, y_pred))))


def mean_squared_error(y_true: Any, y_pred: Any) -> float:
    """``mean((y_pred - y_true)^2)``."""
    return float(np.mean(_errors(y_true, y_pred) ** 2))


METRICS: dict[str, Callable[[Any, Any], float]] = {
    "accuracy": accuracy,
    "precision": precision,
    "recall": recall,
    "mae": mean_absolute_error,
    "mse": mean_squared_error,
}
_RESERVED = ("loss", "penalty", "lr")


def get_metrics(spec: Any) -> dict[str, Callable[[Any, Any], float]]:
    """``{name: function}`` from ``None``, a name or function, a list of them, or a dict
    ``{name: name or function}``. A function's key is its ``__name__``."""
    if spec is None:
        return {}
    if isinstance(spec, str) or callable(spec):
        spec = [spec]
    if isinstance(spec, Mapping):
        items = list(spec.items())
    elif isinstance(spec, (list, tuple)):
        items = []
        for m in spec:
            name = m.lower() if isinstance(m, str) else getattr(m, "__name__", None)
            if name is None or name == "<lambda>":
                raise ValueError(
                    f"metric {m!r} has no usable name; pass a dict instead, "
                    "e.g. metrics={'top_class_rate': fn}"
                )
            items.append((name, m))
    else:
        raise TypeError(f"metrics must be a list of names or functions; got {describe(spec)}")
    found: dict[str, Callable[[Any, Any], float]] = {}
    for name, m in items:
        if not isinstance(name, str) or name in _RESERVED or name.startswith("val_"):
            raise ValueError(
                f"metric name {name!r} is reserved or invalid: not {list(_RESERVED)} and not "
                "starting with 'val_' (the validation copies get that prefix)"
            )
        if name in found:
            raise ValueError(f"metric {name!r} is given twice")
        if isinstance(m, str):
            if m.lower() not in METRICS:
                raise ValueError(f"unknown metric {m!r}; the names are {sorted(METRICS)}")
            m = METRICS[m.lower()]
        elif not callable(m):
            raise TypeError(
                f"metric {name!r} must be a name or a function (y_true, y_pred) -> float; "
                f"got {describe(m)}"
            )
        found[name] = m
    return found
