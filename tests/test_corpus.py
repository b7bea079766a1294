"""dlkit.corpus (through dlkit.data): the python-docs text, split_text, text_batches."""

from __future__ import annotations

import hashlib
import re
import sys

import numpy as np
import pytest

from dlkit.data import CharVocab, load_text, python_docs_text, split_text, text_batches

# The normalized python-docs text of the Python the project runs everywhere (3.11.7)
RECORDED_VERSION = (3, 11, 7)
RECORDED_CHARS = 452_020
RECORDED_SHA256 = "abcc36992ab7aea567e32beaca155f7e5f9400009d9c9bcf884b0620de2801fe"


@pytest.fixture(scope="module")
def text():
    return load_text("python-docs")


def test_python_docs_size_and_checksum(text):
    """The size and SHA-256 (of the UTF-8 bytes) are pinned for Python 3.11.7 only.

    ``pydoc_data.topics`` changes between Python releases, so on any other version this test
    checks only what holds everywhere: a long text (over 300,000 characters), in the
    documented character set. Record the new values here when the project moves to a new
    Python.
    """
    assert isinstance(text, str)
    if sys.version_info[:3] == RECORDED_VERSION:
        assert len(text) == RECORDED_CHARS
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == RECORDED_SHA256
    else:
        assert len(text) > 300_000


def test_python_docs_normalization(text):
    assert set(text) <= {"\n"} | {chr(c) for c in range(32, 127)}
    assert text.startswith('The "assert" statement\n') and text.endswith(".\n")
    assert "\n\n\n" not in text and " \n" not in text
    assert re.search(r"[^ \n] {2,}", text) is None  # runs of spaces only as indentation
    assert "\n   for i in range(10):\n       print(i)\n" in text  # code keeps its indentation
    assert "clause's suite" in text  # the curly apostrophe became "'"


def test_python_docs_is_cached_and_named(text):
    assert python_docs_text() is text
    with pytest.raises(ValueError, match=r"name must be one of \['python-docs'\]"):
        load_text("shakespeare")


def test_split_text_by_position(text):
    train, val = split_text(text, 0.1)
    assert train + val == text
    assert len(val) == len(text) - round(0.9 * len(text))
    ids = CharVocab.from_text(text).encode(text)
    train_ids, val_ids = split_text(ids, 0.25)
    assert len(train_ids) == round(0.75 * len(ids))
    np.testing.assert_array_equal(np.concatenate([train_ids, val_ids]), ids)


def test_split_text_errors():
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\)"):
        split_text("abcdef", 1.0)
    with pytest.raises(ValueError, match="val_fraction must be in"):
        split_text("abcdef", 0)
    with pytest.raises(TypeError, match="val_fraction must be a number"):
        split_text("abcdef", "0.1")
    with pytest.raises(ValueError, match="too short to split"):
        split_text("ab", 0.1)
    with pytest.raises(TypeError, match="text must be a str or a 1-D array"):
        split_text(["a", "b"], 0.5)


def test_text_batches_shapes_and_next_character_alignment(text):
    vocab = CharVocab.from_text(text)
    ids = vocab.encode(text[:50_000])
    x, y = text_batches(ids, 16, 32, np.random.default_rng(0))
    assert x.shape == y.shape == (16, 32) and x.dtype == y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    for row_x, row_y in zip(x, y, strict=True):
        window = vocab.decode(np.concatenate([row_x, row_y[-1:]]))
        assert window in text[:50_000]  # a real window of the text, then its next character


def test_text_batches_cover_every_window_and_are_reproducible():
    ids = np.arange(10)
    x, y = text_batches(ids, 2000, 3, np.random.default_rng(1))
    assert set(x[:, 0].tolist()) == set(range(7))  # starts 0..L - T - 1: y never runs off
    np.testing.assert_array_equal(y, x + 1)
    again = text_batches(ids, 2000, 3, np.random.default_rng(1))
    np.testing.assert_array_equal(again[0], x)


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((np.arange(5), 2, 5), ValueError, r"length 5, but a window of seq_len=5"),
        ((np.arange(5), 0, 2), ValueError, "batch_size must be an int >= 1"),
        ((np.arange(5), 2, 0), ValueError, "seq_len must be an int >= 1"),
        ((np.arange(5.0), 2, 2), TypeError, "ids must be a 1-D integer array"),
        ((np.zeros((2, 5), dtype=int), 2, 2), TypeError, "ids must be a 1-D integer array"),
    ],
)
def test_text_batches_errors(args, error, match):
    with pytest.raises(error, match=match):
        text_batches(*args, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        text_batches(np.arange(9), 2, 2, rng=0)
