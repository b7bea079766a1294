"""Recurrent layers (unit 09): dlkit on NumPy vs torch on the CPU, forward + backward.

    python -m benchmarks.bench_rnn             # full run (about a minute); prints a table
    python -m benchmarks.bench_rnn --quick     # tiny sizes, 3 repeats (the test runs this)
    python -m benchmarks.bench_rnn --cpu-time  # on a busy machine: thread CPU time

Every case is timed side by side in one process, single-threaded, dlkit and torch
alternating (``harness.compare``), 11 repeats, median and minimum, float32:

* ``lstm`` forward + backward at N=32, T=40, D=64, H=128: ``lstm_forward`` +
  ``lstm_backward`` of a fixed upstream gradient for every hidden state, against
  ``torch.nn.LSTM`` and ``torch.autograd.grad`` of the same gradient for ``x``, ``h0`` and the
  four parameters. Target: at most 1.2x torch's time.
* ``gru`` forward + backward, the same sizes, against ``torch.nn.GRU`` (measured, no target).
* a character-LM training step, V=65, D=32, H=128, N=32, T=64 with the last quarter of every
  other sequence padding: ``embedding -> LSTM -> affine -> sequence_cross_entropy`` forward
  and every parameter's gradient, against torch's ``nn.Embedding``, ``nn.LSTM``,
  ``nn.Linear`` and ``F.cross_entropy(..., ignore_index=-100)`` (measured, no target).

The run also measures a 1024x1024 float32 matrix product with NumPy's BLAS and reports each
case's useful arithmetic (the matrix products: ``2 N T (D + H) G H`` forward, twice that
backward, ``G`` the number of gates) in GFLOP/s and as a fraction of that product.
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


@dataclass(frozen=True)
class Case:
    """One recurrent layer of ``gates`` gates: ``(n, t, d)`` inputs, ``h`` hidden units."""

    cell: str  # "lstm" or "gru"
    n: int
    t: int
    d: int
    h: int
    target: float | None = None

    @property
    def gates(self) -> int:
        return {"lstm": 4, "gru": 3}[self.cell]

    @property
    def name(self) -> str:
        return f"{self.cell} fwd+bwd float32 N={self.n} T={self.t} D={self.d} H={self.h}"

    @property
    def flops(self) -> float:
        """Forward ``x Wx`` and ``h Wh``, backward ``dx``, ``dWx``, ``dh``, ``dWh``."""
        return 3 * 2 * self.n * self.t * (self.d + self.h) * self.gates * self.h


def cases(quick: bool = False) -> list[Case]:
    n, t, d, h = (2, 3, 5, 4) if quick else (32, 40, 64, 128)
    return [Case("lstm", n, t, d, h, target=1.2), Case("gru", n, t, d, h)]


def _torch_layer(case: Case, rng: np.random.Generator) -> tuple[Any, list[np.ndarray]]:
    """A torch layer with random weights and the same weights in dlkit's layout."""
    import torch

    layer = getattr(torch.nn, case.cell.upper())(case.d, case.h, batch_first=True)
    k = 1.0 / np.sqrt(case.h)
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.tensor(rng.uniform(-k, k, tuple(p.shape)).astype(np.float32)))
    wx = layer.weight_ih_l0.detach().numpy().T.copy()
    wh = layer.weight_hh_l0.detach().numpy().T.copy()
    bi, bh = layer.bias_ih_l0.detach().numpy(), layer.bias_hh_l0.detach().numpy()
    weights = [wx, wh, bi, bh] if case.cell == "gru" else [wx, wh, bi + bh]
    return layer, weights


def contenders(case: Case, rng: np.random.Generator) -> dict[str, Callable[[], Any]]:
    """dlkit and torch, each returning ``(h, dx, dh0, *dweights)`` for the same data
    (torch's weight gradients in its own layout and with its two biases)."""
    import torch

    layer, weights = _torch_layer(case, rng)
    x = rng.standard_normal((case.n, case.t, case.d)).astype(np.float32)
    h0 = rng.standard_normal((case.n, case.h)).astype(np.float32)
    dh = rng.standard_normal((case.n, case.t, case.h)).astype(np.float32)
    forward = getattr(F, f"{case.cell}_forward")
    backward = getattr(F, f"{case.cell}_backward")
    tx, th0 = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    tdh, params = torch.tensor(dh), list(layer.parameters())
    c0 = torch.zeros_like(th0)

    def dlkit_run() -> tuple[Any, ...]:
        h, cache = forward(x, h0, *weights)
        return (h, *backward(dh, cache))

    def torch_run() -> tuple[Any, ...]:
        out, _ = layer(tx, (th0, c0)) if case.cell == "lstm" else layer(tx, th0)
        return (out, *torch.autograd.grad(out, (tx, th0, *params), tdh))

    return {"dlkit": dlkit_run, "torch": torch_run}


@dataclass(frozen=True)
class CharLM:
    """The char-LM step's sizes."""

    v: int = 65
    d: int = 32
    h: int = 128
    n: int = 32
    t: int = 64

    @property
    def name(self) -> str:
        return (
            f"char-LM step float32 V={self.v} D={self.d} H={self.h} N={self.n} T={self.t} "
            "(embedding, LSTM, affine, masked loss)"
        )

    @property
    def flops(self) -> float:
        lstm = 3 * 2 * self.n * self.t * (self.d + self.h) * 4 * self.h
        return lstm + 3 * 2 * self.n * self.t * self.h * self.v


def charlm_contenders(size: CharLM, rng: np.random.Generator) -> dict[str, Callable[[], Any]]:
    """dlkit functional kernels and torch modules, each returning ``(loss, *grads)``."""
    import torch

    n, t, v, d, h = size.n, size.t, size.v, size.d, size.h
    ids = rng.integers(0, v, (n, t))
    targets = rng.integers(0, v, (n, t))
    mask = np.ones((n, t), dtype=bool)
    mask[::2, t - t // 4 :] = False  # every other sequence ends early: padding
    emb = rng.standard_normal((v, d)).astype(np.float32)
    layer, (wx, wh, b) = _torch_layer(Case("lstm", n, t, d, h), rng)
    w_out = (rng.standard_normal((h, v)) / np.sqrt(h)).astype(np.float32)
    b_out = np.zeros(v, dtype=np.float32)
    h0 = np.zeros((n, h), dtype=np.float32)

    def dlkit_step() -> tuple[Any, ...]:
        x, emb_cache = F.embedding_forward(ids, emb)  # (N, T, D)
        hs, lstm_cache = F.lstm_forward(x, h0, wx, wh, b)  # (N, T, H)
        logits, aff_cache = F.affine_forward(hs.reshape(n * t, h), w_out, b_out)
        loss, dlogits = F.sequence_cross_entropy(logits.reshape(n, t, v), targets, mask)
        dhs, dw_out, db_out = F.affine_backward(dlogits.reshape(n * t, v), aff_cache)
        dx, _, dwx, dwh, db = F.lstm_backward(dhs.reshape(n, t, h), lstm_cache)
        return loss, F.embedding_backward(dx, emb_cache), dwx, dwh, db, dw_out, db_out

    t_emb = torch.nn.Embedding(v, d)
    linear = torch.nn.Linear(h, v)
    with torch.no_grad():
        t_emb.weight.copy_(torch.tensor(emb))
        linear.weight.copy_(torch.tensor(w_out.T))
        linear.bias.zero_()
    t_ids = torch.tensor(ids)
    t_targets = torch.tensor(np.where(mask, targets, -100))
    params = [t_emb.weight, *layer.parameters(), *linear.parameters()]

    def torch_step() -> tuple[Any, ...]:
        out, _ = layer(t_emb(t_ids))
        logits = linear(out)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(n * t, v), t_targets.reshape(-1), ignore_index=-100
        )
        return (loss, *torch.autograd.grad(loss, params))

    return {"dlkit": dlkit_step, "torch": torch_step}


Row = harness.FlopsRow


def run(quick: bool = False, cpu_time: bool = False) -> list[Row]:
    """Time every case; ``quick`` shrinks sizes and repeats so that a test can run it."""
    harness.pin_threads()
    rng = np.random.default_rng(0)
    repeats, min_time = (3, 0.001) if quick else (REPEATS, 0.05)
    clock = time.thread_time if cpu_time else time.perf_counter
    rows = []
    for case in cases(quick):
        r = harness.compare(
            case.name,
            contenders(case, rng),
            baseline="torch",
            repeats=repeats,
            min_time=min_time,
            target=case.target,
            clock=clock,
        )
        rows.append(Row(r, case.flops))
    size = CharLM(v=7, d=3, h=4, n=2, t=5) if quick else CharLM()
    r = harness.compare(
        size.name,
        charlm_contenders(size, rng),
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
