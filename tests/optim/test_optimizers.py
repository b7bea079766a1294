"""dlkit.optim optimizers vs torch.optim, step for step, in float64; in-place updates; errors."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import optim

# one representative set of hyperparameter choices per optimizer: (dlkit class, torch name, kwargs)
CASES = {
    "sgd": (optim.SGD, "SGD", {"lr": 0.05}),
    "sgd_momentum": (optim.SGD, "SGD", {"lr": 0.05, "momentum": 0.9}),
    "sgd_dampening_wd": (
        optim.SGD,
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01},
    ),
    "sgd_nesterov": (optim.SGD, "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    "adagrad": (optim.AdaGrad, "Adagrad", {"lr": 0.1}),
    "adagrad_decay_wd_init": (
        optim.AdaGrad,
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.05, "initial_accumulator_value": 0.1},
    ),
    "rmsprop": (optim.RMSProp, "RMSprop", {"lr": 0.01}),
    "rmsprop_centered_momentum_wd": (
        optim.RMSProp,
        "RMSprop",
        {"lr": 0.003, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
    ),
    "adadelta": (optim.Adadelta, "Adadelta", {}),
    "adadelta_wd": (optim.Adadelta, "Adadelta", {"lr": 0.5, "rho": 0.95, "weight_decay": 0.1}),
    "adam": (optim.Adam, "Adam", {"lr": 0.01}),
    "adam_amsgrad_wd": (
        optim.Adam,
        "Adam",
        {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.05, "amsgrad": True},
    ),
    "adamw": (optim.AdamW, "AdamW", {"lr": 0.01}),
    "adamw_amsgrad": (
        optim.AdamW,
        "AdamW",
        {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "eps": 1e-6},
    ),
}


class Param:
    """A stand-in for a dlkit.nn Parameter: .data updated in place, .grad or None."""

    def __init__(self, data):
        self.data, self.grad = data, None


def rel_error(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


def make_quadratic(rng, d):
    """f(x) = 1/2 (x - c)^T A (x - c) with a random SPD A: gradient A (x - c)."""
    q = rng.standard_normal((d, d))
    a = q @ q.T / d + 0.1 * np.eye(d)
    c = rng.standard_normal(d)
    return lambda x: a @ (x - c)


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_on_random_quadratics(case, torch, rng) -> None:
    cls, torch_name, kwargs = CASES[case]
    for d in (1, 5):
        grad_fn = make_quadratic(rng, d)
        x0 = rng.standard_normal(d)
        ours = Param(x0.copy())
        theirs = torch.tensor(x0.copy(), requires_grad=True)
        opt = cls([ours], **kwargs)
        ref = getattr(torch.optim, torch_name)([theirs], **kwargs)
        for _ in range(100):
            ours.grad = grad_fn(ours.data)
            theirs.grad = torch.from_numpy(grad_fn(theirs.detach().numpy()))
            opt.step()
            ref.step()
        assert rel_error(ours.data, theirs.detach().numpy()) < 1e-6, case
        assert not np.allclose(ours.data, x0)


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_on_a_small_mlp(case, torch) -> None:
    cls, torch_name, kwargs = CASES[case]
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(32, 4, generator=gen, dtype=torch.float64)
    y = torch.randn(32, 2, generator=gen, dtype=torch.float64)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)
    ).double()
    torch.nn.init.normal_(model[0].weight, generator=gen)
    mirror = [Param(p.detach().numpy().copy()) for p in model.parameters()]
    # torch's copy is updated by torch.optim; dlkit's copy gets the same gradients each step
    ref = getattr(torch.optim, torch_name)(model.parameters(), **kwargs)
    opt = cls(mirror, **kwargs)
    for _ in range(100):
        ref.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        for mine, p in zip(mirror, model.parameters(), strict=True):
            mine.grad = p.grad.numpy().copy()
        ref.step()
        opt.step()
        # the next gradients are taken at torch's point, so the copies must stay together
        for mine, p in zip(mirror, model.parameters(), strict=True):
            assert rel_error(mine.data, p.detach().numpy()) < 1e-6, case


@pytest.mark.parametrize(
    "case", ["sgd_nesterov", "adam_amsgrad_wd", "rmsprop_centered_momentum_wd"]
)
def test_torch_tensors_are_updated_in_place(case, torch, device) -> None:
    cls, torch_name, kwargs = CASES[case]
    gen = torch.Generator().manual_seed(1)
    w0 = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    ours = torch.nn.Parameter(w0.clone().to(device))
    theirs = torch.nn.Parameter(w0.clone().to(device))
    storage = ours.data.data_ptr()
    opt, ref = cls([ours], **kwargs), getattr(torch.optim, torch_name)([theirs], **kwargs)
    for _ in range(20):
        for p in (ours, theirs):
            p.grad = (p.detach() ** 3 - 1.0).clone()
        opt.step()
        ref.step()
    assert ours.data.data_ptr() == storage and ours.device == theirs.device
    torch.testing.assert_close(ours.detach(), theirs.detach(), rtol=1e-9, atol=1e-12)
    opt.zero_grad()
    assert ours.grad is None


def test_plain_arrays_with_step_grads() -> None:
    w, b = np.ones((2, 3)), np.zeros(3)
    w_id = id(w)
    opt = optim.SGD([w, b], lr=0.5)
    opt.step([np.full((2, 3), 2.0), np.ones(3)])
    assert id(w) == w_id
    np.testing.assert_allclose(w, 0.0)
    np.testing.assert_allclose(b, -0.5)
    with pytest.raises(TypeError, match="step\\(grads\\)"):
        opt.step()
    with pytest.raises(ValueError, match="one gradient per parameter"):
        opt.step([np.ones((2, 3))])
    with pytest.raises(ValueError, match="shape"):
        opt.step([np.ones((3, 2)), np.ones(3)])
    opt.zero_grad()  # nothing to forget for plain arrays


def test_params_without_grad_are_skipped_and_keep_their_own_step_count() -> None:
    a, b = Param(np.ones(2)), Param(np.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = np.ones(2)
    opt.step()
    assert opt.steps == [1, 0] and opt.state[1] is None
    np.testing.assert_allclose(b.data, 1.0)
    b.grad = np.ones(2)
    opt.step()
    assert opt.steps == [2, 1]
    # Adam's first step moves by lr whatever the gradient's size (bias correction)
    np.testing.assert_allclose(b.data, 0.9, rtol=1e-6)


def test_zero_grad_can_fill_zeros() -> None:
    p = Param(np.ones(3))
    p.grad = np.ones(3)
    g = p.grad
    optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert p.grad is g and np.all(g == 0)


def test_lr_can_be_set() -> None:
    p = Param(np.ones(1))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.lr = 0.5
    assert opt.lr == 0.5 and opt.hp.momentum == 0.9


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda p: optim.SGD(p, lr=-0.1), "lr"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "momentum"),
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
        (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), "weight_decay"),
        (lambda p: optim.AdaGrad(p, lr_decay=-1), "lr_decay"),
        (lambda p: optim.AdaGrad(p, initial_accumulator_value=-1), "initial_accumulator_value"),
        (lambda p: optim.AdaGrad(p, eps=-1e-10), "eps"),
        (lambda p: optim.RMSProp(p, alpha=1.5), "alpha"),
        (lambda p: optim.RMSProp(p, momentum=-0.1), "momentum"),
        (lambda p: optim.Adadelta(p, rho=-0.1), "rho"),
        (lambda p: optim.Adadelta(p, lr=-1.0), "lr"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"betas\[0\]"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"betas\[1\]"),
        (lambda p: optim.Adam(p, betas=0.9), "betas"),
        (lambda p: optim.Adam(p, eps=-1.0), "eps"),
        (lambda p: optim.AdamW(p, weight_decay=-0.01), "weight_decay"),
        (lambda p: optim.Adam(p, lr=float("nan")), "lr"),
        (lambda p: optim.SGD([], lr=0.1), "empty"),
    ],
)
def test_bad_hyperparameters_name_the_argument(build, match) -> None:
    with pytest.raises(ValueError, match=match):
        build([Param(np.zeros(2))])


def test_bad_params() -> None:
    with pytest.raises(TypeError, match="list"):
        optim.SGD(np.zeros(3), lr=0.1)
    with pytest.raises(TypeError, match="floating"):
        optim.SGD([np.zeros(3, dtype=int)], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[0\]"):
        optim.SGD(["w"], lr=0.1)
    with pytest.raises(TypeError, match="lr"):
        optim.SGD([np.zeros(3)], lr="0.1")


def test_repr_names_the_hyperparameters() -> None:
    assert "momentum=0.9" in repr(optim.SGD([np.zeros(1)], lr=0.1, momentum=0.9))
