"""Plausible wrong answers for unit 02; each must lose its own exercise's points, only those."""

_MLP_HEAD = """
def mlp_forward(x, params, activation="relu"):
    if isinstance(activation, str):
        activation = {"relu": relu, "leaky_relu": F.leaky_relu, "sigmoid": F.sigmoid,
                      "tanh": F.tanh, "gelu": F.gelu, "identity": lambda z: z}[activation]
"""

MUTANTS = {
    "affine_forward": {
        "weights transposed (x @ w.T)": """
def affine_forward(x, w, b):
    out = x @ w.T + b
    return out, (x, w)
""",
        "no cache returned": """
def affine_forward(x, w, b):
    return x @ w + b
""",
        "bias forgotten": """
def affine_forward(x, w, b):
    out = np.dot(x, w)
    return out, (x, w)
""",
        "sum of the biases added to every entry": """
def affine_forward(x, w, b):
    out = x @ w + np.sum(b)
    return out, (x, w)
""",
        "bias broadcast as a column (b[:, None])": """
def affine_forward(x, w, b):
    out = x @ w + b[:, None]
    return out, (x, w)
""",
    },
    "relu": {
        "modifies x in place": """
def relu(x):
    x[x < 0] = 0
    return x
""",
        "returns the step function (the derivative)": """
def relu(x):
    return (x > 0).astype(x.dtype)
""",
        "clipped to [0, 1]": """
def relu(x):
    return np.clip(x, 0, 1)
""",
    },
    "relu_backward": {
        "gradient passed where x < 0": """
def relu_backward(dout, x):
    return np.where(x < 0, dout, 0.0)
""",
        "mask without the upstream gradient": """
def relu_backward(dout, x):
    return (x > 0).astype(float)
""",
        "tests the output's sign: relu(x) >= 0 is always true": """
def relu_backward(dout, x):
    return np.where(relu(x) >= 0, dout, 0.0)
""",
        "x >= 0 lets the gradient through at the kink": """
def relu_backward(dout, x):
    return dout * (x >= 0)
""",
        "zeroes dout in place": """
def relu_backward(dout, x):
    dout[x <= 0] = 0
    return dout
""",
    },
    "tanh_backward": {
        "1 - x**2 with the input instead of tanh(x)": """
def tanh_backward(dout, x):
    return dout * (1 - x ** 2)
""",
        "forgets the upstream gradient": """
def tanh_backward(dout, x):
    return 1 - np.tanh(x) ** 2
""",
        "brackets: (1 - tanh)**2": """
def tanh_backward(dout, x):
    return dout * (1 - np.tanh(x)) ** 2
""",
        "sech instead of sech squared": """
def tanh_backward(dout, x):
    return dout / np.cosh(x)
""",
    },
    "softmax": {
        "shift by the minimum (overflows when scores spread widely)": """
def softmax(x, axis=-1):
    e = np.exp(x - np.min(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
""",
        "no keepdims (fails to broadcast, or broadcasts along the wrong axis)": """
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis))
    return e / np.sum(e, axis=axis)
""",
        "no max shift (overflows to nan at 1e4)": """
def softmax(x, axis=-1):
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)
""",
        "always over axis 0": """
def softmax(x, axis=-1):
    shifted = x - np.max(x, axis=0, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=0, keepdims=True)
""",
        "shift by the global maximum (rows on other scales underflow)": """
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x))
    return e / np.sum(e, axis=axis, keepdims=True)
""",
        "shifts x in place": """
def softmax(x, axis=-1):
    x -= np.max(x, axis=axis, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)
""",
        "normalises by the sum of the whole array": """
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e)
""",
    },
    "he_init": {
        "std sqrt(1 / fan_in)": """
def he_init(fan_in, fan_out, *, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(1.0 / fan_in)
""",
        "std from fan_out": """
def he_init(fan_in, fan_out, *, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_out)
""",
        "variance used as the standard deviation": """
def he_init(fan_in, fan_out, *, rng):
    return rng.normal(0.0, 2.0 / fan_in, size=(fan_in, fan_out))
""",
        "a new generator inside instead of rng": """
def he_init(fan_in, fan_out, *, rng):
    own = np.random.default_rng(0)
    return own.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
""",
        "transposed draw": """
def he_init(fan_in, fan_out, *, rng):
    return rng.standard_normal((fan_out, fan_in)).T * np.sqrt(2.0 / fan_in)
""",
    },
    "mlp_forward": {
        "activation after the last layer too": _MLP_HEAD
        + """
    h = x
    for w, b in params:
        h = activation(affine_forward(h, w, b)[0])
    return h
""",
        "no activation at all": _MLP_HEAD
        + """
    h = x
    for w, b in params:
        h, _ = affine_forward(h, w, b)
    return h
""",
        "activation before each layer instead of after": _MLP_HEAD
        + """
    h = x
    for w, b in params:
        h, _ = affine_forward(activation(h), w, b)
    return h
""",
        "always relu, ignoring the activation argument": _MLP_HEAD
        + """
    h = x
    for w, b in params[:-1]:
        h = relu(affine_forward(h, w, b)[0])
    w, b = params[-1]
    return affine_forward(h, w, b)[0]
""",
        "forgets the output layer": _MLP_HEAD
        + """
    h = x
    for w, b in params[:-1]:
        h = activation(affine_forward(h, w, b)[0])
    return h
""",
    },
}
