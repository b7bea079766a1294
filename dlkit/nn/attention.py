"""Attention layers (unit 10): multi-head attention, transformer blocks, positions, seq2seq.

* :class:`MultiHeadAttention`: self- or cross-attention with ``num_heads`` heads, one graph
  node for the whole ``softmax(q k^T / sqrt(d)) v`` of all heads
  (:func:`dlkit.autograd.scaled_dot_product_attention`);
* :class:`TransformerBlock`: a pre-norm encoder block (``torch.nn.TransformerEncoderLayer``
  with ``norm_first=True, activation="gelu"``), optionally causal;
* :class:`TransformerDecoderBlock`: causal self-attention, cross-attention on an encoder's
  ``memory``, MLP (``torch.nn.TransformerDecoderLayer`` with ``norm_first=True``);
* :class:`PositionalEmbedding`: learned or sinusoidal positions added to ``(N, T, E)``;
* :class:`Seq2SeqTransformer`: a small encoder-decoder with a greedy ``generate``.

Every sequence is **batch first**, ``(N, T, E)`` (torch's ``batch_first=True``). Weights are
in dlkit's ``x @ W`` layout, the TRANSPOSE of torch's; each class's docstring maps its
parameters to torch's names.

**Masks are boolean and True means ALLOWED** everywhere in dlkit: ``attn_mask[i, j]`` is
True where query ``i`` may attend to key ``j`` (torch's boolean
``torch.nn.functional.scaled_dot_product_attention`` convention), and a padding mask
``(N, T)`` is True where a token is REAL. ``torch.nn.MultiheadAttention`` and the
``torch.nn.Transformer*`` layers use the OPPOSITE boolean convention (True = masked out,
True = padding): pass them ``~mask``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import autograd as A
from .._validate import check_generator, check_size
from ..autograd import Tensor
from ..autograd.attention_functions import ScaledDotProductAttention
from ..backend import arange_like, asarray_like, describe, is_array, is_torch, to_numpy
from ..functional import causal_mask, positional_encoding
from ..init import xavier_init
from .modules import Linear, Module, Parameter
from .normalization import LayerNorm
from .recurrent import Embedding
from .regularization import Dropout

__all__ = [
    "MultiHeadAttention",
    "TransformerBlock",
    "TransformerDecoderBlock",
    "PositionalEmbedding",
    "Seq2SeqTransformer",
]

_OPPOSITE = (
    "True where attention is ALLOWED (torch's boolean scaled_dot_product_attention "
    "convention; the OPPOSITE of torch.nn.MultiheadAttention, where True = masked out)"
)


class _AttentionWithWeights(ScaledDotProductAttention):
    """The autograd op of :func:`dlkit.autograd.scaled_dot_product_attention`, which also
    appends its softmax weights (a plain array, no gradient) to ``weights_out``."""

    @staticmethod
    def forward(ctx: Any, q: Any, k: Any, v: Any, *, mask: Any = None, weights_out: list) -> Any:
        out = ScaledDotProductAttention.forward(ctx, q, k, v, mask=mask)
        weights_out.append(ctx.saved_values[0].weights)  # (N, H, Tq, Tk)
        return out


# -- helpers -------------------------------------------------------------------------------


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _check_sequence(x: Tensor, name: str, width: int, owner: Any, labels: str = "T") -> tuple:
    """``(N, T)`` of a ``(N, T, width)`` input, or a ValueError that names ``name``."""
    if x.ndim != 3 or x.shape[2] != width:
        raise ValueError(
            f"{owner!r} expects {name} of shape (N, {labels}, {width}) (batch first); "
            f"got shape {x.shape}"
        )
    return x.shape[0], x.shape[1]


def _linear3d(layer: Linear, x: Tensor) -> Tensor:
    """``layer`` applied to every position of ``x`` ``(N, T, D)`` -> ``(N, T, M)``."""
    n, t, d = x.shape
    return A.reshape(layer(A.reshape(x, (n * t, d))), (n, t, layer.out_features))


def _check_dropout(p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p < 1:
        raise ValueError(f"dropout must be a number in [0, 1); got {p!r}")
    return float(p)


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return value


def _to_kind(mask: Any, like: Any) -> Any:
    """A boolean ``mask`` moved to the kind and device of the array ``like``."""
    if is_torch(like):
        import torch

        return mask.to(like.device) if is_torch(mask) else torch.as_tensor(mask, device=like.device)
    return to_numpy(mask)


def _bool_mask(mask: Any, name: str, meaning: str, like: Any) -> Any:
    """``mask`` as a boolean array of ``like``'s kind, or a TypeError naming ``name``."""
    if isinstance(mask, Tensor):
        mask = mask.data
    if isinstance(mask, (list, tuple)):
        mask = np.asarray(mask)
    if not is_array(mask):
        raise TypeError(f"{name} must be a boolean array, {meaning}; got {describe(mask)}")
    if "bool" not in str(mask.dtype):
        raise TypeError(
            f"{name} must be boolean, {meaning}; got dtype {mask.dtype}. A 0/1 array converts "
            f"with {name} != 0; torch's MultiheadAttention-style mask with ~mask"
        )
    return _to_kind(mask, like)


def _padding_mask(mask: Any, name: str, n: int, t: int, like: Any) -> Any:
    """A checked ``(N, T)`` boolean padding mask (True = real token), of ``like``'s kind."""
    meaning = (
        "True where a token is REAL (the OPPOSITE of torch's key_padding_mask, where "
        "True = padding)"
    )
    mask = _bool_mask(mask, name, meaning, like)
    if tuple(mask.shape) != (n, t):
        raise ValueError(
            f"{name} must have shape (N, T) = ({n}, {t}), {meaning}; got shape {tuple(mask.shape)}"
        )
    return mask


# -- multi-head attention ------------------------------------------------------------------


class MultiHeadAttention(Module):
    """Multi-head scaled dot-product attention, batch first: ``torch.nn.MultiheadAttention``.

    ``q = query Wq + bq``, ``k = key Wk + bk``, ``v = value Wv + bv`` are split along the
    feature axis into ``num_heads`` heads of ``d = embed_dim // num_heads`` features,
    ``(N, T, E) -> (N, heads, T, d)``; each head computes ``softmax(q k^T / sqrt(d)) v`` over
    its allowed keys, the heads are joined back to ``(N, Tq, E)`` and projected by
    ``out_proj``. ``layer(x)`` is self-attention; ``layer(x, memory)`` (or
    ``layer(query, key, value)``) is cross-attention, with ``Tq != Tk`` allowed.

    Args:
        embed_dim: ``E``, the width of the queries and of the output; a multiple of
            ``num_heads``.
        num_heads: the number of heads.
        rng: the generator of the initial weights: Xavier-uniform (as torch's
            ``in_proj_weight``), drawn in the order ``q``, ``k``, ``v``, ``out``; biases 0.
        kdim, vdim: the widths of ``key`` and ``value`` (``None``: ``E``), as torch's.
        bias: whether the four projections have biases (torch's ``bias``).

    Parameters (``Linear`` sub-modules, ``x @ W`` layout) and their torch names:

    =======================  ==============  ==============================================
    dlkit                    shape           ``torch.nn.MultiheadAttention``
    =======================  ==============  ==============================================
    ``q_proj.weight``        ``(E, E)``      ``in_proj_weight[0:E].T`` (``q_proj_weight.T``
                                             when ``kdim`` or ``vdim`` differs from ``E``)
    ``k_proj.weight``        ``(kdim, E)``   ``in_proj_weight[E:2E].T`` (``k_proj_weight.T``)
    ``v_proj.weight``        ``(vdim, E)``   ``in_proj_weight[2E:3E].T`` (``v_proj_weight.T``)
    ``q/k/v_proj.bias``      ``(E,)`` each   ``in_proj_bias[0:E]``, ``[E:2E]``, ``[2E:3E]``
    ``out_proj.weight``      ``(E, E)``      ``out_proj.weight.T``
    ``out_proj.bias``        ``(E,)``        ``out_proj.bias``
    =======================  ==============  ==============================================

    **Masks** (NumPy or torch booleans, moved to the inputs' kind and device):

    * ``attn_mask`` ``(Tq, Tk)``, ``(N, num_heads, Tq, Tk)`` or ``(N, 1, Tq, Tk)``: **True
      where query i MAY attend to key j**. This is torch's boolean
      ``torch.nn.functional.scaled_dot_product_attention`` convention, and the OPPOSITE of
      ``torch.nn.MultiheadAttention``'s boolean ``attn_mask`` (True = NOT allowed): pass
      torch ``~attn_mask``. (torch's MHA takes a per-head mask as ``(N * num_heads, Tq,
      Tk)``; here it keeps its two axes.)
    * ``key_padding_mask`` ``(N, Tk)``: **True where a key is a REAL token**; again the
      OPPOSITE of torch's ``key_padding_mask`` (True = padding).
    * ``is_causal=True`` also applies :func:`dlkit.functional.causal_mask` ``(Tq, Tk)``
      (query ``i`` sees keys ``j <= i``; with ``Tq != Tk`` the last query is aligned with the
      last key).

    The masks combine with AND. A query left with no allowed key (e.g. every key padding)
    gets an output of zeros (``out_proj.bias`` after the projection) where torch gives NaN.

    ``forward(query, key=None, value=None, *, attn_mask=None, key_padding_mask=None,
    need_weights=False, is_causal=False)`` returns ``(out, weights)``: ``out`` ``(N, Tq, E)``
    and, when ``need_weights``, the attention weights ``(N, num_heads, Tq, Tk)`` as a plain
    array (torch's ``average_attn_weights=False``; ``weights.mean(axis=1)`` is torch's
    default average), else ``None``. The last weights are also kept on ``last_weights``
    (for the attention heatmaps). torch's ``dropout`` on the attention weights has no
    counterpart here.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        *,
        rng: np.random.Generator,
        kdim: int | None = None,
        vdim: int | None = None,
        bias: bool = True,
    ) -> None:
        self.embed_dim = e = check_size(embed_dim, "embed_dim")
        self.num_heads = h = check_size(num_heads, "num_heads")
        if e % h:
            raise ValueError(
                f"embed_dim must be divisible by num_heads (each head gets embed_dim // "
                f"num_heads features); got embed_dim={e}, num_heads={h}"
            )
        self.head_dim = e // h
        self.kdim = e if kdim is None else check_size(kdim, "kdim")
        self.vdim = e if vdim is None else check_size(vdim, "vdim")
        bias = _check_bool(bias, "bias")
        rng = check_generator(rng)
        self.q_proj = _xavier_linear(e, e, rng, bias)
        self.k_proj = _xavier_linear(self.kdim, e, rng, bias)
        self.v_proj = _xavier_linear(self.vdim, e, rng, bias)
        self.out_proj = _xavier_linear(e, e, rng, bias)
        self.last_weights: Any = None

    def forward(
        self,
        query: Any,
        key: Any = None,
        value: Any = None,
        *,
        attn_mask: Any = None,
        key_padding_mask: Any = None,
        need_weights: bool = False,
        is_causal: bool = False,
    ) -> tuple[Tensor, Any]:
        query = _as_tensor(query)
        if key is None:
            if value is not None:
                raise ValueError("value was given without key: pass both, or neither")
            if self.kdim != self.embed_dim or self.vdim != self.embed_dim:
                raise ValueError(
                    f"self-attention (key=None) needs kdim == vdim == embed_dim; {self!r} "
                    f"has kdim={self.kdim}, vdim={self.vdim}: pass key and value"
                )
        key = query if key is None else _as_tensor(key)
        value = key if value is None else _as_tensor(value)
        need_weights = _check_bool(need_weights, "need_weights")
        n, tq = _check_sequence(query, "query", self.embed_dim, self, "Tq")
        nk, tk = _check_sequence(key, "key", self.kdim, self, "Tk")
        nv, tv = _check_sequence(value, "value", self.vdim, self, "Tk")
        if nk != n or nv != n or tv != tk:
            raise ValueError(
                f"query, key and value must share N, and key and value Tk: got query of shape "
                f"{query.shape}, key of shape {key.shape} and value of shape {value.shape}"
            )
        is_causal = _check_bool(is_causal, "is_causal")
        mask = self._mask(attn_mask, key_padding_mask, is_causal, (n, tq, tk), query.data)
        q = self._split(_linear3d(self.q_proj, query))  # (N, H, Tq, d)
        k = self._split(_linear3d(self.k_proj, key))  # (N, H, Tk, d)
        v = self._split(_linear3d(self.v_proj, value))  # (N, H, Tk, d)
        weights: list = []
        heads = _AttentionWithWeights.apply(q, k, v, mask=mask, weights_out=weights)
        joined = A.reshape(A.transpose(heads, (0, 2, 1, 3)), (n, tq, self.embed_dim))
        self.last_weights = weights[0]  # (N, H, Tq, Tk)
        return _linear3d(self.out_proj, joined), (weights[0] if need_weights else None)

    def _split(self, x: Tensor) -> Tensor:
        """``(N, T, E) -> (N, heads, T, d)``: head ``h`` owns features ``[h*d, (h+1)*d)``."""
        n, t, _ = x.shape
        return A.transpose(A.reshape(x, (n, t, self.num_heads, self.head_dim)), (0, 2, 1, 3))

    def _mask(
        self, attn_mask: Any, key_padding_mask: Any, is_causal: bool, sizes: tuple, like: Any
    ) -> Any:
        """The combined boolean mask, broadcastable to ``(N, heads, Tq, Tk)``, or None."""
        n, tq, tk = sizes
        mask = None
        if attn_mask is not None:
            mask = _bool_mask(attn_mask, "attn_mask", _OPPOSITE, like)
            shape = tuple(mask.shape)
            if shape not in ((tq, tk), (n, self.num_heads, tq, tk), (n, 1, tq, tk)):
                raise ValueError(
                    f"attn_mask must have shape (Tq, Tk) = ({tq}, {tk}), (N, num_heads, Tq, "
                    f"Tk) = ({n}, {self.num_heads}, {tq}, {tk}) or (N, 1, Tq, Tk) = ({n}, 1, "
                    f"{tq}, {tk}), {_OPPOSITE}; got shape {shape}"
                )
        if key_padding_mask is not None:
            pad = _padding_mask(key_padding_mask, "key_padding_mask", n, tk, like)
            pad = pad.reshape(n, 1, 1, tk)
            mask = pad if mask is None else mask & pad
        if is_causal:
            causal = causal_mask(tq, tk, like=like)
            mask = causal if mask is None else mask & causal
        return mask

    def __repr__(self) -> str:
        extra = ""
        if self.kdim != self.embed_dim or self.vdim != self.embed_dim:
            extra = f", kdim={self.kdim}, vdim={self.vdim}"
        return f"MultiHeadAttention({self.embed_dim}, {self.num_heads}{extra})"


def _xavier_linear(d_in: int, d_out: int, rng: np.random.Generator, bias: bool) -> Linear:
    """A ``Linear(d_in, d_out)`` with Xavier-uniform weights drawn from ``rng``."""
    layer = Linear(d_in, d_out, rng=np.random.default_rng(0), bias=bias)  # shapes only
    layer.weight = Parameter(xavier_init(d_in, d_out, rng=rng, uniform=True))
    return layer


# -- transformer blocks --------------------------------------------------------------------


class _MLP(Module):
    """``Linear(E, M) -> GELU (exact) -> dropout -> Linear(M, E)`` on every position."""

    def __init__(self, embed_dim: int, mlp_dim: int, rng: np.random.Generator, p: float):
        self.fc1 = Linear(embed_dim, mlp_dim, rng=rng)
        self.fc2 = Linear(mlp_dim, embed_dim, rng=rng)
        self.drop = Dropout(p, rng=rng) if p > 0 else None

    def forward(self, x: Tensor) -> Tensor:
        h = A.gelu(_linear3d(self.fc1, x))
        if self.drop is not None:
            h = self.drop(h)
        return _linear3d(self.fc2, h)


def _dropout(p: float, rng: np.random.Generator) -> Dropout | None:
    return Dropout(p, rng=rng) if p > 0 else None


def _drop(layer: Dropout | None, x: Tensor) -> Tensor:
    return x if layer is None else layer(x)


class TransformerBlock(Module):
    """A pre-norm transformer encoder block on ``(N, T, E)``.

    ``x = x + drop1(attn(ln1(x)))``, then ``x = x + drop2(mlp(ln2(x)))`` with ``mlp`` =
    ``Linear(E, mlp_dim) -> GELU (exact erf form) -> dropout -> Linear(mlp_dim, E)``. This is
    ``torch.nn.TransformerEncoderLayer(E, num_heads, mlp_dim, activation="gelu",
    batch_first=True, norm_first=True)``; torch also drops attention weights inside its
    ``self_attn``, which this block does not.

    Args:
        embed_dim: ``E``; num_heads: the heads of ``attn``; mlp_dim: the MLP's hidden width
            (torch's ``dim_feedforward``).
        rng: the generator of the initial weights and of the dropout masks.
        dropout: the drop probability of the three dropouts (after attention, inside the MLP,
            after the MLP), as torch places them. They exist only when ``dropout > 0`` and act
            only in training mode (``block.eval()`` turns them off).
        causal: apply :func:`dlkit.functional.causal_mask` in the self-attention (a
            decoder-only / GPT block; torch's ``src_mask`` causal with ``is_causal=True``).

    Parameters and their torch names (``Linear`` weights are transposed):

    ================================  ==================================================
    dlkit                             ``torch.nn.TransformerEncoderLayer``
    ================================  ==================================================
    ``ln1``, ``ln2``                  ``norm1``, ``norm2``
    ``attn``                          ``self_attn`` (see :class:`MultiHeadAttention`)
    ``mlp.fc1.weight``, ``.bias``     ``linear1.weight.T``, ``linear1.bias``
    ``mlp.fc2.weight``, ``.bias``     ``linear2.weight.T``, ``linear2.bias``
    ================================  ==================================================

    ``forward(x, *, key_padding_mask=None, attn_mask=None)``: masks as in
    :class:`MultiHeadAttention` (True = real token, True = may attend); returns ``(N, T, E)``.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        mlp_dim: int,
        *,
        rng: np.random.Generator,
        dropout: float = 0.0,
        causal: bool = False,
    ) -> None:
        rng = check_generator(rng)
        self.embed_dim = check_size(embed_dim, "embed_dim")
        self.mlp_dim = check_size(mlp_dim, "mlp_dim")
        self.dropout = p = _check_dropout(dropout)
        self.causal = _check_bool(causal, "causal")
        self.ln1 = LayerNorm(self.embed_dim)
        self.attn = MultiHeadAttention(self.embed_dim, num_heads, rng=rng)
        self.ln2 = LayerNorm(self.embed_dim)
        self.mlp = _MLP(self.embed_dim, self.mlp_dim, rng, p)
        self.drop1, self.drop2 = _dropout(p, rng), _dropout(p, rng)

    def forward(self, x: Any, *, key_padding_mask: Any = None, attn_mask: Any = None) -> Tensor:
        x = _as_tensor(x)
        _check_sequence(x, "x", self.embed_dim, self)
        a, _ = self.attn(
            self.ln1(x),
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=self.causal,
        )
        x = x + _drop(self.drop1, a)
        return x + _drop(self.drop2, self.mlp(self.ln2(x)))

    def __repr__(self) -> str:
        return (
            f"TransformerBlock({self.embed_dim}, {self.attn.num_heads}, {self.mlp_dim}, "
            f"dropout={self.dropout}, causal={self.causal})"
        )


class TransformerDecoderBlock(Module):
    """A pre-norm transformer decoder block: causal self-attention, cross-attention, MLP.

    ``x = x + drop1(self_attn(ln1(x)))`` (causal), ``x = x + drop2(cross_attn(ln2(x),
    memory))``, ``x = x + drop3(mlp(ln3(x)))``: ``torch.nn.TransformerDecoderLayer(E,
    num_heads, mlp_dim, activation="gelu", batch_first=True, norm_first=True)`` called with a
    causal ``tgt_mask`` (``tgt_is_causal=True``). ``memory`` (the encoder's output
    ``(N, Ts, E)``) is used as it is: normalize it in the encoder.

    Args: as :class:`TransformerBlock` (without ``causal``: the self-attention always is).

    Parameters and their torch names (``Linear`` weights are transposed):

    ================================  ==================================================
    dlkit                             ``torch.nn.TransformerDecoderLayer``
    ================================  ==================================================
    ``ln1``, ``ln2``, ``ln3``         ``norm1``, ``norm2``, ``norm3``
    ``self_attn``                     ``self_attn``
    ``cross_attn``                    ``multihead_attn``
    ``mlp.fc1``, ``mlp.fc2``          ``linear1``, ``linear2``
    ================================  ==================================================

    ``forward(x, memory, *, memory_padding_mask=None, padding_mask=None)``: ``x`` ``(N, Tt,
    E)``; ``padding_mask`` ``(N, Tt)`` and ``memory_padding_mask`` ``(N, Ts)`` are True where
    a token is REAL (the opposite of torch's ``tgt_key_padding_mask`` /
    ``memory_key_padding_mask``). Returns ``(N, Tt, E)``.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        mlp_dim: int,
        *,
        rng: np.random.Generator,
        dropout: float = 0.0,
    ) -> None:
        rng = check_generator(rng)
        self.embed_dim = e = check_size(embed_dim, "embed_dim")
        self.mlp_dim = check_size(mlp_dim, "mlp_dim")
        self.dropout = p = _check_dropout(dropout)
        self.ln1 = LayerNorm(e)
        self.self_attn = MultiHeadAttention(e, num_heads, rng=rng)
        self.ln2 = LayerNorm(e)
        self.cross_attn = MultiHeadAttention(e, num_heads, rng=rng)
        self.ln3 = LayerNorm(e)
        self.mlp = _MLP(e, self.mlp_dim, rng, p)
        self.drop1, self.drop2, self.drop3 = (_dropout(p, rng) for _ in range(3))

    def forward(
        self, x: Any, memory: Any, *, memory_padding_mask: Any = None, padding_mask: Any = None
    ) -> Tensor:
        x, memory = _as_tensor(x), _as_tensor(memory)
        n, tt = _check_sequence(x, "x", self.embed_dim, self, "Tt")
        nm, ts = _check_sequence(memory, "memory", self.embed_dim, self, "Ts")
        if nm != n:
            raise ValueError(
                f"memory must hold the N = {n} sequences of x; got memory of shape {memory.shape}"
            )
        if padding_mask is not None:
            padding_mask = _padding_mask(padding_mask, "padding_mask", n, tt, x.data)
        if memory_padding_mask is not None:
            memory_padding_mask = _padding_mask(
                memory_padding_mask, "memory_padding_mask", n, ts, x.data
            )
        a, _ = self.self_attn(self.ln1(x), key_padding_mask=padding_mask, is_causal=True)
        x = x + _drop(self.drop1, a)
        c, _ = self.cross_attn(self.ln2(x), memory, key_padding_mask=memory_padding_mask)
        x = x + _drop(self.drop2, c)
        return x + _drop(self.drop3, self.mlp(self.ln3(x)))

    def __repr__(self) -> str:
        return (
            f"TransformerDecoderBlock({self.embed_dim}, {self.self_attn.num_heads}, "
            f"{self.mlp_dim}, dropout={self.dropout})"
        )


# -- positions -----------------------------------------------------------------------------


class PositionalEmbedding(Module):
    """Adds a position vector to every token of ``(N, T, E)``: ``x + P[:T]``.

    Args:
        max_len: the number of positions, the longest ``T`` accepted.
        embed_dim: ``E``.
        rng: the generator of the learned table (unused, and may be None, with
            ``learned=False``).
        learned: ``True``: ``weight`` ``(max_len, E)``, a :class:`Parameter` drawn from
            ``N(0, 1)`` like :class:`Embedding` (torch: an ``nn.Embedding(max_len, E)`` of
            positions). ``False``: the fixed sinusoidal ``table``
            (:func:`dlkit.functional.positional_encoding`), a plain array and no parameter.
    """

    def __init__(
        self, max_len: int, embed_dim: int, *, rng: np.random.Generator | None, learned: bool = True
    ) -> None:
        self.max_len = check_size(max_len, "max_len")
        self.embed_dim = check_size(embed_dim, "embed_dim")
        self.learned = _check_bool(learned, "learned")
        shape = (self.max_len, self.embed_dim)
        if self.learned:
            self.weight: Parameter | None = Parameter(check_generator(rng).standard_normal(shape))
            self.table = None
        else:
            self.weight = None
            self.table = positional_encoding(self.max_len, self.embed_dim)  # a buffer

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        _, t = _check_sequence(x, "x", self.embed_dim, self)
        if t > self.max_len:
            raise ValueError(
                f"x has T = {t} positions, more than max_len = {self.max_len} of {self!r}"
            )
        if self.weight is not None:  # rows 0..T-1 of the table, with their gradient
            return x + A.embedding(arange_like(t, self.weight.data), self.weight)
        return x + Tensor(asarray_like(self.table[:t], x.data))

    def __repr__(self) -> str:
        return f"PositionalEmbedding({self.max_len}, {self.embed_dim}, learned={self.learned})"


# -- an encoder-decoder --------------------------------------------------------------------


class Seq2SeqTransformer(Module):
    """A small pre-norm encoder-decoder transformer (Vaswani et al. 2017, pre-norm).

    ``encode``: ``src_embed`` + ``src_pos`` -> ``num_layers`` :class:`TransformerBlock` ->
    ``enc_norm``. ``decode``: ``tgt_embed`` + ``tgt_pos`` -> ``num_layers``
    :class:`TransformerDecoderBlock` on the memory -> ``dec_norm`` -> ``head``, a
    ``Linear(E, tgt_vocab)``. (torch's ``nn.Transformer`` has the same final norms.)

    Args:
        src_vocab, tgt_vocab: the vocabulary sizes.
        embed_dim, num_heads, mlp_dim: of every block.
        num_layers: encoder blocks, and as many decoder blocks.
        max_len: the longest source and target sequences (learned positions).
        rng: the generator of every initial weight (and the dropout masks).
        dropout: of every block (see :class:`TransformerBlock`).

    ``forward(src_ids, tgt_ids, *, src_padding_mask=None)`` with integer ids ``(N, Ts)`` and
    ``(N, Tt)`` returns the logits ``(N, Tt, tgt_vocab)``; position ``t`` sees the target
    tokens ``0..t`` only (teacher forcing: feed ``tgt[:, :-1]``, predict ``tgt[:, 1:]``).
    ``src_padding_mask`` ``(N, Ts)`` is True where a source token is REAL; padded source
    tokens then change nothing. Targets need no padding mask when padded at the END: causal
    attention never looks ahead, and the loss masks the padding (e.g.
    :func:`dlkit.autograd.sequence_cross_entropy` with a mask).
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        embed_dim: int,
        num_heads: int,
        mlp_dim: int,
        num_layers: int,
        max_len: int,
        *,
        rng: np.random.Generator,
        dropout: float = 0.0,
    ) -> None:
        rng = check_generator(rng)
        e = check_size(embed_dim, "embed_dim")
        self.num_layers = check_size(num_layers, "num_layers")
        self.max_len = check_size(max_len, "max_len")
        self.src_embed = Embedding(src_vocab, e, rng=rng)
        self.tgt_embed = Embedding(tgt_vocab, e, rng=rng)
        self.src_pos = PositionalEmbedding(self.max_len, e, rng=rng)
        self.tgt_pos = PositionalEmbedding(self.max_len, e, rng=rng)
        self.encoder = [
            TransformerBlock(e, num_heads, mlp_dim, rng=rng, dropout=dropout)
            for _ in range(self.num_layers)
        ]
        self.enc_norm = LayerNorm(e)
        self.decoder = [
            TransformerDecoderBlock(e, num_heads, mlp_dim, rng=rng, dropout=dropout)
            for _ in range(self.num_layers)
        ]
        self.dec_norm = LayerNorm(e)
        self.head = Linear(e, tgt_vocab, rng=rng)

    @property
    def embed_dim(self) -> int:
        return self.src_embed.embedding_dim

    def _ids(self, ids: Any, name: str) -> Any:
        if isinstance(ids, Tensor):
            ids = ids.data
        if isinstance(ids, (list, tuple)):
            ids = np.asarray(ids)
        if not is_array(ids) or ids.ndim != 2:
            raise ValueError(
                f"{name} must be integer token ids of shape (N, T); got {describe(ids)}"
            )
        if ids.shape[1] > self.max_len:
            raise ValueError(
                f"{name} has T = {ids.shape[1]} tokens, more than max_len = {self.max_len}"
            )
        return ids

    def _src_mask(self, mask: Any, src: Any) -> Any:
        if mask is None:
            return None
        like = self.src_embed.weight.data
        return _padding_mask(mask, "src_padding_mask", *src.shape, like)

    def encode(self, src_ids: Any, *, src_padding_mask: Any = None) -> Tensor:
        """The encoder's output, the memory ``(N, Ts, E)``."""
        src_ids = self._ids(src_ids, "src_ids")
        src_padding_mask = self._src_mask(src_padding_mask, src_ids)
        x = self.src_pos(self.src_embed(src_ids))
        for block in self.encoder:
            x = block(x, key_padding_mask=src_padding_mask)
        return self.enc_norm(x)

    def decode(self, tgt_ids: Any, memory: Tensor, *, src_padding_mask: Any = None) -> Tensor:
        """The logits ``(N, Tt, tgt_vocab)`` of the next token after each target prefix."""
        tgt_ids = self._ids(tgt_ids, "tgt_ids")
        x = self.tgt_pos(self.tgt_embed(tgt_ids))
        for block in self.decoder:
            x = block(x, memory, memory_padding_mask=src_padding_mask)
        return _linear3d(self.head, self.dec_norm(x))

    def forward(self, src_ids: Any, tgt_ids: Any, *, src_padding_mask: Any = None) -> Tensor:
        src = self._ids(src_ids, "src_ids")
        src_padding_mask = self._src_mask(src_padding_mask, src)
        tgt = self._ids(tgt_ids, "tgt_ids")
        if tgt.shape[0] != src.shape[0]:
            raise ValueError(
                f"tgt_ids must hold the N = {src.shape[0]} sequences of src_ids; got shape "
                f"{tuple(tgt.shape)}"
            )
        memory = self.encode(src, src_padding_mask=src_padding_mask)
        return self.decode(tgt, memory, src_padding_mask=src_padding_mask)

    def generate(
        self,
        src_ids: Any,
        bos_id: int,
        max_len: int,
        *,
        src_padding_mask: Any = None,
        eos_id: int | None = None,
    ) -> Any:
        """Greedy decoding: ``(N, L)`` ids starting with ``bos_id``, ``L <= max_len``.

        Each step appends the most likely next token. With ``eos_id``, a sequence that has
        produced it continues with ``eos_id``, and decoding stops early once every sequence
        has. Runs in eval mode (no dropout) and restores the mode. Returns the kind (NumPy or
        torch) of ``src_ids``.
        """
        src = self._ids(src_ids, "src_ids")
        vocab = self.tgt_embed.num_embeddings
        for value, name in ((bos_id, "bos_id"), (eos_id, "eos_id")):
            if name == "eos_id" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int token id; got {value!r}")
            if not 0 <= value < vocab:
                raise ValueError(f"{name} must be in [0, tgt_vocab = {vocab}); got {value}")
        length = check_size(max_len, "max_len")
        if length > self.max_len:
            raise ValueError(
                f"max_len must be <= the model's max_len = {self.max_len}; got {length}"
            )
        training = self.training
        self.eval()
        try:
            src_padding_mask = self._src_mask(src_padding_mask, src)
            memory = self.encode(src, src_padding_mask=src_padding_mask)
            out = np.full((int(src.shape[0]), 1), int(bos_id), dtype=np.int64)
            done = np.zeros(out.shape[0], dtype=bool)
            while out.shape[1] < length:
                ids = _ids_like(out, src)
                logits = self.decode(ids, memory, src_padding_mask=src_padding_mask)
                nxt = to_numpy(logits.data[:, -1]).argmax(axis=-1)
                if eos_id is not None:
                    nxt = np.where(done, eos_id, nxt)
                    done |= nxt == eos_id
                out = np.concatenate([out, nxt[:, None]], axis=1)
                if eos_id is not None and done.all():
                    break
        finally:
            self.train(training)
        return _ids_like(out, src)

    def __repr__(self) -> str:
        return (
            f"Seq2SeqTransformer({self.src_embed.num_embeddings}, "
            f"{self.tgt_embed.num_embeddings}, {self.embed_dim}, "
            f"{self.encoder[0].attn.num_heads}, {self.encoder[0].mlp_dim}, {self.num_layers}, "
            f"{self.max_len})"
        )


def _ids_like(ids: np.ndarray, like: Any) -> Any:
    if is_torch(like):
        import torch

        return torch.as_tensor(ids, device=like.device)
    return ids
