"""Wrong answers a student is likely to write for unit 01, and the hint each must get."""

CASES = {
    "perceptron_predict": [
        (
            "z > 0 instead of z >= 0",
            """
def perceptron_predict(X, w, b):
    return (X @ w + b > 0).astype(int)
""",
            "use z >= 0, not z > 0",
        ),
    ],
    "perceptron_update": [
        (
            "the error reversed",
            """
def perceptron_update(x, y, w, b, lr=1.0):
    y_hat = perceptron_predict(x[None, :], w, b)[0]
    error = y_hat - y
    return w + lr * error * x, b + lr * error
""",
            "not y_hat - y",
        ),
    ],
    "sigmoid": [
        (
            "the textbook formula, which overflows",
            """
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))
""",
            "np.exp(-np.abs(z))",
        ),
    ],
    "bce_loss": [
        (
            "the two log terms swapped",
            """
def bce_loss(p, y, eps=1e-12):
    p = np.clip(p, eps, 1.0 - eps)
    return -np.mean(y * np.log(1.0 - p) + (1.0 - y) * np.log(p))
""",
            "terms are swapped",
        ),
    ],
    "logistic_regression_fit": [
        (
            "gradient ascent",
            """
def logistic_regression_fit(X, y, lr=0.5, steps=100):
    w, b = np.zeros(X.shape[1]), 0.0
    losses = np.zeros(steps)
    for t in range(steps):
        losses[t] = bce_loss(sigmoid(X @ w + b), y)
        dw, db = logistic_gradient(X, y, w, b)
        w = w + lr * dw
        b = b + lr * db
    return w, b, losses
""",
            "DEScent",
        ),
    ],
}
