"""dlkit.rl: discounted returns, the REINFORCE loss, the NumPy policy and the training loop."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import rl
from dlkit.rl import (
    Episode,
    Policy,
    discounted_returns,
    evaluate,
    make_cartpole,
    reinforce_loss,
    run_episode,
    train_reinforce,
)

# ------------------------------------------------------------------ discounted_returns


def test_discounted_returns_by_hand():
    # G2 = 3, G1 = 2 + 0.5 * 3 = 3.5, G0 = 1 + 0.5 * 3.5 = 2.75
    np.testing.assert_allclose(discounted_returns([1.0, 2.0, 3.0], 0.5), [2.75, 3.5, 3.0])


def test_discounted_returns_resets_after_a_done_in_the_middle():
    rewards = np.array([1.0, 1.0, 1.0, 1.0, 2.0])
    dones = np.array([False, True, False, False, True])
    # episode 1: steps 0-1; episode 2: steps 2-4. Nothing leaks from episode 2 into step 1.
    expected = [1 + 0.9 * 1, 1.0, 1 + 0.9 * (1 + 0.9 * 2), 1 + 0.9 * 2, 2.0]
    np.testing.assert_allclose(discounted_returns(rewards, 0.9, dones), expected)
    # without dones the buffer is one episode: step 1 sees the later rewards
    assert discounted_returns(rewards, 0.9)[1] > 1.0 + 1.0


def test_discounted_returns_done_at_the_last_step_changes_nothing():
    r = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(
        discounted_returns(r, 0.7, [False, False, True]), discounted_returns(r, 0.7)
    )


def test_discounted_returns_gamma_zero_and_one():
    r = np.array([1.0, -2.0, 3.0, 4.0])
    dones = [False, True, False, True]
    np.testing.assert_allclose(discounted_returns(r, 0.0, dones), r)
    np.testing.assert_allclose(discounted_returns(r, 0.0), r)
    np.testing.assert_allclose(discounted_returns(r, 1.0, dones), [-1.0, -2.0, 7.0, 4.0])
    np.testing.assert_allclose(discounted_returns(r, 1.0), [6.0, 5.0, 7.0, 4.0])


def test_discounted_returns_matches_a_direct_sum(rng):
    r = rng.normal(size=30)
    gamma = 0.93
    direct = [sum(gamma**k * r[t + k] for k in range(len(r) - t)) for t in range(len(r))]
    np.testing.assert_allclose(discounted_returns(r, gamma), direct, rtol=1e-12)


def test_discounted_returns_accepts_integer_dones_and_empty():
    np.testing.assert_allclose(discounted_returns([1.0, 1.0], 0.5, [1, 0]), [1.0, 1.0])
    assert discounted_returns(np.zeros(0), 0.9).shape == (0,)
    out = discounted_returns(np.ones(3, dtype=np.int64), 0.5)
    assert out.dtype == np.float64


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        (dict(rewards=np.ones((2, 2)), gamma=0.9), ValueError, "rewards"),
        (dict(rewards=[1.0, np.nan], gamma=0.9), ValueError, "rewards"),
        (dict(rewards=["a"], gamma=0.9), TypeError, "rewards"),
        (dict(rewards=[1.0], gamma=1.5), ValueError, "gamma"),
        (dict(rewards=[1.0], gamma=-0.1), ValueError, "gamma"),
        (dict(rewards=[1.0], gamma="0.9"), TypeError, "gamma"),
        (dict(rewards=[1.0, 2.0], gamma=0.9, dones=[True]), ValueError, "dones"),
        (dict(rewards=[1.0], gamma=0.9, dones=[0.5]), TypeError, "dones"),
        (dict(rewards=[1.0], gamma=0.9, dones=[2]), ValueError, "dones"),
    ],
)
def test_discounted_returns_argument_errors(kwargs, error, name):
    with pytest.raises(error, match=name):
        discounted_returns(**kwargs)


# --------------------------------------------------------------------- reinforce_loss


def _torch_reinforce(torch, logits, actions, returns, baseline):
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    adv = torch.tensor(returns - (0.0 if baseline is None else baseline), dtype=torch.float64)
    logp = torch.log_softmax(z, dim=1)[torch.arange(len(actions)), torch.tensor(actions)]
    loss = -(adv * logp).mean()
    loss.backward()
    return loss.item(), z.grad.numpy()


@pytest.mark.parametrize("baseline", [None, "scalar", "vector"])
def test_reinforce_loss_matches_torch_autograd(torch, rng, baseline):
    T, A = 13, 4
    logits = rng.normal(size=(T, A)) * 3
    actions = rng.integers(0, A, size=T)
    returns = rng.normal(size=T) * 5 + 2
    b = {None: None, "scalar": 1.7, "vector": rng.normal(size=T)}[baseline]
    loss, dlogits = reinforce_loss(logits, actions, returns, b)
    ref_loss, ref_grad = _torch_reinforce(torch, logits, actions, returns, b)
    assert isinstance(loss, float)
    assert dlogits.shape == (T, A)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dlogits, ref_grad, rtol=1e-10, atol=1e-12)


def test_reinforce_loss_by_hand():
    # two equal logits: log pi = log 0.5; loss = -mean([2 log .5, -1 log .5]) = 0.5 log 2
    logits = np.zeros((2, 2))
    loss, dlogits = reinforce_loss(logits, np.array([0, 1]), np.array([2.0, -1.0]))
    assert loss == pytest.approx(0.5 * np.log(2.0), abs=1e-15)
    # dlogits = -(A (onehot - p)) / T
    np.testing.assert_allclose(dlogits, [[-0.5, 0.5], [-0.25, 0.25]])


def test_reinforce_loss_finite_differences(rng):
    T, A = 5, 3
    logits = rng.normal(size=(T, A))
    actions = rng.integers(0, A, size=T)
    returns = rng.normal(size=T)
    baseline = rng.normal(size=T)
    _, dlogits = reinforce_loss(logits, actions, returns, baseline)
    h = 1e-6
    numeric = np.zeros_like(logits)
    for idx in np.ndindex(*logits.shape):
        up, down = logits.copy(), logits.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (
            reinforce_loss(up, actions, returns, baseline)[0]
            - reinforce_loss(down, actions, returns, baseline)[0]
        ) / (2 * h)
    np.testing.assert_allclose(dlogits, numeric, rtol=1e-6, atol=1e-9)


def test_reinforce_loss_is_stable_for_huge_logits(torch, rng):
    logits = 1000.0 + rng.normal(size=(6, 3)) * 50
    actions = rng.integers(0, 3, size=6)
    returns = rng.normal(size=6)
    with np.errstate(all="raise"):
        loss, dlogits = reinforce_loss(logits, actions, returns, 0.3)
    assert np.isfinite(loss) and np.all(np.isfinite(dlogits))
    ref_loss, ref_grad = _torch_reinforce(torch, logits, actions, returns, 0.3)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-10)
    np.testing.assert_allclose(dlogits, ref_grad, rtol=1e-10, atol=1e-12)
    # adding a constant to every logit of a step changes nothing
    shifted = reinforce_loss(logits - 1000.0, actions, returns, 0.3)
    np.testing.assert_allclose(shifted[0], loss, rtol=1e-9)
    np.testing.assert_allclose(shifted[1], dlogits, rtol=1e-9, atol=1e-15)


def test_reinforce_loss_baseline_broadcasting(rng):
    logits = rng.normal(size=(7, 2))
    actions = rng.integers(0, 2, size=7)
    returns = rng.normal(size=7)
    scalar = reinforce_loss(logits, actions, returns, 0.8)
    vector = reinforce_loss(logits, actions, returns, np.full(7, 0.8))
    zero_d = reinforce_loss(logits, actions, returns, np.float64(0.8))
    shifted = reinforce_loss(logits, actions, returns - 0.8)
    for result in (vector, zero_d, shifted):
        np.testing.assert_allclose(result[0], scalar[0], rtol=1e-12)
        np.testing.assert_allclose(result[1], scalar[1], rtol=1e-12, atol=1e-15)
    # subtracting (not adding) the baseline: a baseline equal to the returns zeroes everything
    loss, dlogits = reinforce_loss(logits, actions, returns, returns)
    assert loss == 0.0 and not np.any(dlogits)


def test_reinforce_loss_descends_towards_rewarded_actions():
    logits = np.zeros((1, 2))
    _, dlogits = reinforce_loss(logits, np.array([1]), np.array([1.0]))
    stepped = logits - 0.1 * dlogits  # gradient descent on the loss
    assert stepped[0, 1] > stepped[0, 0]


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        (dict(logits=np.zeros(3), actions=[0], returns=[1.0]), ValueError, "logits"),
        (dict(logits=np.full((1, 2), np.inf), actions=[0], returns=[1.0]), ValueError, "logits"),
        (
            dict(logits=np.zeros((2, 2)), actions=[0.0, 1.0], returns=[1.0, 1.0]),
            TypeError,
            "actions",
        ),
        (dict(logits=np.zeros((2, 2)), actions=[0], returns=[1.0, 1.0]), ValueError, "actions"),
        (dict(logits=np.zeros((2, 2)), actions=[0, 2], returns=[1.0, 1.0]), ValueError, "actions"),
        (dict(logits=np.zeros((2, 2)), actions=[0, -1], returns=[1.0, 1.0]), ValueError, "actions"),
        (dict(logits=np.zeros((2, 2)), actions=[0, 1], returns=[1.0]), ValueError, "returns"),
        (
            dict(logits=np.zeros((2, 2)), actions=[0, 1], returns=[1.0, 1.0], baseline=[1.0]),
            ValueError,
            "baseline",
        ),
        (
            dict(logits=np.zeros((2, 2)), actions=[0, 1], returns=[1.0, 1.0], baseline=np.nan),
            ValueError,
            "baseline",
        ),
    ],
)
def test_reinforce_loss_argument_errors(kwargs, error, name):
    with pytest.raises(error, match=name):
        reinforce_loss(**kwargs)


# ----------------------------------------------------------------------------- Policy


@pytest.mark.parametrize(("hidden", "activation"), [(0, "tanh"), (5, "tanh"), (5, "relu")])
def test_policy_backward_finite_differences(rng, hidden, activation):
    policy = Policy(4, 3, hidden, rng=rng, activation=activation)
    for p in policy.params.values():  # non-zero biases, so relu units are on and off
        p += rng.normal(size=p.shape) * 0.5
    states = rng.normal(size=(6, 4))
    weights = rng.normal(size=(6, 3))  # loss = sum(weights * logits)
    grads = policy.backward(states, weights)
    assert set(grads) == set(policy.params)
    h = 1e-6
    for name, p in policy.params.items():
        assert grads[name].shape == p.shape
        numeric = np.zeros_like(p)
        for idx in np.ndindex(*p.shape):
            old = p[idx]
            p[idx] = old + h
            up = np.sum(weights * policy.logits(states))
            p[idx] = old - h
            down = np.sum(weights * policy.logits(states))
            p[idx] = old
            numeric[idx] = (up - down) / (2 * h)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_policy_forward_and_backward_match_torch(torch, rng, activation):
    policy = Policy(4, 2, 8, rng=rng, activation=activation)
    policy.params["b1"] += rng.normal(size=8)
    states = rng.normal(size=(10, 4))
    dlogits = rng.normal(size=(10, 2))
    t = {k: torch.tensor(v, requires_grad=True) for k, v in policy.params.items()}
    pre = torch.tensor(states) @ t["W1"] + t["b1"]
    hid = torch.tanh(pre) if activation == "tanh" else torch.relu(pre)
    logits = hid @ t["W2"] + t["b2"]
    np.testing.assert_allclose(policy.logits(states), logits.detach().numpy(), rtol=1e-12)
    (logits * torch.tensor(dlogits)).sum().backward()
    grads = policy.backward(states, dlogits)
    for name in t:
        np.testing.assert_allclose(grads[name], t[name].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_policy_flat_round_trip_copy_and_probs(rng):
    policy = Policy(4, 2, 6, rng=rng)
    flat = policy.get_flat()
    assert flat.shape == (policy.size,) == (4 * 6 + 6 + 6 * 2 + 2,)
    clone = policy.copy()
    policy.set_flat(flat + 1.0)
    np.testing.assert_allclose(policy.get_flat(), flat + 1.0)
    np.testing.assert_allclose(clone.get_flat(), flat)  # the copy is independent
    probs = policy.probs(rng.normal(size=(5, 4)) * 100)
    assert probs.shape == (5, 2) and np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert Policy(4, 2, 0, rng=rng).size == 10
    with pytest.raises(ValueError, match="v"):
        policy.set_flat(np.zeros(3))


def test_policy_act_samples_by_the_probabilities(rng):
    policy = Policy(4, 2, 0, rng=rng)
    policy.params["b"][:] = [0.0, np.log(3.0)]  # P(right) = 0.75 everywhere at state 0
    state = np.zeros(4)
    actions = [policy.act(state, rng)[0] for _ in range(4000)]
    assert abs(np.mean(actions) - 0.75) < 0.03
    a, p = policy.act(state, None, greedy=True)
    assert a == 1
    np.testing.assert_allclose(p, [0.25, 0.75])


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        (dict(obs_dim=0), ValueError, "obs_dim"),
        (dict(n_actions=1.5), TypeError, "n_actions"),
        (dict(hidden=-1), ValueError, "hidden"),
        (dict(activation="sigmoid"), ValueError, "activation"),
        (dict(rng=0), TypeError, "rng"),
    ],
)
def test_policy_argument_errors(kwargs, error, name):
    kwargs.setdefault("rng", np.random.default_rng(0))
    with pytest.raises(error, match=name):
        Policy(**kwargs)


def test_policy_shape_errors(rng):
    policy = Policy(4, 2, 3, rng=rng)
    with pytest.raises(ValueError, match="states"):
        policy.logits(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="dlogits"):
        policy.backward(np.zeros((2, 4)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="state"):
        policy.act(np.zeros(3), rng)


# ------------------------------------------------------------------ episodes, evaluate


def test_run_episode_shapes_probs_and_reproducibility(rng):
    policy = Policy(rng=rng)
    env = make_cartpole()
    ep = run_episode(env, policy, np.random.default_rng(1), seed=3)
    T = len(ep)
    assert isinstance(ep, Episode) and T >= 1
    assert ep.states.shape == (T, 4) and ep.actions.shape == (T,)
    assert ep.rewards.shape == (T,) and ep.probs.shape == (T, 2)
    assert ep.actions.dtype.kind == "i" and set(np.unique(ep.actions)) <= {0, 1}
    np.testing.assert_allclose(ep.probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(ep.probs, policy.probs(ep.states), rtol=1e-12)
    assert ep.total == T  # CartPole: reward 1 per step
    again = run_episode(env, policy, np.random.default_rng(1), seed=3)
    np.testing.assert_array_equal(again.states, ep.states)
    np.testing.assert_array_equal(again.actions, ep.actions)
    short = run_episode(env, policy, rng, seed=3, max_steps=4)
    assert len(short) <= 4
    env.close()


def test_make_cartpole_seed_makes_the_episode_stream_reproducible(rng):
    policy = Policy(rng=rng)
    starts = []
    for _ in range(2):
        env = make_cartpole(7)
        starts.append([run_episode(env, policy, None, greedy=True).states[0] for _ in range(3)])
    np.testing.assert_array_equal(starts[0], starts[1])
    assert not np.array_equal(starts[0][0], starts[0][1])


def test_evaluate_is_deterministic_and_bounded(rng):
    policy = Policy(rng=rng)
    a = evaluate(policy, episodes=3, seed=5)
    assert a == evaluate(policy, episodes=3, seed=5)
    assert 1.0 <= a <= 500.0
    with pytest.raises(ValueError, match="episodes"):
        evaluate(policy, episodes=0)


# ----------------------------------------------------------------------------- training


def test_train_reinforce_uses_the_kernels_it_is_given():
    calls = {"discounted_returns": 0, "reinforce_loss": 0}

    def my_returns(rewards, gamma, dones=None):
        calls["discounted_returns"] += 1
        return discounted_returns(rewards, gamma, dones)

    def my_loss(logits, actions, returns, baseline=None):
        calls["reinforce_loss"] += 1
        return reinforce_loss(logits, actions, returns, baseline)

    h = train_reinforce(
        env_steps=600, batch_episodes=2, discounted_returns=my_returns, reinforce_loss=my_loss
    )
    updates = len(h.losses)
    assert updates >= 2
    assert calls == {"discounted_returns": updates, "reinforce_loss": updates}
    reference = train_reinforce(env_steps=600, batch_episodes=2)
    assert h.returns == reference.returns  # the wrappers compute the same thing


def test_train_reinforce_does_not_learn_with_a_zero_gradient():
    def no_gradient(logits, actions, returns, baseline=None):
        return 0.0, np.zeros_like(logits)

    first = train_reinforce(env_steps=300, batch_episodes=1, reinforce_loss=no_gradient, seed=4)
    start = Policy(4, 2, 16, rng=np.random.default_rng(np.random.SeedSequence(4).spawn(2)[0]))
    np.testing.assert_array_equal(first.policy.get_flat(), start.get_flat())


@pytest.mark.parametrize("baseline", ["value", "mean", None])
def test_train_reinforce_history_is_reproducible(baseline):
    a = train_reinforce(env_steps=1500, baseline=baseline, seed=3, record=(1, 2))
    b = train_reinforce(env_steps=1500, baseline=baseline, seed=3, record=(1, 2))
    assert a.returns == b.returns and a.env_steps == b.env_steps
    np.testing.assert_array_equal(a.policy.get_flat(), b.policy.get_flat())
    assert a.baseline_kind == baseline
    assert len(a.returns) == len(a.env_steps)
    assert a.env_steps[-1] >= 1500 and a.env_steps[-2] < 1500
    assert np.all(np.diff(a.env_steps) > 0)
    assert {1, 2, len(a.returns)} <= set(a.recorded)
    assert len(a.recorded[1]) == a.env_steps[0]
    c = train_reinforce(env_steps=1500, baseline=baseline, seed=4)
    assert c.returns != a.returns


def test_train_reinforce_improves_on_a_small_budget():
    h = train_reinforce(env_steps=12_000, seed=0)
    assert np.mean(h.returns[-10:]) > np.mean(h.returns[:10]) + 30


@pytest.mark.slow
def test_train_reinforce_default_settings_balance_the_pole():
    h = train_reinforce(seed=0)
    assert h.last_mean(20) >= 200
    assert evaluate(h.policy, episodes=5, seed=100) >= 200


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        (dict(baseline="median"), ValueError, "baseline"),
        (dict(gamma=2.0), ValueError, "gamma"),
        (dict(lr=0.0), ValueError, "lr"),
        (dict(env_steps=0), ValueError, "env_steps"),
        (dict(batch_episodes=0), ValueError, "batch_episodes"),
        (dict(discounted_returns="yes"), TypeError, "discounted_returns"),
        (dict(reinforce_loss=1), TypeError, "reinforce_loss"),
        (dict(record=[0]), ValueError, "record"),
        (dict(seed=-1), TypeError, "seed"),
    ],
)
def test_train_reinforce_argument_errors(kwargs, error, name):
    with pytest.raises(error, match=name):
        train_reinforce(**kwargs)


def test_public_names():
    for name in rl.__all__:
        assert getattr(rl, name).__doc__, name
