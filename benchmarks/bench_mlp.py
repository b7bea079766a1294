"""One MLP training step on digits: dlkit on NumPy vs torch on the CPU.

    python -m benchmarks.bench_mlp            # full run: batch 64, 11 repeats; prints a table
    python -m benchmarks.bench_mlp --quick    # tiny: 3 repeats (the test runs this)

The step is what unit 04 trains with: a 64-128-10 ReLU MLP, forward, softmax cross-entropy,
backward, and an SGD update, on a mini-batch of scikit-learn's digits, in float32 on both
sides. dlkit runs its functional kernels and ``dlkit.optim.SGD``; torch runs an
``nn.Sequential`` with autograd and ``torch.optim.SGD``, starting from the same weights.
Target (issue 3): dlkit's median time at most 0.5x torch's at batch 64.
"""

from __future__ import annotations  # noqa: I001 (harness must load before NumPy)

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import harness  # sets thread variables before NumPy loads
import numpy as np

import dlkit.functional as F
from dlkit.data import load_digits
from dlkit.optim import SGD

TARGET = 0.5
HIDDEN = 128


def _weights(rng: np.random.Generator, sizes: tuple[int, ...]) -> list[np.ndarray]:
    params = []
    for fan_in, fan_out in zip(sizes, sizes[1:], strict=False):
        params.append((rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)).astype("f4"))
        params.append(np.zeros(fan_out, np.float32))
    return params


@dataclass(frozen=True)
class Steps:
    """The two contenders and what they update (for the test that they agree)."""

    dlkit_step: Callable[[], None]
    torch_step: Callable[[], None]
    dlkit_params: list[np.ndarray]
    torch_model: Any


def steps(batch: int, rng: np.random.Generator) -> Steps:
    """The two training steps, ready to time, on the same batch from the same weights."""
    import torch

    X, y = load_digits()
    idx = rng.permutation(len(y))[:batch]
    xb, yb = X[idx].astype(np.float32), y[idx]
    params = _weights(rng, (64, HIDDEN, 10))
    opt = SGD(params, lr=0.1)
    w1, b1, w2, b2 = params

    def dlkit_step() -> None:
        h, c1 = F.affine_forward(xb, w1, b1)  # (N, H)
        a = F.relu(h)
        scores, c2 = F.affine_forward(a, w2, b2)  # (N, 10)
        _, dscores = F.softmax_cross_entropy(scores, yb)
        da, dw2, db2 = F.affine_backward(dscores, c2)
        # no gradient for the data, as torch's autograd (x has no requires_grad)
        _, dw1, db1 = F.affine_backward(F.relu_backward(da, h), c1, input_grad=False)
        opt.step([dw1, db1, dw2, db2])

    model = torch.nn.Sequential(
        torch.nn.Linear(64, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 10)
    )
    with torch.no_grad():  # same starting point (torch stores weights as (out, in))
        model[0].weight.copy_(torch.tensor(w1.T)), model[0].bias.zero_()
        model[2].weight.copy_(torch.tensor(w2.T)), model[2].bias.zero_()
    torch_opt = torch.optim.SGD(model.parameters(), lr=0.1)
    tx, ty = torch.tensor(xb), torch.tensor(yb)

    def torch_step() -> None:
        torch_opt.zero_grad()
        torch.nn.functional.cross_entropy(model(tx), ty).backward()
        torch_opt.step()

    return Steps(dlkit_step, torch_step, params, model)


def run(quick: bool = False, batch: int = 64) -> list[harness.Result]:
    harness.pin_threads()
    both = steps(batch, np.random.default_rng(0))
    return [
        harness.compare(
            f"MLP 64-{HIDDEN}-10 train step, batch {batch}",
            {"dlkit": both.dlkit_step, "torch": both.torch_step},
            baseline="torch",
            repeats=3 if quick else 11,
            min_time=0.002 if quick else 0.05,
            target=TARGET,
        )
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats, short samples")
    parser.add_argument("--batch", type=int, default=64, help="mini-batch size (default 64)")
    args = parser.parse_args(argv)
    print(harness.machine())
    print(harness.table(run(quick=args.quick, batch=args.batch), "dlkit"))


if __name__ == "__main__":
    main()
