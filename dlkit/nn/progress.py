"""The progress bar that ``fit`` shows: ``tqdm.auto``, a widget in Jupyter, text elsewhere.

* ``verbose=1``: one bar per epoch, one tick per batch, the running mean loss in the
  postfix; when the epoch ends the postfix shows its logs (loss, metrics, validation).
* ``verbose=2``: one bar for the whole run, one tick per epoch, the last epoch's logs in
  the postfix (better for hundreds of short epochs).

``tqdm`` is imported when training begins, not when dlkit is imported.
"""

from __future__ import annotations

from typing import Any

from .callbacks import Callback, Logs

__all__ = ["ProgressBar"]


def _postfix(logs: Logs) -> dict[str, str]:
    return {k: f"{v:.4g}" for k, v in logs.items() if isinstance(v, (int, float))}


class ProgressBar(Callback):
    """A ``tqdm`` progress bar (``verbose`` 1: per epoch, 2: one for the run)."""

    def __init__(self, verbose: int = 1) -> None:
        if verbose not in (1, 2):
            raise ValueError(f"verbose must be 1 (a bar per epoch) or 2 (one bar); got {verbose!r}")
        self.verbose = verbose
        self._bar: Any = None
        self._seen = self._loss_sum = 0.0

    def _new_bar(self, total: int, desc: str, unit: str) -> Any:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit=unit, leave=True, dynamic_ncols=True)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        if self.verbose == 2:
            self._bar = self._new_bar(self.params["epochs"], "training", "epoch")

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        if self.verbose == 1:
            desc = f"epoch {epoch + 1}/{self.params['epochs']}"
            self._bar = self._new_bar(self.params["steps"], desc, "batch")
            self._seen = self._loss_sum = 0.0

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.verbose == 1 and logs:
            self._seen += logs["size"]
            self._loss_sum += logs["loss"] * logs["size"]
            self._bar.set_postfix(loss=f"{self._loss_sum / self._seen:.4g}", refresh=False)
            self._bar.update(1)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._bar.set_postfix(_postfix(logs or {}), refresh=False)
        if self.verbose == 1:
            self.close()
        else:
            self._bar.update(1)

    def on_train_end(self, logs: Logs | None = None) -> None:
        self.close()

    def close(self) -> None:
        """Close the open bar, if any (``fit`` also calls it when training fails)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
