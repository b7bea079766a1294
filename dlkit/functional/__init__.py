"""Pure-function layer maths: ``*_forward(...) -> (out, cache)``, ``*_backward(dout, cache)``.

One implementation per op, for NumPy arrays and torch tensors alike (see ``dlkit.backend``).
"""

from .activations import (
    gelu,
    gelu_backward,
    leaky_relu,
    leaky_relu_backward,
    log_softmax,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_backward,
    tanh,
    tanh_backward,
)
from .linear import affine_backward, affine_forward
from .losses import (
    binary_cross_entropy,
    categorical_cross_entropy,
    huber_loss,
    mae_loss,
    mse_loss,
    softmax_cross_entropy,
    sparse_categorical_cross_entropy,
)
from .mlp import mlp_forward

__all__ = [
    "affine_backward",
    "affine_forward",
    "binary_cross_entropy",
    "gelu",
    "gelu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "log_softmax",
    "mlp_forward",
    "relu",
    "relu_backward",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
    "softmax_backward",
    "softmax_cross_entropy",
    "tanh",
    "tanh_backward",
]
__all__ += [
    "categorical_cross_entropy",
    "huber_loss",
    "mae_loss",
    "mse_loss",
    "sparse_categorical_cross_entropy",
]
