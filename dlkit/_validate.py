"""Argument checks shared by every public function.

Errors name the argument, what was expected and what was received, and suggest the fix
where there is an obvious one. They are ``TypeError`` for the wrong kind of object and
``ValueError`` for the right kind with the wrong shape or values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .backend import describe, is_array, is_torch, namespace

Dim = int | str | None  # an exact size, a named size that must agree, or anything


def as_array(x: Any, name: str) -> Any:
    """``x`` unchanged if it is an array or tensor; Python numbers and lists become NumPy."""
    if is_array(x):
        return x
    if isinstance(x, (int, float, bool, np.number, list, tuple)):
        try:
            arr = np.asarray(x)
        except ValueError as exc:  # ragged nested lists
            raise ValueError(
                f"{name} must be a rectangular array of numbers; got ragged {describe(x)}"
            ) from exc
        if arr.dtype.kind in "biuf":
            return arr.astype(np.float64) if arr.dtype.kind in "bi" else arr
    raise TypeError(f"{name} must be a NumPy array or a torch tensor; got {describe(x)}")


def check_float(x: Any, name: str) -> Any:
    """``x`` as an array with a floating dtype (integers are an error: they hide rounding)."""
    if type(x) is np.ndarray and x.dtype.kind == "f":  # the common case, checked cheaply
        return x
    x = as_array(x, name)
    kind = x.dtype.is_floating_point if is_torch(x) else x.dtype.kind == "f"
    if not kind:
        raise TypeError(
            f"{name} must hold floating-point numbers; got dtype {x.dtype}. "
            f"Convert it first, e.g. {name}.astype(np.float64)"
        )
    return x


def check_floats(**arrays: Any) -> tuple[Any, ...]:
    """:func:`check_float` for each array, then one kind, one device and one dtype for all.

    Returns the arrays in the order given. The common case (NumPy arrays of one float dtype)
    is decided in one cheap pass; anything else takes the full checks and their messages.
    """
    values = tuple(arrays.values())
    dtype = getattr(values[0], "dtype", None)
    fast = type(values[0]) is np.ndarray and dtype.kind == "f"
    for a in values:
        if not fast or type(a) is not np.ndarray or a.dtype != dtype:
            fast = False
            break
    if fast:
        return values
    values = tuple(check_float(a, name) for name, a in arrays.items())
    checked = dict(zip(arrays, values, strict=True))
    check_same_kind(**checked)
    check_same_dtype(**checked)
    return values


def check_labels(y: Any, name: str, n: int, num_classes: int | None = None) -> Any:
    """Integer class labels of shape ``(n,)``, each in ``[0, num_classes)``."""
    # a list of ints stays integer here (as_array turns numbers into float64 for the maths)
    y = np.asarray(y) if isinstance(y, (list, tuple)) else as_array(y, name)
    if type(y) is np.ndarray:
        integer = y.dtype.kind in "iu"
    else:  # torch: no float, complex or bool labels
        integer = not (y.dtype.is_floating_point or y.dtype.is_complex)
    if not integer:
        raise TypeError(
            f"{name} must hold integer class labels; got dtype {y.dtype}. "
            f"Convert it with {name}.astype(int)"
        )
    if y.shape != (n,):
        check_shape(y, name, (n,), names=("N",))
    if num_classes is not None and y.shape[0] > 0:
        if type(y) is np.ndarray and y.dtype.kind == "i":
            # one reduction: seen as unsigned, a negative label becomes huge, so the max
            # alone tells whether every label is in [0, num_classes)
            if int(y.view(y.dtype.str.replace("i", "u")).max()) < num_classes:
                return y
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= num_classes:
            raise ValueError(
                f"{name} must hold labels in [0, {num_classes}); got values from {lo} to {hi}"
            )
    return y


def check_shape(
    x: Any,
    name: str,
    expected: Sequence[Dim],
    *,
    names: Sequence[str] | None = None,
    sizes: dict[str, int] | None = None,
) -> dict[str, int]:
    """Check ``x.shape`` against ``expected``; return the sizes bound to named dims.

    ``expected`` holds ints (exact), strings (named sizes: the same name must have the same
    size everywhere, tracked in ``sizes``) or ``None`` (any size). ``names`` labels the dims
    in the message, e.g. ``("N", "D")``.
    """
    sizes = {} if sizes is None else sizes
    shape = tuple(x.shape)
    if len(shape) != len(expected):
        raise ValueError(
            f"{name} must be {len(expected)}-D with shape {_want(expected, names)}; "
            f"got {len(shape)}-D shape {shape}"
        )
    for axis in range(len(shape)):  # hot path: a plain loop, messages built only on failure
        dim, got = expected[axis], shape[axis]
        if dim is None:
            continue
        if type(dim) is str:
            bound = sizes.setdefault(dim, got)
            if bound != got:
                raise ValueError(
                    f"{name} has shape {shape}, but its axis {axis} ({dim}) must match "
                    f"{dim}={bound} from the other arguments"
                )
        elif got != dim:
            raise ValueError(
                f"{name} must have shape {_want(expected, names)} with size {dim} on axis "
                f"{axis}; got shape {shape}"
            )
    return sizes


def _want(expected: Sequence[Dim], names: Sequence[str] | None) -> str:
    """The expected shape for a message: ``(N, D)`` from names, else ``(N, 3, ?)``."""
    labels = list(names) if names else ["?" if d is None else str(d) for d in expected]
    return "(" + ", ".join(labels) + (",)" if len(labels) == 1 else ")")


def check_same_kind(**arrays: Any) -> None:
    """All arrays are NumPy, or all are torch tensors on one device."""
    for a in arrays.values():  # the common case, all NumPy, in one cheap pass
        if type(a) is not np.ndarray:
            break
    else:
        return
    namespace(*arrays.values())
    devices = {str(a.device) for a in arrays.values() if is_torch(a)}
    if len(devices) > 1:
        listing = ", ".join(f"{k} on {a.device}" for k, a in arrays.items() if is_torch(a))
        raise ValueError(f"tensors must be on one device; got {listing}")


def check_same_dtype(**arrays: Any) -> None:
    """All arrays share one dtype (torch refuses to multiply float32 by float64)."""
    values = list(arrays.values())
    if all(a.dtype == values[0].dtype for a in values[1:]):
        return
    dtypes = {str(a.dtype).removeprefix("torch.") for a in values}
    if len(dtypes) > 1:
        listing = ", ".join(f"{k} {str(a.dtype).removeprefix('torch.')}" for k, a in arrays.items())
        raise TypeError(
            f"{', '.join(arrays)} must have the same dtype; got {listing}. "
            "Convert them to one, e.g. x.astype(np.float64) or x.to(torch.float64)"
        )


def check_finite(x: Any, name: str) -> None:
    """No NaN or infinity in ``x``."""
    xp = namespace(x)
    if not bool(xp.all(xp.isfinite(x))):
        raise ValueError(f"{name} contains NaN or infinite values; check the previous step")


def check_axis(axis: int, ndim: int, name: str = "axis") -> int:
    """A valid axis for an ``ndim``-D array, as a non-negative int."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(axis).__name__} {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for a {ndim}-D array")
    return int(axis) % ndim


def check_generator(rng: Any) -> Any:
    """``rng`` if it is a NumPy ``Generator``; a ``TypeError`` that shows how to make one."""
    import numpy as np

    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy.random.Generator, e.g. rng=np.random.default_rng(0); "
            f"got {type(rng).__name__}"
        )
    return rng


def check_size(value: Any, name: str, what: str = "") -> int:
    """``value`` as an ``int >= 1`` (a number of units, steps, examples); errors name ``name``."""
    import numpy as np

    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int{what}; got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1; got {value!r}")
    return int(value)
