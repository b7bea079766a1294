"""Plausible wrong answers for unit 15; each must lose its own exercise's points, only those."""

_RETURNS = """
def discounted_returns(rewards, gamma, dones=None):
    dones = np.zeros(len(rewards), dtype=bool) if dones is None else np.asarray(dones, dtype=bool)
    returns = np.empty(len(rewards))
    running = 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * (1.0 - dones[t]) * running
        returns[t] = running
    return returns
"""

_REINFORCE = """
def reinforce_loss(logits, actions, returns, baseline=None):
    T = logits.shape[0]
    rows = np.arange(T)
    advantage = np.asarray(returns, dtype=float)
    if baseline is not None:
        advantage = advantage - baseline
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (T, A)
    loss = -np.mean(advantage * log_probs[rows, actions])
    onehot = np.zeros_like(logits)
    onehot[rows, actions] = 1.0
    dlogits = -advantage[:, None] * (onehot - np.exp(log_probs)) / T
    return float(loss), dlogits
"""

_ES = """
def es_gradient(noise, fitness, sigma):
    n = len(fitness)
    return noise.T @ (fitness - np.mean(fitness)) / (n * sigma)
"""

_GCN = """
def gcn_layer(a_hat, h, w, b=None):
    out = a_hat @ h @ w                                       # (N, F')
    if b is not None:
        out = out + b
    return out, (a_hat, h, w, b)
"""

_GCN_BACKWARD = """
def gcn_layer_backward(dout, cache):
    a_hat, h, w, b = cache
    dh = a_hat.T @ dout @ w.T                                 # (N, F)
    dw = (a_hat @ h).T @ dout                                 # (F, F')
    db = None if b is None else dout.sum(axis=0)              # (F',)
    return dh, dw, db
"""

_SQUASH = """
def squash(s, axis=-1, eps=1e-9):
    sq = np.sum(np.square(s), axis=axis, keepdims=True)       # |s|^2, a length-1 axis kept
    return (sq / (1.0 + sq)) * s / np.sqrt(sq + eps)
"""


def _replace(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, old
    return source.replace(old, new)


MUTANTS = {
    "discounted_returns": {
        "the return leaks across an episode end (dones ignored)": _replace(
            _RETURNS, "gamma * (1.0 - dones[t]) * running", "gamma * running"
        ),
        "the reset one step late (after adding r_t)": _replace(
            _RETURNS,
            "        running = rewards[t] + gamma * (1.0 - dones[t]) * running\n",
            "        running = rewards[t] + gamma * running\n"
            "        if dones[t]:\n"
            "            returns[t] = running\n"
            "            running = 0.0\n"
            "            continue\n",
        ),
        "gamma one step off (the own reward discounted)": _replace(
            _RETURNS,
            "running = rewards[t] + gamma * (1.0 - dones[t]) * running",
            "running = gamma * (rewards[t] + (1.0 - dones[t]) * running)",
        ),
        "accumulated forward from the start": """
def discounted_returns(rewards, gamma, dones=None):
    dones = np.zeros(len(rewards), dtype=bool) if dones is None else np.asarray(dones, dtype=bool)
    returns = np.empty(len(rewards))
    running = 0.0
    for t in range(len(rewards)):
        running = rewards[t] + gamma * running
        returns[t] = running
        if dones[t]:
            running = 0.0
    return returns
""",
    },
    "reinforce_loss": {
        "the baseline added instead of subtracted": _replace(
            _REINFORCE, "advantage = advantage - baseline", "advantage = advantage + baseline"
        ),
        "the loss sign flipped (ascent written as the loss)": _replace(
            _REINFORCE,
            "loss = -np.mean(advantage * log_probs[rows, actions])",
            "loss = np.mean(advantage * log_probs[rows, actions])",
        ).replace("dlogits = -advantage[:, None]", "dlogits = advantage[:, None]"),
        "summed over the steps instead of averaged": _replace(
            _REINFORCE, "loss = -np.mean(", "loss = -np.sum("
        ).replace(" / T\n", "\n"),
        "log of softmax without log-sum-exp (overflows)": _replace(
            _REINFORCE,
            "shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
            "np.log(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True))",
        ),
        "the gradient without the softmax term": _replace(
            _REINFORCE, "(onehot - np.exp(log_probs))", "onehot"
        ),
    },
    "es_gradient": {
        "the mean fitness not subtracted": _replace(_ES, "(fitness - np.mean(fitness))", "fitness"),
        "no 1/sigma": _replace(_ES, "/ (n * sigma)", "/ n"),
        "divided by sigma squared": _replace(_ES, "/ (n * sigma)", "/ (n * sigma ** 2)"),
        "averaged over the parameters instead of the population": _replace(
            _ES, "/ (n * sigma)", "/ (np.shape(noise)[1] * sigma)"
        ),
    },
    "gcn_layer": {
        "no message passing (h @ w)": _replace(_GCN, "out = a_hat @ h @ w", "out = h @ w"),
        "a_hat transposed": _replace(_GCN, "out = a_hat @ h @ w", "out = a_hat.T @ h @ w"),
        "the bias ignored": _replace(_GCN, "        out = out + b\n", "        pass\n"),
    },
    "gcn_layer_backward": {
        "a_hat not transposed in dh": _replace(
            _GCN_BACKWARD, "dh = a_hat.T @ dout @ w.T", "dh = a_hat @ dout @ w.T"
        ),
        "dw from h instead of a_hat @ h": _replace(
            _GCN_BACKWARD, "dw = (a_hat @ h).T @ dout", "dw = h.T @ dout"
        ),
        "db the mean over nodes": _replace(_GCN_BACKWARD, "dout.sum(axis=0)", "dout.mean(axis=0)"),
    },
    "squash": {
        "|s| instead of |s|^2 in the length factor": _replace(
            _SQUASH,
            "return (sq / (1.0 + sq)) * s / np.sqrt(sq + eps)",
            "return (np.sqrt(sq) / (1.0 + np.sqrt(sq))) * s / np.sqrt(sq + eps)",
        ),
        "the norm over the whole array (axis ignored)": _replace(
            _SQUASH, "np.sum(np.square(s), axis=axis, keepdims=True)", "np.sum(np.square(s))"
        ),
        "NaN on a zero vector (no eps)": _replace(_SQUASH, "np.sqrt(sq + eps)", "np.sqrt(sq)"),
        "not normalized by |s|": _replace(
            _SQUASH,
            "return (sq / (1.0 + sq)) * s / np.sqrt(sq + eps)",
            "return (sq / (1.0 + sq)) * s",
        ),
    },
}
