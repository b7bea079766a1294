"""Shared by the widgets that run a student's functions: results checked with clear errors,
and text made safe for matplotlib (no mathtext, no missing glyphs for control characters)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["unpack", "as_array", "check_functions", "printable"]


def unpack(result: Any, count: int, name: str, returns: str) -> tuple[Any, ...]:
    """The student's ``result`` as a tuple of ``count`` items, or a ValueError saying why not."""
    if isinstance(result, (tuple, list)) and len(result) == count:
        return tuple(result)
    got = f"a {len(result)}-tuple" if isinstance(result, (tuple, list)) else type(result).__name__
    hint = ": did you forget the `return` statement?" if result is None else ""
    raise ValueError(f"{name} must return {returns}; got {got}{hint}")


def as_array(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as a float64 NumPy array of ``shape``, or a ValueError naming it."""
    from ..backend import to_numpy

    out = np.asarray(to_numpy(value), dtype=np.float64)
    if out.shape != shape:
        raise ValueError(f"{name} has shape {out.shape}; expected {shape}")
    return out


def check_functions(**functions: Any) -> None:
    for name, fn in functions.items():
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be a function or None; got {type(fn).__name__}")


_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", " ": "\u2423", "$": "\\$"}


def printable(token: Any) -> str:
    """A token as a tick label: whitespace made visible (``\\n``, an open box for a space),
    ``$`` escaped (no mathtext), other control characters as ``\\xNN``."""
    text = str(token)
    return "".join(_ESCAPES.get(ch, ch if ch.isprintable() else f"\\x{ord(ch):02x}") for ch in text)
