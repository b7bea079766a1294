"""Plausible wrong answers for unit 07; each must lose its own exercise's points, only those."""

MUTANTS = {
    "batchnorm_forward": {
        "running variance updated with the biased batch variance": """
def batchnorm_forward(x, gamma, beta, running_mean=None, running_var=None, *, training=True,
                      momentum=0.1, eps=1e-5):
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
    if training:
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        if running_mean is not None:
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean.reshape(-1)
            running_var[...] = (1 - momentum) * running_var + momentum * var.reshape(-1)
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return gamma.reshape(shape) * xhat + beta.reshape(shape), (xhat, gamma, inv_std, training)
""",
        "momentum convention flipped (Keras style)": """
def batchnorm_forward(x, gamma, beta, running_mean=None, running_var=None, *, training=True,
                      momentum=0.1, eps=1e-5):
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
    if training:
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        if running_mean is not None:
            m = x.size // x.shape[1]
            running_mean[...] = momentum * running_mean + (1 - momentum) * mean.reshape(-1)
            unbiased = var.reshape(-1) * m / (m - 1)
            running_var[...] = momentum * running_var + (1 - momentum) * unbiased
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return gamma.reshape(shape) * xhat + beta.reshape(shape), (xhat, gamma, inv_std, training)
""",
        "images normalized over the batch axis only (one statistic per pixel)": """
def batchnorm_forward(x, gamma, beta, running_mean=None, running_var=None, *, training=True,
                      momentum=0.1, eps=1e-5):
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
    if training:
        mean = x.mean(axis=0, keepdims=True)
        var = x.var(axis=0, keepdims=True)
        if running_mean is not None:
            m = x.shape[0]
            mean_c = mean.reshape(x.shape[1], -1).mean(axis=1)
            var_c = var.reshape(x.shape[1], -1).mean(axis=1) * m / (m - 1)
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean_c
            running_var[...] = (1 - momentum) * running_var + momentum * var_c
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return gamma.reshape(shape) * xhat + beta.reshape(shape), (xhat, gamma, inv_std, training)
""",
        "eps added to the standard deviation, not the variance": """
def batchnorm_forward(x, gamma, beta, running_mean=None, running_var=None, *, training=True,
                      momentum=0.1, eps=1e-5):
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
    if training:
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        if running_mean is not None:
            m = x.size // x.shape[1]
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean.reshape(-1)
            unbiased = var.reshape(-1) * m / (m - 1)
            running_var[...] = (1 - momentum) * running_var + momentum * unbiased
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    inv_std = 1.0 / (np.sqrt(var) + eps)
    xhat = (x - mean) * inv_std
    return gamma.reshape(shape) * xhat + beta.reshape(shape), (xhat, gamma, inv_std, training)
""",
        "evaluation mode still uses the batch statistics": """
def batchnorm_forward(x, gamma, beta, running_mean=None, running_var=None, *, training=True,
                      momentum=0.1, eps=1e-5):
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    if training and running_mean is not None:
        m = x.size // x.shape[1]
        running_mean[...] = (1 - momentum) * running_mean + momentum * mean.reshape(-1)
        unbiased = var.reshape(-1) * m / (m - 1)
        running_var[...] = (1 - momentum) * running_var + momentum * unbiased
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return gamma.reshape(shape) * xhat + beta.reshape(shape), (xhat, gamma, inv_std, training)
""",
        "running mean without its (1 - momentum) term": """
def batchnorm_forward(x, gamma, beta, running_mean=None, running_var=None, *, training=True,
                      momentum=0.1, eps=1e-5):
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)  # broadcasts a (C,) array over x
    if training:
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)  # biased: divide by M
        if running_mean is not None:
            m = x.size // x.shape[1]  # numbers per channel
            running_mean[...] = running_mean + momentum * mean.reshape(-1)
            unbiased = var.reshape(-1) * m / (m - 1)
            running_var[...] = (1 - momentum) * running_var + momentum * unbiased
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    out = gamma.reshape(shape) * xhat + beta.reshape(shape)
    return out, (xhat, gamma, inv_std, training)
""",
        "the cache holds the output instead of xhat": """
def batchnorm_forward(x, gamma, beta, running_mean=None, running_var=None, *, training=True,
                      momentum=0.1, eps=1e-5):
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)  # broadcasts a (C,) array over x
    if training:
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)  # biased: divide by M
        if running_mean is not None:
            m = x.size // x.shape[1]  # numbers per channel
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean.reshape(-1)
            unbiased = var.reshape(-1) * m / (m - 1)
            running_var[...] = (1 - momentum) * running_var + momentum * unbiased
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    out = gamma.reshape(shape) * xhat + beta.reshape(shape)
    return out, (out, gamma, inv_std, training)
""",
    },
    "batchnorm_backward": {
        "statistics treated as constants in training (no mean or variance path)": """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std, training = cache
    axes = (0,) if dout.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if dout.ndim == 2 else (1, -1, 1, 1)
    dx = dout * gamma.reshape(shape) * inv_std
    return dx, (dout * xhat).sum(axis=axes), dout.sum(axis=axes)
""",
        "only the mean path (the variance path forgotten)": """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std, training = cache
    axes = (0,) if dout.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if dout.ndim == 2 else (1, -1, 1, 1)
    dxhat = dout * gamma.reshape(shape)
    if not training:
        return dxhat * inv_std, (dout * xhat).sum(axis=axes), dout.sum(axis=axes)
    dx = inv_std * (dxhat - dxhat.mean(axis=axes, keepdims=True))
    return dx, (dout * xhat).sum(axis=axes), dout.sum(axis=axes)
""",
        "dgamma and dbeta summed over the batch axis only (wrong for images)": """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std, training = cache
    axes = (0,) if dout.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if dout.ndim == 2 else (1, -1, 1, 1)
    dxhat = dout * gamma.reshape(shape)
    if training:
        dx = inv_std * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                        - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True))
    else:
        dx = dxhat * inv_std
    dgamma = (dout * xhat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    if dout.ndim == 4:
        dgamma, dbeta = dgamma[:, 0, 0], dbeta[:, 0, 0]
    return dx, dgamma, dbeta
""",
        "the training formula used in evaluation mode too": """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std, training = cache
    axes = (0,) if dout.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if dout.ndim == 2 else (1, -1, 1, 1)
    dxhat = dout * gamma.reshape(shape)
    dx = inv_std * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                    - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True))
    return dx, (dout * xhat).sum(axis=axes), dout.sum(axis=axes)
""",
    },
    "layernorm_forward": {
        "normalizes over the batch axis (batch norm instead of layer norm)": """
def layernorm_forward(x, gamma, beta, *, eps=1e-5):
    mean = x.mean(axis=0, keepdims=True)
    var = x.var(axis=0, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
        "always over the last axis only, whatever gamma's shape": """
def layernorm_forward(x, gamma, beta, *, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
        "unbiased variance (ddof=1)": """
def layernorm_forward(x, gamma, beta, *, eps=1e-5):
    axes = tuple(range(x.ndim - gamma.ndim, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=1)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
        "eps forgotten": """
def layernorm_forward(x, gamma, beta, *, eps=1e-5):
    axes = tuple(range(x.ndim - gamma.ndim, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    inv_std = 1.0 / x.std(axis=axes, keepdims=True)
    xhat = (x - mean) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)
""",
    },
    "layernorm_backward": {
        "the mean path forgotten": """
def layernorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    axes = tuple(range(dout.ndim - gamma.ndim, dout.ndim))
    lead = tuple(range(dout.ndim - gamma.ndim))
    dxhat = dout * gamma
    dx = inv_std * (dxhat - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True))
    return dx, (dout * xhat).sum(axis=lead), dout.sum(axis=lead)
""",
        "gamma left out of the gradient for xhat": """
def layernorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    axes = tuple(range(dout.ndim - gamma.ndim, dout.ndim))
    lead = tuple(range(dout.ndim - gamma.ndim))
    dx = inv_std * (dout - dout.mean(axis=axes, keepdims=True)
                    - xhat * (dout * xhat).mean(axis=axes, keepdims=True))
    return dx, (dout * xhat).sum(axis=lead), dout.sum(axis=lead)
""",
        "dgamma and dbeta summed over axis 0 only (wrong for sequences)": """
def layernorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    axes = tuple(range(dout.ndim - gamma.ndim, dout.ndim))
    dxhat = dout * gamma
    dx = inv_std * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                    - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
""",
        "means of the compact formula taken over the batch, as in batch norm": """
def layernorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    lead = tuple(range(dout.ndim - gamma.ndim))
    dxhat = dout * gamma
    dx = inv_std * (dxhat - dxhat.mean(axis=lead, keepdims=True)
                    - xhat * (dxhat * xhat).mean(axis=lead, keepdims=True))
    return dx, (dout * xhat).sum(axis=lead), dout.sum(axis=lead)
""",
    },
    "groupnorm_forward": {
        "groups interleave the channels instead of taking consecutive ones": """
def groupnorm_forward(x, gamma, beta, num_groups, *, eps=1e-5):
    n, c = x.shape[:2]
    if c % num_groups:
        raise ValueError(f"num_groups={num_groups} must divide C={c}")
    rest = x.shape[2:]
    groups = x.reshape(n, c // num_groups, num_groups, -1).swapaxes(1, 2).reshape(n, num_groups, -1)
    mean = groups.mean(axis=2, keepdims=True)
    var = groups.var(axis=2, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat_g = (groups - mean) * inv_std
    xhat = xhat_g.reshape(n, num_groups, c // num_groups, -1).swapaxes(1, 2).reshape(x.shape)
    shape = (1, c) + (1,) * len(rest)
    return gamma.reshape(shape) * xhat + beta.reshape(shape), (xhat, gamma, inv_std, num_groups)
""",
        "statistics over the group's channels at each pixel, not over the pixels too": """
def groupnorm_forward(x, gamma, beta, num_groups, *, eps=1e-5):
    n, c = x.shape[:2]
    if c % num_groups:
        raise ValueError(f"num_groups={num_groups} must divide C={c}")
    groups = x.reshape(n, num_groups, c // num_groups, -1)
    mean = groups.mean(axis=2, keepdims=True)
    var = groups.var(axis=2, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = ((groups - mean) * inv_std).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    return gamma.reshape(shape) * xhat + beta.reshape(shape), (xhat, gamma, inv_std, num_groups)
""",
        "statistics shared across the batch too": """
def groupnorm_forward(x, gamma, beta, num_groups, *, eps=1e-5):
    n, c = x.shape[:2]
    if c % num_groups:
        raise ValueError(f"num_groups={num_groups} must divide C={c}")
    groups = x.reshape(n, num_groups, -1)
    mean = groups.mean(axis=(0, 2), keepdims=True)
    var = groups.var(axis=(0, 2), keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = ((groups - mean) * inv_std).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    return gamma.reshape(shape) * xhat + beta.reshape(shape), (xhat, gamma, inv_std, num_groups)
""",
        "no check that num_groups divides C": """
def groupnorm_forward(x, gamma, beta, num_groups, *, eps=1e-5):
    n, c = x.shape[:2]
    size = x.size // (n * num_groups)
    groups = x.reshape(n, -1)[:, : num_groups * size].reshape(n, num_groups, size)
    mean = groups.mean(axis=2, keepdims=True)
    var = groups.var(axis=2, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = x.reshape(n, -1).copy()
    xhat[:, : num_groups * size] = ((groups - mean) * inv_std).reshape(n, -1)
    xhat = xhat.reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    return gamma.reshape(shape) * xhat + beta.reshape(shape), (xhat, gamma, inv_std, num_groups)
""",
        "the cache holds xhat in the grouped (N, G, -1) view": """
def groupnorm_forward(x, gamma, beta, num_groups, *, eps=1e-5):
    n, c = x.shape[:2]
    if c % num_groups:
        raise ValueError(
            f"num_groups={num_groups} must divide the number of channels C={c}")
    groups = x.reshape(n, num_groups, -1)  # (N, G, C/G * H * W)
    mean = groups.mean(axis=2, keepdims=True)
    var = groups.var(axis=2, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)  # (N, G, 1)
    xhat = ((groups - mean) * inv_std).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    out = gamma.reshape(shape) * xhat + beta.reshape(shape)
    return out, (xhat.reshape(n, num_groups, -1), gamma, inv_std, num_groups)
""",
    },
}
