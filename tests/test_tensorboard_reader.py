"""dlkit.tensorboard.read_events: what SummaryWriter wrote comes back exactly."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("tensorboard")

from dlkit.tensorboard import event_files, read_events  # noqa: E402

LOSSES = [2.25, 1.5, 0.875, 0.5, 0.3125]  # exact in float32
ACCURACIES = [0.1, 0.35, 0.6, 0.8, 0.9]  # rounded to float32 on the way


def _write_run(torch, log_dir, *, graph: bool):
    from torch.utils.tensorboard import SummaryWriter

    from dlkit.torch_tools import DigitsCNN

    torch.manual_seed(0)
    model = DigitsCNN(num_classes=5)
    writer = SummaryWriter(str(log_dir))
    if graph:
        with warnings.catch_warnings():
            # tracing DigitsCNN's input-shape check warns (TracerWarning); the graph is fine
            warnings.simplefilter("ignore")
            writer.add_graph(model, torch.zeros(2, 1, 8, 8))
    for step, (loss, acc) in enumerate(zip(LOSSES, ACCURACIES, strict=True)):
        writer.add_scalar("loss/train", loss, 10 * step)
        writer.add_scalar("accuracy/val", acc, 10 * step)
        writer.add_histogram("head.weight", model.head.weight.detach(), 10 * step)
    writer.close()


def test_scalars_histograms_and_graph_come_back(torch, tmp_path):
    _write_run(torch, tmp_path, graph=True)
    events = read_events(tmp_path)
    steps = [0, 10, 20, 30, 40]
    assert events["scalars"]["loss/train"] == list(zip(steps, LOSSES, strict=True))
    got = events["scalars"]["accuracy/val"]
    assert [s for s, _ in got] == steps
    assert [v for _, v in got] == [float(np.float32(a)) for a in ACCURACIES]
    assert events["histograms"] == {"head.weight": steps}
    assert events["graph"] is True
    assert set(events["runs"]) == {"."}
    assert events["runs"]["."]["scalars"] == events["scalars"]


def test_without_graph_and_several_runs_are_keyed_by_directory(torch, tmp_path):
    _write_run(torch, tmp_path / "lr_0.1", graph=False)
    _write_run(torch, tmp_path / "lr_0.01", graph=True)
    events = read_events(tmp_path)
    assert set(events["runs"]) == {"lr_0.1", "lr_0.01"}
    assert events["runs"]["lr_0.1"]["graph"] is False
    assert events["runs"]["lr_0.01"]["graph"] is True and events["graph"] is True
    assert sorted(events["scalars"]) == [
        "lr_0.01/accuracy/val",
        "lr_0.01/loss/train",
        "lr_0.1/accuracy/val",
        "lr_0.1/loss/train",
    ]
    assert [v for _, v in events["scalars"]["lr_0.1/loss/train"]] == LOSSES
    assert read_events(tmp_path / "lr_0.1")["graph"] is False
    assert len(event_files(tmp_path)) == 2


def test_every_scalar_is_kept(torch, tmp_path):
    """TensorBoard samples 1,000 scalars per tag by default; read_events keeps them all."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    for step in range(2500):
        writer.add_scalar("loss", step / 4, step)
    writer.close()
    loss = read_events(tmp_path)["scalars"]["loss"]
    assert loss == [(step, step / 4) for step in range(2500)]


def test_missing_or_empty_log_dir_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_events(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no TensorBoard event file"):
        read_events(tmp_path / "empty")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        read_events(tmp_path / "file.txt")


def test_importing_and_reading_write_nothing(torch, tmp_path):
    _write_run(torch, tmp_path, graph=True)
    code = (
        "from dlkit.tensorboard import read_events; "
        f"e = read_events({str(tmp_path)!r}); assert e['graph'] and e['scalars']"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout == ""
