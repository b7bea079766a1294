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

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

__all__ = ["using"]

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
