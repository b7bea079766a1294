"""Wrong answers a student is likely to write for unit 02_mlp, and the hint each must get."""

CASES = {
    # answer cell grade_id -> list of (description, full answer-cell source, hint substring)
    "softmax": [
        (
            "no keepdims in the max or the sum",
            """
def softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis)
""",
            "keepdims",
        ),
        (
            "no keepdims in the max only",
            """
def softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)
""",
            "keepdims",
        ),
        (
            "no keepdims in the sum only",
            """
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis)
""",
            "keepdims",
        ),
        (
            "shifted by the minimum",
            """
def softmax(x, axis=-1):
    e = np.exp(x - np.min(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
""",
            "must be the MAXIMUM",
        ),
        (
            "shifted by the mean",
            """
def softmax(x, axis=-1):
    e = np.exp(x - np.mean(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
""",
            "must be the MAXIMUM",
        ),
        (
            "one maximum of the whole array (no axis)",
            """
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x))
    return e / np.sum(e, axis=axis, keepdims=True)
""",
            "each row needs its own maximum",
        ),
        (
            "no shift at all",
            """
def softmax(x, axis=-1):
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)
""",
            "exp(1000) overflows",
        ),
    ],
}
