"""Wrong answers a student is likely to write for unit 14, and the hint each must get."""

import runpy
from pathlib import Path

# the correct answer cells that each case changes, and _replace, are the mutants file's
_MUTANTS = runpy.run_path(
    str(Path(__file__).resolve().parents[2] / "grading/mutants/14_interpretability.py")
)
_SALIENCY, _OCCLUSION, _IG = _MUTANTS["_SALIENCY"], _MUTANTS["_OCCLUSION"], _MUTANTS["_IG"]
_LIME, _SHAPLEY = _MUTANTS["_LIME"], _MUTANTS["_SHAPLEY"]
_replace = _MUTANTS["_replace"]
_WRONG = _MUTANTS["MUTANTS"]

CASES = {
    # answer cell grade_id -> [(description, full answer-cell source, hint substring), ...]
    "saliency_map": [
        (
            "the sign dropped by an abs",
            _WRONG["saliency_map"]["the sign dropped by an abs"],
            "keep the sign",
        ),
        (
            "always gradient x input",
            _WRONG["saliency_map"]["always gradient x input"],
            "by default",
        ),
        (
            "times_input ignored",
            _WRONG["saliency_map"]["times_input ignored"],
            "multiplies the gradient",
        ),
    ],
    "occlusion_map": [
        (
            "the drops summed, not averaged",
            _WRONG["occlusion_map"]["occlusion not averaged over windows"],
            "mean of their drops",
        ),
        (
            "the drop's sign flipped",
            _WRONG["occlusion_map"]["the drop with its sign flipped"],
            "positive when hiding",
        ),
        (
            "occluded with 0 whatever the baseline",
            _WRONG["occlusion_map"]["the baseline ignored (occluded with 0)"],
            "takes the value `baseline`",
        ),
        (
            "the last window kept inside the input",
            _WRONG["occlusion_map"]["the last window kept inside the input"],
            "cut off at the edge",
        ),
    ],
    "integrated_gradients": [
        (
            "the baseline not subtracted (x instead of x - baseline)",
            _WRONG["integrated_gradients"][
                "the baseline not subtracted (x instead of x - baseline)"
            ],
            "not by x",
        ),
        (
            "the gradient at x, not on the path",
            _WRONG["integrated_gradients"]["the gradient at x, not on the path"],
            "not at x itself",
        ),
        (
            "the gradient at alpha x (the path from 0, not from the baseline)",
            _WRONG["integrated_gradients"]["the gradient at the scaled input alpha x"],
            "not at alpha x",
        ),
        (
            "the gradient at the baseline",
            _replace(
                _IG,
                "input_gradient(model, base + alpha * (x - base), target)",
                "input_gradient(model, base, target)",
            ),
            "not at the baseline",
        ),
        (
            "the sign dropped by an abs",
            _WRONG["integrated_gradients"]["the sign dropped by an abs"],
            "np.abs",
        ),
        (
            "the left Riemann sum",
            _WRONG["integrated_gradients"]["the left Riemann sum"],
            "RIGHT sum",
        ),
        (
            "the gap with its sign flipped",
            _replace(
                _IG,
                "gap = attributions.reshape(x.shape[0], -1).sum(axis=1) - change",
                "gap = change - attributions.reshape(x.shape[0], -1).sum(axis=1)",
            ),
            "in that order",
        ),
    ],
    "lime_explain": [
        (
            "LIME without the kernel weights",
            _WRONG["lime_explain"]["LIME without the kernel weights"],
            "weigh each mask by the kernel",
        ),
        ("no ridge penalty", _WRONG["lime_explain"]["no ridge penalty"], "add the ridge penalty"),
        (
            "the mask used as the input (coef, not coef * x)",
            _replace(
                _LIME, "scores(model, keep * x + (1 - keep) * base)", "scores(model, keep + 0 * x)"
            ),
            "coef_i * x_i",
        ),
    ],
    "shapley_sampling": [
        (
            "marginal contributions credited by rank (wrong order)",
            _WRONG["shapley_sampling"]["marginal contributions credited by rank (wrong order)"],
            "joined",
        ),
        (
            "the gain reversed",
            _WRONG["shapley_sampling"]["the gain reversed (without minus with)"],
            "not the reverse",
        ),
        (
            "summed over the orders",
            _WRONG["shapley_sampling"]["summed over the orders, not averaged"],
            "divide the summed gains",
        ),
        (
            "a feature outside the coalition set to 0",
            _replace(_SHAPLEY, "(keep * x + (1 - keep) * base)", "(keep * x)"),
            "takes the baseline",
        ),
    ],
}
