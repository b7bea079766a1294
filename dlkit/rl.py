"""Reinforcement learning on CartPole: discounted returns, REINFORCE with a baseline.

The pieces of unit 15's policy-gradient section, all in float64 NumPy:

* :func:`discounted_returns` (graded) turns a buffer of rewards into returns-to-go
  ``G_t = r_t + gamma * G_{t+1}``; ``dones`` marks the last step of each episode, so a buffer
  holding several episodes back to back never lets a return leak across an episode end.
* :func:`reinforce_loss` (graded) is the surrogate loss whose gradient is the policy
  gradient, ``-mean_t(A_t * log pi(a_t | s_t))`` with the advantage ``A_t = G_t - b_t``, and
  its gradient with respect to the logits, computed with a stable log-sum-exp.
* :class:`Policy` is a small MLP (``obs -> hidden (tanh) -> logits``; ``hidden=0`` is linear)
  with a hand-written backward pass and a flat view of its parameters for evolution
  strategies (:mod:`dlkit.evolution`).
* :func:`make_cartpole`, :func:`run_episode` and :func:`evaluate` roll the policy out in
  gymnasium's ``CartPole-v1`` (reward 1 per step, at most 500 steps: the best return is 500).
* :func:`train_reinforce` is the training loop. It reaches ``discounted_returns`` and
  ``reinforce_loss`` only through its arguments (default: this module's functions, looked up
  when it is called), so a notebook trains with the student's own functions.

Randomness: every function takes an explicit ``rng`` (a ``numpy.random.Generator``) or a
``seed``; episodes are seeded through ``env.reset(seed=...)``. Nothing touches a global seed,
so a run is reproduced exactly from its ``seed``.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validate import check_generator, check_size

__all__ = [
    "Episode",
    "Policy",
    "RLHistory",
    "discounted_returns",
    "evaluate",
    "make_cartpole",
    "reinforce_loss",
    "run_episode",
    "train_reinforce",
]

_ACTIVATIONS = ("tanh", "relu")
_BASELINES = ("value", "mean", None)


# ----------------------------------------------------------------------------- validation


def _vector(x: Any, name: str, n: int | None = None, *, finite: bool = True) -> np.ndarray:
    """``x`` as a 1-D float64 array (of length ``n`` if given); errors name ``name``."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a 1-D array of numbers; got {type(x).__name__}")
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D with shape (T,); got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(
            f"{name} must have shape ({n},) to match the other inputs; got {arr.shape}"
        )
    arr = arr.astype(np.float64, copy=False)
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it holds NaN or inf")
    return arr


def _matrix(x: Any, name: str, cols: int | None = None) -> np.ndarray:
    """``x`` as a finite 2-D float64 array (with ``cols`` columns if given)."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a 2-D array of numbers; got {type(x).__name__}")
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D; got shape {arr.shape}")
    if cols is not None and arr.shape[1] != cols:
        raise ValueError(f"{name} must have {cols} columns; got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it holds NaN or inf")
    return arr


def _real(x: Any, name: str, lo: float | None = None, hi: float | None = None) -> float:
    """``x`` as a finite float in ``[lo, hi]``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {x!r}")
    value = float(x)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name} must be in [{lo}, {hi}]; got {value}")
    return value


def _positive(x: Any, name: str) -> float:
    value = _real(x, name)
    if value <= 0:
        raise ValueError(f"{name} must be > 0; got {value}")
    return value


def _nonneg_int(x: Any, name: str) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {x!r}")
    if x < 0:
        raise ValueError(f"{name} must be >= 0; got {x!r}")
    return int(x)


def _seed(seed: Any, name: str = "seed") -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"{name} must be None or an int >= 0; got {seed!r}")
    return int(seed)


def _function(fn: Any, name: str, module: str = __name__) -> Callable[..., Any]:
    """The function passed as ``name``, or ``module``'s one of that name when ``None``.

    Looked up at call time (not bound at import), so whichever version of the module is
    loaded is the one used.
    """
    if fn is None:
        return getattr(sys.modules[module], name)
    if not callable(fn):
        raise TypeError(f"{name} must be a function or None; got {fn!r}")
    return fn


# ----------------------------------------------------------------------- graded kernels


def discounted_returns(rewards: Any, gamma: float, dones: Any = None) -> np.ndarray:
    """Returns-to-go of a reward sequence: ``G_t = r_t + gamma * (1 - done_t) * G_{t+1}``.

    Args:
        rewards: ``(T,)`` finite rewards, one per step, possibly several episodes back to back.
        gamma: the discount factor in ``[0, 1]`` (0: only the immediate reward counts; 1: the
            plain sum of the rest of the episode).
        dones: optional ``(T,)`` booleans, True at the LAST step of each episode; the return
            restarts from 0 after it, so nothing leaks from one episode into the previous one.
            ``None``: the whole buffer is one episode.

    Returns:
        ``(T,)`` float64 array of returns (``G_T = 0`` beyond the last step).
    """
    r = _vector(rewards, "rewards")
    g = _real(gamma, "gamma", 0.0, 1.0)
    if dones is None:
        done = np.zeros(r.shape[0], dtype=bool)
    else:
        d = np.asarray(dones)
        if d.dtype.kind not in "biu":
            raise TypeError(
                f"dones must hold booleans (True at an episode's last step); got dtype {d.dtype}"
            )
        if d.shape != r.shape:
            raise ValueError(f"dones must have shape {r.shape} like rewards; got {d.shape}")
        if d.dtype.kind != "b" and not np.all((d == 0) | (d == 1)):
            raise ValueError("dones must hold booleans or 0/1; got other integers")
        done = d.astype(bool)
    out = np.empty_like(r)
    running = 0.0
    for t in range(r.shape[0] - 1, -1, -1):
        if done[t]:
            running = 0.0
        running = r[t] + g * running
        out[t] = running
    return out


def reinforce_loss(
    logits: Any, actions: Any, returns: Any, baseline: Any = None
) -> tuple[float, np.ndarray]:
    """The REINFORCE surrogate loss and its gradient with respect to the logits.

    ``loss = -mean_t(A_t * log_softmax(logits_t)[a_t])`` with the advantage
    ``A_t = returns_t - baseline_t`` treated as a constant (no gradient flows into it).
    Minimizing it is gradient ascent on the expected return.

    Args:
        logits: ``(T, A)`` finite action scores at each step.
        actions: ``(T,)`` integer actions taken, each in ``[0, A)``.
        returns: ``(T,)`` returns (e.g. from :func:`discounted_returns`).
        baseline: ``None`` (no baseline), a number, or ``(T,)`` values subtracted from
            ``returns``.

    Returns:
        ``(loss, dlogits)``: a float and the ``(T, A)`` gradient
        ``-(A_t * (onehot(a_t) - softmax(logits_t))) / T``. The log-softmax is computed
        with the log-sum-exp trick, so logits of order 1000 neither overflow nor give NaN.
    """
    z = _matrix(logits, "logits")
    T, A = z.shape
    if T == 0 or A == 0:
        raise ValueError(f"logits must have at least one step and one action; got shape {z.shape}")
    a = np.asarray(actions)
    if a.dtype.kind not in "iu":
        raise TypeError(f"actions must hold integer actions; got dtype {a.dtype}")
    if a.shape != (T,):
        raise ValueError(f"actions must have shape ({T},) like logits' first axis; got {a.shape}")
    if a.min() < 0 or a.max() >= A:
        raise ValueError(f"actions must be in [0, {A}); got values from {a.min()} to {a.max()}")
    G = _vector(returns, "returns", T)
    if baseline is None:
        adv = G
    elif isinstance(baseline, numbers.Real) and not isinstance(baseline, bool):
        adv = G - _real(baseline, "baseline")
    else:
        b = np.asarray(baseline.detach().cpu().numpy() if hasattr(baseline, "detach") else baseline)
        if b.ndim == 0:
            adv = G - _real(float(b), "baseline")
        else:
            adv = G - _vector(b, "baseline", T)
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(T)
    loss = -float(np.mean(adv * logp[rows, a]))
    dlogits = np.exp(logp) * adv[:, None]
    dlogits[rows, a] -= adv
    return loss, dlogits / T


# ------------------------------------------------------------------------ environment


def make_cartpole(seed: int | None = None) -> Any:
    """Gymnasium's ``CartPole-v1`` (500-step limit, reward 1 per step).

    Args:
        seed: when given, the environment's random stream (its ``reset`` states and its
            action space) is seeded once here; later ``env.reset()`` calls without a seed
            continue that stream, so a sequence of episodes is reproducible.

    Returns:
        The gymnasium environment (observation ``(4,)``: cart position, cart velocity, pole
        angle, pole angular velocity; actions 0 = push left, 1 = push right).
    """
    import gymnasium

    seed = _seed(seed)
    env = gymnasium.make("CartPole-v1", disable_env_checker=True)
    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
    return env


@dataclass
class Episode:
    """One rollout of a policy.

    Attributes:
        states: ``(T, obs_dim)`` the observation before each action.
        actions: ``(T,)`` the actions taken (ints).
        rewards: ``(T,)`` the reward received after each action.
        probs: ``(T, A)`` the policy's action probabilities at each step.
    """

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    probs: np.ndarray

    @property
    def total(self) -> float:
        """The undiscounted return (for CartPole: the number of steps the pole stayed up)."""
        return float(np.sum(self.rewards))

    def __len__(self) -> int:
        return int(self.rewards.shape[0])


class Policy:
    """A softmax policy: a small MLP ``obs -> hidden -> A logits`` in NumPy.

    ``logits = act(states @ W1 + b1) @ W2 + b2`` with ``act`` = tanh (or relu); with
    ``hidden=0`` the policy is linear, ``logits = states @ W + b``. Initialization: hidden
    weights ``N(0, 1/obs_dim)``, output weights ``N(0, 0.01/fan_in)`` and zero biases, so the
    first policy is close to uniform (it explores).

    Args:
        obs_dim: size of an observation (4 for CartPole).
        n_actions: number of discrete actions ``A`` (2 for CartPole).
        hidden: hidden width; 0 for a linear policy.
        rng: the generator for the initial weights.
        activation: ``"tanh"`` (default) or ``"relu"``.
    """

    def __init__(
        self,
        obs_dim: int = 4,
        n_actions: int = 2,
        hidden: int = 16,
        *,
        rng: np.random.Generator,
        activation: str = "tanh",
    ) -> None:
        self.obs_dim = check_size(obs_dim, "obs_dim")
        self.n_actions = check_size(n_actions, "n_actions")
        self.hidden = _nonneg_int(hidden, "hidden")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {_ACTIVATIONS}; got {activation!r}")
        self.activation = activation
        check_generator(rng)
        out_in = self.hidden or self.obs_dim
        params: dict[str, np.ndarray] = {}
        if self.hidden:
            params["W1"] = rng.normal(
                0.0, 1.0 / math.sqrt(self.obs_dim), (self.obs_dim, self.hidden)
            )
            params["b1"] = np.zeros(self.hidden)
            params["W2"] = rng.normal(0.0, 0.1 / math.sqrt(out_in), (out_in, self.n_actions))
            params["b2"] = np.zeros(self.n_actions)
        else:
            params["W"] = rng.normal(0.0, 0.1 / math.sqrt(out_in), (out_in, self.n_actions))
            params["b"] = np.zeros(self.n_actions)
        self.params = params

    def __repr__(self) -> str:
        return (
            f"Policy(obs_dim={self.obs_dim}, n_actions={self.n_actions}, hidden={self.hidden}, "
            f"activation={self.activation!r}, parameters={self.size})"
        )

    @property
    def size(self) -> int:
        """Number of parameters (the length of :meth:`get_flat`)."""
        return int(sum(p.size for p in self.params.values()))

    # forward / backward ------------------------------------------------------------

    def _states(self, states: Any) -> np.ndarray:
        s = np.asarray(states, dtype=np.float64)
        if s.ndim == 1:
            s = s[None, :]
        if s.ndim != 2 or s.shape[1] != self.obs_dim:
            raise ValueError(
                f"states must have shape (T, {self.obs_dim}) (or ({self.obs_dim},) for one "
                f"state); got {np.shape(states)}"
            )
        return s

    def _hidden(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pre = s @ self.params["W1"] + self.params["b1"]
        h = np.tanh(pre) if self.activation == "tanh" else np.maximum(pre, 0.0)
        return pre, h

    def _logits(self, s: np.ndarray) -> np.ndarray:
        if self.hidden:
            return self._hidden(s)[1] @ self.params["W2"] + self.params["b2"]
        return s @ self.params["W"] + self.params["b"]

    def logits(self, states: Any) -> np.ndarray:
        """Action scores ``(T, A)`` for states ``(T, obs_dim)`` (one state ``(obs_dim,)``
        gives ``(1, A)``)."""
        return self._logits(self._states(states))

    def probs(self, states: Any) -> np.ndarray:
        """Action probabilities ``(T, A)`` (a stable softmax of :meth:`logits`)."""
        z = self.logits(states)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def act(
        self, state: Any, rng: np.random.Generator | None = None, greedy: bool = False
    ) -> tuple[int, np.ndarray]:
        """One action for one state ``(obs_dim,)``.

        Args:
            state: the observation.
            rng: the generator for sampling (not used, and may be ``None``, when greedy).
            greedy: take the most probable action instead of sampling one.

        Returns:
            ``(action, probs)``: the action (int) and the ``(A,)`` action probabilities.
        """
        s = np.asarray(state, dtype=np.float64).reshape(-1)
        if s.shape[0] != self.obs_dim:
            raise ValueError(f"state must have shape ({self.obs_dim},); got {np.shape(state)}")
        params = self.params  # one state, 1-D all the way: this runs at every env step
        if self.hidden:
            pre = s @ params["W1"] + params["b1"]
            h = np.tanh(pre) if self.activation == "tanh" else np.maximum(pre, 0.0)
            z = h @ params["W2"] + params["b2"]
        else:
            z = s @ params["W"] + params["b"]
        p = np.exp(z - z.max())
        p /= p.sum()
        if greedy:
            return int(np.argmax(p)), p
        if rng is None:
            raise TypeError("rng must be a numpy.random.Generator to sample an action")
        u = rng.random()
        if self.n_actions == 2:
            return int(u >= p[0]), p
        action = int(np.searchsorted(np.cumsum(p), u, side="right"))
        return min(action, self.n_actions - 1), p

    def backward(self, states: Any, dlogits: Any) -> dict[str, np.ndarray]:
        """Gradients of a loss with respect to every parameter, given ``d loss / d logits``.

        Args:
            states: ``(T, obs_dim)`` the states the logits were computed from.
            dlogits: ``(T, A)`` the gradient of the loss with respect to :meth:`logits`.

        Returns:
            A dict with the same keys and shapes as :attr:`params`.
        """
        s = self._states(states)
        d = np.asarray(dlogits, dtype=np.float64)
        if d.shape != (s.shape[0], self.n_actions):
            raise ValueError(
                f"dlogits must have shape ({s.shape[0]}, {self.n_actions}); got {d.shape}"
            )
        if not self.hidden:
            return {"W": s.T @ d, "b": d.sum(axis=0)}
        pre, h = self._hidden(s)
        dh = d @ self.params["W2"].T
        dpre = dh * (1.0 - h * h) if self.activation == "tanh" else dh * (pre > 0)
        return {"W1": s.T @ dpre, "b1": dpre.sum(axis=0), "W2": h.T @ d, "b2": d.sum(axis=0)}

    # flat view (evolution strategies) -----------------------------------------------

    def get_flat(self) -> np.ndarray:
        """All parameters as one float64 vector (in the order of :attr:`params`), a copy."""
        return np.concatenate([p.ravel() for p in self.params.values()])

    def set_flat(self, v: Any) -> None:
        """Load the parameters from a flat vector like the one :meth:`get_flat` returns."""
        v = _vector(v, "v", self.size)
        i = 0
        for name, p in self.params.items():
            self.params[name] = v[i : i + p.size].reshape(p.shape).copy()
            i += p.size

    def copy(self) -> Policy:
        """An independent copy (same architecture, copied parameters)."""
        new = object.__new__(Policy)
        new.__dict__.update(self.__dict__)
        new.params = {k: v.copy() for k, v in self.params.items()}
        return new


def run_episode(
    env: Any,
    policy: Any,
    rng: np.random.Generator | None,
    *,
    seed: int | None = None,
    greedy: bool = False,
    max_steps: int = 500,
) -> Episode:
    """Roll ``policy`` out in ``env`` for one episode.

    Args:
        env: a gymnasium environment with discrete actions (e.g. :func:`make_cartpole`).
        policy: a :class:`Policy` (anything with ``act(state, rng, greedy) -> (a, probs)``).
        rng: the generator for sampling actions (may be ``None`` when ``greedy``).
        seed: passed to ``env.reset(seed=...)``; ``None`` continues the env's own stream.
        greedy: take the most probable action at each step.
        max_steps: stop after this many steps even if the episode has not ended.

    Returns:
        The :class:`Episode` (it ends when the pole falls, the cart leaves the track, the
        environment's time limit is hit, or after ``max_steps``).
    """
    max_steps = check_size(max_steps, "max_steps")
    seed = _seed(seed)
    if not greedy:
        check_generator(rng)
    obs, _ = env.reset(seed=seed)
    states, actions, rewards, probs = [], [], [], []
    for _ in range(max_steps):
        a, p = policy.act(obs, rng, greedy)
        states.append(obs)
        actions.append(a)
        probs.append(p)
        obs, r, terminated, truncated, _ = env.step(a)
        rewards.append(r)
        if terminated or truncated:
            break
    return Episode(
        states=np.asarray(states, dtype=np.float64),
        actions=np.asarray(actions, dtype=np.int64),
        rewards=np.asarray(rewards, dtype=np.float64),
        probs=np.asarray(probs, dtype=np.float64),
    )


def evaluate(
    policy: Any, *, episodes: int = 10, seed: int = 0, greedy: bool = True, max_steps: int = 500
) -> float:
    """Mean undiscounted return of ``policy`` over ``episodes`` CartPole episodes.

    Episode ``k`` starts from ``env.reset(seed=seed + k)``, so two policies evaluated with the
    same ``seed`` face the same starting states. With ``greedy=False`` actions are sampled
    from ``np.random.default_rng(seed)``.
    """
    episodes = check_size(episodes, "episodes")
    seed = _seed(seed)
    seed = 0 if seed is None else seed
    env = make_cartpole()
    rng = np.random.default_rng(seed)
    totals = [
        run_episode(env, policy, rng, seed=seed + k, greedy=greedy, max_steps=max_steps).total
        for k in range(episodes)
    ]
    env.close()
    return float(np.mean(totals))


# --------------------------------------------------------------------------- training


class _Adam:
    """Adam on a dict of arrays (``step`` adds ``-lr * m_hat / (sqrt(v_hat) + eps)``)."""

    def __init__(self, params: dict[str, np.ndarray], lr: float, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps, self.t = lr, b1, b2, eps, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        c1, c2 = 1.0 - self.b1**self.t, 1.0 - self.b2**self.t
        for k, g in grads.items():
            self.m[k] = self.b1 * self.m[k] + (1.0 - self.b1) * g
            self.v[k] = self.b2 * self.v[k] + (1.0 - self.b2) * g * g
            params[k] = params[k] - self.lr * (self.m[k] / c1) / (
                np.sqrt(self.v[k] / c2) + self.eps
            )


@dataclass
class RLHistory:
    """What :func:`train_reinforce` returns.

    Attributes:
        returns: the undiscounted return of each training episode, in order.
        env_steps: cumulative environment steps after each episode (same length).
        policy: the final :class:`Policy`.
        recorded: episode number (1-based) -> the :class:`Episode` kept for replay.
        baseline_kind: ``"value"``, ``"mean"`` or ``None``.
        losses: the surrogate loss of each update.
        seconds: wall-clock time of the run.
    """

    returns: list[float]
    env_steps: list[int]
    policy: Policy
    recorded: dict[int, Episode] = field(default_factory=dict)
    baseline_kind: str | None = "value"
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def last_mean(self, k: int = 20) -> float:
        """Mean return of the last ``k`` episodes."""
        return float(np.mean(self.returns[-k:]))


def _record_set(record: Any) -> set[int]:
    if record is None:
        return set()
    if isinstance(record, (int, np.integer)) and not isinstance(record, bool):
        record = (record,)
    if not isinstance(record, Iterable):
        raise TypeError(f"record must be an iterable of episode numbers; got {record!r}")
    out = set()
    for k in record:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"record must hold episode numbers >= 1; got {k!r}")
        out.add(int(k))
    return out


def train_reinforce(
    *,
    episodes: int = 1000,
    env_steps: int | None = 40_000,
    lr: float = 0.02,
    gamma: float = 0.99,
    baseline: str | None = "value",
    hidden: int = 16,
    batch_episodes: int = 4,
    seed: int = 0,
    discounted_returns: Callable[..., Any] | None = None,
    reinforce_loss: Callable[..., Any] | None = None,
    record: Iterable[int] | None = (1, 50, 100, 200),
    value_hidden: int = 32,
    value_lr: float = 0.01,
    value_steps: int = 5,
    max_steps: int = 500,
) -> RLHistory:
    """Train a :class:`Policy` on CartPole with REINFORCE (Monte-Carlo policy gradient).

    Each update collects ``batch_episodes`` episodes by sampling actions from the policy,
    computes the returns of the whole buffer with ``discounted_returns(rewards, gamma, dones)``
    (``dones`` True at each episode's last step), subtracts the baseline, and takes one Adam
    step (learning rate ``lr``) on the policy with the gradient from
    ``reinforce_loss(logits, actions, returns, baseline)`` backpropagated through the MLP.

    Baselines (``baseline=``):

    * ``"value"``: a learned state value ``V(s)``, a second tanh MLP (``value_hidden`` units,
      output scaled by ``min(1/(1 - gamma), max_steps)`` so its raw output is of order 1). The
      baseline of a batch is ``V`` before it sees the batch; then ``V`` is fitted to the
      batch's returns by ``value_steps`` Adam steps (``value_lr``) on the mean squared error.
    * ``"mean"``: the mean return of the batch (a number).
    * ``None``: no baseline (the raw returns weight the log-probabilities).

    Args:
        episodes: at most this many episodes.
        env_steps: stop after the episode during which this many environment steps have
            been taken (every ``env.step`` counts; the last episode runs to its end, and the
            last, possibly smaller, batch still makes an update); ``None``: no step limit.
        lr, gamma, hidden, batch_episodes, seed: see above; ``seed`` fixes the initial
            weights, the environment's starting states and the sampled actions.
        discounted_returns, reinforce_loss: the two kernels (default: this module's).
        record: episode numbers (1-based) whose :class:`Episode` is kept in ``recorded``
            (the last episode is always kept).
        value_hidden, value_lr, value_steps: the value function's size and fitting.
        max_steps: step limit of an episode.

    Returns:
        An :class:`RLHistory`.

    Measured with the defaults (40,000 steps, Adam lr 0.02, 4 episodes a batch, hidden 16,
    gamma 0.99), seeds 0-9, one thread: mean return of the last 20 training episodes 485
    with the value baseline (lowest seed 451), 447 with the mean baseline (lowest 304), 374
    without a baseline (lowest 133); about 1-2 s a run. The baseline leaves the expected
    gradient unchanged and lowers its variance: it shows as fewer runs that stall.
    """
    import time

    dr = _function(discounted_returns, "discounted_returns")
    rl = _function(reinforce_loss, "reinforce_loss")
    episodes = check_size(episodes, "episodes")
    budget = None if env_steps is None else check_size(env_steps, "env_steps")
    lr = _positive(lr, "lr")
    gamma = _real(gamma, "gamma", 0.0, 1.0)
    if baseline not in _BASELINES:
        raise ValueError(f"baseline must be 'value', 'mean' or None; got {baseline!r}")
    hidden = _nonneg_int(hidden, "hidden")
    batch_episodes = check_size(batch_episodes, "batch_episodes")
    seed = _seed(seed)
    seed = 0 if seed is None else seed
    keep = _record_set(record)
    value_hidden = _nonneg_int(value_hidden, "value_hidden")
    value_lr = _positive(value_lr, "value_lr")
    value_steps = check_size(value_steps, "value_steps")
    max_steps = check_size(max_steps, "max_steps")

    start = time.perf_counter()
    init_rng, act_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    env = make_cartpole(seed)
    policy = Policy(4, int(env.action_space.n), hidden, rng=init_rng)
    opt = _Adam(policy.params, lr)
    value = value_opt = None
    scale = min(1.0 / (1.0 - gamma), float(max_steps)) if gamma < 1 else float(max_steps)
    if baseline == "value":
        value = Policy(4, 1, value_hidden, rng=init_rng)
        value_opt = _Adam(value.params, value_lr)

    history = RLHistory(returns=[], env_steps=[], policy=policy, baseline_kind=baseline)
    steps = 0
    done = False
    last: Episode | None = None
    while not done:
        batch: list[Episode] = []
        while len(batch) < batch_episodes:
            ep = run_episode(env, policy, act_rng, max_steps=max_steps)
            batch.append(ep)
            steps += len(ep)
            history.returns.append(ep.total)
            history.env_steps.append(steps)
            n = len(history.returns)
            if n in keep:
                history.recorded[n] = ep
            last = ep
            if n >= episodes or (budget is not None and steps >= budget):
                done = True
                break
        states = np.concatenate([ep.states for ep in batch])
        actions = np.concatenate([ep.actions for ep in batch])
        rewards = np.concatenate([ep.rewards for ep in batch])
        dones = np.zeros(rewards.shape[0], dtype=bool)
        dones[np.cumsum([len(ep) for ep in batch]) - 1] = True
        returns = np.asarray(dr(rewards, gamma, dones), dtype=np.float64)
        if baseline == "value":
            b: Any = scale * value.logits(states)[:, 0]
        elif baseline == "mean":
            b = float(returns.mean())
        else:
            b = None
        loss, dlogits = rl(policy.logits(states), actions, returns, b)
        history.losses.append(float(loss))
        opt.step(policy.params, policy.backward(states, np.asarray(dlogits, dtype=np.float64)))
        if baseline == "value":
            target = returns / scale
            for _ in range(value_steps):
                err = value.logits(states)[:, 0] - target
                value_opt.step(value.params, value.backward(states, (err / err.shape[0])[:, None]))
    if last is not None:
        history.recorded[len(history.returns)] = last
    env.close()
    history.seconds = time.perf_counter() - start
    return history
