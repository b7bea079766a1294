"""Reading a submitted notebook that may be anything: one parser for every command.

:func:`parse_notebook` turns a file's text into an nbformat-4 notebook or raises
:class:`InvalidNotebook` with a reason an instructor can act on (malformed JSON, JSON nested
too deeply to parse, not a valid notebook). ``dlgrade grade`` and ``dlgrade similarity`` both
use it, so a submission is judged readable or not the same way everywhere.
"""

from __future__ import annotations

import json
import warnings

import nbformat


class InvalidNotebook(ValueError):
    """The text is not a notebook that can be graded; ``str(exc)`` says why."""


def parse_notebook(text: str) -> tuple[nbformat.NotebookNode, object]:
    """``(notebook as nbformat 4, the nbformat version the file declared)``."""
    try:
        version = json.loads(text).get("nbformat")
    except (ValueError, AttributeError) as exc:
        raise InvalidNotebook(f"not valid notebook JSON ({exc})") from None
    except RecursionError as exc:  # e.g. 100,000 nested lists
        raise InvalidNotebook(f"not valid notebook JSON (nested too deeply: {exc})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several types for a broken notebook
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidNotebook(f"not a valid notebook ({first})") from None
    return nb, version
