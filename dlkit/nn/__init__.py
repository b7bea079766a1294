"""Layers as modules on top of the tensor autograd, and the training API.

* ``modules.py``: :class:`Parameter`, :class:`Module` and the core layers
  (:class:`Linear`, activations, :class:`Sequential`).
* ``normalization.py``: batch, layer, group and instance norm, and :class:`WeightNormLinear`.
* ``training.py`` (with ``registry.py``, ``progress.py``): ``compile``, ``fit``,
  ``evaluate`` and ``predict``, methods of every module; ``callbacks.py``: ``History``,
  ``EarlyStopping``, ``LearningRateScheduler``, ``LambdaCallback``, ``LiveCurves``;
  ``regularization.py``: :class:`Dropout`.
* ``recurrent.py``: :class:`Embedding`, :class:`RNN`, :class:`LSTM`, :class:`GRU`, and
  ``clip_grad_norm_``.
* ``attention.py``: :class:`MultiHeadAttention`, :class:`TransformerBlock`,
  :class:`TransformerDecoderBlock`, :class:`PositionalEmbedding`,
  :class:`Seq2SeqTransformer` (masks: boolean, True = allowed / real token).

Every name is re-exported here: ``from dlkit.nn import Linear``.
"""

from .attention import (
    MultiHeadAttention,
    PositionalEmbedding,
    Seq2SeqTransformer,
    TransformerBlock,
    TransformerDecoderBlock,
)
from .blocks import DepthwiseConv2d, DepthwiseSeparableConv, InceptionBlock, ResidualBlock
from .callbacks import (
    Callback,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    LiveCurves,
)
from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from .modules import Linear, Module, Parameter, ReLU, Sequential, Sigmoid, Tanh
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    InstanceNorm2d,
    LayerNorm,
    WeightNormLinear,
)
from .progress import ProgressBar
from .recurrent import GRU, LSTM, RNN, Embedding, clip_grad_norm_
from .regularization import Dropout
from .training import TrainingSetup

__all__ = ["Linear", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid", "Tanh"]
__all__ += [
    "BatchNorm1d",
    "BatchNorm2d",
    "GroupNorm",
    "InstanceNorm2d",
    "LayerNorm",
    "WeightNormLinear",
]
__all__ += [
    "Callback",
    "Dropout",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "LiveCurves",
    "ProgressBar",
    "TrainingSetup",
]
__all__ += ["AvgPool2d", "Conv2d", "Flatten", "MaxPool2d"]
__all__ += ["DepthwiseConv2d", "DepthwiseSeparableConv", "InceptionBlock", "ResidualBlock"]
__all__ += ["GRU", "LSTM", "RNN", "Embedding", "clip_grad_norm_"]
__all__ += [
    "MultiHeadAttention",
    "PositionalEmbedding",
    "Seq2SeqTransformer",
    "TransformerBlock",
    "TransformerDecoderBlock",
]

from .generative import (  # noqa: E402
    VAE,
    Autoencoder,
    Discriminator,
    Generator,
    autoencoder_step,
    gan_step,
    vae_step,
)

__all__ += [
    "VAE",
    "Autoencoder",
    "Discriminator",
    "Generator",
    "autoencoder_step",
    "gan_step",
    "vae_step",
]
