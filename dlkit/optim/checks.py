"""Checks for update rules written by a student: many steps against dlkit and torch.optim.

The graded tests of unit 05 call :func:`check_update_rule`: it runs the student's rule and
the reference side by side on random quadratics, in float64, feeding *each* the gradient at
its own point, and reports the first step where they part, with the worst element. It also
checks that the rule leaves its inputs (parameter, gradient, state arrays) unmodified, and
optionally that the reference agrees with ``torch.optim`` on the same problem.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..testing import CheckFailed, assert_close

__all__ = ["random_quadratic", "check_update_rule", "torch_trajectory"]


def random_quadratic(
    rng: np.random.Generator, d: int, scale: float = 1.0
) -> tuple[Callable[[np.ndarray], np.ndarray], np.ndarray]:
    """``grad_fn, x0`` for ``f(x) = 1/2 (x - c)^T A (x - c)``, ``A`` random positive definite.

    ``scale`` multiplies the gradients (a tiny scale probes where ``eps`` sits).
    """
    q = rng.standard_normal((d, d))
    a = q @ q.T / d + 0.1 * np.eye(d)
    c = rng.standard_normal(d)
    return (lambda x: scale * (a @ (x - c))), rng.standard_normal(d)


def torch_trajectory(
    name: str,
    kwargs: dict[str, Any],
    x0: np.ndarray,
    grad_fn: Callable[[np.ndarray], np.ndarray],
    steps: int,
) -> list[np.ndarray]:
    """The points ``torch.optim.<name>(**kwargs)`` visits from ``x0``, in float64."""
    import torch

    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, name)([p], **kwargs)
    path = [x0.copy()]
    for _ in range(steps):
        p.grad = torch.from_numpy(np.asarray(grad_fn(p.detach().numpy().copy())))
        opt.step()
        path.append(p.detach().numpy().copy())
    return path


def _copy_state(state: Any) -> list[Any]:
    return [None if s is None else np.array(s, copy=True) for s in state]


def check_update_rule(
    update: Callable[..., Any],
    reference: Callable[..., Any],
    init: Callable[..., Any],
    hp: Any,
    *,
    name: str,
    steps: int = 100,
    dims: tuple[int, ...] = (1, 3, 8),
    seed: int = 0,
    scale: float = 1.0,
    torch_name: str | None = None,
    torch_kwargs: dict[str, Any] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> None:
    """Run ``update`` and ``reference`` for ``steps`` steps on random quadratics; compare.

    Raises ``CheckFailed`` naming the first step at which the parameters (or the state)
    differ, or the input that the rule modified in place.
    """
    rng = np.random.default_rng(seed)
    for d in dims:
        grad_fn, x0 = random_quadratic(rng, d, scale)
        ours, ref = x0.copy(), x0.copy()
        s_ours, s_ref = init(ours, hp), init(ref, hp)
        for t in range(1, steps + 1):
            g = grad_fn(ours)
            kept = (ours.copy(), g.copy(), _copy_state(s_ours))
            result = update(ours, g, s_ours, hp, t)
            if not isinstance(result, tuple) or len(result) != 2:
                raise CheckFailed(
                    f"{name} must return a pair (new_param, new_state); got {type(result).__name__}"
                )
            new, new_state = result
            if not np.array_equal(ours, kept[0]) or not np.array_equal(g, kept[1]):
                raise CheckFailed(f"{name} modified param or grad in place: return new arrays")
            for before, now in zip(kept[2], s_ours, strict=False):
                if before is not None and not np.array_equal(before, now):
                    raise CheckFailed(
                        f"{name} modified the old state's arrays in place (e.g. v *= beta): "
                        "compute new arrays and return them in the new state"
                    )
            ref, s_ref = reference(ref, grad_fn(ref), s_ref, hp, t)
            where = f"{name}: the parameter after step {t} (d = {d})"
            assert_close(new, ref, name=where, rtol=rtol, atol=atol)
            for i, (mine, theirs) in enumerate(zip(new_state, s_ref, strict=False)):
                if theirs is not None:
                    field = getattr(type(s_ref), "_fields", [str(i)])[i]
                    assert_close(
                        mine,
                        theirs,
                        name=f"{name}: state.{field} after step {t} (d = {d})",
                        rtol=rtol,
                        atol=atol,
                    )
            ours, s_ours = np.asarray(new), new_state
        if torch_name is not None:
            expected = torch_trajectory(torch_name, torch_kwargs or {}, x0, grad_fn, steps)[-1]
            assert_close(
                ours,
                expected,
                name=f"{name}: the parameter after {steps} steps vs torch.optim.{torch_name}",
                rtol=rtol,
                atol=atol,
            )
