"""Plausible wrong answers for unit 10; each must lose its own exercise's points, only those."""

_SDPA_HEAD = """
def scaled_dot_product_attention(q, k, v, mask=None):
    d = q.shape[-1]
"""

_SDPA_SOFTMAX = """
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v, (q, k, v, weights)
"""

_BACKWARD_HEAD = """
def scaled_dot_product_attention_backward(dout, cache):
    q, k, v, weights = cache
    scale = q.shape[-1] ** -0.5
    dv = np.swapaxes(weights, -1, -2) @ dout
    dw = dout @ np.swapaxes(v, -1, -2)
"""

_MHA = """
def multi_head_attention(x, Wq, Wk, Wv, Wo, num_heads, mask=None):
    N, T, E = x.shape
    dh = E // num_heads
{split}
    heads, _ = scaled_dot_product_attention(split(x @ Wq), split(x @ Wk), split(x @ Wv), {mask})
    merged = heads.transpose(0, 2, 1, 3).reshape(N, T, E)
    return merged{proj}
"""

_RIGHT_SPLIT = """    def split(a):
        return a.reshape(N, T, num_heads, dh).transpose(0, 2, 1, 3)"""

_BLOCK = """
def transformer_block_forward(x, params, num_heads, mask=None):
    p = params
{body}
"""

MUTANTS = {
    "causal_mask": {
        "upper triangle": """
def causal_mask(T):
    return np.triu(np.ones((T, T), dtype=bool))
""",
        "without the diagonal (j < i)": """
def causal_mask(T):
    return np.tril(np.ones((T, T), dtype=bool), -1)
""",
    },
    "scaled_dot_product_attention": {
        "forgets the 1/sqrt(d)": _SDPA_HEAD
        + "    scores = q @ np.swapaxes(k, -1, -2)\n"
        + _SDPA_SOFTMAX,
        "divides by d": _SDPA_HEAD
        + "    scores = q @ np.swapaxes(k, -1, -2) / d\n"
        + _SDPA_SOFTMAX,
        "softmax over the queries": _SDPA_HEAD
        + """    scores = q @ np.swapaxes(k, -1, -2) / d ** 0.5
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis=-2, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-2, keepdims=True)
    return weights @ v, (q, k, v, weights)
""",
        "masks after the softmax": _SDPA_HEAD
        + """    scores = q @ np.swapaxes(k, -1, -2) / d ** 0.5
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    if mask is not None:
        weights = weights * mask
    return weights @ v, (q, k, v, weights)
""",
        "no max subtraction (overflows)": _SDPA_HEAD
        + """    scores = q @ np.swapaxes(k, -1, -2) / d ** 0.5
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v, (q, k, v, weights)
""",
    },
    "scaled_dot_product_attention_backward": {
        "forgets the scale": _BACKWARD_HEAD
        + """    ds = weights * (dw - np.sum(dw * weights, axis=-1, keepdims=True))
    return ds @ k, np.swapaxes(ds, -1, -2) @ q, dv
""",
        "softmax backward without the row sum": _BACKWARD_HEAD
        + """    ds = weights * dw
    return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, dv
""",
        "dk without transposing dS": _BACKWARD_HEAD
        + """    ds = weights * (dw - np.sum(dw * weights, axis=-1, keepdims=True))
    return ds @ k * scale, ds @ q * scale, dv
""",
    },
    "positional_encoding": {
        "sin and cos swapped": """
def positional_encoding(T, d):
    pos = np.arange(T)[:, None]
    freq = 10000.0 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.cos(pos / freq)
    pe[:, 1::2] = np.sin(pos / freq)
    return pe
""",
        "exponent i/d instead of 2i/d": """
def positional_encoding(T, d):
    pos = np.arange(T)[:, None]
    freq = 10000.0 ** (np.arange(d // 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(pos / freq)
    pe[:, 1::2] = np.cos(pos / freq)
    return pe
""",
        "multiplies by the frequency instead of dividing": """
def positional_encoding(T, d):
    pos = np.arange(T)[:, None]
    freq = 10000.0 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.sin(pos * freq)
    pe[:, 1::2] = np.cos(pos * freq)
    return pe
""",
    },
    "multi_head_attention": {
        "splits the heads along the wrong axis": _MHA.format(
            split="""    def split(a):
        return a.reshape(N, num_heads, T, dh)""",
            mask="mask",
            proj=" @ Wo",
        ),
        "forgets the output projection": _MHA.format(split=_RIGHT_SPLIT, mask="mask", proj=""),
        "drops the mask": _MHA.format(split=_RIGHT_SPLIT, mask="None", proj=" @ Wo"),
    },
    "transformer_block_forward": {
        "post-norm": _BLOCK.format(
            body="""    W = (p["Wq"], p["Wk"], p["Wv"], p["Wo"])
    h = x + multi_head_attention(x, *W, num_heads, mask)
    h = F.layernorm_forward(h, p["ln1_gamma"], p["ln1_beta"])[0]
    out = h + F.gelu(h @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    return F.layernorm_forward(out, p["ln2_gamma"], p["ln2_beta"])[0]"""
        ),
        "ReLU instead of GELU": _BLOCK.format(
            body="""    a = F.layernorm_forward(x, p["ln1_gamma"], p["ln1_beta"])[0]
    h = x + multi_head_attention(a, p["Wq"], p["Wk"], p["Wv"], p["Wo"], num_heads, mask)
    m = F.layernorm_forward(h, p["ln2_gamma"], p["ln2_beta"])[0]
    return h + np.maximum(m @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]"""
        ),
        "no residual around the attention": _BLOCK.format(
            body="""    a = F.layernorm_forward(x, p["ln1_gamma"], p["ln1_beta"])[0]
    h = multi_head_attention(a, p["Wq"], p["Wk"], p["Wv"], p["Wo"], num_heads, mask)
    m = F.layernorm_forward(h, p["ln2_gamma"], p["ln2_beta"])[0]
    return h + F.gelu(m @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]"""
        ),
    },
}
