"""benchmarks/bench_generative.py in a tiny configuration, so that it cannot rot."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from benchmarks import bench_generative  # noqa: E402


def _numpy(values):
    return [v.detach().numpy() if hasattr(v, "detach") else np.asarray(v) for v in values]


def _agree(mine, theirs, names):
    assert len(mine) == len(theirs) == len(names)
    for name, a, b in zip(names, mine, theirs, strict=True):
        if a.ndim == 2:
            a = a.T  # dlkit's (in, out) against torch's (out, in)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6, err_msg=name)


def test_vae_contenders_agree_on_the_loss_and_every_gradient():
    case = bench_generative.VAEStep(d=8, hidden=6, latent=2, n=5)
    both, flops = bench_generative.vae_contenders(case, np.random.default_rng(0))
    assert set(both) == {"dlkit", "torch"}
    # 5 linear layers: encoder, mu and log_var heads, two decoder layers
    assert flops == 3 * 2 * 5 * (8 * 6 + 6 * 2 + 6 * 2 + 2 * 6 + 6 * 8)
    names = ["loss"] + [f"{p}{i}" for i in range(5) for p in ("W", "b")]
    for _ in range(2):  # the first step and, after one Adam update on each side, the second
        _agree(_numpy(both["dlkit"]()), _numpy(both["torch"]()), names)


def test_gan_contenders_agree_on_both_losses_and_every_gradient():
    case = bench_generative.GANStep(latent=3, hidden=(5, 4), n=6)
    both, flops = bench_generative.gan_contenders(case, np.random.default_rng(0))
    g_flops, d_flops = 2 * 6 * (3 * 5 + 5 * 4 + 4 * 2), 2 * 6 * (2 * 5 + 5 * 4 + 4 * 1)
    assert flops == 3 * g_flops + 9 * d_flops
    names = ["d_loss", "g_loss"] + [f"{p}{i}" for i in range(6) for p in ("W", "b")]
    for _ in range(2):
        _agree(_numpy(both["dlkit"]()), _numpy(both["torch"]()), names)


def test_quick_run_reports_both_steps():
    rows = bench_generative.run(quick=True)
    assert len(rows) == 2
    assert "VAE" in rows[0].result.case and "GAN" in rows[1].result.case
    assert all(r.result.target is None and r.reference == "torch" for r in rows)
    assert all(len(r.result.timings["dlkit"].samples) == 3 for r in rows)
    lines = bench_generative.table(rows, 100.0).splitlines()
    assert len(lines) == 4 and all(line.count("|") == 10 for line in lines)


def test_main_prints_the_machine_and_the_table(capsys, monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)  # no second run in a child
    bench_generative.main(["--quick"])
    out = capsys.readouterr().out
    assert "cores" in out and "GFLOP/s" in out and "| case |" in out and "VAE step" in out


def test_forced_openblas_kernels_get_a_second_run_without_them(capfd, monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")  # the child runs without it
    monkeypatch.setenv("OPENBLAS_L2_SIZE", "512")
    bench_generative.main(["--quick"])
    out = capfd.readouterr().out
    assert "Again without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE" in out
    assert out.count("| case |") == 2 and out.count("VAE step") == 2
