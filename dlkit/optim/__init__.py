"""Optimizers: pure update rules (``rules``), PyTorch-style wrappers and learning-rate schedules.

``SGD``, ``AdaGrad``, ``RMSProp``, ``Adadelta``, ``Adam`` and ``AdamW`` update each parameter's
``.data`` in place from its ``.grad`` (or from ``step(grads)`` for plain arrays) and match
``torch.optim`` step for step for the same hyperparameters.
"""

from . import rules
from .optimizers import SGD, Adadelta, AdaGrad, Adam, AdamW, Optimizer, RMSProp
from .schedules import (
    CosineAnnealingLR,
    ExponentialLR,
    LinearWarmup,
    SequentialLR,
    StepLR,
)

__all__ = [
    "SGD",
    "AdaGrad",
    "Adadelta",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LinearWarmup",
    "Optimizer",
    "RMSProp",
    "SequentialLR",
    "StepLR",
    "rules",
]
