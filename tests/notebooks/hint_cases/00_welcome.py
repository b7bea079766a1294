"""Wrong answers a student is likely to write for unit 00_welcome, and the hint each must get."""

CASES = {
    # answer cell grade_id -> list of (description, full answer-cell source, hint substring)
    "standardize": [
        (
            "sample standard deviation (ddof=1)",
            """
def standardize(X):
    std = X.std(axis=0, ddof=1)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
""",
            "ddof=1",
        ),
        (
            "a constant column divides 0 by 0 (no guard)",
            """
def standardize(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)
""",
            "standard deviation is 0",
        ),
        (
            "rows instead of columns",
            """
def standardize(X):
    mean = X.mean(axis=1, keepdims=True)
    std = X.std(axis=1, keepdims=True)
    return (X - mean) / np.where(std > 0, std, 1.0)
""",
            "axis=0",
        ),
        (
            "modifies X in place",
            """
def standardize(X):
    std = X.std(axis=0)
    X -= X.mean(axis=0)
    X /= np.where(std > 0, std, 1.0)
    return X
""",
            "must not modify its input",
        ),
    ],
    "sample_batch": [
        (
            "the given generator's integers (with replacement)",
            """
def sample_batch(X, y, batch_size, rng):
    if batch_size > X.shape[0]:
        raise ValueError("batch_size is larger than N")
    idx = rng.integers(0, X.shape[0], batch_size)
    return X[idx], y[idx]
""",
            "rng.integers(0, N, batch_size)",
        ),
        (
            "the given generator's choice without replacement",
            """
def sample_batch(X, y, batch_size, rng):
    if batch_size > X.shape[0]:
        raise ValueError("batch_size is larger than N")
    idx = rng.choice(X.shape[0], batch_size, replace=False)
    return X[idx], y[idx]
""",
            "replace=False",
        ),
        (
            "the global np.random instead of the given generator",
            """
def sample_batch(X, y, batch_size, rng):
    if batch_size > X.shape[0]:
        raise ValueError("batch_size is larger than N")
    idx = np.random.permutation(X.shape[0])[:batch_size]
    return X[idx], y[idx]
""",
            "was never used",
        ),
        (
            "no error when batch_size > N",
            """
def sample_batch(X, y, batch_size, rng):
    idx = rng.permutation(X.shape[0])[:batch_size]
    return X[idx], y[idx]
""",
            "must raise a ValueError",
        ),
        (
            "batch_size == N rejected (>= instead of >)",
            """
def sample_batch(X, y, batch_size, rng):
    if batch_size >= X.shape[0]:
        raise ValueError("batch_size is too large")
    idx = rng.permutation(X.shape[0])[:batch_size]
    return X[idx], y[idx]
""",
            "batch_size = N = 10 raised",
        ),
    ],
}
