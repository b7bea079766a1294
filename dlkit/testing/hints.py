"""Misconception hints: guess *why* an answer is wrong from how it differs from the reference.

Each detector looks at the student's ``actual`` and the reference ``expected`` (both NumPy,
float64) and returns a sentence or ``None``. Tests can also pass ``alternatives``: known wrong
answers (e.g. softmax over the wrong axis) with the hint to give when the student's output
matches one of them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-4, atol: float = 1e-7) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=False))


def shape_hint(actual_shape: tuple, expected_shape: tuple) -> str | None:
    """Explain a shape mismatch: transpose, lost or extra axis, wrong reduction axis."""
    if actual_shape == expected_shape[::-1] and len(expected_shape) > 1:
        return "your output is transposed: did you forget a .T, or multiply in the wrong order?"
    if len(actual_shape) == len(expected_shape) + 1 and 1 in actual_shape:
        return (
            "your output has an extra axis of size 1: drop keepdims=True, "
            "or index/reshape the result"
        )
    if len(actual_shape) + 1 == len(expected_shape):
        return (
            "your output has one axis fewer than expected: did you reduce (sum/mean/max) "
            "an axis that should stay, or forget keepdims=True?"
        )
    if len(actual_shape) == len(expected_shape) and sorted(actual_shape) != sorted(expected_shape):
        return "the sizes differ on some axis: did you reduce or index along the wrong axis?"
    if actual_shape == () and expected_shape != ():
        return "you returned a single number: the answer is an array, one value per element"
    return None


def scale_hint(actual: np.ndarray, expected: np.ndarray, batch_size: int | None) -> str | None:
    """Detect ``actual == c * expected``: a sign error, a missing or extra ``1/N``."""
    denom = float(np.vdot(expected, expected))
    if denom == 0.0 or actual.shape != expected.shape:
        return None
    c = float(np.vdot(actual, expected)) / denom
    if not _close(actual, c * expected) or abs(c - 1.0) < 1e-6 or abs(c) < 1e-6:
        return None
    if abs(c + 1.0) < 1e-6:
        return "your output has the opposite sign: check the sign of your formula (- vs +)"
    sign = " and has the opposite sign" if c < 0 else ""
    m = abs(c)
    if batch_size and batch_size > 1:
        if abs(m - batch_size) < 1e-6 * batch_size:
            return (
                f"your output is {batch_size}x (the batch size N) too large{sign}: "
                "did you forget to divide by N (take the mean, not the sum)?"
            )
        if abs(m * batch_size - 1.0) < 1e-6:
            return (
                f"your output is {batch_size}x (the batch size N) too small{sign}: "
                "did you divide by N twice, or average something that should be summed?"
            )
    if actual.size == 1:  # any two numbers are multiples: only the cases above say anything
        return None
    return f"your output is exactly {c:.6g} times the expected one: a constant factor is off"


def complement_hint(actual: np.ndarray, expected: np.ndarray) -> str | None:
    """Detect ``actual == 1 - expected`` for probabilities (not for 0/1 labels)."""
    is_probability = bool(np.all((expected >= 0) & (expected <= 1)))
    is_labels = bool(np.all((expected == 0) | (expected == 1)))
    if is_probability and not is_labels and _close(actual, 1.0 - expected):
        return (
            "your output equals 1 - expected: you computed the probability of the other "
            "class (for a sigmoid, check the sign inside exp)"
        )
    return None


def transpose_hint(actual: np.ndarray, expected: np.ndarray) -> str | None:
    """Square outputs that equal the transpose of the expected one."""
    if actual.ndim == 2 and actual.shape == expected.shape and not _close(expected, expected.T):
        if _close(actual, expected.T):
            return "your output is the transpose of the expected one: check the order of axes"
    return None


def value_hints(
    actual: np.ndarray,
    expected: np.ndarray,
    *,
    batch_size: int | None = None,
    alternatives: Mapping[str, np.ndarray] | None = None,
) -> list[str]:
    """All hints that apply to same-shaped but different values."""
    hints = []
    for hint, wrong in (alternatives or {}).items():
        if _close(actual, np.asarray(wrong, dtype=np.float64)):
            hints.append(hint)
    for detect in (
        lambda: scale_hint(actual, expected, batch_size),
        lambda: complement_hint(actual, expected),
        lambda: transpose_hint(actual, expected),
    ):
        hint = detect()
        if hint:
            hints.append(hint)
    if np.isnan(actual).any() and not np.isnan(expected).any():
        hints.append(
            "your output has NaN: an overflow (exp of a large number) or 0/0? "
            "use a numerically stable formula"
        )
    elif np.isinf(actual).any() and not np.isinf(expected).any():
        hints.append("your output has inf: exp or log overflowed; use a stable formula")
    return hints
