"""dlkit.torch_tools: the references of unit 13's graded exercises, on small hand-made cases."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dlkit.torch_tools import (
    FEATURES,
    DigitsCNN,
    evaluate,
    export_onnx,
    onnx_predict,
    quiet_export_logs,
    setup_finetuning,
    train_epoch,
)


def _loader(n: int = 10, batch_size: int = 4) -> DataLoader:
    x = torch.linspace(-1, 1, n * 3).reshape(n, 3)
    y = torch.tensor([i % 2 for i in range(n)])
    return DataLoader(TensorDataset(x, y), batch_size=batch_size)


def _linear() -> nn.Linear:
    model = nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.5, -0.2, 0.1], [-0.3, 0.4, 0.2]]))
        model.bias.copy_(torch.tensor([0.0, 0.1]))
    return model


def test_train_epoch_weights_each_batch_by_its_size_and_steps_per_batch() -> None:
    model = _linear()
    model.eval()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    got = train_epoch(model, _loader(), opt, nn.CrossEntropyLoss(), "cpu")
    assert model.training
    # by hand: the same three SGD steps (batches of 4, 4 and 2), zeroing between them
    w = torch.tensor([[0.5, -0.2, 0.1], [-0.3, 0.4, 0.2]], requires_grad=True)
    b = torch.tensor([0.0, 0.1], requires_grad=True)
    total = 0.0
    for x, y in _loader():
        loss = nn.functional.cross_entropy(x @ w.T + b, y)
        loss.backward()
        with torch.no_grad():
            for p in (w, b):
                p -= 0.5 * p.grad
                p.grad = None
        total += loss.item() * len(x)
    assert isinstance(got, float)
    assert got == pytest.approx(total / 10, rel=1e-6)
    assert torch.allclose(model.weight, w, atol=1e-6) and torch.allclose(model.bias, b, atol=1e-6)


def test_evaluate_is_the_fraction_correct_in_eval_mode_without_gradients() -> None:
    model = _linear()
    model.train()
    got = evaluate(model, _loader(batch_size=3), torch.device("cpu"))
    x, y = _loader().dataset.tensors
    with torch.no_grad():
        want = (model(x).argmax(1) == y).float().mean().item()
    assert isinstance(got, float) and got == pytest.approx(want)
    assert not model.training
    assert model.weight.grad is None


def test_setup_finetuning_features_freezes_the_body_and_optimizes_a_new_head() -> None:
    torch.manual_seed(0)
    model = DigitsCNN(num_classes=5)
    body = {k: v.clone() for k, v in model.body.state_dict().items()}
    opt = setup_finetuning(model, 3, "features", 0.01, generator=torch.Generator().manual_seed(4))
    assert isinstance(opt, torch.optim.Adam) and len(opt.param_groups) == 1
    assert [tuple(p.shape) for p in opt.param_groups[0]["params"]] == [(3, FEATURES), (3,)]
    assert all(not p.requires_grad for p in model.body.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    assert all(torch.equal(body[k], v) for k, v in model.body.state_dict().items())
    g = torch.Generator().manual_seed(4)
    bound = 1 / FEATURES**0.5
    w = torch.empty(3, FEATURES).uniform_(-bound, bound, generator=g)
    b = torch.empty(3).uniform_(-bound, bound, generator=g)
    assert torch.equal(model.head.weight.detach(), w) and torch.equal(model.head.bias.detach(), b)
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 3)


def test_setup_finetuning_finetune_has_two_groups_with_the_body_ten_times_slower() -> None:
    model = DigitsCNN(num_classes=5)
    model.body[0].weight.requires_grad_(False)
    opt = setup_finetuning(model, 4, "finetune", 0.02)
    assert all(p.requires_grad for p in model.parameters())
    body_group, head_group = opt.param_groups
    assert body_group["lr"] == pytest.approx(0.002) and head_group["lr"] == pytest.approx(0.02)
    assert len(body_group["params"]) == 4 and len(head_group["params"]) == 2
    assert head_group["params"][0] is model.head.weight


def test_setup_finetuning_rejects_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="features"):
        setup_finetuning(DigitsCNN(), 5, "scratch", 0.01)


def test_export_onnx_gives_a_file_with_a_dynamic_batch_that_matches_torch(tmp_path) -> None:
    quiet_export_logs()
    torch.manual_seed(1)
    model = DigitsCNN(num_classes=4)
    model.train()
    path = tmp_path / "cnn.onnx"
    export_onnx(model, path)
    assert not model.training
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["images"]
    assert [o.name for o in graph.output] == ["logits"]
    for n in (1, 7):
        x = torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(n))
        with torch.no_grad():
            want = model(x).numpy()
        np.testing.assert_allclose(onnx_predict(path, x.numpy()), want, atol=1e-5)


def test_recording_loader_records_each_move_and_hands_on_plain_tensors() -> None:
    from dlkit.torch_tools import RecordingLoader

    x = np.linspace(-1, 1, 30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10) % 2
    loader = RecordingLoader(x, y, 4)
    assert len(loader) == 3
    model = _linear()
    loss = train_epoch(
        model, loader, torch.optim.SGD(model.parameters(), lr=0.5), nn.CrossEntropyLoss(), "cpu"
    )
    assert loader.moves == ["cpu"] * 6
    reference = _linear()
    want = train_epoch(
        reference,
        _loader(),
        torch.optim.SGD(reference.parameters(), lr=0.5),
        nn.CrossEntropyLoss(),
        "cpu",
    )
    assert loss == pytest.approx(want, rel=1e-6)
    xb, yb = next(iter(loader))
    assert type(xb.to("cpu")) is torch.Tensor and type(model(xb)) is torch.Tensor
    assert loader.moves[-1] == "cpu"
    unmoved = RecordingLoader(x, y, 5)
    for xb, _ in unmoved:
        model(xb)
    assert unmoved.moves == []
    with pytest.raises(ValueError, match="same length"):
        RecordingLoader(x, y[:3], 2)
