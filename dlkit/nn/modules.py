"""Core modules on top of the tensor autograd (``dlkit.autograd.Tensor``).

A :class:`Module` owns :class:`Parameter` tensors and computes ``forward`` with autograd ops,
so no module writes a backward pass: ``loss.backward()`` fills every parameter's ``.grad``.

Contract with ``dlkit.optim`` (the same as torch's): an optimizer receives
``model.parameters()``, a list of objects whose ``.data`` is a NumPy array or torch tensor that
it updates *in place*, and whose ``.grad`` is an array of the same shape, or ``None`` when the
parameter took no part in the last backward pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import autograd as A
from ..autograd import Tensor
from ..init import he_init
from . import training as _training

__all__ = ["Parameter", "Module", "Linear", "ReLU", "Tanh", "Sigmoid", "Sequential"]


class Parameter(Tensor):
    """A tensor that a module trains: ``requires_grad`` is always on."""

    def __init__(self, data: Any) -> None:
        super().__init__(data, requires_grad=True)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__().removeprefix("Tensor")


class Module:
    """Base class: subclasses set parameters and sub-modules as attributes and define
    ``forward``. ``module(x)`` calls ``forward(x)``."""

    training: bool = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def children(self) -> Iterator[Module]:
        for value in vars(self).values():
            if isinstance(value, Module):
                yield value
            elif isinstance(value, (list, tuple)):
                yield from (v for v in value if isinstance(v, Module))

    def parameters(self) -> list[Parameter]:
        """Every parameter of this module and its sub-modules, once each, in a fixed order."""
        found: list[Parameter] = []
        seen: set[int] = set()
        for value in vars(self).values():
            if isinstance(value, Parameter) and id(value) not in seen:
                seen.add(id(value))
                found.append(value)
        for child in self.children():
            for p in child.parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    found.append(p)
        return found

    def zero_grad(self) -> None:
        """Forget the gradients of the last backward pass (``.grad = None``, as torch)."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Switch to training mode (dropout and batch norm behave differently); returns self."""
        self.training = bool(mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode; returns self."""
        return self.train(False)

    # The Keras-style training API: the functions of training.py, as methods.
    compile = _training.compile
    fit = _training.fit
    evaluate = _training.evaluate
    predict = _training.predict


class Linear(Module):
    """``x @ weight + bias`` with ``weight`` ``(in_features, out_features)``, He-initialised.

    Args:
        in_features: inputs per example (``D``).
        out_features: outputs per example (``M``).
        rng: the generator the weights are drawn from (biases start at zero).
        bias: whether to add a bias.
    """

    def __init__(
        self, in_features: int, out_features: int, *, rng: np.random.Generator, bias: bool = True
    ) -> None:
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(he_init(in_features, out_features, rng=rng))  # (D, M)
        self.bias = Parameter(np.zeros(out_features)) if bias else None  # (M,)

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"Linear({self.in_features}, {self.out_features}) expects x of shape "
                f"(N, {self.in_features}); got shape {x.shape}"
            )
        if self.bias is None:
            return x @ self.weight
        return A.affine(x, self.weight, self.bias)  # (N, M)

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features}, bias={self.bias is not None})"


class ReLU(Module):
    def forward(self, x: Tensor) -> Tensor:
        return A.relu(x)


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return A.tanh(x)


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return A.sigmoid(x)


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(a, b)(x) == b(a(x))``."""

    def __init__(self, *layers: Module) -> None:
        for layer in layers:
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes Modules; got {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)
