"""Generated sequence tasks that need a long memory: copying after a delay, and brackets.

Both are the classic tests of whether a recurrent network can carry information across many
time steps: a plain RNN's gradient fades over the gap, an LSTM's cell can hold it. Every
random choice comes from the ``rng`` passed in, so a seeded generator gives the same data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import check_generator

__all__ = ["copy_task", "bracket_task", "BRACKETS"]

#: ``BRACKETS[v]`` is the character of bracket id ``v`` in :func:`bracket_task`.
BRACKETS = "()"


def _int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    return int(value)


def copy_task(
    n: int, length: int, delay: int, vocab_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` copy problems: read ``length`` symbols, wait ``delay`` steps, write them back.

    Symbols are ``0..vocab_size-1``, drawn uniformly; ``blank = vocab_size`` fills the wait
    and ``go = vocab_size + 1`` says "start writing", so the input vocabulary has
    ``vocab_size + 2`` ids. With ``T = 2 * length + delay``, each row of ``x`` is::

        s_0 .. s_{length-1} | blank x delay | go | blank x (length - 1)

    and the model must output ``s_0 .. s_{length-1}`` at the last ``length`` steps (starting
    at the ``go`` step). ``y`` is ``blank`` elsewhere; ``mask`` is True exactly at those last
    ``length`` steps, where the loss counts. The gap between reading ``s_0`` and writing it is
    ``length + delay`` steps. Returns ``x``, ``y`` int64 ``(n, T)`` and ``mask`` bool
    ``(n, T)``.
    """
    n, length = _int(n, "n", 1), _int(length, "length", 1)
    delay, vocab_size, rng = (
        _int(delay, "delay", 0),
        _int(vocab_size, "vocab_size", 1),
        check_generator(rng),
    )
    blank, go, T = vocab_size, vocab_size + 1, 2 * length + delay
    symbols = rng.integers(0, vocab_size, size=(n, length))  # (n, length)
    x = np.full((n, T), blank, dtype=np.int64)  # (n, T)
    x[:, :length] = symbols
    x[:, length + delay] = go
    y = np.full((n, T), blank, dtype=np.int64)
    y[:, T - length :] = symbols
    mask = np.zeros((n, T), dtype=bool)
    mask[:, T - length :] = True
    return x, y, mask


def _open_probability(length: int, max_depth: int) -> np.ndarray:
    """``p[r, d]``: the chance that a uniformly drawn balanced word, with ``r`` brackets left
    at depth ``d``, opens next (every balanced word of depth <= max_depth equally likely)."""
    # ways[d] = number of ways to finish at depth 0 from depth d with r steps left; each row is
    # rescaled by its maximum (only ratios matter) so long words do not overflow
    ways = np.zeros(max_depth + 2)
    ways[0] = 1.0
    p = np.zeros((length + 1, max_depth + 1))
    for r in range(1, length + 1):
        up, down = ways[1 : max_depth + 2], np.concatenate([[0.0], ways[:max_depth]])
        total = up + down  # (max_depth + 1,)
        p[r] = np.divide(up, total, out=np.zeros_like(total), where=total > 0)
        ways = np.concatenate([total, [0.0]])
        ways /= ways.max()
    return p


def _balanced(n: int, p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    length = p.shape[0] - 1
    x = np.empty((n, length), dtype=np.int64)
    depth = np.zeros(n, dtype=np.int64)
    for t in range(length):
        opens = rng.random(n) < p[length - t, depth]
        x[:, t] = np.where(opens, 0, 1)
        depth += np.where(opens, 1, -1)
    return x


def _swap_points(word: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Positions ``k`` with depth <= 1 that have a ``"("`` in ``[lo, k]`` and a ``")"`` in
    ``(k, hi)``: swapping those two makes the depth at ``k`` negative."""
    depth = np.cumsum(np.where(word == 0, 1, -1))  # depth after each bracket
    first_open = lo + np.argmax(word[lo:] == 0)
    last_close = hi - 1 - np.argmax(word[:hi][::-1] == 1)
    ks = np.flatnonzero(depth[:-1] <= 1)
    return ks[(ks >= first_open) & (ks < last_close)]


def bracket_task(
    n: int, length: int, rng: np.random.Generator, max_depth: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` bracket words of ``length`` brackets; is each one balanced?

    ``x`` ``(n, length)`` int64 holds ``0`` for ``"("`` and ``1`` for ``")"`` (see
    :data:`BRACKETS`); ``y`` ``(n,)`` int64 is 1 for balanced, 0 otherwise, exactly half each
    (one more 1 when ``n`` is odd), in shuffled order. A word is balanced when its depth
    (opens minus closes so far) never drops below 0 and ends at 0.

    Balanced words are drawn uniformly among all balanced words of that length that never
    nest deeper than ``max_depth``. Each unbalanced word is such a word with one defect, so
    no shortcut decides the label without tracking the depth along the whole word:

    - half (rounded up) **swap** a ``"("`` before some position ``k`` where the depth is 0
      or 1 with a ``")"`` after it: both counts stay equal and the depth ends at 0, but it
      drops below 0 at ``k``;
    - the other half **flip** one bracket, so the depth ends at -2 or +2 (a flip to ``"("``
      is only made where the depth then stays <= ``max_depth``).

    For ``length >= 6`` the defect leaves the first ``"("`` and the last ``")"`` in place (a
    word with no such swap is replaced by a fresh draw), so an unbalanced word does not give
    itself away at either end. No word, balanced or not, nests deeper than ``max_depth``. An
    LSTM learns this (its cell can count); a plain RNN fails as ``length`` grows long.
    """
    n, rng, max_depth = _int(n, "n", 1), check_generator(rng), _int(max_depth, "max_depth", 1)
    length = _int(length, "length", 2)
    if length % 2:
        raise ValueError(f"length must be even (a balanced word has pairs); got {length}")
    y = rng.permutation(np.arange(n) % 2 == 0).astype(np.int64)  # (n,), ceil(n/2) ones
    p = _open_probability(length, max_depth)
    x = _balanced(n, p, rng)  # (n, length)
    for m, row in enumerate(np.flatnonzero(y == 0)):
        word = x[row]
        # keep the first "(" and the last ")" where the word allows: an unbalanced word that
        # starts with ")" or ends with "(" would give itself away at one end
        lo, hi = (1, length - 1) if length >= 4 else (0, length)
        if m % 2 == 0:  # swap a "(" in [lo, k] with a ")" in (k, hi) across depth <= 1
            ks = _swap_points(word, 1, length - 1) if length >= 6 else np.empty(0)
            for _ in range(50 if length >= 6 else 0):
                if ks.size:
                    break
                x[row] = _balanced(1, p, rng)[0]  # e.g. "((()))" has no such swap: redraw
                ks = _swap_points(word, 1, length - 1)
            if ks.size == 0:  # too short to keep both ends
                ks, lo, hi = _swap_points(word, 0, length), 0, length
            k = rng.choice(ks)
            i = lo + rng.choice(np.flatnonzero(word[lo : k + 1] == 0))
            j = k + 1 + rng.choice(np.flatnonzero(word[k + 1 : hi] == 1))
            word[i], word[j] = 1, 0
        else:  # flip one bracket in [lo, hi), never nesting deeper than max_depth
            depth = np.cumsum(np.where(word == 0, 1, -1))
            peak_after = np.maximum.accumulate(depth[::-1])[::-1]  # max depth from t on
            ok = (word == 0) | (peak_after + 2 <= max_depth)
            ok[:lo], ok[hi:] = False, False
            t = rng.choice(np.flatnonzero(ok))
            word[t] = 1 - word[t]
    return x, y
