"""Wrong answers a student is likely to write for unit 06_generalization, and the hint each
must get."""

import runpy
from pathlib import Path

_MUTANTS = runpy.run_path(
    str(Path(__file__).resolve().parents[2] / "grading/mutants/06_generalization.py")
)["MUTANTS"]
_BOOSTING = _MUTANTS["gradient_boosting"]

CASES = {
    # answer cell grade_id -> list of (description, full answer-cell source, hint substring)
    "dropout_forward": [
        (
            "p_drop = 1 divides by zero (Python floats)",
            """
def dropout_forward(x, p_drop, *, rng, training=True):
    if not training or p_drop == 0:
        return x, None
    keep = rng.random(x.shape) >= p_drop
    mask = keep * (1.0 / (1.0 - p_drop))
    return x * mask, mask
""",
            "use the scale 0.0 when p_drop == 1",
        ),
        (
            "p_drop = 1 gives NaN (NumPy division by zero)",
            """
def dropout_forward(x, p_drop, *, rng, training=True):
    if not training or p_drop == 0:
        return x, None
    keep = rng.random(x.shape) >= p_drop
    mask = keep / (1 - p_drop)
    return x * mask, mask
""",
            "with p_drop = 1 the output must be all zeros",
        ),
        (
            "p_drop = 0 still draws a mask",
            """
def dropout_forward(x, p_drop, *, rng, training=True):
    if not training:
        return x, None
    keep = rng.random(x.shape) >= p_drop
    scale = 0.0 if p_drop == 1 else 1.0 / (1.0 - p_drop)
    mask = keep * scale
    return x * mask, mask
""",
            "with p_drop = 0 the layer is the identity",
        ),
        (
            "evaluation mode draws a mask it then ignores",
            """
def dropout_forward(x, p_drop, *, rng, training=True):
    keep = rng.random(x.shape) >= p_drop
    if not training or p_drop == 0:
        return x, None
    scale = 0.0 if p_drop == 1 else 1.0 / (1.0 - p_drop)
    mask = keep * scale
    return x * mask, mask
""",
            "must draw no random numbers",
        ),
    ],
    "EarlyStopping": [
        (
            "best_epoch only set on the first improvement",
            """
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
            "best_epoch = None in __init__",
        ),
        (
            "best_epoch starts at 0",
            """
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best = math.inf
        self.best_epoch = 0
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
            "best_epoch = None in __init__",
        ),
        (
            "the negated test lets NaN improve",
            """
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best = math.inf
        self.best_epoch = None
        self.wait = 0
        self._calls = 0

    def update(self, val_loss):
        epoch = self._calls
        self._calls += 1
        if val_loss >= self.best - self.min_delta:
            self.wait += 1
        else:
            self.best, self.best_epoch, self.wait = val_loss, epoch, 0
        return self.wait >= self.patience
""",
            "NaN never improves",
        ),
    ],
    "random_search": [
        (
            "IntUniform returns a NumPy integer",
            """
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
            "wrap the draw in int(...)",
        ),
        (
            "IntUniform excludes hi",
            """
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
        trials.append((params, float(objective(params))))
    scores = [s for _, s in trials]
    best = int(np.argmax(scores) if maximize else np.argmin(scores))
    return SearchResult(trials[best][0], trials[best][1], trials, maximize)
""",
            "so pass hi + 1",
        ),
        (
            "maximize ignored",
            """
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
        trials.append((params, float(objective(params))))
    scores = [s for _, s in trials]
    best = int(np.argmin(scores))
    return SearchResult(trials[best][0], trials[best][1], trials, maximize)
""",
            "the HIGHEST score",
        ),
        (
            "the last of equal scores wins",
            """
def random_search(objective, space, n_trials, *, rng, maximize=False):
    trials = []
    best = None
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
        score = float(objective(params))
        trials.append((params, score))
        if best is None or (score >= best[1] if maximize else score <= best[1]):
            best = (params, score)
    return SearchResult(best[0], best[1], trials, maximize)
""",
            "the earliest, trial 1, must win",
        ),
        (
            "global NumPy random state instead of rng",
            """
def random_search(objective, space, n_trials, *, rng, maximize=False):
    trials = []
    for _ in range(n_trials):
        params = {}
        for name, spec in space.items():
            if isinstance(spec, list):
                params[name] = spec[np.random.randint(len(spec))]
            elif isinstance(spec, LogUniform):
                params[name] = math.exp(np.random.uniform(math.log(spec.lo), math.log(spec.hi)))
            elif isinstance(spec, IntUniform):
                params[name] = int(np.random.randint(spec.lo, spec.hi + 1))
            else:
                params[name] = np.random.uniform(spec.lo, spec.hi)
        trials.append((params, float(objective(params))))
    scores = [s for _, s in trials]
    best = int(np.argmax(scores) if maximize else np.argmin(scores))
    return SearchResult(trials[best][0], trials[best][1], trials, maximize)
""",
            "from the rng argument",
        ),
    ],
    # the wrong answers of tests/grading/mutants/06_generalization.py, read from there
    "gradient_boosting": [
        (description, _BOOSTING[description], hint)
        for description, hint in [
            (
                "every stump fitted to y instead of the residuals",
                "was fitted to y, not to the residuals",
            ),
            (
                "the prediction is never updated: every stump fits the first residuals",
                "fit the next stump to y minus the NEW prediction",
            ),
            ("residuals with the wrong sign (prediction - y)", "fitted to the residuals y - init"),
        ]
    ],
}
