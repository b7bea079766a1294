"""Weight initialisation: scale the random weights so that signals keep their size.

A layer ``z = x @ w`` with ``fan_in`` independent, zero-mean inputs of variance ``v`` and
weights of variance ``s^2`` gives outputs of variance ``fan_in * s^2 * v``. Choosing ``s^2``
so that this factor is right keeps the activations (and, backwards, the gradients) from
exploding or vanishing through depth:

* :func:`he_init` (Kaiming): ``s^2 = 2 / fan_in``, for ReLU layers (ReLU halves the
  second moment);
* :func:`xavier_init` (Glorot): ``s^2 = 2 / (fan_in + fan_out)``, a compromise between the
  forward (``fan_in``) and backward (``fan_out``) condition, for tanh and linear layers.

Every function takes an explicit ``rng`` (a ``numpy.random.Generator``) and returns float64
weights of shape ``(fan_in, fan_out)``, the ``x @ w`` convention of ``affine_forward``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from ._validate import check_generator, check_size

__all__ = ["he_init", "xavier_init", "init_mlp"]

Initializer = Callable[..., np.ndarray]


def he_init(fan_in: int, fan_out: int, *, rng: np.random.Generator) -> np.ndarray:
    """He (Kaiming) normal initialisation for a ReLU layer.

    The weights are drawn, in exactly this way (tests compare element by element with the
    same seed)::

        rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)

    so they have mean 0 and standard deviation ``sqrt(2 / fan_in)``.
    (``rng.normal(0.0, std, size=(fan_in, fan_out))`` draws the very same numbers.)

    Args:
        fan_in: number of inputs of the layer (``D`` in ``x @ w`` with ``w`` ``(D, M)``).
        fan_out: number of outputs of the layer (``M``).
        rng: the random generator to draw from.

    Returns:
        float64 weights of shape ``(fan_in, fan_out)``.
    """
    fan_in, fan_out = check_size(fan_in, "fan_in"), check_size(fan_out, "fan_out")
    std = math.sqrt(2.0 / fan_in)
    return check_generator(rng).standard_normal((fan_in, fan_out)) * std


def xavier_init(
    fan_in: int, fan_out: int, *, rng: np.random.Generator, uniform: bool = False
) -> np.ndarray:
    """Xavier (Glorot) initialisation: variance ``2 / (fan_in + fan_out)``.

    Drawn as ``rng.standard_normal((fan_in, fan_out)) * sqrt(2 / (fan_in + fan_out))``, or,
    with ``uniform=True``, as ``rng.uniform(-a, a, size=(fan_in, fan_out))`` with
    ``a = sqrt(6 / (fan_in + fan_out))`` (a uniform on ``[-a, a]`` has variance ``a^2 / 3``).

    Returns:
        float64 weights of shape ``(fan_in, fan_out)``.
    """
    fan_in, fan_out = check_size(fan_in, "fan_in"), check_size(fan_out, "fan_out")
    rng = check_generator(rng)
    if not isinstance(uniform, bool):
        raise TypeError(f"uniform must be True or False; got {uniform!r}")
    if uniform:
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=(fan_in, fan_out))
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / (fan_in + fan_out))


_SCHEMES: dict[str, Initializer] = {
    "he": he_init,
    "xavier": xavier_init,
    "xavier_uniform": lambda fan_in, fan_out, *, rng: xavier_init(
        fan_in, fan_out, rng=rng, uniform=True
    ),
}


def init_mlp(
    sizes: Sequence[int], *, rng: np.random.Generator, scheme: str | Initializer = "he"
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Parameters of a multilayer perceptron with layer widths ``sizes``.

    ``sizes = [D, H1, ..., C]`` (input width, hidden widths, output width) gives
    ``len(sizes) - 1`` layers; layer ``i`` gets ``w`` of shape ``(sizes[i], sizes[i + 1])``
    from the ``scheme`` and a zero bias of shape ``(sizes[i + 1],)``. The layers are drawn
    in order from the one ``rng``.

    Args:
        sizes: at least two positive ints.
        rng: the random generator to draw from.
        scheme: ``"he"``, ``"xavier"``, ``"xavier_uniform"``, or a function
            ``init(fan_in, fan_out, *, rng)`` returning a ``(fan_in, fan_out)`` array
            (for instance your own ``he_init``).

    Returns:
        A list of ``(w, b)`` pairs, the ``params`` that ``mlp_forward`` takes.
    """
    rng = check_generator(rng)
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a list of layer widths such as [2, 16, 1]; got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(
            f"sizes must hold at least two widths (input and output); got {list(sizes)}"
        )
    widths = [check_size(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    if isinstance(scheme, str):
        if scheme not in _SCHEMES:
            raise ValueError(
                f"scheme must be one of {sorted(_SCHEMES)} or a function; got {scheme!r}"
            )
        init = _SCHEMES[scheme]
    elif callable(scheme):
        init = scheme
    else:
        raise TypeError(f"scheme must be a name or a function; got {type(scheme).__name__}")
    params = []
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        w = np.asarray(init(fan_in, fan_out, rng=rng))
        if w.shape != (fan_in, fan_out):
            raise ValueError(
                f"scheme returned weights of shape {w.shape} for layer {i}; expected "
                f"(fan_in, fan_out) = {(fan_in, fan_out)}"
            )
        params.append((w, np.zeros(fan_out, dtype=w.dtype)))
    return params
