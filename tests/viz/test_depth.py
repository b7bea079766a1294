"""DepthExplorer: the student's normalization runs, every control redraws, extremes are quiet."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from dlkit import functional as F
from dlkit.viz import DepthExplorer
from tests.viz.conftest import Spy


def test_every_control_at_ordinary_and_extreme_values_changes_the_picture() -> None:
    ex = DepthExplorer(batch=64, width=16)
    seen = {ex.fingerprint()}
    for values in [
        {"depth": 20},
        {"depth": 1},
        {"depth": 8, "weight_scale": 10.0},
        {"weight_scale": 0.1},
        {"init": "he"},
        {"activation": "relu"},
        {"activation": "sigmoid"},
        {"activation": "linear", "weight_scale": 10.0, "depth": 20},
        {"normalization": "layer"},
        {"normalization": "none"},
        {"weight_scale": 0.1, "activation": "relu"},
    ]:
        fig = ex.update(**values)
        assert isinstance(fig, Figure)
        seen.add(ex.fingerprint())
    assert len(seen) == 12, "each update must change the figure"


def test_normalization_keeps_the_spread_constant_through_depth() -> None:
    ex = DepthExplorer(width=32, batch=128)
    common = {"depth": 20, "weight_scale": 3.0, "init": "he", "activation": "relu"}
    plain = [np.std(h) for h in ex.activations(**common, normalization="none")]
    assert plain[-1] / plain[0] > 1e6, "without normalization a scale of 3 explodes"
    for kind in ("batch", "layer"):
        stds = [np.std(h) for h in ex.activations(**common, normalization=kind)]
        assert max(stds) / min(stds) < 2.0, f"{kind} norm should hold the spread steady"
    shrink = [np.std(h) for h in ex.activations(**{**common, "weight_scale": 0.3},
                                                normalization="none")]  # fmt: skip
    assert shrink[-1] < 1e-6 * shrink[0], "and a scale of 0.3 makes it vanish"


def test_runs_the_students_functions_with_batch_statistics() -> None:
    bn, ln = Spy(F.batchnorm_forward), Spy(F.layernorm_forward)
    ex = DepthExplorer(bn, ln, width=8, batch=32)
    assert ex.values["normalization"] == "batch"
    assert len(bn.calls) == ex.values["depth"] and not ln.calls
    x, gamma, beta = bn.calls[0]
    assert x.shape == (32, 8) and np.array_equal(gamma, np.ones(8))
    assert np.array_equal(beta, np.zeros(8))
    ex.update(normalization="layer", depth=3)
    assert len(ln.calls) == 3


def test_a_wrong_normalization_is_visible() -> None:
    def no_variance(x, gamma, beta, *args, **kwargs):  # subtracts the mean only
        return gamma * (x - x.mean(axis=0)) + beta, None

    right = DepthExplorer(width=8, batch=32)
    wrong = DepthExplorer(no_variance, width=8, batch=32)
    assert right.fingerprint() != wrong.fingerprint()


def test_student_mistakes_raise_a_clear_error() -> None:
    with pytest.raises(ValueError, match="must return \\(out, cache\\).*return"):
        DepthExplorer(lambda x, g, b: None)
    with pytest.raises(ValueError, match="shape"):
        DepthExplorer(lambda x, g, b: (x[:, :2], None))
    with pytest.raises(TypeError, match="batchnorm_forward must be a function"):
        DepthExplorer(batchnorm_forward=3)
    with pytest.raises(ValueError, match="width"):
        DepthExplorer(width=1)


def test_static_show_displays_a_png(monkeypatch) -> None:
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    ex = DepthExplorer(width=8, batch=16)
    assert ex.show(static=True) is None
    assert len(shown) == 1 and shown[0].data[:4] == b"\x89PNG"
