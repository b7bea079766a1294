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
from .attention import (
    causal_mask,
    positional_encoding,
    scaled_dot_product_attention,
    scaled_dot_product_attention_backward,
)
from .conv import conv2d_backward, conv2d_forward, conv2d_naive
from .depthwise import depthwise_conv2d_backward, depthwise_conv2d_forward
from .embedding import embedding_backward, embedding_forward
from .group_norm import (
    groupnorm_backward,
    groupnorm_forward,
    instancenorm_backward,
    instancenorm_forward,
)
from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
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
from .lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .mlp import mlp_forward
from .normalization import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from .pool import avgpool2d_backward, avgpool2d_forward, maxpool2d_backward, maxpool2d_forward
from .regularization import dropout_backward, dropout_forward, l1_penalty, l2_penalty
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from .sequence import clip_grad_norm, sample, sequence_cross_entropy
from .weight_norm import weightnorm_backward, weightnorm_forward

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
__all__ += ["dropout_backward", "dropout_forward", "l1_penalty", "l2_penalty"]
__all__ += [
    "batchnorm_backward",
    "batchnorm_forward",
    "groupnorm_backward",
    "groupnorm_forward",
    "instancenorm_backward",
    "instancenorm_forward",
    "layernorm_backward",
    "layernorm_forward",
    "weightnorm_backward",
    "weightnorm_forward",
]
__all__ += ["conv2d_backward", "conv2d_forward", "conv2d_naive"]
__all__ += ["avgpool2d_backward", "avgpool2d_forward", "maxpool2d_backward", "maxpool2d_forward"]
__all__ += ["depthwise_conv2d_backward", "depthwise_conv2d_forward"]
__all__ += ["embedding_backward", "embedding_forward"]
__all__ += ["rnn_backward", "rnn_forward", "rnn_step_backward", "rnn_step_forward"]
__all__ += ["lstm_backward", "lstm_forward", "lstm_step_backward", "lstm_step_forward"]
__all__ += ["gru_backward", "gru_forward", "gru_step_backward", "gru_step_forward"]
__all__ += ["clip_grad_norm", "sample", "sequence_cross_entropy"]
__all__ += [
    "causal_mask",
    "positional_encoding",
    "scaled_dot_product_attention",
    "scaled_dot_product_attention_backward",
]
from .generative import (  # noqa: E402
    corrupt,
    discriminator_loss,
    generator_loss,
    kl_divergence,
    reconstruction_loss,
    reparameterize,
    reparameterize_backward,
    vae_loss,
)

__all__ += [
    "corrupt",
    "discriminator_loss",
    "generator_loss",
    "kl_divergence",
    "reconstruction_loss",
    "reparameterize",
    "reparameterize_backward",
    "vae_loss",
]
