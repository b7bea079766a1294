"""Wrong answers a student is likely to write for unit 09, and the hint each must get."""

CASES = {
    "embedding_backward": [
        (
            "fancy-index += drops repeated ids",
            """
def embedding_backward(dout, cache):
    ids, W = cache
    dW = np.zeros_like(W)
    dW[ids.reshape(-1)] += dout.reshape(-1, W.shape[1])
    return dW
""",
            "np.add.at",
        ),
        (
            "not written yet",
            """
def embedding_backward(dout, cache):
    raise NotImplementedError()
""",
            "not written yet",
        ),
    ],
    "rnn_step_forward": [
        (
            "forgets the tanh",
            """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h = x @ Wx + h_prev @ Wh + b
    return h, (x, h_prev, Wx, Wh, h)
""",
            "left out the tanh",
        ),
        (
            "Wh transposed",
            """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h = np.tanh(x @ Wx + h_prev @ Wh.T + b)
    return h, (x, h_prev, Wx, Wh, h)
""",
            "Wh.T",
        ),
    ],
    "rnn_step_backward": [
        (
            "forgets the tanh derivative",
            """
def rnn_step_backward(dh, cache):
    x, h_prev, Wx, Wh, h = cache
    da = dh
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)
""",
            "tanh derivative",
        ),
    ],
    "clip_grad_norm": [
        (
            "subtracts the 1e-6",
            """
def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    scale = min(1.0, max_norm / (total - 1e-6))
    return [g * scale for g in grads], total
""",
            "ADDED to the norm",
        ),
        (
            "clips each element",
            """
def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    return [np.clip(g, -max_norm, max_norm) for g in grads], total
""",
            "changes the direction",
        ),
    ],
    "gru_step_forward": [
        (
            "caches the whole hidden product instead of its candidate part",
            """
def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    ax, ah = x @ Wx + bx, h_prev @ Wh + bh
    r = sig(ax[:, :H] + ah[:, :H])
    z = sig(ax[:, H:2 * H] + ah[:, H:2 * H])
    n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
    return (1 - z) * n + z * h_prev, (x, h_prev, Wx, Wh, r, z, n, ah)
""",
            "cache[7]",
        ),
        (
            "z and 1 - z swapped",
            """
def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    gx, gh = x @ Wx + bx, h_prev @ Wh + bh
    r = sig(gx[:, :H] + gh[:, :H])
    z = sig(gx[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    h = z * n + (1 - z) * h_prev
    return h, (x, h_prev, Wx, Wh, r, z, n)
""",
            "swapped",
        ),
    ],
    "sample": [
        (
            "subtracts the minimum",
            """
def sample(logits, temperature, rng):
    z = np.asarray(logits, float) / temperature
    p = np.exp(z - z.min(axis=-1, keepdims=True))
    cdf = np.cumsum(p, axis=-1)
    u = rng.random(z.shape[:-1]) * cdf[..., -1]
    ids = np.minimum((cdf <= u[..., None]).sum(axis=-1), z.shape[-1] - 1)
    return int(ids) if z.ndim == 1 else ids
""",
            "MAXIMUM",
        ),
        (
            "multiplies by the temperature",
            """
def sample(logits, temperature, rng):
    z = np.asarray(logits, float) * temperature
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    if p.ndim == 1:
        return int(rng.choice(p.shape[0], p=p))
    u = rng.random((p.shape[0], 1))
    return (np.cumsum(p, axis=1) < u).sum(axis=1)
""",
            "instead of dividing",
        ),
    ],
}
