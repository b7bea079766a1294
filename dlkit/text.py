"""Text as integers: character and word vocabularies, a word tokenizer, padding with a mask.

A vocabulary is a fixed, ordered list of tokens; a token's id is its position in that list.
The special tokens come first (``"<pad>"`` is id 0 and ``"<unk>"`` id 1 by default), then
the tokens of the text in a stable order, so the same text always gives the same ids.
``encode`` turns text into an int64 array ``(T,)``; ``decode`` turns ids back into text.

``pad_sequences`` stacks sequences of different lengths into one ``(N, T)`` batch and a
boolean mask that is True where a real token sits and False on the padding.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["CharVocab", "WordVocab", "tokenize", "pad_sequences", "TOKEN_PATTERN"]

#: What :func:`tokenize` keeps: a word (letters, digits and ``_``, with inner apostrophes, as in
#: ``don't``), or one punctuation character. Whitespace separates tokens and is dropped.
TOKEN_PATTERN = r"\w+(?:'\w+)*|[^\w\s]"
_TOKEN_RE = re.compile(TOKEN_PATTERN)


def _check_specials(specials: Any) -> tuple[str, ...]:
    if isinstance(specials, str) or not isinstance(specials, Iterable):
        raise TypeError(
            f'specials must be a tuple of strings, e.g. ("<pad>", "<unk>"); got {specials!r}'
        )
    specials = tuple(specials)
    if not all(isinstance(s, str) and s for s in specials):
        raise TypeError(f"specials must hold non-empty strings; got {specials!r}")
    if len(set(specials)) != len(specials):
        raise ValueError(f"specials must not repeat a token; got {specials!r}")
    return specials


class _Vocab:
    """Shared by both vocabularies: ``tokens[i]`` is the token with id ``i``."""

    def __init__(self, tokens: Sequence[str], specials: tuple[str, ...]) -> None:
        self.specials = specials
        self.tokens: tuple[str, ...] = tuple(specials) + tuple(
            t for t in tokens if t not in specials
        )
        self.ids: dict[str, int] = {t: i for i, t in enumerate(self.tokens)}
        #: id of ``"<pad>"`` / ``"<unk>"``, or None when that special is not in the vocabulary
        self.pad_id: int | None = self.ids.get("<pad>")
        self.unk_id: int | None = self.ids.get("<unk>")

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self.ids

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.tokens[:8]) + (", ..." if len(self) > 8 else "")
        return f"{type(self).__name__}({len(self)} tokens: {head})"

    def _unknown(self, token: str) -> int:
        if self.unk_id is None:
            raise ValueError(
                f"text holds {token!r}, which is not in the vocabulary, and there is no "
                f'"<unk>" to stand for it: build the vocabulary with "<unk>" in specials'
            )
        return self.unk_id

    def _check_ids(self, ids: Any) -> np.ndarray:
        arr = np.asarray(ids)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise TypeError(
                f"ids must be a 1-D sequence of integers; got {arr.ndim}-D, dtype {arr.dtype}"
            )
        if arr.size and (arr.min() < 0 or arr.max() >= len(self)):
            raise ValueError(
                f"ids must lie in [0, {len(self)}) for this vocabulary of {len(self)} tokens; "
                f"got values from {arr.min()} to {arr.max()}"
            )
        return arr.astype(np.int64)


class CharVocab(_Vocab):
    """One id per character: the specials, then the text's characters sorted by code point.

    ``CharVocab.from_text("hello")`` has tokens ``("<pad>", "<unk>", "e", "h", "l", "o")``.
    Characters never seen in the text encode as ``"<unk>"`` (an error if there is none).
    """

    def __init__(self, chars: Iterable[str], specials: Sequence[str] = ("<pad>", "<unk>")):
        chars = list(chars)
        if not all(isinstance(c, str) and len(c) == 1 for c in chars):
            raise TypeError("chars must be single characters, e.g. CharVocab(sorted(set(text)))")
        super().__init__(sorted(set(chars)), _check_specials(specials))
        # code point -> id lookup table, so encoding a long text is one NumPy gather
        codes = [ord(c) for c in self.tokens if len(c) == 1]
        self._table = np.full(max(codes, default=0) + 1, -1, dtype=np.int64)
        for c in codes:
            self._table[c] = self.ids[chr(c)]

    @classmethod
    def from_text(cls, text: str, specials: Sequence[str] = ("<pad>", "<unk>")) -> CharVocab:
        """The vocabulary of every character in ``text`` (a ``str``)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {type(text).__name__}")
        return cls(set(text), specials)

    def encode(self, text: str) -> np.ndarray:
        """``text`` as an int64 array of shape ``(len(text),)``."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        known = codes < len(self._table)
        ids = np.where(known, self._table[np.where(known, codes, 0)], -1)
        missing = np.flatnonzero(ids < 0)
        if missing.size:
            ids[missing] = self._unknown(text[missing[0]])
        return ids

    def decode(self, ids: Any, *, skip_pad: bool = True) -> str:
        """The text of ``ids`` ``(T,)``; pad ids are left out unless ``skip_pad=False``.

        An unknown character cannot come back: ``"<unk>"`` decodes as the string ``"<unk>"``.
        """
        arr = self._check_ids(ids)
        if skip_pad and self.pad_id is not None:
            arr = arr[arr != self.pad_id]
        return "".join([self.tokens[i] for i in arr.tolist()])


def tokenize(text: str, *, lower: bool = True) -> list[str]:
    """Split ``text`` into words and punctuation marks (see :data:`TOKEN_PATTERN`).

    A word is a run of letters, digits and ``_``, keeping inner apostrophes (``"don't"``); every
    other non-space character is a token of its own; whitespace only separates. With ``lower``
    (the default) the text is lower-cased first::

        tokenize("Hello, world! Don't panic.") == ["hello", ",", "world", "!", "don't",
                                                   "panic", "."]
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    return _TOKEN_RE.findall(text.lower() if lower else text)


class WordVocab(_Vocab):
    """One id per word: the specials, then words by falling count (ties alphabetically).

    ``WordVocab.from_text(text, min_count=2, max_size=10_000)`` keeps words seen at least
    ``min_count`` times, and at most ``max_size`` tokens *including* the specials. Words left
    out encode as ``"<unk>"``. ``counts`` holds every word's count in the text it was built from.
    """

    def __init__(
        self,
        counts: Counter,
        *,
        min_count: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = ("<pad>", "<unk>"),
        lower: bool = True,
    ) -> None:
        specials = _check_specials(specials)
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
            raise ValueError(f"min_count must be an int >= 1; got {min_count!r}")
        if max_size is not None and (
            isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < len(specials)
        ):
            raise ValueError(
                f"max_size must be None or an int >= len(specials) = {len(specials)} (it counts "
                f"the specials); got {max_size!r}"
            )
        self.counts = Counter(counts)
        ranked = sorted(
            (w for w, c in self.counts.items() if c >= min_count and w not in specials),
            key=lambda w: (-self.counts[w], w),
        )
        if max_size is not None:
            ranked = ranked[: max_size - len(specials)]
        self.lower = lower
        super().__init__(ranked, specials)

    @classmethod
    def from_tokens(cls, tokens: Iterable[str], **options: Any) -> WordVocab:
        """The vocabulary of a list of tokens (already split); options as for the class."""
        if isinstance(tokens, str):
            raise TypeError("tokens must be a list of tokens, not a str: use WordVocab.from_text")
        return cls(Counter(tokens), **options)

    @classmethod
    def from_text(cls, text: str, *, lower: bool = True, **options: Any) -> WordVocab:
        """The vocabulary of ``tokenize(text, lower=lower)``; ``encode`` of a str uses the same."""
        return cls(Counter(tokenize(text, lower=lower)), lower=lower, **options)

    def encode(self, text_or_tokens: str | Sequence[str]) -> np.ndarray:
        """Ids ``(T,)`` of a list of tokens, or of a str split by :func:`tokenize`."""
        tokens = (
            tokenize(text_or_tokens, lower=self.lower)
            if isinstance(text_or_tokens, str)
            else list(text_or_tokens)
        )
        ids = [self.ids[t] if t in self.ids else self._unknown(t) for t in tokens]
        return np.array(ids, dtype=np.int64)

    def decode(self, ids: Any, *, skip_pad: bool = True) -> list[str]:
        """The tokens of ``ids`` ``(T,)`` (join them yourself: spacing was not kept)."""
        arr = self._check_ids(ids)
        if skip_pad and self.pad_id is not None:
            arr = arr[arr != self.pad_id]
        return [self.tokens[i] for i in arr.tolist()]


def pad_sequences(
    seqs: Sequence[Any],
    pad_id: int,
    max_len: int | None = None,
    side: str = "right",
    truncate: str = "right",
) -> tuple[np.ndarray, np.ndarray]:
    """Stack ``N`` integer sequences into ``ids`` ``(N, T)`` int64 and ``mask`` ``(N, T)`` bool.

    ``T`` is ``max_len``, or the longest sequence when ``max_len`` is None. Shorter sequences
    are filled with ``pad_id`` on ``side`` (``"right"``: tokens first, then padding; ``"left"``:
    padding first). Longer ones are cut to ``max_len``: ``truncate="right"`` (the default)
    keeps the first ``max_len`` tokens, ``truncate="left"`` the last ones. ``mask`` is True
    exactly where a token of the sequence sits, so ``mask.sum(1)`` is each kept length.
    """
    if isinstance(seqs, (str, bytes)) or not isinstance(seqs, Sequence | np.ndarray):
        raise TypeError(f"seqs must be a list of integer sequences; got {type(seqs).__name__}")
    if len(seqs) == 0:
        raise ValueError("seqs is empty: there is nothing to pad (pass at least one sequence)")
    if isinstance(pad_id, bool) or not isinstance(pad_id, (int, np.integer)):
        raise TypeError(f"pad_id must be an int, e.g. vocab.pad_id; got {pad_id!r}")
    if max_len is not None and (
        isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 1
    ):
        raise ValueError(f"max_len must be None or an int >= 1; got {max_len!r}")
    for value, name in ((side, "side"), (truncate, "truncate")):
        if value not in ("right", "left"):
            raise ValueError(f'{name} must be "right" or "left"; got {value!r}')
    arrays = []
    for i, seq in enumerate(seqs):
        arr = np.asarray(seq)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise TypeError(
                f"seqs[{i}] must be a 1-D sequence of integers; got {arr.ndim}-D, dtype {arr.dtype}"
            )
        arrays.append(arr.astype(np.int64))
    T = max(len(a) for a in arrays) if max_len is None else int(max_len)
    ids = np.full((len(arrays), T), int(pad_id), dtype=np.int64)  # (N, T)
    mask = np.zeros((len(arrays), T), dtype=bool)  # (N, T)
    for row, arr in enumerate(arrays):
        arr = arr[:T] if truncate == "right" else arr[max(len(arr) - T, 0) :]
        cols = slice(0, len(arr)) if side == "right" else slice(T - len(arr), T)
        ids[row, cols] = arr
        mask[row, cols] = True
    return ids, mask
