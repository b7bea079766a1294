"""Unit 13's live training monitor.

It must record every logged scalar in ``history`` (and mirror it to a writer), smooth the
losses as TensorBoard does, compute the steps per second from its clock, redraw every
``every`` calls into the output that ``show()`` displayed (in place, statically or as a
widget), and refuse bad steps and values without recording anything.
"""

from __future__ import annotations

import itertools

import IPython.display
import numpy as np
import pytest

from dlkit.viz import Explorer, TrainingMonitor
from dlkit.viz.monitor import smooth
from tests.viz.layout import layout_problems

PNG = b"\x89PNG\r\n\x1a\n"


def _clock(step: float = 0.5):
    ticks = itertools.count()
    return lambda: next(ticks) * step


class Writer:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float, int]] = []

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        self.calls.append((tag, value, step))


def test_it_is_an_explorer_with_a_smoothing_slider():
    m = TrainingMonitor()
    assert isinstance(m, Explorer) and list(m.controls) == ["smoothing"]
    slider = m.controls["smoothing"]
    assert (slider.min, slider.max, slider.value) == (0.0, 0.99, 0.6)
    assert m.history == {} and m.times == []
    assert TrainingMonitor(smoothing=0.9).values["smoothing"] == 0.9


def test_log_records_every_scalar_and_mirrors_it_to_the_writer():
    writer = Writer()
    m = TrainingMonitor(writer=writer, every=100, clock=_clock())
    m.log(0, loss=np.float32(2.0), accuracy=0.1)
    m.log(1, loss=1.5)
    m.log(1, val_accuracy=np.array([0.4]))  # the same step again, another name
    assert m.history == {"loss": [(0, 2.0), (1, 1.5)], "accuracy": [(0, 0.1)],
                         "val_accuracy": [(1, 0.4)]}  # fmt: skip
    assert writer.calls == [("loss", 2.0, 0), ("accuracy", pytest.approx(0.1), 0),
                            ("loss", 1.5, 1), ("val_accuracy", 0.4, 1)]  # fmt: skip
    assert m.times == [(0, 0.0), (1, 0.5)]  # one clock reading per new step
    steps, values = m.series("loss")
    assert steps.tolist() == [0, 1] and values.tolist() == [2.0, 1.5]


def test_one_element_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    m = TrainingMonitor(clock=_clock())
    m.log(3, loss=torch.tensor(0.25), accuracy=torch.tensor([0.5]))
    assert m.history == {"loss": [(3, 0.25)], "accuracy": [(3, 0.5)]}


def test_a_real_summary_writer_gets_the_scalars(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(log_dir=str(tmp_path)) as writer:
        m = TrainingMonitor(writer=writer, every=10)
        for step in range(3):
            m.log(step, loss=1.0 / (step + 1))
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    loss = events.Scalars("loss")
    assert [e.step for e in loss] == [0, 1, 2]
    assert [e.value for e in loss] == pytest.approx([1.0, 0.5, 1 / 3])


def test_smoothing_is_a_debiased_moving_average():
    x = np.array([1.0, 3.0, 2.0])
    assert smooth(x, 0.0).tolist() == x.tolist()
    a = 0.5
    s1 = (1 - a) * 1.0
    s2 = a * s1 + (1 - a) * 3.0
    assert smooth(x, a)[:2] == pytest.approx([s1 / (1 - a), s2 / (1 - a**2)])
    assert smooth(np.full(50, 4.0), 0.99) == pytest.approx(np.full(50, 4.0))  # no warm-up bias
    with pytest.raises(ValueError, match=r"smoothing must be in \[0, 1\)"):
        smooth(x, 1.0)


def test_the_loss_panel_draws_raw_and_smoothed_curves():
    m = TrainingMonitor(clock=_clock(), smoothing=0.5)
    losses = [2.0, 1.0, 1.5, 0.5]
    for step, loss in enumerate(losses):
        m.log(step, loss=loss)
    raw, smoothed = m.figure.axes[0].get_lines()
    assert raw.get_ydata().tolist() == losses and raw.get_alpha() < 1
    assert smoothed.get_ydata() == pytest.approx(smooth(losses, 0.5))
    m.update(smoothing=0.9)
    assert m.figure.axes[0].get_lines()[1].get_ydata() == pytest.approx(smooth(losses, 0.9))
    assert [t.get_text() for t in m.figure.axes[0].get_legend().get_texts()] == ["loss"]


def test_metrics_go_to_their_own_panel_and_the_speed_to_the_third():
    m = TrainingMonitor(every=100, clock=_clock(0.25))
    for step in range(0, 10, 2):  # two steps per tick of 0.25 s: 8 steps/s
        m.log(step, loss=1.0, accuracy=step / 10)
    m.refresh()
    loss_ax, metric_ax, speed_ax = m.figure.axes
    assert len(loss_ax.get_lines()) == 2 and len(metric_ax.get_lines()) == 1
    assert metric_ax.get_lines()[0].get_ydata().tolist() == [0.0, 0.2, 0.4, 0.6, 0.8]
    steps, rates = m.steps_per_second()
    assert steps.tolist() == [2, 4, 6, 8] and rates == pytest.approx([8.0] * 4)
    assert speed_ax.get_lines()[0].get_ydata() == pytest.approx([8.0] * 4)
    assert "8 steps/s" in speed_ax.get_title()
    assert layout_problems(m.figure) == []


def test_the_time_spent_redrawing_is_left_out_of_the_speed():
    now = [0.0]
    m = TrainingMonitor(every=2, clock=lambda: now[0])
    redraw = m.redraw

    def slow_redraw() -> None:  # drawing the figure takes 5 s of this clock
        redraw()
        now[0] += 5.0

    m.redraw = slow_redraw
    for step in range(5):
        m.log(step, loss=1.0)  # redrawn after steps 1 and 3
        now[0] += 1.0  # a training step takes 1 s
    assert [t for _, t in m.times] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert m.steps_per_second()[1] == pytest.approx([1.0] * 4)


def test_an_empty_monitor_says_what_is_missing():
    m = TrainingMonitor()
    titles = [ax.get_title() for ax in m.figure.axes]
    assert titles == ["no loss logged yet", "no other metric logged yet",
                      "speed: after two steps"]  # fmt: skip
    assert layout_problems(m.figure) == []


def test_every_k_calls_redraw_the_static_output_in_place(displayed):
    shown, handles = displayed
    m = TrainingMonitor(every=3, clock=_clock())
    assert m.show(static=True) is None
    assert len(shown) == 1 and isinstance(shown[0], IPython.display.Image)
    for step in range(7):
        m.log(step, loss=1.0 / (step + 1))
    assert len(shown) == 1  # updated, never displayed again
    updates = handles[0].updates
    assert len(updates) == 2  # after the 3rd and the 6th call
    assert all(isinstance(u, IPython.display.Image) and u.data.startswith(PNG) for u in updates)
    assert updates[0].data != updates[1].data
    before = m.png()
    m.refresh()  # the 7th step, drawn on demand
    assert len(updates) == 3 and m.png() != before


def test_the_widget_output_updates_its_picture_and_its_png(displayed):
    import base64

    shown, handles = displayed
    m = TrainingMonitor(clock=_clock())
    m.show(static=False)
    (bundle,) = shown
    assert "application/vnd.jupyter.widget-view+json" in bundle
    first = bytes(m._image.value)
    m.log(0, loss=1.0)
    m.log(1, loss=0.5)
    assert bytes(m._image.value) != first and bytes(m._image.value).startswith(PNG)
    update, kwargs = handles[0].updates[-1], handles[0].update_kwargs[-1]
    assert kwargs == {"raw": True} and "application/vnd.jupyter.widget-view+json" in update
    assert base64.b64decode(update["image/png"]) == m.png()


@pytest.mark.parametrize(
    "step, scalars, error, message",
    [
        (-1, {"loss": 1.0}, ValueError, "step must be a whole number >= 0; got -1"),
        (1.5, {"loss": 1.0}, ValueError, "step must be a whole number"),
        (True, {"loss": 1.0}, ValueError, "step must be a whole number"),
        (4, {}, ValueError, "needs at least one scalar"),
        (2, {"loss": 1.0}, ValueError, "step must not decrease: got 2 after step 3"),
        (3, {"loss": 1.0}, ValueError, "loss was already logged at step 3"),
        (4, {"loss": float("nan")}, ValueError, "loss must be a finite number; got nan"),
        (4, {"loss": float("inf"), "acc": 1.0}, ValueError, "diverged"),
        (4, {"loss": "low"}, TypeError, "loss must be a number; got str"),
        (4, {"ok": False}, TypeError, "ok must be a number"),
        (4, {"loss": np.ones(2)}, ValueError, "loss must be one number; got 2 values"),
    ],
)
def test_bad_calls_are_refused_and_record_nothing(step, scalars, error, message):
    writer = Writer()
    m = TrainingMonitor(writer=writer, clock=_clock())
    m.log(3, loss=2.0)
    history, times, calls = {k: list(v) for k, v in m.history.items()}, list(m.times), 1
    with pytest.raises(error, match=message):
        m.log(step, **scalars)
    assert m.history == history and m.times == times and len(writer.calls) == calls


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"every": 0}, ValueError, "every must be a whole number >= 1"),
        ({"every": 2.0}, ValueError, "every must be a whole number >= 1"),
        ({"writer": object()}, TypeError, "writer must have an add_scalar"),
        ({"clock": 3}, TypeError, "clock must be a function"),
        ({"smoothing": 1.0}, ValueError, r"must be in \[0.0, 0.99\]"),
    ],
)
def test_bad_settings_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        TrainingMonitor(**kwargs)
