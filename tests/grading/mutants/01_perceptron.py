"""Plausible wrong answers for unit 01; each must lose its own exercise's points, only those."""

MUTANTS = {
    "perceptron_predict": {
        "strict inequality: z = 0 gives class 0": """
def perceptron_predict(X, w, b):
    z = X @ w + b
    return (z > 0).astype(int)
""",
        "labels -1 and +1 (np.sign)": """
def perceptron_predict(X, w, b):
    return np.sign(X @ w + b).astype(int)
""",
        "bias forgotten": """
def perceptron_predict(X, w, b):
    return (X @ w >= 0).astype(int)
""",
        "booleans instead of integer labels": """
def perceptron_predict(X, w, b):
    return X @ w + b >= 0
""",
    },
    "perceptron_update": {
        "updates on every example, not only on mistakes": """
def perceptron_update(x, y, w, b, lr=1.0):
    direction = 1 if y == 1 else -1
    return w + lr * direction * x, b + lr * direction
""",
        "wrong sign of the error (y_hat - y)": """
def perceptron_update(x, y, w, b, lr=1.0):
    y_hat = perceptron_predict(x[None, :], w, b)[0]
    error = y_hat - y
    return w + lr * error * x, b + lr * error
""",
        "modifies w in place (w +=)": """
def perceptron_update(x, y, w, b, lr=1.0):
    y_hat = perceptron_predict(x[None, :], w, b)[0]
    w += lr * (y - y_hat) * x
    b += lr * (y - y_hat)
    return w, b
""",
        "bias never updated": """
def perceptron_update(x, y, w, b, lr=1.0):
    y_hat = perceptron_predict(x[None, :], w, b)[0]
    return w + lr * (y - y_hat) * x, b
""",
    },
    "sigmoid": {
        "sign error in the exponent": """
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(z))
""",
        "textbook formula: overflows for large negative z": """
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))
""",
        "np.where with both branches computed everywhere": """
def sigmoid(z):
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-z)), np.exp(z) / (1.0 + np.exp(z)))
""",
        "exp(z) / (1 + exp(z)): nan for large positive z": """
def sigmoid(z):
    e = np.exp(z)
    return e / (1.0 + e)
""",
    },
    "bce_loss": {
        "sum instead of mean": """
def bce_loss(p, y, eps=1e-12):
    p = np.clip(p, eps, 1 - eps)
    return -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
""",
        "minus sign forgotten": """
def bce_loss(p, y, eps=1e-12):
    p = np.clip(p, eps, 1 - eps)
    return np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
""",
        "no clipping: log(0) for p = 0 or 1": """
def bce_loss(p, y, eps=1e-12):
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
""",
        "clips the caller's array in place": """
def bce_loss(p, y, eps=1e-12):
    np.clip(p, eps, 1 - eps, out=p)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
""",
    },
    "logistic_gradient": {
        "missing 1/N (sum instead of mean)": """
def logistic_gradient(X, y, w, b):
    error = sigmoid(X @ w + b) - y
    return X.T @ error, np.sum(error)
""",
        "wrong sign: y - p": """
def logistic_gradient(X, y, w, b):
    error = y - sigmoid(X @ w + b)
    return X.T @ error / X.shape[0], np.mean(error)
""",
        "mean over the wrong axis": """
def logistic_gradient(X, y, w, b):
    error = sigmoid(X @ w + b) - y
    return np.mean(X * error[:, None], axis=1), np.mean(error)
""",
        "perceptron-style hard prediction instead of the sigmoid": """
def logistic_gradient(X, y, w, b):
    error = (X @ w + b >= 0).astype(float) - y
    return X.T @ error / X.shape[0], np.mean(error)
""",
    },
    "logistic_regression_fit": {
        "gradient ascent (adds the gradient)": """
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
        "bias never updated": """
def logistic_regression_fit(X, y, lr=0.5, steps=100):
    w, b = np.zeros(X.shape[1]), 0.0
    losses = np.zeros(steps)
    for t in range(steps):
        losses[t] = bce_loss(sigmoid(X @ w + b), y)
        dw, db = logistic_gradient(X, y, w, b)
        w = w - lr * dw
    return w, b, losses
""",
        "loss recorded after the step": """
def logistic_regression_fit(X, y, lr=0.5, steps=100):
    w, b = np.zeros(X.shape[1]), 0.0
    losses = []
    for _ in range(steps):
        dw, db = logistic_gradient(X, y, w, b)
        w, b = w - lr * dw, b - lr * db
        losses.append(bce_loss(sigmoid(X @ w + b), y))
    return w, b, np.array(losses)
""",
    },
}
