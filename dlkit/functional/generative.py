"""Kernels of the generative units: autoencoders and VAEs (unit 11), GANs (unit 12).

Two styles, as in the rest of ``dlkit.functional``:

* a layer is a pair ``*_forward``-like / ``*_backward``: :func:`reparameterize` returns
  ``(z, cache)`` and :func:`reparameterize_backward` turns ``(dz, cache)`` into
  ``(dmu, dlog_var)``;
* a loss returns ``(loss, gradients)`` in one call, like :mod:`dlkit.functional.losses`:
  :func:`kl_divergence`, :func:`reconstruction_loss`, :func:`vae_loss`,
  :func:`discriminator_loss` and :func:`generator_loss`. With several inputs the gradients
  come as a tuple in the order of the arguments.

Randomness is always explicit: :func:`reparameterize` and :func:`corrupt` draw their noise
from ``rng``, a ``numpy.random.Generator`` (the noise is drawn in float64 with NumPy and
moved to the input's kind, dtype and device, so one seed gives the same numbers on every
backend) or a ``torch.Generator`` (drawn by torch on the generator's device, then moved to
the input's). Nothing else draws a random number.

Reductions: every VAE term is **summed over the features of an example and averaged over
the batch**, so the reconstruction and the KL are on the same per-example scale and
``vae_loss`` is the negative ELBO per example (with ``beta = 1``). The GAN losses are means
over the batch of binary cross-entropies from logits, as
``torch.nn.functional.binary_cross_entropy_with_logits``; every one is written with
``softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^{-|z|})`` and the overflow-free
:func:`~dlkit.functional.sigmoid`, so logits of +-1e4 give finite losses and gradients with
the right limits.
"""

from __future__ import annotations

import math
import sys
from typing import Any, NamedTuple

import numpy as np

from .._validate import check_floats
from ..backend import describe, is_torch, namespace
from .activations import sigmoid

__all__ = [
    "reparameterize",
    "reparameterize_backward",
    "kl_divergence",
    "reconstruction_loss",
    "vae_loss",
    "corrupt",
    "discriminator_loss",
    "generator_loss",
]

RECONSTRUCTIONS = ("bce", "mse")
GENERATOR_LOSSES = ("non_saturating", "minimax")


class ReparameterizeCache(NamedTuple):
    std: Any  # (N, L): exp(log_var / 2)
    eps: Any  # (N, L): the standard normal noise used


# -- helpers --------------------------------------------------------------------------------


def _shape(a: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in a.shape)


def _softplus(xp: Any, z: Any) -> Any:
    """``log(1 + e^z)`` without overflow: ``max(z, 0) + log1p(e^{-|z|})``."""
    return xp.maximum(z, xp.zeros_like(z)) + xp.log1p(xp.exp(-xp.abs(z)))


def _is_torch_generator(rng: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(rng, torch.Generator)


def _check_rng(rng: Any) -> Any:
    if isinstance(rng, np.random.Generator) or _is_torch_generator(rng):
        return rng
    raise TypeError(
        "rng must be a numpy.random.Generator (e.g. rng=np.random.default_rng(0)) or a "
        f"torch.Generator; got {describe(rng)}"
    )


def _draw(rng: Any, kind: str, like: Any) -> Any:
    """Standard normal (``kind="normal"``) or uniform ``[0, 1)`` numbers of ``like``'s shape,
    kind, dtype and device, drawn from ``rng`` only."""
    shape = _shape(like)
    if isinstance(rng, np.random.Generator):
        values = rng.standard_normal(shape) if kind == "normal" else rng.random(shape)
        if is_torch(like):
            import torch

            return torch.as_tensor(values, dtype=like.dtype, device=like.device)
        return values.astype(like.dtype, copy=False)
    import torch

    dtype = like.dtype if is_torch(like) else torch.float64
    draw = torch.randn if kind == "normal" else torch.rand
    values = draw(shape, generator=rng, dtype=dtype, device=rng.device)
    if is_torch(like):
        return values.to(like.device)
    return values.cpu().numpy().astype(like.dtype, copy=False)


def _check_latent(mu: Any, log_var: Any) -> tuple[Any, Any]:
    """``mu`` and ``log_var`` of one kind, dtype, device and shape ``(N, L)``, ``N >= 1``."""
    mu, log_var = check_floats(mu=mu, log_var=log_var)
    if mu.ndim != 2:
        raise ValueError(
            f"mu must be 2-D with shape (N, L) (one row of latent means per example); "
            f"got {mu.ndim}-D shape {_shape(mu)}"
        )
    if _shape(log_var) != _shape(mu):
        raise ValueError(
            f"log_var must have the shape of mu (N, L) = {_shape(mu)}; got shape {_shape(log_var)}"
        )
    if mu.shape[0] == 0:
        raise ValueError("mu is empty: the mean over zero examples is undefined")
    return mu, log_var


def _check_beta(beta: Any) -> float:
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)):
        raise TypeError(f"beta must be a number >= 0 (the weight of the KL term); got {beta!r}")
    beta = float(beta)
    if not (math.isfinite(beta) and beta >= 0.0):
        raise ValueError(f"beta must be a finite number >= 0; got {beta!r}")
    return beta


def _check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def _check_logits(logits: Any, name: str) -> Any:
    """A discriminator's logits: shape ``(N,)`` or ``(N, 1)``, ``N >= 1``."""
    (logits,) = check_floats(**{name: logits})
    shape = _shape(logits)
    if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
        raise ValueError(
            f"{name} must have shape (N,) or (N, 1) (one discriminator logit per example); "
            f"got shape {shape}"
        )
    if shape[0] == 0:
        raise ValueError(f"{name} is empty: the mean loss of zero examples is undefined")
    return logits


# -- the VAE ------------------------------------------------------------------------------


def reparameterize(
    mu: Any, log_var: Any, *, rng: Any = None, eps: Any = None
) -> tuple[Any, ReparameterizeCache]:
    """A sample ``z = mu + exp(log_var / 2) * eps`` of ``N(mu, diag(exp(log_var)))``.

    The reparameterization trick: the randomness lives in ``eps ~ N(0, I)``, which does not
    depend on the parameters, so ``z`` is a differentiable function of ``mu`` and
    ``log_var`` (:func:`reparameterize_backward`).

    Args:
        mu: the means, ``(N, L)``.
        log_var: the log-variances ``log sigma^2``, ``(N, L)``, same kind, dtype, device.
        rng: the generator ``eps`` is drawn from: a ``numpy.random.Generator`` (float64
            numbers converted to ``mu``'s kind, dtype and device: one seed, the same ``eps``
            on every backend) or a ``torch.Generator`` (drawn on its device).
        eps: the noise itself, ``(N, L)``, instead of ``rng`` (to reuse a sample, or to
            match another implementation). Give exactly one of ``rng`` and ``eps``.

    Returns:
        ``(z, cache)``: ``z`` ``(N, L)`` of ``mu``'s kind, dtype and device, and the cache
        ``(std, eps)`` for the backward pass (``cache.eps`` is the noise used).
    """
    mu, log_var = _check_latent(mu, log_var)
    if (rng is None) == (eps is None):
        raise TypeError(
            "reparameterize needs exactly one source of noise: rng=np.random.default_rng(0) "
            "(or a torch.Generator) to draw eps, or eps=... to pass it; "
            f"got {'both' if rng is not None else 'neither'}"
        )
    if eps is None:
        eps = _draw(_check_rng(rng), "normal", mu)
    else:
        eps, _ = check_floats(eps=eps, mu=mu)
        if _shape(eps) != _shape(mu):
            raise ValueError(
                f"eps must have the shape of mu (N, L) = {_shape(mu)}; got shape {_shape(eps)}"
            )
    xp = namespace(mu)
    std = xp.exp(0.5 * log_var)
    return mu + std * eps, ReparameterizeCache(std, eps)


def reparameterize_backward(dz: Any, cache: ReparameterizeCache) -> tuple[Any, Any]:
    """Backward pass of :func:`reparameterize`.

    Args:
        dz: upstream gradient ``dL/dz``, ``(N, L)``.
        cache: from :func:`reparameterize`.

    Returns:
        ``(dmu, dlog_var)``: ``dz`` (``z`` moves one for one with ``mu``) and
        ``dz * eps * std / 2`` (``d std / d log_var = std / 2``), both ``(N, L)``.
    """
    if not isinstance(cache, ReparameterizeCache):
        raise TypeError(
            f"cache must be the ReparameterizeCache that reparameterize returned; "
            f"got {type(cache).__name__}"
        )
    std, eps = cache
    dz, _ = check_floats(dz=dz, **{"the forward's arrays": std})
    if _shape(dz) != _shape(std):
        raise ValueError(
            f"dz must have the shape of the forward's z (N, L) = {_shape(std)}; "
            f"got shape {_shape(dz)}"
        )
    return dz, 0.5 * dz * eps * std


def kl_divergence(mu: Any, log_var: Any) -> tuple[Any, tuple[Any, Any]]:
    """``KL(N(mu, diag(exp(log_var))) || N(0, I))`` per example, averaged over the batch.

    Per example ``i``, summed over the ``L`` latent dimensions:
    ``KL_i = -1/2 sum_j (1 + log_var_ij - mu_ij^2 - exp(log_var_ij))``, which is ``>= 0``
    and ``0`` exactly when ``mu = 0`` and ``log_var = 0``.

    Args:
        mu: the encoder's means, ``(N, L)``.
        log_var: its log-variances, ``(N, L)``.

    Returns:
        ``(kl, (dmu, dlog_var))``: ``kl = mean_i KL_i`` (0-d), ``dmu = mu / N`` and
        ``dlog_var = (exp(log_var) - 1) / (2 N)``.
    """
    mu, log_var = _check_latent(mu, log_var)
    n = int(mu.shape[0])
    xp = namespace(mu)
    var = xp.exp(log_var)
    kl = -0.5 * xp.sum(1.0 + log_var - mu * mu - var) / n
    return kl, (mu / n, 0.5 * (var - 1.0) / n)


def reconstruction_loss(recon: Any, x: Any, *, kind: str = "bce") -> tuple[Any, Any]:
    """How far a decoder's output is from its target, summed per example, mean over the batch.

    Args:
        recon: the decoder's output, ``(N, ...)``: **logits** for ``kind="bce"`` (the last
            layer without a sigmoid; ``sigmoid(recon)`` are the pixel probabilities), the
            reconstruction itself for ``kind="mse"``.
        x: the target, the shape of ``recon``; in ``[0, 1]`` for ``"bce"``.
        kind: ``"bce"``, the Bernoulli negative log-likelihood
            ``sum_d softplus(r_d) - x_d r_d`` (exact for any logit); or ``"mse"``,
            ``sum_d (r_d - x_d)^2`` (a Gaussian decoder up to constants).

    Returns:
        ``(loss, drecon)``: the mean over the ``N`` examples of the per-example sum, and
        ``drecon = (sigmoid(recon) - x) / N`` (``"bce"``) or ``2 (recon - x) / N``
        (``"mse"``), with the shape of ``recon``.
    """
    kind = _check_choice(kind, "kind", RECONSTRUCTIONS)
    recon, x = check_floats(recon=recon, x=x)
    if recon.ndim < 2:
        raise ValueError(
            f"recon must have shape (N, ...) with the features after the batch axis, "
            f"e.g. (N, D); got {recon.ndim}-D shape {_shape(recon)}"
        )
    if _shape(x) != _shape(recon):
        raise ValueError(f"x must have the shape of recon {_shape(recon)}; got shape {_shape(x)}")
    n = int(recon.shape[0])
    if n == 0:
        raise ValueError("recon is empty: the mean over zero examples is undefined")
    xp = namespace(recon)
    if kind == "bce":
        loss = xp.sum(_softplus(xp, recon) - x * recon) / n
        return loss, (sigmoid(recon) - x) / n
    diff = recon - x
    return xp.sum(diff * diff) / n, 2.0 * diff / n


def vae_loss(
    recon: Any,
    x: Any,
    mu: Any,
    log_var: Any,
    *,
    beta: float = 1.0,
    reconstruction: str = "bce",
) -> tuple[Any, tuple[Any, Any, Any]]:
    """The (beta-)VAE loss: reconstruction + ``beta`` * KL, the negative ELBO for ``beta=1``.

    ``loss = reconstruction_loss(recon, x) + beta * kl_divergence(mu, log_var)``, both terms
    summed over an example's features (pixels, latent dimensions) and averaged over the
    batch. ``beta > 1`` weighs the prior more (smoother, more disentangled latents, blurrier
    reconstructions); ``beta = 0`` leaves a plain autoencoder with a noisy code.

    Args:
        recon: the decoder's output ``(N, ...)``: logits for ``reconstruction="bce"``.
        x: the clean input, the shape of ``recon``.
        mu, log_var: the encoder's outputs, ``(N, L)`` each, the same ``N``.
        beta: the weight of the KL term, ``>= 0``.
        reconstruction: ``"bce"`` or ``"mse"`` (see :func:`reconstruction_loss`).

    Returns:
        ``(loss, (drecon, dmu, dlog_var))``: a 0-d loss and its gradients with respect to
        ``recon``, ``mu`` and ``log_var``. No gradient flows into ``x``.
    """
    beta = _check_beta(beta)
    reconstruction = _check_choice(reconstruction, "reconstruction", RECONSTRUCTIONS)
    rec, drecon = reconstruction_loss(recon, x, kind=reconstruction)
    mu, log_var = _check_latent(mu, log_var)
    check_floats(recon=recon, mu=mu)
    if int(mu.shape[0]) != int(recon.shape[0]):
        raise ValueError(
            f"mu must have one row per example of recon (N = {int(recon.shape[0])}); "
            f"got shape {_shape(mu)}"
        )
    kl, (dmu, dlog_var) = kl_divergence(mu, log_var)
    return rec + beta * kl, (drecon, beta * dmu, beta * dlog_var)


def corrupt(x: Any, *, rng: Any, noise_std: float = 0.0, mask_prob: float = 0.0) -> Any:
    """A corrupted copy of ``x`` for a denoising autoencoder (which learns to undo it).

    Masking noise first: each entry is set to 0 with probability ``mask_prob``; then
    Gaussian noise: ``noise_std * N(0, 1)`` is added to every entry. With both at 0 the
    result is a copy of ``x`` and no random number is drawn.

    Args:
        x: the clean inputs, a float array or tensor of any shape.
        rng: the generator the noise comes from (required): a ``numpy.random.Generator``
            (drawn in float64 by NumPy and moved to ``x``'s kind, dtype and device) or a
            ``torch.Generator`` (drawn by torch on its device). The mask is drawn before
            the Gaussian noise.
        noise_std: the standard deviation of the additive noise, ``>= 0``.
        mask_prob: the probability of zeroing an entry, in ``[0, 1]``.

    Returns:
        The corrupted inputs, ``x``'s shape, kind, dtype and device. The clean ``x`` is
        the target of the reconstruction loss; the corruption takes no gradient.
    """
    (x,) = check_floats(x=x)
    rng = _check_rng(rng)
    for name, value in (("noise_std", noise_std), ("mask_prob", mask_prob)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a number; got {describe(value)}")
    noise_std, mask_prob = float(noise_std), float(mask_prob)
    if not (math.isfinite(noise_std) and noise_std >= 0.0):
        raise ValueError(f"noise_std must be a finite number >= 0; got {noise_std!r}")
    if not 0.0 <= mask_prob <= 1.0:
        raise ValueError(
            f"mask_prob must be in [0, 1] (the probability of zeroing an entry); got {mask_prob!r}"
        )
    xp = namespace(x)
    out = x.clone() if is_torch(x) else x.copy()
    if mask_prob > 0.0:
        keep = _draw(rng, "uniform", x) >= mask_prob
        out = xp.where(keep, out, xp.zeros_like(out))
    if noise_std > 0.0:
        out = out + noise_std * _draw(rng, "normal", x)
    return out


# -- the GAN ------------------------------------------------------------------------------


def discriminator_loss(real_logits: Any, fake_logits: Any) -> tuple[Any, tuple[Any, Any]]:
    """The discriminator's loss: binary cross-entropy with real = 1 and fake = 0, from logits.

    ``loss = mean_i softplus(-r_i) + mean_j softplus(f_j)``
    ``= -mean log D(x_real) - mean log(1 - D(G(z)))`` with ``D = sigmoid(logit)``: equal to
    ``F.binary_cross_entropy_with_logits(r, ones) + F.binary_cross_entropy_with_logits(f,
    zeros)`` in torch. Minimising it maximises the GAN value function over ``D``.

    Args:
        real_logits: the discriminator's logits on real examples, ``(N,)`` or ``(N, 1)``.
        fake_logits: its logits on generated examples, ``(M,)`` or ``(M, 1)`` (``M`` may
            differ from ``N``), the same kind, dtype and device.

    Returns:
        ``(loss, (dreal, dfake))``: a 0-d loss, ``dreal = -sigmoid(-r) / N`` and
        ``dfake = sigmoid(f) / M``, each the shape of its logits. Exact for logits of any
        size: at +-1e4 the loss is 0 or 1e4 and the gradients 0 or -+1/N.
    """
    real_logits = _check_logits(real_logits, "real_logits")
    fake_logits = _check_logits(fake_logits, "fake_logits")
    check_floats(real_logits=real_logits, fake_logits=fake_logits)
    xp = namespace(real_logits)
    n, m = int(real_logits.shape[0]), int(fake_logits.shape[0])
    loss = xp.sum(_softplus(xp, -real_logits)) / n + xp.sum(_softplus(xp, fake_logits)) / m
    return loss, (-sigmoid(-real_logits) / n, sigmoid(fake_logits) / m)


def generator_loss(fake_logits: Any, *, kind: str = "non_saturating") -> tuple[Any, Any]:
    """The generator's loss on the discriminator's logits for its samples.

    * ``kind="non_saturating"`` (Goodfellow et al., 2014, the form used in practice):
      ``loss = mean softplus(-f) = -mean log D(G(z))`` (torch:
      ``F.binary_cross_entropy_with_logits(f, ones)``), gradient ``-sigmoid(-f) / N``: about
      ``-1/N`` where the discriminator confidently rejects the samples (``f << 0``), so the
      generator learns fastest where it is worst.
    * ``kind="minimax"``: the value function's own term, ``loss = mean log(1 - D(G(z))) =
      -mean softplus(f)`` (torch: ``-F.binary_cross_entropy_with_logits(f, zeros)``),
      gradient ``-sigmoid(f) / N``: it vanishes where ``f << 0``, the saturation that stalls
      early training.

    Args:
        fake_logits: the discriminator's logits on generated examples, ``(N,)`` or ``(N, 1)``.
        kind: ``"non_saturating"`` or ``"minimax"``.

    Returns:
        ``(loss, dfake)``: a 0-d loss and its gradient, the shape of ``fake_logits``.
    """
    kind = _check_choice(kind, "kind", GENERATOR_LOSSES)
    f = _check_logits(fake_logits, "fake_logits")
    xp = namespace(f)
    n = int(f.shape[0])
    if kind == "non_saturating":
        return xp.sum(_softplus(xp, -f)) / n, -sigmoid(-f) / n
    return -xp.sum(_softplus(xp, f)) / n, -sigmoid(f) / n
