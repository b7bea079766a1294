"""dlkit.nn generative models: a VAE and a GAN against the same models in torch, and training.

The torch models are built from ``torch.nn.Linear`` layers holding the same weights
(dlkit's ``(in, out)`` matrices transposed); given the same batch and the same noise, the
losses and every parameter's gradient must agree, in float32 and float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.autograd as A
import dlkit.functional as F
from dlkit import nn, optim
from dlkit.data import load_digits, make_gaussian_mixture

TOL = {"float32": {"rtol": 1e-4, "atol": 1e-5}, "float64": {"rtol": 1e-10, "atol": 1e-12}}


def _linears(module):
    """The ``nn.Linear`` layers of a dlkit module, in parameter order."""
    found = []
    for child in module.children():
        if isinstance(child, nn.Linear):
            found.append(child)
        else:
            found.extend(_linears(child))
    return found


def _cast(module, dtype):
    for p in module.parameters():
        p.data = p.data.astype(dtype)
    return module


def _torch_linear(torch, layer, dtype):
    """A ``torch.nn.Linear`` with ``layer``'s weights (transposed to torch's layout)."""
    ref = torch.nn.Linear(layer.in_features, layer.out_features, dtype=getattr(torch, dtype))
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(layer.weight.data.T))
        ref.bias.copy_(torch.tensor(layer.bias.data))
    return ref


def _perturb_biases(module, rng):
    for layer in _linears(module):  # biases start at 0: make their gradients count
        layer.bias.data[...] = 0.1 * rng.standard_normal(layer.bias.shape)


def _check_grads(torch, pairs, dtype):
    for i, (layer, ref) in enumerate(pairs):
        np.testing.assert_allclose(
            layer.weight.grad.T, ref.weight.grad.numpy(), **TOL[dtype], err_msg=f"W{i}"
        )
        np.testing.assert_allclose(
            layer.bias.grad, ref.bias.grad.numpy(), **TOL[dtype], err_msg=f"b{i}"
        )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reconstruction", ["bce", "mse"])
def test_vae_loss_and_every_gradient_match_a_torch_vae(dtype, reconstruction, torch, rng):
    tF = torch.nn.functional
    n, d, hidden, latent, beta = 8, 12, (10, 6), 3, 0.8
    model = nn.VAE(d, hidden, latent, rng=rng)
    _perturb_biases(model, rng)
    _cast(model, dtype)
    layers = _linears(model)  # trunk (2), mu head, log_var head, decoder (3)
    assert len(layers) == 7 and layers[2] is model.mu_head and layers[3] is model.log_var_head
    refs = [_torch_linear(torch, layer, dtype) for layer in layers]
    x_np = rng.random((n, d)).astype(dtype)
    eps_np = rng.standard_normal((n, latent)).astype(dtype)

    # torch: the same VAE written out
    x, eps = torch.tensor(x_np), torch.tensor(eps_np)
    h = tF.relu(refs[1](tF.relu(refs[0](x))))
    mu, log_var = refs[2](h), refs[3](h)
    z = mu + torch.exp(0.5 * log_var) * eps
    logits = refs[6](tF.relu(refs[5](tF.relu(refs[4](z)))))
    if reconstruction == "bce":
        rec = tF.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    else:
        rec = tF.mse_loss(logits, x, reduction="sum") / n
    kl = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp()) / n
    ref_loss = rec + beta * kl
    ref_loss.backward()

    # dlkit: the module and the one-node loss op
    out, mu_d, lv_d = model(x_np, eps=eps_np)
    loss = A.vae_loss(out, x_np, mu_d, lv_d, beta=beta, reconstruction=reconstruction)
    loss.backward()
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(loss.item(), ref_loss.item(), **TOL[dtype])
    np.testing.assert_allclose(mu_d.data, mu.detach().numpy(), **TOL[dtype])
    _check_grads(torch, zip(layers, refs, strict=True), dtype)

    # vae_step computes the same loss and terms, then updates every parameter
    model.zero_grad()
    before = [p.data.copy() for p in model.parameters()]
    opt = optim.SGD(model.parameters(), lr=0.1)
    parts = nn.vae_step(model, opt, x_np, eps=eps_np, beta=beta, reconstruction=reconstruction)
    np.testing.assert_allclose(parts["loss"], ref_loss.item(), **TOL[dtype])
    np.testing.assert_allclose(parts["reconstruction"], rec.item(), **TOL[dtype])
    np.testing.assert_allclose(parts["kl"], kl.item(), **TOL[dtype])
    for p, old in zip(model.parameters(), before, strict=True):
        assert not np.array_equal(p.data, old)


class _TorchMLP:
    """torch layers with a dlkit MLP's weights; hidden activation ``act``."""

    def __init__(self, torch, layers, dtype, act):
        self.refs = [_torch_linear(torch, layer, dtype) for layer in layers]
        self.act = act

    def __call__(self, x):
        for ref in self.refs[:-1]:
            x = self.act(ref(x))
        return self.refs[-1](x)

    def parameters(self):
        return [p for ref in self.refs for p in ref.parameters()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["non_saturating", "minimax"])
def test_gan_step_matches_torch(dtype, kind, torch, rng):
    tF = torch.nn.functional
    bce = tF.binary_cross_entropy_with_logits
    g = _cast(nn.Generator(3, 2, (8, 8), rng=rng), dtype)
    d = _cast(nn.Discriminator(2, (8, 6), rng=rng), dtype)
    _perturb_biases(g, rng), _perturb_biases(d, rng)
    tg = _TorchMLP(torch, _linears(g), dtype, tF.relu)
    td = _TorchMLP(torch, _linears(d), dtype, lambda x: tF.leaky_relu(x, 0.2))
    real_np = make_gaussian_mixture(16, rng=rng)[0].astype(dtype)
    z_np = g.noise(16, rng=rng)
    assert z_np.shape == (16, 3) and z_np.dtype == np.dtype(dtype)

    # torch: the DCGAN-style step, D on detached fakes, then G through the updated D
    g_opt, d_opt = (
        torch.optim.SGD(tg.parameters(), lr=0.05),
        torch.optim.SGD(td.parameters(), lr=0.05),
    )
    real, z = torch.tensor(real_np), torch.tensor(z_np)
    fake = tg(z)
    r_logit, f_logit = td(real)[:, 0], td(fake.detach())[:, 0]
    d_loss = bce(r_logit, torch.ones_like(r_logit)) + bce(f_logit, torch.zeros_like(f_logit))
    d_opt.zero_grad(), d_loss.backward(), d_opt.step()
    f_logit = td(fake)[:, 0]
    if kind == "non_saturating":
        g_loss = bce(f_logit, torch.ones_like(f_logit))
    else:
        g_loss = -bce(f_logit, torch.zeros_like(f_logit))
    g_opt.zero_grad(), g_loss.backward(), g_opt.step()

    losses = nn.gan_step(
        g, d, optim.SGD(g.parameters(), lr=0.05), optim.SGD(d.parameters(), lr=0.05), real_np,
        z=z_np, kind=kind,
    )  # fmt: skip
    np.testing.assert_allclose(losses["d_loss"], d_loss.item(), **TOL[dtype])
    np.testing.assert_allclose(losses["g_loss"], g_loss.item(), **TOL[dtype])
    # after one step each, every parameter of both networks agrees: so did every gradient
    for module, ref in ((g, tg), (d, td)):
        for layer, t in zip(_linears(module), ref.refs, strict=True):
            np.testing.assert_allclose(layer.weight.data.T, t.weight.detach().numpy(), **TOL[dtype])
            np.testing.assert_allclose(layer.bias.data, t.bias.detach().numpy(), **TOL[dtype])


def test_models_run_on_torch_tensors(device, torch, rng):
    model = nn.VAE(6, 5, 2, rng=np.random.default_rng(0))
    twin = nn.VAE(6, 5, 2, rng=np.random.default_rng(0))
    for p in twin.parameters():
        p.data = torch.as_tensor(p.data, device=device)
    x = rng.random((4, 6))
    eps = rng.standard_normal((4, 2))
    out, _, _ = model(x, eps=eps)
    t_out, t_mu, _ = twin(torch.as_tensor(x, device=device), rng=torch.Generator().manual_seed(0))
    assert t_out.data.device.type == torch.device(device).type
    t_out, _, _ = twin(torch.as_tensor(x, device=device), eps=torch.as_tensor(eps, device=device))
    np.testing.assert_allclose(t_out.numpy(), out.data, rtol=1e-12)
    samples = twin.sample(3, rng=np.random.default_rng(1))
    np.testing.assert_allclose(samples.cpu().numpy(), model.sample(3, rng=np.random.default_rng(1)))
    gen = nn.Generator(2, 2, 4, rng=np.random.default_rng(0))
    for p in gen.parameters():
        p.data = torch.as_tensor(p.data, dtype=torch.float32, device=device)
    assert gen.sample(5, rng=rng).dtype == torch.float32


def test_shapes_and_the_autoencoder_code(rng):
    ae = nn.Autoencoder(64, (32, 16), 2, rng=rng)
    x = rng.random((5, 64))
    assert ae.encode(x).shape == (5, 2) and ae(x).shape == (5, 64)
    assert ae.decode(np.zeros((3, 2))).shape == (3, 64)
    vae = nn.VAE(64, 16, 2, rng=rng)
    logits, mu, log_var = vae(x, rng=rng)
    assert logits.shape == (5, 64) and mu.shape == log_var.shape == (5, 2)
    samples = vae.sample(4, rng=rng)
    assert samples.shape == (4, 64) and samples.min() >= 0 and samples.max() <= 1
    d = nn.Discriminator(2, 8, rng=rng)
    assert d(np.zeros((7, 2))).shape == (7,)
    g = nn.Generator(4, 2, rng=rng)
    assert g.sample(9, rng=rng).shape == (9, 2)


def test_training_steps_learn(rng):
    x = load_digits()[0][:256] / 16.0
    ae = nn.Autoencoder(64, 32, 8, rng=rng)
    opt = optim.Adam(ae.parameters(), lr=1e-2)
    noisy = F.corrupt(x, rng=rng, noise_std=0.2, mask_prob=0.2)
    first = nn.autoencoder_step(ae, opt, noisy, target=x)  # denoising: clean targets
    for _ in range(40):
        last = nn.autoencoder_step(ae, opt, noisy, target=x)
    assert last < 0.8 * first
    vae = nn.VAE(64, 32, 2, rng=rng)
    opt = optim.Adam(vae.parameters(), lr=1e-2)
    first = nn.vae_step(vae, opt, x, rng=rng)
    for _ in range(40):
        last = nn.vae_step(vae, opt, x, rng=rng)
    assert last["loss"] < 0.8 * first["loss"] and last["kl"] > 0


def test_errors_name_the_argument(rng):
    vae = nn.VAE(6, 4, 2, rng=rng)
    with pytest.raises(ValueError, match=r"expects x of shape \(N, 6\); got shape \(3, 5\)"):
        vae(np.zeros((3, 5)), rng=rng)
    with pytest.raises(ValueError, match=r"expects z of shape \(N, 2\); got shape \(3, 3\)"):
        vae.decode(np.zeros((3, 3)))
    with pytest.raises(TypeError, match="exactly one source of noise"):
        vae(np.zeros((3, 6)))
    with pytest.raises(TypeError, match="hidden must be a layer width"):
        nn.Autoencoder(6, [], 2, rng=rng)
    with pytest.raises(ValueError, match=r"hidden\[1\] must be >= 1"):
        nn.Generator(2, 2, (4, 0), rng=rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        nn.Discriminator(2, rng=0)
    g, d = nn.Generator(2, 2, 4, rng=rng), nn.Discriminator(2, 4, rng=rng)
    opts = optim.SGD(g.parameters(), lr=0.1), optim.SGD(d.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="gan_step needs exactly one source of noise"):
        nn.gan_step(g, d, *opts, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"expects x of shape \(N, 2\); got shape \(4, 3\)"):
        nn.gan_step(g, d, *opts, np.zeros((4, 3)), rng=rng)
