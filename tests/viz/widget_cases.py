"""Every dlkit widget, how to build it, and which control settings to drive it through.

``tests/viz/test_every_widget.py`` walks the ``dlkit.viz`` package, finds every
:class:`~dlkit.viz.Explorer` subclass and fails, naming the class, when it has no
:class:`WidgetCase` in :data:`CASES`. For each case it builds the widget's ipywidgets view
(the same object JupyterLab shows) and moves every control to every value of
:func:`control_values` (the minimum, the middle and the maximum of a slider, every option of
a dropdown, both states of a checkbox), then applies each setting of ``settings`` and
``extremes`` and runs each of ``actions``. After every move it checks that the callback
succeeded (no error in the widget's status line, no exception, no warning: the autouse
fixture in ``conftest.py`` turns warnings into errors), that the student functions were
called again (the spies), that the widget's state holds the new values, and that the
picture changed. Finally it renders the static fallback (no widget frontend).

Registering a new widget
------------------------
Add one :class:`WidgetCase` to :data:`CASES` (two when two set-ups behave differently, e.g.
with and without a student function):

``widget``
    the class.
``make``
    a function of no arguments returning :class:`Built`: the explorer, made the way a
    notebook makes it, and a ``{name: Spy}`` of the student functions you passed in (wrap
    each one in :class:`tests.viz.conftest.Spy`; use dlkit's reference as the "student").
``calls``
    ``calls(values) -> names``: the spies that must run on a redraw at these control values
    (default: all of them). Say so when a control switches a student function off.
``inert``
    ``inert(name, values) -> bool``: True where moving control ``name`` legitimately leaves
    the picture unchanged at these values (a leaky-ReLU slope while ReLU is shown). Keep it
    narrow: everywhere else a move must change the pixels.
``settings`` / ``extremes``
    dicts of control values applied together: ordinary combinations, and the corners where
    widgets break (the largest learning rate, zero hidden units, nothing selected, values that
    make the student's function return NaN or infinity, every slider at its limit at once).
``actions``
    for widgets driven by calls rather than controls (a training-curve plot): functions
    ``action(explorer)`` that each change the widget's state, e.g. log another epoch.
``check``
    ``check(explorer, spies, values)``: optional extra assertions on the widget's state after
    each redraw.

Keep factories fast (well under a second per redraw): the sweep redraws each widget a few
dozen times.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlkit.viz import Choice, Explorer, Slider, Toggle
from tests.viz.conftest import Spy

__all__ = ["Built", "WidgetCase", "CASES", "control_values"]


@dataclass
class Built:
    """A freshly made explorer and the spies wrapped around the functions it was given."""

    explorer: Explorer
    spies: Mapping[str, Spy] = field(default_factory=dict)


def _all(values: Mapping[str, Any]) -> None:
    return None  # None means: every spy


@dataclass(frozen=True)
class WidgetCase:
    """One way of building a widget, and the control settings to drive it through."""

    id: str
    widget: type
    make: Callable[[], Built]
    calls: Callable[[Mapping[str, Any]], Iterable[str] | None] = _all
    inert: Callable[[str, Mapping[str, Any]], bool] = lambda name, values: False
    settings: tuple[Mapping[str, Any], ...] = ()
    extremes: tuple[Mapping[str, Any], ...] = ()
    actions: tuple[Callable[[Explorer], None], ...] = ()
    check: Callable[[Explorer, Mapping[str, Spy], Mapping[str, Any]], None] | None = None


def control_values(control: Any) -> list[Any]:
    """The values every control is moved to: slider limits and middle, options, both states.

    Slider values are those the frontend sends: on the slider's step grid, and for a log slider
    ``10 ** log10(limit)`` (which can differ from the limit in its last bit).
    """
    if isinstance(control, Slider) and control.stops is not None:  # a SelectionSlider
        stops = control.stops
        return [stops[0], stops[len(stops) // 2], stops[-1]]
    if isinstance(control, Slider):
        lo, hi = control.min, control.max
        if control.log:
            lo, hi = 10 ** math.log10(lo), 10 ** math.log10(hi)
            middle = 10 ** ((math.log10(lo) + math.log10(hi)) / 2)
        else:
            middle = (lo + hi) / 2
            if control.step:  # the nearest value the slider can take
                middle = lo + round((middle - lo) / control.step) * control.step
        if control.integer:
            return [int(lo), int(round(middle)), int(hi)]
        return [float(lo), float(middle), float(hi)]
    if isinstance(control, Choice):
        return list(control.options)
    if isinstance(control, Toggle):
        return [not control.value, control.value]
    raise TypeError(f"control must be a Slider, Choice or Toggle; got {type(control).__name__}")


# -- FunctionExplorer --------------------------------------------------------------------------


def _curve(x: np.ndarray, scale: float, power: int, kind: str) -> np.ndarray:
    """A student-style function of x; ``log`` is NaN for x <= 0, ``power`` 200 overflows."""
    with np.errstate(all="ignore"):  # the student's arithmetic, not the widget's
        if kind == "log":
            return scale * np.log(x)
        return scale * x**power


def _function_explorer() -> Built:
    from dlkit.viz import FunctionExplorer

    fn = Spy(_curve)
    controls = {
        "scale": Slider(-3.0, 3.0, 1.0, step=0.1, label="scale"),
        "power": Slider(0, 200, 2, integer=True, label="power"),
        "kind": Choice(("power", "log"), "power", "kind"),
    }
    return Built(FunctionExplorer(fn, controls, reference=_curve), {"fn": fn})


def _function_check(e: Any, spies: Mapping[str, Spy], values: Mapping[str, Any]) -> None:
    assert spies["fn"].kwargs[-1] == dict(values), "fn was not called with the control values"


# -- TransformExplorer ---------------------------------------------------------------------


def _normal_sample(mean: float, spread: float) -> np.ndarray:
    return mean + spread * np.random.default_rng(0).standard_normal((500, 1))


def _standardize(X: np.ndarray) -> np.ndarray:
    """The course's solution: constant columns become zeros."""
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _naive_standardize(X: np.ndarray) -> np.ndarray:
    """A common student bug: dividing by a zero standard deviation gives NaN everywhere."""
    with np.errstate(all="ignore"):
        return (X - X.mean(axis=0)) / X.std(axis=0)


_TRANSFORM_CONTROLS = {
    "mean": Slider(-50, 50, 10.0, label="mean"),
    "spread": Slider(0.0, 20.0, 4.0, label="spread"),
}


def _transform_explorer(transform: Callable[..., Any]) -> Callable[[], Built]:
    def make() -> Built:
        from dlkit.viz import TransformExplorer

        make_data, student = Spy(_normal_sample), Spy(transform)
        e = TransformExplorer(
            make_data, student, _TRANSFORM_CONTROLS, names=("raw", "standardized")
        )
        return Built(e, {"make_data": make_data, "transform": student})

    return make


def _transform_inert(name: str, values: Mapping[str, Any]) -> bool:
    # standardizing removes the mean: with no spread there is nothing else to see
    return name == "mean" and values["spread"] == 0.0


# -- DecisionBoundaryExplorer ---------------------------------------------------------------


def _boundary_explorer() -> Built:
    from dlkit import perceptron
    from dlkit.viz import DecisionBoundaryExplorer

    predict = Spy(perceptron.perceptron_predict)
    update = Spy(perceptron.perceptron_update)
    return Built(DecisionBoundaryExplorer(predict, update), {"predict": predict, "update": update})


# -- ActivationExplorer -----------------------------------------------------------------------


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _softplus_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    return dout * 0.5 * (1.0 + np.tanh(0.5 * x))  # the sigmoid, without overflow


def _activation_explorer(custom: bool) -> Callable[[], Built]:
    def make() -> Built:
        from dlkit.viz import ActivationExplorer

        if not custom:
            return Built(ActivationExplorer())
        forward, backward = Spy(_softplus), Spy(_softplus_backward)
        e = ActivationExplorer({"softplus": (forward, backward)})
        return Built(e, {"forward": forward, "backward": backward})

    return make


def _activation_calls(values: Mapping[str, Any]) -> Iterable[str]:
    return ("forward", "backward") if values["activation"] == "softplus" else ()


def _activation_inert(name: str, values: Mapping[str, Any]) -> bool:
    return name == "negative_slope" and values["activation"] != "leaky_relu"


_HUGE_SCALE = tuple(
    {"activation": a, "scale": 100.0, "negative_slope": s}
    for a in ("sigmoid", "tanh", "relu", "leaky_relu", "gelu")
    for s in (0.0, 0.5)
)


# -- HiddenUnitsExplorer ----------------------------------------------------------------------


def _hidden_units_explorer() -> Built:
    from dlkit.functional import mlp_forward
    from dlkit.init import he_init
    from dlkit.viz import HiddenUnitsExplorer

    forward, init = Spy(mlp_forward), Spy(he_init)
    e = HiddenUnitsExplorer(mlp_forward=forward, he_init=init)
    return Built(e, {"mlp_forward": forward, "he_init": init})


def _hidden_units_calls(values: Mapping[str, Any]) -> Iterable[str]:
    return ("mlp_forward", "he_init") if values["hidden"] > 0 else ()


# -- ThresholdExplorer ------------------------------------------------------------------------


def _threshold_explorer() -> Built:
    from dlkit import metrics
    from dlkit.viz import ThresholdExplorer

    spies = {
        "confusion_matrix": Spy(metrics.confusion_matrix),
        "precision_recall_f1": Spy(metrics.precision_recall_f1),
        "roc_auc": Spy(metrics.roc_auc),
    }
    return Built(ThresholdExplorer(**spies), spies)


def _threshold_check(e: Any, spies: Mapping[str, Spy], values: Mapping[str, Any]) -> None:
    y, pred = spies["confusion_matrix"].calls[-1]
    scores = e.data(values["positives"], values["separation"])[1]
    assert np.array_equal(pred, (scores >= values["threshold"]).astype(np.int64)), (
        "confusion_matrix was not given the predictions at the current threshold"
    )


# -- GraphExplorer ------------------------------------------------------------------------------


def _graph_explorer() -> Built:
    from dlkit.autograd import Value
    from dlkit.viz import GraphExplorer
    from dlkit.viz.graph import neuron

    build = Spy(neuron)
    return Built(GraphExplorer(Value, build=build), {"build": build})


def _graph_check(e: Any, spies: Mapping[str, Spy], values: Mapping[str, Any]) -> None:
    z = values["x1"] * values["w1"] + values["x2"] * values["w2"] + values["b"]
    assert math.isclose(float(e.root.data), math.tanh(z), abs_tol=1e-12)
    assert spies["build"].kwargs[-1] == dict(values)


# -- TrainingCurves ---------------------------------------------------------------------------


def _training_curves() -> Built:
    from dlkit.viz import TrainingCurves

    return Built(TrainingCurves(every=5))  # redraws on every 5th log, as the course does


def _log_epochs(e: Any, n: int = 5) -> None:
    for _ in range(n):
        epoch = len(e.history.get("train_loss", ())) + 1
        e.log(train_loss=1.0 / epoch, val_loss=1.2 / epoch, val_accuracy=1.0 - 0.5 / epoch)


def _log_diverging(e: Any) -> None:
    for _ in range(5):  # a diverging run at 0 % accuracy: huge losses on a linear axis
        e.log(train_loss=1e30, val_loss=0.0, val_accuracy=0.0)


def _log_many(e: Any) -> None:
    _log_epochs(e, 50)


def _log_new_metric(e: Any) -> None:
    for _ in range(5):  # a metric that starts late: its own, shorter series
        e.log(train_accuracy=1.0)


# -- TrajectoryExplorer --------------------------------------------------------------------


def _trajectory_explorer() -> Built:
    from dlkit.optim import rules
    from dlkit.viz import TrajectoryExplorer

    adam, sgd = Spy(rules.adam_update), Spy(rules.sgd_update)
    e = TrajectoryExplorer({"adam": adam, "sgd": sgd}, steps=60)
    return Built(e, {"adam": adam, "sgd": sgd})


def _trajectory_calls(values: Mapping[str, Any]) -> Iterable[str]:
    return [name for name in ("adam", "sgd") if values[f"{name} (yours)"]]


def _trajectory_racers(on: bool) -> dict[str, bool]:
    from dlkit.viz.trajectories import RACERS

    return {name: on for name in RACERS} | {"adam (yours)": on, "sgd (yours)": on}


def _trajectory_extremes() -> tuple[dict[str, Any], ...]:
    from dlkit.viz.trajectories import FUNCTIONS

    every = tuple(
        {"function": f, "lr": 10.0, "steps": 500, **_trajectory_racers(True)} for f in FUNCTIONS
    )
    return (
        *every,
        {"function": "saddle", "lr": 1e-4, "steps": 1},
        _trajectory_racers(False),  # nothing selected
        {"function": "beale", "lr": 1e-4, "steps": 500, **_trajectory_racers(True)},
    )


# -- DepthExplorer ---------------------------------------------------------------------------


def _depth_explorer() -> Built:
    from dlkit.functional import batchnorm_forward, layernorm_forward
    from dlkit.viz import DepthExplorer

    bn, ln = Spy(batchnorm_forward), Spy(layernorm_forward)
    e = DepthExplorer(bn, ln, width=16, batch=64)
    return Built(e, {"batchnorm_forward": bn, "layernorm_forward": ln})


def _depth_calls(values: Mapping[str, Any]) -> Iterable[str]:
    return {"batch": ("batchnorm_forward",), "layer": ("layernorm_forward",)}.get(
        values["normalization"], ()
    )


_DEPTH_EXTREMES = (
    *(
        {"depth": 20, "weight_scale": w, "init": "he", "activation": a, "normalization": n}
        for w, a, n in (
            (10.0, "linear", "none"),  # grows 10^20-fold
            (0.1, "relu", "none"),  # vanishes to 10^-30
            (10.0, "relu", "batch"),
            (0.1, "sigmoid", "layer"),
        )
    ),
    {"depth": 1, "weight_scale": 0.1, "normalization": "none"},
)


# -- RegularizationExplorer -------------------------------------------------------------------


def _regularization_explorer() -> Built:
    from dlkit import functional as F
    from dlkit.viz import RegularizationExplorer

    spies = {
        "l2_penalty": Spy(F.l2_penalty),
        "dropout_forward": Spy(F.dropout_forward),
        "dropout_backward": Spy(F.dropout_backward),
    }
    return Built(RegularizationExplorer(**spies, max_epochs=40), spies)


def _regularization_calls(values: Mapping[str, Any]) -> Iterable[str]:
    # every redraw reports the shown weights' penalty; a thinned network is drawn only with
    # dropout on (training, the one user of dropout_backward, is cached per setting)
    return ("l2_penalty", "dropout_forward") if values["p_drop"] > 0 else ("l2_penalty",)


def _regularization_inert(name: str, values: Mapping[str, Any]) -> bool:
    return False  # every control retrains or moves the epoch marker


# -- KernelExplorer -----------------------------------------------------------------------------


def _kernel_explorer() -> Built:
    from dlkit.functional import conv2d_forward
    from dlkit.viz import KernelExplorer

    conv = Spy(conv2d_forward)
    return Built(KernelExplorer(conv), {"conv": conv})


def _kernel_check(e: Any, spies: Mapping[str, Spy], values: Mapping[str, Any]) -> None:
    from dlkit.viz.kernels import PRESET_KERNELS

    weights = np.array([values[f"k{i}"] for i in range(9)]).reshape(3, 3)
    w = spies["conv"].calls[-1][1][0, 0]
    assert np.array_equal(w, weights), "conv was not given the kernel the sliders show"
    if values["preset"] != "custom":
        assert np.array_equal(weights, PRESET_KERNELS[values["preset"]]), (
            f"the sliders do not show the preset {values['preset']!r}"
        )


_KERNEL_EXTREMES = (
    {"preset": "custom", **{f"k{i}": 0.0 for i in range(9)}},  # a blank output
    {"preset": "custom", **{f"k{i}": 10.0 for i in range(9)}, "relu": True},
    {"preset": "custom", **{f"k{i}": (10.0 if i % 2 else -10.0) for i in range(9)}, "same": False},
    {"preset": "laplacian", "image": 19, "same": False, "relu": True},
)


# -- FeatureMapExplorer -------------------------------------------------------------------------


def _feature_map_explorer() -> Built:
    from dlkit import nn
    from dlkit.data import load_digits
    from dlkit.viz import FeatureMapExplorer

    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8 * 2 * 2, 10, rng=rng),
    )  # fmt: skip
    images, _ = load_digits(images=True)
    return Built(FeatureMapExplorer(model, images[:12], class_names=[str(d) for d in range(10)]))


# -- unit 09: GradientFlowExplorer, GateInspector, TemperatureExplorer -------------------------


def _gradient_flow_explorer() -> Built:
    from dlkit import functional as F
    from dlkit.viz import GradientFlowExplorer

    spies = {
        name: Spy(getattr(F, name))
        for name in (
            "rnn_step_forward", "rnn_step_backward", "lstm_step_forward", "lstm_step_backward",
            "clip_grad_norm",
        )
    }  # fmt: skip
    return Built(GradientFlowExplorer(**spies, hidden=16), spies)


def _gradient_flow_calls(values: Mapping[str, Any]) -> Iterable[str]:
    cells = ("rnn", "lstm") if values["cell"] == "both" else (values["cell"],)
    names = [f"{c}_step_{d}" for c in cells for d in ("forward", "backward")]
    return names + (["clip_grad_norm"] if values["clip"] else [])


def _gradient_flow_inert(name: str, values: Mapping[str, Any]) -> bool:
    return (name == "forget_bias" and values["cell"] == "rnn") or (
        name == "max_norm" and not values["clip"]
    )


def _no_nan_text(e: Any, spies: Mapping[str, Spy], values: Mapping[str, Any]) -> None:
    import re

    from matplotlib.text import Text

    for text in e.figure.findobj(Text):
        words = text.get_text().lower()
        assert not re.search(r"\b(nan|inf)\b", words), f"the figure shows {words!r}"


_GRADIENT_FLOW_EXTREMES = (
    {"steps": 100, "scale": 4.0, "cell": "both", "clip": False},  # norms near 1e15
    {"steps": 100, "scale": 4.0, "cell": "both", "clip": True, "max_norm": 0.1},
    {"steps": 100, "scale": 0.25, "cell": "rnn", "clip": False},  # vanishes to 1e-60
    {"steps": 5, "scale": 0.25, "cell": "lstm", "forget_bias": 0.0},
    {"steps": 100, "scale": 4.0, "cell": "lstm", "forget_bias": 5.0, "clip": True,
     "max_norm": 1000.0},
)  # fmt: skip


def _gate_inspector() -> Built:
    from dlkit.data import copy_task
    from dlkit.functional import lstm_step_forward
    from dlkit.viz import GateInspector

    x, _, _ = copy_task(1, length=5, delay=4, vocab_size=4, rng=np.random.default_rng(0))
    labels = ["abcd_>"[k] for k in x[0]]  # blank "_", go ">"
    step = Spy(lstm_step_forward)
    return Built(GateInspector(step, sequence=x[0], labels=labels), {"lstm_step_forward": step})


_GATE_EXTREMES = (
    {"first": 15, "count": 16, "forget_offset": 5.0, "input_scale": 10.0},
    {"first": 0, "count": 1, "forget_offset": -5.0, "input_scale": 0.1},
    {"first": 8, "count": 16, "forget_offset": -5.0, "input_scale": 10.0},
)


def _char_generator(sample: Callable[..., Any]) -> Callable[..., str]:
    """What the notebook builds: a (here bigram) character model looping over ``sample``."""
    chars = "ab c$\n"
    table = np.random.default_rng(1).standard_normal((len(chars), len(chars))) * 2.0

    def generate(temperature: float, rng: np.random.Generator) -> str:
        out, k = [], 0
        for _ in range(60):
            k = int(sample(table[k], temperature, rng=rng))
            out.append(chars[k])
        return "".join(out)

    return generate


def _temperature_explorer(generate: bool) -> Callable[[], Built]:
    def make() -> Built:
        from dlkit.functional import sample
        from dlkit.viz import TemperatureExplorer

        student = Spy(sample)
        if generate:
            gen = Spy(_char_generator(student))
            e = TemperatureExplorer(student, generate=gen)
            return Built(e, {"sample": student, "generate": gen})
        logits = np.random.default_rng(2).standard_normal(30) * 2.0
        logits[[3, 17]] = -np.inf  # tokens that can never be drawn
        vocab = ["$", "\n", " ", "\t"] + [chr(ord("a") + k) for k in range(26)]
        return Built(TemperatureExplorer(student, logits=logits, vocab=vocab), {"sample": student})

    return make


def _temperature_check(e: Any, spies: Mapping[str, Spy], values: Mapping[str, Any]) -> None:
    logits, temperature = spies["sample"].calls[-1][:2]
    assert temperature == values["temperature"], "sample was not given the slider's temperature"
    _no_nan_text(e, spies, values)


_TEMPERATURE_EXTREMES = (
    {"temperature": 0.05, "seed": 99},
    {"temperature": 5.0, "seed": 0},
    {"temperature": 10 ** math.log10(0.05), "seed": 1},  # what the frontend sends: < 0.05
    {"temperature": 10 ** math.log10(5.0), "seed": 99},
)


# -- unit 10: AttentionHeatmaps, QueryKeyPlayground --------------------------------------------


def _attention_heatmaps(from_model: bool) -> Callable[[], Built]:
    def make() -> Built:
        from dlkit import nn
        from dlkit.viz import AttentionHeatmaps

        rng = np.random.default_rng(0)
        if from_model:  # a freshly initialised block: no training
            block = nn.TransformerBlock(8, 2, 16, rng=rng, causal=True)
            x = rng.standard_normal((2, 6, 8)) * 3.0
            return Built(AttentionHeatmaps(model=block, inputs=x, tokens=list("the cat")[:6]))

        def softmax(scores: np.ndarray) -> np.ndarray:
            e = np.exp(scores - scores.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)

        layers = {
            "self": softmax(rng.standard_normal((2, 4, 5, 5)) * 2.0),
            "cross": softmax(rng.standard_normal((2, 4, 5, 7)) * 2.0),
        }
        layers["cross"][:, :, 0] = 0.0  # an empty row: a query with no allowed key
        tokens = ["$x", "\n", " ", "b", "c", "d", "e"]  # mathtext, a newline, a space
        return Built(AttentionHeatmaps(layers, tokens=tokens, query_tokens="VWXYZ"))

    return make


def _query_key_playground(values: str) -> Callable[[], Built]:
    def make() -> Built:
        from dlkit.functional import scaled_dot_product_attention
        from dlkit.viz import QueryKeyPlayground

        student = Spy(scaled_dot_product_attention)
        if values == "colours":
            rgb = np.random.default_rng(3).uniform(size=(4, 3))
            keys = {"x": (1.0, 0.0), "y": (0.0, 1.0), "-x": (-1.0, 0.0), "$": (0.5, -2.0)}
            return Built(QueryKeyPlayground(student, keys=keys, values=rgb), {"attention": student})
        return Built(QueryKeyPlayground(student), {"attention": student})

    return make


def _playground_check(e: Any, spies: Mapping[str, Spy], values: Mapping[str, Any]) -> None:
    r = e.compute(**values)
    assert r["matches"], f"dlkit's attention should match: {r['hint']}"
    if values["mask"] != "none":
        assert r["weights"][e.key_labels.index(values["mask"])] == 0.0
    _no_nan_text(e, spies, values)


def _latent_explorer(labels: bool) -> Callable[[], Built]:
    """Unit 11: a toy decoder (a bright pixel placed by the code) over three clusters of
    codes; with class labels (a legend beside the scatter) or without."""

    def make() -> Built:
        from dlkit.viz import LatentExplorer

        g = np.random.default_rng(11)
        classes = np.arange(90) % 3
        codes = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 3.0]])[classes]
        codes = codes + 0.3 * g.standard_normal((90, 2))

        def decode(z: np.ndarray) -> np.ndarray:
            rows, cols = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
            r, c = 3.5 + 0.8 * z[:, 1:2], 3.5 + 0.8 * z[:, 0:1]
            d2 = (rows.reshape(1, -1) - r) ** 2 + (cols.reshape(1, -1) - c) ** 2
            return np.exp(-d2 / 2.0)

        student = Spy(decode)
        explorer = LatentExplorer(student, codes, classes if labels else None)
        return Built(explorer, {"decode": student})

    return make


def _training_replay(count: bool) -> Callable[[], Built]:
    """Unit 12: a toy run whose samples move from a blob at the origin onto a ring of four
    modes, with a mode counter (a student function) or without one."""

    def make() -> Built:
        from dlkit.viz import TrainingReplay

        g = np.random.default_rng(12)
        angle = 2 * np.pi * np.arange(120) / 4
        real = 2.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        real = real + 0.05 * g.standard_normal((120, 2))
        noise = g.standard_normal((60, 2))
        targets = 2.0 * np.stack([np.cos(angle[:60]), np.sin(angle[:60])], axis=1)
        steps = np.arange(0, 101, 20)
        samples = np.stack([0.3 * noise + (s / 100) * targets for s in steps])
        history = {"step": steps, "samples": samples,
                   "d_loss": 1.4 - 0.3 * np.exp(-np.arange(100) / 30),
                   "g_loss": 0.7 + 0.2 * np.sin(np.arange(100) / 9)}  # fmt: skip
        centres = 2.0 * np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])

        def count_modes(points: np.ndarray) -> int:
            d = np.linalg.norm(points[:, None, :] - centres[None], axis=2)
            return int(np.sum(np.sum(d < 0.5, axis=0) >= 5))

        if not count:
            return Built(TrainingReplay(history, real), {})
        student = Spy(count_modes)
        return Built(TrainingReplay(history, real, count_modes=student, modes=4),
                     {"count_modes": student})  # fmt: skip

    return make


def _speed_chart(two_ops: bool) -> Callable[[], Built]:
    """Unit 13: timings as dlkit.speed.compare_backends returns them (made up here, no
    timing in a test): two ops at three batch sizes, or one op at one batch size in
    microseconds."""

    def make() -> Built:
        from dlkit.viz import SpeedChart

        if not two_ops:
            row = {"op": "affine", "batch": 1, "numpy_s": 4e-6, "dlkit_torch_s": 9e-6,
                   "torch_s": 7e-6, "device": "cpu"}  # fmt: skip
            return Built(SpeedChart([row]))
        rows = [
            {
                "op": op,
                "batch": n,
                "numpy_s": k * n * 2e-6,
                "dlkit_torch_s": k * n * 3e-6,
                "torch_s": n * 2.5e-6 + 1e-5,
                "device": "cpu",
            }  # fmt: skip
            for op, k in (("affine", 0.5), ("conv2d", 40.0))
            for n in (16, 64, 256)
        ]
        return Built(SpeedChart(rows))

    return make


def _training_monitor() -> Built:
    """Unit 13: a monitor fed 20 steps of two noisy losses and an accuracy every 5 steps,
    on a made-up clock (a step every 10 ms, slower from step 10)."""
    from dlkit.viz import TrainingMonitor

    monitor: list[Any] = []

    def clock() -> float:  # the seconds of a run at the monitor's number of steps so far
        n = len(monitor[0].times)
        return 0.01 * min(n, 10) + 0.02 * max(n - 10, 0)

    e = TrainingMonitor(every=5, clock=clock)
    monitor.append(e)
    _monitor_steps(e, 20)
    return Built(e)


def _monitor_steps(e: Any, n: int = 10, **fixed: float) -> None:
    g = np.random.default_rng(len(e.times))
    for _ in range(n):
        step = e.times[-1][0] + 1 if e.times else 0
        noise = 0.2 * g.random()
        values = {"loss": 2.0 / (1 + step) + noise, "val_loss": 2.2 / (1 + step) + 0.05}
        e.log(step, **{**values, **fixed})
        if step % 5 == 4:
            e.log(step, accuracy=1.0 - 1.0 / (2 + step))


def _monitor_diverging(e: Any) -> None:
    _monitor_steps(e, 5, loss=1e30)  # a diverging run: huge losses on a linear axis


def _monitor_many(e: Any) -> None:
    _monitor_steps(e, 300)


def _monitor_new_metric(e: Any) -> None:
    step = e.times[-1][0]
    for k in range(5):  # a metric that starts late, at steps of its own
        e.log(step + 3 * (k + 1), learning_rate=0.1 / (k + 1))


def _explanation_explorer() -> Built:
    """Unit 14: a small MLP over flat 8 x 8 images (seeded), dlkit's attribution methods as
    the "student" functions, four images with labels."""
    from dlkit import interpret, nn
    from dlkit.viz import ExplanationExplorer

    g = np.random.default_rng(14)
    model = nn.Sequential(nn.Linear(64, 12, rng=g), nn.Tanh(), nn.Linear(12, 4, rng=g))
    images = g.random((4, 64))
    spies = {
        "saliency_map": Spy(interpret.saliency_map),
        "integrated_gradients": Spy(interpret.integrated_gradients),
        "occlusion_map": Spy(interpret.occlusion_map),
    }
    explorer = ExplanationExplorer(model=model, images=images, labels=np.arange(4), **spies)
    return Built(explorer, spies)


def _explanation_calls(values: Mapping[str, Any]) -> list[str]:
    method = values["method"]
    if method in ("saliency", "gradient x input"):
        return ["saliency_map"]
    return ["integrated_gradients" if method == "integrated gradients" else "occlusion_map"]


def _explanation_inert(name: str, values: Mapping[str, Any]) -> bool:
    """The baseline matters to integrated gradients and occlusion only; the steps to
    integrated gradients only."""
    method = values["method"]
    if name == "baseline":
        return method not in ("integrated gradients", "occlusion")
    if name == "steps":
        return method != "integrated gradients"
    return False


# -- unit 15: EpisodeReplay, GraphEmbeddingView ------------------------------------------------


_ROLLOUTS: list[tuple[Any, list[Any], list[str]]] = []  # made once, on first use


def _cartpole_rollouts() -> tuple[Any, list[Any], list[str]]:
    """Unit 15: a balancing linear policy (P(push right) rises with the pole's lean) and three
    real CartPole episodes: a near-uniform policy's (16 steps), then 100 and 500 steps."""
    from dlkit import rl

    if _ROLLOUTS:
        return _ROLLOUTS[0]

    env = rl.make_cartpole(seed=15)
    untrained = rl.Policy(hidden=0, rng=np.random.default_rng(15))
    balancing = untrained.copy()
    balancing.params["W"] = np.array([[0.0, 0.3], [0.0, 0.8], [0.0, 12.0], [0.0, 2.5]])
    episodes = [rl.run_episode(env, untrained, np.random.default_rng(0), seed=15)]
    episodes += [rl.run_episode(env, balancing, np.random.default_rng(s), seed=s) for s in (0, 1)]
    env.close()
    names = ("start", "mid", "end")
    labels = [f"{name}: {len(ep)} steps" for name, ep in zip(names, episodes, strict=True)]
    _ROLLOUTS.append((balancing, episodes, labels))
    return _ROLLOUTS[0]


def _episode_replay(with_policy: bool) -> Callable[[], Built]:
    def make() -> Built:
        from dlkit import rl
        from dlkit.viz import EpisodeReplay

        policy, episodes, labels = _cartpole_rollouts()
        returns = Spy(rl.discounted_returns)
        if with_policy:
            e = EpisodeReplay(episodes, labels=labels, discounted_returns=returns, policy=policy)
        else:  # dicts without the probabilities: the actions only, no map
            plain = [{"states": ep.states, "actions": ep.actions, "rewards": ep.rewards}
                     for ep in episodes]  # fmt: skip
            e = EpisodeReplay(plain, discounted_returns=returns, gamma=0.9)
        return Built(e, {"discounted_returns": returns})

    return make


def _episode_inert(name: str, values: Mapping[str, Any]) -> bool:
    """A step beyond the end of a shorter episode shows its last step, like the one before."""
    _, episodes, labels = _cartpole_rollouts()
    options = (*labels, *(f"episode {k}: return {ep.total:g}" for k, ep in enumerate(episodes)))
    lengths = dict(zip(options, [len(ep) for ep in episodes] * 2, strict=True))
    return name == "step" and values["step"] >= lengths[values["episode"]] - 1


def _episode_settings(extremes: bool) -> tuple[dict[str, Any], ...]:
    _, episodes, labels = _cartpole_rollouts()
    if not extremes:
        return ({"episode": labels[0], "step": 5}, {"episode": labels[1], "step": 60,
                                                      "gamma": 0.5})  # fmt: skip
    return (
        {"episode": labels[0], "step": 499},  # far beyond the end of a 16-step episode
        {"episode": labels[2], "step": 499, "gamma": 0.0},  # G_t is the reward alone
        {"episode": labels[2], "step": 0, "gamma": 1.0},  # G_0 = 500, the whole episode
    )


def _graph_embedding_view(embed: int | None) -> Callable[[], Built]:
    def make() -> Built:
        from dlkit import gnn
        from dlkit.viz import GraphEmbeddingView

        if embed is None:  # a generated two-block graph, Kipf & Welling's two layers
            graph = gnn.two_communities(40, 0.3, 0.03, rng=np.random.default_rng(15))
        else:
            graph = gnn.karate_club()
        mask = gnn.sample_train_mask(graph.labels, 2, rng=np.random.default_rng(15))
        history = gnn.train_gcn(graph, train_mask=mask, embed=embed, epochs=60, record_every=10)
        layer = Spy(gnn.gcn_layer)
        return Built(GraphEmbeddingView(graph, history, gcn_layer=layer), {"gcn_layer": layer})

    return make


_PLAYGROUND_EXTREMES = (
    {"length": 0.0, "sharpness": 10.0, "mask": "e"},  # q = 0: uniform weights
    {"length": 3.0, "sharpness": 10.0, "angle": 180.0, "mask": "c"},  # one-hot weights
    {"length": 3.0, "sharpness": 10 ** math.log10(10.0), "angle": -180.0, "mask": "none"},
    {"length": 0.0, "sharpness": 10 ** math.log10(0.1), "angle": 0.0},
)


# -- the registry ---------------------------------------------------------------------------

CASES: list[WidgetCase] = []


def _register() -> None:
    from dlkit import viz

    CASES.extend(
        [
            WidgetCase(
                "FunctionExplorer",
                viz.FunctionExplorer,
                _function_explorer,
                check=_function_check,
                settings=({"scale": -1.5, "power": 3}, {"kind": "log", "scale": 0.5}),
                extremes=(
                    {"kind": "power", "power": 200, "scale": 3.0},  # overflows to infinity
                    {"kind": "log", "scale": -3.0},  # NaN left of 0, -inf at 0
                    {"kind": "power", "power": 0, "scale": 0.0},  # a flat zero line
                ),
            ),
            WidgetCase(
                "TransformExplorer",
                viz.TransformExplorer,
                _transform_explorer(_standardize),
                inert=_transform_inert,
                settings=({"mean": -20.0, "spread": 1.0},),
                extremes=({"mean": 50.0, "spread": 0.0}, {"mean": -50.0, "spread": 20.0}),
            ),
            WidgetCase(
                "TransformExplorer-naive",  # the student's transform returns all NaN
                viz.TransformExplorer,
                _transform_explorer(_naive_standardize),
                inert=_transform_inert,
                extremes=({"mean": 0.0, "spread": 0.0}, {"mean": 50.0, "spread": 20.0}),
            ),
            WidgetCase(
                "DecisionBoundaryExplorer",
                viz.DecisionBoundaryExplorer,
                _boundary_explorer,
                settings=({"dataset": "OR", "step": 5}, {"dataset": "blobs", "step": 40}),
                extremes=(
                    {"w1": 0.0, "w2": 0.0, "b": 0.0, "step": 0},  # no boundary at all
                    {"w1": 0.0, "w2": 0.0, "b": 4.0, "step": 80, "lr": 2.0},
                    {"dataset": "XOR", "lr": 2.0, "step": 80},  # never converges
                    {"dataset": "XOR clouds", "lr": 0.05, "step": 80, "w1": -4.0, "w2": 4.0},
                ),
            ),
            WidgetCase(
                "ActivationExplorer",
                viz.ActivationExplorer,
                _activation_explorer(custom=False),
                inert=_activation_inert,
                settings=({"activation": "leaky_relu", "negative_slope": 0.3},),
                extremes=_HUGE_SCALE + ({"activation": "gelu", "scale": 0.1},),
            ),
            WidgetCase(
                "ActivationExplorer-custom",
                viz.ActivationExplorer,
                _activation_explorer(custom=True),
                calls=_activation_calls,
                inert=_activation_inert,
                extremes=(
                    {"activation": "softplus", "scale": 100.0},
                    {"activation": "softplus", "scale": 0.1},
                ),
            ),
            WidgetCase(
                "HiddenUnitsExplorer",
                viz.HiddenUnitsExplorer,
                _hidden_units_explorer,
                calls=_hidden_units_calls,
                settings=({"hidden": 3, "curve": "abs"}, {"hidden": 20, "activation": "tanh"}),
                extremes=tuple(
                    {"hidden": h, "activation": a, "curve": c, "seed": s}
                    for h, a, c, s in (
                        (0, "relu", "step", 20),
                        (0, "gelu", "sine", 0),
                        (1, "sigmoid", "step", 20),
                        (64, "relu", "step", 20),
                        (64, "sigmoid", "abs", 0),
                    )
                ),
            ),
            WidgetCase(
                "ThresholdExplorer",
                viz.ThresholdExplorer,
                _threshold_explorer,
                check=_threshold_check,
                settings=({"threshold": 0.5, "positives": 0.5, "separation": 1.0},),
                extremes=(
                    {"threshold": 10.0, "positives": 0.01, "separation": 0.0},  # nothing positive
                    {"threshold": -4.0, "positives": 0.99, "separation": 0.0},  # all positive
                    {"threshold": 10.0, "positives": 0.99, "separation": 6.0},
                    {"threshold": -4.0, "positives": 0.01, "separation": 6.0},
                ),
            ),
            WidgetCase(
                "GraphExplorer",
                viz.GraphExplorer,
                _graph_explorer,
                check=_graph_check,
                settings=({"x1": 1.0, "w1": 0.5, "b": 0.0},),
                extremes=(
                    {"x1": 3.0, "w1": 3.0, "x2": 3.0, "w2": 3.0, "b": 10.0},  # tanh saturated
                    {"x1": 0.0, "w1": 0.0, "x2": 0.0, "w2": 0.0, "b": 0.0},
                    {"x1": -3.0, "w1": 3.0, "x2": -3.0, "w2": 3.0, "b": -10.0},
                ),
            ),
            WidgetCase(
                "TrainingCurves",
                viz.TrainingCurves,
                _training_curves,
                actions=(_log_epochs, _log_epochs, _log_diverging, _log_many, _log_new_metric),
            ),
            WidgetCase(
                "TrajectoryExplorer",
                viz.TrajectoryExplorer,
                _trajectory_explorer,
                calls=_trajectory_calls,
                settings=({"function": "beale", "lr": 0.05, "steps": 200},),
                extremes=_trajectory_extremes(),
            ),
            WidgetCase(
                "DepthExplorer",
                viz.DepthExplorer,
                _depth_explorer,
                calls=_depth_calls,
                settings=({"depth": 5, "activation": "relu", "init": "he"},),
                extremes=_DEPTH_EXTREMES,
            ),
            WidgetCase(
                "RegularizationExplorer",
                viz.RegularizationExplorer,
                _regularization_explorer,
                calls=_regularization_calls,
                inert=_regularization_inert,
                settings=({"hidden": 16, "lam": 0.01, "p_drop": 0.3, "epochs": 30},),
                extremes=(
                    {"hidden": 1, "lam": 1.0, "p_drop": 0.8, "epochs": 10},  # underfit
                    {"hidden": 128, "lam": 1e-5, "p_drop": 0.0, "epochs": 40},  # memorizes
                    {"hidden": 128, "lam": 1.0, "p_drop": 0.8, "epochs": 40},
                    {"hidden": 1, "lam": 1e-5, "p_drop": 0.0, "epochs": 40},
                ),
            ),
            WidgetCase(
                "KernelExplorer",
                viz.KernelExplorer,
                _kernel_explorer,
                check=_kernel_check,
                settings=({"preset": "gaussian blur", "image": 5}, {"preset": "sobel y"}),
                extremes=_KERNEL_EXTREMES,
            ),
            WidgetCase(
                "FeatureMapExplorer",
                viz.FeatureMapExplorer,
                _feature_map_explorer,
                settings=({"image": 3, "layer": "3: Conv2d"},),
                extremes=({"image": 0, "layer": "4: ReLU"}, {"image": 11, "layer": "0: Conv2d"}),
            ),
            WidgetCase(
                "GradientFlowExplorer",
                viz.GradientFlowExplorer,
                _gradient_flow_explorer,
                calls=_gradient_flow_calls,
                inert=_gradient_flow_inert,
                check=_no_nan_text,
                settings=(
                    {"cell": "rnn", "scale": 3.0, "steps": 50},
                    {"cell": "lstm", "forget_bias": 3.0, "scale": 0.5},
                    {"cell": "both", "clip": True, "max_norm": 1.0, "scale": 3.0},
                ),
                extremes=_GRADIENT_FLOW_EXTREMES,
            ),
            WidgetCase(
                "GateInspector",
                viz.GateInspector,
                _gate_inspector,
                settings=({"first": 4, "count": 4}, {"forget_offset": 3.0, "input_scale": 2.0}),
                extremes=_GATE_EXTREMES,
            ),
            WidgetCase(
                "TemperatureExplorer",
                viz.TemperatureExplorer,
                _temperature_explorer(generate=True),
                check=_temperature_check,
                settings=({"temperature": 0.5, "seed": 3},),
                extremes=_TEMPERATURE_EXTREMES,
            ),
            WidgetCase(
                "TemperatureExplorer-inf",  # -inf logits, odd tokens, more tokens than bars
                viz.TemperatureExplorer,
                _temperature_explorer(generate=False),
                check=_temperature_check,
                extremes=_TEMPERATURE_EXTREMES,
            ),
            WidgetCase(
                "AttentionHeatmaps",
                viz.AttentionHeatmaps,
                _attention_heatmaps(from_model=False),
                settings=({"layer": "self", "head": "mean", "example": 1},),
                extremes=({"layer": "cross", "head": "3", "example": 1},),
            ),
            WidgetCase(
                "AttentionHeatmaps-model",
                viz.AttentionHeatmaps,
                _attention_heatmaps(from_model=True),
                settings=({"head": "mean", "example": 1}, {"head": "1"}),
            ),
            WidgetCase(
                "QueryKeyPlayground",
                viz.QueryKeyPlayground,
                _query_key_playground("numbers"),
                check=_playground_check,
                settings=({"angle": 90.0, "mask": "b"}, {"sharpness": 3.0, "length": 2.0}),
                extremes=_PLAYGROUND_EXTREMES,
            ),
            WidgetCase(
                "QueryKeyPlayground-colours",  # (Tk, 3) RGB values, a "$" label, 4 keys
                viz.QueryKeyPlayground,
                _query_key_playground("colours"),
                check=_playground_check,
                settings=({"angle": -90.0, "mask": "$"},),
                extremes=({"length": 3.0, "sharpness": 10.0, "mask": "x"},),
            ),
            WidgetCase(
                "LatentExplorer",
                viz.LatentExplorer,
                _latent_explorer(labels=True),
                settings=({"z1": -2.0, "z2": 0.0}, {"z1": 0.0, "z2": 3.0}),
            ),
            WidgetCase(
                "LatentExplorer-unlabelled",
                viz.LatentExplorer,
                _latent_explorer(labels=False),
                settings=({"z1": 2.0, "z2": -0.5},),
            ),
            WidgetCase(
                "TrainingReplay",
                viz.TrainingReplay,
                _training_replay(count=True),
                settings=({"iteration": 40.0}, {"iteration": 80.0}),
            ),
            WidgetCase(
                "TrainingReplay-no-counter",
                viz.TrainingReplay,
                _training_replay(count=False),
                settings=({"iteration": 20.0},),
            ),
            WidgetCase(
                "SpeedChart",
                viz.SpeedChart,
                _speed_chart(two_ops=True),
                settings=({"op": "conv2d", "view": "ratio to torch", "log scale": True},),
                extremes=({"op": "affine", "view": "ratio to torch", "log scale": False},),
            ),
            WidgetCase(
                "SpeedChart-one-row",  # one op, one batch size, microseconds
                viz.SpeedChart,
                _speed_chart(two_ops=False),
                settings=({"view": "ratio to torch", "log scale": True},),
            ),
            WidgetCase(
                "TrainingMonitor",
                viz.TrainingMonitor,
                _training_monitor,
                settings=({"smoothing": 0.9},),
                extremes=({"smoothing": 0.99}, {"smoothing": 0.0}),
                actions=(_monitor_steps, _monitor_diverging, _monitor_many, _monitor_new_metric),
            ),
            WidgetCase(
                "ExplanationExplorer",
                viz.ExplanationExplorer,
                _explanation_explorer,
                calls=_explanation_calls,
                inert=_explanation_inert,
                settings=(
                    {"method": "integrated gradients", "baseline": "blurred", "steps": 50},
                    {"method": "occlusion", "baseline": "mean image", "image": 2},
                ),
                extremes=(
                    {"method": "integrated gradients", "baseline": "zeros", "steps": 2},
                    {"method": "integrated gradients", "baseline": "mean image", "steps": 100},
                ),
            ),
            WidgetCase(
                "EpisodeReplay",
                viz.EpisodeReplay,
                _episode_replay(with_policy=True),
                inert=_episode_inert,
                settings=_episode_settings(extremes=False),
                extremes=_episode_settings(extremes=True),
            ),
            WidgetCase(
                "EpisodeReplay-no-policy",  # dicts without probabilities, no policy map
                viz.EpisodeReplay,
                _episode_replay(with_policy=False),
                inert=_episode_inert,
                extremes=({"step": 499, "gamma": 1.0}, {"step": 0, "gamma": 0.0}),
            ),
            WidgetCase(
                "GraphEmbeddingView",
                viz.GraphEmbeddingView,
                _graph_embedding_view(embed=2),
                settings=({"epoch": 30, "layer": "hidden (16-D, PCA)"},),
                extremes=(
                    {"epoch": 0, "layer": "output (2 logits)", "edges": False},  # untrained
                    {"epoch": 60, "layer": "hidden (16-D, PCA)", "edges": True},
                ),
            ),
            WidgetCase(
                "GraphEmbeddingView-two-layer",  # no 2-D layer: the logits first
                viz.GraphEmbeddingView,
                _graph_embedding_view(embed=None),
                extremes=({"epoch": 0, "layer": "hidden (16-D, PCA)"},),
            ),
        ]
    )


_register()
