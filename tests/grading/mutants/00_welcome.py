"""Plausible wrong answers for unit 00; each must lose its own exercise's points, only those."""

MUTANTS = {
    "standardize": {
        "rows instead of columns (axis=1)": """
def standardize(X):
    mean = X.mean(axis=1, keepdims=True)
    std = X.std(axis=1, keepdims=True)
    return (X - mean) / np.where(std > 0, std, 1.0)
""",
        "sample standard deviation (ddof=1)": """
def standardize(X):
    std = X.std(axis=0, ddof=1) if X.shape[0] > 1 else np.ones(X.shape[1])
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
""",
        "constant columns give nan (no zero-std guard)": """
def standardize(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)
""",
        "modifies X in place": """
def standardize(X):
    std = X.std(axis=0)
    X -= X.mean(axis=0)
    X /= np.where(std > 0, std, 1.0)
    return X
""",
    },
    "sample_batch": {
        "batch_size == N rejected (>= instead of >)": """
def sample_batch(X, y, batch_size, rng):
    if batch_size >= X.shape[0]:
        raise ValueError("batch_size too large")
    idx = rng.permutation(X.shape[0])[:batch_size]
    return X[idx], y[idx]
""",
        "rng.choice without replacement instead of the permutation": """
def sample_batch(X, y, batch_size, rng):
    if batch_size > X.shape[0]:
        raise ValueError("batch_size too large")
    idx = rng.choice(X.shape[0], batch_size, replace=False)
    return X[idx], y[idx]
""",
        "global np.random instead of the given rng": """
def sample_batch(X, y, batch_size, rng):
    if batch_size > X.shape[0]:
        raise ValueError("batch_size too large")
    idx = np.random.permutation(X.shape[0])[:batch_size]
    return X[idx], y[idx]
""",
        "sampling with replacement": """
def sample_batch(X, y, batch_size, rng):
    if batch_size > X.shape[0]:
        raise ValueError("batch_size too large")
    idx = rng.integers(0, X.shape[0], batch_size)
    return X[idx], y[idx]
""",
        "X and y shuffled with different permutations": """
def sample_batch(X, y, batch_size, rng):
    if batch_size > X.shape[0]:
        raise ValueError("batch_size too large")
    n = X.shape[0]
    return X[rng.permutation(n)[:batch_size]], y[rng.permutation(n)[:batch_size]]
""",
        "no error when batch_size > N": """
def sample_batch(X, y, batch_size, rng):
    idx = rng.permutation(X.shape[0])[:batch_size]
    return X[idx], y[idx]
""",
    },
}
