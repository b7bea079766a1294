"""dlkit.spiking: the LIF neuron by hand and against its rate formula, the surrogate gradient,
and training a spiking classifier with the surrogate vs the true derivative."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import spiking as S


def test_lif_by_hand_for_a_few_steps():
    # tau = 2, dt = 1: v <- v + (I - v) / 2
    tr = S.lif_simulate(np.full(5, 1.5), tau=2.0, dt=1.0, v_th=1.0)
    # 0.75, then 1.125 >= 1: spike and reset to 0, then 0.75, 1.125 (spike), 0.75
    np.testing.assert_allclose(tr.v[:, 0], [0.75, 0.0, 0.75, 0.0, 0.75])
    np.testing.assert_array_equal(tr.spikes[:, 0], [False, True, False, True, False])
    assert tr.v.shape == tr.spikes.shape == (5, 1) and tr.spikes.dtype == bool


def test_lif_refractory_and_reset():
    tr = S.lif_simulate(np.full(6, 3.0), tau=2.0, v_th=1.0, v_reset=-0.5, refractory=2)
    # step 0: -0.5 + (3 + 0.5) / 2 = 1.25 -> spike; steps 1, 2 held at -0.5; step 3 spikes
    np.testing.assert_array_equal(tr.spikes[:, 0], [True, False, False, True, False, False])
    np.testing.assert_allclose(tr.v[:, 0], -0.5)


def test_lif_several_neurons_are_independent():
    current = np.stack([np.full(50, 0.5), np.full(50, 2.0)], axis=1)
    tr = S.lif_simulate(current, tau=5.0)
    one = S.lif_simulate(current[:, 1], tau=5.0)
    np.testing.assert_array_equal(tr.spikes[:, 1], one.spikes[:, 0])
    np.testing.assert_allclose(tr.v[:, 1], one.v[:, 0])


def test_no_spike_below_threshold_current():
    current = np.full((5000, 3), [0.5, 0.99, 0.999])
    tr = S.lif_simulate(current)
    assert not tr.spikes.any()
    assert np.all(tr.v < 1.0)
    np.testing.assert_allclose(tr.v[-1], [0.5, 0.99, 0.999], rtol=1e-9)  # settles at I
    np.testing.assert_array_equal(S.lif_rate_theory([0.5, 0.99, 1.0]), 0.0)


@pytest.mark.parametrize("refractory", [0, 30])
def test_simulated_rate_matches_theory(refractory):
    current = np.array([1.05, 1.2, 1.5, 2.0, 4.0])
    dt, steps = 0.1, 20000
    tr = S.lif_simulate(np.tile(current, (steps, 1)), dt=dt, refractory=refractory)
    rate = tr.spikes.sum(axis=0) / (steps * dt)
    theory = S.lif_rate_theory(current, tau=20.0, v_th=1.0, t_ref=refractory * dt)
    assert np.all(theory > 0)
    np.testing.assert_allclose(rate, theory, rtol=0.03)


def test_rate_theory_by_hand():
    # I = 2, v_th = 1, tau = 20: T = 20 ln 2
    np.testing.assert_allclose(S.lif_rate_theory(2.0), 1 / (20 * np.log(2)), rtol=1e-14)
    np.testing.assert_allclose(
        S.lif_rate_theory(2.0, tau=10.0, v_reset=-1.0, t_ref=2.0), 1 / (10 * np.log(3) + 2)
    )


def test_spike_and_its_derivatives():
    x = np.array([-2.0, -0.1, 0.0, 0.3, 5.0])
    np.testing.assert_array_equal(S.spike(x), [0, 0, 1, 1, 1])
    np.testing.assert_allclose(S.spike_surrogate_grad(x, slope=4.0), 1 / (1 + 4 * np.abs(x)) ** 2)
    np.testing.assert_allclose(S.spike_surrogate_grad(0.0), 1.0)
    np.testing.assert_array_equal(S.spike_true_grad(x), 0.0)


def test_surrogate_gradient_is_a_smoothed_step():
    # the surrogate is the derivative of the fast sigmoid x / (1 + slope |x|) (up to a factor)
    x = np.linspace(-3, 3, 2001)
    slope = 5.0
    h = 1e-6
    fast_sigmoid = lambda z: z / (1 + slope * np.abs(z))  # noqa: E731
    numeric = (fast_sigmoid(x + h) - fast_sigmoid(x - h)) / (2 * h)
    np.testing.assert_allclose(S.spike_surrogate_grad(x, slope), numeric, rtol=1e-5, atol=1e-8)


def test_poisson_patterns():
    d = S.poisson_patterns(60, n_inputs=8, steps=30, rng=np.random.default_rng(0))
    assert d.x.shape == (60, 30, 8) and set(np.unique(d.x)) <= {0.0, 1.0}
    assert np.bincount(d.y).tolist() == [30, 30]
    rates = d.x.mean(axis=1)  # (n, inputs)
    assert 0.05 < rates.mean() < 0.15


def test_train_spiking_learns_with_the_surrogate_not_with_the_true_derivative():
    good = S.train_spiking(epochs=30, seed=0)
    flat = S.train_spiking(grad="true", epochs=30, seed=0)
    assert good.test_acc[-1] >= 0.85 and good.loss[-1] < good.loss[0]
    assert flat.grad_norm == [0.0] * 30
    assert flat.test_acc[-1] == flat.test_acc[0] and flat.test_acc[-1] < 0.65
    assert len(good.loss) == 31 and good.weights.shape == (20, 2)


def test_train_spiking_uses_the_given_derivative():
    calls = []

    def my_grad(x):
        calls.append(x.shape)
        return S.spike_surrogate_grad(x, 1.0)

    train = S.poisson_patterns(10, steps=7, rng=np.random.default_rng(1))
    ref = S.train_spiking(train, train, epochs=2)
    mine = S.train_spiking(train, train, epochs=2, spike_grad=my_grad)
    assert calls == [(10, 2)] * 14
    assert mine.loss == ref.loss


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: S.lif_simulate(np.ones((2, 2, 2))), "current"),
        (lambda: S.lif_simulate(np.ones(3), tau=0.0), "tau"),
        (lambda: S.lif_simulate(np.ones(3), dt=30.0), "dt"),
        (lambda: S.lif_simulate(np.ones(3), v_reset=2.0), "v_reset"),
        (lambda: S.lif_simulate(np.ones(3), refractory=1.5), "refractory"),
        (lambda: S.lif_simulate(np.array([1.0, np.nan])), "current"),
        (lambda: S.lif_rate_theory(1.0, t_ref=-1.0), "t_ref"),
        (lambda: S.spike_surrogate_grad(1.0, slope=0), "slope"),
        (lambda: S.spike("a"), "x"),
        (lambda: S.train_spiking(grad="exact"), "grad"),
        (lambda: S.train_spiking(spike_grad=3), "spike_grad"),
        (lambda: S.train_spiking(beta=1.5), "beta"),
        (lambda: S.train_spiking(train=np.ones(3)), "train"),
        (lambda: S.poisson_patterns(4, rates=(0.5, 0.1), rng=np.random.default_rng()), "rates"),
        (lambda: S.poisson_patterns(4, rng=None), "rng"),
    ],
)
def test_argument_errors_name_the_argument(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()
