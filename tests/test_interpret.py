"""dlkit.interpret: the axioms each method must satisfy, hand-worked cases, argument errors,
and the same attributions from a dlkit.nn model and a torch module with the same weights."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import interpret as I
from dlkit import nn

torch = pytest.importorskip("torch")


def _mlp(seed: int = 0, d: int = 6, k: int = 3) -> nn.Module:
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(d, 8, rng=rng), nn.Tanh(), nn.Linear(8, k, rng=rng))


def _torch_copy(model: nn.Module) -> torch.nn.Module:
    """A float64 torch module computing exactly what the dlkit MLP computes."""
    first, last = model[0], model[2]
    t = torch.nn.Sequential(
        torch.nn.Linear(first.in_features, first.out_features),
        torch.nn.Tanh(),
        torch.nn.Linear(last.in_features, last.out_features),
    ).double()
    with torch.no_grad():
        for layer, src in ((t[0], first), (t[2], last)):
            layer.weight.copy_(torch.as_tensor(src.weight.data.T))
            layer.bias.copy_(torch.as_tensor(src.bias.data))
    return t


def _linear(w: np.ndarray, b: float = 0.5):
    """A black-box linear model with one score: f(x) = x @ w + b."""
    return lambda x: (x.reshape(len(x), -1) @ w + b)[:, None]


# -- the given utilities ---------------------------------------------------------------------
def test_scores_and_input_gradient_of_a_linear_model():
    rng = np.random.default_rng(1)
    lin = nn.Linear(4, 3, rng=rng)
    x = rng.normal(size=(5, 4))
    s = I.scores(lin, x)
    assert s.dtype == np.float64 and s.shape == (5, 3)
    np.testing.assert_allclose(s, x @ lin.weight.data + lin.bias.data)
    target = np.array([0, 1, 2, 1, 0])
    g = I.input_gradient(lin, x, target)
    np.testing.assert_allclose(g, lin.weight.data.T[target])


def test_input_gradient_leaves_parameter_gradients_and_mode_alone():
    model = _mlp()
    model.train()
    I.input_gradient(model, np.ones((2, 6)), 0)
    assert all(p.grad is None for p in model.parameters())
    assert model.training
    tm = _torch_copy(model)
    tm.train()
    I.input_gradient(tm, np.ones((2, 6)), 0)
    assert all(p.grad is None for p in tm.parameters()) and tm.training


def test_dlkit_and_torch_models_give_the_same_attributions():
    model = _mlp(2)
    tm = _torch_copy(model)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 6))
    t = np.array([0, 2, 1, 0])
    for fn in (
        lambda m: I.scores(m, x),
        lambda m: I.saliency_map(m, x, t),
        lambda m: I.saliency_map(m, x, t, times_input=True),
        lambda m: I.integrated_gradients(m, x, t, steps=20)[0],
        lambda m: I.occlusion_map(m, x, t, window=(2,), stride=(1,)),
        lambda m: I.smoothgrad(m, x, t, n_samples=4, rng=np.random.default_rng(0)),
        lambda m: I.shapley_sampling(m, x[0], 1, n_permutations=5, rng=np.random.default_rng(0)),
        lambda m: I.exact_shapley(m, x[0], 1),
        lambda m: I.lime_explain(m, x[0], 1, n_samples=50, rng=np.random.default_rng(0)).weights,
    ):
        np.testing.assert_allclose(fn(model), fn(tm), rtol=1e-10, atol=1e-12)
    # a torch tensor as input gives the same as the NumPy array
    np.testing.assert_array_equal(
        I.saliency_map(tm, torch.as_tensor(x), t), I.saliency_map(tm, x, t)
    )


def test_float32_torch_module_is_fed_its_own_dtype():
    tm = _torch_copy(_mlp()).float()
    g = I.saliency_map(tm, np.ones((2, 6)), 1)
    assert g.dtype == np.float64 and g.shape == (2, 6)


# -- saliency --------------------------------------------------------------------------------
def test_saliency_keeps_the_sign_and_times_input_multiplies():
    w = np.array([[2.0], [-3.0]])
    lin = nn.Linear(2, 1, rng=np.random.default_rng(0))
    lin.weight.data[...] = w
    x = np.array([[1.0, 2.0]])
    np.testing.assert_allclose(I.saliency_map(lin, x, 0), [[2.0, -3.0]])
    np.testing.assert_allclose(I.saliency_map(lin, x, 0, times_input=True), [[2.0, -6.0]])


def test_smoothgrad_of_a_linear_model_is_its_gradient_and_zero_noise_is_saliency():
    lin = nn.Linear(3, 2, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(2, 3))
    sg = I.smoothgrad(lin, x, 1, n_samples=7, sigma=0.5, rng=np.random.default_rng(0))
    np.testing.assert_allclose(sg, I.saliency_map(lin, x, 1))
    model = _mlp()
    x = np.random.default_rng(2).normal(size=(3, 6))
    sg0 = I.smoothgrad(model, x, 0, n_samples=3, sigma=0.0, rng=np.random.default_rng(0))
    np.testing.assert_allclose(sg0, I.saliency_map(model, x, 0))
    a = I.smoothgrad(model, x, 0, n_samples=3, rng=np.random.default_rng(5))
    b = I.smoothgrad(model, x, 0, n_samples=3, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


# -- integrated gradients --------------------------------------------------------------------
def test_integrated_gradients_completeness_gap_shrinks_with_steps():
    model = _mlp(4)
    x = np.random.default_rng(5).normal(size=(3, 6)) * 2
    for rule, order, bound in (("trapezoid", 2, 1e-3), ("riemann", 1, 5e-2)):
        gaps = [
            np.abs(I.integrated_gradients(model, x, 1, steps=s, rule=rule)[1]).max()
            for s in (4, 16, 64)
        ]
        assert gaps[0] > gaps[1] > gaps[2], (rule, gaps)
        assert gaps[2] < bound, (rule, gaps)
        # the trapezoid error falls like 1/steps^2, the Riemann one like 1/steps
        assert gaps[1] / gaps[2] > 4**order * 0.5, (rule, gaps)
    attr, gap = I.integrated_gradients(model, x, 1, steps=400)
    s = I.scores(model, x)[:, 1] - I.scores(model, np.zeros_like(x))[:, 1]
    np.testing.assert_allclose(attr.sum(axis=1), s, atol=1e-5)
    np.testing.assert_allclose(gap, attr.sum(axis=1) - s)


def test_integrated_gradients_of_a_linear_model_is_exact_for_any_baseline():
    lin = nn.Linear(4, 2, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(3, 4))
    base = np.array([0.5, -1.0, 0.0, 2.0])
    for rule, steps in (("trapezoid", 2), ("riemann", 1)):
        attr, gap = I.integrated_gradients(lin, x, 0, baseline=base, steps=steps, rule=rule)
        np.testing.assert_allclose(attr, (x - base) * lin.weight.data[:, 0])
        np.testing.assert_allclose(gap, 0.0, atol=1e-12)


def test_integrated_gradients_baseline_equal_to_x_gives_zero():
    model = _mlp()
    x = np.random.default_rng(0).normal(size=(2, 6))
    attr, gap = I.integrated_gradients(model, x, 2, baseline=x, steps=5)
    np.testing.assert_array_equal(attr, 0.0)
    np.testing.assert_allclose(gap, 0.0, atol=1e-12)


# -- occlusion -------------------------------------------------------------------------------
def test_occlusion_by_hand_on_a_tiny_linear_model():
    # f(x) = x @ w + 0.5 on 4 features, window 2, stride 1: windows {0,1}, {1,2}, {2,3}
    w = np.array([1.0, 2.0, 3.0, 4.0])
    x = np.array([[1.0, 1.0, 1.0, 1.0]])
    drops = [w[0] + w[1], w[1] + w[2], w[2] + w[3]]  # 3, 5, 7
    expected = [[drops[0], (drops[0] + drops[1]) / 2, (drops[1] + drops[2]) / 2, drops[2]]]
    out = I.occlusion_map(_linear(w), x, 0, window=(2,), stride=(1,))
    np.testing.assert_allclose(out, expected)
    # window 1 with baseline b: the drop is w_j (x_j - b_j), gradient x (input - baseline)
    b = np.array([0.5, 0.0, -1.0, 2.0])
    out = I.occlusion_map(_linear(w), x, 0, window=1, stride=1, baseline=b)
    np.testing.assert_allclose(out, w * (x - b))


def test_occlusion_last_window_is_cut_at_the_edge():
    # 5 features, window 2, stride 2: windows start at 0, 2, 4 (the last covers feature 4 only)
    w = np.arange(1.0, 6.0)
    out = I.occlusion_map(_linear(w, 0.0), np.ones((1, 5)), 0, window=2, stride=2)
    np.testing.assert_allclose(out, [[3.0, 3.0, 7.0, 7.0, 5.0]])


def test_occlusion_over_images_and_a_batch():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(1, 4, 4))
    x = rng.normal(size=(3, 1, 4, 4))
    f = _linear(w.reshape(-1), 0.0)
    out = I.occlusion_map(f, x, 0, window=(1, 1, 1), stride=(1, 1, 1))
    np.testing.assert_allclose(out, x * w)
    out2 = I.occlusion_map(f, x, 0, window=(1, 2, 2), stride=(1, 2, 2))
    blocks = (x * w).reshape(3, 1, 2, 2, 2, 2).sum(axis=(3, 5))
    np.testing.assert_allclose(out2, np.repeat(np.repeat(blocks, 2, axis=2), 2, axis=3))


# -- Shapley ---------------------------------------------------------------------------------
def _interaction_model(x: np.ndarray) -> np.ndarray:
    """Two scores over 4 features: 2 x0 x1 + x2 (x3 is a dummy), and x0 + x1 + x2^2."""
    f = x.reshape(len(x), -1)
    return np.stack([2 * f[:, 0] * f[:, 1] + f[:, 2], f[:, 0] + f[:, 1] + f[:, 2] ** 2], axis=1)


def test_exact_shapley_by_hand_symmetry_dummy_efficiency():
    x = np.array([1.0, 1.0, 2.0, 5.0])
    phi = I.exact_shapley(_interaction_model, x, 0)
    # x0 and x1 share the interaction 2 x0 x1 = 2 equally; x2 gets 2; the dummy x3 gets 0
    np.testing.assert_allclose(phi, [1.0, 1.0, 2.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(phi.sum(), _interaction_model(x[None])[0, 0])  # efficiency
    phi_s = I.shapley_sampling(
        _interaction_model, x, 0, n_permutations=7, rng=np.random.default_rng(0)
    )
    np.testing.assert_allclose(phi_s[3], 0.0, atol=1e-12)  # dummy: every marginal is zero
    np.testing.assert_allclose(phi_s.sum(), 4.0)  # efficiency holds for every permutation
    # x2 is additive (its marginal is 2 in every order); x0 and x1 split the interaction
    # 2 : 0 or 0 : 2 depending on which comes first, so only their sum is fixed per sample
    np.testing.assert_allclose([phi_s[0] + phi_s[1], phi_s[2]], [2.0, 2.0], atol=1e-12)


def test_shapley_sampling_converges_to_exact():
    model = _mlp(7)
    x = np.random.default_rng(8).normal(size=6)
    exact = I.exact_shapley(model, x, 2, baseline=0.1)
    errors = []
    for n in (10, 1000):
        est = I.shapley_sampling(
            model, x, 2, n_permutations=n, baseline=0.1, rng=np.random.default_rng(1)
        )
        np.testing.assert_allclose(est.sum(), exact.sum(), atol=1e-10)
        errors.append(np.abs(est - exact).max())
    assert errors[1] < errors[0] / 3 and errors[1] < 0.05, errors


def test_constant_model_gets_zero_attribution_everywhere():
    const = lambda x: np.full((len(x), 2), 3.0)  # noqa: E731
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5))
    np.testing.assert_array_equal(I.occlusion_map(const, x, 1, window=2, stride=1), 0.0)
    np.testing.assert_array_equal(I.exact_shapley(const, x[0], 1), 0.0)
    np.testing.assert_array_equal(I.shapley_sampling(const, x[0], 1, rng=rng), 0.0)
    res = I.lime_explain(const, x[0], 1, rng=rng)
    np.testing.assert_allclose(res.weights, 0.0, atol=1e-12)
    np.testing.assert_allclose(res.intercept, 3.0)
    assert res.r2 == 1.0
    lin = nn.Linear(5, 2, rng=rng)
    lin.weight.data[...] = 0.0
    np.testing.assert_array_equal(I.saliency_map(lin, x, 0), 0.0)
    attr, gap = I.integrated_gradients(lin, x, 0)
    np.testing.assert_array_equal(attr, 0.0)
    np.testing.assert_allclose(gap, 0.0)


def test_groups_give_one_value_per_group():
    x = np.array([1.0, 1.0, 2.0, 5.0])
    groups = np.array([0, 0, 1, 2])
    phi = I.exact_shapley(_interaction_model, x, 0, groups=groups)
    np.testing.assert_allclose(phi, [2.0, 2.0, 0.0], atol=1e-12)
    phi_s = I.shapley_sampling(
        _interaction_model, x, 0, groups=groups, n_permutations=3, rng=np.random.default_rng(0)
    )
    np.testing.assert_allclose(phi_s, phi, atol=1e-12)  # no interaction across groups
    res = I.lime_explain(_interaction_model, x, 0, groups=groups, rng=np.random.default_rng(0))
    assert res.weights.shape == (3,)


# -- LIME ------------------------------------------------------------------------------------
def test_lime_recovers_a_linear_model_exactly_without_ridge():
    w = np.array([1.0, -2.0, 0.5, 3.0])
    x = np.array([2.0, 1.0, -1.0, 0.5])
    res = I.lime_explain(
        _linear(w), x, 0, n_samples=200, ridge=0.0, rng=np.random.default_rng(0), baseline=1.0
    )
    np.testing.assert_allclose(res.weights, w * (x - 1.0), atol=1e-10)
    np.testing.assert_allclose(res.intercept, w.sum() + 0.5, atol=1e-10)
    np.testing.assert_allclose(res.r2, 1.0)
    shrunk = I.lime_explain(
        _linear(w), x, 0, n_samples=200, ridge=10.0, rng=np.random.default_rng(0), baseline=1.0
    )
    assert np.abs(shrunk.weights).sum() < np.abs(res.weights).sum()  # ridge shrinks


def test_lime_fidelity_is_below_one_for_an_interaction_and_is_reproducible():
    x = np.array([1.0, 1.0, 2.0, 5.0])
    a = I.lime_explain(_interaction_model, x, 0, rng=np.random.default_rng(3))
    b = I.lime_explain(_interaction_model, x, 0, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.weights, b.weights)
    assert (a.intercept, a.r2) == (b.intercept, b.r2)
    assert 0.0 < a.r2 < 1.0


# -- argument errors -------------------------------------------------------------------------
def test_gradient_methods_refuse_a_plain_callable():
    f = _linear(np.ones(3))
    with pytest.raises(TypeError, match="model"):
        I.saliency_map(f, np.ones((1, 3)), 0)
    with pytest.raises(TypeError, match="model"):
        I.integrated_gradients(f, np.ones((1, 3)), 0)
    with pytest.raises(TypeError, match="model"):
        I.input_gradient(f, np.ones((1, 3)), 0)
    with pytest.raises(TypeError, match="model"):
        I.scores("not a model", np.ones((1, 3)))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m: I.saliency_map(m, np.ones(6), 0), ValueError, r"x must be a batch"),
        (lambda m: I.saliency_map(m, np.ones((2, 6)), 3), ValueError, r"target must be in"),
        (lambda m: I.saliency_map(m, np.ones((2, 6)), [0, 1, 2]), ValueError, r"shape \(2,\)"),
        (lambda m: I.saliency_map(m, np.ones((2, 6)), 0.5), TypeError, "target"),
        (lambda m: I.saliency_map(m, np.ones((2, 6)), 0, times_input=1), TypeError, "times_in"),
        (lambda m: I.integrated_gradients(m, np.ones((2, 6)), 0, steps=1), ValueError, "steps"),
        (
            lambda m: I.integrated_gradients(m, np.ones((2, 6)), 0, rule="simpson"),
            ValueError,
            "rule",
        ),
        (
            lambda m: I.integrated_gradients(m, np.ones((2, 6)), 0, baseline=np.ones(5)),
            ValueError,
            "baseline",
        ),
        (
            lambda m: I.occlusion_map(m, np.ones((2, 6)), 0, window=(2, 2), stride=1),
            ValueError,
            "window",
        ),
        (
            lambda m: I.occlusion_map(m, np.ones((2, 6)), 0, window=7, stride=1),
            ValueError,
            "window",
        ),
        (
            lambda m: I.occlusion_map(m, np.ones((2, 6)), 0, window=2, stride=3),
            ValueError,
            "stride",
        ),
        (lambda m: I.smoothgrad(m, np.ones((2, 6)), 0, rng=0), TypeError, "rng"),
        (
            lambda m: I.smoothgrad(m, np.ones((2, 6)), 0, sigma=-1, rng=np.random.default_rng()),
            ValueError,
            "sigma",
        ),
        (lambda m: I.lime_explain(m, np.ones(6), 0, rng=None), TypeError, "rng"),
        (
            lambda m: I.lime_explain(m, np.ones(6), 0, rng=np.random.default_rng(), kernel_width=0),
            ValueError,
            "kernel_width",
        ),
        (
            lambda m: I.lime_explain(m, np.ones(6), 0, rng=np.random.default_rng(), n_samples=1),
            ValueError,
            "n_samples",
        ),
        (
            lambda m: I.lime_explain(m, np.ones(6), [0], rng=np.random.default_rng()),
            TypeError,
            "target",
        ),
        (
            lambda m: I.shapley_sampling(
                m, np.ones(6), 0, rng=np.random.default_rng(), groups=np.array([0, 0, 2, 2, 3, 3])
            ),
            ValueError,
            "groups",
        ),
        (
            lambda m: I.shapley_sampling(
                m, np.ones(6), 0, rng=np.random.default_rng(), groups=np.zeros(5, int)
            ),
            ValueError,
            "groups",
        ),
        (
            lambda m: I.shapley_sampling(
                m, np.ones(6), 0, rng=np.random.default_rng(), n_permutations=0
            ),
            ValueError,
            "n_permutations",
        ),
        (lambda m: I.exact_shapley(m, np.ones(6), 0, baseline=np.ones(3)), ValueError, "baseline"),
        (lambda m: I.scores(m, np.ones((2, 6)) * np.nan), ValueError, "finite"),
    ],
)
def test_argument_errors_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call(_mlp())


def test_exact_shapley_refuses_too_many_features_and_suggests_groups():
    with pytest.raises(ValueError, match="groups"):
        I.exact_shapley(_linear(np.ones(17)), np.ones(17), 0)


def test_a_model_with_the_wrong_output_shape_is_reported():
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        I.occlusion_map(lambda x: x.sum(axis=1), np.ones((2, 3)), 0, window=1, stride=1)


def test_random_draws_follow_the_documented_calls_however_evaluations_are_batched(monkeypatch):
    model = _mlp(9, d=12)
    x = np.random.default_rng(0).normal(size=12)
    groups = np.arange(12) // 3
    kw = {"rng": np.random.default_rng(3), "baseline": 0.1}
    phi = I.shapley_sampling(model, x, 1, n_permutations=30, **kw)
    lime = I.lime_explain(model, x, 1, n_samples=80, groups=groups, rng=np.random.default_rng(4))
    # the documented draws, evaluated by hand
    orders = np.argsort(np.random.default_rng(3).random((30, 12)), axis=1)
    by_hand = np.zeros(12)
    for order in orders:
        z = np.full(12, 0.1)
        before = I.scores(model, z[None])[0, 1]
        for j in order:
            z[j] = x[j]
            after = I.scores(model, z[None])[0, 1]
            by_hand[j] += after - before
            before = after
    np.testing.assert_allclose(phi, by_hand / 30, atol=1e-12)
    masks = np.random.default_rng(4).random((80, 4)) < 0.5
    masks[0] = True
    refit = I.lime_explain(model, x, 1, n_samples=80, groups=groups, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(lime.weights, refit.weights)
    monkeypatch.setattr(I, "_CHUNK_ELEMENTS", 40)  # a few inputs per forward pass
    np.testing.assert_allclose(
        I.shapley_sampling(
            model, x, 1, n_permutations=30, **{"rng": np.random.default_rng(3), "baseline": 0.1}
        ),
        phi,
        atol=1e-12,
    )
    small = I.lime_explain(model, x, 1, n_samples=80, groups=groups, rng=np.random.default_rng(4))
    np.testing.assert_allclose(small.weights, lime.weights, atol=1e-12)
    # the surrogate is the weighted ridge fit on exactly those masks
    inputs = np.where(masks[:, groups], x, 0.0)
    y = I.scores(model, inputs)[:, 1]
    d = 1 - np.sqrt(masks.sum(axis=1) / 4)
    w = np.exp(-(d**2) / 0.25**2)
    design = np.hstack([np.ones((80, 1)), masks.astype(float)])
    penalty = np.diag([0.0, 1.0, 1.0, 1.0, 1.0])
    coef = np.linalg.solve(design.T @ (w[:, None] * design) + penalty, design.T @ (w * y))
    np.testing.assert_allclose(lime.weights, coef[1:], atol=1e-9)
    np.testing.assert_allclose(lime.intercept, coef[0], atol=1e-9)
