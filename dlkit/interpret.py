"""Attribution methods: which input features a model's score depends on, and by how much.

One implementation serves two kinds of model:

* a ``dlkit.nn`` :class:`~dlkit.nn.Module` (NumPy or torch arrays through dlkit's autograd),
* a torch ``nn.Module``,

and, for the black-box methods only (:func:`occlusion_map`, :func:`lime_explain`,
:func:`shapley_sampling`, :func:`exact_shapley`), any callable that maps an array ``(N, ...)``
to scores ``(N, K)``. Gradient methods need a model they can differentiate and raise a
``TypeError`` for a plain callable.

Everything is written against two given utilities, exactly as the unit's exercises are:
:func:`scores` (a forward pass without gradients) and :func:`input_gradient` (the gradient of
the chosen scores with respect to the input). Inputs may be NumPy arrays or torch tensors;
results are float64 NumPy arrays, so two models with the same weights, one in each library,
give the same attributions.

Conventions (the same as captum's, so the parity tests compare like with like):

* ``target`` picks the score explained: an int for every example, or one int per example.
* ``baseline`` is the "absent" input: a number, an array shaped like one example, or (for the
  batched methods) an array shaped like ``x``.
* Random methods take an explicit ``rng`` (a ``numpy.random.Generator``); nothing here touches
  a global seed.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ._validate import check_generator, check_size
from .backend import describe, is_torch, to_numpy

__all__ = [
    "LimeResult",
    "scores",
    "input_gradient",
    "saliency_map",
    "smoothgrad",
    "occlusion_map",
    "integrated_gradients",
    "lime_explain",
    "shapley_sampling",
    "exact_shapley",
]

_MAX_EXACT_FEATURES = 16
_CHUNK_ELEMENTS = 1 << 22  # inputs evaluated per forward pass, at most (about 32 MB float64)


class LimeResult(NamedTuple):
    """A local linear surrogate fitted by :func:`lime_explain`.

    Attributes:
        weights: one coefficient per feature (shaped like ``x``) or, with ``groups``, one per
            group (shape ``(G,)``): the score gained by switching that feature or group "on".
        intercept: the surrogate's score with every feature "off".
        r2: the kernel-weighted R^2 of the surrogate on the perturbations (its fidelity):
            1 means the linear story explains the model's scores near ``x`` exactly.
    """

    weights: np.ndarray
    intercept: float
    r2: float


# -- models ----------------------------------------------------------------------------------
def _is_dlkit_module(model: Any) -> bool:
    from .nn import Module

    return isinstance(model, Module)


def _is_torch_module(model: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _check_model(model: Any, *, gradient: bool) -> str:
    """``"dlkit"``, ``"torch"`` or ``"callable"``; a ``TypeError`` for anything else."""
    if _is_dlkit_module(model):
        return "dlkit"
    if _is_torch_module(model):
        return "torch"
    accepted = "a dlkit.nn Module or a torch nn.Module"
    if gradient:
        raise TypeError(
            f"model must be {accepted} (a gradient method differentiates it); got "
            f"{type(model).__name__}. A plain function of arrays has no gradient: use a "
            "black-box method (occlusion_map, lime_explain, shapley_sampling) for it"
        )
    if not callable(model):
        raise TypeError(
            f"model must be {accepted}, or a callable mapping an array (N, ...) to scores "
            f"(N, K); got {type(model).__name__}"
        )
    return "callable"


class _Mode:
    """Put a module in evaluation mode for the duration, then restore its previous mode."""

    def __init__(self, model: Any, kind: str) -> None:
        self.model, self.kind = model, kind
        self.was_training = bool(getattr(model, "training", False))

    def __enter__(self) -> None:
        if self.kind in ("dlkit", "torch"):
            self.model.eval()

    def __exit__(self, *exc: Any) -> None:
        if self.kind in ("dlkit", "torch") and self.was_training:
            self.model.train(True)


def _first_parameter(model: Any, kind: str) -> Any:
    if kind == "dlkit":
        params = model.parameters()
        return params[0].data if params else None
    if kind == "torch":
        return next(iter(model.parameters()), None)
    return None


def _model_input(model: Any, kind: str, x: np.ndarray) -> Any:
    """``x`` (float64 NumPy) as the array the model computes with: its library and dtype."""
    p = _first_parameter(model, kind)
    if kind == "torch" or (kind == "dlkit" and is_torch(p)):
        import torch

        dtype = p.dtype if p is not None else torch.float32
        device = p.device if p is not None else "cpu"
        return torch.as_tensor(x, dtype=dtype, device=device)
    if kind == "dlkit" and p is not None:
        return np.asarray(x, dtype=p.dtype)
    return x


def _as_input(x: Any, name: str = "x") -> np.ndarray:
    """``x`` as a float64 NumPy array (a copy of a torch tensor); clear errors otherwise."""
    if is_torch(x):
        x = to_numpy(x.detach())
    elif isinstance(x, (list, tuple, int, float, np.number)):
        x = np.asarray(x)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array or a torch tensor; got {describe(x)}")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers; got dtype {x.dtype}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite; it contains NaN or inf")
    return x


def _check_batch(x: Any, name: str = "x") -> np.ndarray:
    x = _as_input(x, name)
    if x.ndim < 2:
        raise ValueError(
            f"{name} must be a batch of shape (N, ...) with one example per row; got shape "
            f"{x.shape}. For one example use {name}[None]"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one example; got shape {x.shape}")
    return x


def _check_example(x: Any, name: str = "x") -> np.ndarray:
    x = _as_input(x, name)
    if x.ndim < 1 or x.size == 0:
        raise ValueError(
            f"{name} must be ONE example without a batch dimension (e.g. shape (D,) or "
            f"(C, H, W)); got shape {x.shape}"
        )
    return x


def _forward(model: Any, kind: str, x: np.ndarray) -> np.ndarray:
    """Scores ``(N, K)`` float64 for a float64 batch ``x``, without gradients."""
    if kind == "torch":
        import torch

        with torch.no_grad():
            out = model(_model_input(model, kind, x))
    elif kind == "dlkit":
        from .autograd import Tensor

        out = model(Tensor(_model_input(model, kind, x)))
    else:
        out = model(x)
    out = getattr(out, "data", out) if kind == "dlkit" else out
    if is_torch(out):
        out = to_numpy(out.detach())
    out = np.asarray(out, dtype=np.float64)
    if out.ndim != 2 or out.shape[0] != x.shape[0]:
        raise ValueError(
            f"model must map a batch of N={x.shape[0]} examples to scores of shape (N, K); "
            f"it returned shape {out.shape}"
        )
    return out


def _forward_chunked(model: Any, kind: str, x: np.ndarray) -> np.ndarray:
    per = max(1, _CHUNK_ELEMENTS // max(1, int(np.prod(x.shape[1:]))))
    if x.shape[0] <= per:
        return _forward(model, kind, x)
    return np.concatenate([_forward(model, kind, x[i : i + per]) for i in range(0, len(x), per)])


def _check_target(target: Any, n: int, k: int) -> np.ndarray:
    """``target`` as ``(n,)`` int64 class indices in ``[0, k)``."""
    if is_torch(target):
        target = to_numpy(target)
    if isinstance(target, (bool, np.bool_)):
        raise TypeError(f"target must be an int or {n} ints (one per example); got {target!r}")
    t = np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"target must be an int or {n} ints (one per example); got {describe(target)}"
        )
    if t.ndim == 0:
        t = np.full(n, int(t))
    if t.shape != (n,):
        raise ValueError(
            f"target must be an int or have shape ({n},), one class per example; got shape "
            f"{t.shape}"
        )
    if np.any(t < 0) or np.any(t >= k):
        raise ValueError(f"target must be in [0, {k}) (the model has {k} scores); got {t}")
    return t.astype(np.int64)


def _chosen(s: np.ndarray, target: Any) -> np.ndarray:
    t = _check_target(target, s.shape[0], s.shape[1])
    return s[np.arange(s.shape[0]), t]


# -- the given utilities ---------------------------------------------------------------------
def scores(model: Any, x: Any) -> np.ndarray:
    """The model's scores for a batch, as a float64 NumPy array ``(N, K)``.

    No gradient is tracked and the model runs in evaluation mode (dropout off, batch norm
    with its running statistics); a module's previous mode is restored afterwards.

    Args:
        model: a dlkit.nn Module, a torch nn.Module, or a callable ``(N, ...) -> (N, K)``.
        x: the batch ``(N, ...)``, a NumPy array or torch tensor.
    """
    kind = _check_model(model, gradient=False)
    x = _check_batch(x)
    with _Mode(model, kind):
        return _forward_chunked(model, kind, x)


def input_gradient(model: Any, x: Any, target: Any) -> np.ndarray:
    """The gradient of ``sum_n scores[n, target_n]`` with respect to ``x``, shaped like ``x``.

    Each example's row of the result is the gradient of *its own* chosen score (examples do not
    interact in evaluation mode). The model's parameter gradients are left as they were.

    Args:
        model: a dlkit.nn Module or a torch nn.Module (a plain callable has no gradient).
        x: the batch ``(N, ...)``.
        target: the class explained: an int, or ``(N,)`` ints.
    """
    kind = _check_model(model, gradient=True)
    x = _check_batch(x)
    with _Mode(model, kind):
        if kind == "torch":
            import torch

            xt = _model_input(model, kind, x).requires_grad_(True)
            with torch.enable_grad():
                out = model(xt)
                _check_output(out, x)
                t = _check_target(target, out.shape[0], out.shape[1])
                chosen = out[torch.arange(out.shape[0]), torch.as_tensor(t, device=out.device)]
                if not chosen.requires_grad:  # the scores do not depend on x at all
                    return np.zeros_like(x)
                (grad,) = torch.autograd.grad(chosen.sum(), xt, allow_unused=True)
            if grad is None:
                return np.zeros_like(x)
            return to_numpy(grad.detach()).astype(np.float64)
        from .autograd import Tensor

        params = model.parameters()
        saved = [p.grad for p in params]
        try:
            xt = Tensor(_model_input(model, kind, x), requires_grad=True)
            out = model(xt)
            _check_output(out, x)
            t = _check_target(target, out.shape[0], out.shape[1])
            seed = np.zeros(out.shape)
            seed[np.arange(out.shape[0]), t] = 1.0
            out.backward(_model_input(model, kind, seed) if is_torch(out.data) else seed)
            grad = xt.grad
        finally:
            for p, g in zip(params, saved, strict=True):
                p.grad = g
        if grad is None:  # the scores do not depend on x at all
            return np.zeros_like(x)
        return (to_numpy(grad) if is_torch(grad) else np.asarray(grad)).astype(np.float64)


def _check_output(out: Any, x: np.ndarray) -> None:
    shape = tuple(out.shape)
    if len(shape) != 2 or shape[0] != x.shape[0]:
        raise ValueError(
            f"model must map a batch of N={x.shape[0]} examples to scores of shape (N, K); "
            f"it returned shape {shape}"
        )


# -- gradient methods ------------------------------------------------------------------------
def saliency_map(model: Any, x: Any, target: Any, *, times_input: bool = False) -> np.ndarray:
    """The signed gradient of the target score with respect to each input feature.

    ``saliency_map`` keeps the sign (captum's ``Saliency(abs=False)``): a negative value means
    raising that feature lowers the score. With ``times_input=True`` it returns gradient x
    input (captum's ``InputXGradient``), the first-order estimate of each feature's
    contribution relative to an all-zero input.

    Args:
        model: a dlkit.nn Module or a torch nn.Module.
        x: the batch ``(N, ...)``.
        target: the class explained: an int, or ``(N,)`` ints.
        times_input: multiply the gradient by ``x``.

    Returns:
        A float64 array shaped like ``x``.
    """
    if not isinstance(times_input, (bool, np.bool_)):
        raise TypeError(f"times_input must be True or False; got {times_input!r}")
    x = _check_batch(x)
    grad = input_gradient(model, x, target)
    return grad * x if times_input else grad


def smoothgrad(
    model: Any,
    x: Any,
    target: Any,
    *,
    n_samples: int = 25,
    sigma: float = 0.15,
    rng: np.random.Generator,
) -> np.ndarray:
    """The saliency map averaged over noisy copies of ``x`` (SmoothGrad).

    The noise is drawn in one call, ``rng.standard_normal((n_samples, *x.shape))``, and scaled
    per example: each copy adds Gaussian noise of standard deviation
    ``sigma * (max(x_n) - min(x_n))``, a
    fraction of each example's own value range (as in Smilkov et al., 2017), so ``sigma`` means
    the same for pixels in [0, 1] and in [0, 255].

    Args:
        model: a dlkit.nn Module or a torch nn.Module.
        x: the batch ``(N, ...)``.
        target: the class explained: an int, or ``(N,)`` ints.
        n_samples: noisy copies per example.
        sigma: the noise level as a fraction of each example's range, ``>= 0``.
        rng: the generator the noise is drawn from.

    Returns:
        A float64 array shaped like ``x``.
    """
    x = _check_batch(x)
    n_samples = check_size(n_samples, "n_samples")
    sigma = _check_nonnegative(sigma, "sigma")
    rng = check_generator(rng)
    flat = x.reshape(len(x), -1)
    spread = (flat.max(axis=1) - flat.min(axis=1)).reshape((-1,) + (1,) * (x.ndim - 1))
    noisy = x[None] + sigma * spread[None] * rng.standard_normal((n_samples,) + x.shape)
    t = _check_target_batch(model, x, target)
    grads = input_gradient(model, noisy.reshape((-1,) + x.shape[1:]), np.tile(t, n_samples))
    return grads.reshape((n_samples,) + x.shape).mean(axis=0)


def _check_target_batch(model: Any, x: np.ndarray, target: Any) -> np.ndarray:
    """``target`` as ``(N,)`` ints, checked against the model's number of scores."""
    k = scores(model, x[:1]).shape[1]
    return _check_target(target, len(x), k)


def _check_nonnegative(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a number; got {value!r}")
    if not (math.isfinite(float(value)) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


def _check_positive(value: Any, name: str) -> float:
    value = _check_nonnegative(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be > 0; got {value!r}")
    return value


def _check_baseline(baseline: Any, x: np.ndarray, *, batched: bool) -> np.ndarray:
    """``baseline`` broadcast to ``x``'s shape: a number, one example, or (batched) like x."""
    shape = x.shape
    one = shape[1:] if batched else shape
    if isinstance(baseline, (bool, np.bool_)):
        raise TypeError(f"baseline must be a number or an array; got {baseline!r}")
    b = _as_input(baseline, "baseline")
    if b.ndim == 0:
        return np.full(shape, float(b))
    if b.shape == shape:
        return b.copy()
    if batched and b.shape == one:
        return np.broadcast_to(b, shape).copy()
    want = (
        f"a number, shape {one} (one example) or {shape} (like x)"
        if batched
        else (f"a number or shape {shape} (like x)")
    )
    raise ValueError(f"baseline must be {want}; got shape {b.shape}")


_RULES = ("trapezoid", "riemann")


def _path_weights(steps: int, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """``(alphas, weights)`` of the quadrature of ``integral_0^1 g(a) da``."""
    if rule == "trapezoid":
        alphas = np.linspace(0.0, 1.0, steps)
        weights = np.full(steps, 1.0 / (steps - 1))
        weights[[0, -1]] /= 2
    else:  # right Riemann sum: the path's end point x is included, the baseline is not
        alphas = np.arange(1, steps + 1) / steps
        weights = np.full(steps, 1.0 / steps)
    return alphas, weights


def integrated_gradients(
    model: Any,
    x: Any,
    target: Any,
    *,
    baseline: Any = None,
    steps: int = 50,
    rule: str = "trapezoid",
) -> tuple[np.ndarray, np.ndarray]:
    """Integrated gradients along the straight path from ``baseline`` to ``x``.

    ``attr = (x - baseline) * integral_0^1 grad(baseline + a (x - baseline)) da``, the
    integral estimated with ``steps`` gradient evaluations:

    * ``rule="trapezoid"``: ``a = 0, 1/(steps-1), ..., 1`` with the trapezoid weights
      ``1/(steps-1)`` (halved at both ends), which sum to 1. (captum's ``riemann_trapezoid``
      uses the same points with weights ``1/steps``, which sum to ``(steps-1)/steps``: its
      result is ours times ``(steps-1)/steps``.)
    * ``rule="riemann"``: the right Riemann sum, ``a = 1/steps, 2/steps, ..., 1`` with weights
      ``1/steps`` (captum's ``riemann_right``).

    The completeness axiom says the attributions add up to ``score(x) - score(baseline)``; the
    returned ``gap`` measures how far the estimate is from it, and shrinks as ``steps`` grows.

    Args:
        model: a dlkit.nn Module or a torch nn.Module.
        x: the batch ``(N, ...)``.
        target: the class explained: an int, or ``(N,)`` ints.
        baseline: the reference input: ``None`` (zeros), a number, an array shaped like one
            example, or like ``x``.
        steps: gradient evaluations along the path (``>= 2`` for the trapezoid rule).
        rule: ``"trapezoid"`` or ``"riemann"``.

    Returns:
        ``(attributions, gap)``: a float64 array shaped like ``x``, and ``(N,)`` with
        ``gap[n] = attributions[n].sum() - (score(x_n) - score(baseline_n))``.
    """
    x = _check_batch(x)
    steps = check_size(steps, "steps")
    if rule not in _RULES:
        raise ValueError(f"rule must be one of {_RULES}; got {rule!r}")
    if rule == "trapezoid" and steps < 2:
        raise ValueError(f"steps must be >= 2 for the trapezoid rule; got {steps}")
    base = np.zeros_like(x) if baseline is None else _check_baseline(baseline, x, batched=True)
    _check_model(model, gradient=True)
    t = _check_target_batch(model, x, target)
    alphas, weights = _path_weights(steps, rule)
    delta = x - base
    total = np.zeros_like(x)
    per = max(1, _CHUNK_ELEMENTS // x.size)  # path points per gradient call
    for i in range(0, steps, per):
        a = alphas[i : i + per].reshape((-1,) + (1,) * x.ndim)
        points = (base[None] + a * delta[None]).reshape((-1,) + x.shape[1:])
        grads = input_gradient(model, points, np.tile(t, len(a))).reshape((len(a),) + x.shape)
        total += np.tensordot(weights[i : i + per], grads, axes=1)
    attributions = delta * total
    ends = scores(model, np.concatenate([x, base]))
    rows = np.arange(len(x))
    drop = ends[rows, t] - ends[len(x) + rows, t]
    gap = attributions.reshape(len(x), -1).sum(axis=1) - drop
    return attributions, gap


# -- black-box methods -----------------------------------------------------------------------
def _check_tuple(value: Any, name: str, ndim: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value),) * ndim
    if not isinstance(value, (tuple, list)) or len(value) != ndim:
        raise ValueError(
            f"{name} must be an int or a tuple of {ndim} ints, one per non-batch dimension "
            f"of x (shape {shape}); got {value!r}"
        )
    out = tuple(check_size(v, f"{name}[{i}]") for i, v in enumerate(value))
    return out


def occlusion_map(
    model: Any, x: Any, target: Any, *, window: Any, stride: Any, baseline: Any = 0.0
) -> np.ndarray:
    """How much the target score drops when a sliding window of the input is hidden.

    captum's ``Occlusion`` semantics: the window (a box over the non-batch dimensions) starts
    at every multiple of ``stride`` along each dimension, up to the last position that still
    overlaps the input (``ceil((size - window) / stride) + 1`` positions; the last one may be
    cut off at the edge). At each position the covered features are replaced by ``baseline``,
    and the drop ``score(x) - score(occluded)`` is credited to every covered feature; each
    feature's attribution is the average over the windows that cover it.

    Args:
        model: any model, including a plain callable ``(N, ...) -> (N, K)``.
        x: the batch ``(N, ...)``.
        target: the class explained: an int, or ``(N,)`` ints.
        window: the window's size per non-batch dimension: a tuple (or one int for all).
        stride: the step between windows, likewise; at most the window size where the window
            does not cover the whole dimension (otherwise some features would never be
            occluded).
        baseline: what hides a feature: a number, an array shaped like one example, or like x.

    Returns:
        A float64 array shaped like ``x``.
    """
    kind = _check_model(model, gradient=False)
    x = _check_batch(x)
    dims = x.shape[1:]
    window = _check_tuple(window, "window", len(dims), x.shape)
    stride = _check_tuple(stride, "stride", len(dims), x.shape)
    for d, (size, w, s) in enumerate(zip(dims, window, stride, strict=True)):
        if w > size:
            raise ValueError(f"window[{d}]={w} is larger than x's dimension {d + 1} (size {size})")
        if w < size and s > w:
            raise ValueError(
                f"stride[{d}]={s} must be <= window[{d}]={w}, or some features are never occluded"
            )
    base = _check_baseline(baseline, x, batched=True)
    counts = [
        math.ceil((size - w) / s) + 1 for size, w, s in zip(dims, window, stride, strict=True)
    ]
    with _Mode(model, kind):
        s0 = _forward_chunked(model, kind, x)
        t = _check_target(target, len(x), s0.shape[1])
        rows = np.arange(len(x))
        total = np.zeros_like(x)
        covered = np.zeros(dims)
        for position in np.ndindex(*counts):
            box = tuple(
                slice(p * s, min(p * s + w, size))
                for p, s, w, size in zip(position, stride, window, dims, strict=True)
            )
            occluded = x.copy()
            occluded[(slice(None),) + box] = base[(slice(None),) + box]
            drop = s0[rows, t] - _forward_chunked(model, kind, occluded)[rows, t]
            total[(slice(None),) + box] += drop.reshape((-1,) + (1,) * len(dims))
            covered[box] += 1
    return total / covered


def _check_groups(groups: Any, x: np.ndarray) -> tuple[np.ndarray, int]:
    """``(labels, G)``: each feature's group in ``[0, G)``, flattened; every group used."""
    if groups is None:
        return np.arange(x.size), x.size
    if is_torch(groups):
        groups = to_numpy(groups)
    g = np.asarray(groups)
    if g.dtype.kind not in "iu":
        raise TypeError(f"groups must hold integer group labels; got {describe(groups)}")
    if g.shape != x.shape:
        raise ValueError(
            f"groups must have x's shape {x.shape} (one group label per feature); got shape "
            f"{g.shape}"
        )
    labels = np.unique(g)
    if labels[0] != 0 or labels[-1] != len(labels) - 1:
        raise ValueError(
            f"groups must use the labels 0, 1, ..., G-1, each at least once; got labels "
            f"{labels.tolist()[:10]}{'...' if len(labels) > 10 else ''}"
        )
    return g.reshape(-1).astype(np.int64), len(labels)


def _masked_inputs(
    x: np.ndarray, base: np.ndarray, labels: np.ndarray, masks: np.ndarray
) -> np.ndarray:
    """One input per mask row ``(M, G)``: feature ``j`` is ``x`` where its group is on."""
    on = masks[:, labels].astype(bool)  # (M, D)
    flat = np.where(on, x.reshape(-1)[None], base.reshape(-1)[None])
    return flat.reshape((len(masks),) + x.shape)


def _one_example_scorer(
    model: Any, x: np.ndarray, target: Any
) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """``(f, t)``: ``f`` maps a stack of inputs like ``x`` to their target scores."""
    kind = _check_model(model, gradient=False)
    with _Mode(model, kind):
        k = _forward(model, kind, x[None]).shape[1]
    if isinstance(target, (bool, np.bool_)) or not isinstance(target, (int, np.integer)):
        raise TypeError(f"target must be one int (one example is explained); got {target!r}")
    if not 0 <= target < k:
        raise ValueError(f"target must be in [0, {k}) (the model has {k} scores); got {target}")
    t = int(target)

    def f(inputs: np.ndarray) -> np.ndarray:
        with _Mode(model, kind):
            return _forward_chunked(model, kind, inputs)[:, t]

    return f, t


def lime_explain(
    model: Any,
    x: Any,
    target: Any,
    *,
    n_samples: int = 500,
    rng: np.random.Generator,
    kernel_width: float = 0.25,
    ridge: float = 1.0,
    groups: Any = None,
    baseline: Any = 0.0,
) -> LimeResult:
    """A local linear surrogate of the model around ONE example (LIME).

    The interpretable features are binary: feature (or group) ``j`` is "on" (its value in
    ``x``) or "off" (its value in ``baseline``). The masks are drawn in one call,
    ``rng.random((n_samples, G)) < 0.5`` (each feature or group on with probability 1/2), and
    the first is then set to all on (``x`` itself). Each
    perturbation ``z`` is weighted by ``exp(-d(z)^2 / kernel_width^2)``, where
    ``d(z) = 1 - cos(z, 1)`` is the cosine distance of the mask to the all-on mask (1 for the
    all-off mask). A weighted ridge regression of the target scores on the masks (penalty
    ``ridge * ||w||^2``, intercept not penalised) is the surrogate; its weighted R^2 on the
    same perturbations is its fidelity (1.0 when the scores do not vary and the fit is exact).

    Args:
        model: any model, including a plain callable ``(N, ...) -> (N, K)``.
        x: one example, without a batch dimension.
        target: the class explained, one int.
        n_samples: perturbations, including ``x`` itself (``>= 2``).
        rng: the generator the masks are drawn from.
        kernel_width: the width of the proximity kernel, ``> 0``.
        ridge: the ridge penalty, ``>= 0``.
        groups: ``None`` (each feature alone) or integer labels shaped like ``x`` assigning
            each feature to one of ``G`` groups (superpixels), labelled ``0..G-1``.
        baseline: the "off" value: a number or an array shaped like ``x``.
    """
    x = _check_example(x)
    n_samples = check_size(n_samples, "n_samples")
    if n_samples < 2:
        raise ValueError(f"n_samples must be >= 2 (x itself and one perturbation); got {n_samples}")
    rng = check_generator(rng)
    kernel_width = _check_positive(kernel_width, "kernel_width")
    ridge = _check_nonnegative(ridge, "ridge")
    labels, n_groups = _check_groups(groups, x)
    base = _check_baseline(baseline, x, batched=False)
    f, _ = _one_example_scorer(model, x, target)

    masks = (rng.random((n_samples, n_groups)) < 0.5).astype(np.float64)
    masks[0] = 1.0
    y = f(_masked_inputs(x, base, labels, masks))
    on = masks.sum(axis=1)
    distance = 1.0 - np.sqrt(on / n_groups)  # cos(z, 1) = |z|_1 / (sqrt(|z|_1) sqrt(G))
    w = np.exp(-(distance**2) / kernel_width**2)

    wsum = w.sum()
    zbar = w @ masks / wsum
    ybar = w @ y / wsum
    zc, yc = masks - zbar, y - ybar
    gram = zc.T @ (w[:, None] * zc) + ridge * np.eye(n_groups)
    coef = np.linalg.lstsq(gram, zc.T @ (w * yc), rcond=None)[0]
    intercept = float(ybar - zbar @ coef)
    residual = y - (intercept + masks @ coef)
    ss_res = float(w @ residual**2)
    ss_tot = float(w @ yc**2)
    scale = max(1.0, float(w @ y**2))
    if ss_tot <= 1e-24 * scale:
        r2 = 1.0 if ss_res <= 1e-24 * scale else 0.0
    else:
        r2 = 1.0 - ss_res / ss_tot
    weights = coef.reshape(x.shape) if groups is None else coef
    return LimeResult(weights=weights, intercept=intercept, r2=float(r2))


def shapley_sampling(
    model: Any,
    x: Any,
    target: Any,
    *,
    n_permutations: int = 100,
    rng: np.random.Generator,
    baseline: Any = 0.0,
    groups: Any = None,
) -> np.ndarray:
    """Shapley values of ONE example, estimated by sampling permutations of the features.

    The orders are drawn as ``np.argsort(rng.random((n_permutations, G)), axis=1)`` (the same
    stream however the evaluations are batched). For each order, start from ``baseline`` and
    switch the features (or groups) to their value in ``x`` one at a time; the change in the
    target score at each switch is that feature's marginal contribution. The average over
    ``n_permutations`` orders is an unbiased estimate of the Shapley value (the exact one is
    :func:`exact_shapley`), and every sampled order adds up exactly to
    ``score(x) - score(baseline)`` (efficiency).

    Args:
        model: any model, including a plain callable ``(N, ...) -> (N, K)``.
        x: one example, without a batch dimension.
        target: the class explained, one int.
        n_permutations: sampled orders (each costs ``G + 1`` model evaluations).
        rng: the generator the orders are drawn from.
        baseline: the "absent" value: a number or an array shaped like ``x``.
        groups: ``None`` or integer group labels shaped like ``x`` (see :func:`lime_explain`).

    Returns:
        One value per feature, shaped like ``x``; with ``groups``, one per group ``(G,)``.
    """
    x = _check_example(x)
    n_permutations = check_size(n_permutations, "n_permutations")
    rng = check_generator(rng)
    labels, n_groups = _check_groups(groups, x)
    base = _check_baseline(baseline, x, batched=False)
    f, _ = _one_example_scorer(model, x, target)

    total = np.zeros(n_groups)
    per = max(1, _CHUNK_ELEMENTS // ((n_groups + 1) * x.size))  # permutations per batch
    steps = np.tril(np.ones((n_groups + 1, n_groups)), -1)  # row k: the first k switched on
    done = 0
    while done < n_permutations:
        m = min(per, n_permutations - done)
        orders = np.argsort(rng.random((m, n_groups)), axis=1)
        masks = np.zeros((m, n_groups + 1, n_groups))
        rows = np.arange(m)[:, None, None]
        ks = np.arange(n_groups + 1)[None, :, None]
        masks[rows, ks, orders[:, None, :]] = steps[None]
        y = f(_masked_inputs(x, base, labels, masks.reshape(-1, n_groups)))
        marginal = np.diff(y.reshape(m, n_groups + 1), axis=1)  # (m, G) in order
        np.add.at(total, orders.reshape(-1), marginal.reshape(-1))
        done += m
    values = total / n_permutations
    return values.reshape(x.shape) if groups is None else values


def exact_shapley(
    model: Any, x: Any, target: Any, *, baseline: Any = 0.0, groups: Any = None
) -> np.ndarray:
    """The exact Shapley values of ONE example, from all ``2^G`` coalitions of features.

    ``phi_j = sum over coalitions S without j of |S|! (G-|S|-1)! / G! * (v(S + j) - v(S))``,
    where ``v(S)`` is the target score with the features in ``S`` taken from ``x`` and the rest
    from ``baseline``. Refuses more than 16 features or groups (65,536 model evaluations):
    group the features, or use :func:`shapley_sampling`.

    Args: as :func:`shapley_sampling`, without the sampling.

    Returns:
        One value per feature, shaped like ``x``; with ``groups``, one per group ``(G,)``.
    """
    x = _check_example(x)
    labels, n_groups = _check_groups(groups, x)
    if n_groups > _MAX_EXACT_FEATURES:
        raise ValueError(
            f"exact_shapley evaluates all 2^G coalitions; G={n_groups} features or groups is "
            f"more than {_MAX_EXACT_FEATURES}. Pass groups= (at most {_MAX_EXACT_FEATURES}) "
            "or use shapley_sampling"
        )
    base = _check_baseline(baseline, x, batched=False)
    f, _ = _one_example_scorer(model, x, target)
    codes = np.arange(2**n_groups)
    masks = ((codes[:, None] >> np.arange(n_groups)[None]) & 1).astype(np.float64)
    v = f(_masked_inputs(x, base, labels, masks))
    size = masks.sum(axis=1).astype(int)
    # the weight of a coalition of size k that lacks j: k! (G - k - 1)! / G!
    table = np.array(
        [math.factorial(k) * math.factorial(n_groups - k - 1) for k in range(n_groups)],
        dtype=np.float64,
    ) / math.factorial(n_groups)
    values = np.zeros(n_groups)
    for j in range(n_groups):
        without = codes[(codes >> j) & 1 == 0]
        values[j] = table[size[without]] @ (v[without | (1 << j)] - v[without])
    return values.reshape(x.shape) if groups is None else values
