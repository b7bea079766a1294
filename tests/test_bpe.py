"""dlkit.bpe (through dlkit.data): merges in frequency order, ties, round trips.

Its speed against the textbook loop is measured by benchmarks/bench_bpe.py."""

from __future__ import annotations

import pytest

from benchmarks.bench_bpe import naive_bpe
from dlkit.data import BPE, Merge, python_docs_text

# Sennrich et al.'s example; each word ends in the space that marks the end of a word
WORDS = {"low": 5, "lower": 2, "newest": 6, "widest": 3}

# by hand: initial counts (e,s) = (s,t) = (t," ") = 9, ties go to the smallest pair; then
# (l,o) = (o,w) = 7; then (e,w), (ew,"est "), (n,"ewest ") at 6 ("e" < "n" < "w"); then
# (low," ") at 5; then (d,"est ") before (i,d) and (w,i) at 3
EXPECTED = [
    (("e", "s"), "es", 9),
    (("es", "t"), "est", 9),
    (("est", " "), "est ", 9),
    (("l", "o"), "lo", 7),
    (("lo", "w"), "low", 7),
    (("e", "w"), "ew", 6),
    (("ew", "est "), "ewest ", 6),
    (("n", "ewest "), "newest ", 6),
    (("low", " "), "low ", 5),
    (("d", "est "), "dest ", 3),
]


@pytest.fixture(scope="module")
def sample():
    return python_docs_text()[:100_000]


def test_first_merges_on_the_hand_checked_corpus():
    bpe = BPE.train(WORDS, 10)
    assert [(m.pair, m.new_token, m.count) for m in bpe.history] == EXPECTED
    assert bpe.merges == [pair for pair, _, _ in EXPECTED]
    assert bpe.history[0] == Merge(step=1, pair=("e", "s"), new_token="es", count=9)
    assert [m.step for m in bpe.history] == list(range(1, 11))


def test_words_as_a_list_count_like_a_dict():
    words = [w for w, c in WORDS.items() for _ in range(c)]
    assert BPE.train(words, 10).merges == BPE.train(WORDS, 10).merges


def test_segmentation_uses_the_merges():
    bpe = BPE.train(WORDS, 10)
    assert bpe.split("lowest newest wider") == ["low", "est ", "newest ", "w", "i", "d", "e", "r"]
    assert bpe.split("lowest") == ["low", "est"]  # no space after it: not the end of a word
    assert bpe.decode(bpe.encode("lowest newest")) == "lowest newest"


def test_ids_are_alphabet_then_merges():
    bpe = BPE.train(WORDS, 10)
    assert bpe.alphabet == tuple(sorted(set("lowernstid ")))
    assert bpe.tokens[len(bpe.alphabet) :] == [new for _, new, _ in EXPECTED]
    assert len(bpe) == len(bpe.alphabet) + 10


def test_training_stops_when_nothing_is_left_to_merge():
    bpe = BPE.train("ab ab", 50)
    assert bpe.tokens[-1] == "ab " and len(bpe.merges) < 50
    assert BPE.train("ab", 0).merges == []


def test_incremental_training_matches_the_naive_loop(sample):
    text = sample[:20_000]
    bpe = BPE.train(text, 60)
    assert [(m.pair, m.count) for m in bpe.history] == naive_bpe(text, 60)


def test_round_trip_on_the_python_docs(sample):
    bpe = BPE.train(sample, 200)
    ids = bpe.encode(sample)
    assert all(type(i) is int for i in ids[:100])
    assert bpe.decode(ids) == sample
    assert len(ids) < 0.6 * len(sample)  # merges compress the text
    held_out = "".join(c for c in python_docs_text()[200_000:210_000] if c in bpe.alphabet)
    assert bpe.decode(bpe.encode(held_out)) == held_out  # same characters, new words
    # encoding with a fresh cache gives the segmentation training ended with
    assert BPE(bpe.alphabet, bpe.merges).encode(sample) == ids


def test_training_is_deterministic(sample):
    a, b = BPE.train(sample[:30_000], 100), BPE.train(sample[:30_000], 100)
    assert a.history == b.history and a.tokens == b.tokens


def test_errors_name_the_argument():
    bpe = BPE.train("abc abc", 3)
    with pytest.raises(ValueError, match=r"character 'z'.*no <unk>"):
        bpe.encode("abz")
    with pytest.raises(ValueError, match=r"ids must lie in \[0, "):
        bpe.decode([len(bpe)])
    with pytest.raises(TypeError, match="ids must be integers"):
        bpe.decode([1.5])
    with pytest.raises(TypeError, match="num_merges must be an int"):
        BPE.train("abc", 2.0)
    with pytest.raises(ValueError, match="num_merges must be an int >= 0"):
        BPE.train("abc", -1)
    with pytest.raises(TypeError, match="text_or_words must be a str"):
        BPE.train(42, 3)
    with pytest.raises(ValueError, match="each word must be a non-empty str without whitespace"):
        BPE.train({"a b": 2}, 3)
    with pytest.raises(ValueError, match="each word count must be an int >= 1"):
        BPE.train({"ab": 0}, 3)
    with pytest.raises(ValueError, match="uses a token that no earlier merge made"):
        BPE("ab", [("ab", "c")])
