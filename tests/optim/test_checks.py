"""check_update_rule: passes the reference, catches wrong and in-place rules, explains."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit.optim import rules
from dlkit.optim.checks import check_update_rule, random_quadratic, torch_trajectory
from dlkit.testing import CheckFailed


def test_the_reference_passes_and_agrees_with_torch(torch) -> None:
    hp = rules.AdamHyper(lr=0.01)
    check_update_rule(
        rules.adam_update,
        rules.adam_update,
        rules.adam_init,
        hp,
        name="adam",
        torch_name="Adam",
        torch_kwargs={"lr": 0.01},
    )


def test_a_wrong_rule_is_reported_at_its_first_wrong_step() -> None:
    def no_bias_correction(param, grad, state, hp, step):
        m = hp.beta1 * state.m + (1 - hp.beta1) * grad
        v = hp.beta2 * state.v + (1 - hp.beta2) * grad**2
        return param - hp.lr * m / (np.sqrt(v) + hp.eps), rules.AdamState(m, v)

    with pytest.raises(CheckFailed, match="after step 1"):
        check_update_rule(
            no_bias_correction, rules.adam_update, rules.adam_init, rules.AdamHyper(), name="adam"
        )


def test_in_place_changes_are_reported() -> None:
    def in_place(param, grad, state, hp, step):
        v = state.velocity
        v *= hp.momentum
        v += grad
        return param - hp.lr * v, rules.SGDState(v)

    hp = rules.SGDHyper(lr=0.1, momentum=0.9)
    with pytest.raises(CheckFailed, match="in place"):
        check_update_rule(in_place, rules.sgd_update, rules.sgd_init, hp, name="momentum")


def test_a_rule_that_returns_one_thing_is_explained() -> None:
    def only_param(param, grad, state, hp, step):
        return param - hp.lr * grad

    with pytest.raises(CheckFailed, match="pair"):
        check_update_rule(
            only_param, rules.sgd_update, rules.sgd_init, rules.SGDHyper(0.1), name="sgd"
        )


def test_torch_trajectory_and_quadratic(torch, rng) -> None:
    grad_fn, x0 = random_quadratic(rng, 4, scale=2.0)
    path = torch_trajectory("SGD", {"lr": 0.1}, x0, grad_fn, 5)
    ours = rules.run(rules.sgd_update, rules.sgd_init, rules.SGDHyper(0.1), x0, grad_fn, 5)
    np.testing.assert_allclose(path, ours, rtol=1e-12)
