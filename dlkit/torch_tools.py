"""PyTorch counterparts of the course's models, for unit 13 (PyTorch, GPUs and deployment).

:class:`DigitsCNN` is the small convolutional network of unit 13 on scikit-learn's 8x8
digits: the network pretrained by ``python -m dlkit.pretrained`` and the reference of the
unit's graded torch module. Its layout is fixed so that a ``state_dict`` moves between the
student's module, dlkit's and the shipped weights:

=============  ================================  =================
name           layer                             output (N, ...)
=============  ================================  =================
``body.0``     ``Conv2d(1, 16, 3, padding=1)``   (16, 8, 8)
``body.1``     ``ReLU()``
``body.2``     ``MaxPool2d(2)``                  (16, 4, 4)
``body.3``     ``Conv2d(16, 32, 3, padding=1)``  (32, 4, 4)
``body.4``     ``ReLU()``
``body.5``     ``MaxPool2d(2)``                  (32, 2, 2)
``body.6``     ``Flatten()``                     (128,)
``head``       ``Linear(128, num_classes)``      (num_classes,)
=============  ================================  =================

``body`` is the feature extractor that transfer learning keeps; ``head`` is the classifier
that it replaces.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

FEATURES = 128  # the body's output size: 32 channels x 2 x 2


class DigitsCNN(nn.Module):
    """Two 3x3 convolutions with ReLU and 2x2 max pooling, then one linear layer.

    Input ``(N, 1, 8, 8)`` float32 images in ``[0, 1]``; output ``(N, num_classes)`` logits.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int; got {num_classes!r}")
        self.num_classes = num_classes
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.head = nn.Linear(FEATURES, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # the check is skipped while torch traces the model (ONNX export, TensorBoard's
        # add_graph): a Python condition on a shape there only draws a TracerWarning
        if not torch.jit.is_tracing() and (x.ndim != 4 or tuple(x.shape[1:]) != (1, 8, 8)):
            raise ValueError(f"x must have shape (N, 1, 8, 8); got {tuple(x.shape)}")
        return self.head(self.body(x))


# ------------------------------------------------------------ the unit's graded exercises
# The references of unit 13's exercises (dlkit/references.py lists them): one epoch of
# training and an evaluation on any device, the two transfer-learning setups, the ONNX export.

FINETUNE_MODES = ("features", "finetune")
BODY_LR_FACTOR = 0.1  # fine-tuning: the pretrained body learns 10 times slower than the head


def quiet_export_logs() -> None:
    """Silence the messages that ``torch.onnx.export`` writes to stderr on a CPU-only install.

    The exporter logs "torchvision is not installed. Skipping torchvision::nms" (and three
    more operators) as warnings and a ``FutureWarning`` from ``torch.utils._pytree``; none of
    them concerns the course's models. Onnxruntime's quantizer logs a root-logger warning
    suggesting pre-processing, which ``dlkit`` runs anyway where it helps.
    """
    import logging
    import warnings

    for name in ("torch.onnx", "torch._dynamo", "torch.export", "torch._export"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch(\.|$)")
    warnings.filterwarnings("ignore", category=FutureWarning, module="copyreg")
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*", category=FutureWarning)
    warnings.filterwarnings("ignore", message=r".*pre-processing.*")


def train_epoch(model: nn.Module, loader, optimizer, loss_fn, device) -> float:
    """One pass over ``loader``: per batch, move it to ``device``, then zero_grad/backward/step.

    Returns the mean loss over the examples (each batch's mean loss weighted by its size, so a
    short last batch counts for what it holds).
    """
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
        count += len(x)
    return total / count


def evaluate(model: nn.Module, loader, device) -> float:
    """Accuracy of ``model`` over ``loader`` (eval mode, no gradients), as a float in [0, 1]."""
    model.eval()
    correct, count = 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(dim=1) == y).sum().item()
            count += len(x)
    return correct / count


def setup_finetuning(
    model: nn.Module, num_classes: int, mode: str, lr: float, *, generator=None
) -> torch.optim.Optimizer:
    """Prepare a pretrained ``DigitsCNN`` for a new task; return its Adam optimizer.

    Both modes replace ``model.head`` by a new ``Linear(128, num_classes)`` (initialised from
    ``generator`` when one is given, as ``nn.Linear`` does: uniform in +-1/sqrt(128)).

    * ``"features"`` (feature extraction): every body parameter gets ``requires_grad=False``;
      the optimizer holds the head's parameters only, at ``lr``.
    * ``"finetune"``: every parameter is trainable; two parameter groups, the body at
      ``lr / 10`` first, then the head at ``lr``.
    """
    if mode not in FINETUNE_MODES:
        raise ValueError(f"mode must be one of {FINETUNE_MODES}; got {mode!r}")
    head = nn.Linear(FEATURES, num_classes)
    if generator is not None:
        bound = 1.0 / FEATURES**0.5
        with torch.no_grad():
            head.weight.uniform_(-bound, bound, generator=generator)
            head.bias.uniform_(-bound, bound, generator=generator)
    model.head = head
    if mode == "features":
        for p in model.body.parameters():
            p.requires_grad_(False)
        return torch.optim.Adam(model.head.parameters(), lr=lr)
    for p in model.parameters():
        p.requires_grad_(True)
    return torch.optim.Adam(
        [
            {"params": list(model.body.parameters()), "lr": lr * BODY_LR_FACTOR},
            {"params": list(model.head.parameters()), "lr": lr},
        ]
    )


def export_onnx(model: nn.Module, path) -> None:
    """Write ``model`` to the ONNX file ``path``: eval mode, input "images" (N, 1, 8, 8) with a
    dynamic batch axis, output "logits"."""
    model.eval()
    example = torch.zeros(2, 1, 8, 8)
    torch.onnx.export(
        model,
        (example,),
        str(path),
        dynamo=True,
        input_names=["images"],
        output_names=["logits"],
        dynamic_shapes=({0: torch.export.Dim("batch")},),
        verbose=False,
    )


def onnx_predict(path, x) -> np.ndarray:
    """The logits of the ONNX file ``path`` on ``x`` (float32 (N, 1, 8, 8)), with onnxruntime
    on one thread."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"images": np.asarray(x, dtype=np.float32)})[0]


# ------------------------------------------------------------------- a helper for the tests


class _Recorded(torch.Tensor):
    """A tensor that notes each ``.to(...)`` call on it in ``self._moves`` (see RecordingLoader).

    Every operation, ``.to`` included, returns a plain ``torch.Tensor``: the recording stops at
    the batch itself, so the model, the loss and the optimizer see ordinary tensors.
    """

    _moves: list[str]

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.Tensor.to and args and isinstance(args[0], _Recorded):
            target = kwargs.get("device", args[1] if len(args) > 1 else None)
            args[0]._moves.append(str(target))
        with torch._C.DisableTorchFunctionSubclass():
            out = func(*args, **kwargs)
        if isinstance(out, _Recorded):
            out = out.as_subclass(torch.Tensor)
        return out


class RecordingLoader:
    """Batches ``(x, y)`` of ``x`` and ``y`` like a ``DataLoader`` without shuffling, whose
    tensors record where the code under test moves them.

    On a machine without a GPU every tensor already lives on the only device, so a training
    loop that forgets ``x.to(device)`` gives the same numbers as one that does not; a test
    reads :attr:`moves` instead: one entry per ``.to(...)`` call on a batch tensor, the
    device (or dtype) it was given, as a string, in call order.
    """

    def __init__(self, x, y, batch_size: int) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
        self.x, self.y = torch.as_tensor(x), torch.as_tensor(y)
        if len(self.x) != len(self.y):
            raise ValueError(
                f"x and y must have the same length; got {len(self.x)} and {len(self.y)}"
            )
        self.batch_size = batch_size
        self.moves: list[str] = []

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def _recorded(self, t: torch.Tensor) -> _Recorded:
        r = t.as_subclass(_Recorded)
        r._moves = self.moves
        return r

    def __iter__(self):
        for start in range(0, len(self.x), self.batch_size):
            end = start + self.batch_size
            yield self._recorded(self.x[start:end]), self._recorded(self.y[start:end])
