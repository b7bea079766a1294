"""Attention (unit 10): dlkit on NumPy vs torch on the CPU, forward + backward.

    python -m benchmarks.bench_attention             # full run (a few seconds); a table
    python -m benchmarks.bench_attention --quick     # tiny sizes, 3 repeats (the test runs this)
    python -m benchmarks.bench_attention --cpu-time  # on a busy machine: thread CPU time

Every case is timed side by side in one process, single-threaded, dlkit and torch
alternating (``harness.compare``), 11 repeats, median and minimum, float32:

* causal self-attention forward + backward at B=8, heads=4, T=128, d=32:
  ``scaled_dot_product_attention`` + ``scaled_dot_product_attention_backward`` of a fixed
  upstream gradient with the boolean ``causal_mask(128)``, against torch's
  ``F.scaled_dot_product_attention(q, k, v, attn_mask=mask)`` with the same boolean mask and
  ``torch.autograd.grad`` for ``q``, ``k``, ``v``. Target: at most 1.5x torch's time. The
  same round also times torch with ``is_causal=True`` instead of the mask: a second row
  (measured, no target).
* a pre-norm transformer-block training step at N=8, T=64, E=128, 4 heads, MLP width 512:
  layer norm, multi-head self-attention (one fused q/k/v projection, no mask, an output
  projection), residual, layer norm, ``affine -> GELU -> affine``, residual, and the MSE
  loss against a fixed target; the gradients of every weight and of the input. dlkit's
  forward and backward are written out below with ``dlkit.functional`` kernels
  (:func:`block_forward`, :func:`block_backward`); torch runs
  ``nn.TransformerEncoderLayer(E, 4, 512, dropout=0.0, activation="gelu",
  batch_first=True, norm_first=True)`` with the same weights and ``torch.autograd.grad``
  (measured, no target).

The run also measures a 1024x1024 float32 matrix product with NumPy's BLAS and reports each
case's useful arithmetic (the matrix products, counted dense: ``4 B H T^2 d`` forward,
twice that backward, for attention; plus ``2 N T (4 E^2 + 2 E M)`` forward and twice that
backward for the block's projections) in GFLOP/s and as a fraction of that product.
"""

from __future__ import annotations  # noqa: I001 (harness must load before NumPy)

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import harness  # sets thread variables before NumPy loads
import numpy as np

import dlkit.functional as F

REPEATS = 11
CAUSAL = "torch is_causal=True"  # the extra contender of the attention case


@dataclass(frozen=True)
class Attention:
    """Causal self-attention of ``(b, heads, t, d)`` queries, keys and values."""

    b: int = 8
    heads: int = 4
    t: int = 128
    d: int = 32
    target: float | None = 1.5

    @property
    def name(self) -> str:
        return (
            f"causal attention fwd+bwd float32 B={self.b} heads={self.heads} T={self.t} d={self.d}"
        )

    @property
    def flops(self) -> float:
        """``q k^T`` and ``W v`` forward; ``dW``, ``dv``, ``dq``, ``dk`` backward (dense)."""
        return 6 * 2 * self.b * self.heads * self.t * self.t * self.d


def attention_contenders(case: Attention, rng: np.random.Generator) -> dict[str, Callable]:
    """dlkit, torch with the boolean mask, torch with ``is_causal=True``: each returns
    ``(out, dq, dk, dv)`` for the same data and upstream gradient."""
    import torch

    shape = (case.b, case.heads, case.t, case.d)
    q, k, v, dout = (rng.standard_normal(shape).astype(np.float32) for _ in range(4))
    mask = F.causal_mask(case.t)

    def dlkit_run() -> tuple[Any, ...]:
        out, cache = F.scaled_dot_product_attention(q, k, v, mask)
        return (out, *F.scaled_dot_product_attention_backward(dout, cache))

    leaves = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    t_mask, t_dout = torch.tensor(mask), torch.tensor(dout)
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def torch_run() -> tuple[Any, ...]:
        out = sdpa(*leaves, attn_mask=t_mask)
        return (out, *torch.autograd.grad(out, leaves, t_dout))

    def torch_causal_run() -> tuple[Any, ...]:
        out = sdpa(*leaves, is_causal=True)
        return (out, *torch.autograd.grad(out, leaves, t_dout))

    return {"dlkit": dlkit_run, "torch": torch_run, CAUSAL: torch_causal_run}


# -- the transformer block ----------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A pre-norm transformer encoder block: ``(n, t, e)`` tokens, ``heads``, MLP ``m``."""

    n: int = 8
    t: int = 64
    e: int = 128
    heads: int = 4
    m: int = 512

    @property
    def name(self) -> str:
        return (
            f"pre-norm transformer block step float32 N={self.n} T={self.t} E={self.e} "
            f"heads={self.heads} MLP={self.m}"
        )

    @property
    def flops(self) -> float:
        """The four projections and the MLP, and attention's two products, x3 for backward."""
        tokens = self.n * self.t
        linear = 2 * tokens * (4 * self.e * self.e + 2 * self.e * self.m)
        return 3 * (linear + 4 * self.n * self.t * self.t * self.e)


# dlkit's weights, in the order of torch's ``named_parameters()`` of the same layer
TORCH_NAMES = {
    "w_qkv": "self_attn.in_proj_weight",  # (E, 3E) here, (3E, E) in torch
    "b_qkv": "self_attn.in_proj_bias",
    "w_o": "self_attn.out_proj.weight",
    "b_o": "self_attn.out_proj.bias",
    "w1": "linear1.weight",
    "b1": "linear1.bias",
    "w2": "linear2.weight",
    "b2": "linear2.bias",
    "ln1_g": "norm1.weight",
    "ln1_b": "norm1.bias",
    "ln2_g": "norm2.weight",
    "ln2_b": "norm2.bias",
}


def block_forward(x: np.ndarray, p: dict[str, np.ndarray], heads: int) -> tuple[Any, tuple]:
    """``y = x1 + MLP(LN2(x1))`` with ``x1 = x + MHA(LN1(x))``, ``x`` ``(N, T, E)``."""
    n, t, e = x.shape
    dh = e // heads
    h1, ln1 = F.layernorm_forward(x, p["ln1_g"], p["ln1_b"])
    qkv, proj = F.affine_forward(h1.reshape(n * t, e), p["w_qkv"], p["b_qkv"])  # (NT, 3E)
    q, k, v = qkv.reshape(n, t, 3, heads, dh).transpose(2, 0, 3, 1, 4)  # 3 x (N, H, T, dh)
    ctx, attn = F.scaled_dot_product_attention(q, k, v)  # (N, H, T, dh)
    joined = ctx.transpose(0, 2, 1, 3).reshape(n * t, e)  # (NT, E): the heads side by side
    a, out_proj = F.affine_forward(joined, p["w_o"], p["b_o"])
    x1 = x + a.reshape(n, t, e)
    h2, ln2 = F.layernorm_forward(x1, p["ln2_g"], p["ln2_b"])
    u, fc1 = F.affine_forward(h2.reshape(n * t, e), p["w1"], p["b1"])  # (NT, M)
    mlp, fc2 = F.affine_forward(F.gelu(u), p["w2"], p["b2"])  # (NT, E)
    y = x1 + mlp.reshape(n, t, e)
    return y, (ln1, proj, attn, out_proj, ln2, fc1, u, fc2, heads)


def block_backward(dy: np.ndarray, cache: tuple) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(dx, grads)`` of :func:`block_forward`, ``grads`` keyed as the weights."""
    ln1, proj, attn, out_proj, ln2, fc1, u, fc2, heads = cache
    n, t, e = dy.shape
    dh = e // heads
    g = {}
    dg, g["w2"], g["b2"] = F.affine_backward(dy.reshape(n * t, e), fc2)  # residual: dmlp = dy
    dh2, g["w1"], g["b1"] = F.affine_backward(F.gelu_backward(dg, u), fc1)
    dx1, g["ln2_g"], g["ln2_b"] = F.layernorm_backward(dh2.reshape(n, t, e), ln2)
    dx1 += dy  # the second residual
    djoined, g["w_o"], g["b_o"] = F.affine_backward(dx1.reshape(n * t, e), out_proj)
    dctx = djoined.reshape(n, t, heads, dh).transpose(0, 2, 1, 3)  # (N, H, T, dh)
    dqkv = np.empty((3, n, heads, t, dh), dtype=dy.dtype)
    dqkv[0], dqkv[1], dqkv[2] = F.scaled_dot_product_attention_backward(dctx, attn)
    dqkv = dqkv.transpose(1, 3, 0, 2, 4).reshape(n * t, 3 * e)  # (NT, 3E), one copy
    dh1, g["w_qkv"], g["b_qkv"] = F.affine_backward(dqkv, proj)
    dx, g["ln1_g"], g["ln1_b"] = F.layernorm_backward(dh1.reshape(n, t, e), ln1)
    dx += dx1  # the first residual
    return dx, g


def block_contenders(size: Block, rng: np.random.Generator) -> dict[str, Callable]:
    """dlkit functional kernels and torch's ``TransformerEncoderLayer``, each returning
    ``(loss, dx, *grads)``, the grads in the order of :data:`TORCH_NAMES` (dlkit's matrices
    ``(in, out)``, torch's ``(out, in)``)."""
    import torch

    layer = torch.nn.TransformerEncoderLayer(
        size.e,
        size.heads,
        size.m,
        dropout=0.0,
        activation="gelu",
        batch_first=True,
        norm_first=True,
    )
    named = dict(layer.named_parameters())
    with torch.no_grad():  # non-trivial norms, so that their gradients are tested too
        for name in ("norm1", "norm2"):
            named[f"{name}.weight"].uniform_(0.5, 1.5)
            named[f"{name}.bias"].uniform_(-0.5, 0.5)
    weights = {mine: named[theirs].detach().numpy().copy() for mine, theirs in TORCH_NAMES.items()}
    for mine in ("w_qkv", "w_o", "w1", "w2"):
        weights[mine] = np.ascontiguousarray(weights[mine].T)
    shape = (size.n, size.t, size.e)
    x = rng.standard_normal(shape).astype(np.float32)
    target = rng.standard_normal(shape).astype(np.float32)

    def dlkit_step() -> tuple[Any, ...]:
        y, cache = block_forward(x, weights, size.heads)
        loss, dy = F.mse_loss(y, target)
        dx, grads = block_backward(dy, cache)
        return (loss, dx, *(grads[name] for name in TORCH_NAMES))

    tx, t_target = torch.tensor(x, requires_grad=True), torch.tensor(target)
    params = [named[theirs] for theirs in TORCH_NAMES.values()]

    def torch_step() -> tuple[Any, ...]:
        loss = torch.nn.functional.mse_loss(layer(tx), t_target)
        return (loss, *torch.autograd.grad(loss, (tx, *params)))

    return {"dlkit": dlkit_step, "torch": torch_step}


# -- the run and its table ----------------------------------------------------------------


Row = harness.FlopsRow


def run(quick: bool = False, cpu_time: bool = False) -> list[Row]:
    """Time every case; ``quick`` shrinks sizes and repeats so that a test can run it."""
    harness.pin_threads()
    rng = np.random.default_rng(0)
    repeats, min_time = (3, 0.001) if quick else (REPEATS, 0.05)
    clock = time.thread_time if cpu_time else time.perf_counter
    case = Attention(b=2, heads=2, t=5, d=4) if quick else Attention()
    r = harness.compare(
        case.name,
        attention_contenders(case, rng),
        baseline="torch",
        repeats=repeats,
        min_time=min_time,
        target=case.target,
        clock=clock,
    )
    rows = [
        Row(r, case.flops, label=f"{case.name}, vs torch attn_mask=bool"),
        Row(r, case.flops, reference=CAUSAL, label=f"{case.name}, vs {CAUSAL}"),
    ]
    size = Block(n=2, t=5, e=8, heads=2, m=16) if quick else Block()
    r = harness.compare(
        size.name,
        block_contenders(size, rng),
        baseline="torch",
        repeats=repeats,
        min_time=min_time,
        clock=clock,
    )
    rows.append(Row(r, size.flops))
    return rows


table = harness.flops_table


def main(argv: list[str] | None = None) -> None:
    args, peaks = harness.ratio_cli(__doc__.splitlines()[0], argv, ("float32",))
    print(table(run(quick=args.quick, cpu_time=args.cpu_time), peaks["float32"]))


if __name__ == "__main__":
    main()
