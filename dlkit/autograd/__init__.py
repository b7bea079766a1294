"""Automatic differentiation, twice: a scalar engine to learn from, a tensor engine to use.

* :class:`Value` (``scalar.py``) is the engine of unit 04, one number per node: small enough
  to read in one sitting and to rebuild as an exercise, far too slow for real networks.
* :class:`Tensor` (``tensor.py``, ``function.py``, ``functions.py``, ``nn_functions.py``)
  applies the same idea to whole arrays, NumPy or torch on any device. Later units train
  CNNs, LSTMs, transformers and GANs with it.

Design choice: a tensor autograd over the ``dlkit.functional`` kernels. Each op is a
:class:`Function` whose ``forward(ctx, *arrays)`` and ``backward(ctx, dout)`` call the pure
kernels (``relu`` / ``relu_backward``, ``affine_forward`` / ``affine_backward``, the losses'
``(loss, dscores)``), as in minitorch. The alternative, cs231n-style modules that each carry a
hand-written forward and backward for a whole layer, would write the chain rule again in every
model and again in every composite layer (an LSTM cell, an attention block), and each copy is
one more place for a gradient bug. Here a new model needs no backward at all: it is composed of
ops, and the graph does the bookkeeping. A new *kind* of layer adds one ``Function`` around its
kernel, whose gradient the kernel's own tests already check. The maths exists once, and the
notebooks, the functional API and the autograd all run that one copy.
"""

from .attention_functions import scaled_dot_product_attention
from .block_functions import concat, depthwise_conv2d, pad2d
from .conv_functions import avg_pool2d, conv2d, max_pool2d
from .function import Context, Function, unbroadcast
from .functions import (
    add,
    affine,
    div,
    exp,
    gelu,
    leaky_relu,
    log,
    log_softmax,
    matmul,
    mean,
    mse_loss,
    mul,
    neg,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    softmax_cross_entropy,
    sub,
    sum,
    tanh,
    transpose,
)
from .loss_functions import binary_cross_entropy, categorical_cross_entropy, huber_loss, mae_loss
from .normalization_functions import (
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    weight_norm,
)
from .recurrent_functions import embedding, gru, last_step, lstm, rnn, sequence_cross_entropy
from .regularization_functions import dropout, l1_penalty, l2_penalty
from .scalar import Value
from .tensor import Tensor, tensor

__all__ = [
    "Context",
    "Function",
    "Tensor",
    "Value",
    "add",
    "affine",
    "div",
    "exp",
    "gelu",
    "leaky_relu",
    "log",
    "log_softmax",
    "matmul",
    "mean",
    "mse_loss",
    "mul",
    "neg",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "sub",
    "sum",
    "tanh",
    "tensor",
    "transpose",
    "unbroadcast",
]
__all__ += ["binary_cross_entropy", "categorical_cross_entropy", "huber_loss", "mae_loss"]
__all__ += ["dropout", "l1_penalty", "l2_penalty"]
__all__ += ["batch_norm", "group_norm", "instance_norm", "layer_norm", "weight_norm"]
__all__ += ["avg_pool2d", "conv2d", "max_pool2d"]
__all__ += ["concat", "depthwise_conv2d", "pad2d"]
__all__ += ["embedding", "gru", "last_step", "lstm", "rnn", "sequence_cross_entropy"]
__all__ += ["scaled_dot_product_attention"]

from .generative_functions import (  # noqa: E402
    discriminator_loss,
    generator_loss,
    kl_divergence,
    reconstruction_loss,
    reparameterize,
    vae_loss,
)

__all__ += [
    "discriminator_loss",
    "generator_loss",
    "kl_divergence",
    "reconstruction_loss",
    "reparameterize",
    "vae_loss",
]
