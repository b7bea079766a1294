"""Recurrent layers, embeddings and the masked sequence loss as autograd ops (unit 09).

Each op is a :class:`Function` around the ``dlkit.functional`` kernels of the same name
(``rnn_forward`` / ``rnn_backward``, ``lstm_*``, ``gru_*``, ``embedding_*``,
``sequence_cross_entropy``), so backpropagation through time is the kernels' own, already
checked against torch; the graph records ONE node per layer, not one per time step.

* :func:`rnn`, :func:`lstm`, :func:`gru` return every hidden state ``(N, T, H)``;
  :func:`last_step` picks ``h[:, -1]`` ``(N, H)`` differentiably.
* :func:`lstm` can also hand back the last cell state (``cell_out``), as a plain array
  outside the graph: gradients reach an LSTM through its hidden states only.
* :func:`embedding` looks rows up; the ids are data and get no gradient.
"""

from __future__ import annotations

from typing import Any

from .. import functional as K
from ..functional._windows import zeros
from .function import Context, Function
from .loss_functions import loss_op
from .tensor import Tensor

__all__ = ["rnn", "lstm", "gru", "embedding", "sequence_cross_entropy", "last_step"]


class RNN(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, h0: Any, Wx: Any, Wh: Any, b: Any) -> Any:
        h, cache = K.rnn_forward(x, h0, Wx, Wh, b)
        ctx.save_for_backward(cache)
        return h

    @staticmethod
    def backward(ctx: Context, dh: Any) -> tuple[Any, ...]:
        return K.rnn_backward(dh, ctx.saved_values[0])


class LSTM(Function):
    @staticmethod
    def forward(
        ctx: Context, x: Any, h0: Any, Wx: Any, Wh: Any, b: Any, *, cell_out: Any = None
    ) -> Any:
        h, cache = K.lstm_forward(x, h0, Wx, Wh, b)
        ctx.save_for_backward(cache)
        if cell_out is not None:
            cell_out.append(cache.cs[-1])  # (N, H), c_T
        return h

    @staticmethod
    def backward(ctx: Context, dh: Any) -> tuple[Any, ...]:
        return K.lstm_backward(dh, ctx.saved_values[0])


class GRU(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, h0: Any, Wx: Any, Wh: Any, bx: Any, bh: Any) -> Any:
        h, cache = K.gru_forward(x, h0, Wx, Wh, bx, bh)
        ctx.save_for_backward(cache)
        return h

    @staticmethod
    def backward(ctx: Context, dh: Any) -> tuple[Any, ...]:
        return K.gru_backward(dh, ctx.saved_values[0])


class Embedding(Function):
    @staticmethod
    def forward(ctx: Context, W: Any, *, ids: Any) -> Any:
        out, cache = K.embedding_forward(ids, W)
        ctx.save_for_backward(cache)
        return out

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        return (K.embedding_backward(dout, ctx.saved_values[0]),)


class LastStep(Function):
    """``h[:, -1]``: the last time step of ``(N, T, H)``; backward puts ``dout`` there."""

    @staticmethod
    def forward(ctx: Context, h: Any) -> Any:
        if h.ndim != 3:
            raise ValueError(f"h must be (N, T, H); got shape {tuple(h.shape)}")
        ctx.save_for_backward(tuple(h.shape))
        return h[:, -1]

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        dh = zeros(ctx.saved_values[0], dout)
        dh[:, -1] = dout
        return (dh,)


SequenceCrossEntropy = loss_op("SequenceCrossEntropy", K.sequence_cross_entropy, target_grad=False)


def _data(a: Any) -> Any:
    return a.data if isinstance(a, Tensor) else a


def rnn(x: Tensor, h0: Tensor, Wx: Tensor, Wh: Tensor, b: Tensor) -> Tensor:
    """Every hidden state ``(N, T, H)`` of a tanh RNN; see :func:`dlkit.functional.rnn_forward`."""
    return RNN.apply(x, h0, Wx, Wh, b)


def lstm(
    x: Tensor, h0: Tensor, Wx: Tensor, Wh: Tensor, b: Tensor, *, cell_out: list | None = None
) -> Tensor:
    """Every hidden state ``(N, T, H)`` of an LSTM (``c0 = 0``, gates i, f, g, o).

    ``cell_out``: a list that receives the last cell state ``c_T`` ``(N, H)``, a plain array
    (no gradient flows back through it).
    """
    return LSTM.apply(x, h0, Wx, Wh, b, cell_out=cell_out)


def gru(x: Tensor, h0: Tensor, Wx: Tensor, Wh: Tensor, bx: Tensor, bh: Tensor) -> Tensor:
    """Every hidden state ``(N, T, H)`` of a GRU (gates r, z, n, as torch)."""
    return GRU.apply(x, h0, Wx, Wh, bx, bh)


def embedding(ids: Any, W: Tensor) -> Tensor:
    """``W[ids]`` ``(*ids.shape, D)``; ``ids`` is an integer array (or Tensor of one)."""
    return Embedding.apply(W, ids=_data(ids))


def sequence_cross_entropy(logits: Tensor, targets: Any, mask: Any = None) -> Tensor:
    """Mean cross-entropy of ``logits`` ``(N, T, V)`` over the positions where ``mask``
    ``(N, T)`` is True; ``targets`` ``(N, T)`` integer ids get no gradient."""
    return SequenceCrossEntropy.apply(logits, _data(targets), mask=_data(mask))


def last_step(h: Tensor) -> Tensor:
    """``h[:, -1]``, the last hidden state ``(N, H)`` of a sequence ``(N, T, H)``."""
    return LastStep.apply(h)
