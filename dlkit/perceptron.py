"""The perceptron and logistic regression: the reference for unit ``01_perceptron``.

Two linear classifiers share the score ``z = X @ w + b``:

* the **perceptron** thresholds it, ``y_hat = 1 if z >= 0 else 0``, and learns with
  Rosenblatt's mistake-driven rule ``w <- w + lr (y - y_hat) x``;
* **logistic regression** squashes it, ``p = sigmoid(z)``, and learns by gradient descent on
  the mean binary cross-entropy, whose gradient is ``X.T @ (p - y) / N``.

Labels are ``0`` and ``1`` throughout. A point exactly on the boundary (``z == 0``) is
class ``1``: the neuron fires once its input *reaches* the threshold, as the Heaviside step
``H(0) = 1``. Every function accepts NumPy arrays or torch tensors (one implementation, see
``dlkit.backend``) and returns the same kind on the same device.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._validate import as_array, check_float, check_labels, check_same_kind, check_shape
from .backend import describe, is_array, namespace
from .functional import binary_cross_entropy

__all__ = [
    "perceptron_predict",
    "perceptron_update",
    "perceptron_train",
    "count_mistakes",
    "logistic_gradient",
    "logistic_regression_fit",
]


# -- argument checks --------------------------------------------------------------------------
def _check_bias(b: Any, like: Any) -> Any:
    """``b`` as a Python float, or a 0-d floating array of the same kind as ``like``."""
    if isinstance(b, (int, float, np.number)) and not isinstance(b, (bool, np.bool_)):
        return float(b)
    if not is_array(b):
        raise TypeError(f"b must be a number or a 0-d array; got {describe(b)}")
    b = check_float(b, "b")
    if tuple(b.shape) != ():
        raise ValueError(
            f"b must be a scalar (shape ()); got shape {tuple(b.shape)}: a linear classifier "
            "with one output has one bias"
        )
    check_same_kind(b=b, like=like)
    return b


def _check_rate(lr: Any) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.number)):
        raise TypeError(f"lr must be a positive number; got {lr!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number; got {lr!r}")
    return float(lr)


def _check_count(n: Any, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{name} must be an int >= 0; got {n!r}")
    return int(n)


def _linear_args(X: Any, w: Any, b: Any, *, single: bool = False) -> tuple[Any, Any, Any]:
    """Checked ``X`` ``(N, D)`` (or one example ``(D,)`` when ``single``), ``w`` ``(D,)``, ``b``."""
    X, w = check_float(X, "X"), check_float(w, "w")
    check_same_kind(X=X, w=w)
    if single and X.ndim == 1:
        sizes = check_shape(X, "X", ("D",))
    else:
        sizes = check_shape(X, "X", ("N", "D"))
    check_shape(w, "w", ("D",), sizes=sizes)
    return X, w, _check_bias(b, X)


def _binary_labels(y: Any, name: str, n: int) -> Any:
    """Integer labels ``(n,)`` in ``{0, 1}``."""
    return check_labels(y, name, n, num_classes=2)


def _one_label(y: Any) -> int:
    """The label of one example, 0 or 1 (a Python/NumPy integer or a 0-d integer array)."""
    if is_array(y):
        if tuple(y.shape) != ():
            raise ValueError(
                f"y must be the label of ONE example (shape ()); got shape {tuple(y.shape)}"
            )
        y = y.item()
    if isinstance(y, (bool, np.bool_)) or not isinstance(y, (int, np.integer)):
        raise TypeError(f"y must be an integer label, 0 or 1; got {y!r}")
    if y not in (0, 1):
        raise ValueError(f"y must be 0 or 1; got {y!r}")
    return int(y)


def _targets(y: Any, X: Any) -> Any:
    """Targets ``(N,)`` in ``[0, 1]`` (integer labels or float probabilities), as X's dtype."""
    y = as_array(y, "y")
    check_same_kind(X=X, y=y)
    check_shape(y, "y", (X.shape[0],), names=("N",))
    xp = namespace(X)
    y = xp.asarray(y, dtype=X.dtype)
    if y.shape[0] and bool(xp.any((y < 0) | (y > 1))):
        raise ValueError(
            f"y must hold targets in [0, 1] (labels 0 and 1); got values from "
            f"{float(xp.min(y)):g} to {float(xp.max(y)):g}"
        )
    return y


# -- the perceptron -------------------------------------------------------------------------
def perceptron_predict(X: Any, w: Any, b: Any) -> Any:
    """Perceptron labels ``1 if x @ w + b >= 0 else 0`` for every row of ``X``.

    Args:
        X: inputs, shape ``(N, D)``, float (or one example of shape ``(D,)``).
        w: weights, shape ``(D,)``, float.
        b: bias, a number (or a 0-d array).

    Returns:
        Integer (int64) labels in ``{0, 1}``, shape ``(N,)`` (shape ``()`` for one example of
        shape ``(D,)``). A score of exactly 0 gives 1.
    """
    X, w, b = _linear_args(X, w, b, single=True)
    xp = namespace(X)
    z = X @ w + b  # (N,)
    return xp.where(z >= 0, xp.ones_like(z, dtype=xp.int64), xp.zeros_like(z, dtype=xp.int64))


def perceptron_update(x: Any, y: Any, w: Any, b: Any, lr: float = 1.0) -> tuple[Any, Any]:
    """One step of the perceptron rule on the single example ``(x, y)``.

    ``w <- w + lr (y - y_hat) x`` and ``b <- b + lr (y - y_hat)``: nothing moves when the
    example is classified correctly; on a mistake the boundary turns towards (``y = 1``) or
    away from (``y = 0``) the point. The inputs are not modified.

    Args:
        x: one example, shape ``(D,)``, float.
        y: its label, 0 or 1 (an int or a 0-d integer array).
        w: weights, shape ``(D,)``, float.
        b: bias, a number (or a 0-d array).
        lr: the learning rate, ``> 0``.

    Returns:
        ``(w_new, b_new)``: new weights ``(D,)`` and bias (same kinds as ``w`` and ``b``).
    """
    x = check_float(x, "x")
    if x.ndim != 1:
        raise ValueError(
            f"x must be ONE example, 1-D with shape (D,); got shape {tuple(x.shape)} "
            "(use X[i], not X[i:i+1])"
        )
    _, w, b = _linear_args(x[None, :], w, b)
    label = _one_label(y)
    lr = _check_rate(lr)
    y_hat = int(perceptron_predict(x[None, :], w, b)[0])
    step = lr * (label - y_hat)  # 0 when right, +lr or -lr on a mistake
    return w + step * x, b + step


def perceptron_train(
    X: Any,
    y: Any,
    *,
    epochs: int,
    lr: float = 1.0,
    rng: np.random.Generator,
    w0: Any = None,
    b0: Any = 0.0,
) -> list[tuple[Any, Any]]:
    """Run the perceptron rule for ``epochs`` passes over ``(X, y)``, in a fresh random order
    each epoch, and record every step.

    Args:
        X: inputs ``(N, D)``, float. y: integer labels ``(N,)`` in ``{0, 1}``.
        epochs: number of passes over the data (``>= 0``).
        lr: the learning rate. rng: draws the order of the examples in each epoch.
        w0, b0: the starting weights ``(D,)`` (default zeros) and bias (default 0).

    Returns:
        ``history``: ``epochs * N + 1`` pairs ``(w, b)``; ``history[0]`` is the start and
        ``history[t]`` the weights after ``t`` updates (one per example visited, including
        the visits where nothing changed), so ``history[-1]`` is the trained perceptron.
    """
    X = check_float(X, "X")
    n, d = check_shape(X, "X", ("N", "D")).values()
    y = _binary_labels(y, "y", n)
    check_same_kind(X=X, y=y)
    epochs, lr = _check_count(epochs, "epochs"), _check_rate(lr)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    xp = namespace(X)
    w = xp.zeros_like(X[0]) if w0 is None else w0
    _, w, b = _linear_args(X, w, b0)
    history = [(w, b)]
    for _ in range(epochs):
        for i in rng.permutation(n).tolist():
            w, b = perceptron_update(X[i], y[i], w, b, lr)
            history.append((w, b))
    return history


def count_mistakes(X: Any, y: Any, w: Any, b: Any) -> int:
    """How many rows of ``X`` (``(N, D)``) the perceptron ``(w, b)`` labels differently from
    ``y`` (``(N,)``, integers in ``{0, 1}``)."""
    labels = perceptron_predict(X, w, b)
    y = _binary_labels(y, "y", X.shape[0])
    return int((labels != y).sum())


# -- logistic regression ------------------------------------------------------------------------
def _loss_and_grads(X: Any, y: Any, w: Any, b: Any) -> tuple[Any, Any, Any]:
    z = X @ w + b  # (N,) logits
    loss, dz = binary_cross_entropy(z, y)  # dz = (sigmoid(z) - y) / N, (N,)
    xp = namespace(X)
    return loss, X.T @ dz, xp.sum(dz)  # dw (D,), db ()


def logistic_gradient(X: Any, y: Any, w: Any, b: Any) -> tuple[Any, Any]:
    """Gradient of the mean binary cross-entropy of logistic regression.

    With ``p = sigmoid(X @ w + b)`` and ``L = -mean(y log p + (1 - y) log(1 - p))``:
    ``dL/dw = X.T @ (p - y) / N`` and ``dL/db = mean(p - y)``.

    Args:
        X: inputs ``(N, D)``, float. y: targets ``(N,)``: labels 0/1 or probabilities.
        w: weights ``(D,)``, float. b: bias, a number (or a 0-d array).

    Returns:
        ``(dw, db)``: shape ``(D,)`` and a 0-d scalar.
    """
    X, w, b = _linear_args(X, w, b)
    if X.shape[0] == 0:
        raise ValueError("X has no rows: the mean loss of zero examples is undefined")
    _, dw, db = _loss_and_grads(X, _targets(y, X), w, b)
    return dw, db


def logistic_regression_fit(
    X: Any, y: Any, *, lr: float, steps: int, w0: Any = None, b0: Any = 0.0
) -> tuple[Any, Any, np.ndarray]:
    """Plain (full-batch) gradient descent on the mean binary cross-entropy.

    ``steps`` times: ``w <- w - lr dL/dw``, ``b <- b - lr dL/db``, starting from ``w0``
    (default zeros, shape ``(D,)``) and ``b0`` (default 0).

    Returns:
        ``(w, b, losses)``: the final weights ``(D,)`` and bias, and ``losses`` of shape
        ``(steps,)``, a float64 NumPy array whose entry ``t`` is the loss *before* step ``t``.
    """
    X = check_float(X, "X")
    check_shape(X, "X", ("N", "D"))
    if X.shape[0] == 0:
        raise ValueError("X has no rows: the mean loss of zero examples is undefined")
    y = _targets(y, X)
    lr, steps = _check_rate(lr), _check_count(steps, "steps")
    w = namespace(X).zeros_like(X[0]) if w0 is None else w0
    _, w, b = _linear_args(X, w, b0)
    losses = np.empty(steps)
    for t in range(steps):
        loss, dw, db = _loss_and_grads(X, y, w, b)
        losses[t] = float(loss)
        w, b = w - lr * dw, b - lr * db
    return w, b, losses
