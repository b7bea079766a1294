"""dlkit.functional generative kernels (units 11, 12): torch parity, gradient checks, limits.

The VAE pieces (reparameterize, kl_divergence, reconstruction_loss, vae_loss), the denoising
corruption and the GAN losses, on NumPy and on torch tensors, and their autograd ops.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dlkit.autograd as A
import dlkit.functional as F
from dlkit.autograd import Tensor
from dlkit.testing import assert_close, check_gradient, check_layer_gradients

from ._reference import TOL, expect_like, expect_numpy

DTYPES = ["float32", "float64"]


def _latent(rng, n=5, latent=3, dtype=np.float64):
    mu = rng.standard_normal((n, latent)).astype(dtype)
    log_var = (0.5 * rng.standard_normal((n, latent))).astype(dtype)
    return mu, log_var


def _torch(torch, a, dtype, device, grad=False):
    return torch.tensor(a, dtype=getattr(torch, dtype), device=device, requires_grad=grad)


# -- the GAN losses ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ["flat", "column"])
def test_discriminator_loss_matches_torch_bce_with_logits(dtype, shape, device, torch, rng):
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    n, m = 6, 9  # real and fake batches of different sizes
    real_np, fake_np = 3 * rng.standard_normal(n), 3 * rng.standard_normal(m)
    if shape == "column":
        real_np, fake_np = real_np[:, None], fake_np[:, None]
    real, fake = (
        _torch(torch, real_np, dtype, device, True),
        _torch(torch, fake_np, dtype, device, True),
    )
    ref = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
    ref.backward()
    loss, (dreal, dfake) = F.discriminator_loss(real.detach(), fake.detach())
    expect_like(loss, ref.detach())
    expect_like(dreal, real.grad)
    expect_like(dfake, fake.grad)
    # the NumPy path gives the same numbers, as NumPy arrays of the same dtype
    loss_np, (dreal_np, _) = F.discriminator_loss(real_np.astype(dtype), fake_np.astype(dtype))
    expect_numpy(dreal_np, real_np.shape, dtype)
    np.testing.assert_allclose(float(loss_np), ref.item(), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["non_saturating", "minimax"])
def test_generator_loss_matches_torch_bce_with_logits(dtype, kind, device, torch, rng):
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    fake = _torch(torch, 3 * rng.standard_normal((7, 1)), dtype, device, True)
    if kind == "non_saturating":  # -log D(G(z)): BCE against the label "real"
        ref = bce(fake, torch.ones_like(fake))
    else:  # log(1 - D(G(z))): minus the BCE against the label "fake"
        ref = -bce(fake, torch.zeros_like(fake))
    ref.backward()
    loss, dfake = F.generator_loss(fake.detach(), kind=kind)
    expect_like(loss, ref.detach())
    expect_like(dfake, fake.grad)


def test_gan_losses_pass_float64_gradient_checks(rng):
    real, fake = 2 * rng.standard_normal(5), 2 * rng.standard_normal((4, 1))
    _, (dreal, dfake) = F.discriminator_loss(real, fake)
    check_gradient(lambda r: F.discriminator_loss(r, fake)[0], real, dreal, name="dreal")
    check_gradient(lambda f: F.discriminator_loss(real, f)[0], fake, dfake, name="dfake")
    for kind in ("non_saturating", "minimax"):
        _, dfake = F.generator_loss(fake, kind=kind)
        check_gradient(lambda f, k=kind: F.generator_loss(f, kind=k)[0], fake, dfake, name=kind)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gan_losses_are_exact_at_logits_of_1e4(dtype):
    big = np.array([1e4, -1e4], dtype=dtype)
    # a perfect discriminator (real at +1e4, fake at -1e4) costs nothing and learns nothing
    loss, (dreal, dfake) = F.discriminator_loss(big[:1], big[1:])
    assert float(loss) == 0.0 and float(dreal[0]) == 0.0 and float(dfake[0]) == 0.0
    # the worst one (real at -1e4, fake at +1e4) pays 1e4 for each, with gradients -1 and +1
    loss, (dreal, dfake) = F.discriminator_loss(big[1:], big[:1])
    assert float(loss) == 2e4 and float(dreal[0]) == -1.0 and float(dfake[0]) == 1.0
    # non-saturating: a rejected sample (f = -1e4) costs 1e4 and pulls with gradient -1/N
    loss, d = F.generator_loss(big, kind="non_saturating")
    assert float(loss) == 5e3
    np.testing.assert_array_equal(d, np.array([0.0, -0.5], dtype=dtype))
    # minimax: the same rejected sample gives no gradient at all (the saturation)
    loss, d = F.generator_loss(big, kind="minimax")
    assert float(loss) == -5e3
    np.testing.assert_array_equal(d, np.array([-0.5, 0.0], dtype=dtype))
    for value in (loss, *d):
        assert np.isfinite(value)


def test_gan_losses_are_exact_at_logits_of_1e4_in_torch(device, torch):
    big = torch.tensor([1e4, -1e4], device=device)  # float32
    loss, (dreal, dfake) = F.discriminator_loss(big, big)
    expect_like(loss, torch.tensor(1e4, device=device))
    expect_like(dreal, torch.tensor([0.0, -0.5], device=device))
    expect_like(dfake, torch.tensor([0.5, 0.0], device=device))
    for kind, value in (("non_saturating", 5e3), ("minimax", -5e3)):
        loss, d = F.generator_loss(big, kind=kind)
        expect_like(loss, torch.tensor(value, device=device))
        assert bool(torch.isfinite(d).all())


_LOGITS = st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=8)


@given(real=_LOGITS, fake=_LOGITS, dtype=st.sampled_from(DTYPES))
def test_gan_losses_are_finite_and_bounded_for_any_logits(real, fake, dtype):
    r, f = np.array(real, dtype=dtype), np.array(fake, dtype=dtype)
    n, m = len(r), len(f)
    loss, (dreal, dfake) = F.discriminator_loss(r, f)
    assert np.isfinite(loss) and float(loss) >= 0
    # each gradient is a probability / N (up to rounding): real pushed up, fake pushed down
    slack = 1 + 1e-6
    assert np.all((-slack / n <= dreal) & (dreal <= 0))
    assert np.all((0 <= dfake) & (dfake <= slack / m))
    for kind, sign in (("non_saturating", 1), ("minimax", -1)):
        loss, d = F.generator_loss(f, kind=kind)
        assert np.isfinite(loss) and sign * float(loss) >= 0  # -log D >= 0, log(1 - D) <= 0
        assert np.all((-slack / m <= d) & (d <= 0))


def test_the_non_saturating_gradient_is_larger_where_the_generator_is_worst():
    f = np.linspace(-8.0, -3.0, 4)  # the discriminator rejects every sample
    _, d_ns = F.generator_loss(f, kind="non_saturating")
    _, d_mm = F.generator_loss(f, kind="minimax")
    assert np.all(np.abs(d_ns) > 10 * np.abs(d_mm))
    # both push the logits up (the generator wants D to say "real")
    assert np.all(d_ns < 0) and np.all(d_mm < 0)


# -- KL divergence ------------------------------------------------------------------------


def test_kl_of_the_prior_itself_is_zero_with_zero_gradient():
    kl, (dmu, dlog_var) = F.kl_divergence(np.zeros((4, 3)), np.zeros((4, 3)))
    assert float(kl) == 0.0
    assert not dmu.any() and not dlog_var.any()


def test_kl_by_hand():
    # example 1: mu = (1, 0), sigma^2 = (1, 2):
    #   -1/2 [(1 + 0 - 1 - 1) + (1 + log 2 - 0 - 2)] = 1 - log(2) / 2
    # example 2: mu = (0, 0), sigma^2 = (e, 1): -1/2 [(1 + 1 - 0 - e) + 0] = (e - 2) / 2
    mu = np.array([[1.0, 0.0], [0.0, 0.0]])
    log_var = np.array([[0.0, math.log(2.0)], [1.0, 0.0]])
    kl, (dmu, dlog_var) = F.kl_divergence(mu, log_var)
    expected = ((1 - math.log(2) / 2) + (math.e - 2) / 2) / 2  # the mean over the batch
    assert math.isclose(float(kl), expected, rel_tol=1e-14)
    np.testing.assert_allclose(dmu, mu / 2)  # mu / N
    np.testing.assert_allclose(dlog_var, [[0.0, 0.25], [(math.e - 1) / 4, 0.0]])


def test_kl_is_positive_and_sums_over_latents_means_over_batch(rng):
    mu, log_var = _latent(rng, n=6, latent=4)
    kl, _ = F.kl_divergence(mu, log_var)
    assert float(kl) > 0
    per_example = [float(F.kl_divergence(mu[i : i + 1], log_var[i : i + 1])[0]) for i in range(6)]
    assert math.isclose(float(kl), np.mean(per_example), rel_tol=1e-12)
    # doubling the latent dimensions (a copy) doubles the KL: a sum, not a mean
    wide, _ = F.kl_divergence(np.hstack([mu, mu]), np.hstack([log_var, log_var]))
    assert math.isclose(float(wide), 2 * float(kl), rel_tol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_matches_torch_distributions(dtype, device, torch, rng):
    mu_np, lv_np = _latent(rng)
    mu, log_var = (
        _torch(torch, mu_np, dtype, device, True),
        _torch(torch, lv_np, dtype, device, True),
    )
    q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))
    prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    ref = torch.distributions.kl_divergence(q, prior).sum(dim=1).mean()
    ref.backward()
    kl, (dmu, dlog_var) = F.kl_divergence(mu.detach(), log_var.detach())
    expect_like(kl, ref.detach())
    expect_like(dmu, mu.grad)
    expect_like(dlog_var, log_var.grad)


def test_kl_passes_float64_gradient_checks(rng):
    mu, log_var = _latent(rng)
    _, (dmu, dlog_var) = F.kl_divergence(mu, log_var)
    check_gradient(lambda m: F.kl_divergence(m, log_var)[0], mu, dmu, name="dmu")
    check_gradient(lambda v: F.kl_divergence(mu, v)[0], log_var, dlog_var, name="dlog_var")


# -- reparameterization -------------------------------------------------------------------


def test_reparameterize_is_mu_plus_sigma_eps_and_only_rng_draws(rng):
    mu, log_var = _latent(rng)
    np.random.seed(1)  # noqa: NPY002 (the global NumPy state must not matter)
    z1, cache = F.reparameterize(mu, log_var, rng=np.random.default_rng(7))
    np.random.seed(2)  # noqa: NPY002
    z2, _ = F.reparameterize(mu, log_var, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(z1, z2)  # same seed, same z
    eps = np.random.default_rng(7).standard_normal(mu.shape)
    np.testing.assert_array_equal(cache.eps, eps)
    assert_close(z1, mu + np.exp(0.5 * log_var) * eps, name="z", rtol=1e-14)
    z3, _ = F.reparameterize(mu, log_var, rng=np.random.default_rng(8))
    assert not np.allclose(z1, z3)
    # a given eps is used as is
    z4, _ = F.reparameterize(mu, log_var, eps=eps)
    np.testing.assert_array_equal(z4, z1)


def test_reparameterize_with_a_torch_generator(device, torch, rng):
    mu_np, lv_np = _latent(rng)
    mu, log_var = _torch(torch, mu_np, "float32", device), _torch(torch, lv_np, "float32", device)
    torch.manual_seed(1)  # the global torch state must not matter
    z1, c1 = F.reparameterize(mu, log_var, rng=torch.Generator().manual_seed(3))
    torch.manual_seed(2)
    z2, _ = F.reparameterize(mu, log_var, rng=torch.Generator().manual_seed(3))
    expect_like(z1, z2)
    assert z1.device == mu.device and z1.dtype == torch.float32
    expect_like(z1, mu + torch.exp(0.5 * log_var) * c1.eps)
    # a NumPy generator gives the same eps for torch and NumPy inputs
    zt, _ = F.reparameterize(mu, log_var, rng=np.random.default_rng(5))
    zn, _ = F.reparameterize(mu_np, lv_np, rng=np.random.default_rng(5))
    np.testing.assert_allclose(zt.cpu().numpy(), zn, rtol=1e-5, atol=1e-6)


def test_reparameterize_gradient_flows_to_mu_and_log_var(rng):
    mu, log_var = _latent(rng)
    eps = rng.standard_normal(mu.shape)
    check_layer_gradients(
        lambda mu, log_var: F.reparameterize(mu, log_var, eps=eps),
        F.reparameterize_backward,
        {"mu": mu, "log_var": log_var},
        rng=rng,
    )
    dz = rng.standard_normal(mu.shape)
    _, cache = F.reparameterize(mu, log_var, eps=eps)
    dmu, dlog_var = F.reparameterize_backward(dz, cache)
    np.testing.assert_array_equal(dmu, dz)  # z moves one for one with mu
    assert np.abs(dlog_var).min() > 0  # and with log_var, through sigma * eps / 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_reparameterize_matches_torch_autograd(dtype, device, torch, rng):
    mu_np, lv_np = _latent(rng)
    eps_np, dz_np = rng.standard_normal(mu_np.shape), rng.standard_normal(mu_np.shape)
    mu, log_var = (
        _torch(torch, mu_np, dtype, device, True),
        _torch(torch, lv_np, dtype, device, True),
    )
    eps, dz = _torch(torch, eps_np, dtype, device), _torch(torch, dz_np, dtype, device)
    ref = mu + torch.exp(0.5 * log_var) * eps
    ref.backward(dz)
    z, cache = F.reparameterize(mu.detach(), log_var.detach(), eps=eps)
    dmu, dlog_var = F.reparameterize_backward(dz, cache)
    expect_like(z, ref.detach())
    expect_like(dmu, mu.grad)
    expect_like(dlog_var, log_var.grad)


# -- reconstruction and the VAE loss ------------------------------------------------------


def _torch_vae_loss(torch, recon, x, mu, log_var, beta, reconstruction):
    if reconstruction == "bce":
        rec = torch.nn.functional.binary_cross_entropy_with_logits(recon, x, reduction="sum")
    else:
        rec = torch.nn.functional.mse_loss(recon, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
    return (rec + beta * kl) / x.shape[0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reconstruction", ["bce", "mse"])
def test_vae_loss_matches_torch(dtype, reconstruction, device, torch, rng):
    n, d = 6, 10
    recon_np, x_np = 2 * rng.standard_normal((n, d)), rng.random((n, d))
    mu_np, lv_np = _latent(rng, n=n)
    leaves = [_torch(torch, a, dtype, device, True) for a in (recon_np, mu_np, lv_np)]
    x = _torch(torch, x_np, dtype, device)
    ref = _torch_vae_loss(torch, leaves[0], x, leaves[1], leaves[2], 0.7, reconstruction)
    ref.backward()
    loss, grads = F.vae_loss(
        *(t.detach() for t in leaves[:1]),
        x,
        *(t.detach() for t in leaves[1:]),
        beta=0.7,
        reconstruction=reconstruction,
    )
    expect_like(loss, ref.detach())
    for g, t in zip(grads, leaves, strict=True):
        expect_like(g, t.grad)


def test_vae_loss_is_reconstruction_plus_beta_kl_and_passes_gradient_checks(rng):
    recon, x = rng.standard_normal((4, 6)), rng.random((4, 6))
    mu, log_var = _latent(rng, n=4, latent=2)
    rec, drec = F.reconstruction_loss(recon, x)
    kl, _ = F.kl_divergence(mu, log_var)
    for beta in (0.0, 1.0, 4.0):
        loss, (drecon, dmu, dlog_var) = F.vae_loss(recon, x, mu, log_var, beta=beta)
        assert math.isclose(float(loss), float(rec) + beta * float(kl), rel_tol=1e-13)
        np.testing.assert_array_equal(drecon, drec)
    args = {"recon": recon, "mu": mu, "log_var": log_var}
    _, grads = F.vae_loss(recon, x, mu, log_var, beta=2.0, reconstruction="mse")
    for (name, value), grad in zip(args.items(), grads, strict=True):

        def loss_of(v, name=name):
            kw = {**args, name: v}
            return F.vae_loss(
                kw["recon"], x, kw["mu"], kw["log_var"], beta=2.0, reconstruction="mse"
            )[0]

        check_gradient(loss_of, value, grad, name=f"d{name}")


def test_reconstruction_is_a_sum_per_example_and_exact_for_huge_logits():
    x = np.array([[1.0, 0.0, 1.0, 0.0]])
    perfect = np.array([[1e4, -1e4, 1e4, -1e4]])
    loss, d = F.reconstruction_loss(perfect, x)
    assert float(loss) == 0.0 and not d.any()
    loss, d = F.reconstruction_loss(-perfect, x)
    assert float(loss) == 4e4  # summed over the 4 pixels, not averaged
    np.testing.assert_array_equal(d, [[-1.0, 1.0, -1.0, 1.0]])
    half, _ = F.reconstruction_loss(np.zeros((3, 4)), np.full((3, 4), 0.5))
    assert math.isclose(float(half), 4 * math.log(2), rel_tol=1e-14)  # mean over 3 examples
    # images (N, C, H, W) work too: every axis after the batch is a feature
    img, _ = F.reconstruction_loss(np.zeros((2, 1, 3, 3)), np.zeros((2, 1, 3, 3)), kind="mse")
    assert float(img) == 0.0


# -- denoising corruption -----------------------------------------------------------------


def test_corrupt_is_reproducible_and_leaves_x_alone(rng):
    x = rng.random((50, 8))
    before = x.copy()
    a = F.corrupt(x, rng=np.random.default_rng(0), noise_std=0.3, mask_prob=0.25)
    b = F.corrupt(x, rng=np.random.default_rng(0), noise_std=0.3, mask_prob=0.25)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(x, before)
    c = F.corrupt(x, rng=np.random.default_rng(0))  # no corruption: a copy, nothing drawn
    np.testing.assert_array_equal(c, x)
    assert c is not x


def test_corrupt_masks_then_adds_noise(rng):
    x = np.ones((200, 50))
    masked = F.corrupt(x, rng=np.random.default_rng(1), mask_prob=0.3)
    assert set(np.unique(masked)) == {0.0, 1.0}
    assert abs((masked == 0).mean() - 0.3) < 0.02
    assert not F.corrupt(x, rng=np.random.default_rng(1), mask_prob=1.0).any()
    noisy = F.corrupt(x, rng=np.random.default_rng(2), noise_std=0.5)
    assert abs((noisy - x).std() - 0.5) < 0.02 and abs((noisy - x).mean()) < 0.02
    # the mask is drawn first, then the noise, from the one generator
    both = F.corrupt(x, rng=np.random.default_rng(3), noise_std=0.5, mask_prob=0.3)
    g = np.random.default_rng(3)
    keep = g.random(x.shape) >= 0.3
    np.testing.assert_allclose(both, np.where(keep, x, 0.0) + 0.5 * g.standard_normal(x.shape))


def test_corrupt_on_torch_with_either_generator(device, torch):
    x = torch.ones((4, 6), dtype=torch.float32, device=device)
    a = F.corrupt(x, rng=torch.Generator().manual_seed(0), noise_std=0.1, mask_prob=0.5)
    b = F.corrupt(x, rng=torch.Generator().manual_seed(0), noise_std=0.1, mask_prob=0.5)
    expect_like(a, b)
    c = F.corrupt(x, rng=np.random.default_rng(0), noise_std=0.1, mask_prob=0.5)
    d = F.corrupt(
        np.ones((4, 6), dtype=np.float32),
        rng=np.random.default_rng(0),
        noise_std=0.1,
        mask_prob=0.5,
    )
    assert c.device == x.device and c.dtype == torch.float32
    np.testing.assert_allclose(c.cpu().numpy(), d, rtol=1e-6)


# -- errors ---------------------------------------------------------------------------------


def test_errors_name_the_argument_and_the_shapes(rng):
    mu, log_var = _latent(rng, n=3, latent=2)
    with pytest.raises(ValueError, match=r"mu must be 2-D with shape \(N, L\).*\(6,\)"):
        F.kl_divergence(mu.ravel(), log_var.ravel())
    with pytest.raises(ValueError, match=r"log_var must have the shape of mu.*\(3, 2\).*\(3, 3\)"):
        F.kl_divergence(mu, np.zeros((3, 3)))
    with pytest.raises(TypeError, match="log_var must hold floating-point"):
        F.kl_divergence(mu, np.zeros((3, 2), dtype=int))
    with pytest.raises(TypeError, match="exactly one source of noise.*neither"):
        F.reparameterize(mu, log_var)
    with pytest.raises(TypeError, match="exactly one source of noise.*both"):
        F.reparameterize(mu, log_var, rng=rng, eps=mu)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator.*int"):
        F.reparameterize(mu, log_var, rng=0)
    with pytest.raises(ValueError, match=r"eps must have the shape of mu.*\(3, 2\).*\(2, 3\)"):
        F.reparameterize(mu, log_var, eps=np.zeros((2, 3)))
    _, cache = F.reparameterize(mu, log_var, rng=rng)
    with pytest.raises(ValueError, match=r"dz must have the shape of the forward's z.*\(3, 2\)"):
        F.reparameterize_backward(np.zeros((2, 2)), cache)
    with pytest.raises(TypeError, match="cache must be the ReparameterizeCache"):
        F.reparameterize_backward(np.zeros((3, 2)), (1, 2))
    with pytest.raises(ValueError, match=r"x must have the shape of recon \(3, 4\).*\(3, 5\)"):
        F.vae_loss(np.zeros((3, 4)), np.zeros((3, 5)), mu, log_var)
    with pytest.raises(ValueError, match=r"mu must have one row per example of recon \(N = 4\)"):
        F.vae_loss(np.zeros((4, 4)), np.zeros((4, 4)), mu, log_var)
    with pytest.raises(ValueError, match="reconstruction must be one of 'bce', 'mse'"):
        F.vae_loss(np.zeros((3, 4)), np.zeros((3, 4)), mu, log_var, reconstruction="l2")
    with pytest.raises(ValueError, match="beta must be a finite number >= 0"):
        F.vae_loss(np.zeros((3, 4)), np.zeros((3, 4)), mu, log_var, beta=-1)
    with pytest.raises(ValueError, match=r"recon must have shape \(N, \.\.\.\)"):
        F.reconstruction_loss(np.zeros(4), np.zeros(4))
    with pytest.raises(
        ValueError, match=r"fake_logits must have shape \(N,\) or \(N, 1\).*\(4, 2\)"
    ):
        F.discriminator_loss(np.zeros(4), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="real_logits is empty"):
        F.discriminator_loss(np.zeros(0), np.zeros(3))
    with pytest.raises(ValueError, match="kind must be one of 'non_saturating', 'minimax'"):
        F.generator_loss(np.zeros(3), kind="saturating")
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        F.corrupt(np.zeros(3), rng=None, noise_std=0.1)
    with pytest.raises(ValueError, match=r"mask_prob must be in \[0, 1\]"):
        F.corrupt(np.zeros(3), rng=rng, mask_prob=1.5)
    with pytest.raises(ValueError, match="noise_std must be a finite number >= 0"):
        F.corrupt(np.zeros(3), rng=rng, noise_std=-0.1)


def test_mixing_numpy_and_torch_is_refused(torch):
    with pytest.raises(TypeError, match="mix NumPy arrays and torch tensors"):
        F.discriminator_loss(np.zeros(3), torch.zeros(3, dtype=torch.float64))
    with pytest.raises(TypeError, match="must have the same dtype"):
        F.kl_divergence(np.zeros((2, 2)), np.zeros((2, 2), dtype=np.float32))


# -- the autograd ops -----------------------------------------------------------------------


def test_autograd_ops_give_the_kernels_gradients(rng):
    mu_np, lv_np = _latent(rng, n=4, latent=2)
    x = rng.random((4, 5))
    w = Tensor(rng.standard_normal((2, 5)), requires_grad=True)
    mu, log_var = Tensor(mu_np, requires_grad=True), Tensor(lv_np, requires_grad=True)
    eps = rng.standard_normal(mu_np.shape)
    z = A.reparameterize(mu, log_var, eps=eps)
    recon = z @ w
    loss = A.vae_loss(recon, x, mu, log_var, beta=0.5)
    loss.backward()
    # the same by the kernels, chained by hand
    z_np, cache = F.reparameterize(mu_np, lv_np, eps=eps)
    ref, (drecon, dmu, dlv) = F.vae_loss(z_np @ w.data, x, mu_np, lv_np, beta=0.5)
    dz = drecon @ w.data.T
    dmu_z, dlv_z = F.reparameterize_backward(dz, cache)
    assert math.isclose(loss.item(), float(ref), rel_tol=1e-14)
    np.testing.assert_allclose(mu.grad, dmu + dmu_z, rtol=1e-12)
    np.testing.assert_allclose(log_var.grad, dlv + dlv_z, rtol=1e-12)
    np.testing.assert_allclose(w.grad, z_np.T @ drecon, rtol=1e-12)
    # the VAE loss op equals its two terms as separate ops
    mu.grad = log_var.grad = None
    two = A.reconstruction_loss(recon.detach(), x) + A.kl_divergence(mu, log_var) * 0.5
    two.backward()
    assert math.isclose(two.item(), float(ref), rel_tol=1e-13)
    np.testing.assert_allclose(mu.grad, dmu, rtol=1e-12)


def test_autograd_gan_losses(rng):
    real = Tensor(rng.standard_normal(3), requires_grad=True)
    fake = Tensor(rng.standard_normal(4), requires_grad=True)
    (A.discriminator_loss(real, fake) * 2.0).backward()
    _, (dreal, dfake) = F.discriminator_loss(real.data, fake.data)
    np.testing.assert_allclose(real.grad, 2 * dreal)
    np.testing.assert_allclose(fake.grad, 2 * dfake)
    fake.grad = None
    A.generator_loss(fake, kind="minimax").backward()
    np.testing.assert_allclose(fake.grad, F.generator_loss(fake.data, kind="minimax")[1])
    # reparameterize draws from the generator it is given
    mu = Tensor(np.zeros((2, 3)), requires_grad=True)
    z1 = A.reparameterize(mu, mu, rng=np.random.default_rng(4))
    z2 = A.reparameterize(mu, mu, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(z1.data, z2.data)
