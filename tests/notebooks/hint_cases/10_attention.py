"""Wrong answers a student is likely to write for unit 10, and the hint each must get."""

_SDPA = """
def scaled_dot_product_attention(q, k, v, mask=None):
    d = q.shape[-1]
    scores = {scores}
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis={axis}, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis={axis}, keepdims=True)
    return weights @ v, (q, k, v, weights)
"""

CASES = {
    "causal_mask": [
        (
            "the upper triangle",
            """
def causal_mask(T):
    return np.triu(np.ones((T, T), dtype=bool))
""",
            "upper triangle",
        ),
        (
            "the diagonal left out",
            """
def causal_mask(T):
    return np.tril(np.ones((T, T), dtype=bool), -1)
""",
            "diagonal is missing",
        ),
    ],
    "scaled_dot_product_attention": [
        (
            "the softmax over axis 1 (right only for 2-D inputs)",
            _SDPA.format(scores="q @ np.swapaxes(k, -1, -2) / d ** 0.5", axis=1),
            "count from the end",
        ),
        (
            "no 1/sqrt(d)",
            _SDPA.format(scores="q @ np.swapaxes(k, -1, -2)", axis=-1),
            "forgot to divide the scores by sqrt(d)",
        ),
        (
            "divides by d",
            _SDPA.format(scores="q @ np.swapaxes(k, -1, -2) / d", axis=-1),
            "instead of sqrt(d)",
        ),
        (
            "softmax over the queries",
            _SDPA.format(scores="q @ np.swapaxes(k, -1, -2) / d ** 0.5", axis=-2),
            "wrong axis",
        ),
        (
            "the mask applied after the softmax",
            """
def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / q.shape[-1] ** 0.5
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    if mask is not None:
        weights = weights * mask
    return weights @ v, (q, k, v, weights)
""",
            "AFTER the softmax",
        ),
    ],
    "scaled_dot_product_attention_backward": [
        (
            "the row sum over axis 1 (right only for 2-D inputs)",
            """
def scaled_dot_product_attention_backward(dout, cache):
    q, k, v, weights = cache
    scale = q.shape[-1] ** -0.5
    dv = np.swapaxes(weights, -1, -2) @ dout
    dw = dout @ np.swapaxes(v, -1, -2)
    ds = weights * (dw - np.sum(dw * weights, axis=1, keepdims=True))
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, dv
""",
            "count from the end",
        ),
        (
            "the scale forgotten",
            """
def scaled_dot_product_attention_backward(dout, cache):
    q, k, v, weights = cache
    dv = np.swapaxes(weights, -1, -2) @ dout
    dw = dout @ np.swapaxes(v, -1, -2)
    ds = weights * (dw - np.sum(dw * weights, axis=-1, keepdims=True))
    return ds @ k, np.swapaxes(ds, -1, -2) @ q, dv
""",
            "1/sqrt(d) is missing",
        ),
    ],
    "positional_encoding": [
        (
            "sin and cos swapped",
            """
def positional_encoding(T, d):
    pos = np.arange(T)[:, None]
    freq = 10000.0 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.cos(pos / freq)
    pe[:, 1::2] = np.sin(pos / freq)
    return pe
""",
            "swapped",
        ),
    ],
}
