"""Grade each exercise on its own.

A student's ``mlp_forward`` calls their own ``affine_forward`` and ``relu``. If ``relu`` is
wrong, ``mlp_forward`` would fail too and the same mistake would cost points twice. Inside
``with using(globals(), relu=F.relu): ...`` the notebook's ``relu`` is the reference, because
Python looks global names up when a function runs; the student's own is restored after.

While a unit is graded, test cells run in a grader process apart from the student's kernel
(``dlgrade.harness``); there ``globals()`` is the grader's namespace, which knows how to make
the same substitution in the kernel (its ``substitute`` method), and ``using`` defers to it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

__all__ = ["kernel_module", "using"]

_MISSING = object()


@contextmanager
def using(namespace: MutableMapping[str, Any], **replacements: Any) -> Iterator[None]:
    """Temporarily bind ``replacements`` in ``namespace`` (usually the notebook's ``globals()``)."""
    if not isinstance(namespace, MutableMapping):
        raise TypeError(
            f"namespace must be a dict such as globals(); got {type(namespace).__name__}"
        )
    substitute = getattr(namespace, "substitute", None)
    if type(namespace) is not dict and callable(substitute):  # the grader's namespace
        with substitute(**replacements):
            yield
        return
    from ..references import quiet  # substituting a reference is not the answer calling it

    saved = {name: namespace.get(name, _MISSING) for name in replacements}
    namespace.update(replacements)
    try:
        with quiet():
            yield
    finally:
        for name, value in saved.items():
            if value is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def kernel_module(namespace: MutableMapping[str, Any], name: str) -> Any:
    """The student's kernel's module ``name``, e.g. ``ktorch = kernel_module(globals(), "torch")``.

    In the notebook this is ``importlib.import_module(name)``. While a unit is graded the test
    cell runs in the grader process, where tensors made by its own torch reach the student as
    copies: an optimizer built there over ``model.parameters()`` would step copies, and a loss
    made there would return a tensor with no graph into the student's model. Objects that
    must live with the student's model (an optimizer, a loss function, a data loader) are
    built with the kernel's torch instead: ``ktorch.optim.SGD(model.parameters(), lr=0.1)``.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a module name such as 'torch'; got {name!r}")
    if not isinstance(namespace, MutableMapping):
        raise TypeError(
            f"namespace must be a dict such as globals(); got {type(namespace).__name__}"
        )
    ask = getattr(namespace, "kernel_module", None)
    if type(namespace) is not dict and callable(ask):  # the grader's namespace
        return ask(name)
    return importlib.import_module(name)
