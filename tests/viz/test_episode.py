"""Unit 15's episode replay: a CartPole episode step by step, with its return-to-go.

It must draw the cart and pole as the state says (track limits at +-2.4, the pole leaning the
way theta says, the push as an arrow), the policy's probability of pushing right with the step
marked, and the return-to-go computed by the student's discounted_returns (dlkit's when none
is given) at the gamma slider's value; the step slider comes first (the browser tier moves
it); malformed episodes get errors that name what is wrong.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation

from dlkit.viz.episode import CART_H, CART_W, X_LIMIT, EpisodeReplay
from dlkit.viz.explorer import Explorer, Slider
from tests.viz.conftest import Spy

CELL = "/tmp/ipykernel_4242/1515.py"  # how ipykernel names a notebook cell's code


def returns_loop(rewards, gamma, dones=None):
    """A student's discounted_returns, written as the loop backwards over the steps."""
    out, running = np.zeros(len(rewards)), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def episode(length: int, seed: int = 0, probs: bool = True) -> dict:
    """A made-up episode: the pole swinging, a policy pushing toward its lean."""
    g = np.random.default_rng(seed)
    t = np.arange(length)
    theta = 0.15 * np.sin(t / 6 + seed)
    states = np.stack([0.8 * np.sin(t / 20), 0.1 * np.cos(t / 20), theta, np.cos(t / 6)], 1)
    right = 1 / (1 + np.exp(-12 * theta))
    out = {"states": states, "actions": (g.random(length) < right).astype(int)}
    out["rewards"] = np.ones(length)
    if probs:
        out["probs"] = np.stack([1 - right, right], 1)
    return out


def lean_policy(states):
    """P(push right) rises with the pole's lean and its angular velocity."""
    right = 1 / (1 + np.exp(-(10 * states[:, 2] + 2 * states[:, 3])))
    return np.stack([1 - right, right], 1)


def axes(e: EpisodeReplay) -> dict:
    """The panels by their role: cart, probs, returns and (with a policy) map, colour bar."""
    names = ["cart", "probs", "returns", "map", "bar"]
    return dict(zip(names, e.figure.axes, strict=False))


def pole(e: EpisodeReplay) -> Line2D:
    (line,) = [ln for ln in axes(e)["cart"].get_lines() if ln.get_linewidth() == 5]
    return line


def test_it_is_an_explorer_with_the_step_slider_first():
    e = EpisodeReplay([episode(10), episode(30, 1)], discounted_returns=returns_loop)
    assert isinstance(e, Explorer)
    assert list(e.controls) == ["step", "episode", "gamma"]
    step = e.controls["step"]
    assert isinstance(step, Slider) and step.integer and (step.min, step.max) == (0, 29)
    assert e.controls["episode"].options == ("episode 0: return 10", "episode 1: return 30")
    assert e.values["episode"] == "episode 1: return 30"  # the last (trained) one first
    assert e.values["gamma"] == 0.99 and (e.controls["gamma"].min, e.controls["gamma"].max) == (
        0.0,
        1.0,
    )


def test_the_students_returns_are_drawn_at_the_chosen_gamma():
    spy = Spy(returns_loop)
    ep = episode(3)
    ep["rewards"] = np.array([1.0, 1.0, 1.0])
    e = EpisodeReplay([ep], discounted_returns=spy)
    e.update(gamma=0.5, step=1)
    rewards, gamma = spy.calls[-1]
    assert np.array_equal(rewards, [1.0, 1.0, 1.0]) and gamma == 0.5
    curve = axes(e)["returns"].get_lines()[0]
    np.testing.assert_allclose(curve.get_ydata(), [1.75, 1.5, 1.0])  # 1 + 0.5 + 0.25, ...
    assert "G_1 = 1.5" in axes(e)["returns"].get_title()
    assert "gamma = 0.50" in axes(e)["returns"].get_title()


def test_dlkits_discounted_returns_when_none_is_given():
    rl = pytest.importorskip("dlkit.rl")
    ep = episode(20)
    e = EpisodeReplay([ep], gamma=0.9)
    curve = axes(e)["returns"].get_lines()[0]
    np.testing.assert_allclose(curve.get_ydata(), rl.discounted_returns(ep["rewards"], 0.9))


def test_the_cart_and_pole_are_drawn_where_the_state_says():
    ep = episode(40)
    e = EpisodeReplay([ep], discounted_returns=returns_loop)
    for step in (0, 7, 20, 39):
        e.update(step=step)
        x, _, theta, _ = ep["states"][step]
        (cart,) = [p for p in axes(e)["cart"].patches if isinstance(p, Rectangle)]
        assert cart.get_x() + cart.get_width() / 2 == pytest.approx(x)
        assert cart.get_width() == CART_W
        (x0, x1), (y0, y1) = pole(e).get_xdata(), pole(e).get_ydata()
        assert (x0, y0) == pytest.approx((x, CART_H))  # from the top of the cart
        # 0 is upright, positive leans right
        assert math.atan2(x1 - x0, y1 - y0) == pytest.approx(theta)
        (arrow,) = [a for a in axes(e)["cart"].texts if isinstance(a, Annotation)]
        dx = arrow.xy[0] - arrow.xyann[0]
        assert np.sign(dx) == (1 if ep["actions"][step] == 1 else -1)  # the push
        word = "right" if ep["actions"][step] == 1 else "left"
        assert f"push {word}" in axes(e)["cart"].get_xlabel()
    limits = sorted(ln.get_xdata()[0] for ln in axes(e)["cart"].get_lines() if ln.get_ls() == "--")
    assert limits == [-X_LIMIT, X_LIMIT]
    low, high = axes(e)["cart"].get_xlim()
    assert low < -X_LIMIT and high > X_LIMIT


def test_the_pole_leaning_right_is_drawn_right_of_the_cart():
    ep = episode(2)
    ep["states"] = np.array([[0.0, 0.0, 0.2, 0.0], [1.0, 0.0, -0.2, 0.0]])
    e = EpisodeReplay([ep], discounted_returns=returns_loop)
    xs = pole(e).get_xdata()
    assert xs[1] > xs[0]
    e.update(step=1)
    xs = pole(e).get_xdata()
    assert xs[0] == 1.0 and xs[1] < xs[0]


def test_a_shorter_episode_stays_at_its_last_step():
    e = EpisodeReplay([episode(5), episode(50, 1)], discounted_returns=returns_loop)
    e.update(episode="episode 0: return 5", step=30)
    title = axes(e)["cart"].get_title()
    assert "step 4 of 0-4" in title and "ended" in title
    assert axes(e)["probs"].get_lines()[-1].get_xdata()[0] == 4  # the step marker
    e.update(step=2)
    assert "ended" not in axes(e)["cart"].get_title()


def test_the_probabilities_panel_shows_the_recorded_probabilities_and_the_step():
    ep = episode(25)
    e = EpisodeReplay([ep], discounted_returns=returns_loop)
    e.update(step=12)
    lines = axes(e)["probs"].get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), ep["probs"][:, 1])
    np.testing.assert_array_equal(lines[1].get_ydata(), ep["actions"])
    assert lines[-1].get_xdata()[0] == 12
    assert f"{ep['probs'][12, 1]:.2f}" in axes(e)["probs"].get_title()


def test_an_episode_without_probabilities_shows_the_actions_or_asks_the_policy():
    ep = episode(15, probs=False)
    e = EpisodeReplay([ep], discounted_returns=returns_loop)
    assert len(axes(e)["probs"].get_lines()) == 2  # the actions and the step marker
    assert "no probabilities" in axes(e)["probs"].get_title()
    spy = Spy(lean_policy)
    e = EpisodeReplay([ep], discounted_returns=returns_loop, policy=spy)
    assert any(c[0].shape == (15, 4) and np.array_equal(c[0], ep["states"]) for c in spy.calls)
    np.testing.assert_allclose(
        axes(e)["probs"].get_lines()[0].get_ydata(), lean_policy(ep["states"])[:, 1]
    )


def test_the_policy_map_is_p_right_over_angle_and_angular_velocity():
    ep = episode(30)
    spy = Spy(lean_policy)
    e = EpisodeReplay([ep], discounted_returns=returns_loop, policy=spy)
    (grid,) = [c[0] for c in spy.calls if c[0].shape[0] > 30]
    assert np.all(grid[:, :2] == 0.0)  # the cart at rest at the centre
    (image,) = axes(e)["map"].findobj(AxesImage)
    values = np.asarray(image.get_array())
    np.testing.assert_allclose(values.ravel(), lean_policy(grid)[:, 1])
    assert image.get_clim() == (0.0, 1.0)
    path = axes(e)["map"].get_lines()[0]
    np.testing.assert_allclose(path.get_xdata(), ep["states"][:, 2])
    np.testing.assert_allclose(path.get_ydata(), ep["states"][:, 3])
    calls = len(spy.calls)
    e.update(step=10)  # the map is computed once
    star = axes(e)["map"].get_lines()[1]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == tuple(ep["states"][10, 2:])
    assert len(spy.calls) == calls


class _Policy:
    """Like dlkit.rl.Policy: an object with a probs(states) method."""

    def probs(self, states):
        return lean_policy(states)


def test_a_policy_object_is_asked_through_its_probs_method():
    e = EpisodeReplay([episode(10, probs=False)], discounted_returns=returns_loop, policy=_Policy())
    assert len(e.figure.axes) == 5 and e.error is None


def test_an_unwritten_discounted_returns_says_write_it_first():
    namespace: dict = {}
    source = "def discounted_returns(rewards, gamma, dones=None):\n"
    source += "    raise NotImplementedError()\n"
    exec(compile(source, CELL, "exec"), namespace)
    e = EpisodeReplay([episode(10)], discounted_returns=namespace["discounted_returns"])
    assert e.error == "write `discounted_returns` first (it still raises NotImplementedError)"
    assert e.png().startswith(b"\x89PNG")
    assert "write `discounted_returns` first" in e.widget().children[2].value


def test_wrong_returns_raise_clear_errors_and_nan_is_said():
    with pytest.raises(ValueError, match=r"discounted_returns\(rewards, gamma\) has shape \(1,\)"):
        EpisodeReplay([episode(10)], discounted_returns=lambda r, g: np.zeros(1))
    e = EpisodeReplay([episode(10)], discounted_returns=lambda r, g: np.full(len(r), np.nan))
    assert "10 not finite" in axes(e)["returns"].get_title()


def test_a_dict_of_episodes_is_labelled_by_its_keys():
    recorded = {1: episode(8), 50: episode(20, 1)}  # like train_reinforce(...).recorded
    e = EpisodeReplay(recorded, discounted_returns=returns_loop)
    assert e.controls["episode"].options == ("episode 1: return 8", "episode 50: return 20")
    named = EpisodeReplay({"before": episode(8)}, discounted_returns=returns_loop)
    assert named.controls["episode"].options == ("before: return 8",)
    with pytest.raises(ValueError, match=r"episodes\[50\] has no 'rewards'"):
        EpisodeReplay({1: episode(8), 50: {"states": np.zeros((3, 4)), "actions": [0, 1, 0]}})


def test_a_trained_history_replays():
    rl = pytest.importorskip("dlkit.rl")
    history = rl.train_reinforce(episodes=6, env_steps=None, batch_episodes=3, record=(1, 4))
    e = EpisodeReplay(history.recorded, policy=history.policy)
    assert e.controls["episode"].options[0].startswith("episode 1: return")
    assert len(e.controls["episode"].options) == 3  # 1, 4 and the last, 6
    e.update(episode=e.controls["episode"].options[0], step=3)
    assert e.error is None


def test_static_fallback_shows_the_figure():
    e = EpisodeReplay([episode(10)], discounted_returns=returns_loop)
    assert e.show(static=True) is None


def test_a_real_cartpole_episode_replays():
    rl = pytest.importorskip("dlkit.rl")
    policy = rl.Policy(hidden=4, rng=np.random.default_rng(0))
    env = rl.make_cartpole(seed=0)
    ep = rl.run_episode(env, policy, np.random.default_rng(1), seed=0)
    e = EpisodeReplay([ep], labels=["untrained"], policy=policy)
    assert e.controls["step"].max == max(len(ep) - 1, 1)
    e.update(step=len(ep) - 1, gamma=0.5)
    assert e.error is None
    np.testing.assert_allclose(axes(e)["probs"].get_lines()[0].get_ydata(), ep.probs[:, 1])


@pytest.mark.parametrize(
    "episodes, kwargs, error, match",
    [
        ([], {}, TypeError, "non-empty list"),
        ([3], {}, TypeError, r"episodes\[0\] must be a dlkit.rl.Episode"),
        ([{"states": np.zeros((3, 4))}], {}, ValueError, r"episodes\[0\] has no 'actions'"),
        ([{**episode(3), "states": np.zeros((3, 3))}], {}, ValueError, r"states.*\(T, 4\)"),
        ([{**episode(3), "actions": np.array([0, 1, 2])}], {}, ValueError, "0 \\(left\\)"),
        ([{**episode(3), "rewards": np.ones(2)}], {}, ValueError, r"rewards.*\(3,\)"),
        ([{**episode(3), "probs": np.ones((3, 2))}], {}, ValueError, "summing to 1"),
        ([{**episode(3), "probs": np.ones((3, 3)) / 3}], {}, ValueError, r"probs.*\(3, 2\)"),
        ([{**episode(3), "rewards": np.array([1, np.nan, 1])}], {}, ValueError, "finite"),
        ([episode(3)], {"labels": ["a", "b"]}, ValueError, "each of the 1 episodes"),
        ([episode(3), episode(4)], {"labels": ["a", "a"]}, ValueError, "different"),
        ([episode(3)], {"discounted_returns": "mine"}, TypeError, "discounted_returns"),
        ([episode(3)], {"gamma": 1.5}, ValueError, r"gamma must be in \[0, 1\]"),
        ([episode(3)], {"policy": 3}, TypeError, "policy must be"),
    ],
)
def test_bad_arguments_raise_clear_errors(episodes, kwargs, error, match):
    kwargs.setdefault("discounted_returns", returns_loop)
    with pytest.raises(error, match=match):
        EpisodeReplay(episodes, **kwargs)


def test_a_policy_returning_the_wrong_shape_is_named():
    with pytest.raises(ValueError, match=r"policy\(states\) has shape"):
        EpisodeReplay(
            [episode(5)], discounted_returns=returns_loop, policy=lambda s: np.ones((len(s), 3))
        )
