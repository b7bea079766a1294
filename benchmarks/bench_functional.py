"""dlkit.functional on NumPy vs torch on the CPU: the kernels of units 01-02.

    python -m benchmarks.bench_functional            # full run, prints a Markdown table
    python -m benchmarks.bench_functional --quick    # tiny sizes, 3 repeats (the test uses it)

Each case times a forward and backward pass at batch 64 (the course's usual mini-batch)
with dlkit on NumPy float32 arrays and with torch (autograd) on float32 CPU tensors.
The ratio is dlkit's time over torch's: below 1 means dlkit is faster.
"""

from __future__ import annotations  # noqa: I001 (harness must load before NumPy)

import argparse

import numpy as np

import dlkit.functional as F
from benchmarks import harness  # sets thread variables before NumPy loads


def cases(n: int, d: int, m: int, c: int, rng: np.random.Generator):
    import torch

    x = rng.standard_normal((n, d)).astype(np.float32)
    w = (rng.standard_normal((d, m)) * 0.1).astype(np.float32)
    b = np.zeros(m, np.float32)
    logits = rng.standard_normal((n, c)).astype(np.float32)
    y = rng.integers(0, c, n)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tlogits = torch.tensor(logits, requires_grad=True)
    ty = torch.tensor(y)
    dout = np.ones((n, m), np.float32)
    tdout = torch.tensor(dout)

    def dl_affine():
        out, cache = F.affine_forward(x, w, b)
        return F.affine_backward(dout, cache)

    def torch_affine():
        tx.grad = tw.grad = tb.grad = None
        (tx @ tw + tb).backward(tdout)

    h_np = x @ w
    h = torch.tensor(h_np, requires_grad=True)

    def dl_relu():
        return F.relu_backward(dout, F.relu(h_np))

    def torch_relu():
        h.grad = None
        torch.relu(h).backward(tdout)

    def dl_ce():
        return F.softmax_cross_entropy(logits, y)

    def torch_ce():
        tlogits.grad = None
        torch.nn.functional.cross_entropy(tlogits, ty).backward()

    return {
        f"affine fwd+bwd ({n}x{d} @ {d}x{m})": (dl_affine, torch_affine),
        f"relu fwd+bwd ({n}x{m})": (dl_relu, torch_relu),
        f"softmax cross-entropy fwd+bwd ({n}x{c})": (dl_ce, torch_ce),
    }


def run(quick: bool = False) -> list[harness.Result]:
    harness.pin_threads()
    rng = np.random.default_rng(0)
    sizes = (8, 16, 8, 4) if quick else (64, 64, 128, 10)
    repeats = 3 if quick else 11
    results = []
    for case, (dl, ref) in cases(*sizes, rng).items():
        results.append(
            harness.compare(
                case,
                {"dlkit": dl, "torch": ref},
                baseline="torch",
                repeats=repeats,
                min_time=0.001 if quick else 0.02,
            )
        )
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 3 repeats")
    args = parser.parse_args(argv)
    results = run(quick=args.quick)
    print(harness.machine())
    print(harness.table(results, "dlkit"))


if __name__ == "__main__":
    main()
