"""The forward pass of a multilayer perceptron, built from the affine and activation kernels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .._validate import check_float
from .activations import gelu, leaky_relu, relu, sigmoid, tanh
from .linear import affine_forward

__all__ = ["mlp_forward", "ACTIVATIONS"]

ACTIVATIONS: dict[str, Callable[[Any], Any]] = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "gelu": gelu,
    "identity": lambda x: x,
}


def _activation(activation: str | Callable[[Any], Any]) -> Callable[[Any], Any]:
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)} or a function; got {activation!r}"
            )
        return ACTIVATIONS[activation]
    if callable(activation):
        return activation
    raise TypeError(
        f"activation must be a name such as 'relu' or a function; got {type(activation).__name__}"
    )


def mlp_forward(
    x: Any,
    params: Sequence[tuple[Any, Any]],
    activation: str | Callable[[Any], Any] = "relu",
) -> Any:
    """Scores of a multilayer perceptron: affine layers with an activation between them.

    With ``params = [(w1, b1), ..., (wL, bL)]``::

        h0 = x
        h_l = activation(h_{l-1} @ w_l + b_l)     for the hidden layers l = 1 .. L-1
        scores = h_{L-1} @ w_L + b_L               (the output layer is linear)

    The output layer has no activation: the scores are what a loss (softmax cross-entropy,
    MSE) or a final ``softmax``/``sigmoid`` takes. One layer (``L = 1``) is a linear model.

    Only the scores are returned. The backward pass (unit 04) keeps each layer's cache;
    this function is the reference for the forward pass alone.

    Args:
        x: inputs, shape ``(N, D)``.
        params: one ``(w, b)`` pair per layer, ``w`` ``(D_in, D_out)`` and ``b`` ``(D_out,)``;
            each layer's ``D_in`` is the previous layer's ``D_out`` (``D`` for the first).
        activation: the hidden layers' nonlinearity, a name (``"relu"``, ``"leaky_relu"``,
            ``"sigmoid"``, ``"tanh"``, ``"gelu"``, ``"identity"``) or any element-wise
            function of an array.

    Returns:
        The scores, shape ``(N, C)`` with ``C`` the last layer's ``D_out``.
    """
    act = _activation(activation)
    x = check_float(x, "x")
    if isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
        raise TypeError(
            f"params must be a list of (w, b) pairs, one per layer; got {type(params).__name__}"
        )
    if len(params) == 0:
        raise ValueError("params is empty: an MLP needs at least one (w, b) layer")
    h = x
    last = len(params) - 1
    for i, layer in enumerate(params):
        if not (isinstance(layer, (tuple, list)) and len(layer) == 2):
            raise TypeError(f"params[{i}] must be a (w, b) pair; got {type(layer).__name__}")
        w, b = layer
        try:
            z, _ = affine_forward(h, w, b)  # (N, D_out)
        except (TypeError, ValueError) as exc:
            where = "x" if i == 0 else f"the output of layer {i - 1}"
            raise type(exc)(
                f"layer {i} (params[{i}]) does not fit {where}, shape {tuple(h.shape)}: {exc}"
            ) from exc
        h = z if i == last else act(z)
    return h
