"""Wrong answers a student is likely to write for unit 13, and the hint each must get."""

import runpy
from pathlib import Path

# the wrong answer cells are the mutants file's: each case names the mutant and its hint
_MUTANTS = runpy.run_path(
    str(Path(__file__).resolve().parents[2] / "grading/mutants/13_torch_gpu.py")
)
_M = _MUTANTS["MUTANTS"]


def _case(exercise: str, mutant: str, hint: str) -> tuple[str, str, str]:
    return (mutant, _M[exercise][mutant], hint)


CASES = {
    # answer cell grade_id -> [(description, full answer-cell source, hint substring), ...]
    "DigitsCNN": [
        _case(
            "DigitsCNN",
            "no ReLU after the second convolution",
            "no ReLU after the second convolution",
        ),
        _case("DigitsCNN", "num_classes ignored (always 10 outputs)", "num_classes sets the head"),
    ],
    "train_epoch": [
        _case(
            "train_epoch",
            "mean of the batch means (a short last batch counts as a full one)",
            "weight each batch's loss by its size",
        ),
        _case(
            "train_epoch", "no zero_grad: gradients add up across batches", "optimizer.zero_grad()"
        ),
        _case("train_epoch", "evaluate returns the count of correct examples", "fraction correct"),
        _case("train_epoch", "no model.train() at the start of the epoch", "model.train()"),
        (
            "batches never moved to the device (the same numbers on a CPU)",
            _MUTANTS["_replace"](
                _MUTANTS["_TRAIN"],
                "        x, y = x.to(device), y.to(device)\n        optimizer.zero_grad()",
                "        optimizer.zero_grad()",
            ),
            "move each batch to the device",
        ),
    ],
    "setup_finetuning": [
        _case(
            "setup_finetuning",
            "the learning rates of body and head swapped",
            "the BODY learns slower",
        ),
        _case("setup_finetuning", "feature extraction freezes nothing", "freezes the body"),
        _case(
            "setup_finetuning",
            "feature extraction optimizes every parameter",
            "NEW head's weight and bias only",
        ),
        _case(
            "setup_finetuning", "fine-tuning with one parameter group at lr", "two parameter groups"
        ),
    ],
    "export_onnx": [
        _case("export_onnx", "no model.eval() before exporting", "model.eval()"),
        _case("export_onnx", "no dynamic batch axis (the file only takes batches of 2)", "dynamic"),
        _case("export_onnx", "the input named 'input'", "name the input 'images'"),
    ],
}
