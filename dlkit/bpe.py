"""A small byte-pair encoding (BPE), trained on a text, with every merge on record.

Training starts from single characters and repeats one step ``num_merges`` times: count
every adjacent pair of tokens in the corpus, and merge the most frequent pair into one new
token (Sennrich, Haddow and Birch 2016). ``bpe.history`` lists each step as
``Merge(step, pair, new_token, count)``, so the merges can be watched as they happen.

Rules, so that every result can be checked by hand:

- **Chunks.** The text is first cut into chunks by :data:`CHUNK_PATTERN`: a run of word
  characters (letters, digits, ``_``) or a run of punctuation, each with the one space that
  follows it, if any; and runs of any other whitespace. Merges never cross a chunk boundary.
  The chunks concatenate back to the text, so ``decode(encode(text)) == text`` for every text
  whose characters were seen in training.
- **End of word.** The space that ends a word is its end-of-word marker (the ``</w>`` of
  Sennrich et al., written as the space it stands for): ``"est "`` is a token that can only
  end a word, ``"est"`` one that is followed by more of the word or by punctuation.
- **Ties.** The most frequent pair wins; among pairs with the same count, the pair that sorts
  first as ``(left, right)`` in Python's string order (code points, so ``" "`` before digits
  before capitals before lower case). Training has no randomness.
- **Ids.** The characters of the training text, sorted, are ids ``0..K-1``; each merge's new
  token takes the next id (a token that two different merges both spell keeps its first id).

Training counts pairs once over the table of distinct chunks (each with its frequency) and
after a merge recounts only the chunks that held the merged pair: a few hundred merges over
100 KB of text take well under a second.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

__all__ = ["BPE", "Merge", "CHUNK_PATTERN"]

#: How :class:`BPE` cuts text before merging (merges stay inside one chunk).
CHUNK_PATTERN = r"\w+ ?|[^\w\s]+ ?|\s+"
_CHUNK_RE = re.compile(CHUNK_PATTERN)


class Merge(NamedTuple):
    """One training step: ``pair`` became ``new_token``; ``count`` is how often it occurred."""

    step: int
    pair: tuple[str, str]
    new_token: str
    count: int


def _merge_pair(symbols: list[str], pair: tuple[str, str], new: str) -> list[str]:
    """``symbols`` with every occurrence of ``pair`` replaced by ``new``, left to right."""
    a, b = pair
    out, i, n = [], 0, len(symbols)
    while i < n:
        if i + 1 < n and symbols[i] == a and symbols[i + 1] == b:
            out.append(new)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def _chunk_counts(text_or_words: Any) -> Counter:
    if isinstance(text_or_words, str):
        return Counter(_CHUNK_RE.findall(text_or_words))
    if isinstance(text_or_words, Mapping):
        items = list(text_or_words.items())
    elif isinstance(text_or_words, Iterable):
        items = list(Counter(text_or_words).items())
    else:
        raise TypeError(
            "text_or_words must be a str, a list of words or a {word: count} dict; "
            f"got {type(text_or_words).__name__}"
        )
    chunks: Counter = Counter()
    for word, count in items:
        if not isinstance(word, str) or not word or any(c.isspace() for c in word):
            raise ValueError(f"each word must be a non-empty str without whitespace; got {word!r}")
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ValueError(f"each word count must be an int >= 1; got {word!r}: {count!r}")
        chunks[word + " "] += int(count)  # the trailing space is the end-of-word marker
    return chunks


class BPE:
    """A trained byte-pair encoding: ``alphabet`` (base characters) and ordered ``merges``.

    Build one with :meth:`BPE.train`; ``BPE(alphabet, merges)`` rebuilds a saved one.
    ``tokens[i]`` is the string of id ``i``; ``history`` is set by :meth:`train`.
    """

    def __init__(self, alphabet: Iterable[str], merges: Sequence[tuple[str, str]]) -> None:
        self.alphabet: tuple[str, ...] = tuple(sorted(set(alphabet)))
        if not all(isinstance(c, str) and len(c) == 1 for c in self.alphabet):
            raise TypeError("alphabet must hold single characters")
        self.merges: list[tuple[str, str]] = [(str(a), str(b)) for a, b in merges]
        self.tokens: list[str] = list(self.alphabet)
        self.ids: dict[str, int] = {t: i for i, t in enumerate(self.tokens)}
        for a, b in self.merges:
            if a not in self.ids or b not in self.ids:
                raise ValueError(f"merge {(a, b)!r} uses a token that no earlier merge made")
            if a + b not in self.ids:
                self.ids[a + b] = len(self.tokens)
                self.tokens.append(a + b)
        self.ranks: dict[tuple[str, str], int] = {}
        for rank, pair in enumerate(self.merges):
            self.ranks.setdefault(pair, rank)
        self.history: list[Merge] = []
        self._cache: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"BPE({len(self.alphabet)} characters, {len(self.merges)} merges)"

    @classmethod
    def train(cls, text_or_words: Any, num_merges: int) -> BPE:
        """Learn up to ``num_merges`` merges from a text, or from words with counts.

        ``text_or_words`` is a ``str`` (cut into chunks, see the module notes), or a list of
        words or a ``{word: count}`` dict, each word then treated as followed by one space
        (``{"low": 5}`` is the chunk ``"low "`` five times). Training stops early when no
        pair is left to merge (every chunk a single token).
        """
        if isinstance(num_merges, bool) or not isinstance(num_merges, (int, np.integer)):
            raise TypeError(f"num_merges must be an int >= 0; got {num_merges!r}")
        if num_merges < 0:
            raise ValueError(f"num_merges must be an int >= 0; got {num_merges!r}")
        counts = _chunk_counts(text_or_words)
        chunks = sorted(counts)
        words = [list(c) for c in chunks]  # each distinct chunk as a list of tokens
        freqs = [counts[c] for c in chunks]
        pair_counts: dict[tuple[str, str], int] = defaultdict(int)
        where: dict[tuple[str, str], set[int]] = defaultdict(set)  # pair -> chunks holding it
        for wi, syms in enumerate(words):
            for pair in zip(syms, syms[1:], strict=False):
                pair_counts[pair] += freqs[wi]
                where[pair].add(wi)
        heap = [(-c, pair) for pair, c in pair_counts.items()]  # max count, then smallest pair
        heapq.heapify(heap)
        merges, history = [], []
        while len(merges) < num_merges and heap:
            neg, pair = heapq.heappop(heap)
            if pair_counts.get(pair, 0) != -neg:
                continue  # a stale entry: this pair's count changed since it was pushed
            new, changed = pair[0] + pair[1], set()
            for wi in where.pop(pair):
                syms, f = words[wi], freqs[wi]
                merged = _merge_pair(syms, pair, new)
                if len(merged) == len(syms):
                    continue  # the pair left this chunk in an earlier merge
                for old in zip(syms, syms[1:], strict=False):
                    pair_counts[old] -= f
                    changed.add(old)
                for fresh in zip(merged, merged[1:], strict=False):
                    pair_counts[fresh] += f
                    where[fresh].add(wi)
                    changed.add(fresh)
                words[wi] = merged
            del pair_counts[pair]
            changed.discard(pair)
            for p in changed:
                if pair_counts[p] > 0:
                    heapq.heappush(heap, (-pair_counts[p], p))
                else:
                    del pair_counts[p]
            merges.append(pair)
            history.append(Merge(len(merges), pair, new, -neg))
        bpe = cls({c for chunk in chunks for c in chunk}, merges)
        bpe.history = history
        bpe._cache = {chunk: syms for chunk, syms in zip(chunks, words, strict=True)}
        return bpe

    def _segment(self, chunk: str) -> list[str]:
        if chunk in self._cache:
            return self._cache[chunk]
        for c in chunk:
            if c not in self.ids:
                raise ValueError(
                    f"text holds the character {c!r}, which the training text did not: BPE has "
                    f"no <unk>; train on text that contains it, or remove it first"
                )
        syms = list(chunk)
        while len(syms) > 1:  # apply the earliest-learned merge present, until none applies
            rank, pair = min(
                (self.ranks.get(p, len(self.ranks)), p) for p in zip(syms, syms[1:], strict=False)
            )
            if rank == len(self.ranks):
                break
            syms = _merge_pair(syms, pair, pair[0] + pair[1])
        self._cache[chunk] = syms
        return syms

    def split(self, text: str) -> list[str]:
        """``text`` cut into token strings (what :meth:`encode` numbers), to look at."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {type(text).__name__}")
        return [tok for chunk in _CHUNK_RE.findall(text) for tok in self._segment(chunk)]

    def encode(self, text: str) -> list[int]:
        """The token ids of ``text``: a list of ``int``, one per token."""
        return [self.ids[tok] for tok in self.split(text)]

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``: the tokens' strings joined (exact: spaces are in the tokens)."""
        out = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
                raise TypeError(f"ids must be integers; got {i!r}")
            if not 0 <= i < len(self.tokens):
                raise ValueError(f"ids must lie in [0, {len(self.tokens)}); got {i}")
            out.append(self.tokens[i])
        return "".join(out)
