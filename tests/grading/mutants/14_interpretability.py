"""Plausible wrong answers for unit 14; each must lose its own exercise's points, only those."""

_SALIENCY = """
def saliency_map(model, x, target, *, times_input=False):
    grad = input_gradient(model, x, target)
    if times_input:
        return grad * x
    return grad
"""

_OCCLUSION = """
def occlusion_map(model, x, target, *, window, stride, baseline=0.0):
    base = np.broadcast_to(np.asarray(baseline, dtype=float), x.shape)
    rows = np.arange(x.shape[0])
    full = scores(model, x)[rows, target]                        # (N,)
    total = np.zeros_like(x)
    count = np.zeros(x.shape[1:])
    # window corners at every multiple of the stride while the window still overlaps the
    # end of the input; numpy's slicing cuts the last window off at the edge
    starts = [range(0, size - w + s, s) for size, w, s in zip(x.shape[1:], window, stride)]
    for corner in itertools.product(*starts):
        where = (slice(None),) + tuple(slice(c, c + w) for c, w in zip(corner, window))
        occluded = x.copy()
        occluded[where] = base[where]
        drop = full - scores(model, occluded)[rows, target]      # (N,)
        total[where] += drop.reshape((-1,) + (1,) * len(window))
        count[where[1:]] += 1
    return total / count
"""

_IG = """
def integrated_gradients(model, x, target, *, baseline=None, steps=50, rule="trapezoid"):
    base = np.zeros_like(x) if baseline is None else np.broadcast_to(
        np.asarray(baseline, dtype=float), x.shape)
    if rule == "trapezoid":
        alphas = np.linspace(0.0, 1.0, steps)
        weights = np.full(steps, 1.0 / (steps - 1))
        weights[[0, -1]] /= 2
    elif rule == "riemann":
        alphas = np.arange(1, steps + 1) / steps
        weights = np.full(steps, 1.0 / steps)
    else:
        raise ValueError(f"rule must be 'trapezoid' or 'riemann'; got {rule!r}")
    mean_grad = np.zeros_like(x)
    for alpha, weight in zip(alphas, weights):
        mean_grad += weight * input_gradient(model, base + alpha * (x - base), target)
    attributions = (x - base) * mean_grad
    rows = np.arange(x.shape[0])
    change = scores(model, x)[rows, target] - scores(model, base)[rows, target]
    gap = attributions.reshape(x.shape[0], -1).sum(axis=1) - change
    return attributions, gap
"""

_LIME = """
def lime_explain(model, x, target, *, n_samples=500, rng, kernel_width=0.25, ridge=1.0,
                 groups=None, baseline=0.0):
    base = np.broadcast_to(np.asarray(baseline, dtype=float), x.shape)
    group = np.arange(x.size).reshape(x.shape) if groups is None else np.asarray(groups)
    d = int(group.max()) + 1
    masks = (rng.random((n_samples, d)) < 0.5).astype(float)
    masks[0] = 1.0
    keep = masks[:, group]                                       # (n, *x.shape)
    f = scores(model, keep * x + (1 - keep) * base)[:, target]   # (n,)
    on = masks.sum(axis=1)
    distance = 1 - np.sqrt(on / d)
    pi = np.exp(-(distance ** 2) / kernel_width ** 2)
    z_mean, f_mean = pi @ masks / pi.sum(), pi @ f / pi.sum()
    zc, fc = masks - z_mean, f - f_mean
    weights = np.linalg.solve(zc.T @ (pi[:, None] * zc) + ridge * np.eye(d), zc.T @ (pi * fc))
    intercept = f_mean - z_mean @ weights
    residual = f - intercept - masks @ weights
    spread = pi @ fc ** 2
    r2 = 1 - (pi @ residual ** 2) / spread if spread > 1e-12 else 1.0    # 1 if f is constant
    return LimeResult(weights.reshape(x.shape) if groups is None else weights, float(intercept),
                      float(r2))
"""

_SHAPLEY = """
def shapley_sampling(model, x, target, *, n_permutations=100, rng, baseline=0.0, groups=None):
    base = np.broadcast_to(np.asarray(baseline, dtype=float), x.shape)
    group = np.arange(x.size).reshape(x.shape) if groups is None else np.asarray(groups)
    d = int(group.max()) + 1
    orders = np.argsort(rng.random((n_permutations, d)), axis=1)     # (P, d)
    ranks = np.argsort(orders, axis=1)                               # each player's place
    on = ranks[:, None, :] < np.arange(d + 1)[None, :, None]         # (P, d + 1, d)
    keep = on[..., group].astype(float)                              # (P, d + 1, *x.shape)
    inputs = (keep * x + (1 - keep) * base).reshape((-1,) + x.shape)
    values = scores(model, inputs)[:, target].reshape(n_permutations, d + 1)
    gains = np.diff(values, axis=1)                                  # (P, d): j-th joiner's gain
    phi = np.zeros(d)
    np.add.at(phi, orders.ravel(), gains.ravel())
    phi /= n_permutations
    return phi.reshape(x.shape) if groups is None else phi
"""


def _replace(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, old
    return source.replace(old, new)


MUTANTS = {
    "saliency_map": {
        "the sign dropped by an abs": _replace(_SALIENCY, "return grad\n", "return np.abs(grad)\n"),
        "always gradient x input": _replace(_SALIENCY, "return grad\n", "return grad * x\n"),
        "times_input ignored": _replace(_SALIENCY, "return grad * x", "return grad"),
    },
    "occlusion_map": {
        "occlusion not averaged over windows": _replace(
            _OCCLUSION, "return total / count", "return total"
        ),
        "the drop with its sign flipped": _replace(
            _OCCLUSION,
            "drop = full - scores(model, occluded)[rows, target]",
            "drop = scores(model, occluded)[rows, target] - full",
        ),
        "the baseline ignored (occluded with 0)": _replace(
            _OCCLUSION, "occluded[where] = base[where]", "occluded[where] = 0.0"
        ),
        "the last window kept inside the input": _replace(
            _OCCLUSION, "range(0, size - w + s, s)", "range(0, size - w + 1, s)"
        ).replace("return total / count", "return total / np.maximum(count, 1)"),
    },
    "integrated_gradients": {
        "the baseline not subtracted (x instead of x - baseline)": _replace(
            _IG, "attributions = (x - base) * mean_grad", "attributions = x * mean_grad"
        ),
        "the gradient at x, not on the path": _replace(
            _IG,
            "input_gradient(model, base + alpha * (x - base), target)",
            "input_gradient(model, x, target)",
        ),
        "the gradient at the scaled input alpha x": _replace(
            _IG,
            "input_gradient(model, base + alpha * (x - base), target)",
            "input_gradient(model, alpha * x, target)",
        ),
        "the sign dropped by an abs": _replace(
            _IG,
            "attributions = (x - base) * mean_grad",
            "attributions = np.abs((x - base) * mean_grad)",
        ),
        "the left Riemann sum": _replace(
            _IG, "alphas = np.arange(1, steps + 1) / steps", "alphas = np.arange(steps) / steps"
        ),
    },
    "lime_explain": {
        "LIME without the kernel weights": _replace(
            _LIME,
            "pi = np.exp(-(distance ** 2) / kernel_width ** 2)",
            "pi = np.ones(n_samples)",
        ),
        "no ridge penalty": _replace(_LIME, " + ridge * np.eye(d)", ""),
        "the first mask not set to all ones": _replace(_LIME, "    masks[0] = 1.0\n", ""),
        "the L1 fraction instead of the cosine distance": _replace(
            _LIME, "distance = 1 - np.sqrt(on / d)", "distance = 1 - on / d"
        ),
    },
    "shapley_sampling": {
        "marginal contributions credited by rank (wrong order)": _replace(
            _SHAPLEY,
            "np.add.at(phi, orders.ravel(), gains.ravel())",
            "np.add.at(phi, ranks.ravel(), gains.ravel())",
        ),
        "the gain reversed (without minus with)": _replace(
            _SHAPLEY, "gains = np.diff(values, axis=1)", "gains = -np.diff(values, axis=1)"
        ),
        "summed over the orders, not averaged": _replace(
            _SHAPLEY, "    phi /= n_permutations\n", ""
        ),
        "one order drawn per permutation with rng.permutation": _replace(
            _SHAPLEY,
            "orders = np.argsort(rng.random((n_permutations, d)), axis=1)",
            "orders = np.array([rng.permutation(d) for _ in range(n_permutations)])",
        ),
    },
}
