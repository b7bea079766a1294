"""Layers as modules on top of the tensor autograd, and the training API.

* ``modules.py``: :class:`Parameter`, :class:`Module` and the core layers
  (:class:`Linear`, activations, :class:`Sequential`).

Every name is re-exported here: ``from dlkit.nn import Linear``.
"""

from .modules import Linear, Module, Parameter, ReLU, Sequential, Sigmoid, Tanh

__all__ = ["Linear", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid", "Tanh"]
