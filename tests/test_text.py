"""dlkit.text (through dlkit.data): vocabularies, the word tokenizer, pad_sequences."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit import data
from dlkit.data import CharVocab, WordVocab, pad_sequences, tokenize

# -- CharVocab ----------------------------------------------------------------------------


def test_char_vocab_orders_specials_then_sorted_characters():
    vocab = CharVocab.from_text("hello")
    assert vocab.tokens == ("<pad>", "<unk>", "e", "h", "l", "o")
    assert len(vocab) == 6 and vocab.pad_id == 0 and vocab.unk_id == 1
    assert "l" in vocab and "z" not in vocab


def test_char_vocab_round_trip_and_dtype():
    text = "The quick brown fox.\n  Jumps!"
    vocab = CharVocab.from_text(text)
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert vocab.decode(ids) == text
    np.testing.assert_array_equal(ids, [vocab.ids[c] for c in text])


def test_char_vocab_unknown_characters_become_unk():
    vocab = CharVocab.from_text("abc")
    ids = vocab.encode("abz\u00e9c")
    np.testing.assert_array_equal(ids, [2, 3, 1, 1, 4])
    assert vocab.decode(ids) == "ab<unk><unk>c"


def test_char_vocab_without_unk_raises_naming_the_character():
    vocab = CharVocab.from_text("abc", specials=("<pad>",))
    with pytest.raises(ValueError, match=r"'z'.*<unk>"):
        vocab.encode("az")


def test_char_vocab_decode_skips_pad_unless_asked():
    vocab = CharVocab.from_text("ab")
    assert vocab.decode([2, 0, 3, 0]) == "ab"
    assert vocab.decode([2, 0, 3], skip_pad=False) == "a<pad>b"


def test_char_vocab_is_stable_whatever_the_text_order():
    assert CharVocab.from_text("cab").tokens == CharVocab.from_text("abcabc").tokens


def test_char_vocab_errors():
    vocab = CharVocab.from_text("ab")
    with pytest.raises(TypeError, match="text must be a str"):
        vocab.encode(["a"])
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 4\)"):
        vocab.decode([5])
    with pytest.raises(TypeError, match="ids must be a 1-D sequence of integers"):
        vocab.decode([1.0])
    with pytest.raises(TypeError, match="specials must be a tuple"):
        CharVocab.from_text("ab", specials="<pad>")
    with pytest.raises(ValueError, match="specials must not repeat"):
        CharVocab.from_text("ab", specials=("<pad>", "<pad>"))


# -- tokenize and WordVocab ---------------------------------------------------------------


def test_tokenize_examples():
    assert tokenize("Hello, world! Don't panic.") == [
        *["hello", ",", "world", "!", "don't", "panic", "."]
    ]
    assert tokenize("Hello, World", lower=False) == ["Hello", ",", "World"]
    assert tokenize('x = f(a_b, 3.5)  # "ok"?') == [
        *["x", "=", "f", "(", "a_b", ",", "3", ".", "5", ")", "#", '"', "ok", '"', "?"]
    ]
    assert tokenize("  \n ") == []


def test_tokenize_rejects_non_text():
    with pytest.raises(TypeError, match="text must be a str"):
        tokenize(b"bytes")


def test_word_vocab_orders_by_count_then_alphabet():
    vocab = WordVocab.from_text("b a c a b a d")
    assert vocab.tokens == ("<pad>", "<unk>", "a", "b", "c", "d")
    assert vocab.counts["a"] == 3


def test_word_vocab_min_count_and_max_size():
    text = "the cat and the dog and the bird"
    assert WordVocab.from_text(text, min_count=2).tokens == ("<pad>", "<unk>", "the", "and")
    assert WordVocab.from_text(text, max_size=3).tokens == ("<pad>", "<unk>", "the")
    ids = WordVocab.from_text(text, min_count=2).encode("The bird and THE cat")
    np.testing.assert_array_equal(ids, [2, 1, 3, 2, 1])


def test_word_vocab_round_trip_of_known_tokens():
    text = "To be, or not to be: that is the question."
    vocab = WordVocab.from_text(text)
    assert vocab.decode(vocab.encode(text)) == tokenize(text)
    assert WordVocab.from_tokens(["x", "y", "x"]).tokens == ("<pad>", "<unk>", "x", "y")


def test_word_vocab_errors():
    with pytest.raises(ValueError, match="min_count must be an int >= 1"):
        WordVocab.from_text("a b", min_count=0)
    with pytest.raises(ValueError, match="max_size must be None or an int >= len"):
        WordVocab.from_text("a b", max_size=1)
    with pytest.raises(TypeError, match="not a str"):
        WordVocab.from_tokens("a b")
    with pytest.raises(ValueError, match='no "<unk>"'):
        WordVocab.from_text("a b", specials=("<pad>",)).encode("a c")


# -- pad_sequences ------------------------------------------------------------------------


def test_pad_right_shapes_values_and_mask():
    ids, mask = pad_sequences([[5, 6, 7], [8], []], pad_id=0)
    assert ids.shape == mask.shape == (3, 3)
    assert ids.dtype == np.int64 and mask.dtype == bool
    np.testing.assert_array_equal(ids, [[5, 6, 7], [8, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(mask.sum(axis=1), [3, 1, 0])
    np.testing.assert_array_equal(mask, ids != 0)


def test_pad_left_and_truncation():
    seqs = [np.array([1, 2, 3, 4]), [5]]
    ids, mask = pad_sequences(seqs, pad_id=-1, max_len=3, side="left")
    np.testing.assert_array_equal(ids, [[1, 2, 3], [-1, -1, 5]])
    np.testing.assert_array_equal(mask, [[True, True, True], [False, False, True]])
    ids, _ = pad_sequences(seqs, pad_id=0, max_len=2, truncate="left")
    np.testing.assert_array_equal(ids, [[3, 4], [5, 0]])


def test_pad_works_with_a_vocabulary():
    vocab = CharVocab.from_text("abc")
    ids, mask = pad_sequences([vocab.encode("abc"), vocab.encode("a")], pad_id=vocab.pad_id)
    assert [vocab.decode(row) for row in ids] == ["abc", "a"]
    assert mask.tolist() == [[True] * 3, [True, False, False]]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"seqs": []}, ValueError, "seqs is empty"),
        ({"seqs": "abc"}, TypeError, "seqs must be a list"),
        ({"pad_id": 0.0}, TypeError, "pad_id must be an int"),
        ({"pad_id": True}, TypeError, "pad_id must be an int"),
        ({"pad_id": None}, TypeError, "pad_id must be an int"),
        ({"max_len": 0}, ValueError, "max_len must be None or an int >= 1"),
        ({"side": "top"}, ValueError, 'side must be "right" or "left"'),
        ({"truncate": "middle"}, ValueError, 'truncate must be "right" or "left"'),
        ({"seqs": [[1], [0.5]]}, TypeError, r"seqs\[1\] must be a 1-D sequence of integers"),
        ({"seqs": [[[1]]]}, TypeError, r"seqs\[0\] must be a 1-D"),
    ],
)
def test_pad_errors_name_the_argument(kwargs, error, match):
    args = {"seqs": [[1, 2], [3]], "pad_id": 0, **kwargs}
    with pytest.raises(error, match=match):
        pad_sequences(**args)


def test_everything_is_exported_from_dlkit_data():
    for name in ("CharVocab", "WordVocab", "tokenize", "pad_sequences", "BPE", "load_text"):
        assert name in data.__all__ and hasattr(data, name)
    for name in ("split_text", "text_batches", "copy_task", "bracket_task", "python_docs_text"):
        assert name in data.__all__ and hasattr(data, name)


def test_importing_dlkit_data_does_not_load_the_corpus():
    import subprocess
    import sys

    code = "import sys, dlkit.data; print('pydoc_data.topics' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
