"""Episode replay: a recorded CartPole episode, step by step, with its return-to-go.

The top panel draws the cart and its pole at the chosen step: the track with its limits at
x = +-2.4 (where the episode ends), the cart as a box, the pole at its angle theta (0 is
upright; CartPole's theta is positive when the pole leans right) and an arrow for the push
the policy chose. Below, the policy's probability of pushing right at every step of the episode
(the actions taken as dots) and the return-to-go ``G_t`` of every step at the chosen discount
``gamma``, computed by your ``discounted_returns``. With a ``policy``, a small map shows its
probability of pushing right over (pole angle, angular velocity), the cart at rest at the
centre, with the episode's path drawn on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ._student import as_array, check_functions
from .explorer import Choice, Explorer, Slider, legend_beside

__all__ = ["EpisodeReplay"]

X_LIMIT = 2.4  # CartPole ends an episode when the cart leaves [-2.4, 2.4]
THETA_LIMIT = 12 * 2 * math.pi / 360  # ... or when the pole leans more than 12 degrees
POLE = 1.0  # the drawn pole's length (CartPole's pole is 1.0 long: half-length 0.5)
CART_W, CART_H = 0.5, 0.3
MAP_SIZE = 41  # the policy map's grid is MAP_SIZE x MAP_SIZE
RIGHT = 1  # CartPole's actions: 0 pushes the cart left, 1 pushes it right


@dataclass(frozen=True)
class _Episode:
    """One episode's arrays, checked: states (T, 4), actions (T,), rewards (T,), probs."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    probs: np.ndarray | None  # (T, 2) or None when the episode did not record them


def _numpy(value: Any, name: str) -> np.ndarray:
    from ..backend import to_numpy

    try:
        return np.asarray(to_numpy(getattr(value, "data", value)), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers; got {type(value).__name__}") from exc


def _field(episode: Any, key: str, where: str, required: bool = True) -> Any:
    if isinstance(episode, Mapping):
        if key in episode:
            return episode[key]
    elif hasattr(episode, key):
        return getattr(episode, key)
    if required:
        raise ValueError(
            f"{where} has no {key!r}: an episode is a dlkit.rl.Episode or a dict with "
            "'states' (T, 4), 'actions' (T,), 'rewards' (T,) and optionally 'probs' (T, 2)"
        )
    return None


def _episode(episode: Any, where: str) -> _Episode:
    """``episode`` (an Episode or a dict) as checked float arrays, or a clear error."""
    if not isinstance(episode, Mapping) and not hasattr(episode, "states"):
        raise TypeError(
            f"{where} must be a dlkit.rl.Episode or a dict with 'states', 'actions', "
            f"'rewards' (and optionally 'probs'); got {type(episode).__name__}"
        )
    states = _numpy(_field(episode, "states", where), f"{where}.states")
    if states.ndim != 2 or states.shape[1] != 4 or states.shape[0] < 1:
        raise ValueError(
            f"{where}.states must have shape (T, 4), T >= 1: CartPole's (x, x_dot, theta, "
            f"theta_dot) at each step; got shape {states.shape}"
        )
    t = states.shape[0]
    actions = _numpy(_field(episode, "actions", where), f"{where}.actions")
    if actions.shape != (t,):
        raise ValueError(
            f"{where}.actions must have shape ({t},), one action per state; "
            f"got shape {actions.shape}"
        )
    if not np.all(np.isin(actions, (0, 1))):
        raise ValueError(f"{where}.actions must be CartPole's actions 0 (left) or 1 (right)")
    rewards = _numpy(_field(episode, "rewards", where), f"{where}.rewards")
    if rewards.shape != (t,):
        raise ValueError(
            f"{where}.rewards must have shape ({t},), one reward per step; "
            f"got shape {rewards.shape}"
        )
    for key, arr in (("states", states), ("rewards", rewards)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{where}.{key} must be finite numbers")
    probs = _field(episode, "probs", where, required=False)
    if probs is not None:
        probs = _numpy(probs, f"{where}.probs")
        if probs.shape != (t, 2):
            raise ValueError(
                f"{where}.probs must have shape ({t}, 2), the policy's probabilities of "
                f"the two actions at each step; got shape {probs.shape}"
            )
        if not (np.all(np.isfinite(probs)) and np.all(probs >= 0)) or not np.allclose(
            probs.sum(axis=1), 1.0, atol=1e-6
        ):
            raise ValueError(f"{where}.probs must be probabilities: each row >= 0, summing to 1")
    return _Episode(states, actions.astype(np.int64), rewards, probs)


def _policy_function(policy: Any) -> Callable[[np.ndarray], Any] | None:
    if policy is None:
        return None
    probs = getattr(policy, "probs", None)
    if callable(probs):
        return probs
    if callable(policy):
        return policy
    raise TypeError(
        "policy must be a dlkit.rl.Policy, a function states (M, 4) -> probabilities (M, 2), "
        f"or None; got {type(policy).__name__}"
    )


class EpisodeReplay(Explorer):
    """Recorded CartPole episodes replayed step by step, with the return-to-go of each step.

    Args:
        episodes: a list of ``dlkit.rl.Episode`` (or dicts with ``states`` ``(T, 4)``,
            ``actions`` ``(T,)`` of 0 (push left) or 1 (push right), ``rewards`` ``(T,)`` and
            optionally ``probs`` ``(T, 2)``, the policy's action probabilities at each step),
            or a dict of them such as ``train_reinforce(...).recorded`` (episode number ->
            Episode).
        labels: one name per episode for the dropdown (e.g. "episode 0", "after training");
            "episode k: return R" when ``None`` (k the position in the list, or the key).
        discounted_returns: yours, ``discounted_returns(rewards, gamma) -> (T,)``; dlkit's
            (``dlkit.rl.discounted_returns``) when ``None``. Called on every redraw with the
            chosen episode's rewards and the gamma slider's value.
        gamma: the discount the gamma slider starts at.
        policy: optional, a ``dlkit.rl.Policy`` or a function ``states (M, 4) -> (M, 2)``
            probabilities: adds the map of its P(push right) over (pole angle, angular
            velocity), and gives the probabilities of an episode that recorded none.

    Controls: ``step`` (the first: a slider over the steps of the longest episode; a shorter
    episode stays at its last step beyond its end), ``episode``, ``gamma``. The last episode
    is shown first.
    """

    def __init__(
        self,
        episodes: Sequence[Any] | Mapping[Any, Any],
        *,
        labels: Sequence[str] | None = None,
        discounted_returns: Callable[..., Any] | None = None,
        gamma: float = 0.99,
        policy: Any = None,
        **kwargs: Any,
    ) -> None:
        names: list[Any] | None = None  # the keys of a dict of episodes
        if isinstance(episodes, Mapping) and "states" not in episodes:  # RLHistory.recorded
            names, episodes = list(episodes), list(episodes.values())
        elif isinstance(episodes, Mapping) or hasattr(episodes, "states"):
            episodes = [episodes]  # one episode on its own
        if not isinstance(episodes, Sequence) or isinstance(episodes, str) or not episodes:
            raise TypeError(
                "episodes must be a non-empty list of dlkit.rl.Episode (or dicts with "
                f"'states', 'actions', 'rewards'), or a dict of them; got {type(episodes).__name__}"
            )
        keys = names if names is not None else list(range(len(episodes)))
        self.episodes = [
            _episode(ep, f"episodes[{k!r}]") for k, ep in zip(keys, episodes, strict=True)
        ]
        if labels is None:
            named = [k if isinstance(k, str) else f"episode {k}" for k in keys]
            labels = [
                f"{name}: return {float(ep.rewards.sum()):g}"
                for name, ep in zip(named, self.episodes, strict=True)
            ]
        else:
            if isinstance(labels, str) or not isinstance(labels, Sequence):
                raise TypeError(f"labels must be a list of strings; got {type(labels).__name__}")
            labels = [str(label) for label in labels]
            if len(labels) != len(self.episodes):
                raise ValueError(
                    f"labels must name each of the {len(self.episodes)} episodes; "
                    f"got {len(labels)} labels"
                )
            if len(set(labels)) != len(labels):
                raise ValueError(f"labels must be different from each other; got {labels}")
        self.labels = list(labels)
        check_functions(discounted_returns=discounted_returns)
        self._returns_fn = discounted_returns
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.floating)):
            raise TypeError(f"gamma must be a number in [0, 1]; got {gamma!r}")
        if not 0.0 <= float(gamma) <= 1.0:
            raise ValueError(f"gamma must be in [0, 1]; got {gamma!r}")
        self.policy_probs = _policy_function(policy)
        self._probs: dict[int, np.ndarray | None] = {}  # per episode: recorded or the policy's
        self._map: tuple[np.ndarray, tuple[float, float, float, float]] | None = None
        states = np.concatenate([ep.states for ep in self.episodes])
        reach = float(np.max(np.abs(states[:, 0]))) + CART_W
        self.x_view = max(X_LIMIT + 0.6, reach + 0.1)  # the track panel's half-width
        spin = float(np.max(np.abs(states[:, 3])))
        self.theta_view = max(THETA_LIMIT * 1.25, 1.1 * float(np.max(np.abs(states[:, 2]))))
        self.omega_view = max(1.0, 1.1 * spin)  # the map's angular-velocity half-range
        longest = max(len(ep.rewards) for ep in self.episodes)
        controls = {
            "step": Slider(0, max(longest - 1, 1), 0, label="step", integer=True),
            "episode": Choice(tuple(self.labels), self.labels[-1], label="episode"),
            "gamma": Slider(0.0, 1.0, float(gamma), step=0.01, label="gamma"),
        }
        kwargs.setdefault("figsize", (11.0, 6.4))
        super().__init__(controls=controls, **kwargs)

    # -- the computation ----------------------------------------------------------------
    def discounted_returns(self, rewards: np.ndarray, gamma: float) -> np.ndarray:
        """``G_t`` of every step from ``discounted_returns`` (yours, or dlkit's)."""
        fn = self._returns_fn
        name = "discounted_returns"
        if fn is None:
            from .. import rl

            fn = rl.discounted_returns
        got = fn(rewards.copy(), float(gamma))
        return as_array(_numpy(got, f"{name}(rewards, gamma)"), f"{name}(rewards, gamma)",
                        rewards.shape)  # fmt: skip

    def probabilities(self, index: int) -> np.ndarray | None:
        """The ``(T, 2)`` action probabilities of episode ``index``: recorded, else the
        policy's, else None."""
        if index not in self._probs:
            ep = self.episodes[index]
            probs = ep.probs
            if probs is None and self.policy_probs is not None:
                probs = self._policy(ep.states)
            self._probs[index] = probs
        return self._probs[index]

    def _policy(self, states: np.ndarray) -> np.ndarray:
        got = self.policy_probs(states.copy())
        return as_array(_numpy(got, "policy(states)"), "policy(states)", (len(states), 2))

    def policy_map(self) -> tuple[np.ndarray, tuple[float, float, float, float]]:
        """The policy's P(push right) on a grid over (theta, theta_dot), the cart at rest at
        x = 0: ``(MAP_SIZE, MAP_SIZE)`` (rows: theta_dot) and its extent."""
        if self._map is None:
            theta = np.linspace(-self.theta_view, self.theta_view, MAP_SIZE)
            omega = np.linspace(-self.omega_view, self.omega_view, MAP_SIZE)
            tt, oo = np.meshgrid(theta, omega)
            grid = np.zeros((tt.size, 4))
            grid[:, 2], grid[:, 3] = tt.ravel(), oo.ravel()
            right = self._policy(grid)[:, RIGHT].reshape(tt.shape)
            extent = (-self.theta_view, self.theta_view, -self.omega_view, self.omega_view)
            self._map = (right, extent)
        return self._map

    # -- the picture --------------------------------------------------------------------
    def draw(self, fig: Figure, *, step: int, episode: str, gamma: float) -> None:
        fig.set_layout_engine("none")  # fixed margins: the same values give the same pixels
        index = self.labels.index(episode)
        ep = self.episodes[index]
        returns = self.discounted_returns(ep.rewards, gamma)  # may say "write ... first"
        t_end = len(ep.rewards) - 1
        t = min(int(step), t_end)
        has_map = self.policy_probs is not None
        cart_box = (0.05, 0.57, 0.56 if has_map else 0.90, 0.34)
        ax_cart = fig.add_axes(cart_box)
        ax_probs = fig.add_axes((0.06, 0.09, 0.32, 0.33))
        ax_ret = fig.add_axes((0.62, 0.09, 0.34, 0.33))
        self._draw_cart(ax_cart, ep, t, int(step) > t_end, episode.replace("$", r"\$"))
        self._draw_probs(ax_probs, index, t)
        self._draw_returns(ax_ret, returns, t, gamma)
        if has_map:
            ax_map = fig.add_axes((0.70, 0.57, 0.21, 0.34))
            ax_bar = fig.add_axes((0.93, 0.57, 0.012, 0.34))
            self._draw_map(fig, ax_map, ax_bar, ep, t)

    def _draw_cart(self, ax: Any, ep: _Episode, t: int, ended: bool, label: str) -> None:
        x, _, theta, _ = ep.states[t]
        ax.axhline(0.0, color="0.35", lw=1.5, zorder=0)  # the track
        for side in (-X_LIMIT, X_LIMIT):
            ax.axvline(side, color="C3", lw=1.2, ls="--", zorder=0)
        ax.add_patch(Rectangle((x - CART_W / 2, 0.0), CART_W, CART_H, facecolor="0.25",
                               edgecolor="k", zorder=3))  # fmt: skip
        top = (x, CART_H)
        tip = (x + POLE * math.sin(theta), CART_H + POLE * math.cos(theta))
        ax.plot([top[0], tip[0]], [top[1], tip[1]], color="C1", lw=5, solid_capstyle="round",
                zorder=4)  # fmt: skip
        ax.plot([top[0]], [top[1]], "o", color="k", ms=4, zorder=5)
        direction = 1.0 if ep.actions[t] == RIGHT else -1.0
        start = x + direction * (CART_W / 2 + 0.05)
        ax.annotate(
            "", xy=(start + direction * 0.55, CART_H / 2), xytext=(start, CART_H / 2),
            arrowprops={"arrowstyle": "-|>", "color": "C0", "lw": 2.0}, zorder=5,
        )  # fmt: skip
        ax.set(xlim=(-self.x_view, self.x_view), ylim=(-0.35, CART_H + POLE + 0.25),
               aspect="equal")  # fmt: skip
        ax.set_xticks([-X_LIMIT, 0.0, X_LIMIT])
        ax.set_yticks([])
        push = "right" if ep.actions[t] == RIGHT else "left"
        after = ", where the episode ended" if ended else ""
        ax.set_title(f"{label}, step {t} of 0-{len(ep.rewards) - 1}{after}", fontsize=10)
        ax.set_xlabel(
            f"cart at x = {x:+.2f} (limits +-{X_LIMIT}), pole at {math.degrees(theta):+.1f} "
            f"degrees from upright, push {push}",
            fontsize=9,
        )

    def _draw_probs(self, ax: Any, index: int, t: int) -> None:
        ep = self.episodes[index]
        steps = np.arange(len(ep.rewards))
        probs = self.probabilities(index)
        if probs is not None:
            ax.plot(steps, probs[:, RIGHT], color="C0", lw=1.2, label="P(push right)")
        ax.plot(steps, ep.actions.astype(float), ".", color="0.45", ms=3, label="action taken")
        ax.axvline(t, color="k", lw=0.8, ls=":")
        ylabel = "action (1: push right)" if probs is None else "P(push right)"
        ax.set(xlim=(-0.5, max(len(steps) - 0.5, 1.0)), ylim=(-0.08, 1.08),
               xlabel="step", ylabel=ylabel)  # fmt: skip
        ax.set_yticks([0.0, 0.5, 1.0])
        if probs is None:
            title = "the actions taken (no probabilities recorded)"
        else:
            title = f"the policy's choice: P(push right) = {probs[t, RIGHT]:.2f} at step {t}"
        ax.set_title(title, fontsize=10)
        legend_beside(ax, fontsize=7, markerscale=2.0)

    def _draw_returns(self, ax: Any, returns: np.ndarray, t: int, gamma: float) -> None:
        steps = np.arange(len(returns))
        finite = np.isfinite(returns)
        shown = np.where(finite, returns, np.nan)
        ax.plot(steps, shown, color="C2", lw=1.5)
        if finite[t]:
            ax.plot([t], [returns[t]], "o", color="k", ms=5, zorder=5)
        ax.axvline(t, color="k", lw=0.8, ls=":")
        if finite.any():
            low, high = float(returns[finite].min()), float(returns[finite].max())
            pad = 0.05 * (high - low) or 0.5
            ax.set_ylim(min(low, 0.0) - pad, high + pad)
        ax.set(xlim=(-0.5, max(len(steps) - 0.5, 1.0)), xlabel="step t", ylabel="G_t")
        value = f"{returns[t]:.3g}" if finite[t] else "not finite"
        note = "" if finite.all() else f" ({int((~finite).sum())} not finite)"
        ax.set_title(f"return-to-go at gamma = {gamma:.2f}: G_{t} = {value}{note}", fontsize=10)

    def _draw_map(self, fig: Figure, ax: Any, ax_bar: Any, ep: _Episode, t: int) -> None:
        right, extent = self.policy_map()
        heat = ax.imshow(right, origin="lower", extent=extent, aspect="auto", cmap="RdBu_r",
                         vmin=0.0, vmax=1.0, interpolation="nearest")  # fmt: skip
        fig.colorbar(heat, cax=ax_bar)
        ax_bar.tick_params(labelsize=7)
        ax_bar.set_ylabel("P(push right)", fontsize=8)
        ax.plot(ep.states[:, 2], ep.states[:, 3], color="k", lw=0.8, alpha=0.7)
        ax.plot([ep.states[t, 2]], [ep.states[t, 3]], marker="*", ms=11, color="gold",
                markeredgecolor="k", zorder=5)  # fmt: skip
        ax.set(xlim=extent[:2], ylim=extent[2:], xlabel="pole angle theta (rad)",
               ylabel="angular velocity")  # fmt: skip
        ax.tick_params(labelsize=7)
        ax.set_title("the policy, cart at rest at 0", fontsize=10)
