"""``python -m dlgrade.strip`` (``make strip``): outputs go, everything else stays."""

from __future__ import annotations

import shutil

import nbformat
from dlgrade.strip import main
from grading_harness import TOY_SOURCE
from nbformat.v4 import new_output


def test_strip_removes_outputs_and_widget_state_only(tmp_path, capsys):
    dirty, clean = tmp_path / "unit" / "dirty.ipynb", tmp_path / "unit" / "clean.ipynb"
    dirty.parent.mkdir()
    shutil.copy(TOY_SOURCE, clean)
    nb = nbformat.read(TOY_SOURCE, as_version=4)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    code = nb.cells[1]
    code.outputs = [new_output("stream", name="stdout", text="hi\n")]
    code.execution_count = 3
    code.metadata["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
    nbformat.write(nb, dirty)
    before = clean.read_bytes()

    assert main([str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"stripped {dirty}\n"
    assert nbformat.read(dirty, as_version=4) == nbformat.read(TOY_SOURCE, as_version=4)
    assert clean.read_bytes() == before


def test_strip_needs_existing_folders(tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    assert "FOLDER" in capsys.readouterr().err
