"""Recurrent layers and embeddings (unit 09): ``Embedding``, ``RNN``, ``LSTM``, ``GRU``.

Each module owns its parameters and calls one autograd op of
``dlkit.autograd.recurrent_functions`` (one graph node per layer, backpropagation through
time inside it). Parameters are float64 and in dlkit's ``x @ W`` layout, the TRANSPOSE of
torch's; with ``G`` gates (1 RNN, 4 LSTM, 3 GRU):

=====================  ================  ===============================================
dlkit                  shape             torch (``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``)
=====================  ================  ===============================================
``weight_ih``          ``(D, G*H)``      ``weight_ih_l0.T``
``weight_hh``          ``(H, G*H)``      ``weight_hh_l0.T``
``bias`` (RNN, LSTM)   ``(G*H,)``        ``bias_ih_l0 + bias_hh_l0`` (one bias suffices)
``bias_ih``, ``bias_hh``  ``(3H,)``      ``bias_ih_l0``, ``bias_hh_l0`` (GRU: ``bias_hh``'s
(GRU)                                    n part is inside ``r * (...)``, so two are needed)
=====================  ================  ===============================================

Initialisation as torch: every weight and bias ``U(-1/sqrt(H), 1/sqrt(H))``, drawn from an
explicit ``rng`` in the order ``weight_ih``, ``weight_hh``, then the bias(es); ``Embedding``
rows ``N(0, 1)``. ``forward(x, h0=None)`` returns ``(out, h_n)``: every hidden state
``(N, T, H)`` (``(T, N, H)`` with ``batch_first=False``) and the last one ``(N, H)`` (torch's
``h_n[0]``: one layer, so no layer axis). ``LSTM`` returns ``(out, (h_n, c_n))`` with
``c_n`` a plain array (no gradient flows through it) and always starts from ``c0 = 0``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import autograd as A
from .._validate import check_generator, check_size
from ..autograd import Tensor
from ..autograd.recurrent_functions import embedding, gru, last_step, lstm, rnn
from .modules import Module, Parameter

__all__ = ["Embedding", "RNN", "LSTM", "GRU", "clip_grad_norm_"]


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors of ``embedding_dim`` (``weight`` (V, D)).

    ``layer(ids)`` with integer ids of any shape ``S`` returns ``(*S, D)``.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, *, rng: np.random.Generator):
        self.num_embeddings = check_size(num_embeddings, "num_embeddings")
        self.embedding_dim = check_size(embedding_dim, "embedding_dim")
        shape = (self.num_embeddings, self.embedding_dim)
        self.weight = Parameter(check_generator(rng).standard_normal(shape))  # (V, D), as torch

    def forward(self, ids: Any) -> Tensor:
        return embedding(ids, self.weight)

    def __repr__(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"


class _Recurrent(Module):
    """Shared by :class:`RNN`, :class:`LSTM` and :class:`GRU` (which differ in the gates)."""

    gates = 1
    biases: tuple[str, ...] = ("bias",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        batch_first: bool = True,
        *,
        rng: np.random.Generator,
    ) -> None:
        self.input_size = check_size(input_size, "input_size")
        self.hidden_size = h = check_size(hidden_size, "hidden_size")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first must be True or False; got {batch_first!r}")
        self.batch_first = batch_first
        rng, k, gh = check_generator(rng), 1.0 / math.sqrt(h), self.gates * h
        self.weight_ih = Parameter(rng.uniform(-k, k, (self.input_size, gh)))  # (D, G*H)
        self.weight_hh = Parameter(rng.uniform(-k, k, (h, gh)))  # (H, G*H)
        for name in self.biases:
            setattr(self, name, Parameter(rng.uniform(-k, k, gh)))  # (G*H,)

    def _inputs(self, x: Any, h0: Any) -> tuple[Tensor, Tensor]:
        x = x if isinstance(x, Tensor) else Tensor(x)
        layout = "(N, T, D)" if self.batch_first else "(T, N, D)"
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(
                f"{self!r} expects x of shape {layout} with D = {self.input_size}; "
                f"got shape {x.shape}"
            )
        if not self.batch_first:
            x = A.transpose(x, (1, 0, 2))  # (N, T, D)
        if h0 is None:
            h0 = Tensor(_zeros_like(x.data, (x.shape[0], self.hidden_size)))  # (N, H)
        return x, h0 if isinstance(h0, Tensor) else Tensor(h0)

    def _outputs(self, out: Tensor) -> tuple[Tensor, Tensor]:
        h_n = last_step(out)  # (N, H)
        return (out if self.batch_first else A.transpose(out, (1, 0, 2))), h_n

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.input_size}, {self.hidden_size}, "
            f"batch_first={self.batch_first})"
        )


def _zeros_like(data: Any, shape: tuple[int, int]) -> Any:
    if isinstance(data, np.ndarray):
        return np.zeros(shape, dtype=data.dtype)
    return data.new_zeros(shape)


class RNN(_Recurrent):
    """A tanh RNN layer: ``h_t = tanh(x_t W_ih + h_{t-1} W_hh + b)``.

    Args:
        input_size: ``D``; hidden_size: ``H``.
        batch_first: inputs and outputs ``(N, T, ...)`` (default) or ``(T, N, ...)``.
        rng: the generator of the initial weights.

    ``layer(x, h0=None)`` -> ``(out, h_n)``; ``h0`` ``(N, H)`` defaults to zeros.
    """

    def forward(self, x: Any, h0: Any = None) -> tuple[Tensor, Tensor]:
        x, h0 = self._inputs(x, h0)
        return self._outputs(rnn(x, h0, self.weight_ih, self.weight_hh, self.bias))


class LSTM(_Recurrent):
    """An LSTM layer (gates i, f, g, o as torch), ``c0 = 0``.

    ``layer(x, h0=None)`` -> ``(out, (h_n, c_n))``; ``c_n`` ``(N, H)`` is a plain array.
    Arguments as :class:`RNN`.
    """

    gates = 4

    def forward(self, x: Any, h0: Any = None) -> tuple[Tensor, tuple[Tensor, Any]]:
        x, h0 = self._inputs(x, h0)
        cell: list = []
        out = lstm(x, h0, self.weight_ih, self.weight_hh, self.bias, cell_out=cell)
        out, h_n = self._outputs(out)
        return out, (h_n, cell[0])


class GRU(_Recurrent):
    """A GRU layer (gates r, z, n as torch, two biases). Arguments and outputs as :class:`RNN`."""

    gates = 3
    biases = ("bias_ih", "bias_hh")

    def forward(self, x: Any, h0: Any = None) -> tuple[Tensor, Tensor]:
        x, h0 = self._inputs(x, h0)
        out = gru(x, h0, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return self._outputs(out)


def clip_grad_norm_(parameters: Any, max_norm: float) -> float:
    """Clip the ``.grad`` of ``parameters`` IN PLACE to a global L2 norm of ``max_norm``.

    The module-level counterpart of :func:`dlkit.functional.clip_grad_norm` (as torch's
    ``clip_grad_norm_``): call it between ``loss.backward()`` and ``optimizer.step()``.
    Returns the norm before clipping, as a float.
    """
    from ..functional import clip_grad_norm

    params = [p for p in parameters if p.grad is not None]
    if not params:
        return 0.0
    clipped, total = clip_grad_norm([p.grad for p in params], max_norm)
    for p, g in zip(params, clipped, strict=True):
        p.grad = g
    return float(total)
