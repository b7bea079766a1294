"""Read back what ``torch.utils.tensorboard.SummaryWriter`` wrote: scalars, histograms, graph.

Unit 13 logs a training run to TensorBoard and checks the event files in tests;
:func:`read_events` reads every event file under a log directory with TensorBoard's own
``EventAccumulator``, keeping every event (no sampling, no purging), and writes nothing to
stdout or stderr.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path
from typing import Any

__all__ = ["read_events", "event_files"]

_ROOT = "."


def event_files(log_dir: str | Path) -> list[Path]:
    """Every TensorBoard event file (``events.out.tfevents.*``) under ``log_dir``, sorted."""
    root = Path(log_dir)
    if not root.exists():
        raise FileNotFoundError(f"log_dir {str(root)!r} does not exist")
    if not root.is_dir():
        raise NotADirectoryError(f"log_dir {str(root)!r} is a file, not a directory")
    return sorted(p for p in root.rglob("*tfevents*") if p.is_file())


def _read_run(directory: Path) -> dict[str, Any]:
    from tensorboard.backend.event_processing import event_accumulator as ea

    keep_all = {
        ea.SCALARS: 0,
        ea.HISTOGRAMS: 0,
        ea.COMPRESSED_HISTOGRAMS: 0,
        ea.IMAGES: 0,
        ea.AUDIO: 0,
        ea.TENSORS: 0,
        ea.GRAPH: 0,
    }
    acc = ea.EventAccumulator(str(directory), size_guidance=keep_all, purge_orphaned_data=False)
    acc.Reload()
    tags = acc.Tags()
    return {
        "scalars": {
            tag: [(int(e.step), float(e.value)) for e in acc.Scalars(tag)]
            for tag in tags.get(ea.SCALARS, [])
        },
        "histograms": {
            tag: [int(e.step) for e in acc.Histograms(tag)] for tag in tags.get(ea.HISTOGRAMS, [])
        },
        "graph": bool(tags.get("graph", False)),
    }


def read_events(log_dir: str | Path) -> dict[str, Any]:
    """Scalars, histograms and graph of every run under ``log_dir``.

    Returns ``{"scalars": {tag: [(step, value), ...]}, "histograms": {tag: [step, ...]},
    "graph": bool, "runs": {run: {...the same three keys...}}}``, in the order written.
    A run is a directory holding event files (all of its files are read together, as
    TensorBoard does); its name is its path relative to ``log_dir``, ``"."`` for ``log_dir``
    itself. In the top-level ``scalars`` and ``histograms`` the tags of the run ``"."`` keep
    their names and the tags of any other run are keyed ``"<run>/<tag>"`` (for example
    ``"lr_0.01/loss/train"``); ``graph`` says whether any run holds a graph. Values are the
    float32 numbers stored in the files, as Python floats.

    Raises FileNotFoundError if ``log_dir`` does not exist or holds no event file.
    """
    files = event_files(log_dir)
    root = Path(log_dir)
    if not files:
        raise FileNotFoundError(
            f"no TensorBoard event file (events.out.tfevents.*) under {str(root)!r}: "
            f"was the SummaryWriter given this log_dir, and flushed or closed?"
        )
    directories = sorted({f.parent for f in files})
    runs: dict[str, dict[str, Any]] = {}
    # TensorBoard's loaders report through logging (and, without TensorFlow, may print a
    # notice): keep both out of the caller's stderr.
    logger = logging.getLogger("tensorboard")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            for d in directories:
                name = d.relative_to(root).as_posix() if d != root else _ROOT
                runs[name] = _read_run(d)
    finally:
        logger.setLevel(level)
        logger.propagate = propagate
    out: dict[str, Any] = {"scalars": {}, "histograms": {}, "graph": False, "runs": runs}
    for name, run in runs.items():
        prefix = "" if name == _ROOT else f"{name}/"
        for kind in ("scalars", "histograms"):
            for tag, values in run[kind].items():
                out[kind][prefix + tag] = values
        out["graph"] = out["graph"] or run["graph"]
    return out
