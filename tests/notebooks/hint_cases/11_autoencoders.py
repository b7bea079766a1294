"""Wrong answers a student is likely to write for unit 11, and the hint each must get."""

CASES = {
    "ae_train_step": [
        (
            "target ignored (reconstructs x)",
            """
def ae_train_step(params, x, target, lr):
    n = x.shape[0]
    h = np.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    loss = np.sum(np.logaddexp(0, logits) - x * logits) / n
    dlogits = (F.sigmoid(logits) - x) / n

    dh = dlogits @ params["W2"].T
    da = dh * (1 - h ** 2)
    grads = {"W1": x.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}

    for name, grad in grads.items():
        params[name] -= lr * grad
    return float(loss)
""",
            "not with `x`",
        ),
        (
            "gradient ascent",
            """
def ae_train_step(params, x, target, lr):
    n = x.shape[0]
    h = np.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    loss = np.sum(np.logaddexp(0, logits) - target * logits) / n
    dlogits = (F.sigmoid(logits) - target) / n

    dh = dlogits @ params["W2"].T
    da = dh * (1 - h ** 2)
    grads = {"W1": x.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}

    for name, grad in grads.items():
        params[name] += lr * grad
    return float(loss)
""",
            "gradient DESCENT",
        ),
        (
            "forgets the tanh derivative",
            """
def ae_train_step(params, x, target, lr):
    n = x.shape[0]
    h = np.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    loss = np.sum(np.logaddexp(0, logits) - target * logits) / n
    dlogits = (F.sigmoid(logits) - target) / n

    dh = dlogits @ params["W2"].T
    da = dh
    grads = {"W1": x.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}

    for name, grad in grads.items():
        params[name] -= lr * grad
    return float(loss)
""",
            "1 - h ** 2",
        ),
        (
            "loss averaged over the pixels too",
            """
def ae_train_step(params, x, target, lr):
    n = x.shape[0]
    h = np.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    loss = np.sum(np.logaddexp(0, logits) - target * logits) / logits.size
    dlogits = (F.sigmoid(logits) - target) / n

    dh = dlogits @ params["W2"].T
    da = dh * (1 - h ** 2)
    grads = {"W1": x.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}

    for name, grad in grads.items():
        params[name] -= lr * grad
    return float(loss)
""",
            "not by N * D",
        ),
        (
            "returns the loss after the update",
            """
def ae_train_step(params, x, target, lr):
    n = x.shape[0]
    h = np.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    loss = np.sum(np.logaddexp(0, logits) - target * logits) / n
    dlogits = (F.sigmoid(logits) - target) / n

    dh = dlogits @ params["W2"].T
    da = dh * (1 - h ** 2)
    grads = {"W1": x.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}

    for name, grad in grads.items():
        params[name] -= lr * grad
    h = np.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    return float(np.sum(np.logaddexp(0, logits) - target * logits) / n)
""",
            "BEFORE the update",
        ),
        (
            "gradient without 1/N",
            """
def ae_train_step(params, x, target, lr):
    n = x.shape[0]
    h = np.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    loss = np.sum(np.logaddexp(0, logits) - target * logits) / n
    dlogits = (F.sigmoid(logits) - target)

    dh = dlogits @ params["W2"].T
    da = dh * (1 - h ** 2)
    grads = {"W1": x.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}

    for name, grad in grads.items():
        params[name] -= lr * grad
    return float(loss)
""",
            "carries 1/N",
        ),
        (
            "not written yet",
            """
def ae_train_step(params, x, target, lr):
    raise NotImplementedError()
""",
            "not written yet",
        ),
    ],
    "reparameterize": [
        (
            "std = exp(log_var), the variance",
            """
def reparameterize(mu, log_var, rng):
    eps = rng.standard_normal(mu.shape)
    std = np.exp(log_var)
    return mu + std * eps, (std, eps)


def reparameterize_backward(dz, cache):
    std, eps = cache
    return dz, 0.5 * dz * eps * std
""",
            "you used exp(log_var)",
        ),
        (
            "log-variance used as the standard deviation",
            """
def reparameterize(mu, log_var, rng):
    eps = rng.standard_normal(mu.shape)
    return mu + log_var * eps, (np.exp(0.5 * log_var), eps)


def reparameterize_backward(dz, cache):
    std, eps = cache
    return dz, 0.5 * dz * eps * std
""",
            "LOG of the variance",
        ),
        (
            "noise from the global np.random",
            """
def reparameterize(mu, log_var, rng):
    eps = np.random.standard_normal(mu.shape)
    std = np.exp(0.5 * log_var)
    return mu + std * eps, (std, eps)


def reparameterize_backward(dz, cache):
    std, eps = cache
    return dz, 0.5 * dz * eps * std
""",
            "not from np.random",
        ),
        (
            "backward blocks the gradient of log_var",
            """
def reparameterize(mu, log_var, rng):
    eps = rng.standard_normal(mu.shape)
    std = np.exp(0.5 * log_var)
    return mu + std * eps, (std, eps)


def reparameterize_backward(dz, cache):
    return dz, np.zeros_like(dz)
""",
            "the gradient is blocked",
        ),
        (
            "backward forgets the 1/2",
            """
def reparameterize(mu, log_var, rng):
    eps = rng.standard_normal(mu.shape)
    std = np.exp(0.5 * log_var)
    return mu + std * eps, (std, eps)


def reparameterize_backward(dz, cache):
    std, eps = cache
    return dz, dz * eps * std
""",
            "the 1/2 is missing",
        ),
        (
            "backward stops at std (dz * eps)",
            """
def reparameterize(mu, log_var, rng):
    eps = rng.standard_normal(mu.shape)
    std = np.exp(0.5 * log_var)
    return mu + std * eps, (std, eps)


def reparameterize_backward(dz, cache):
    std, eps = cache
    return dz, dz * eps
""",
            "chain rule through std",
        ),
    ],
    "kl_divergence": [
        (
            "sign flipped",
            """
def kl_divergence(mu, log_var):
    n = mu.shape[0]
    var = np.exp(log_var)

    kl = 0.5 * np.sum(1 + log_var - mu ** 2 - var) / n
    return kl, (-mu / n, -0.5 * (var - 1) / n)
""",
            "sign is flipped",
        ),
        (
            "log-variance treated as the variance",
            """
def kl_divergence(mu, log_var):
    n = mu.shape[0]
    kl = -0.5 * np.sum(1 + log_var - mu ** 2 - log_var) / n
    return kl, (mu / n, np.zeros_like(log_var))
""",
            "exp(log_var) is the variance",
        ),
        (
            "summed over the batch",
            """
def kl_divergence(mu, log_var):
    n = mu.shape[0]
    var = np.exp(log_var)

    kl = -0.5 * np.sum(1 + log_var - mu ** 2 - var)
    return kl, (mu, 0.5 * (var - 1))
""",
            "you summed over it",
        ),
        (
            "mean over the latent dimensions too",
            """
def kl_divergence(mu, log_var):
    n = mu.shape[0]
    var = np.exp(log_var)

    kl = -0.5 * np.mean(1 + log_var - mu ** 2 - var)
    return kl, (mu / mu.size, 0.5 * (var - 1) / mu.size)
""",
            "not over N * L",
        ),
        (
            "gradient of log_var without the 1/2",
            """
def kl_divergence(mu, log_var):
    n = mu.shape[0]
    var = np.exp(log_var)

    kl = -0.5 * np.sum(1 + log_var - mu ** 2 - var) / n
    return kl, (mu / n, (var - 1) / n)
""",
            "the 1/2 is missing",
        ),
    ],
    "vae_loss": [
        (
            "KL subtracted",
            """
def vae_loss(logits, x, mu, log_var, beta=1.0):
    n = x.shape[0]

    rec = np.sum(np.logaddexp(0, logits) - x * logits) / n
    kl, (dmu, dlog_var) = kl_divergence(mu, log_var)
    return rec - beta * kl, ((F.sigmoid(logits) - x) / n, -beta * dmu, -beta * dlog_var)
""",
            "the KL is ADDED",
        ),
        (
            "beta ignored",
            """
def vae_loss(logits, x, mu, log_var, beta=1.0):
    n = x.shape[0]

    rec = np.sum(np.logaddexp(0, logits) - x * logits) / n
    kl, (dmu, dlog_var) = kl_divergence(mu, log_var)
    return rec + kl, ((F.sigmoid(logits) - x) / n, dmu, dlog_var)
""",
            "multiply the KL by beta",
        ),
        (
            "reconstruction averaged over the pixels",
            """
def vae_loss(logits, x, mu, log_var, beta=1.0):
    n = x.shape[0]

    rec = np.mean(np.logaddexp(0, logits) - x * logits)
    kl, (dmu, dlog_var) = kl_divergence(mu, log_var)
    return rec + beta * kl, ((F.sigmoid(logits) - x) / x.size, beta * dmu, beta * dlog_var)
""",
            "average over the N examples only",
        ),
        (
            "beta only on the KL's value, not its gradients",
            """
def vae_loss(logits, x, mu, log_var, beta=1.0):
    n = x.shape[0]

    rec = np.sum(np.logaddexp(0, logits) - x * logits) / n
    kl, (dmu, dlog_var) = kl_divergence(mu, log_var)
    return rec + beta * kl, ((F.sigmoid(logits) - x) / n, dmu, dlog_var)
""",
            "multiplied by beta too",
        ),
        (
            "overflowing softplus",
            """
def vae_loss(logits, x, mu, log_var, beta=1.0):
    n = x.shape[0]

    rec = np.sum(np.log(1 + np.exp(logits)) - x * logits) / n
    kl, (dmu, dlog_var) = kl_divergence(mu, log_var)
    return rec + beta * kl, ((F.sigmoid(logits) - x) / n, beta * dmu, beta * dlog_var)
""",
            "overflowed",
        ),
    ],
}
