"""Wrong answers a student is likely to write for unit 05, and the hint each must get."""

CASES = {
    "sgd_momentum_update": [
        (
            "the cs231n convention: v = mu v - lr g, w += v",
            """
def sgd_momentum_update(param, grad, state, hp, step):
    velocity = hp.momentum * state.velocity - hp.lr * grad
    return param + velocity, SGDState(velocity)
""",
            "torch's convention",
        ),
    ],
    "adam_update": [
        (
            "bias correction with step + 1",
            """
def adam_update(param, grad, state, hp, step):
    m = hp.beta1 * state.m + (1 - hp.beta1) * grad
    v = hp.beta2 * state.v + (1 - hp.beta2) * grad**2
    m_hat = m / (1 - hp.beta1 ** (step + 1))
    v_hat = v / (1 - hp.beta2 ** (step + 1))
    return param - hp.lr * m_hat / (np.sqrt(v_hat) + hp.eps), AdamState(m, v)
""",
            "counts from 1",
        ),
        (
            "eps inside the square root",
            """
def adam_update(param, grad, state, hp, step):
    m = hp.beta1 * state.m + (1 - hp.beta1) * grad
    v = hp.beta2 * state.v + (1 - hp.beta2) * grad**2
    m_hat = m / (1 - hp.beta1**step)
    v_hat = v / (1 - hp.beta2**step)
    return param - hp.lr * m_hat / np.sqrt(v_hat + hp.eps), AdamState(m, v)
""",
            "outside the square root",
        ),
        (
            "no eps at all",
            """
def adam_update(param, grad, state, hp, step):
    m = hp.beta1 * state.m + (1 - hp.beta1) * grad
    v = hp.beta2 * state.v + (1 - hp.beta2) * grad**2
    m_hat = m / (1 - hp.beta1**step)
    v_hat = v / (1 - hp.beta2**step)
    return param - hp.lr * m_hat / np.sqrt(v_hat), AdamState(m, v)
""",
            "hp.eps",
        ),
    ],
}
