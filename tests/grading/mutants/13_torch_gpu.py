"""Plausible wrong answers for unit 13; each must lose its own exercise's points, only those."""

_CNN = """
class DigitsCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.head = nn.Linear(128, num_classes)

    def forward(self, x):
        return self.head(self.body(x))
"""

_TRAIN = """
def train_epoch(model, loader, optimizer, loss_fn, device):
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


def evaluate(model, loader, device):
    model.eval()
    correct, count = 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(dim=1) == y).sum().item()
            count += len(x)
    return correct / count
"""

_SETUP = """
def setup_finetuning(model, num_classes, mode, lr, *, generator=None):
    if mode not in ("features", "finetune"):
        raise ValueError(f"mode must be 'features' or 'finetune'; got {mode!r}")
    head = nn.Linear(128, num_classes)
    if generator is not None:
        bound = 1 / 128 ** 0.5
        with torch.no_grad():
            head.weight.uniform_(-bound, bound, generator=generator)
            head.bias.uniform_(-bound, bound, generator=generator)
    model.head = head
    if mode == "features":
        for p in model.body.parameters():
            p.requires_grad = False
        return torch.optim.Adam(model.head.parameters(), lr=lr)
    for p in model.parameters():
        p.requires_grad = True
    return torch.optim.Adam([
        {"params": model.body.parameters(), "lr": lr / 10},
        {"params": model.head.parameters(), "lr": lr},
    ])
"""

_EXPORT = """
def export_onnx(model, path):
    model.eval()
    example = torch.zeros(2, 1, 8, 8)
    torch.onnx.export(model, (example,), path, dynamo=True, input_names=["images"],
                      output_names=["logits"], dynamic_shapes=({0: torch.export.Dim("batch")},),
                      verbose=False)
"""


def _replace(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, old
    return source.replace(old, new)


MUTANTS = {
    "DigitsCNN": {
        "no ReLU after the second convolution": _replace(
            _CNN,
            "nn.Conv2d(16, 32, 3, padding=1),\n            nn.ReLU(),",
            "nn.Conv2d(16, 32, 3, padding=1),\n            nn.Identity(),",
        ),
        "num_classes ignored (always 10 outputs)": _replace(
            _CNN, "nn.Linear(128, num_classes)", "nn.Linear(128, 10)"
        ),
        "no padding in the convolutions (the head gets 32 features, not 128)": _replace(
            _replace(_CNN, "nn.Conv2d(1, 16, 3, padding=1)", "nn.Conv2d(1, 16, 3)"),
            "nn.Linear(128, num_classes)",
            "nn.LazyLinear(num_classes)",
        ),
        "average pooling instead of max pooling": _CNN.replace(
            "nn.MaxPool2d(2)", "nn.AvgPool2d(2)"
        ),
    },
    "train_epoch": {
        "mean of the batch means (a short last batch counts as a full one)": _replace(
            _replace(_TRAIN, "total += loss.item() * len(x)", "total += loss.item()"),
            "count += len(x)\n    return total / count\n\n\ndef evaluate",
            "count += 1\n    return total / count\n\n\ndef evaluate",
        ),
        "no zero_grad: gradients add up across batches": _replace(
            _TRAIN, "        optimizer.zero_grad()\n", ""
        ),
        "evaluate returns the count of correct examples": _replace(
            _TRAIN, "    return correct / count\n", "    return float(correct)\n"
        ),
        "no model.train() at the start of the epoch": _replace(_TRAIN, "    model.train()\n", ""),
        "batches never moved to the device (the same numbers on a CPU)": _replace(
            _TRAIN,
            "        x, y = x.to(device), y.to(device)\n        optimizer.zero_grad()",
            "        optimizer.zero_grad()",
        ),
    },
    "setup_finetuning": {
        "the learning rates of body and head swapped": _replace(
            _replace(_SETUP, '"lr": lr / 10}', '"lr": lr}'),
            '{"params": model.head.parameters(), "lr": lr}',
            '{"params": model.head.parameters(), "lr": lr / 10}',
        ),
        "feature extraction freezes nothing": _replace(
            _SETUP, "            p.requires_grad = False\n", "            pass\n"
        ),
        "feature extraction optimizes every parameter": _replace(
            _SETUP,
            "return torch.optim.Adam(model.head.parameters(), lr=lr)",
            "return torch.optim.Adam(model.parameters(), lr=lr)",
        ),
        "fine-tuning with one parameter group at lr": _replace(
            _SETUP,
            """return torch.optim.Adam([
        {"params": model.body.parameters(), "lr": lr / 10},
        {"params": model.head.parameters(), "lr": lr},
    ])""",
            "return torch.optim.Adam(model.parameters(), lr=lr)",
        ),
    },
    "export_onnx": {
        "no model.eval() before exporting": _replace(_EXPORT, "    model.eval()\n", ""),
        "no dynamic batch axis (the file only takes batches of 2)": _replace(
            _EXPORT,
            'output_names=["logits"], dynamic_shapes=({0: torch.export.Dim("batch")},),',
            'output_names=["logits"],',
        ),
        "the input named 'input'": _replace(
            _EXPORT, 'input_names=["images"]', 'input_names=["input"]'
        ),
    },
}
