"""Learning-rate schedules vs torch.optim.lr_scheduler: the same rate at every epoch."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import optim
from dlkit.optim import schedules


def lr_sequences(torch, build_ours, build_theirs, epochs=40, lr=0.1):
    ours_opt = optim.SGD([np.zeros(1)], lr=lr)
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    theirs_opt = torch.optim.SGD([param], lr=lr)
    ours, theirs = build_ours(ours_opt), build_theirs(theirs_opt)
    got, want = [], []
    for _ in range(epochs):
        got.append(ours_opt.lr)
        want.append(theirs_opt.param_groups[0]["lr"])
        assert ours.get_last_lr() == [ours_opt.lr]
        theirs_opt.step()
        ours.step()
        theirs.step()
    return np.array(got), np.array(want)


CASES = {
    "step": (
        lambda o: optim.StepLR(o, step_size=7, gamma=0.5),
        lambda t, o: t.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5),
    ),
    "exponential": (
        lambda o: optim.ExponentialLR(o, gamma=0.9),
        lambda t, o: t.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
    ),
    "cosine": (
        lambda o: optim.CosineAnnealingLR(o, T_max=15, eta_min=0.001),
        lambda t, o: t.optim.lr_scheduler.CosineAnnealingLR(o, T_max=15, eta_min=0.001),
    ),
    "linear_warmup": (
        lambda o: optim.LinearWarmup(o, start_factor=0.1, total_iters=8),
        lambda t, o: t.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=8),
    ),
    "linear_decay": (
        lambda o: optim.LinearWarmup(o, start_factor=1.0, end_factor=0.2, total_iters=10),
        lambda t, o: t.optim.lr_scheduler.LinearLR(
            o, start_factor=1.0, end_factor=0.2, total_iters=10
        ),
    ),
    "warmup_then_cosine": (
        lambda o: optim.SequentialLR(
            o,
            [
                optim.LinearWarmup(o, start_factor=0.2, total_iters=5),
                optim.CosineAnnealingLR(o, 30),
            ],
            milestones=[5],
        ),
        lambda t, o: t.optim.lr_scheduler.SequentialLR(
            o,
            [
                t.optim.lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=5),
                t.optim.lr_scheduler.CosineAnnealingLR(o, 30),
            ],
            milestones=[5],
        ),
    ),
    "three_phases": (
        lambda o: optim.SequentialLR(
            o,
            [
                optim.LinearWarmup(o, start_factor=0.5, total_iters=3),
                optim.ExponentialLR(o, gamma=0.8),
                optim.StepLR(o, step_size=4, gamma=0.3),
            ],
            milestones=[4, 12],
        ),
        lambda t, o: t.optim.lr_scheduler.SequentialLR(
            o,
            [
                t.optim.lr_scheduler.LinearLR(o, start_factor=0.5, total_iters=3),
                t.optim.lr_scheduler.ExponentialLR(o, gamma=0.8),
                t.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.3),
            ],
            milestones=[4, 12],
        ),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_lr_sequence(case, torch) -> None:
    import warnings

    ours, theirs = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's SequentialLR warns about step(epoch)
        got, want = lr_sequences(torch, ours, lambda o: theirs(torch, o))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-15)


def test_the_functions_give_the_schedules_numbers() -> None:
    assert schedules.step_lr(13, 1.0, 5, 0.5) == 0.25
    assert schedules.exponential_lr(2, 2.0, 0.5) == 0.5
    assert schedules.cosine_lr(0, 1.0, 10) == 1.0
    assert schedules.cosine_lr(5, 1.0, 10, 0.2) == pytest.approx(0.6)
    assert schedules.cosine_lr(10, 1.0, 10, 0.2) == pytest.approx(0.2)
    assert schedules.linear_lr(0, 1.0, 0.1, 1.0, 4) == pytest.approx(0.1)
    assert schedules.linear_lr(99, 1.0, 0.1, 1.0, 4) == 1.0


def test_schedules_share_the_initial_lr() -> None:
    opt = optim.Adam([np.zeros(1)], lr=0.01)
    warm = optim.LinearWarmup(opt, start_factor=0.1, total_iters=5)
    assert opt.lr == pytest.approx(0.001)
    cos = optim.CosineAnnealingLR(opt, T_max=10)
    assert warm.base_lr == cos.base_lr == 0.01


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda o: optim.StepLR(o, step_size=0), "step_size"),
        (lambda o: optim.StepLR(o, step_size=2, gamma=-1), "gamma"),
        (lambda o: optim.ExponentialLR(o, gamma=0), "gamma"),
        (lambda o: optim.CosineAnnealingLR(o, T_max=0), "T_max"),
        (lambda o: optim.CosineAnnealingLR(o, T_max=5, eta_min=-1), "eta_min"),
        (lambda o: optim.LinearWarmup(o, start_factor=0), "start_factor"),
        (lambda o: optim.LinearWarmup(o, end_factor=2), "end_factor"),
        (lambda o: optim.LinearWarmup(o, total_iters=0), "total_iters"),
        (lambda o: optim.SequentialLR(o, [optim.StepLR(o, 2)], milestones=[3]), "milestones"),
        (lambda o: optim.SequentialLR(o, [], milestones=[]), "schedulers"),
    ],
)
def test_bad_arguments(build, match) -> None:
    with pytest.raises(ValueError, match=match):
        build(optim.SGD([np.zeros(1)], lr=0.1))


def test_needs_a_dlkit_optimizer() -> None:
    with pytest.raises(TypeError, match="optimizer"):
        optim.StepLR(object(), step_size=3)
