"""dlkit: the reference implementations, checks, datasets and widgets behind the course.

Submodules are imported on first use, so ``import dlkit`` is instant and touches no files,
plotting backend or torch:

* ``dlkit.functional``: layer maths, ``*_forward -> (out, cache)`` / ``*_backward``
* ``dlkit.testing``: the checks that graded tests call
* ``dlkit.data``: offline datasets, splits and mini-batches
* ``dlkit.viz``: ipywidgets explorers with static matplotlib fallbacks
* ``dlkit.backend``: one implementation for NumPy arrays and torch tensors
"""

from __future__ import annotations

import importlib
import sys as _sys
from typing import Any

__version__ = "0.3.0"

_SUBMODULES = {
    "autograd",
    "backend",
    "data",
    "functional",
    "init",
    "metrics",
    "nn",
    "optim",
    "perceptron",
    "testing",
    "viz",
}
_SUBMODULES |= {"augment", "ensemble", "gp", "learners", "model_selection", "tuning"}

_SUBMODULES |= {"shapes"}
_SUBMODULES |= {"references"}
_SUBMODULES |= {"notebook"}
_SUBMODULES |= {"pretrained", "serving", "speed", "tensorboard", "torch_tools"}  # unit 13
_SUBMODULES |= {"interpret"}  # unit 14
_SUBMODULES |= {"capsules", "evolution", "gnn", "rl", "spiking"}  # unit 15
__all__ = sorted(_SUBMODULES) + ["__version__", "device_report"]


if "ipykernel" in _sys.modules:  # a notebook: warn when an answer calls its own reference,
    # and show a failed check's message before its traceback (dlkit.notebook)
    from .notebook import install as install_hints
    from .references import arm_notebook

    arm_notebook()
    install_hints()
    del arm_notebook, install_hints


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'dlkit' has no attribute {name!r}")


def device_report() -> str:
    """Which array libraries and devices this kernel can use, in one line each."""
    import numpy as np

    lines = [f"NumPy {np.__version__}: CPU"]
    try:
        import torch
    except ImportError:
        lines.append("torch: not installed (pip install -e '.[torch]')")
    else:
        cuda = torch.cuda.is_available()
        gpu = torch.cuda.get_device_name(0) if cuda else "no CUDA GPU"
        lines.append(f"torch {torch.__version__}: CPU" + (f" and {gpu}" if cuda else f"; {gpu}"))
    return "\n".join(lines)
