"""Sampling with temperature: the next-token distribution ``softmax(logits / T)`` and draws."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ._student import check_functions, printable
from .explorer import Explorer, Slider

__all__ = ["TemperatureExplorer", "DEFAULT_LOGITS"]

#: An illustrative next-word distribution after "the cat sat on the".
DEFAULT_LOGITS: dict[str, float] = {
    "mat": 3.0, "sofa": 2.2, "floor": 1.9, "roof": 1.2, "bed": 1.0, "chair": 0.8,
    "table": 0.5, "dog": -0.2, "moon": -1.0, "piano": -1.8, "idea": -2.5, "banana": -3.2,
}  # fmt: skip
TOP_K = 20  # bars shown: the most likely tokens (temperature never changes their order)
DRAWS = 100  # draws with `sample` per redraw: their frequencies are the dots over the bars
ROW = 40  # of which the first ROW are written out
COLUMNS, LINES = 90, 7  # the text panel


class TemperatureExplorer(Explorer):
    """The distribution ``softmax(logits / T)`` as bars, draws from your ``sample`` as dots and
    text, and the distribution's entropy in bits, for a temperature ``T`` on a log slider.

    Low temperatures sharpen the distribution towards the most likely token (entropy towards 0
    bits: always the same text); high ones flatten it towards uniform (``log2 V`` bits:
    gibberish).

    Args:
        sample: yours, ``sample(logits, temperature, rng=rng)`` returning one integer id for
            1-D ``logits``; dlkit's when ``None``. Called ``DRAWS`` times per redraw with a
            ``np.random.default_rng(seed)``: the same seed gives the same draws.
        logits: the next-token logits ``(V,)`` (e.g. of a trained model after a prompt);
            ``-inf`` marks a token that can never be drawn. A fixed illustrative vector
            (:data:`DEFAULT_LOGITS`) when ``None``.
        vocab: ``V`` token strings, for the labels and the text; ``"0" .. "V-1"`` when ``None``.
        generate: optional ``generate(temperature, rng) -> str`` (or a list of tokens), e.g.
            a loop over a trained character model that calls your ``sample``; its text fills
            the bottom panel, else the first ``ROW`` draws do.
        seed: the seed slider's starting value.
    """

    def __init__(
        self,
        sample: Callable[..., Any] | None = None,
        *,
        logits: Any = None,
        vocab: Sequence[Any] | None = None,
        generate: Callable[..., Any] | None = None,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        from .. import functional as F
        from ..backend import to_numpy

        check_functions(sample=sample, generate=generate)
        self.sample = sample or F.sample
        self.generate = generate
        if logits is None:
            logits = list(DEFAULT_LOGITS.values())
            vocab = list(DEFAULT_LOGITS) if vocab is None else vocab
        try:
            z = np.asarray(to_numpy(logits) if not isinstance(logits, list) else logits, float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"logits must be a 1-D array of numbers; got {logits!r}") from exc
        if z.ndim != 1 or z.size < 2:
            raise ValueError(f"logits must have shape (V,) with V >= 2; got shape {z.shape}")
        if np.isnan(z).any() or np.isposinf(z).any() or not np.isfinite(z).any():
            raise ValueError("logits must be finite or -inf, with at least one finite entry")
        self.logits = z
        self.vocab = [str(k) for k in range(z.size)] if vocab is None else [str(v) for v in vocab]
        if len(self.vocab) != z.size:
            raise ValueError(f"vocab must have one token per logit, {z.size}; got {len(vocab)}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int in [0, 99]; got {seed!r}")
        if not 0 <= seed <= 99:
            raise ValueError(f"seed must be in [0, 99] (the seed slider's range); got {seed!r}")
        self.order = np.argsort(-z, kind="stable")[:TOP_K]  # the bars, most likely first
        controls = {
            "temperature": Slider(0.05, 5.0, 1.0, label="temperature", log=True),
            "seed": Slider(0, 99, int(seed), label="seed", integer=True),
        }
        kwargs.setdefault("figsize", (9.0, 5.6))
        super().__init__(controls=controls, **kwargs)

    # -- the computation --------------------------------------------------------------
    def probabilities(self, temperature: float) -> np.ndarray:
        """``softmax(logits / temperature)``, ``(V,)``; exactly 0 where a logit is -inf."""
        scaled = self.logits / temperature
        e = np.exp(scaled - scaled.max())
        return e / e.sum()

    def entropy(self, temperature: float) -> float:
        """The entropy of :meth:`probabilities` in bits (tokens of probability 0 add 0)."""
        p = self.probabilities(temperature)
        nonzero = p[p > 0]
        return float(-(nonzero * np.log2(nonzero)).sum())

    def draws(self, temperature: float, seed: int, n: int = DRAWS) -> np.ndarray:
        """``n`` ids drawn one by one with ``sample`` and ``np.random.default_rng(seed)``."""
        from ..backend import to_numpy

        rng = np.random.default_rng(seed)
        v, ids = self.logits.size, np.empty(n, dtype=np.int64)
        for k in range(n):
            out = np.asarray(to_numpy(self.sample(self.logits.copy(), temperature, rng=rng)))
            if out.size != 1 or not np.issubdtype(out.dtype, np.integer):
                raise ValueError(
                    f"sample must return one integer id for 1-D logits; got {out!r} "
                    f"(dtype {out.dtype}, shape {out.shape})"
                )
            ids[k] = int(out.reshape(()))
            if not 0 <= ids[k] < v:
                raise ValueError(f"sample returned id {ids[k]}; ids must be in [0, {v})")
            if self.logits[ids[k]] == -np.inf:
                raise ValueError(
                    f"sample drew token {ids[k]} ({self.vocab[ids[k]]!r}), whose logit is -inf: "
                    "its probability is 0"
                )
        return ids

    def text(self, temperature: float, seed: int, ids: np.ndarray) -> str:
        """What the bottom panel shows: ``generate``'s text, or the first ``ROW`` draws."""
        if self.generate is None:
            tokens = [self.vocab[k] for k in ids[:ROW]]
            return ("" if all(len(t) <= 1 for t in self.vocab) else " ").join(tokens)
        out = self.generate(temperature, np.random.default_rng(seed))
        if isinstance(out, (list, tuple)) and all(isinstance(t, str) for t in out):
            out = "".join(out)
        if not isinstance(out, str):
            raise TypeError(
                f"generate(temperature, rng) must return a string; got {type(out).__name__}"
            )
        return out

    # -- the picture --------------------------------------------------------------------
    def draw(self, fig: Figure, *, temperature: float, seed: int) -> None:
        p = self.probabilities(temperature)
        ids = self.draws(temperature, seed)
        freq = np.bincount(ids, minlength=self.logits.size) / len(ids)
        fig.set_layout_engine("none")  # fixed margins: the same values give the same pixels
        ax, ax_text = fig.subplots(2, 1, gridspec_kw=dict(height_ratios=(2.2, 1.0), left=0.08,
                                   right=0.98, bottom=0.03, top=0.9, hspace=0.55))  # fmt: skip
        shown = np.arange(len(self.order))
        ax.bar(shown, p[self.order], color="C0", label="softmax(logits / T)")
        ax.plot(shown, freq[self.order], "o", color="k", ms=4, label=f"{len(ids)} draws")
        labels = [printable(self.vocab[k]) for k in self.order]
        ax.set_xticks(shown, labels, fontsize=8, rotation=45 if len(shown) > 12 else 0)
        ax.set(ylim=(0.0, 1.05), xlim=(-0.6, len(shown) - 0.4), ylabel="probability")
        ax.legend(fontsize=8, loc="upper right")
        finite = int(np.isfinite(self.logits).sum())
        hidden = self.logits.size - len(shown)
        rest = max(1.0 - float(p[self.order].sum()), 0.0)
        others = f"; the other {hidden} hold {rest:.2g}" if hidden else ""
        ax.set_title(
            f"T = {temperature:.3g}: entropy {self.entropy(temperature):.2f} bits "
            f"(uniform over {finite} tokens: {np.log2(finite):.2f}){others}",
            fontsize=10,
        )
        ax_text.axis("off")
        source = "generate(T, rng)" if self.generate is not None else f"{ROW} draws of sample"
        ax_text.set_title(f"{source}, seed {seed}", fontsize=9, loc="left")
        ax_text.text(0.0, 1.0, _block(self.text(temperature, seed, ids)), va="top",
                     family="monospace", fontsize=8, parse_math=False,
                     transform=ax_text.transAxes)  # fmt: skip


def _block(text: str) -> str:
    """Text wrapped to ``COLUMNS`` and cut to ``LINES``; tabs and control characters made safe."""
    text = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in text.replace("\t", " "))
    lines = [piece for line in text.split("\n") for piece in textwrap.wrap(line, COLUMNS) or [""]]
    if len(lines) > LINES:
        lines = lines[: LINES - 1] + [lines[LINES - 1][: COLUMNS - 3] + "..."]
    return "\n".join(lines)
