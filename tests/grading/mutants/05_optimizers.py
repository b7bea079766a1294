"""Plausible wrong answers for unit 05; each must lose its own exercise's points, only those."""

MUTANTS = {
    "sgd_momentum_update": {
        "averaging form: (1 - mu) * g instead of g": """
def sgd_momentum_update(param, grad, state, hp, step):
    velocity = hp.momentum * state.velocity + (1 - hp.momentum) * grad
    return param - hp.lr * velocity, SGDState(velocity)
""",
        "returns the old state": """
def sgd_momentum_update(param, grad, state, hp, step):
    velocity = hp.momentum * state.velocity + grad
    return param - hp.lr * velocity, state
""",
        "updates the velocity in place": """
def sgd_momentum_update(param, grad, state, hp, step):
    v = state.velocity
    v *= hp.momentum
    v += grad
    return param - hp.lr * v, SGDState(v)
""",
        "the cs231n convention: v = mu v - lr g, w += v": """
def sgd_momentum_update(param, grad, state, hp, step):
    velocity = hp.momentum * state.velocity - hp.lr * grad
    return param + velocity, SGDState(velocity)
""",
        "lr folded into the velocity": """
def sgd_momentum_update(param, grad, state, hp, step):
    velocity = hp.momentum * state.velocity + hp.lr * grad
    return param - velocity, SGDState(velocity)
""",
    },
    "nesterov_update": {
        "plain heavy-ball momentum (no look-ahead)": """
def nesterov_update(param, grad, state, hp, step):
    velocity = hp.momentum * state.velocity + grad
    return param - hp.lr * velocity, SGDState(velocity)
""",
        "look-ahead with the old velocity": """
def nesterov_update(param, grad, state, hp, step):
    velocity = hp.momentum * state.velocity + grad
    return param - hp.lr * (grad + hp.momentum * state.velocity), SGDState(velocity)
""",
        "stores the look-ahead as the velocity": """
def nesterov_update(param, grad, state, hp, step):
    velocity = hp.momentum * state.velocity + grad
    lookahead = grad + hp.momentum * velocity
    return param - hp.lr * lookahead, SGDState(lookahead)
""",
    },
    "rmsprop_update": {
        "eps inside the square root": """
def rmsprop_update(param, grad, state, hp, step):
    square_avg = hp.alpha * state.square_avg + (1 - hp.alpha) * grad**2
    return param - hp.lr * grad / np.sqrt(square_avg + hp.eps), RMSPropState(square_avg)
""",
        "no square root": """
def rmsprop_update(param, grad, state, hp, step):
    square_avg = hp.alpha * state.square_avg + (1 - hp.alpha) * grad**2
    return param - hp.lr * grad / (square_avg + hp.eps), RMSPropState(square_avg)
""",
        "alpha and 1 - alpha swapped": """
def rmsprop_update(param, grad, state, hp, step):
    square_avg = (1 - hp.alpha) * state.square_avg + hp.alpha * grad**2
    return param - hp.lr * grad / (np.sqrt(square_avg) + hp.eps), RMSPropState(square_avg)
""",
        "AdaGrad's sum instead of a leaky average": """
def rmsprop_update(param, grad, state, hp, step):
    square_avg = state.square_avg + grad**2
    return param - hp.lr * grad / (np.sqrt(square_avg) + hp.eps), RMSPropState(square_avg)
""",
    },
    "adam_update": {
        "no bias correction": """
def adam_update(param, grad, state, hp, step):
    m = hp.beta1 * state.m + (1 - hp.beta1) * grad
    v = hp.beta2 * state.v + (1 - hp.beta2) * grad**2
    return param - hp.lr * m / (np.sqrt(v) + hp.eps), AdamState(m, v)
""",
        "eps inside the square root": """
def adam_update(param, grad, state, hp, step):
    m = hp.beta1 * state.m + (1 - hp.beta1) * grad
    v = hp.beta2 * state.v + (1 - hp.beta2) * grad**2
    m_hat = m / (1 - hp.beta1**step)
    v_hat = v / (1 - hp.beta2**step)
    return param - hp.lr * m_hat / np.sqrt(v_hat + hp.eps), AdamState(m, v)
""",
        "bias correction with step + 1": """
def adam_update(param, grad, state, hp, step):
    m = hp.beta1 * state.m + (1 - hp.beta1) * grad
    v = hp.beta2 * state.v + (1 - hp.beta2) * grad**2
    m_hat = m / (1 - hp.beta1 ** (step + 1))
    v_hat = v / (1 - hp.beta2 ** (step + 1))
    return param - hp.lr * m_hat / (np.sqrt(v_hat) + hp.eps), AdamState(m, v)
""",
        "no eps: 0 / 0 for a zero gradient": """
def adam_update(param, grad, state, hp, step):
    m = hp.beta1 * state.m + (1 - hp.beta1) * grad
    v = hp.beta2 * state.v + (1 - hp.beta2) * grad**2
    m_hat = m / (1 - hp.beta1**step)
    v_hat = v / (1 - hp.beta2**step)
    return param - hp.lr * m_hat / np.sqrt(v_hat), AdamState(m, v)
""",
        "only the first moment corrected": """
def adam_update(param, grad, state, hp, step):
    m = hp.beta1 * state.m + (1 - hp.beta1) * grad
    v = hp.beta2 * state.v + (1 - hp.beta2) * grad**2
    m_hat = m / (1 - hp.beta1**step)
    return param - hp.lr * m_hat / (np.sqrt(v) + hp.eps), AdamState(m, v)
""",
        "the corrected moments stored in the state": """
def adam_update(param, grad, state, hp, step):
    m = hp.beta1 * state.m + (1 - hp.beta1) * grad
    v = hp.beta2 * state.v + (1 - hp.beta2) * grad**2
    m_hat = m / (1 - hp.beta1**step)
    v_hat = v / (1 - hp.beta2**step)
    return param - hp.lr * m_hat / (np.sqrt(v_hat) + hp.eps), AdamState(m_hat, v_hat)
""",
    },
    "adamw_update": {
        "L2 penalty added to the gradient (Adam, not AdamW)": """
def adamw_update(param, grad, state, hp, step):
    return adam_update(param, grad + hp.weight_decay * param, state, hp, step)
""",
        "decay after the Adam step": """
def adamw_update(param, grad, state, hp, step):
    new_param, new_state = adam_update(param, grad, state, hp, step)
    return new_param * (1 - hp.lr * hp.weight_decay), new_state
""",
        "decay factor without the learning rate": """
def adamw_update(param, grad, state, hp, step):
    return adam_update(param * (1 - hp.weight_decay), grad, state, hp, step)
""",
    },
    "cosine_schedule": {
        "no (1 + cos) / 2": """
import math


def cosine_schedule(step, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * math.cos(math.pi * step / T_max)
""",
        "eta_min added but not subtracted from base_lr": """
import math


def cosine_schedule(step, base_lr, T_max, eta_min=0.0):
    return eta_min + base_lr * (1 + math.cos(math.pi * step / T_max)) / 2
""",
        "a full cosine period (2 pi)": """
import math


def cosine_schedule(step, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(2 * math.pi * step / T_max)) / 2
""",
    },
}
