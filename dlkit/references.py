"""Which dlkit names are the reference of which graded exercise, and what happens when they meet.

:data:`REFERENCES` maps each unit to its graded exercises (the ``grade_id`` of the answer
cell) and each exercise to the dlkit names whose code computes its answer: the function
itself and its re-exports, the private kernels it delegates to, the autograd ops and ``nn``
modules that wrap the same kernel, and the neighbours whose output gives the answer away
(``sigmoid_backward`` reveals ``sigmoid``, one perceptron epoch is a perceptron update),
including a widget's own recomputation of the answer (the gate inspector's gates).
Generic tools that can compute anything (the tensor autograd composed from elementary ops,
torch, scikit-learn) are not listed: the table is about dlkit's own copy of the exercise.

Two users:

* ``dlgrade grade`` (``grading/dlgrade/redact.py``) gives the sandboxed kernel a copy of
  dlkit in which the unit's listed names raise :class:`ReferenceUnavailable`;
* in the student's own JupyterLab, :func:`arm_notebook` (called by ``import dlkit`` inside an
  IPython kernel, nowhere else) makes each listed name warn once when a notebook function
  named after the exercise calls it: "this will raise when graded".

This module imports only the standard library, so ``import dlkit`` stays instant.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
import warnings
from typing import Any

__all__ = [
    "REFERENCES",
    "ReferenceUnavailable",
    "arm_notebook",
    "definition_site",
    "exercises_of",
    "install_warnings",
    "message",
    "quiet",
    "resolve",
    "uninstall_warnings",
    "units",
]


class ReferenceUnavailable(RuntimeError):
    """Raised by dlkit's reference of an exercise while that exercise's unit is graded."""


def message(unit: str, exercise: str, name: str) -> str:
    """The text of :class:`ReferenceUnavailable` for ``name``, a reference of ``exercise``."""
    return (
        f"dlkit's reference of {exercise} ({name}) is not available while {unit} is graded: "
        f"your {exercise} must compute the answer itself"
    )


_SIGMOID = (
    "dlkit.functional.sigmoid",
    "dlkit.functional.sigmoid_backward",  # s (1 - s) gives s back
    "dlkit.functional.binary_cross_entropy",  # its gradient from logits is sigmoid(z) - y
    "dlkit.autograd.sigmoid",
    "dlkit.autograd.Tensor.sigmoid",
    "dlkit.autograd.Value.sigmoid",
    "dlkit.nn.Sigmoid.forward",
)
_SOFTMAX_CE = (
    "dlkit.functional.softmax_cross_entropy",
    "dlkit.functional.sparse_categorical_cross_entropy",
    "dlkit.functional.categorical_cross_entropy",  # with one-hot targets
    "dlkit.functional.log_softmax",  # the loss is -mean(log_softmax[y])
    "dlkit.autograd.softmax_cross_entropy",
    "dlkit.autograd.categorical_cross_entropy",
    "dlkit.autograd.log_softmax",
)

# unit -> exercise (the answer cell's grade_id) -> dlkit names that compute its answer.
# Factory-made autograd ops (``Sigmoid = _elementwise(...)``, the loss ops) are not listed:
# they call the listed kernel, so they raise with it.
REFERENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "00_welcome": {
        "standardize": (
            "dlkit.data.standardize",
            "dlkit.functional.normalization.standardize",
            "dlkit.functional.batchnorm_forward",  # gamma = 1, beta = 0 is a standardization
        ),
        "sample_batch": ("dlkit.data.minibatches",),  # its first batch is the answer
    },
    "01_perceptron": {
        "perceptron_predict": ("dlkit.perceptron.perceptron_predict",),
        "perceptron_update": (
            "dlkit.perceptron.perceptron_update",
            "dlkit.perceptron.perceptron_train",  # one epoch on one example is one update
        ),
        "sigmoid": _SIGMOID,
        "bce_loss": (
            "dlkit.functional.binary_cross_entropy",
            "dlkit.autograd.binary_cross_entropy",
            "dlkit.perceptron._loss_and_grads",
        ),
        "logistic_gradient": (
            "dlkit.perceptron.logistic_gradient",
            "dlkit.perceptron._loss_and_grads",
            "dlkit.functional.binary_cross_entropy",  # X.T @ dscores is the gradient
        ),
        "logistic_regression_fit": ("dlkit.perceptron.logistic_regression_fit",),
    },
    "02_mlp": {
        "affine_forward": (
            "dlkit.functional.affine_forward",
            "dlkit.functional.mlp_forward",  # one layer is one affine map
            "dlkit.autograd.affine",
            "dlkit.autograd.nn_functions.Affine.forward",
            "dlkit.nn.Linear.forward",
        ),
        "relu": (
            "dlkit.functional.relu",
            "dlkit.functional.relu_backward",  # relu_backward(x, x) == relu(x)
            "dlkit.autograd.relu",
            "dlkit.autograd.Tensor.relu",
            "dlkit.autograd.Value.relu",
            "dlkit.nn.ReLU.forward",
        ),
        "relu_backward": ("dlkit.functional.relu_backward",),
        "tanh_backward": ("dlkit.functional.tanh_backward",),
        "softmax": (
            "dlkit.functional.softmax",
            "dlkit.functional.log_softmax",
            "dlkit.functional.softmax_cross_entropy",  # N dlogits + onehot(y) is softmax
            "dlkit.autograd.softmax",
            "dlkit.autograd.log_softmax",
        ),
        "he_init": (
            "dlkit.init.he_init",
            "dlkit.init.init_mlp",  # scheme="he" draws the same weights
        ),
        "mlp_forward": ("dlkit.functional.mlp_forward",),
    },
    "03_losses_metrics": {
        "mse_loss": ("dlkit.functional.mse_loss", "dlkit.autograd.mse_loss"),
        "huber_loss": ("dlkit.functional.huber_loss", "dlkit.autograd.huber_loss"),
        "softmax_cross_entropy": _SOFTMAX_CE,
        "confusion_matrix": ("dlkit.metrics.confusion_matrix",),
        "precision_recall_f1": ("dlkit.metrics.precision_recall_f1",),
        "roc_auc": ("dlkit.metrics.roc_auc", "dlkit.metrics.roc_curve"),
    },
    "04_backprop": {
        "Value": ("dlkit.autograd.Value",),  # the whole scalar engine, methods included
        "backward": ("dlkit.autograd.scalar.backward", "dlkit.autograd.scalar.topological_order"),
        "affine_backward": (
            "dlkit.functional.affine_backward",
            "dlkit.autograd.nn_functions.Affine.backward",
        ),
        "softmax_cross_entropy": _SOFTMAX_CE,
        "numerical_gradient": ("dlkit.testing.numerical_gradient",),
        # dlkit has no train step over a list of (w, b) pairs: nothing to hide
        "train_step": (),
    },
    "05_optimizers": {
        "sgd_momentum_update": ("dlkit.optim.rules.sgd_update",),
        "nesterov_update": ("dlkit.optim.rules.sgd_update",),
        "rmsprop_update": ("dlkit.optim.rules.rmsprop_update",),
        "adam_update": ("dlkit.optim.rules.adam_update", "dlkit.optim.rules._adam_step"),
        "adamw_update": (
            "dlkit.optim.rules.adamw_update",
            "dlkit.optim.rules.adam_update",
            "dlkit.optim.rules._adam_step",
        ),
        "cosine_schedule": (
            "dlkit.optim.schedules.cosine_lr",
            "dlkit.optim.schedules.CosineAnnealingLR.lr_at",
        ),
    },
    "06_generalization": {
        "train_val_test_split": ("dlkit.data.train_val_test_split",),
        "l2_penalty": ("dlkit.functional.l2_penalty", "dlkit.autograd.l2_penalty"),
        "dropout_forward": (
            "dlkit.functional.dropout_forward",
            "dlkit.autograd.dropout",
            "dlkit.autograd.regularization_functions.Dropout.forward",
            "dlkit.nn.regularization.Dropout.forward",
        ),
        "dropout_backward": (
            "dlkit.functional.dropout_backward",
            "dlkit.autograd.regularization_functions.Dropout.backward",
        ),
        "EarlyStopping": ("dlkit.nn.callbacks.EarlyStopping",),
        "random_search": ("dlkit.tuning.random_search", "dlkit.tuning.sample_params"),
        "gradient_boosting": ("dlkit.ensemble.gradient_boosting",),
    },
    "07_normalization": {
        "batchnorm_forward": (
            "dlkit.functional.batchnorm_forward",
            "dlkit.functional.normalization.standardize",
            "dlkit.autograd.batch_norm",
            "dlkit.autograd.normalization_functions.BatchNorm.forward",
            "dlkit.nn.BatchNorm1d.forward",
        ),
        "batchnorm_backward": (
            "dlkit.functional.batchnorm_backward",
            "dlkit.functional.normalization.standardize_backward",
            "dlkit.autograd.normalization_functions.BatchNorm.backward",
        ),
        "layernorm_forward": (
            "dlkit.functional.layernorm_forward",
            "dlkit.functional.normalization.standardize",
            "dlkit.functional.groupnorm_forward",  # one group over (N, D) is a layer norm
            "dlkit.autograd.layer_norm",
            "dlkit.autograd.normalization_functions.LayerNorm.forward",
            "dlkit.nn.LayerNorm.forward",
        ),
        "layernorm_backward": (
            "dlkit.functional.layernorm_backward",
            "dlkit.functional.normalization.standardize_backward",
            "dlkit.functional.groupnorm_backward",
            "dlkit.autograd.normalization_functions.LayerNorm.backward",
        ),
        "groupnorm_forward": (
            "dlkit.functional.groupnorm_forward",
            "dlkit.functional.instancenorm_forward",  # num_groups = C
            "dlkit.autograd.group_norm",
            "dlkit.autograd.instance_norm",
            "dlkit.autograd.normalization_functions.GroupNorm.forward",
            "dlkit.nn.GroupNorm.forward",
            "dlkit.nn.InstanceNorm2d.forward",
        ),
    },
    "08_cnn": {
        "conv2d_naive": (
            "dlkit.functional.conv2d_naive",
            "dlkit.functional.conv2d_forward",  # the same numbers
            "dlkit.functional.conv._correlate",
        ),
        "conv2d_forward": (
            "dlkit.functional.conv2d_forward",
            "dlkit.functional.conv2d_naive",
            "dlkit.functional.conv._correlate",
            "dlkit.autograd.conv2d",
            "dlkit.autograd.conv_functions.Conv2d.forward",
            "dlkit.nn.Conv2d.forward",
        ),
        "conv2d_backward": (
            "dlkit.functional.conv2d_backward",
            "dlkit.functional.conv._transposed",
            "dlkit.functional.conv._from_dout_columns",
            "dlkit.autograd.conv_functions.Conv2d.backward",
        ),
        "maxpool2d_forward": (
            "dlkit.functional.maxpool2d_forward",
            "dlkit.functional.pool._max2x2_forward",
            "dlkit.autograd.max_pool2d",
            "dlkit.autograd.conv_functions.MaxPool2d.forward",
            "dlkit.nn.MaxPool2d.forward",
        ),
        "maxpool2d_backward": (
            "dlkit.functional.maxpool2d_backward",
            "dlkit.functional.pool._max2x2_backward",
            "dlkit.autograd.conv_functions.MaxPool2d.backward",
        ),
    },
    "09_rnn": {
        "embedding_backward": (
            "dlkit.functional.embedding_backward",
            "dlkit.autograd.recurrent_functions.Embedding.backward",
        ),
        "rnn_step_forward": (
            "dlkit.functional.rnn_step_forward",
            "dlkit.functional.rnn_forward",  # T = 1 is one step
            "dlkit.autograd.rnn",
            "dlkit.autograd.recurrent_functions.RNN.forward",
            "dlkit.nn.RNN.forward",
        ),
        "rnn_step_backward": (
            "dlkit.functional.rnn_step_backward",
            "dlkit.functional.rnn_backward",
            "dlkit.autograd.recurrent_functions.RNN.backward",
        ),
        "clip_grad_norm": (
            "dlkit.functional.clip_grad_norm",
            "dlkit.nn.clip_grad_norm_",
        ),
        "lstm_step_forward": (
            "dlkit.functional.lstm_step_forward",
            "dlkit.functional.lstm_forward",
            "dlkit.autograd.lstm",
            "dlkit.autograd.recurrent_functions.LSTM.forward",
            "dlkit.nn.LSTM.forward",
            "dlkit.viz.gates.GateInspector.run",  # recomputes the i, f, g, o of any step
        ),
        "lstm_step_backward": (
            "dlkit.functional.lstm_step_backward",
            "dlkit.functional.lstm_backward",
            "dlkit.autograd.recurrent_functions.LSTM.backward",
        ),
        "gru_step_forward": (
            "dlkit.functional.gru_step_forward",
            "dlkit.functional.gru_forward",
            "dlkit.autograd.gru",
            "dlkit.autograd.recurrent_functions.GRU.forward",
            "dlkit.nn.GRU.forward",
        ),
        "sample": (
            "dlkit.functional.sample",
            "dlkit.viz.temperature.TemperatureExplorer.probabilities",  # softmax(logits / T)
        ),
    },
    "10_attention": {
        "causal_mask": ("dlkit.functional.causal_mask",),
        "scaled_dot_product_attention": (
            "dlkit.functional.scaled_dot_product_attention",
            "dlkit.autograd.scaled_dot_product_attention",
            "dlkit.autograd.attention_functions.ScaledDotProductAttention.forward",
            "dlkit.nn.MultiHeadAttention.forward",  # identity projections, one head
            "dlkit.viz.attention._softmax",  # the masked softmax: weights @ v is the rest
        ),
        "scaled_dot_product_attention_backward": (
            "dlkit.functional.scaled_dot_product_attention_backward",
            "dlkit.autograd.attention_functions.ScaledDotProductAttention.backward",
        ),
        "positional_encoding": ("dlkit.functional.positional_encoding",),
        "multi_head_attention": ("dlkit.nn.MultiHeadAttention.forward",),
        "transformer_block_forward": ("dlkit.nn.TransformerBlock.forward",),
    },
    "11_autoencoders": {
        "ae_train_step": (
            "dlkit.nn.autoencoder_step",  # the same step on a dlkit.nn autoencoder
            "dlkit.functional.reconstruction_loss",  # the loss and dL/dlogits of the step
            "dlkit.autograd.reconstruction_loss",
            "dlkit.autograd.generative_functions.ReconstructionLoss.forward",
        ),
        "reparameterize": (
            "dlkit.functional.reparameterize",
            "dlkit.functional.reparameterize_backward",
            "dlkit.autograd.reparameterize",
            "dlkit.autograd.generative_functions.Reparameterize.forward",
            "dlkit.autograd.generative_functions.Reparameterize.backward",
        ),
        "kl_divergence": (
            "dlkit.functional.kl_divergence",
            "dlkit.functional.vae_loss",  # minus the reconstruction term it is the KL
            "dlkit.autograd.kl_divergence",
            "dlkit.autograd.generative_functions.KLDivergence.forward",
            "dlkit.nn.vae_step",  # reports the batch's KL
        ),
        "vae_loss": (
            "dlkit.functional.vae_loss",
            "dlkit.functional.reconstruction_loss",  # the first of its two terms
            "dlkit.functional.kl_divergence",  # the second (raises when graded: warn here too)
            "dlkit.autograd.vae_loss",
            "dlkit.autograd.reconstruction_loss",
            "dlkit.autograd.generative_functions.VAELoss.forward",
            "dlkit.autograd.generative_functions.ReconstructionLoss.forward",
            "dlkit.nn.vae_step",
        ),
    },
    "12_gans": {
        "discriminator_loss": (
            "dlkit.functional.discriminator_loss",
            "dlkit.autograd.discriminator_loss",
            "dlkit.autograd.generative_functions.DiscriminatorLoss.forward",
            "dlkit.nn.gan_step",  # reports the discriminator's loss
        ),
        "generator_loss": (
            "dlkit.functional.generator_loss",
            "dlkit.autograd.generator_loss",
            "dlkit.autograd.generative_functions.GeneratorLoss.forward",
            "dlkit.nn.gan_step",  # reports the generator's loss
        ),
        "gan_train_step": (
            "dlkit.nn.gan_step",  # the same alternating step on dlkit.nn models
            "dlkit.functional.discriminator_loss",  # the two losses the step calls
            "dlkit.functional.generator_loss",
            "dlkit.autograd.discriminator_loss",
            "dlkit.autograd.generator_loss",
        ),
    },
    "13_torch_gpu": {
        "DigitsCNN": (
            "dlkit.torch_tools.DigitsCNN",
            "dlkit.pretrained.pretrained_cnn",  # builds a DigitsCNN and loads the weights
        ),
        "train_epoch": (
            "dlkit.torch_tools.train_epoch",
            "dlkit.torch_tools.evaluate",  # graded in the same cell
            "dlkit.pretrained.accuracy",  # evaluate's answer on arrays
        ),
        "setup_finetuning": ("dlkit.torch_tools.setup_finetuning",),
        "export_onnx": ("dlkit.torch_tools.export_onnx",),
    },
    "14_interpretability": {
        "saliency_map": (
            "dlkit.interpret.saliency_map",
            "dlkit.interpret.smoothgrad",  # with sigma=0 it is the saliency map
        ),
        "occlusion_map": ("dlkit.interpret.occlusion_map",),
        "integrated_gradients": ("dlkit.interpret.integrated_gradients",),
        "lime_explain": ("dlkit.interpret.lime_explain",),
        "shapley_sampling": (
            "dlkit.interpret.shapley_sampling",
            "dlkit.interpret.exact_shapley",  # the values the sampling estimates, exactly
        ),
    },
    "15_frontiers": {
        # the training loops, widgets and routing take these as arguments and fall back on
        # the names below, so they need no entry of their own
        "discounted_returns": ("dlkit.rl.discounted_returns",),
        "reinforce_loss": ("dlkit.rl.reinforce_loss",),
        "gcn_layer": ("dlkit.gnn.gcn_layer",),
        "gcn_layer_backward": ("dlkit.gnn.gcn_layer_backward",),
        "squash": ("dlkit.capsules.squash",),
        "es_gradient": ("dlkit.evolution.es_gradient",),
    },
}


def units() -> list[str]:
    """The units of :data:`REFERENCES`, in course order."""
    return sorted(REFERENCES)


def exercises_of(unit: str) -> dict[str, tuple[str, ...]]:
    """``{exercise: names}`` of ``unit``; a ValueError names the known units otherwise."""
    if not isinstance(unit, str) or unit not in REFERENCES:
        raise ValueError(f"unit must be one of {units()}; got {unit!r}")
    return REFERENCES[unit]


def resolve(name: str) -> Any:
    """The object that the dotted ``name`` (``"dlkit.functional.sigmoid"``) refers to.

    Imports the longest importable module prefix, then follows attributes. A ValueError says
    which part is missing.
    """
    if not isinstance(name, str) or not name.startswith("dlkit."):
        raise ValueError(
            f"name must be a dotted dlkit name such as 'dlkit.functional.relu'; got {name!r}"
        )
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        obj: Any = sys.modules.get(module_name)
        if obj is None:
            try:
                obj = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                missing = exc.name or ""
                if not (module_name == missing or module_name.startswith(missing + ".")):
                    raise  # a real import error inside an existing module
                continue
        for attr in parts[cut:]:
            try:
                if isinstance(obj, type):
                    obj = inspect.getattr_static(obj, attr)
                else:
                    obj = getattr(obj, attr)
            except AttributeError:
                rest = ".".join(parts[cut:])
                raise ValueError(f"{name}: {module_name} has no attribute {rest!r}") from None
            if isinstance(obj, (staticmethod, classmethod)):
                obj = obj.__func__
            elif isinstance(obj, property):
                obj = obj.fget
        return obj
    raise ValueError(f"{name}: no importable module")


def definition_site(name: str) -> tuple[str, str]:
    """``(module, qualname)`` where the object ``name`` refers to is defined (a ``def`` or a
    ``class`` statement); a ValueError when it is not a plain module-level definition."""
    obj = resolve(name)
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not (inspect.isfunction(obj) or inspect.isclass(obj)) or not module or not qualname:
        raise ValueError(f"{name} is a {type(obj).__name__}, not a function or class")
    if inspect.isfunction(obj):
        made = obj.__code__.co_qualname != qualname  # renamed after a factory made it
    else:
        try:
            inspect.getsource(obj)  # finds the ``class`` statement, or raises
            made = False
        except (OSError, TypeError):
            made = True
    if made or "<locals>" in qualname or not module.startswith("dlkit."):
        raise ValueError(
            f"{name} is defined as {module}.{qualname}, not by a def or class statement of a "
            "dlkit module: list the kernel it calls instead"
        )
    return module, qualname


# -- the notebook warning -----------------------------------------------------------------------
_WARNED: set[str] = set()  # exercises already warned about in this kernel
_INSTALLED: dict[int, tuple[Any, str, dict[str, Any]]] = {}  # id(function) -> how to undo
_DONE: set[str] = set()  # table names already patched
_DEPTH = 8  # how many frames above the reference are searched for the student's function


def _notebook_file(filename: str) -> bool:
    return filename.startswith("<ipython-input") or f"{os.sep}ipykernel_" in filename


_QUIET = [0]  # > 0 inside dlkit.testing.using(...): the test itself substituted the reference


class quiet:
    """No warning while a test substitutes references on purpose (``using(globals(), ...)``
    binds another exercise's reference that the function under test then calls)."""

    def __enter__(self):
        _QUIET[0] += 1
        return self

    def __exit__(self, *exc):
        _QUIET[0] -= 1
        return False


def _check(owners: dict[str, tuple[str, str]]) -> None:
    """Warn once per exercise when a notebook function named after it is on the stack."""
    if _QUIET[0]:
        return
    frame = sys._getframe(2)
    for _ in range(_DEPTH):
        if frame is None:
            return
        code = frame.f_code
        if _notebook_file(code.co_filename):
            for part in code.co_qualname.split("."):
                if part in owners and part not in _WARNED:
                    _WARNED.add(part)
                    unit, name = owners[part]
                    warnings.warn(
                        f"your {part} calls dlkit's reference {name}: it passes here, but "
                        f"raises ReferenceUnavailable when {unit} is graded; your {part} must "
                        "compute the answer itself",
                        UserWarning,
                        stacklevel=3,
                    )
                    return
        frame = frame.f_back


class _Guarded:
    """What a patched reference calls: the check, then the original code."""

    __slots__ = ("inner", "owners")

    def __init__(self, inner: Any, owners: dict[str, tuple[str, str]]) -> None:
        self.inner, self.owners = inner, owners

    def __call__(self, args: tuple, kwargs: dict) -> Any:
        _check(self.owners)
        return self.inner(*args, **kwargs)


def _trampoline(*args, _dlkit_reference=None, **kwargs):  # its __code__ replaces the reference's
    return _dlkit_reference(args, kwargs)


def _owners() -> dict[str, dict[str, tuple[str, str]]]:
    """``{name: {exercise: (unit, name)}}`` over the whole table."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for unit, table in REFERENCES.items():
        for exercise, names in table.items():
            for name in names:
                out.setdefault(name, {}).setdefault(exercise, (unit, name))
    return out


def _patch(fn: Any, owners: dict[str, tuple[str, str]]) -> None:
    """Make ``fn`` run :func:`_check` first, in place, so every alias of it sees the change."""
    if id(fn) in _INSTALLED or fn.__closure__:
        return  # already done, or a closure whose code cannot be swapped (never in the table)
    import types

    inner = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__)
    inner.__kwdefaults__ = fn.__kwdefaults__
    inner.__qualname__ = fn.__qualname__
    saved = {
        "__code__": fn.__code__,
        "__defaults__": fn.__defaults__,
        "__kwdefaults__": fn.__kwdefaults__,
    }
    had_signature = "__signature__" in vars(fn)
    signature = inspect.signature(fn)
    fn.__code__ = _trampoline.__code__
    fn.__defaults__ = None
    fn.__kwdefaults__ = {"_dlkit_reference": _Guarded(inner, owners)}
    if not had_signature:
        fn.__signature__ = signature  # help() and tooltips still show the real arguments
    _INSTALLED[id(fn)] = (fn, "function", {**saved, "signature": had_signature})


def _patch_class(cls: type, owners: dict[str, tuple[str, str]]) -> None:
    if id(cls) in _INSTALLED:
        return
    own = vars(cls).get("__init__")
    original = cls.__init__

    def __init__(self, *args, **kwargs):  # noqa: N807
        _check(owners)
        original(self, *args, **kwargs)

    __init__.__signature__ = inspect.signature(original)
    cls.__init__ = __init__
    _INSTALLED[id(cls)] = (cls, "class", {"__init__": own})


def install_warnings(*, only_loaded: bool = False) -> int:
    """Patch every name of the table (or only those whose module is already imported) to warn
    when a notebook function named after its exercise calls it; the number patched now."""
    count = 0
    for name, owners in _owners().items():
        if name in _DONE:
            continue
        module = name.rsplit(".", 1)[0]
        while only_loaded and module not in sys.modules and "." in module:
            module = module.rsplit(".", 1)[0]
        if only_loaded and (module not in sys.modules or module == "dlkit"):
            continue
        try:
            obj = resolve(name)
        except (ImportError, ValueError):
            continue
        before = len(_INSTALLED)
        if inspect.isclass(obj):
            _patch_class(obj, owners)
        elif inspect.isfunction(obj):
            _patch(obj, owners)
        count += len(_INSTALLED) - before
        _DONE.add(name)
    return count


def uninstall_warnings() -> None:
    """Undo :func:`install_warnings` (for tests) and forget which exercises were warned about."""
    for obj, kind, saved in _INSTALLED.values():
        if kind == "function":
            obj.__code__ = saved["__code__"]
            obj.__defaults__ = saved["__defaults__"]
            obj.__kwdefaults__ = saved["__kwdefaults__"]
            if not saved["signature"]:
                del obj.__signature__
        elif saved["__init__"] is None:
            del obj.__init__
        else:
            obj.__init__ = saved["__init__"]
    _INSTALLED.clear()
    _DONE.clear()
    _WARNED.clear()


def arm_notebook() -> bool:
    """Inside an IPython kernel: patch the table's names before each cell, as their modules
    get imported. Does nothing in a redacted (graded) copy of dlkit or outside IPython."""
    if importlib.util.find_spec("dlkit._redacted") is not None:
        return False
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False

    def before_cell(*_: Any) -> None:
        install_warnings(only_loaded=True)

    shell.events.register("pre_run_cell", before_cell)
    return True
