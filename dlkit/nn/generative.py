"""Generative models from ``dlkit.nn`` layers (units 11 and 12), and their training steps.

* :class:`Autoencoder`: an MLP encoder to a ``latent``-wide code and an MLP decoder back;
  the decoder returns **logits** (``sigmoid`` of them are pixel intensities in ``[0, 1]``),
  which the BCE reconstruction loss takes directly.
* :class:`VAE`: the same encoder trunk with two heads, ``mu`` and ``log_var``, the
  reparameterization ``z = mu + exp(log_var / 2) * eps`` and the same decoder.
* :class:`Generator` and :class:`Discriminator`: the MLPs of a GAN. The generator maps
  noise ``z`` ``(N, latent)`` to samples ``(N, out_features)``; the discriminator maps
  samples to one logit each, ``(N,)``.
* :func:`autoencoder_step`, :func:`vae_step`, :func:`gan_step`: one training step each,
  composed of the layers, the autograd ops of :mod:`dlkit.autograd.generative_functions`,
  ``loss.backward()`` and an optimizer: no model here writes a backward pass.

Every hidden layer is ``Linear`` followed by ``ReLU`` (``LeakyReLU(0.2)`` in the
discriminator, the usual GAN choice, so that no unit's gradient dies on fake samples).
Weights are in dlkit's ``x @ W`` layout, ``(in, out)``: the TRANSPOSE of
``torch.nn.Linear.weight``. Parameters start as float64 NumPy arrays; assign ``p.data`` to
move a model to float32 or to torch on a device, as for every ``dlkit.nn`` module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import autograd as A
from .._validate import check_generator, check_size
from ..autograd import Tensor
from ..backend import describe, is_torch
from .modules import Linear, Module, ReLU, Sequential

__all__ = [
    "Autoencoder",
    "VAE",
    "Generator",
    "Discriminator",
    "autoencoder_step",
    "vae_step",
    "gan_step",
]


def _widths(hidden: Any, name: str = "hidden") -> tuple[int, ...]:
    """``hidden`` as a non-empty tuple of layer widths (one int is one layer)."""
    if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if not isinstance(hidden, Sequence) or len(hidden) == 0:
        raise TypeError(
            f"{name} must be a layer width (int >= 1) or a non-empty tuple of them; "
            f"got {describe(hidden)}"
        )
    return tuple(check_size(h, f"{name}[{i}]") for i, h in enumerate(hidden))


def _mlp(widths: Sequence[int], rng: np.random.Generator) -> Sequential:
    """``Linear -> ReLU -> ... -> Linear`` through ``widths`` (no activation at the end)."""
    layers: list[Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(Linear(a, b, rng=rng))
        if i < len(widths) - 2:
            layers.append(ReLU())
    return Sequential(*layers)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _check_features(x: Tensor, name: str, width: int, owner: Any) -> None:
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"{owner!r} expects {name} of shape (N, {width}); got shape {x.shape}")


def _like_params(values: np.ndarray, model: Module) -> Any:
    """A float64 NumPy array moved to the kind, dtype and device of ``model``'s weights."""
    like = model.parameters()[0].data
    if is_torch(like):
        import torch

        return torch.as_tensor(values, dtype=like.dtype, device=like.device)
    return values.astype(like.dtype, copy=False)


class Autoencoder(Module):
    """An undercomplete autoencoder: ``x -> encoder -> code (N, latent) -> decoder -> logits``.

    Args:
        in_features: inputs per example ``D`` (64 for the 8x8 digits).
        hidden: the encoder's hidden widths, an int or a tuple (the decoder mirrors them).
        latent: the width of the code, ``>= 1`` (2 to draw the latent space).
        rng: the generator the weights are drawn from.
    """

    def __init__(
        self, in_features: int, hidden: Any, latent: int, *, rng: np.random.Generator
    ) -> None:
        rng = check_generator(rng)
        self.in_features = check_size(in_features, "in_features")
        self.latent = check_size(latent, "latent")
        widths = _widths(hidden)
        self.encoder = _mlp((self.in_features, *widths, self.latent), rng)
        self.decoder = _mlp((self.latent, *reversed(widths), self.in_features), rng)

    def encode(self, x: Any) -> Tensor:
        """The codes ``(N, latent)`` of ``x`` ``(N, in_features)``."""
        x = _as_tensor(x)
        _check_features(x, "x", self.in_features, self)
        return self.encoder(x)

    def decode(self, z: Any) -> Tensor:
        """The reconstruction logits ``(N, in_features)`` of codes ``z`` ``(N, latent)``."""
        z = _as_tensor(z)
        _check_features(z, "z", self.latent, self)
        return self.decoder(z)

    def forward(self, x: Any) -> Tensor:
        """The reconstruction logits of ``x``; ``sigmoid`` of them is the reconstruction."""
        return self.decode(self.encode(x))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_features}, latent={self.latent})"


class VAE(Autoencoder):
    """A variational autoencoder: the encoder gives ``mu`` and ``log_var`` of ``q(z | x)``.

    ``x -> trunk (Linear, ReLU, ...) -> mu = Linear(h), log_var = Linear(h)``,
    ``z = mu + exp(log_var / 2) * eps``, ``z -> decoder -> logits``. Parameter order:
    the trunk, ``mu_head``, ``log_var_head``, the decoder.

    Args:
        in_features, hidden, latent, rng: as for :class:`Autoencoder`.
    """

    def __init__(
        self, in_features: int, hidden: Any, latent: int, *, rng: np.random.Generator
    ) -> None:
        rng = check_generator(rng)
        self.in_features = check_size(in_features, "in_features")
        self.latent = check_size(latent, "latent")
        widths = _widths(hidden)
        trunk: list[Module] = []
        for a, b in zip((self.in_features, *widths[:-1]), widths, strict=True):
            trunk += [Linear(a, b, rng=rng), ReLU()]
        self.encoder = Sequential(*trunk)
        self.mu_head = Linear(widths[-1], self.latent, rng=rng)
        self.log_var_head = Linear(widths[-1], self.latent, rng=rng)
        self.decoder = _mlp((self.latent, *reversed(widths), self.in_features), rng)

    def encode(self, x: Any) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        """``(mu, log_var)``, each ``(N, latent)``, of ``x`` ``(N, in_features)``."""
        x = _as_tensor(x)
        _check_features(x, "x", self.in_features, self)
        h = self.encoder(x)
        return self.mu_head(h), self.log_var_head(h)

    def forward(  # type: ignore[override]
        self, x: Any, *, rng: Any = None, eps: Any = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``(logits, mu, log_var)`` for ``x``, decoding one sample ``z`` per example.

        ``eps`` is drawn from ``rng`` (a ``numpy.random.Generator`` or ``torch.Generator``)
        or given, ``(N, latent)``; exactly one of the two.
        """
        mu, log_var = self.encode(x)
        z = A.reparameterize(mu, log_var, rng=rng, eps=eps)
        return self.decode(z), mu, log_var

    def sample(self, n: int, *, rng: np.random.Generator) -> Any:
        """``n`` new examples: ``sigmoid(decode(z))`` for ``z ~ N(0, I)`` drawn from ``rng``.

        Returns an array ``(n, in_features)`` in ``[0, 1]`` of the parameters' kind (no graph).
        """
        n, rng = check_size(n, "n"), check_generator(rng)
        z = _like_params(rng.standard_normal((n, self.latent)), self)
        return A.sigmoid(self.decode(Tensor(z))).data


class Generator(Module):
    """A GAN generator: noise ``z`` ``(N, latent)`` -> samples ``(N, out_features)``.

    ``Linear -> ReLU`` for each hidden width, then a last ``Linear`` with no activation
    (the 2-D mixture's points are unbounded; for images in ``[0, 1]`` apply a sigmoid).

    Args:
        latent: the noise width.
        out_features: the sample width (2 for points in the plane, 64 for digits).
        hidden: hidden widths, an int or a tuple.
        rng: the generator the weights are drawn from.
    """

    def __init__(
        self, latent: int, out_features: int, hidden: Any = (64, 64), *, rng: np.random.Generator
    ) -> None:
        rng = check_generator(rng)
        self.latent = check_size(latent, "latent")
        self.out_features = check_size(out_features, "out_features")
        self.net = _mlp((self.latent, *_widths(hidden), self.out_features), rng)

    def forward(self, z: Any) -> Tensor:
        z = _as_tensor(z)
        _check_features(z, "z", self.latent, self)
        return self.net(z)

    def noise(self, n: int, *, rng: np.random.Generator) -> Any:
        """``z ~ N(0, I)`` ``(n, latent)`` from ``rng``, of the parameters' kind and dtype."""
        n, rng = check_size(n, "n"), check_generator(rng)
        return _like_params(rng.standard_normal((n, self.latent)), self)

    def sample(self, n: int, *, rng: np.random.Generator) -> Any:
        """``n`` samples as an array (no graph)."""
        return self.forward(self.noise(n, rng=rng)).data

    def __repr__(self) -> str:
        return f"Generator(latent={self.latent}, out_features={self.out_features})"


class Discriminator(Module):
    """A GAN discriminator: samples ``(N, in_features)`` -> one logit each, ``(N,)``.

    ``Linear -> LeakyReLU(negative_slope)`` for each hidden width, then ``Linear(h, 1)``;
    the logit's sigmoid is the probability that the sample is real.

    Args:
        in_features: the sample width.
        hidden: hidden widths, an int or a tuple.
        rng: the generator the weights are drawn from.
        negative_slope: the leaky ReLU's slope for negative inputs (0.2, as in DCGAN).
    """

    def __init__(
        self,
        in_features: int,
        hidden: Any = (64, 64),
        *,
        rng: np.random.Generator,
        negative_slope: float = 0.2,
    ) -> None:
        rng = check_generator(rng)
        self.in_features = check_size(in_features, "in_features")
        widths = (self.in_features, *_widths(hidden), 1)
        self.layers = [Linear(a, b, rng=rng) for a, b in zip(widths[:-1], widths[1:], strict=True)]
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
            raise TypeError(f"negative_slope must be a number; got {describe(negative_slope)}")
        self.negative_slope = float(negative_slope)

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        _check_features(x, "x", self.in_features, self)
        for layer in self.layers[:-1]:
            x = A.leaky_relu(layer(x), self.negative_slope)
        return A.reshape(self.layers[-1](x), (x.shape[0],))

    def __repr__(self) -> str:
        return f"Discriminator(in_features={self.in_features})"


# -- training steps -------------------------------------------------------------------------


def autoencoder_step(
    model: Autoencoder,
    optimizer: Any,
    x: Any,
    *,
    target: Any = None,
    reconstruction: str = "bce",
) -> float:
    """One step on ``reconstruction_loss(model(x), target)``; returns the loss.

    For a denoising autoencoder pass the corrupted inputs as ``x`` (see
    :func:`dlkit.functional.corrupt`) and the clean ones as ``target``; by default the
    target is ``x`` itself. ``reconstruction``: ``"bce"`` (the model's outputs are logits) or
    ``"mse"`` (see :func:`dlkit.functional.reconstruction_loss`).
    """
    target = x if target is None else target
    optimizer.zero_grad()
    loss = A.reconstruction_loss(model(x), _as_tensor(target).data, kind=reconstruction)
    loss.backward()
    optimizer.step()
    return loss.item()


def vae_step(
    model: VAE,
    optimizer: Any,
    x: Any,
    *,
    rng: Any = None,
    eps: Any = None,
    beta: float = 1.0,
    reconstruction: str = "bce",
) -> dict[str, float]:
    """One step on the VAE loss ``reconstruction + beta * KL`` of the batch ``x``.

    The noise comes from ``rng`` or ``eps`` (exactly one; see :meth:`VAE.forward`).
    Returns ``{"loss", "reconstruction", "kl"}`` as floats, measured before the update.
    """
    optimizer.zero_grad()
    logits, mu, log_var = model(x, rng=rng, eps=eps)
    rec = A.reconstruction_loss(logits, _as_tensor(x).data, kind=reconstruction)
    kl = A.kl_divergence(mu, log_var)
    loss = rec + kl * beta
    loss.backward()
    optimizer.step()
    return {"loss": loss.item(), "reconstruction": rec.item(), "kl": kl.item()}


def gan_step(
    generator: Generator,
    discriminator: Discriminator,
    g_optimizer: Any,
    d_optimizer: Any,
    real: Any,
    *,
    rng: np.random.Generator | None = None,
    z: Any = None,
    kind: str = "non_saturating",
) -> dict[str, float]:
    """One GAN step: a discriminator update, then a generator update on the same samples.

    1. ``fake = generator(z)``, with ``z`` ``(N, latent)`` given or drawn from ``rng``
       (``N`` = the number of real examples);
    2. the discriminator steps on ``discriminator_loss(D(real), D(fake))``, with ``fake``
       detached (the generator is not updated by this loss);
    3. the generator steps on ``generator_loss(D(fake), kind=kind)`` through the UPDATED
       discriminator (its gradients reach ``D``'s parameters too; they are cleared before
       ``D``'s next step).

    Returns ``{"d_loss", "g_loss"}`` as floats.
    """
    real = _as_tensor(real)
    if (rng is None) == (z is None):
        raise TypeError(
            "gan_step needs exactly one source of noise: rng=np.random.default_rng(0) or z=...; "
            f"got {'both' if rng is not None else 'neither'}"
        )
    if z is None:
        z = generator.noise(real.shape[0], rng=rng)
    fake = generator(z)
    d_optimizer.zero_grad()
    d_loss = A.discriminator_loss(discriminator(real), discriminator(fake.detach()))
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    g_loss = A.generator_loss(discriminator(fake), kind=kind)
    g_loss.backward()
    g_optimizer.step()
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
