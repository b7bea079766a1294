"""The generative kernels (units 11 and 12) as autograd ops.

Each op is a :class:`Function` around a ``dlkit.functional.generative`` kernel, whose
gradients are checked against torch and by finite differences:

* :func:`reparameterize`: ``z = mu + exp(log_var / 2) * eps``, one node with two parents;
  the noise ``eps`` (drawn from ``rng``, or given) is data, not an input of the graph;
* :func:`kl_divergence`, :func:`reconstruction_loss`, :func:`vae_loss`: the VAE's terms
  (summed per example, mean over the batch); targets get no gradient;
* :func:`discriminator_loss`, :func:`generator_loss`: the GAN losses from logits.

The losses' forward passes already return their gradients; the backward passes only scale
them by ``dout``. A VAE or a GAN built from ``dlkit.nn`` layers and these ops trains with
``loss.backward()``: no model writes a backward pass.
"""

from __future__ import annotations

from typing import Any

from ..functional import generative as G
from .function import Context, Function
from .tensor import Tensor

__all__ = [
    "reparameterize",
    "kl_divergence",
    "reconstruction_loss",
    "vae_loss",
    "discriminator_loss",
    "generator_loss",
]


class Reparameterize(Function):
    @staticmethod
    def forward(ctx: Context, mu: Any, log_var: Any, *, rng: Any = None, eps: Any = None) -> Any:
        z, cache = G.reparameterize(mu, log_var, rng=rng, eps=eps)
        ctx.save_for_backward(cache)
        return z

    @staticmethod
    def backward(ctx: Context, dz: Any) -> tuple[Any, Any]:
        return G.reparameterize_backward(dz, ctx.saved_values[0])


class KLDivergence(Function):
    @staticmethod
    def forward(ctx: Context, mu: Any, log_var: Any) -> Any:
        kl, grads = G.kl_divergence(mu, log_var)
        ctx.save_for_backward(*grads)
        return kl

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, Any]:
        dmu, dlog_var = ctx.saved_values
        return dmu * dout, dlog_var * dout


class ReconstructionLoss(Function):
    @staticmethod
    def forward(ctx: Context, recon: Any, x: Any, *, kind: str) -> Any:
        loss, drecon = G.reconstruction_loss(recon, x, kind=kind)
        ctx.save_for_backward(drecon)
        return loss

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, None]:
        return ctx.saved_values[0] * dout, None


class VAELoss(Function):
    @staticmethod
    def forward(
        ctx: Context, recon: Any, x: Any, mu: Any, log_var: Any, *, beta: float, reconstruction: str
    ) -> Any:
        loss, grads = G.vae_loss(recon, x, mu, log_var, beta=beta, reconstruction=reconstruction)
        ctx.save_for_backward(*grads)
        return loss

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, None, Any, Any]:
        drecon, dmu, dlog_var = ctx.saved_values
        return drecon * dout, None, dmu * dout, dlog_var * dout


class DiscriminatorLoss(Function):
    @staticmethod
    def forward(ctx: Context, real_logits: Any, fake_logits: Any) -> Any:
        loss, grads = G.discriminator_loss(real_logits, fake_logits)
        ctx.save_for_backward(*grads)
        return loss

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any, Any]:
        dreal, dfake = ctx.saved_values
        return dreal * dout, dfake * dout


class GeneratorLoss(Function):
    @staticmethod
    def forward(ctx: Context, fake_logits: Any, *, kind: str) -> Any:
        loss, dfake = G.generator_loss(fake_logits, kind=kind)
        ctx.save_for_backward(dfake)
        return loss

    @staticmethod
    def backward(ctx: Context, dout: Any) -> tuple[Any]:
        return (ctx.saved_values[0] * dout,)


def _data(a: Any) -> Any:
    return a.data if isinstance(a, Tensor) else a


def reparameterize(mu: Tensor, log_var: Tensor, *, rng: Any = None, eps: Any = None) -> Tensor:
    """``z = mu + exp(log_var / 2) * eps`` ``(N, L)``, with ``eps ~ N(0, I)`` drawn from
    ``rng`` (a NumPy or torch generator) or given as ``eps``; gradients flow to ``mu`` and
    ``log_var`` (see :func:`dlkit.functional.reparameterize`)."""
    return Reparameterize.apply(mu, log_var, rng=rng, eps=_data(eps))


def kl_divergence(mu: Tensor, log_var: Tensor) -> Tensor:
    """``mean_i KL(N(mu_i, exp(log_var_i)) || N(0, I))``, summed over the latent dimensions
    (see :func:`dlkit.functional.kl_divergence`)."""
    return KLDivergence.apply(mu, log_var)


def reconstruction_loss(recon: Tensor, x: Any, *, kind: str = "bce") -> Tensor:
    """The per-example sum of BCE-from-logits (``"bce"``) or squared errors (``"mse"``),
    averaged over the batch; ``x`` gets no gradient."""
    return ReconstructionLoss.apply(recon, _data(x), kind=kind)


def vae_loss(
    recon: Tensor,
    x: Any,
    mu: Tensor,
    log_var: Tensor,
    *,
    beta: float = 1.0,
    reconstruction: str = "bce",
) -> Tensor:
    """``reconstruction_loss(recon, x) + beta * kl_divergence(mu, log_var)`` in one node
    (see :func:`dlkit.functional.vae_loss`); ``x`` gets no gradient."""
    return VAELoss.apply(recon, _data(x), mu, log_var, beta=beta, reconstruction=reconstruction)


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """BCE from logits with real = 1 and fake = 0, each averaged over its own batch."""
    return DiscriminatorLoss.apply(real_logits, fake_logits)


def generator_loss(fake_logits: Tensor, *, kind: str = "non_saturating") -> Tensor:
    """``mean softplus(-f)`` (``"non_saturating"``) or ``-mean softplus(f)`` (``"minimax"``)
    on the discriminator's logits ``f`` for generated samples."""
    return GeneratorLoss.apply(fake_logits, kind=kind)
