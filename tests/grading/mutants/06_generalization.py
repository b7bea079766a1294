"""Plausible wrong answers for unit 06; each must lose its own exercise's points, only those."""

MUTANTS = {
    "train_val_test_split": {
        "no shuffle: the sets are the first rows in file order": """
def train_val_test_split(X, y, *, rng, val=0.15, test=0.15):
    n = len(y)
    n_test, n_val = round(test * n), round(val * n)
    return (X[n_test + n_val:], X[n_test:n_test + n_val], X[:n_test],
            y[n_test + n_val:], y[n_test:n_test + n_val], y[:n_test])
""",
        "X and y shuffled with different permutations": """
def train_val_test_split(X, y, *, rng, val=0.15, test=0.15):
    n = len(y)
    ox, oy = rng.permutation(n), rng.permutation(n)
    n_test, n_val = round(test * n), round(val * n)
    Xs, ys = X[ox], y[oy]
    return (Xs[n_test + n_val:], Xs[n_test:n_test + n_val], Xs[:n_test],
            ys[n_test + n_val:], ys[n_test:n_test + n_val], ys[:n_test])
""",
        "validation set overlaps the test set": """
def train_val_test_split(X, y, *, rng, val=0.15, test=0.15):
    n = len(y)
    order = rng.permutation(n)
    n_test, n_val = round(test * n), round(val * n)
    te, va, tr = order[:n_test], order[:n_val], order[n_test + n_val:]
    return X[tr], X[va], X[te], y[tr], y[va], y[te]
""",
        "global np.random instead of rng: not reproducible": """
def train_val_test_split(X, y, *, rng, val=0.15, test=0.15):
    n = len(y)
    order = np.random.permutation(n)
    n_test, n_val = round(test * n), round(val * n)
    te, va, tr = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return X[tr], X[va], X[te], y[tr], y[va], y[te]
""",
    },
    "l2_penalty": {
        "no factor 1/2 in the penalty": """
def l2_penalty(w, lam):
    if isinstance(w, (list, tuple)):
        return sum(lam * np.sum(a * a) for a in w), [lam * a for a in w]
    return lam * np.sum(w * w), lam * w
""",
        "gradient 2 * lam * w (the 1/2 forgotten in the derivative)": """
def l2_penalty(w, lam):
    if isinstance(w, (list, tuple)):
        return sum(0.5 * lam * np.sum(a * a) for a in w), [2 * lam * a for a in w]
    return 0.5 * lam * np.sum(w * w), 2 * lam * w
""",
        "lists not handled: stacks the arrays into one": """
def l2_penalty(w, lam):
    w = np.asarray(w)
    return 0.5 * lam * np.sum(w * w), lam * w
""",
        "decays w in place": """
def l2_penalty(w, lam):
    if isinstance(w, (list, tuple)):
        return sum(0.5 * lam * np.sum(a * a) for a in w), [lam * a for a in w]
    penalty = 0.5 * lam * np.sum(w * w)
    w *= lam
    return penalty, w
""",
    },
    "dropout_forward": {
        "no scaling (non-inverted dropout)": """
def dropout_forward(x, p_drop, *, rng, training=True):
    if not training or p_drop == 0:
        return x, None
    mask = (rng.random(x.shape) >= p_drop) * 1.0
    return x * mask, mask
""",
        "p_drop read as the keep probability": """
def dropout_forward(x, p_drop, *, rng, training=True):
    if not training or p_drop == 0:
        return x, None
    keep = rng.random(x.shape) < p_drop
    mask = keep / p_drop
    return x * mask, mask
""",
        "multiplies by (1 - p_drop) instead of dividing": """
def dropout_forward(x, p_drop, *, rng, training=True):
    if not training or p_drop == 0:
        return x, None
    mask = (rng.random(x.shape) >= p_drop) * (1 - p_drop)
    return x * mask, mask
""",
        "ignores training=False": """
def dropout_forward(x, p_drop, *, rng, training=True):
    if p_drop == 0:
        return x, None
    keep = rng.random(x.shape) >= p_drop
    scale = 0.0 if p_drop == 1 else 1.0 / (1.0 - p_drop)
    mask = keep * scale
    return x * mask, mask
""",
        "divides by zero for p_drop = 1": """
def dropout_forward(x, p_drop, *, rng, training=True):
    if not training or p_drop == 0:
        return x, None
    keep = rng.random(x.shape) >= p_drop
    mask = keep / np.float64(1.0 - p_drop)
    return x * mask, mask
""",
    },
    "dropout_backward": {
        "passes dout through unchanged": """
def dropout_backward(dout, cache):
    return dout
""",
        "forgets the 1 / (1 - p_drop) scaling": """
def dropout_backward(dout, cache):
    if cache is None:
        return dout
    return dout * (cache > 0)
""",
        "crashes on the identity cache None": """
def dropout_backward(dout, cache):
    return dout * cache
""",
    },
    "EarlyStopping": {
        "ties count as improvements (<= instead of <)": """
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.best_epoch, self.wait, self._calls = math.inf, None, 0, 0

    def update(self, val_loss):
        epoch = self._calls
        self._calls += 1
        if val_loss <= self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = val_loss, epoch, 0
        else:
            self.wait += 1
        return self.wait >= self.patience
""",
        "min_delta ignored": """
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.best_epoch, self.wait, self._calls = math.inf, None, 0, 0

    def update(self, val_loss):
        epoch = self._calls
        self._calls += 1
        if val_loss < self.best:
            self.best, self.best_epoch, self.wait = val_loss, epoch, 0
        else:
            self.wait += 1
        return self.wait >= self.patience
""",
        "off by one: stops when wait > patience": """
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.best_epoch, self.wait, self._calls = math.inf, None, 0, 0

    def update(self, val_loss):
        epoch = self._calls
        self._calls += 1
        if val_loss < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = val_loss, epoch, 0
        else:
            self.wait += 1
        return self.wait > self.patience
""",
        "wait not reset on improvement": """
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.best_epoch, self.wait, self._calls = math.inf, None, 0, 0

    def update(self, val_loss):
        epoch = self._calls
        self._calls += 1
        if val_loss < self.best - self.min_delta:
            self.best, self.best_epoch = val_loss, epoch
        else:
            self.wait += 1
        return self.wait >= self.patience
""",
        "epochs counted from 1": """
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.best_epoch, self.wait, self._calls = math.inf, None, 0, 0

    def update(self, val_loss):
        self._calls += 1
        if val_loss < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = val_loss, self._calls, 0
        else:
            self.wait += 1
        return self.wait >= self.patience
""",
        "best_epoch not set before the first improvement": """
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best = math.inf
        self.wait = 0
        self._calls = 0

    def update(self, val_loss):
        epoch = self._calls
        self._calls += 1
        if val_loss < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = val_loss, epoch, 0
        else:
            self.wait += 1
        return self.wait >= self.patience
""",
    },
    "random_search": {
        "log-uniform drawn uniformly": """
def random_search(objective, space, n_trials, *, rng, maximize=False):
    trials = []
    for _ in range(n_trials):
        params = {}
        for name, spec in space.items():
            if isinstance(spec, list):
                params[name] = spec[rng.integers(len(spec))]
            elif isinstance(spec, IntUniform):
                params[name] = int(rng.integers(spec.lo, spec.hi + 1))
            else:
                params[name] = rng.uniform(spec.lo, spec.hi)
        trials.append((params, float(objective(dict(params)))))
    scores = [s for _, s in trials]
    best = int(np.argmax(scores) if maximize else np.argmin(scores))
    return SearchResult(trials[best][0], trials[best][1], trials, maximize)
""",
        "keeps the highest score (maximizes)": """
def random_search(objective, space, n_trials, *, rng, maximize=False):
    trials = []
    for _ in range(n_trials):
        params = {}
        for name, spec in space.items():
            if isinstance(spec, list):
                params[name] = spec[rng.integers(len(spec))]
            elif isinstance(spec, LogUniform):
                params[name] = math.exp(rng.uniform(math.log(spec.lo), math.log(spec.hi)))
            elif isinstance(spec, IntUniform):
                params[name] = int(rng.integers(spec.lo, spec.hi + 1))
            else:
                params[name] = rng.uniform(spec.lo, spec.hi)
        trials.append((params, float(objective(dict(params)))))
    scores = [s for _, s in trials]
    best = int(np.argmax(scores))
    return SearchResult(trials[best][0], trials[best][1], trials, maximize)
""",
        "IntUniform excludes hi": """
def random_search(objective, space, n_trials, *, rng, maximize=False):
    trials = []
    for _ in range(n_trials):
        params = {}
        for name, spec in space.items():
            if isinstance(spec, list):
                params[name] = spec[rng.integers(len(spec))]
            elif isinstance(spec, LogUniform):
                params[name] = math.exp(rng.uniform(math.log(spec.lo), math.log(spec.hi)))
            elif isinstance(spec, IntUniform):
                params[name] = int(rng.integers(spec.lo, spec.hi))
            else:
                params[name] = rng.uniform(spec.lo, spec.hi)
        trials.append((params, float(objective(dict(params)))))
    scores = [s for _, s in trials]
    best = int(np.argmax(scores) if maximize else np.argmin(scores))
    return SearchResult(trials[best][0], trials[best][1], trials, maximize)
""",
        "draws the parameters once, outside the trial loop": """
def random_search(objective, space, n_trials, *, rng, maximize=False):
    params = {}
    for name, spec in space.items():
        if isinstance(spec, list):
            params[name] = spec[rng.integers(len(spec))]
        elif isinstance(spec, LogUniform):
            params[name] = math.exp(rng.uniform(math.log(spec.lo), math.log(spec.hi)))
        elif isinstance(spec, IntUniform):
            params[name] = int(rng.integers(spec.lo, spec.hi + 1))
        else:
            params[name] = rng.uniform(spec.lo, spec.hi)
    trials = [(dict(params), float(objective(dict(params)))) for _ in range(n_trials)]
    scores = [s for _, s in trials]
    best = int(np.argmax(scores) if maximize else np.argmin(scores))
    return SearchResult(trials[best][0], trials[best][1], trials, maximize)
""",
        "IntUniform values left as NumPy integers": """
def random_search(objective, space, n_trials, *, rng, maximize=False):
    trials = []
    for _ in range(n_trials):
        params = {}
        for name, spec in space.items():
            if isinstance(spec, list):
                params[name] = spec[rng.integers(len(spec))]
            elif isinstance(spec, LogUniform):
                params[name] = math.exp(rng.uniform(math.log(spec.lo), math.log(spec.hi)))
            elif isinstance(spec, IntUniform):
                params[name] = rng.integers(spec.lo, spec.hi + 1)
            else:
                params[name] = rng.uniform(spec.lo, spec.hi)
        trials.append((params, float(objective(params))))
    scores = [s for _, s in trials]
    best = int(np.argmax(scores) if maximize else np.argmin(scores))
    return SearchResult(trials[best][0], trials[best][1], trials, maximize)
""",
    },
    "gradient_boosting": {
        "every stump fitted to y instead of the residuals": """
def gradient_boosting(X, y, n_estimators, learning_rate):
    init = float(np.mean(y))
    stumps = [fit_stump(X, y) for _ in range(n_estimators)]
    return GradientBoosting(init, stumps, learning_rate)
""",
        "the prediction is never updated: every stump fits the first residuals": """
def gradient_boosting(X, y, n_estimators, learning_rate):
    init = float(np.mean(y))
    prediction = np.full(len(y), init)
    stumps = []
    for _ in range(n_estimators):
        stump = fit_stump(X, y - prediction)
        stumps.append(stump)
    return GradientBoosting(init, stumps, learning_rate)
""",
        "the update leaves out the learning rate": """
def gradient_boosting(X, y, n_estimators, learning_rate):
    init = float(np.mean(y))
    prediction = np.full(len(y), init)
    stumps = []
    for _ in range(n_estimators):
        stump = fit_stump(X, y - prediction)
        prediction = prediction + stump.predict(X)
        stumps.append(stump)
    return GradientBoosting(init, stumps, learning_rate)
""",
        "starts from 0 instead of the mean": """
def gradient_boosting(X, y, n_estimators, learning_rate):
    prediction = np.zeros(len(y))
    stumps = []
    for _ in range(n_estimators):
        stump = fit_stump(X, y - prediction)
        prediction = prediction + learning_rate * stump.predict(X)
        stumps.append(stump)
    return GradientBoosting(0.0, stumps, learning_rate)
""",
        "residuals with the wrong sign (prediction - y)": """
def gradient_boosting(X, y, n_estimators, learning_rate):
    init = float(np.mean(y))
    prediction = np.full(len(y), init)
    stumps = []
    for _ in range(n_estimators):
        stump = fit_stump(X, prediction - y)
        prediction = prediction + learning_rate * stump.predict(X)
        stumps.append(stump)
    return GradientBoosting(init, stumps, learning_rate)
""",
    },
}
