"""Wrong answers a student is likely to write for unit 07_normalization, and the hint each
must get."""

CASES = {
    # answer cell grade_id -> list of (description, full answer-cell source, hint substring)
    "batchnorm_forward": [
        (
            "running mean without its (1 - momentum) term",
            """
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
            "weighted by (1 - momentum)",
        ),
        (
            "running variance without its (1 - momentum) term",
            """
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
            running_var[...] = running_var + momentum * unbiased
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    out = gamma.reshape(shape) * xhat + beta.reshape(shape)
    return out, (xhat, gamma, inv_std, training)
""",
            "weighted by (1 - momentum)",
        ),
        (
            "the output cached instead of xhat",
            """
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
            "cache[0] is xhat",
        ),
        (
            "the standard deviation cached instead of its inverse",
            """
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
    return out, (xhat, gamma, 1.0 / inv_std, training)
""",
            "INVERSE standard deviation",
        ),
    ],
    "batchnorm_backward": [
        (
            "the training formula in evaluation mode too",
            """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std, training = cache
    axes = (0,) if dout.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if dout.ndim == 2 else (1, -1, 1, 1)
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * xhat).sum(axis=axes)
    dxhat = dout * gamma.reshape(shape)
    dx = inv_std * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                    - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True))
    return dx, dgamma, dbeta
""",
            "check the training flag",
        ),
        (
            "images: the means over the batch axis only",
            """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std, training = cache
    axes = (0,) if dout.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if dout.ndim == 2 else (1, -1, 1, 1)
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * xhat).sum(axis=axes)
    dxhat = dout * gamma.reshape(shape)
    if not training:
        return dxhat * inv_std, dgamma, dbeta
    dx = inv_std * (dxhat - dxhat.mean(axis=0, keepdims=True)
                    - xhat * (dxhat * xhat).mean(axis=0, keepdims=True))
    return dx, dgamma, dbeta
""",
            "axes 0, 2, 3",
        ),
        (
            "images: dgamma and dbeta summed over the batch axis only",
            """
def batchnorm_backward(dout, cache):
    xhat, gamma, inv_std, training = cache
    axes = (0,) if dout.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if dout.ndim == 2 else (1, -1, 1, 1)
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma.reshape(shape)
    if not training:
        return dxhat * inv_std, dgamma, dbeta
    dx = inv_std * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                    - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True))
    return dx, dgamma, dbeta
""",
            "axes (0, 2, 3)",
        ),
    ],
    "groupnorm_forward": [
        (
            "the output cached instead of xhat",
            """
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
    return out, (out, gamma, inv_std, num_groups)
""",
            "cache[0] is xhat",
        ),
        (
            "xhat cached in the grouped (N, G, -1) view",
            """
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
            "reshape xhat back",
        ),
        (
            "the standard deviation cached instead of its inverse",
            """
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
    return out, (xhat, gamma, 1.0 / inv_std, num_groups)
""",
            "INVERSE standard deviation",
        ),
    ],
}
