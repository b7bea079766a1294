"""dlkit.interpret against the libraries practitioners use: captum and shap, same torch model.

Deterministic methods (Saliency, InputXGradient, Occlusion, IntegratedGradients, shap's exact
explainer) must agree to rounding: 1e-5 in float64 (1e-6 for shap's Exact, which does the same
sums), 1e-4 in float32. The sampling methods (ShapleyValueSampling, KernelShap, Lime) draw
different random samples than ours, so they cannot agree exactly: each is compared with the
quantity both estimate (the exact Shapley values of a 6-feature model; a converged LIME
surrogate), with a bound stated next to the test and a check that the error shrinks with the
number of samples.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from dlkit import interpret as I

torch = pytest.importorskip("torch")
captum_attr = pytest.importorskip("captum.attr")

# captum's gradient methods switch on requires_grad for the inputs they are given, and say so
pytestmark = pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require:UserWarning")

D, K = 6, 3


def _mlp(dtype=torch.float64) -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(D, 16), torch.nn.Tanh(), torch.nn.Linear(16, K)).to(
        dtype
    )
    return model.eval()


def _cnn() -> torch.nn.Module:
    torch.manual_seed(1)
    return (
        torch.nn.Sequential(
            torch.nn.Conv2d(1, 3, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.Flatten(),
            torch.nn.Linear(3 * 7 * 7, K),
        )
        .double()
        .eval()
    )


def _inputs(n: int = 4, shape=(D,), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, *shape))


TARGET = np.array([0, 2, 1, 0])


def _max_diff(ours: np.ndarray, theirs) -> float:
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    return float(np.abs(ours - theirs.astype(np.float64)).max())


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-5), (torch.float32, 1e-4)])
def test_saliency_and_input_x_gradient_match_captum(dtype, tol):
    model = _mlp(dtype)
    x = _inputs()
    xt = torch.as_tensor(x, dtype=dtype)
    t = torch.as_tensor(TARGET)
    theirs = captum_attr.Saliency(model).attribute(xt, target=t, abs=False)
    assert _max_diff(I.saliency_map(model, x, TARGET), theirs) < tol
    theirs = captum_attr.InputXGradient(model).attribute(xt, target=t)
    # captum multiplies by the float32 input; ours by the float64 one: compare on xt's values
    xin = xt.double().numpy()
    assert _max_diff(I.saliency_map(model, xin, TARGET, times_input=True), theirs) < tol


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-5), (torch.float32, 1e-4)])
def test_occlusion_matches_captum_on_vectors_and_images(dtype, tol):
    model = _mlp(dtype)
    x = _inputs()
    xt = torch.as_tensor(x, dtype=dtype)
    theirs = captum_attr.Occlusion(model).attribute(
        xt, sliding_window_shapes=(2,), strides=(1,), baselines=0.3, target=torch.as_tensor(TARGET)
    )
    ours = I.occlusion_map(
        model, xt.double().numpy(), TARGET, window=(2,), stride=(1,), baseline=0.3
    )
    assert _max_diff(ours, theirs) < tol
    # images: window 3x3 with stride 2 over 7x7, so the last window in each direction is cut
    cnn = _cnn() if dtype == torch.float64 else _cnn().float()
    img = _inputs(shape=(1, 7, 7), seed=1)
    it = torch.as_tensor(img, dtype=dtype)
    theirs = captum_attr.Occlusion(cnn).attribute(
        it,
        sliding_window_shapes=(1, 3, 3),
        strides=(1, 2, 2),
        baselines=0.0,
        target=torch.as_tensor(TARGET),
    )
    ours = I.occlusion_map(cnn, it.double().numpy(), TARGET, window=(1, 3, 3), stride=(1, 2, 2))
    assert _max_diff(ours, theirs) < tol


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-5), (torch.float32, 1e-4)])
def test_integrated_gradients_match_captum(dtype, tol):
    model = _mlp(dtype)
    x = _inputs() * 2
    xt = torch.as_tensor(x, dtype=dtype)
    xin = xt.double().numpy()
    base = np.linspace(-0.5, 0.5, D)
    bt = torch.as_tensor(base, dtype=dtype)[None].expand_as(xt)
    t = torch.as_tensor(TARGET)
    ig = captum_attr.IntegratedGradients(model)
    steps = 32
    # right Riemann sums: the same points and weights as captum's riemann_right
    theirs = ig.attribute(xt, baselines=bt, target=t, n_steps=steps, method="riemann_right")
    ours, _ = I.integrated_gradients(model, xin, TARGET, baseline=base, steps=steps, rule="riemann")
    assert _max_diff(ours, theirs) < tol
    # captum's riemann_trapezoid evaluates the same points 0, 1/(n-1), ..., 1 but weighs them
    # 1/n (halved at the ends), so its weights sum to (n-1)/n; ours are the trapezoid rule's
    # 1/(n-1), which sum to 1 and satisfy completeness. Same integrand, scaled weights:
    theirs, delta = ig.attribute(
        xt,
        baselines=bt,
        target=t,
        n_steps=steps,
        method="riemann_trapezoid",
        return_convergence_delta=True,
    )
    ours, gap = I.integrated_gradients(model, xin, TARGET, baseline=base, steps=steps)
    assert _max_diff(ours * (steps - 1) / steps, theirs) < tol
    assert np.abs(gap).max() < 1e-3  # ours is (nearly) complete; captum's delta is not
    assert np.abs(delta.double().numpy()).max() > 10 * np.abs(gap).max()


def _exact_and_ranges(model, x, target, baseline):
    """Exact Shapley values and, per feature, the range of its marginal contributions."""
    exact = I.exact_shapley(model, x, target, baseline=baseline)
    masks = ((np.arange(2**D)[:, None] >> np.arange(D)) & 1).astype(bool)
    v = I.scores(model, np.where(masks, x, baseline))[:, target]
    ranges = []
    for j in range(D):
        without = np.flatnonzero(~masks[:, j])
        marginal = v[without + (1 << j)] - v[without]
        ranges.append(marginal.max() - marginal.min())
    return exact, np.array(ranges)


def test_shapley_sampling_ours_and_captums_converge_to_exact():
    # Each sampled permutation gives feature j one marginal contribution, a value in a known
    # interval of width R_j (computed exactly from the 2^6 coalitions). Hoeffding's inequality
    # bounds the error of an average of n of them: |phi_hat - phi| <= R_j sqrt(ln(2/p) / (2n))
    # with probability 1 - p. With p = 1e-6 per feature this is the tolerance, for both
    # estimators, at two sample sizes (the bound shrinks like 1/sqrt(n)).
    model = _mlp()
    x = _inputs(1)[0]
    baseline, target = 0.2, 1
    exact, ranges = _exact_and_ranges(model, x, target, baseline)
    svs = captum_attr.ShapleyValueSampling(model)
    for n in (50, 800):
        bound = ranges * math.sqrt(math.log(2 / 1e-6) / (2 * n))
        ours = I.shapley_sampling(
            model, x, target, n_permutations=n, baseline=baseline, rng=np.random.default_rng(n)
        )
        torch.manual_seed(n)
        theirs = svs.attribute(
            torch.as_tensor(x)[None],
            baselines=baseline,
            target=target,
            n_samples=n,
            perturbations_per_eval=64,
        )[0].numpy()
        assert np.all(np.abs(ours - exact) <= bound), (n, ours - exact, bound)
        assert np.all(np.abs(theirs - exact) <= bound), (n, theirs - exact, bound)
        # efficiency: every permutation's contributions add up to f(x) - f(baseline)
        np.testing.assert_allclose(ours.sum(), exact.sum(), atol=1e-10)


def test_kernel_shap_converges_to_our_exact_shapley():
    # KernelShap samples coalitions from the Shapley kernel and fits a weighted regression;
    # with 6 features (64 coalitions) it converges to the exact values. There is no closed-form
    # bound for the regression, so the test checks the error falls with the sample count and
    # is below 10% of the largest exact value at 4000 samples (measured: about 1%).
    model = _mlp()
    x = _inputs(1, seed=3)[0]
    baseline, target = 0.0, 2
    exact = I.exact_shapley(model, x, target, baseline=baseline)
    ks = captum_attr.KernelShap(model)
    errors = []
    for n in (200, 4000):
        torch.manual_seed(0)
        theirs = ks.attribute(
            torch.as_tensor(x)[None],
            baselines=baseline,
            target=target,
            n_samples=n,
            perturbations_per_eval=256,
        )[0].numpy()
        errors.append(np.abs(theirs - exact).max())
    assert errors[1] < errors[0], errors
    assert errors[1] < 0.1 * np.abs(exact).max(), (errors, exact)


def _lime_similarity(kernel_width: float):
    """Our proximity kernel, for captum's Lime: exp(-d^2 / w^2), d = cosine distance of the
    binary mask to the all-on mask."""

    def similarity(original, perturbed, mask, **kwargs):
        on = float(mask.sum())
        d = 1.0 - math.sqrt(on / mask.numel())
        return math.exp(-(d**2) / kernel_width**2)

    return similarity


@pytest.mark.slow
def test_lime_ours_and_captums_agree_within_sampling_error():
    # Both fit the same kernel-weighted ridge surrogate on masks drawn with probability 1/2;
    # only the samples differ. A reference surrogate from 100,000 of our samples stands for the
    # population solution. Regression coefficients from n samples carry an error of order
    # 1/sqrt(n): the tolerance at n = 3000 is 0.1 of the largest reference weight (measured:
    # a few percent); the ridge penalty (1.0) is negligible against n weighted samples.
    from captum._utils.models.linear_model import SkLearnRidge

    model = _mlp()
    x = _inputs(1, seed=4)[0]
    target, width, ridge, baseline = 0, 0.75, 1.0, 0.0
    reference = I.lime_explain(
        model,
        x,
        target,
        n_samples=100_000,
        kernel_width=width,
        ridge=ridge,
        rng=np.random.default_rng(0),
        baseline=baseline,
    )
    ours = I.lime_explain(
        model,
        x,
        target,
        n_samples=3000,
        kernel_width=width,
        ridge=ridge,
        rng=np.random.default_rng(1),
        baseline=baseline,
    )
    lime = captum_attr.Lime(
        model,
        interpretable_model=SkLearnRidge(alpha=ridge),
        similarity_func=_lime_similarity(width),
    )
    torch.manual_seed(0)
    theirs = lime.attribute(
        torch.as_tensor(x)[None],
        target=target,
        n_samples=3000,
        baselines=baseline,
        perturbations_per_eval=256,
    )[0].numpy()
    scale = np.abs(reference.weights).max()
    assert np.abs(ours.weights - reference.weights).max() < 0.1 * scale
    assert np.abs(theirs - reference.weights).max() < 0.1 * scale
    assert 0.0 < reference.r2 <= 1.0


@pytest.mark.slow  # importing shap takes most of this file's time
def test_shap_exact_explainer_equals_exact_shapley():
    with warnings.catch_warnings():
        # shap's import pulls in matplotlib APIs that warn; filtered here, for shap only
        warnings.simplefilter("ignore", DeprecationWarning)
        shap = pytest.importorskip("shap")
    rng = np.random.default_rng(5)
    w1, w2 = rng.normal(size=(5, 4)), rng.normal(size=(4,))

    def model(z: np.ndarray) -> np.ndarray:  # a small tabular model with interactions
        h = np.tanh(z @ w1)
        return np.stack([h @ w2, (z[:, 0] * z[:, 1] - z[:, 2]) ** 2], axis=1)

    x = rng.normal(size=5)
    baseline = rng.normal(size=5)
    masker = shap.maskers.Independent(baseline[None], max_samples=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        explanation = shap.explainers.Exact(model, masker)(x[None])
    for target in range(2):
        ours = I.exact_shapley(model, x, target, baseline=baseline)
        theirs = explanation.values[0, :, target]
        assert np.abs(ours - theirs).max() < 1e-6, (target, ours, theirs)
