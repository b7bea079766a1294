"""Move a decision threshold and watch the ROC operating point and the confusion matrix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .explorer import OVER_DATA, Explorer, Slider, legend_beside

__all__ = ["ThresholdExplorer"]


class ThresholdExplorer(Explorer):
    """A scored binary problem, a threshold, and everything the threshold decides.

    The data are two overlapping score distributions: negatives ``N(0, 1)`` and positives
    ``N(separation, 1)``, with a fraction ``positives`` of the ``n`` examples positive. The
    classifier predicts positive when ``score >= threshold``. Three panels show the two
    score histograms with the threshold, the ROC curve with the current operating point,
    and the confusion matrix with accuracy, precision, recall and F1.

    ``confusion_matrix(y_true, y_pred)``, ``precision_recall_f1(y_true, y_pred)`` and
    ``roc_auc(y_true, scores)`` are usually the student's own functions; each defaults to
    the one in :mod:`dlkit.metrics`. The ROC curve itself is drawn with
    :func:`dlkit.metrics.roc_curve`, so a wrong AUC shows up against the right curve.
    """

    def __init__(
        self,
        confusion_matrix: Callable[..., Any] | None = None,
        precision_recall_f1: Callable[..., Any] | None = None,
        roc_auc: Callable[..., Any] | None = None,
        *,
        n: int = 1000,
        seed: int = 0,
        threshold: float = 1.0,
        positives: float = 0.3,
        separation: float = 2.0,
        **kwargs: Any,
    ) -> None:
        from .. import metrics

        for name, fn in (
            ("confusion_matrix", confusion_matrix),
            ("precision_recall_f1", precision_recall_f1),
            ("roc_auc", roc_auc),
        ):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be a function; got {type(fn).__name__}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 100:
            raise ValueError(
                f"n must be an int >= 100 (so 1% positives is a whole example); got {n!r}"
            )
        self.confusion_matrix = confusion_matrix or metrics.confusion_matrix
        self.precision_recall_f1 = precision_recall_f1 or metrics.precision_recall_f1
        self.roc_auc = roc_auc or metrics.roc_auc
        self.n = n
        # one fixed draw: the controls move and relabel these points, they never redraw them
        self.noise = np.random.default_rng(seed).standard_normal(n)
        controls = {
            "threshold": Slider(-4.0, 10.0, threshold, step=0.05, label="threshold"),
            "positives": Slider(0.01, 0.99, positives, step=0.01, label="fraction positive"),
            "separation": Slider(0.0, 6.0, separation, step=0.1, label="separation"),
        }
        kwargs.setdefault("figsize", (12.0, 3.8))
        super().__init__(controls=controls, **kwargs)

    def data(self, positives: float, separation: float) -> tuple[np.ndarray, np.ndarray]:
        """``(y_true, scores)`` for these control values; both classes always present."""
        n_pos = int(np.clip(round(positives * self.n), 1, self.n - 1))
        y = (np.arange(self.n) < n_pos).astype(np.int64)
        return y, self.noise + separation * y

    def draw(self, fig: Figure, *, threshold: float, positives: float, separation: float) -> None:
        from ..metrics import roc_curve

        y, scores = self.data(positives, separation)
        pred = (scores >= threshold).astype(np.int64)
        cm = np.asarray(self.confusion_matrix(y, pred))
        if cm.shape != (2, 2):
            raise ValueError(
                f"confusion_matrix returned shape {cm.shape}; expected (2, 2) for labels 0 and 1"
            )
        (tn, fp), (fn, tp) = cm
        precision, recall, f1 = (float(v) for v in self.precision_recall_f1(y, pred))
        auc = float(self.roc_auc(y, scores))
        fpr_op = fp / max(fp + tn, 1)
        tpr_op = tp / max(tp + fn, 1)
        ax_hist, ax_roc, ax_cm = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.4, 1, 1]})

        bins = np.linspace(-4.0, 10.0, 57)
        ax_hist.hist(scores[y == 0], bins=bins, color="C0", alpha=0.6, label="negatives")
        ax_hist.hist(scores[y == 1], bins=bins, color="C3", alpha=0.6, label="positives")
        ax_hist.axvline(threshold, color="k", lw=2, label=f"threshold {threshold:.2f}")
        ax_hist.set_yscale("log")
        ax_hist.set_xlabel("score")
        ax_hist.set_ylabel("count (log scale)")
        ax_hist.set_title(f"{y.sum()} positives, {y.size - y.sum()} negatives")
        legend_beside(ax_hist, fontsize=8)  # the threshold line can be anywhere inside

        fpr, tpr, _ = roc_curve(y, scores)
        ax_roc.plot(fpr, tpr, color="C2", lw=2, label=f"ROC, AUC = {auc:.3f}")
        ax_roc.plot([0, 1], [0, 1], ":", color="0.6", label="chance")
        ax_roc.plot([fpr_op], [tpr_op], "o", color="k", ms=9, label="operating point")
        ax_roc.set_xlim(-0.02, 1.02)
        ax_roc.set_ylim(-0.02, 1.02)
        ax_roc.set_aspect("equal")
        ax_roc.set_xlabel("false-positive rate")
        ax_roc.set_ylabel("true-positive rate (recall)")
        ax_roc.set_title(f"FPR {fpr_op:.2f}, TPR {tpr_op:.2f}")
        ax_roc.legend(loc="lower right", fontsize=8)

        shares = cm / max(cm.sum(), 1)
        ax_cm.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for (i, j), count in np.ndenumerate(cm):
            color = "w" if shares[i, j] > 0.5 else "k"  # readable on dark cells
            cell = ax_cm.text(j, i, f"{count}", ha="center", va="center", fontsize=13, color=color)
            cell.set_gid(OVER_DATA)  # each count written on its own cell, on purpose
        ax_cm.set_xticks([0, 1], ["pred 0", "pred 1"])
        ax_cm.set_yticks([0, 1], ["true 0", "true 1"])
        accuracy = (tn + tp) / max(cm.sum(), 1)
        ax_cm.set_title(
            f"acc {accuracy:.3f}  P {precision:.3f}  R {recall:.3f}  F1 {f1:.3f}", fontsize=9
        )
