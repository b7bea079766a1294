"""Array comparison for graded tests: a failure says what differs and how to fix it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..backend import describe, is_array, is_torch, to_numpy
from .hints import shape_hint, value_hints

__all__ = ["CheckFailed", "assert_close", "passed"]


class CheckFailed(AssertionError):
    """A graded check failed; the message teaches what to look at."""


def _fail(name: str, lines: list[str]) -> None:
    body = "\n".join(f"  {line}" for line in lines)
    raise CheckFailed(f"{name} is not right yet.\n{body}")


def _kind(x: Any) -> str:
    if is_torch(x):
        return f"torch tensor on {x.device}"
    return "NumPy array"


def _dtype(x: Any) -> str:
    return str(x.dtype).removeprefix("torch.")  # "float32" for NumPy and torch alike


def assert_close(
    actual: Any,
    expected: Any,
    *,
    name: str = "your output",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    check_dtype: bool = False,
    check_kind: bool = True,
    batch_size: int | None = None,
    alternatives: Mapping[str, Any] | None = None,
) -> None:
    """Check ``actual`` against the reference ``expected``, element-wise.

    Checks, in order, and stops at the first failure with a message that names it: that
    something was returned, the array kind (NumPy or torch) and device, the shape, the dtype
    (``check_dtype``), finiteness, then the values (``|a - e| <= atol + rtol |e|``). A value
    failure reports the worst element's index, both values and the error, plus misconception
    hints: a sign error, a missing ``1/N`` (give ``batch_size``), a transpose, or one of the
    known wrong answers in ``alternatives`` (``{hint: wrong_array}``).
    """
    if actual is None:
        _fail(name, ["it is None: did you forget the `return` statement?"])
    if isinstance(actual, tuple) and not isinstance(expected, tuple):
        _fail(name, [f"it is a tuple of {len(actual)} items, but a single array is expected"])
    if not is_array(actual) and not isinstance(actual, (int, float, np.number, list)):
        _fail(name, [f"it is a {type(actual).__name__}, but an array is expected"])
    if check_kind and is_array(expected):
        got_kind, want_kind = _kind(actual), _kind(expected)
        if is_array(actual) and got_kind != want_kind:
            _fail(
                name,
                [
                    f"it is a {got_kind}, but a {want_kind} is expected: "
                    "keep the array library and device of the inputs (use the xp "
                    "functions, not np.*, and no .cpu()/.numpy() inside)"
                ],
            )
    a = to_numpy(actual).astype(np.float64) if is_array(actual) else np.asarray(actual, float)
    e = to_numpy(expected).astype(np.float64)
    if a.shape != e.shape:
        lines = [f"its shape is {a.shape}, but the expected shape is {e.shape}"]
        hint = shape_hint(a.shape, e.shape)
        if hint:
            lines.append(f"hint: {hint}")
        _fail(name, lines)
    if check_dtype and is_array(actual) and is_array(expected):
        if _dtype(actual) != _dtype(expected):
            _fail(
                name,
                [
                    f"its dtype is {actual.dtype}, but {expected.dtype} is expected "
                    "(keep the input's dtype: avoid np.float32/np.float64 literals)"
                ],
            )
    bad = ~np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return
    err = np.where(bad, np.abs(a - e), -np.inf)
    err = np.where(np.isnan(err), np.inf, err)
    worst = np.unravel_index(int(np.argmax(err)), a.shape) if a.ndim else ()
    aw, ew = a[worst], e[worst]
    rel = abs(aw - ew) / max(abs(ew), 1e-300)
    where = f"at index {tuple(int(i) for i in worst)}" if a.ndim else ""
    lines = [
        f"shape {a.shape} is right, but {int(bad.sum())} of {a.size} values differ "
        f"(tolerance rtol={rtol:g}, atol={atol:g})",
        f"worst {where}: got {aw:.8g}, expected {ew:.8g} (abs error {abs(aw - ew):.3g}, "
        f"relative {rel:.3g})".replace("worst :", "worst:"),
    ]
    alt = {k: to_numpy(v) for k, v in (alternatives or {}).items()}
    lines += [f"hint: {h}" for h in value_hints(a, e, batch_size=batch_size, alternatives=alt)]
    _fail(name, lines)


def passed(what: str) -> None:
    """Print a one-line success message for a visible test."""
    print(f"\N{CHECK MARK} {what}")


def describe_value(x: Any) -> str:
    """Kind, shape, dtype and device of ``x``, for messages."""
    return describe(x)
