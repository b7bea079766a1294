"""A small, fast classifier for experiments: an MLP trained with Adam on dlkit's kernels.

:func:`fit_mlp` trains a ``D -> hidden... -> C`` ReLU network (``hidden=()``: multinomial
logistic regression) with softmax cross-entropy, optional L2 penalty on the weights and
dropout after every hidden layer, and records the training and validation curves. It is
the workhorse of unit 06: overfitting demos, hyperparameter searches, ensembles and the
regularization widget all call it, which is why the regularization kernels can be swapped
for a student's own (``l2_penalty=``, ``dropout_forward=``, ``dropout_backward=``).

Everything is NumPy float64 and deterministic for a given ``rng``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .functional import (
    affine_backward,
    affine_forward,
    relu,
    relu_backward,
    softmax,
    softmax_cross_entropy,
)
from .functional import dropout_backward as _dropout_backward
from .functional import dropout_forward as _dropout_forward
from .functional import l2_penalty as _l2_penalty
from .init import he_init
from .optim import Adam

__all__ = ["FittedMLP", "fit_mlp", "mlp_logits"]

Params = list[tuple[np.ndarray, np.ndarray]]


def mlp_logits(X: Any, params: Params) -> np.ndarray:
    """The class scores ``(N, C)`` of a ReLU MLP in evaluation mode (no dropout)."""
    h = np.asarray(X, dtype=np.float64)
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = np.maximum(h, 0.0)
    return h


@dataclass
class FittedMLP:
    """A trained network: its parameters, curves and (optionally) earlier snapshots.

    ``history`` maps ``"train_loss"``, ``"train_acc"`` (measured in evaluation mode, without
    dropout or penalty) and, with validation data, ``"val_loss"``, ``"val_acc"`` to one value
    per epoch. ``snapshots`` maps an epoch number to the parameters after that epoch.
    ``best_epoch`` is the epoch whose parameters were kept (the last one unless early stopping
    restored an earlier one); epochs are counted from 1.
    """

    params: Params
    history: dict[str, list[float]] = field(default_factory=dict)
    snapshots: dict[int, Params] = field(default_factory=dict)
    best_epoch: int = 0

    def logits(self, X: Any) -> np.ndarray:
        return mlp_logits(X, self.params)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape ``(N, C)``."""
        return softmax(self.logits(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row, shape ``(N,)``."""
        return np.argmax(self.logits(X), axis=1)


def _evaluate(X: np.ndarray, y: np.ndarray, params: Params) -> tuple[float, float]:
    logits = mlp_logits(X, params)
    loss, _ = softmax_cross_entropy(logits, y)
    return float(loss), float(np.mean(np.argmax(logits, axis=1) == y))


def _positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    return int(value)


def fit_mlp(
    X: Any,
    y: Any,
    *,
    rng: np.random.Generator,
    hidden: Sequence[int] = (32,),
    lam: float = 0.0,
    p_drop: float = 0.0,
    epochs: int = 200,
    lr: float = 0.01,
    batch_size: int | None = None,
    num_classes: int | None = None,
    X_val: Any = None,
    y_val: Any = None,
    early_stopping: Any = None,
    snapshot_epochs: Sequence[int] = (),
    l2_penalty: Callable[..., Any] | None = None,
    dropout_forward: Callable[..., Any] | None = None,
    dropout_backward: Callable[..., Any] | None = None,
) -> FittedMLP:
    """Train a ReLU MLP classifier with Adam on softmax cross-entropy.

    The objective is ``mean cross-entropy + 0.5 * lam * sum of squared weights`` (biases are
    not penalized), with inverted dropout of probability ``p_drop`` after each hidden layer.

    Args:
        X, y: training inputs ``(N, D)`` and integer labels ``(N,)``.
        rng: the generator for initialization, mini-batch order and dropout masks.
        hidden: hidden-layer widths; ``()`` is a linear (logistic-regression) model.
        lam: L2 strength; p_drop: dropout probability for hidden units.
        epochs: passes over the training set; lr: Adam's learning rate.
        batch_size: mini-batch size (default: the whole set, one step per epoch).
        num_classes: number of classes ``C`` (default ``max(y) + 1``).
        X_val, y_val: validation data, recorded in ``history`` every epoch.
        early_stopping: an object with ``update(val_loss) -> bool`` (True: stop), e.g.
            ``dlkit.nn.EarlyStopping``; needs validation data. Training stops when it says so
            and the parameters of the epoch with the lowest validation loss are restored.
        snapshot_epochs: epochs after which to keep a copy of the parameters.
        l2_penalty, dropout_forward, dropout_backward: the regularization kernels (default:
            ``dlkit.functional``'s), with the same signatures.

    Returns:
        A :class:`FittedMLP`.

    The matrices here are tiny: one BLAS thread is several times faster than many threads
    fighting over shared cores, so training runs under ``threadpoolctl.threadpool_limits(1)``
    (installed with scikit-learn; the limit is lifted on return).
    """
    arguments = dict(locals())
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn brings it; without it, train with the default threads
        return _fit(**arguments)
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(**arguments)


def _fit(
    X: Any,
    y: Any,
    *,
    rng: np.random.Generator,
    hidden: Sequence[int],
    lam: float,
    p_drop: float,
    epochs: int,
    lr: float,
    batch_size: int | None,
    num_classes: int | None,
    X_val: Any,
    y_val: Any,
    early_stopping: Any,
    snapshot_epochs: Sequence[int],
    l2_penalty: Callable[..., Any] | None,
    dropout_forward: Callable[..., Any] | None,
    dropout_backward: Callable[..., Any] | None,
) -> FittedMLP:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D with shape (N, D); got shape {X.shape}")
    if y.shape != (X.shape[0],) or y.dtype.kind not in "iu":
        raise ValueError(
            f"y must hold integer labels with shape (N,) = ({X.shape[0]},); "
            f"got shape {y.shape}, dtype {y.dtype}"
        )
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a np.random.Generator; got {type(rng).__name__}")
    epochs = _positive_int(epochs, "epochs")
    hidden = tuple(_positive_int(h, "hidden[i]") for h in hidden)
    has_val = X_val is not None
    if has_val:
        X_val, y_val = np.asarray(X_val, dtype=np.float64), np.asarray(y_val)
    if early_stopping is not None and not has_val:
        raise ValueError("early_stopping needs validation data: pass X_val and y_val")
    n = X.shape[0]
    c = int(num_classes) if num_classes is not None else int(y.max()) + 1
    batch_size = n if batch_size is None else _positive_int(batch_size, "batch_size")
    penalty_fn = l2_penalty or _l2_penalty
    drop_fwd = dropout_forward or _dropout_forward
    drop_bwd = dropout_backward or _dropout_backward

    sizes = (X.shape[1], *hidden, c)
    params: Params = [
        (he_init(a, b, rng=rng), np.zeros(b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    flat = [p for layer in params for p in layer]  # Adam updates these arrays in place
    opt = Adam(flat, lr=lr)
    keys = ("train_loss", "train_acc") + (("val_loss", "val_acc") if has_val else ())
    history: dict[str, list[float]] = {k: [] for k in keys}
    snapshots: dict[int, Params] = {}
    wanted = set(snapshot_epochs)
    best, best_params, best_epoch = np.inf, None, epochs

    for epoch in range(1, epochs + 1):
        order = rng.permutation(n) if batch_size < n else np.arange(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            grads = _step_grads(X[idx], y[idx], params, lam, p_drop, rng, penalty_fn, drop_fwd)
            grads = grads(drop_bwd)
            opt.step(grads)
        loss, acc = _evaluate(X, y, params)
        history["train_loss"].append(loss)
        history["train_acc"].append(acc)
        if has_val:
            val_loss, val_acc = _evaluate(X_val, y_val, params)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
        if epoch in wanted:
            snapshots[epoch] = [(w.copy(), b.copy()) for w, b in params]
        if early_stopping is not None:
            if val_loss < best:
                best, best_epoch = val_loss, epoch
                best_params = [(w.copy(), b.copy()) for w, b in params]
            if early_stopping.update(val_loss):
                break
    if best_params is not None:
        params = best_params
    else:
        best_epoch = len(history["train_loss"])
    return FittedMLP(params, history, snapshots, best_epoch)


def _step_grads(
    X: np.ndarray,
    y: np.ndarray,
    params: Params,
    lam: float,
    p_drop: float,
    rng: np.random.Generator,
    penalty_fn: Callable[..., Any],
    drop_fwd: Callable[..., Any],
) -> Callable[[Callable[..., Any]], list[np.ndarray]]:
    """Forward pass on one batch; returns the backward pass (given ``dropout_backward``)."""
    caches = []
    h = X
    last = len(params) - 1
    for i, (w, b) in enumerate(params):
        z, aff = affine_forward(h, w, b)  # (B, width)
        if i == last:
            caches.append((aff, None, None))
            h = z
            break
        a = relu(z)
        h, drop = drop_fwd(a, p_drop, rng=rng) if p_drop > 0 else (a, None)
        caches.append((aff, z, drop))
    _, dh = softmax_cross_entropy(h, y)
    _, dws = penalty_fn([w for w, _ in params], lam) if lam > 0 else (0.0, [0.0] * len(params))

    def backward(drop_bwd: Callable[..., Any]) -> list[np.ndarray]:
        grads: list[np.ndarray] = []
        d = dh
        for i in range(last, -1, -1):
            aff, z, drop = caches[i]
            if i < last:
                d = drop_bwd(d, drop) if drop is not None else d
                d = relu_backward(d, z)
            dx, dw, db = affine_backward(d, aff, input_grad=i > 0)
            grads[:0] = [dw + dws[i], db]
            d = dx
        return grads

    return backward
