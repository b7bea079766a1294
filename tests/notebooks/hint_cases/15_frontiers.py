"""Wrong answers a student is likely to write for unit 15, and the hint each must get."""

import runpy
from pathlib import Path

# the correct answer cells that each case changes, and _replace, are the mutants file's
_MUTANTS = runpy.run_path(
    str(Path(__file__).resolve().parents[2] / "grading/mutants/15_frontiers.py")
)
_RETURNS, _REINFORCE, _ES = _MUTANTS["_RETURNS"], _MUTANTS["_REINFORCE"], _MUTANTS["_ES"]
_GCN, _GCN_BACKWARD, _SQUASH = _MUTANTS["_GCN"], _MUTANTS["_GCN_BACKWARD"], _MUTANTS["_SQUASH"]
_replace = _MUTANTS["_replace"]
_WRONG = _MUTANTS["MUTANTS"]

CASES = {
    # answer cell grade_id -> [(description, full answer-cell source, hint substring), ...]
    "discounted_returns": [
        (
            "accumulated forward from the start",
            _WRONG["discounted_returns"]["accumulated forward from the start"],
            "looks FORWARD",
        ),
        (
            "gamma one step off",
            _WRONG["discounted_returns"]["gamma one step off (the own reward discounted)"],
            "one step off",
        ),
        (
            "the running return started at 1",
            _replace(_RETURNS, "running = 0.0", "running = 1.0"),
            "G_T, is 0",
        ),
        (
            "dones ignored",
            _WRONG["discounted_returns"]["the return leaks across an episode end (dones ignored)"],
            "leaked across the episode end",
        ),
        (
            "the reset one step late",
            _WRONG["discounted_returns"]["the reset one step late (after adding r_t)"],
            "one step late",
        ),
        (
            "integer output for integer rewards",
            _replace(
                _RETURNS, "returns = np.empty(len(rewards))", "returns = np.zeros_like(rewards)"
            ),
            "float64",
        ),
    ],
    "reinforce_loss": [
        (
            "the loss sign flipped",
            _WRONG["reinforce_loss"]["the loss sign flipped (ascent written as the loss)"],
            "wrong sign",
        ),
        (
            "summed instead of averaged",
            _WRONG["reinforce_loss"]["summed over the steps instead of averaged"],
            "np.mean",
        ),
        (
            "the baseline added",
            _WRONG["reinforce_loss"]["the baseline added instead of subtracted"],
            "SUBTRACTED",
        ),
        (
            "no log-sum-exp",
            _WRONG["reinforce_loss"]["log of softmax without log-sum-exp (overflows)"],
            "overflow",
        ),
        (
            "the gradient without the softmax term",
            _WRONG["reinforce_loss"]["the gradient without the softmax term"],
            "onehot(a) - softmax(z)",
        ),
    ],
    "es_gradient": [
        (
            "the mean fitness not subtracted",
            _WRONG["es_gradient"]["the mean fitness not subtracted"],
            "subtract the mean fitness",
        ),
        (
            "divided by sigma squared",
            _WRONG["es_gradient"]["divided by sigma squared"],
            "divide by sigma once",
        ),
        (
            "averaged over the parameters",
            _WRONG["es_gradient"]["averaged over the parameters instead of the population"],
            "not over the parameters",
        ),
    ],
    "gcn_layer": [
        (
            "no message passing",
            _WRONG["gcn_layer"]["no message passing (h @ w)"],
            "not mixed over the neighbours",
        ),
        (
            "a_hat transposed",
            _WRONG["gcn_layer"]["a_hat transposed"],
            "what node i takes from node j",
        ),
        (
            "the bias ignored",
            _WRONG["gcn_layer"]["the bias ignored"],
            "bias is added",
        ),
    ],
    "gcn_layer_backward": [
        (
            "a_hat not transposed in dh",
            _WRONG["gcn_layer_backward"]["a_hat not transposed in dh"],
            "TRANSPOSE of a_hat",
        ),
        (
            "dw from h",
            _WRONG["gcn_layer_backward"]["dw from h instead of a_hat @ h"],
            "MIXED features",
        ),
        (
            "db the mean",
            _WRONG["gcn_layer_backward"]["db the mean over nodes"],
            "SUM of dout over the nodes",
        ),
    ],
    "squash": [
        (
            "|s| instead of |s|^2",
            _WRONG["squash"]["|s| instead of |s|^2 in the length factor"],
            "uses |s|^2",
        ),
        (
            "not normalized",
            _WRONG["squash"]["not normalized by |s|"],
            "divide by |s| too",
        ),
        (
            "NaN on a zero vector",
            _WRONG["squash"]["NaN on a zero vector (no eps)"],
            "sqrt(|s|^2 + eps)",
        ),
        (
            "the norm over the whole array",
            _WRONG["squash"]["the norm over the whole array (axis ignored)"],
            "own length",
        ),
    ],
}
