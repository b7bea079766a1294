"""Real English text that ships with Python, and random windows of it for a language model.

``load_text("python-docs")`` is the documentation that ``help("for")`` and friends print:
every CPython carries it in ``pydoc_data.topics.topics`` (a dict of about 80 topics; for
Python 3.11.7, 452,020 characters after normalization), so no download is needed. The text
is normalized for a character-level model:

- the topics are joined in sorted key order, separated by one blank line;
- typographic punctuation becomes ASCII (curly quotes, dashes, the ellipsis), other
  non-ASCII letters lose their accents (NFKD) and anything still not ASCII is dropped; tabs
  become spaces and other control characters are dropped, so the character set is the
  printable ASCII characters (``" "`` to ``"~"``) and ``"\\n"``;
- each line keeps its indentation (code examples stay readable), runs of spaces inside a line
  become one space, trailing spaces go, and no more than one blank line is kept in a row.

The topics text differs between Python versions (``tests/test_corpus.py`` pins the size and
SHA-256 for the Python the project runs). It is read on the first call, not at import, and
cached.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

import numpy as np

__all__ = ["load_text", "python_docs_text", "split_text", "text_batches", "TEXTS"]

#: The names :func:`load_text` knows.
TEXTS = ("python-docs",)

_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2014": "--",
        "\u2013": "-",
        "\u00a0": " ",
        "\t": "    ",
    }
)


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_PUNCTUATION))
    text = re.sub(r"[^\n -~]", "", text)  # printable ASCII and newlines only
    text = re.sub(r" +$", "", text, flags=re.MULTILINE)  # trailing spaces
    text = re.sub(r"(?<=[^ \n]) {2,}", " ", text)  # runs inside a line; indentation stays
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


@functools.cache
def python_docs_text() -> str:
    """The normalized text of ``pydoc_data.topics`` (see the module notes), one ``str``."""
    from pydoc_data.topics import topics

    return _normalize("\n\n".join(topics[key].strip("\n") for key in sorted(topics)))


def load_text(name: str) -> str:
    """A named offline corpus as one ``str``; ``name`` is one of :data:`TEXTS`."""
    if name == "python-docs":
        return python_docs_text()
    raise ValueError(f"name must be one of {list(TEXTS)}; got {name!r}")


def split_text(text: Any, val_fraction: float = 0.1) -> tuple[Any, Any]:
    """Cut ``text`` by position: the first ``1 - val_fraction`` trains, the rest validates.

    ``text`` is a ``str`` or a 1-D array of ids; the cut falls at
    ``round(len(text) * (1 - val_fraction))``, with no shuffling, so the validation part is
    text the model has never seen a window of (random windows would overlap the training
    text). Returns ``(train, val)``, both non-empty, of the same type as ``text``.
    """
    if not isinstance(text, (str, np.ndarray)) or (isinstance(text, np.ndarray) and text.ndim != 1):
        raise TypeError(f"text must be a str or a 1-D array; got {type(text).__name__}")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)):
        raise TypeError(f"val_fraction must be a number in (0, 1); got {val_fraction!r}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), e.g. 0.1; got {val_fraction!r}")
    cut = int(round(len(text) * (1 - val_fraction)))
    if cut == 0 or cut == len(text):
        raise ValueError(
            f"text of length {len(text)} is too short to split with val_fraction="
            f"{val_fraction}: one part would be empty"
        )
    return text[:cut], text[cut:]


def text_batches(
    ids: Any, batch_size: int, seq_len: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One batch of random windows of ``ids`` for next-token prediction.

    ``ids`` is a 1-D integer array ``(L,)`` (e.g. ``CharVocab.encode(text)``) with
    ``L > seq_len``. Each of the ``batch_size`` windows starts at a position drawn uniformly
    from ``[0, L - seq_len - 1]`` (``rng.integers``); ``x`` holds ``seq_len`` tokens and ``y``
    the same window moved one to the right, so ``y[:, t]`` is the token after ``x[:, t]``.
    Returns ``x`` and ``y``, both int64 ``(batch_size, seq_len)``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator, e.g. rng=np.random.default_rng(0); "
            f"got {type(rng).__name__}"
        )
    for value, name in ((batch_size, "batch_size"), (seq_len, "seq_len")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an int >= 1; got {value!r}")
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise TypeError(
            f"ids must be a 1-D integer array (L,), e.g. vocab.encode(text); got "
            f"{ids.ndim}-D, dtype {ids.dtype}"
        )
    if len(ids) <= seq_len:
        raise ValueError(
            f"ids has length {len(ids)}, but a window of seq_len={seq_len} plus its next token "
            f"needs at least {seq_len + 1}"
        )
    starts = rng.integers(0, len(ids) - seq_len, size=batch_size)  # (N,)
    idx = starts[:, None] + np.arange(seq_len)[None, :]  # (N, T)
    return ids[idx].astype(np.int64), ids[idx + 1].astype(np.int64)
