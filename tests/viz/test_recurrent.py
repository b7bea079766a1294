"""Unit 09's widgets: gradient flow through time, the LSTM gate inspector, temperature sampling.

Each runs the student's functions: a wrong one changes the picture or raises a clear error,
and the physics shown is right (vanishing and exploding gradients, the LSTM's memory,
clipping, entropy growing with temperature).
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.text import Text

from dlkit import functional as F
from dlkit.viz import GateInspector, GradientFlowExplorer, TemperatureExplorer
from tests.viz.conftest import Spy


def _texts(explorer) -> str:
    return "\n".join(t.get_text() for t in explorer.figure.findobj(Text))


def _ratio(norms: np.ndarray) -> float:
    return float(norms[0] / norms[-1])


# -- GradientFlowExplorer ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def flow() -> GradientFlowExplorer:
    return GradientFlowExplorer(hidden=16)


def test_tanh_rnn_gradients_vanish_for_small_and_explode_for_large_recurrent_weights(flow):
    small = _ratio(flow.norms("rnn", steps=50, scale=0.5))
    large = _ratio(flow.norms("rnn", steps=50, scale=3.0))
    assert small < 1e-6, f"||dL/dh_1|| / ||dL/dh_T|| = {small:.3g} at radius 0.5: should vanish"
    assert large > 1e2, f"||dL/dh_1|| / ||dL/dh_T|| = {large:.3g} at radius 3: should explode"


def test_the_lstm_with_a_forget_bias_keeps_its_gradient_where_the_rnn_loses_it(flow):
    rnn = _ratio(flow.norms("rnn", steps=50, scale=0.5))
    lstm = _ratio(flow.norms("lstm", steps=50, scale=0.5, forget_bias=3.0))
    closed = _ratio(flow.norms("lstm", steps=50, scale=0.5, forget_bias=0.0))
    assert lstm > 1e6 * rnn, f"LSTM ratio {lstm:.3g} vs tanh RNN {rnn:.3g}"
    assert lstm > 1e3 * closed, "a larger forget bias should keep more of the gradient"


def test_clipping_caps_every_plotted_norm_at_the_max_norm():
    clip = Spy(F.clip_grad_norm)
    ex = GradientFlowExplorer(clip_grad_norm=clip, hidden=16)
    assert not clip.calls, "clipping is off by default"
    for cell in ("rnn", "lstm"):
        plain = ex.norms(cell, steps=50, scale=3.0, forget_bias=3.0)
        capped = ex.norms(cell, steps=50, scale=3.0, forget_bias=3.0, clip=True, max_norm=0.1)
        assert plain.max() > 0.5, f"{cell}: the unclipped gradient should stay above 0.1"
        assert capped.max() <= 0.1 + 1e-9, f"{cell}: clipped norms reach {capped.max():.3g}"
    assert ex.norms("rnn", steps=50, scale=3.0).max() > 1e2  # an explosion, stopped:
    assert ex.norms("rnn", steps=50, scale=3.0, clip=True, max_norm=1.0).max() <= 1.0 + 1e-9
    grads, max_norm = clip.calls[-1]
    assert len(grads) == 1 and grads[0].shape == (4, 16) and max_norm == 1.0  # [dh]
    ex.norms("lstm", steps=5, scale=1.0, clip=True, max_norm=2.0)
    assert len(clip.calls[-1][0]) == 2  # [dh, dc]
    ex.update(clip=True, max_norm=1.0, scale=3.0)
    assert "max norm 1" in _texts(ex) and "clipped to 1" in _texts(ex)


def test_the_figure_states_the_ratio_and_runs_the_students_steps():
    spies = {
        name: Spy(getattr(F, name))
        for name in ("rnn_step_forward", "rnn_step_backward", "lstm_step_forward",
                     "lstm_step_backward")
    }  # fmt: skip
    ex = GradientFlowExplorer(**spies, hidden=8)
    steps = ex.values["steps"]
    assert all(len(spy.calls) == steps for spy in spies.values())
    x, h_prev, Wx, Wh, b = spies["rnn_step_forward"].calls[0]
    assert x.shape == (4, 8) and h_prev.shape == (4, 8) and Wh.shape == (8, 8)
    assert np.allclose(np.max(np.abs(np.linalg.eigvals(Wh))), ex.values["scale"])
    ex.update(cell="rnn", steps=5)
    assert "tanh RNN: ||dL/dh_1|| / ||dL/dh_T|| = " in _texts(ex)
    assert "LSTM" not in _texts(ex)


def _backward_without_tanh_derivative(dh, cache):  # a common slip: da = dh
    x, h_prev, Wx, Wh, h = cache
    return dh @ Wx.T, dh @ Wh.T, x.T @ dh, h_prev.T @ dh, dh.sum(axis=0)


def test_a_backward_step_that_forgets_the_tanh_derivative_is_visible():
    right = GradientFlowExplorer(hidden=16)
    wrong = GradientFlowExplorer(rnn_step_backward=_backward_without_tanh_derivative, hidden=16)
    settings = dict(steps=50, scale=3.0)
    assert _ratio(wrong.norms("rnn", **settings)) > 1e6 * _ratio(right.norms("rnn", **settings))
    for ex in (right, wrong):
        ex.update(cell="rnn", **settings)
    assert right.fingerprint() != wrong.fingerprint()


def test_an_overflowing_student_gradient_says_overflow_without_warnings():
    def blows_up(dh, cache):
        grads = F.rnn_step_backward(dh, cache)
        return grads[0], grads[1] * 1e30, *grads[2:]

    ex = GradientFlowExplorer(rnn_step_backward=blows_up, hidden=8)
    ex.update(cell="rnn", steps=100, scale=4.0)  # reaches infinity: warnings are errors here
    assert "overflow" in _texts(ex)
    assert "nan" not in _texts(ex).lower().split()


def test_gradient_flow_mistakes_raise_a_clear_error():
    with pytest.raises(ValueError, match=r"rnn_step_backward must return .*dh_prev.*return"):
        GradientFlowExplorer(rnn_step_backward=lambda dh, cache: None)
    with pytest.raises(ValueError, match=r"rnn_step_forward's h has shape"):
        GradientFlowExplorer(rnn_step_forward=lambda x, h, Wx, Wh, b: (h[:, :2], None))
    with pytest.raises(ValueError, match=r"lstm_step_forward must return \(h, c, cache\)"):
        GradientFlowExplorer(lstm_step_forward=lambda x, h, c, Wx, Wh, b: (h, None))
    with pytest.raises(TypeError, match="clip_grad_norm must be a function"):
        GradientFlowExplorer(clip_grad_norm=1.0)
    with pytest.raises(ValueError, match="hidden"):
        GradientFlowExplorer(hidden=1)
    ex = GradientFlowExplorer(clip_grad_norm=lambda grads, max_norm: grads, hidden=8)
    with pytest.raises(ValueError, match=r"clip_grad_norm must return \(clipped, total_norm\)"):
        ex.update(clip=True)


# -- GateInspector ------------------------------------------------------------------------------


def _gates_in_the_wrong_order(x, h_prev, c_prev, Wx, Wh, b):  # i, f, o, g instead of i, f, g, o
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f, o = (1 / (1 + np.exp(-a[:, k * H : (k + 1) * H])) for k in range(3))
    g = np.tanh(a[:, 3 * H :])
    c = f * c_prev + i * g
    return o * np.tanh(c), c, None


def test_the_gates_shown_are_those_of_the_lstm():
    ex = GateInspector(hidden=8)
    x = ex.sequence[None]  # (1, T, D)
    _, cache = F.lstm_forward(x, np.zeros((1, 8)), ex.Wx, ex.Wh, ex.b)
    run = ex.run()
    gates = cache.gates[:, 0]  # (T, 4H): i, f, g, o
    for k, name in enumerate("ifgo"):
        assert np.allclose(run[name], gates[:, k * 8 : (k + 1) * 8]), f"gate {name}"
    assert np.allclose(run["c"], cache.cs[1:, 0]) and run["mismatch"] < 1e-12


def test_gates_in_the_wrong_order_are_flagged_in_the_picture():
    right, wrong = GateInspector(), GateInspector(_gates_in_the_wrong_order)
    assert wrong.run()["mismatch"] > 1e-3
    assert "your c differs" in _texts(wrong) and "your c differs" not in _texts(right)
    assert right.fingerprint() != wrong.fingerprint()


def test_the_forget_offset_opens_the_forget_gate_and_runs_the_students_step():
    step = Spy(F.lstm_step_forward)
    ids = np.array([0, 1, 2, 3, 4, 5, 4, 4, 4, 4])  # e.g. a copy-task row
    ex = GateInspector(step, sequence=ids, labels=list("abcdefeeee"))
    assert len(step.calls) == 10 and step.calls[0][0].shape == (1, 6)
    means = [ex.run(forget_offset=o)["f"].mean() for o in (-5.0, 0.0, 5.0)]
    assert means[0] < 0.1 < means[1] < 0.9 < means[2], f"mean forget gate {means}"
    ex.update(input_scale=2.0)
    assert np.allclose(step.calls[-1][0], 2.0 * np.eye(6)[4][None])
    (bottom,) = [ax for ax in ex.figure.axes if ax.get_xlabel() == "input"]
    assert [t.get_text() for t in bottom.get_xticklabels()] == list("abcdefeeee")


def test_the_units_shown_wrap_past_the_last_one():
    ex = GateInspector(hidden=8)
    ex.update(first=7, count=3)
    shown = [t.get_text() for t in ex.figure.axes[0].get_yticklabels()]
    assert shown == ["7", "0", "1"]


def test_gate_inspector_mistakes_raise_a_clear_error():
    rng = np.random.default_rng(0)
    good = (rng.standard_normal((6, 16)), rng.standard_normal((4, 16)), np.zeros(16))
    with pytest.raises(ValueError, match=r"Wx must have shape \(D, 4H\) = \(3, 16\)"):
        GateInspector(params=good, sequence=np.zeros((5, 3)))
    with pytest.raises(TypeError, match="params must be a tuple"):
        GateInspector(params=good[0])
    with pytest.raises(ValueError, match="labels must have one entry per step, 5"):
        GateInspector(params=good, sequence=np.zeros((5, 6)), labels="abc")
    with pytest.raises(ValueError, match="sequence must be one input sequence"):
        GateInspector(sequence=np.zeros((2, 5, 6)))
    with pytest.raises(ValueError, match=r"lstm_step_forward must return \(h, c, cache\)"):
        GateInspector(lambda x, h, c, Wx, Wh, b: (h, c))
    GateInspector(params=good)  # a random sequence of the weights' width


# -- TemperatureExplorer ------------------------------------------------------------------------


def test_higher_temperature_gives_higher_entropy():
    ex = TemperatureExplorer()
    temperatures = [0.05, 0.2, 0.5, 1.0, 2.0, 5.0]
    entropies = [ex.entropy(t) for t in temperatures]
    assert all(a < b for a, b in zip(entropies, entropies[1:], strict=False)), entropies
    assert entropies[0] < 0.01 and entropies[-1] > 0.9 * np.log2(12)
    ex.update(temperature=2.0)
    assert f"entropy {ex.entropy(2.0):.2f} bits" in _texts(ex)


def test_the_same_seed_gives_the_same_draw():
    ex = TemperatureExplorer()
    first = ex.fingerprint()
    assert np.array_equal(ex.draws(1.0, 3), ex.draws(1.0, 3))
    assert not np.array_equal(ex.draws(1.0, 3), ex.draws(1.0, 4))
    ex.update(seed=4)
    assert ex.fingerprint() != first
    ex.update(seed=0)
    assert ex.fingerprint() == first


def test_a_sampler_that_ignores_the_temperature_is_visible():
    def ignores_temperature(logits, temperature=1.0, rng=None):
        return F.sample(logits, 1.0, rng=rng)

    right, wrong = TemperatureExplorer(), TemperatureExplorer(ignores_temperature)
    assert np.all(right.draws(0.05, 0) == 0), "at T = 0.05 nearly always the top token"
    assert np.mean(wrong.draws(0.05, 0) == 0) < 0.7
    for ex in (right, wrong):
        ex.update(temperature=0.05)
    assert right.fingerprint() != wrong.fingerprint()


def test_minus_infinity_logits_are_never_drawn_and_a_sampler_that_does_is_caught():
    logits = np.array([1.0, -np.inf, 0.5, 2.0])
    ex = TemperatureExplorer(logits=logits, vocab=["a", "$", "\n", " "])
    for t in (0.05, 1.0, 5.0):
        assert not np.any(ex.draws(t, 0) == 1)
        assert np.isfinite(ex.entropy(t))
    assert abs(ex.entropy(1e6) - np.log2(3)) < 1e-3  # uniform over the 3 finite tokens

    def uniform(logits, temperature=1.0, rng=None):
        return rng.integers(len(logits))

    with pytest.raises(ValueError, match="logit is -inf"):
        TemperatureExplorer(uniform, logits=logits)


def test_generate_fills_the_text_panel_with_the_seeded_rng():
    generate = Spy(lambda temperature, rng: f"T={temperature:.2f} u={rng.random():.4f}")
    ex = TemperatureExplorer(generate=generate)
    ex.update(temperature=0.5, seed=7)
    temperature, rng = generate.calls[-1]
    assert temperature == 0.5
    expected = f"T=0.50 u={np.random.default_rng(7).random():.4f}"
    assert expected in _texts(ex)


def test_temperature_mistakes_raise_a_clear_error():
    with pytest.raises(ValueError, match=r"logits must have shape \(V,\)"):
        TemperatureExplorer(logits=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="logits must be finite or -inf"):
        TemperatureExplorer(logits=[0.0, np.nan])
    with pytest.raises(ValueError, match="vocab must have one token per logit, 3"):
        TemperatureExplorer(logits=[0.0, 1.0, 2.0], vocab=["a", "b"])
    with pytest.raises(TypeError, match="sample must be a function"):
        TemperatureExplorer(sample="softmax")
    with pytest.raises(ValueError, match="sample must return one integer id"):
        TemperatureExplorer(lambda logits, temperature, rng=None: np.exp(logits) / 2)
    with pytest.raises(ValueError, match=r"ids must be in \[0, 12\)"):
        TemperatureExplorer(lambda logits, temperature, rng=None: 12)
    with pytest.raises(TypeError, match="generate.*must return a string"):
        TemperatureExplorer(generate=lambda temperature, rng: 3)


def test_static_show_displays_a_png(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    for ex in (GradientFlowExplorer(hidden=8), GateInspector(hidden=4), TemperatureExplorer()):
        assert ex.show(static=True) is None
    assert len(shown) == 3 and all(image.data[:4] == b"\x89PNG" for image in shown)
