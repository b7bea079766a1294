"""The pure update rules: hand-computed first steps, purity, NumPy == torch, the driver."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from dlkit.optim import rules

HYPERS = {
    "sgd": rules.SGDHyper(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adagrad": rules.AdaGradHyper(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop": rules.RMSPropHyper(lr=0.01, momentum=0.5, centered=True),
    "adadelta": rules.AdadeltaHyper(weight_decay=0.1),
    "adam": rules.AdamHyper(lr=0.01, amsgrad=True, weight_decay=0.1),
    "adamw": rules.AdamHyper(lr=0.01, amsgrad=True, weight_decay=0.1),
}


def test_first_steps_by_hand() -> None:
    p, g = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    # momentum: the first velocity is the gradient itself, the second mu b + g
    hp = rules.SGDHyper(lr=0.1, momentum=0.9)
    p1, s1 = rules.sgd_update(p, g, rules.sgd_init(p, hp), hp, 1)
    np.testing.assert_allclose(p1, p - 0.1 * g)
    p2, s2 = rules.sgd_update(p1, g, s1, hp, 2)
    np.testing.assert_allclose(s2.velocity, 1.9 * g)
    # Nesterov looks ahead: the step direction is g + mu b
    hp = rules.SGDHyper(lr=0.1, momentum=0.9, nesterov=True)
    p1, _ = rules.sgd_update(p, g, rules.sgd_init(p, hp), hp, 1)
    np.testing.assert_allclose(p1, p - 0.1 * 1.9 * g)
    # AdaGrad's first step is lr * sign(g)
    hp = rules.AdaGradHyper(lr=0.1, eps=0.0)
    p1, _ = rules.adagrad_update(p, g, rules.adagrad_init(p, hp), hp, 1)
    np.testing.assert_allclose(p1, p - 0.1 * np.sign(g))
    # RMSProp's first step: g / sqrt((1 - alpha) g^2) = sign(g) / sqrt(1 - alpha)
    hp = rules.RMSPropHyper(lr=0.01, alpha=0.99, eps=0.0)
    p1, _ = rules.rmsprop_update(p, g, rules.rmsprop_init(p, hp), hp, 1)
    np.testing.assert_allclose(p1, p - 0.01 * np.sign(g) / math.sqrt(0.01))
    # Adam's bias correction makes the first step lr * sign(g) (up to eps)
    hp = rules.AdamHyper(lr=0.01, eps=0.0)
    p1, s1 = rules.adam_update(p, g, rules.adam_init(p, hp), hp, 1)
    np.testing.assert_allclose(p1, p - 0.01 * np.sign(g))
    np.testing.assert_allclose(s1.m, 0.1 * g)
    np.testing.assert_allclose(s1.v, 0.001 * g * g)
    # AdamW shrinks the parameter first, by lr * weight_decay
    hp = rules.AdamHyper(lr=0.01, eps=0.0, weight_decay=0.5)
    p1, _ = rules.adamw_update(p, g, rules.adam_init(p, hp), hp, 1)
    np.testing.assert_allclose(p1, p * (1 - 0.005) - 0.01 * np.sign(g))
    # Adadelta's first step is sqrt(eps) / sqrt((1-rho) g^2 + eps) g: tiny, unit-free
    hp = rules.AdadeltaHyper()
    p1, _ = rules.adadelta_update(p, g, rules.adadelta_init(p, hp), hp, 1)
    np.testing.assert_allclose(p1, p - math.sqrt(1e-6) / np.sqrt(0.1 * g * g + 1e-6) * g)


@pytest.mark.parametrize("name", list(HYPERS))
def test_rules_are_pure_and_return_their_state_type(name, rng) -> None:
    rule, hp = rules.RULES[name], HYPERS[name]
    p, g = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    state = rule.init(p, hp)
    p0, g0 = p.copy(), g.copy()
    copies = [None if s is None else s.copy() for s in state]
    for t in (1, 2):
        new, new_state = rule.update(p, g, state, hp, t)
        assert type(new_state) is type(state) and new.shape == p.shape
    np.testing.assert_array_equal(p, p0)
    np.testing.assert_array_equal(g, g0)
    for s, c in zip(state, copies, strict=True):
        assert (s is None and c is None) or np.array_equal(s, c)


@pytest.mark.parametrize("name", list(HYPERS))
def test_one_implementation_for_numpy_and_torch(name, torch, device, rng) -> None:
    rule, hp = rules.RULES[name], HYPERS[name]
    p, g = rng.standard_normal(5), rng.standard_normal(5)

    def grad_fn(x):
        return x**3 - g if isinstance(x, np.ndarray) else x**3 - torch.as_tensor(g, device=x.device)

    path_np = rules.run(rule.update, rule.init, hp, p, grad_fn, 30)
    path_t = rules.run(rule.update, rule.init, hp, torch.as_tensor(p, device=device), grad_fn, 30)
    assert len(path_np) == 31 and path_t[-1].device.type == device
    np.testing.assert_allclose(path_t[-1].cpu().numpy(), path_np[-1], rtol=1e-10, atol=1e-12)


def test_run_converges_on_a_bowl() -> None:
    hp = rules.SGDHyper(lr=0.1, momentum=0.5)
    path = rules.run(rules.sgd_update, rules.sgd_init, hp, np.array([3.0, -1.0]), lambda x: x, 100)
    assert np.abs(path[-1]).max() < 1e-6 and path[0][0] == 3.0


def test_hyperparameters_are_frozen_and_checked() -> None:
    hp = rules.AdamHyper()
    with pytest.raises(dataclasses.FrozenInstanceError):
        hp.lr = 1.0
    with pytest.raises(ValueError, match="beta2"):
        rules.AdamHyper(beta2=1.0)
    with pytest.raises(TypeError, match="lr"):
        rules.SGDHyper(lr=None)
    with pytest.raises(ValueError, match="alpha"):
        rules.RMSPropHyper(alpha=-0.1)
