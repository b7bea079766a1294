"""Regularization layers: :class:`Dropout`.

Weight penalties are not layers: they are set for the whole model in
``model.compile(..., l1=..., l2=...)`` (see ``training.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import autograd as A
from ..autograd import Tensor
from ..backend import describe
from .modules import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Inverted dropout: in training, zero each unit with probability ``p_drop`` and scale
    the survivors by ``1 / (1 - p_drop)``; in eval mode, the identity.

    Because the survivors are scaled up during training, the expected activation is the
    same in both modes, and nothing needs rescaling at test time.

    Args:
        p_drop: the probability of *dropping* a unit, in ``[0, 1)`` (torch's ``p``; Keras's
            ``rate``). ``0`` is the identity.
        rng: the generator the masks are drawn from; the layer keeps it, so a model built
            from one seed drops the same units in every run.
    """

    def __init__(self, p_drop: float, *, rng: np.random.Generator) -> None:
        bad = isinstance(p_drop, bool) or not isinstance(p_drop, (int, float, np.floating))
        if bad or not 0.0 <= p_drop < 1.0:
            raise ValueError(
                "p_drop must be a number in [0, 1), the probability of dropping a unit "
                f"(1 would drop everything); got {p_drop!r}"
            )
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a np.random.Generator, e.g. np.random.default_rng(0); "
                f"got {describe(rng)}"
            )
        self.p_drop, self.rng = float(p_drop), rng

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        return A.dropout(x, self.p_drop, rng=self.rng, training=self.training)

    def __repr__(self) -> str:
        return f"Dropout(p_drop={self.p_drop})"
