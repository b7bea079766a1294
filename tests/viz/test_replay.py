"""Unit 12's training replay: a slider over the recorded iterations of a GAN's run.

It must show the generator's samples of the chosen iteration over the real points, the two
losses of every step up to that iteration, call the optional mode counter (a notebook
function) with those samples, and say clearly what is wrong with a bad history or an
unwritten counter.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PathCollection

from dlkit.viz.explorer import Explorer
from dlkit.viz.replay import TrainingReplay
from tests.viz.conftest import Spy

CELL = "/tmp/ipykernel_4242/1212.py"  # how ipykernel names a notebook cell's code
CENTRES = 2.0 * np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])


def _run(k: int = 6, m: int = 40, t: int = 100) -> tuple[dict, np.ndarray]:
    g = np.random.default_rng(0)
    real = CENTRES[np.arange(80) % 4] + 0.05 * g.standard_normal((80, 2))
    steps = np.linspace(0, t, k).astype(int)
    noise = g.standard_normal((m, 2))
    target = CENTRES[np.arange(m) % 4]
    samples = np.stack([0.3 * noise + (s / t) * target for s in steps])
    history = {"step": steps, "samples": samples, "d_loss": np.linspace(1.0, 1.4, t),
               "g_loss": np.linspace(2.0, 0.7, t)}  # fmt: skip
    return history, real


def _count(points: np.ndarray) -> int:
    d = np.linalg.norm(points[:, None, :] - CENTRES[None], axis=2)
    return int(np.sum(np.sum(d < 0.5, axis=0) >= 3))


def test_it_is_an_explorer_with_a_slider_over_the_recorded_iterations():
    history, real = _run()
    e = TrainingReplay(history, real)
    assert isinstance(e, Explorer) and list(e.controls) == ["iteration"]
    slider = e.controls["iteration"]
    assert slider.stops == tuple(float(s) for s in history["step"])
    assert slider.min == 0 and slider.max == 100 and e.values["iteration"] == 100
    assert TrainingReplay(history, real, start=40).values["iteration"] == 40


def test_the_scatter_shows_the_chosen_iterations_samples_over_the_real_points():
    history, real = _run()
    e = TrainingReplay(history, real)
    e.update(iteration=40)
    ax = e.figure.axes[0]
    real_dots, fake_dots = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert np.allclose(real_dots.get_offsets(), real)
    assert np.allclose(fake_dots.get_offsets(), history["samples"][2])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["real", "generated"]
    assert ax.get_title().startswith("iteration 40")
    before = e.fingerprint()
    e.update(iteration=80)
    assert np.allclose(ax_samples(e), history["samples"][4]) and e.fingerprint() != before


def ax_samples(e: TrainingReplay) -> np.ndarray:
    return e.figure.axes[0].collections[1].get_offsets()


def test_the_losses_are_drawn_up_to_the_chosen_iteration():
    history, real = _run()
    e = TrainingReplay(history, real)
    e.update(iteration=60)
    d_line, g_line = e.figure.axes[1].get_lines()[:2]
    assert np.allclose(d_line.get_ydata(), history["d_loss"][:60])
    assert np.allclose(g_line.get_ydata(), history["g_loss"][:60])
    labels = [t.get_text() for t in e.figure.axes[1].get_legend().get_texts()]
    assert labels == ["discriminator", "generator"]
    e.update(iteration=0)
    assert len(e.figure.axes[1].get_lines()[0].get_ydata()) == 0


def test_the_counter_is_called_with_the_samples_and_its_number_shown():
    history, real = _run()
    spy = Spy(_count)
    e = TrainingReplay(history, real, count_modes=spy, modes=4)
    assert np.allclose(spy.calls[-1][0], history["samples"][-1])
    assert "4 of 4 modes covered" in e.figure.axes[0].get_title()
    e.update(iteration=0)
    assert np.allclose(spy.calls[-1][0], history["samples"][0])
    assert "0 of 4 modes covered" in e.figure.axes[0].get_title()


def test_a_value_between_recorded_iterations_shows_the_nearest():
    history, real = _run()
    e = TrainingReplay(history, real)
    e.update(iteration=47)
    assert e.figure.axes[0].get_title().startswith("iteration 40")


def test_an_unwritten_counter_says_write_it_first():
    namespace: dict = {}
    source = "def count_modes(samples):\n    raise NotImplementedError()\n"
    exec(compile(source, CELL, "exec"), namespace)
    history, real = _run()
    e = TrainingReplay(history, real, count_modes=namespace["count_modes"])
    assert e.error == "write `count_modes` first (it still raises NotImplementedError)"
    assert e.png().startswith(b"\x89PNG")
    assert "write `count_modes` first" in e.widget().children[2].value


def test_non_finite_samples_are_left_out_and_said():
    history, real = _run()
    history["samples"][-1, :5] = np.nan
    e = TrainingReplay(history, real, count_modes=_count)
    assert len(ax_samples(e)) == 35
    assert "(5 not finite)" in e.figure.axes[0].get_title()


def test_bad_histories_and_arguments_raise_clear_errors():
    history, real = _run()
    with pytest.raises(TypeError, match="history must be a dict"):
        TrainingReplay([1, 2], real)
    with pytest.raises(ValueError, match=r"history lacks \['g_loss'\]"):
        TrainingReplay({k: v for k, v in history.items() if k != "g_loss"}, real)
    with pytest.raises(ValueError, match="at least 2 recorded iterations"):
        TrainingReplay({**history, "step": np.array([0])}, real)
    with pytest.raises(ValueError, match="increasing whole iterations"):
        TrainingReplay({**history, "step": history["step"][::-1]}, real)
    with pytest.raises(ValueError, match=r"shape \(K, M, 2\) with K = 6.*\(6, 40, 3\)"):
        TrainingReplay({**history, "samples": np.zeros((6, 40, 3))}, real)
    with pytest.raises(ValueError, match="one value per step each"):
        TrainingReplay({**history, "g_loss": np.zeros(5)}, real)
    with pytest.raises(ValueError, match=r"real must have shape \(N, 2\)"):
        TrainingReplay(history, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="real must be finite"):
        TrainingReplay(history, np.full((5, 2), np.inf))
    with pytest.raises(TypeError, match="count_modes must be a function"):
        TrainingReplay(history, real, count_modes=3)
    with pytest.raises(ValueError, match="modes must be a whole number"):
        TrainingReplay(history, real, modes=0)
    with pytest.raises(ValueError, match="must return one number"):
        TrainingReplay(history, real, count_modes=lambda s: np.zeros(2))


def test_the_widget_view_and_the_static_fallback_render():
    history, real = _run()
    spy = Spy(_count)
    e = TrainingReplay(history, real, count_modes=spy, modes=4)
    view = e.widget()
    slider, image = view.children[0].children[0], view.children[1]
    assert slider.description == "iteration"
    before, calls = bytes(image.value), len(spy.calls)
    slider.value = 20.0
    assert len(spy.calls) == calls + 1 and bytes(image.value) != before
    assert e.error is None
    e.show(static=True)
    assert e.png().startswith(b"\x89PNG")
