"""Generative models (units 11, 12): one VAE and one GAN training step, dlkit vs torch (CPU).

    python -m benchmarks.bench_generative             # full run (a few seconds); a table
    python -m benchmarks.bench_generative --quick     # tiny sizes, 3 repeats (the test runs this)
    python -m benchmarks.bench_generative --cpu-time  # on a busy machine: thread CPU time

Every case is timed side by side in one process, single-threaded, dlkit and torch
alternating (``harness.compare``), 11 repeats, median and minimum, float32. Each step is the
whole training step, optimizer included, with the same weights, data and noise on both sides:

* a VAE step on digits-sized data: ``dlkit.nn.VAE(64, 128, 2)`` (encoder ``64 -> 128`` with
  ReLU, two heads ``128 -> 2`` for ``mu`` and ``log_var``; decoder ``2 -> 128 -> 64``),
  batch 128, the BCE-from-logits reconstruction summed per example plus the KL, Adam
  (lr 1e-3), by :func:`dlkit.nn.vae_step`; torch runs the same layers as ``torch.nn.Linear``
  with ``F.binary_cross_entropy_with_logits(reduction="sum")``, the KL written out, and
  ``torch.optim.Adam``.
* a GAN step on the 2-D Gaussian mixture: ``Generator(8, 2, (64, 64))`` and
  ``Discriminator(2, (64, 64))`` (leaky ReLU 0.2), batch 256, the non-saturating loss,
  Adam (lr 1e-3, betas (0.5, 0.999)) for each: a discriminator step on detached fakes and
  a generator step through the updated discriminator (:func:`dlkit.nn.gan_step`); torch
  does the same with ``torch.nn.Linear`` layers and ``F.binary_cross_entropy_with_logits``.

The noise (``eps`` for the VAE, ``z`` for the GAN) is drawn once and passed to both sides,
so that they compute the same numbers (the test checks it) and the timings compare the
steps, not two random number generators.

GFLOP/s count the matrix products of the linear layers, dense: ``2 N sum(in * out)`` per
forward pass and twice that per backward pass (VAE: one of each; GAN: the generator once,
the discriminator three times, on the real batch, the detached fakes and the fakes again),
as a fraction of the same run's 1024x1024 float32 matmul. These layers are small, so both
sides spend much of a step in per-op overhead rather than in BLAS.

Where ``OPENBLAS_CORETYPE`` is set (forcing OpenBLAS's kernels), ``main`` also runs the
benchmark again in a child process without it and without ``OPENBLAS_L2_SIZE``, so the two
tables show what the forced kernels cost.
"""

from __future__ import annotations  # noqa: I001 (harness must load before NumPy)

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import harness  # sets thread variables before NumPy loads
import numpy as np

from dlkit import nn, optim
from dlkit.data import make_gaussian_mixture

REPEATS = 11
CHILD = "DLKIT_BENCH_GENERATIVE_CHILD"  # set in the child run without OPENBLAS_CORETYPE


def _float32(module: Any) -> Any:
    for p in module.parameters():
        p.data = p.data.astype(np.float32)
    return module


def _linears(module: Any) -> list[Any]:
    """The ``nn.Linear`` layers of a dlkit module, in parameter order."""
    found = []
    for child in module.children():
        found.extend([child] if isinstance(child, nn.Linear) else _linears(child))
    return found


def _torch_linears(layers: list[Any]) -> list[Any]:
    """``torch.nn.Linear`` copies of dlkit layers (weights transposed to torch's layout)."""
    import torch

    refs = []
    for layer in layers:
        ref = torch.nn.Linear(layer.in_features, layer.out_features)
        with torch.no_grad():
            ref.weight.copy_(torch.tensor(layer.weight.data.T))
            ref.bias.copy_(torch.tensor(layer.bias.data))
        refs.append(ref)
    return refs


def _dense_flops(layers: list[Any], n: int) -> float:
    return 2.0 * n * sum(layer.in_features * layer.out_features for layer in layers)


# -- the VAE step ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VAEStep:
    """A VAE ``d -> hidden -> (latent, latent)``, decoder ``latent -> hidden -> d``."""

    d: int = 64
    hidden: int = 128
    latent: int = 2
    n: int = 128

    @property
    def name(self) -> str:
        return f"VAE step float32 {self.d}-{self.hidden}-{self.latent} N={self.n} (BCE + KL, Adam)"


def vae_contenders(case: VAEStep, rng: np.random.Generator) -> tuple[dict[str, Callable], float]:
    """dlkit and torch VAE steps on the same weights, batch and noise, each returning
    ``(loss, *grads)`` (the loss before the update; the gradients in parameter order,
    dlkit's matrices ``(in, out)``, torch's ``(out, in)``), and the step's dense FLOPs."""
    import torch

    tF = torch.nn.functional
    model = _float32(nn.VAE(case.d, case.hidden, case.latent, rng=rng))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = rng.random((case.n, case.d)).astype(np.float32)  # intensities in [0, 1], as digits / 16
    eps = rng.standard_normal((case.n, case.latent)).astype(np.float32)
    layers = _linears(model)  # trunk, mu head, log_var head, decoder (2)
    params = model.parameters()

    def dlkit_step() -> tuple[Any, ...]:
        loss = nn.vae_step(model, opt, x, eps=eps)["loss"]
        return (loss, *(p.grad for p in params))

    enc, mu_head, lv_head, dec1, dec2 = _torch_linears(layers)
    t_params = [p for m in (enc, mu_head, lv_head, dec1, dec2) for p in m.parameters()]
    t_opt = torch.optim.Adam(t_params, lr=1e-3)
    tx, teps = torch.tensor(x), torch.tensor(eps)

    def torch_step() -> tuple[Any, ...]:
        t_opt.zero_grad()
        h = tF.relu(enc(tx))
        mu, log_var = mu_head(h), lv_head(h)
        z = mu + torch.exp(0.5 * log_var) * teps
        logits = dec2(tF.relu(dec1(z)))
        rec = tF.binary_cross_entropy_with_logits(logits, tx, reduction="sum")
        kl = -0.5 * torch.sum(1 + log_var - mu * mu - torch.exp(log_var))
        loss = (rec + kl) / case.n
        loss.backward()
        t_opt.step()
        return (loss.item(), *(p.grad for p in t_params))

    return {"dlkit": dlkit_step, "torch": torch_step}, 3 * _dense_flops(layers, case.n)


# -- the GAN step ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GANStep:
    """Generator ``latent -> hidden... -> 2``, discriminator ``2 -> hidden... -> 1``."""

    latent: int = 8
    hidden: tuple[int, ...] = (64, 64)
    n: int = 256

    @property
    def name(self) -> str:
        widths = "-".join(map(str, self.hidden))
        return (
            f"GAN step float32 G {self.latent}-{widths}-2, D 2-{widths}-1 N={self.n} "
            "(non-saturating, Adam x2)"
        )


def gan_contenders(case: GANStep, rng: np.random.Generator) -> tuple[dict[str, Callable], float]:
    """dlkit and torch GAN steps (D, then G through the updated D) on the same weights, real
    batch and noise, each returning ``(d_loss, g_loss, *G grads, *D grads)`` (D's gradients
    are those of both losses, accumulated, on both sides), and the step's dense FLOPs."""
    import torch

    tF = torch.nn.functional
    bce = tF.binary_cross_entropy_with_logits
    g = _float32(nn.Generator(case.latent, 2, case.hidden, rng=rng))
    d = _float32(nn.Discriminator(2, case.hidden, rng=rng))
    betas = (0.5, 0.999)
    g_opt = optim.Adam(g.parameters(), lr=1e-3, betas=betas)
    d_opt = optim.Adam(d.parameters(), lr=1e-3, betas=betas)
    real = make_gaussian_mixture(case.n, rng=rng)[0].astype(np.float32)
    z = g.noise(case.n, rng=rng)
    params = g.parameters() + d.parameters()

    def dlkit_step() -> tuple[Any, ...]:
        losses = nn.gan_step(g, d, g_opt, d_opt, real, z=z)
        return (losses["d_loss"], losses["g_loss"], *(p.grad for p in params))

    tg, td = _torch_linears(_linears(g)), _torch_linears(_linears(d))
    tg_params = [p for m in tg for p in m.parameters()]
    td_params = [p for m in td for p in m.parameters()]
    tg_opt = torch.optim.Adam(tg_params, lr=1e-3, betas=betas)
    td_opt = torch.optim.Adam(td_params, lr=1e-3, betas=betas)
    t_real, tz = torch.tensor(real), torch.tensor(z)
    ones, zeros = torch.ones(case.n), torch.zeros(case.n)

    def generate(x: Any) -> Any:
        for layer in tg[:-1]:
            x = tF.relu(layer(x))
        return tg[-1](x)

    def discriminate(x: Any) -> Any:
        for layer in td[:-1]:
            x = tF.leaky_relu(layer(x), 0.2)
        return td[-1](x)[:, 0]

    def torch_step() -> tuple[Any, ...]:
        fake = generate(tz)
        td_opt.zero_grad()
        d_loss = bce(discriminate(t_real), ones) + bce(discriminate(fake.detach()), zeros)
        d_loss.backward()
        td_opt.step()
        tg_opt.zero_grad()
        g_loss = bce(discriminate(fake), ones)
        g_loss.backward()
        tg_opt.step()
        return (d_loss.item(), g_loss.item(), *(p.grad for p in tg_params + td_params))

    flops = 3 * _dense_flops(_linears(g), case.n) + 9 * _dense_flops(_linears(d), case.n)
    return {"dlkit": dlkit_step, "torch": torch_step}, flops


# -- the run and its table ----------------------------------------------------------------


Row = harness.FlopsRow


def run(quick: bool = False, cpu_time: bool = False) -> list[Row]:
    """Time both steps; ``quick`` shrinks sizes and repeats so that a test can run it."""
    harness.pin_threads()
    rng = np.random.default_rng(0)
    repeats, min_time = (3, 0.001) if quick else (REPEATS, 0.05)
    clock = time.thread_time if cpu_time else time.perf_counter
    rows = []
    vae = VAEStep(d=8, hidden=6, latent=2, n=5) if quick else VAEStep()
    gan = GANStep(latent=3, hidden=(5, 4), n=6) if quick else GANStep()
    for case, contenders in ((vae, vae_contenders), (gan, gan_contenders)):
        both, flops = contenders(case, rng)
        result = harness.compare(
            case.name, both, baseline="torch", repeats=repeats, min_time=min_time, clock=clock
        )
        rows.append(Row(result, flops))
    return rows


table = harness.flops_table


def main(argv: list[str] | None = None) -> None:
    args, peaks = harness.ratio_cli(__doc__.splitlines()[0], argv, ("float32",))
    print(table(run(quick=args.quick, cpu_time=args.cpu_time), peaks["float32"]))
    if os.environ.get("OPENBLAS_CORETYPE") and not os.environ.get(CHILD):
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        }
        env[CHILD] = "1"
        print(
            "\nAgain without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (OpenBLAS picks its kernels):"
        )
        sys.stdout.flush()
        command = [sys.executable, "-m", "benchmarks.bench_generative"]
        subprocess.run([*command, *(sys.argv[1:] if argv is None else argv)], env=env, check=True)


if __name__ == "__main__":
    main()
