"""dlkit.viz.RegularizationExplorer: curves and boundary respond, student code runs, fallback."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.functional as F
from dlkit.viz import RegularizationExplorer
from tests.viz.conftest import Spy


@pytest.fixture(scope="module")
def spies():
    return {
        "l2": Spy(F.l2_penalty),
        "fwd": Spy(F.dropout_forward),
        "bwd": Spy(F.dropout_backward),
    }


@pytest.fixture(scope="module")
def explorer(spies):
    return RegularizationExplorer(spies["l2"], spies["fwd"], spies["bwd"], max_epochs=60)


def test_every_control_changes_the_picture_and_runs_student_code(explorer, spies):
    before = explorer.fingerprint()
    for change in (
        {"hidden": 128},
        {"lam": 0.3},
        {"p_drop": 0.5},
        {"epochs": 20},
        {"hidden": 1, "lam": 1.0, "p_drop": 0.8, "epochs": 10},  # extreme: underfit
        {"hidden": 128, "lam": 1e-5, "p_drop": 0.0, "epochs": 60},  # extreme: memorize
    ):
        counts = {k: len(s.calls) for k, s in spies.items()}
        explorer.update(**change)
        after = explorer.fingerprint()
        assert after != before, f"{change} left the picture unchanged"
        before = after
        assert len(spies["l2"].calls) > counts["l2"]
        if explorer.values["p_drop"] > 0:
            assert len(spies["fwd"].calls) > counts["fwd"]
    assert len(spies["bwd"].calls) > 0  # dropout's backward trained the network


def test_training_is_cached_per_setting(explorer):
    explorer.update(hidden=8, lam=0.01, p_drop=0.2, epochs=60)
    model = explorer.fit(8, 0.01, 0.2)
    explorer.update(epochs=30)
    assert explorer.fit(8, 0.01, 0.2) is model
    assert len(model.history["val_loss"]) == 60 and sorted(model.snapshots) == list(range(1, 61))


def test_big_network_overfits_and_l2_helps():
    e = RegularizationExplorer(max_epochs=300)
    free = e.fit(128, 1e-5, 0.0).history
    ridge = e.fit(128, 0.05, 0.0).history
    assert free["train_acc"][-1] == 1.0
    assert free["val_loss"][-1] > min(free["val_loss"]) + 0.05  # validation loss turns up
    assert ridge["val_loss"][-1] < free["val_loss"][-1]


def test_static_fallback_renders(explorer, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    assert explorer.show(static=True) is None
    assert len(shown) == 1 and shown[0].data[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_epochs must be a multiple of 10; got 25"):
        RegularizationExplorer(max_epochs=25)
    with pytest.raises(ValueError, match="n_train must be an int >= 4"):
        RegularizationExplorer(n_train=2)
    with pytest.raises(ValueError, match=r"p_drop must be in \[0.0, 0.8\]"):
        RegularizationExplorer(max_epochs=20).update(p_drop=0.9)


def test_student_functions_that_break_show_their_error():
    def broken(w, lam):
        raise ValueError("my l2_penalty is not finished")

    with pytest.raises(ValueError, match="my l2_penalty is not finished"):
        RegularizationExplorer(l2_penalty=broken, max_epochs=20)
    assert np.isfinite(RegularizationExplorer(max_epochs=20).fit(4, 0.1, 0.0).params[0][0]).all()
