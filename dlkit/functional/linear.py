"""The affine (fully connected) layer, ``out = x @ w + b``."""

from __future__ import annotations

from typing import Any

from .._validate import check_floats, check_shape

__all__ = ["affine_forward", "affine_backward"]


def affine_forward(x: Any, w: Any, b: Any) -> tuple[Any, tuple[Any, Any]]:
    """Forward pass of a fully connected layer.

    Args:
        x: inputs, shape ``(N, D)``.
        w: weights, shape ``(D, M)``.
        b: biases, shape ``(M,)``, broadcast over the batch.

    Returns:
        ``(out, cache)``: ``out = x @ w + b`` of shape ``(N, M)``; ``cache = (x, w)``.
    """
    x, w, b = check_floats(x=x, w=w, b=b)
    xs, ws, bs = x.shape, w.shape, b.shape
    fits = len(xs) == 2 and len(ws) == 2 and len(bs) == 1 and xs[1] == ws[0] and ws[1] == bs[0]
    if not fits:  # one cheap test; the detailed checks only run to explain a failure
        sizes = check_shape(x, "x", ("N", "D"))
        check_shape(w, "w", ("D", "M"), sizes=sizes)
        check_shape(b, "b", ("M",), sizes=sizes)
    out = x @ w + b  # (N, M)
    return out, (x, w)


def affine_backward(
    dout: Any, cache: tuple[Any, Any], *, input_grad: bool = True
) -> tuple[Any, Any, Any]:
    """Backward pass of :func:`affine_forward`.

    Args:
        dout: upstream gradient ``dL/dout``, shape ``(N, M)``.
        cache: ``(x, w)`` from the forward pass.
        input_grad: compute ``dx``. A network's first layer reads the data, whose gradient
            nobody needs: ``input_grad=False`` skips that matrix product (``dx`` is then
            ``None``), which is what torch's autograd does for inputs without
            ``requires_grad``.

    Returns:
        ``(dx, dw, db)`` of shapes ``(N, D)``, ``(D, M)`` and ``(M,)``: ``dx = dout @ w.T``,
        ``dw = x.T @ dout`` and ``db`` the sum of ``dout`` over the batch.
    """
    if not (isinstance(cache, tuple) and len(cache) == 2):
        raise TypeError("cache must be the (x, w) tuple returned by affine_forward")
    x, w = cache
    dout, x = check_floats(dout=dout, x=x)
    if dout.shape != (x.shape[0], w.shape[1]):
        check_shape(dout, "dout", (x.shape[0], w.shape[1]), names=("N", "M"))
    dx = dout @ w.T if input_grad else None  # (N, D)
    dw = x.T @ dout  # (D, M)
    db = dout.sum(axis=0)  # (M,); the method: NumPy and torch both take axis=
    return dx, dw, db
