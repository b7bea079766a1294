"""Plausible wrong answers for unit 11; each must lose its own exercise's points, only those."""

_STEP_HEAD = """
def ae_train_step(params, x, target, lr):
    n = x.shape[0]
    h = np.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
"""

_STEP_BACK = """
    dh = dlogits @ params["W2"].T
    da = dh * (1 - h ** 2)
    grads = {"W1": x.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}
"""

_STEP_UPDATE = """
    for name, grad in grads.items():
        params[name] -= lr * grad
    return float(loss)
"""

_LOSS = "    loss = np.sum(np.logaddexp(0, logits) - target * logits) / n\n"
_DLOGITS = "    dlogits = (F.sigmoid(logits) - target) / n\n"

_REPARAM_BACKWARD = """

def reparameterize_backward(dz, cache):
    std, eps = cache
    return dz, 0.5 * dz * eps * std
"""

_REPARAM_FORWARD = """
def reparameterize(mu, log_var, rng):
    eps = rng.standard_normal(mu.shape)
    std = np.exp(0.5 * log_var)
    return mu + std * eps, (std, eps)
"""

_KL_HEAD = """
def kl_divergence(mu, log_var):
    n = mu.shape[0]
    var = np.exp(log_var)
"""

_VAE_HEAD = """
def vae_loss(logits, x, mu, log_var, beta=1.0):
    n = x.shape[0]
"""

MUTANTS = {
    "ae_train_step": {
        "target ignored (reconstructs x)": _STEP_HEAD
        + _LOSS.replace("target", "x")
        + _DLOGITS.replace("target", "x")
        + _STEP_BACK
        + _STEP_UPDATE,
        "gradient ascent": _STEP_HEAD
        + _LOSS
        + _DLOGITS
        + _STEP_BACK
        + _STEP_UPDATE.replace("-= lr", "+= lr"),
        "forgets the tanh derivative": _STEP_HEAD
        + _LOSS
        + _DLOGITS
        + _STEP_BACK.replace("dh * (1 - h ** 2)", "dh")
        + _STEP_UPDATE,
        "loss averaged over the pixels too": _STEP_HEAD
        + _LOSS.replace("/ n", "/ logits.size")
        + _DLOGITS
        + _STEP_BACK
        + _STEP_UPDATE,
        "returns the loss after the update": _STEP_HEAD
        + _LOSS
        + _DLOGITS
        + _STEP_BACK
        + """
    for name, grad in grads.items():
        params[name] -= lr * grad
    h = np.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    return float(np.sum(np.logaddexp(0, logits) - target * logits) / n)
""",
        "gradient without 1/N": _STEP_HEAD
        + _LOSS
        + _DLOGITS.replace(" / n", "")
        + _STEP_BACK
        + _STEP_UPDATE,
    },
    "reparameterize": {
        "std = exp(log_var), the variance": """
def reparameterize(mu, log_var, rng):
    eps = rng.standard_normal(mu.shape)
    std = np.exp(log_var)
    return mu + std * eps, (std, eps)
"""
        + _REPARAM_BACKWARD,
        "log-variance used as the standard deviation": """
def reparameterize(mu, log_var, rng):
    eps = rng.standard_normal(mu.shape)
    return mu + log_var * eps, (np.exp(0.5 * log_var), eps)
"""
        + _REPARAM_BACKWARD,
        "noise from the global np.random": """
def reparameterize(mu, log_var, rng):
    eps = np.random.standard_normal(mu.shape)
    std = np.exp(0.5 * log_var)
    return mu + std * eps, (std, eps)
"""
        + _REPARAM_BACKWARD,
        "backward blocks the gradient of log_var": _REPARAM_FORWARD
        + """

def reparameterize_backward(dz, cache):
    return dz, np.zeros_like(dz)
""",
        "backward forgets the 1/2": _REPARAM_FORWARD
        + """

def reparameterize_backward(dz, cache):
    std, eps = cache
    return dz, dz * eps * std
""",
        "backward stops at std (dz * eps)": _REPARAM_FORWARD
        + """

def reparameterize_backward(dz, cache):
    std, eps = cache
    return dz, dz * eps
""",
    },
    "kl_divergence": {
        "sign flipped": _KL_HEAD
        + """
    kl = 0.5 * np.sum(1 + log_var - mu ** 2 - var) / n
    return kl, (-mu / n, -0.5 * (var - 1) / n)
""",
        "log-variance treated as the variance": """
def kl_divergence(mu, log_var):
    n = mu.shape[0]
    kl = -0.5 * np.sum(1 + log_var - mu ** 2 - log_var) / n
    return kl, (mu / n, np.zeros_like(log_var))
""",
        "summed over the batch": _KL_HEAD
        + """
    kl = -0.5 * np.sum(1 + log_var - mu ** 2 - var)
    return kl, (mu, 0.5 * (var - 1))
""",
        "mean over the latent dimensions too": _KL_HEAD
        + """
    kl = -0.5 * np.mean(1 + log_var - mu ** 2 - var)
    return kl, (mu / mu.size, 0.5 * (var - 1) / mu.size)
""",
        "gradient of log_var without the 1/2": _KL_HEAD
        + """
    kl = -0.5 * np.sum(1 + log_var - mu ** 2 - var) / n
    return kl, (mu / n, (var - 1) / n)
""",
    },
    "vae_loss": {
        "KL subtracted": _VAE_HEAD
        + """
    rec = np.sum(np.logaddexp(0, logits) - x * logits) / n
    kl, (dmu, dlog_var) = kl_divergence(mu, log_var)
    return rec - beta * kl, ((F.sigmoid(logits) - x) / n, -beta * dmu, -beta * dlog_var)
""",
        "beta ignored": _VAE_HEAD
        + """
    rec = np.sum(np.logaddexp(0, logits) - x * logits) / n
    kl, (dmu, dlog_var) = kl_divergence(mu, log_var)
    return rec + kl, ((F.sigmoid(logits) - x) / n, dmu, dlog_var)
""",
        "reconstruction averaged over the pixels": _VAE_HEAD
        + """
    rec = np.mean(np.logaddexp(0, logits) - x * logits)
    kl, (dmu, dlog_var) = kl_divergence(mu, log_var)
    return rec + beta * kl, ((F.sigmoid(logits) - x) / x.size, beta * dmu, beta * dlog_var)
""",
        "beta only on the KL's value, not its gradients": _VAE_HEAD
        + """
    rec = np.sum(np.logaddexp(0, logits) - x * logits) / n
    kl, (dmu, dlog_var) = kl_divergence(mu, log_var)
    return rec + beta * kl, ((F.sigmoid(logits) - x) / n, dmu, dlog_var)
""",
        "overflowing softplus": _VAE_HEAD
        + """
    rec = np.sum(np.log(1 + np.exp(logits)) - x * logits) / n
    kl, (dmu, dlog_var) = kl_divergence(mu, log_var)
    return rec + beta * kl, ((F.sigmoid(logits) - x) / n, beta * dmu, beta * dlog_var)
""",
    },
}
