"""Byte-pair encoding (unit 09): dlkit's incremental BPE training vs the textbook loop.

    python -m benchmarks.bench_bpe             # 100 KB of Python's documentation, 300 merges
    python -m benchmarks.bench_bpe --quick     # 5 KB, 20 merges, 3 repeats (the test runs this)
    python -m benchmarks.bench_bpe --cpu-time  # on a busy machine: thread CPU time

The textbook loop (:func:`naive_bpe`) recounts every adjacent pair of every chunk at each
merge. ``dlkit.data.BPE.train`` counts once, then after each merge updates only the counts of
the chunks that held the merged pair (an index from pair to chunks), so a merge costs what it
changes rather than the size of the corpus. Both learn the same merges in the same order,
ties included (tests/test_bpe.py checks it on this text); the ratio is the time of dlkit's
training over the naive one's, and the table also reports dlkit's merges per second.
Pure Python on both sides: no BLAS is involved, so the OpenBLAS kernel does not matter here
(the machine line reports it anyway).
"""

from __future__ import annotations  # noqa: I001 (harness must load before NumPy)

import re
import time
from collections import Counter
from typing import Any

from benchmarks import harness

from dlkit.data import BPE, CHUNK_PATTERN, python_docs_text


def naive_bpe(text_or_words: Any, num_merges: int) -> list[tuple[tuple[str, str], int]]:
    """Recount every pair from scratch at each step (the textbook loop), with dlkit's tie rule
    (the highest count, then the smallest pair). Returns ``[(pair, count), ...]``."""
    if isinstance(text_or_words, str):
        counts = Counter(re.findall(CHUNK_PATTERN, text_or_words))
    else:
        counts = Counter({w + " ": c for w, c in text_or_words.items()})
    words = {chunk: list(chunk) for chunk in counts}
    merges = []
    for _ in range(num_merges):
        pairs: Counter = Counter()
        for chunk, syms in words.items():
            for pair in zip(syms, syms[1:], strict=False):
                pairs[pair] += counts[chunk]
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append((best, pairs[best]))
        for chunk, syms in words.items():
            out, i = [], 0
            while i < len(syms):
                if syms[i : i + 2] == list(best):
                    out.append(best[0] + best[1])
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            words[chunk] = out
    return merges


def run(quick: bool = False, cpu_time: bool = False) -> tuple[harness.Result, int, int]:
    """Time both trainings; returns the result, the text's length and the number of merges."""
    size, merges, repeats = (5_000, 20, 3) if quick else (100_000, 300, 5)
    text = python_docs_text()[:size]
    clock = time.thread_time if cpu_time else time.perf_counter
    result = harness.compare(
        f"BPE training, {size // 1000} KB, {merges} merges",
        {"dlkit": lambda: BPE.train(text, merges), "naive": lambda: naive_bpe(text, merges)},
        baseline="naive",
        repeats=repeats,
        min_time=0.001 if quick else 0.05,
        clock=clock,
    )
    return result, size, merges


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 KB, 20 merges, 3 repeats")
    parser.add_argument("--cpu-time", action="store_true", help="time by thread CPU time")
    args = parser.parse_args(argv)
    print(harness.machine())
    result, size, merges = run(quick=args.quick, cpu_time=args.cpu_time)
    mine, ref = result.timings["dlkit"], result.timings["naive"]
    print(f"clock: {'thread CPU time' if args.cpu_time else 'wall clock'}")
    print("| case | dlkit median | naive median | ratio (median) | ratio (min) | merges/s |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {result.case} | {mine.median * 1e3:.1f} ms | {ref.median * 1e3:.1f} ms "
        f"| {result.ratio('dlkit'):.3f}x | {result.ratio('dlkit', 'min'):.3f}x "
        f"| {merges / mine.median:,.0f} |"
    )


if __name__ == "__main__":
    main()
