"""Plausible wrong answers for unit 09; each must lose its own exercise's points, only those."""

MUTANTS = {
    "embedding_backward": {
        "fancy-index += drops repeated ids": """
def embedding_backward(dout, cache):
    ids, W = cache
    dW = np.zeros_like(W)
    dW[ids.reshape(-1)] += dout.reshape(-1, W.shape[1])
    return dW
""",
        "averages the repeats instead of summing them": """
def embedding_backward(dout, cache):
    ids, W = cache
    dW = np.zeros_like(W)
    np.add.at(dW, ids.reshape(-1), dout.reshape(-1, W.shape[1]))
    counts = np.bincount(ids.reshape(-1), minlength=W.shape[0])
    return dW / np.maximum(counts, 1)[:, None]
""",
    },
    "rnn_step_forward": {
        "forgets the tanh": """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h = x @ Wx + h_prev @ Wh + b
    return h, (x, h_prev, Wx, Wh, h)
""",
        "uses Wh transposed": """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h = np.tanh(x @ Wx + h_prev @ Wh.T + b)
    return h, (x, h_prev, Wx, Wh, h)
""",
        "ignores the previous state": """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h = np.tanh(x @ Wx + b)
    return h, (x, h_prev, Wx, Wh, h)
""",
    },
    "rnn_step_backward": {
        "forgets the tanh derivative": """
def rnn_step_backward(dh, cache):
    x, h_prev, Wx, Wh, h = cache
    da = dh
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)
""",
        "dWh from the new state instead of the previous one": """
def rnn_step_backward(dh, cache):
    x, h_prev, Wx, Wh, h = cache
    da = dh * (1.0 - h * h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h.T @ da, da.sum(axis=0)
""",
        "averages db over the batch": """
def rnn_step_backward(dh, cache):
    x, h_prev, Wx, Wh, h = cache
    da = dh * (1.0 - h * h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.mean(axis=0)
""",
    },
    "clip_grad_norm": {
        "clips each element instead of the global norm": """
def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    return [np.clip(g, -max_norm, max_norm) for g in grads], total
""",
        "one norm per array": """
def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    return [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads], total
""",
        "always rescales to max_norm, even below it": """
def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    return [g * (max_norm / (total + 1e-6)) for g in grads], total
""",
        "clips in place": """
def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    scale = min(1.0, max_norm / (total + 1e-6))
    for g in grads:
        g *= scale
    return grads, total
""",
    },
    "lstm_step_forward": {
        "gates read in the order i, f, o, g": """
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))
    i, f = sig(a[:, :H]), sig(a[:, H:2 * H])
    o, g = sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    return h, c, (x, h_prev, c_prev, Wx, Wh, np.concatenate([i, f, g, o], axis=1), tanh_c)
""",
        "the cell state is not carried": """
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))
    i, f = sig(a[:, :H]), sig(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
    c = i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    return h, c, (x, h_prev, c_prev, Wx, Wh, np.concatenate([i, f, g, o], axis=1), tanh_c)
""",
        "h = o * c (no tanh on the cell)": """
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))
    i, f = sig(a[:, :H]), sig(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * c
    return h, c, (x, h_prev, c_prev, Wx, Wh, np.concatenate([i, f, g, o], axis=1), tanh_c)
""",
    },
    "lstm_step_backward": {
        "forgets the tanh derivative on the path h -> c": """
def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, Wx, Wh, gates, tanh_c = cache
    H = h_prev.shape[1]
    i, f, g, o = (gates[:, k * H:(k + 1) * H] for k in range(4))
    dc_total = dc + dh * o
    da = np.concatenate([dc_total * g * i * (1 - i), dc_total * c_prev * f * (1 - f),
                         dc_total * i * (1 - g ** 2), dh * tanh_c * o * (1 - o)], axis=1)
    return (da @ Wx.T, da @ Wh.T, dc_total * f, x.T @ da, h_prev.T @ da, da.sum(axis=0))
""",
        "dc_prev not multiplied by the forget gate": """
def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, Wx, Wh, gates, tanh_c = cache
    H = h_prev.shape[1]
    i, f, g, o = (gates[:, k * H:(k + 1) * H] for k in range(4))
    dc_total = dc + dh * o * (1.0 - tanh_c ** 2)
    da = np.concatenate([dc_total * g * i * (1 - i), dc_total * c_prev * f * (1 - f),
                         dc_total * i * (1 - g ** 2), dh * tanh_c * o * (1 - o)], axis=1)
    return (da @ Wx.T, da @ Wh.T, dc_total, x.T @ da, h_prev.T @ da, da.sum(axis=0))
""",
        "ignores the incoming cell gradient dc": """
def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, Wx, Wh, gates, tanh_c = cache
    H = h_prev.shape[1]
    i, f, g, o = (gates[:, k * H:(k + 1) * H] for k in range(4))
    dc_total = dh * o * (1.0 - tanh_c ** 2)
    da = np.concatenate([dc_total * g * i * (1 - i), dc_total * c_prev * f * (1 - f),
                         dc_total * i * (1 - g ** 2), dh * tanh_c * o * (1 - o)], axis=1)
    return (da @ Wx.T, da @ Wh.T, dc_total * f, x.T @ da, h_prev.T @ da, da.sum(axis=0))
""",
    },
    "gru_step_forward": {
        "hidden bias of the candidate outside r * (...)": """
def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    ax, ah = x @ Wx + bx, h_prev @ Wh
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))
    r = sig(ax[:, :H] + ah[:, :H] + bh[:H])
    z = sig(ax[:, H:2 * H] + ah[:, H:2 * H] + bh[H:2 * H])
    n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:] + bh[2 * H:])
    return (1.0 - z) * n + z * h_prev, None
""",
        "z and 1 - z swapped": """
def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    ax, ah = x @ Wx + bx, h_prev @ Wh + bh
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))
    r = sig(ax[:, :H] + ah[:, :H])
    z = sig(ax[:, H:2 * H] + ah[:, H:2 * H])
    n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
    return z * n + (1.0 - z) * h_prev, None
""",
        "gates in the order z, r, n": """
def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    ax, ah = x @ Wx + bx, h_prev @ Wh + bh
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))
    z = sig(ax[:, :H] + ah[:, :H])
    r = sig(ax[:, H:2 * H] + ah[:, H:2 * H])
    n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
    return (1.0 - z) * n + z * h_prev, None
""",
    },
    "sample": {
        "multiplies by the temperature": """
def sample(logits, temperature=1.0, rng=None):
    z = np.asarray(logits, dtype=float) * temperature
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    cdf = np.cumsum(p, axis=-1)
    u = rng.random(z.shape[:-1]) * cdf[..., -1]
    ids = np.minimum((cdf <= u[..., None]).sum(axis=-1), z.shape[-1] - 1)
    return int(ids) if z.ndim == 1 else ids
""",
        "draws from np.random instead of rng": """
def sample(logits, temperature=1.0, rng=None):
    z = np.asarray(logits, dtype=float) / temperature
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    cdf = np.cumsum(p, axis=-1)
    u = np.random.random(z.shape[:-1]) * cdf[..., -1]
    ids = np.minimum((cdf <= u[..., None]).sum(axis=-1), z.shape[-1] - 1)
    return int(ids) if z.ndim == 1 else ids
""",
        "greedy: always the argmax": """
def sample(logits, temperature=1.0, rng=None):
    z = np.asarray(logits, dtype=float)
    rng.random()
    return np.argmax(z, axis=-1)
""",
        "normalises over the batch axis": """
def sample(logits, temperature=1.0, rng=None):
    z = np.asarray(logits, dtype=float) / temperature
    p = np.exp(z - z.max())
    p = p / p.sum(axis=0, keepdims=True) if z.ndim == 2 else p / p.sum()
    cdf = np.cumsum(p, axis=-1)
    u = rng.random(z.shape[:-1]) * cdf[..., -1]
    ids = np.minimum((cdf <= u[..., None]).sum(axis=-1), z.shape[-1] - 1)
    return int(ids) if z.ndim == 1 else ids
""",
    },
}
