"""An optimizer race: several update rules descend the same 2-D test function from one start.

Left panel: contour lines of the function, the start point, the minimum and each optimizer's
path. Right panel: the loss along each path, step by step. Controls pick the function, the
learning rate (shared by every racer), the number of steps and which optimizers race.

Your own rules race too. Pass ``students={"adam": adam_update, ...}``: each key names the
dlkit reference rule that yours replaces, and the value is an update function with the
reference's signature (:mod:`dlkit.optim.rules`)::

    update(param, grad, state, hp, step) -> (new_param, new_state)

where ``param`` and ``grad`` are float64 arrays of shape ``(2,)``, ``state`` comes from the
reference's ``init`` (and then from your previous return value), ``hp`` is the reference's
hyperparameter dataclass at the slider's learning rate, and ``step`` counts from 1. Your path
is drawn dashed over the reference's (the references of your rules start ticked): a correct
rule hides it exactly. The legend says, for each of your rules, whether its path is the
reference's, or at which step it leaves it, and when that reference is not ticked.

The learning-rate slider moves over 1, 2, 3, 5 and 7 times each power of ten from 1e-4 to 10
(:data:`LEARNING_RATES`), so a rate such as 0.003 or 0.07 can be set exactly.

A path that reaches NaN, infinity or a coordinate beyond ``1e6`` stops there and is marked
"diverged"; nothing is warned, whatever the learning rate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator

from ..optim import rules
from .explorer import Choice, Explorer, Slider, Toggle

__all__ = ["TestFunction", "FUNCTIONS", "RACERS", "LEARNING_RATES", "TrajectoryExplorer", "race"]

_BLOW_UP = 1e6  # a coordinate this large counts as divergence


@dataclass(frozen=True)
class TestFunction:
    """A 2-D function with its gradient, a plotting window, a start and its minimum (if any)."""

    name: str
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: tuple[float, float]
    minimum: tuple[float, float] | None
    log_levels: bool = True


def _rosenbrock(x: Any, y: Any) -> Any:
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_grad(p: np.ndarray) -> np.ndarray:
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def _beale_terms(x: Any, y: Any) -> tuple[Any, Any, Any]:
    return 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3


def _beale(x: Any, y: Any) -> Any:
    a, b, c = _beale_terms(x, y)
    return a**2 + b**2 + c**2


def _beale_grad(p: np.ndarray) -> np.ndarray:
    x, y = p
    a, b, c = _beale_terms(x, y)
    dx = 2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1)
    dy = 2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y**2
    return np.array([dx, dy])


_COND = 25.0  # curvature ratio of the ill-conditioned bowl


FUNCTIONS: dict[str, TestFunction] = {
    "rosenbrock": TestFunction(
        "Rosenbrock (1-x)² + 100(y-x²)²",
        _rosenbrock,
        _rosenbrock_grad,
        (-2.0, 2.0),
        (-1.0, 3.0),
        (-1.5, 2.5),
        (1.0, 1.0),
    ),
    "beale": TestFunction(
        "Beale",
        _beale,
        _beale_grad,
        (-1.5, 4.5),
        (-2.0, 2.0),
        (0.5, 1.5),
        (3.0, 0.5),
    ),
    "saddle": TestFunction(
        "saddle x² - y²",
        lambda x, y: x**2 - y**2,
        lambda p: np.array([2 * p[0], -2 * p[1]]),
        (-2.0, 2.0),
        (-2.0, 2.0),
        (-1.8, 0.02),
        None,
        log_levels=False,
    ),
    "ill-conditioned": TestFunction(
        f"ill-conditioned bowl (x² + {_COND:g}y²)/2",
        lambda x, y: 0.5 * (x**2 + _COND * y**2),
        lambda p: np.array([p[0], _COND * p[1]]),
        (-5.0, 5.0),
        (-2.0, 2.0),
        (-4.5, 1.5),
        (0.0, 0.0),
    ),
}


def _hypers(lr: float) -> dict[str, tuple[rules.Rule, Any]]:
    """Each racer's rule and hyperparameters at learning rate ``lr`` (torch's defaults else)."""
    r = rules.RULES
    return {
        "sgd": (r["sgd"], rules.SGDHyper(lr)),
        "momentum": (r["sgd"], rules.SGDHyper(lr, momentum=0.9)),
        "nesterov": (r["sgd"], rules.SGDHyper(lr, momentum=0.9, nesterov=True)),
        "adagrad": (r["adagrad"], rules.AdaGradHyper(lr)),
        "rmsprop": (r["rmsprop"], rules.RMSPropHyper(lr)),
        "adadelta": (r["adadelta"], rules.AdadeltaHyper(lr)),
        "adam": (r["adam"], rules.AdamHyper(lr)),
        "adamw": (r["adamw"], rules.AdamHyper(lr, weight_decay=0.01)),
    }


RACERS = tuple(_hypers(1.0))
_DEFAULT_ON = ("sgd", "momentum", "rmsprop", "adam")

#: The learning rates the slider stops at: 1, 2, 3, 5, 7 times 1e-4 ... 1, and 10.
LEARNING_RATES = tuple(float(f"{m}e{e}") for e in range(-4, 1) for m in (1, 2, 3, 5, 7)) + (10.0,)


def race(
    update: Callable[..., Any],
    init: Callable[..., Any],
    hp: Any,
    fn: TestFunction,
    steps: int,
) -> tuple[np.ndarray, int | None]:
    """Run ``update`` from ``fn.start`` for ``steps`` steps.

    Returns:
        ``(path, diverged_at)``: the finite points visited, shape ``(K + 1, 2)``, and the step
        at which the path left the finite world (``None`` when it did not).
    """
    param = np.array(fn.start, dtype=np.float64)
    path = [param]
    with np.errstate(all="ignore"):
        state = init(param, hp)
        for t in range(1, steps + 1):
            new, state = update(param, fn.grad(param), state, hp, t)
            new = np.asarray(new, dtype=np.float64)
            if new.shape != (2,):
                raise ValueError(
                    f"the update rule returned a parameter of shape {new.shape}; expected (2,)"
                )
            if not np.all(np.isfinite(new)) or np.abs(new).max() > _BLOW_UP:
                return np.array(path), t
            param = new
            path.append(param)
    return np.array(path), None


class TrajectoryExplorer(Explorer):
    """Race optimizers (and your own update rules) on Rosenbrock, Beale, a saddle, a ravine.

    Args:
        students: ``{reference name: your update function}``, e.g. ``{"adam": adam_update}``;
            names are those of :data:`RACERS`. See the module docstring for the signature.
        function, lr, steps: the starting control values.
        racers: the reference rules ticked at the start (default: sgd, momentum, rmsprop,
            adam and the reference of each of your rules); your own rules always start ticked.
    """

    def __init__(
        self,
        students: Mapping[str, Callable[..., Any]] | None = None,
        *,
        function: str = "rosenbrock",
        lr: float = 0.01,
        steps: int = 100,
        racers: tuple[str, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        students = dict(students or {})
        if racers is None:  # every dashed line of yours starts with its solid reference
            racers = _DEFAULT_ON + tuple(n for n in students if n not in _DEFAULT_ON)
        for name in racers:
            if name not in RACERS:
                raise ValueError(f"racers must be names from {list(RACERS)}; got {name!r}")
        for name, fn in students.items():
            if name not in RACERS:
                raise ValueError(
                    f"students keys must name a reference rule, one of {list(RACERS)}; got {name!r}"
                )
            if not callable(fn):
                raise TypeError(f"students[{name!r}] must be a function; got {type(fn).__name__}")
        self.students = students
        controls: dict[str, Any] = {
            "function": Choice(tuple(FUNCTIONS), function, "function"),
            "lr": Slider(1e-4, 10.0, lr, label="learning rate", log=True, stops=LEARNING_RATES),
            "steps": Slider(1, 500, steps, step=1, label="steps", integer=True),
        }
        controls["function"].check("function", function)
        controls["lr"].check("lr", lr)
        controls["steps"].check("steps", steps)
        for name in RACERS:
            controls[name] = Toggle(name in racers, name)
        for name in students:
            controls[f"{name} (yours)"] = Toggle(True, f"{name} (yours)")
        kwargs.setdefault("figsize", (11.0, 4.6))
        super().__init__(controls=controls, **kwargs)

    def draw(self, fig: Figure, **values: Any) -> None:
        fn = FUNCTIONS[values["function"]]
        lr, steps = values["lr"], values["steps"]
        ax, ax_loss = fig.subplots(1, 2, width_ratios=[1.25, 1])
        self._contours(ax, fn)

        hypers = _hypers(lr)
        racers = [(n, hypers[n][0].update, n, "-") for n in RACERS if values[n]]
        racers += [
            (f"{n} (yours)", upd, n, "--")
            for n, upd in self.students.items()
            if values[f"{n} (yours)"]
        ]
        if not racers:
            ax.set_title(f"{fn.name}: tick an optimizer to race", fontsize=10)
            ax_loss.text(0.5, 0.5, "no optimizer selected", ha="center", va="center")
            ax_loss.set_axis_off()
            return
        references: dict[str, tuple[np.ndarray, int | None]] = {}
        for label, update, ref_name, style in racers:
            rule, hp = hypers[ref_name]
            path, diverged_at = race(update, rule.init, hp, fn, steps)
            if style == "-":
                references[ref_name] = path, diverged_at
            color = f"C{RACERS.index(ref_name) % 10}"
            with np.errstate(all="ignore"):
                losses = fn.f(path[:, 0], path[:, 1])
            if diverged_at is not None:
                text = f"{label}: diverged at step {diverged_at}"
            else:
                text = f"{label}: f = {losses[-1]:.3g}"
            if style == "--":  # yours: say how it compares with the reference, drawn or not
                if ref_name not in references:
                    references[ref_name] = race(rule.update, rule.init, hp, fn, steps)
                text += ", " + _compare(path, diverged_at, *references[ref_name], ref_name)
                if not values[ref_name]:
                    text += f" ({ref_name} not ticked)"
            width = 1.4 if style == "-" else 2.0
            ax.plot(path[:, 0], path[:, 1], style, color=color, lw=width, label=text)
            ax.plot(path[-1, 0], path[-1, 1], "x" if diverged_at else "o", color=color, ms=6)
            shown = losses if not fn.log_levels else np.maximum(losses, 1e-16)
            ax_loss.plot(np.arange(len(path)), shown, style, color=color, lw=width)
            if diverged_at is not None:
                ax_loss.plot(len(path) - 1, shown[-1], "x", color=color, ms=8)
        ax.set_xlim(*fn.xlim)
        ax.set_ylim(*fn.ylim)
        ax.set_title(f"{fn.name}: lr = {lr:.3g}, {steps} steps", fontsize=10)
        # beside the panels, never on a path or a contour line (solid: dlkit, dashed: yours)
        fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=7)
        if fn.log_levels:
            ax_loss.set_yscale("log")
        else:
            ax_loss.set_yscale("symlog", linthresh=1.0)
            ax_loss.yaxis.set_major_locator(FixedLocator(_symlog_ticks(*ax_loss.get_ylim())))
        ax_loss.set_xlim(0, max(steps, 1))
        ax_loss.set_xlabel("step")
        ax_loss.set_title("loss f along each path (x: diverged)", fontsize=10)

    @staticmethod
    def _contours(ax: Any, fn: TestFunction) -> None:
        gx, gy = np.meshgrid(np.linspace(*fn.xlim, 200), np.linspace(*fn.ylim, 200))
        z = fn.f(gx, gy)
        if fn.log_levels:
            levels = np.logspace(-1, np.log10(z.max()), 18)
            levels = np.concatenate([[1e-3, 1e-2], levels])
        else:
            levels = np.linspace(z.min(), z.max(), 21)
        ax.contour(gx, gy, z, levels=levels, colors="0.6", linewidths=0.6)
        ax.plot(*fn.start, "s", color="k", ms=7, label="start")
        if fn.minimum is not None:
            ax.plot(*fn.minimum, "*", color="gold", mec="k", ms=14, label="minimum")
        ax.set_xlabel("x")
        ax.set_ylabel("y")


def _symlog_ticks(lo: float, hi: float, most: int = 9) -> list[float]:
    """0 and signed powers of ten inside ``[lo, hi]``, every k-th decade so that at most
    ``most`` remain: a diverging saddle spans 25 decades, too many labels for the axis."""
    top = max(abs(lo), abs(hi), 1.0)
    decades = np.arange(0, int(np.floor(np.log10(top))) + 1)
    ticks = [0.0] + [s * 10.0**k for k in decades for s in (-1.0, 1.0)]
    ticks = sorted(t for t in ticks if lo <= t <= hi)
    stride = 1
    while len(ticks[::stride]) > most:
        stride += 1
    zero = ticks.index(0.0) if 0.0 in ticks else 0
    return ticks[zero % stride :: stride]


def _compare(
    path: np.ndarray,
    diverged_at: int | None,
    ref: np.ndarray,
    ref_diverged_at: int | None,
    ref_name: str,
) -> str:
    """How a student's path compares with the reference's, in a few words for the legend."""
    n = min(len(path), len(ref))
    same = np.isclose(path[:n], ref[:n], rtol=1e-6, atol=1e-9).all(axis=1)
    if same.all() and len(path) == len(ref) and diverged_at == ref_diverged_at:
        return f"on {ref_name}'s path"
    step = int(np.argmin(same)) if not same.all() else n  # point k is reached after step k
    return f"leaves {ref_name}'s path at step {step}"
