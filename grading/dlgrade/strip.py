"""``python -m dlgrade.strip FOLDER ...``: remove outputs from every notebook under the folders.

Run before committing (``make strip`` does ``solutions course``).  For each notebook it clears
code-cell outputs and execution counts, the output-related cell metadata (``collapsed``,
``scrolled``, ``execution`` timings) and the notebook's saved widget state; everything else
(sources, cell ids, nbgrader metadata) is kept.  A notebook is rewritten only if that changed
something, so clean notebooks (and the generated ``course/``) are left byte-for-byte alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

OUTPUT_METADATA = ("collapsed", "scrolled", "execution")


def strip_notebook(nb: nbformat.NotebookNode) -> bool:
    """Strip ``nb`` in place; return whether anything was removed."""
    changed = nb.metadata.pop("widgets", None) is not None
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.outputs or cell.execution_count is not None:
            cell.outputs, cell.execution_count = [], None
            changed = True
        for key in OUTPUT_METADATA:
            changed |= cell.metadata.pop(key, None) is not None
    return changed


def main(argv: list[str] | None = None) -> int:
    """Strip every ``*.ipynb`` under the given folders; exit 2 if a folder does not exist."""
    folders = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    missing = [str(f) for f in folders if not f.is_dir()]
    if not folders or missing:
        print(
            f"dlgrade.strip: error: FOLDER {', '.join(missing) or '(none given)'}: expected "
            "existing folders, e.g. `python -m dlgrade.strip solutions course`",
            file=sys.stderr,
        )
        return 2
    for folder in folders:
        for path in sorted(folder.rglob("*.ipynb")):
            if ".ipynb_checkpoints" in path.parts:
                continue
            nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
            if strip_notebook(nb):
                nbformat.write(nb, path)
                print(f"stripped {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
