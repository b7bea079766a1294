"""The grader process of dlgrade/harness.py, driven as the executor drives it.

A real grader process (forked from the forkserver) runs the grader cells; the "kernel" is a
thread of this test serving a namespace with :func:`dlkit.testing.remote.serve`, as the
student's kernel does during a test cell. The verdict is the grader's: what the namespace's
code does can make its own answers wrong, never a failing check pass.
"""

from __future__ import annotations

import threading

import pytest
from dlgrade.harness import Grader

from dlkit.testing.remote import serve

SETUP = """
import numpy as np
from dlkit.testing import assert_close, passed, using
"""

STUDENT = """
import numpy as np

def double(x):
    return 2 * x

def inner(x):
    return x + 100          # wrong on purpose

def outer(x):
    return inner(x) * 2

def len(x):                 # shadows the builtin in the student's namespace only
    return 0

class Agree:
    def __eq__(self, other):
        return True

def agree():
    return Agree()

def peeks():
    return sorted(k for k in globals() if k.startswith("expected"))
"""


@pytest.fixture
def grader(tmp_path):
    g = Grader(str(tmp_path / "g.sock"))
    g.start("setup", SETUP, "setup")
    assert g.wait(60)["passed"]
    yield g
    g.close()


TORCH_STUDENT = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(3, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))

def train_step(model, x, y, optimizer, loss_fn):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()

def freeze_body(model):
    for p in model.body.parameters():
        p.requires_grad_(False)
"""


def run_test(
    grader: Grader, source: str, timeout: float = 30, kernel: bool = True, student: str = STUDENT
) -> dict:
    namespace: dict = {}
    exec(student, namespace)
    grader.start("test", source, "test_cell")
    if kernel:
        thread = threading.Thread(target=serve, args=(grader.path, namespace), daemon=True)
        thread.start()
    else:
        grader.abort()
    return grader.wait(timeout)


def _error(result) -> dict:
    return next(o for o in result["outputs"] if o["output_type"] == "error")


def test_a_passing_cell(grader):
    result = run_test(grader, "assert_close(double(np.arange(3.0)), [0, 2, 4])\npassed('ok')")
    assert result["passed"], result
    assert result["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "✓ ok\n"}]


def test_a_failing_cell_reports_the_check_and_no_test_source(grader):
    source = (
        "expected_secret_value = np.array([1.0, 2.0])\n"
        "assert_close(double(np.array([1.0, 2.0])), expected_secret_value, name='double')\n"
    )
    result = run_test(grader, source)
    assert not result["passed"]
    error = _error(result)
    assert error["ename"] == "CheckFailed" and "double is not right yet" in error["evalue"]
    assert not any("expected_secret_value" in line for line in error["traceback"])


def test_using_substitutes_in_the_kernel(grader):
    source = (
        "assert outer(1) == 202\n"
        "with using(globals(), inner=lambda x: x + 1):\n"
        "    assert outer(1) == 4, outer(1)\n"
        "assert outer(1) == 202\n"
    )
    assert run_test(grader, source)["passed"]


def test_builtins_and_modules_are_never_the_students(grader):
    assert run_test(grader, "assert len([1, 2]) == 2")["passed"]
    result = run_test(grader, "assert math.sqrt(4) == 2")  # a test must import what it uses
    assert not result["passed"] and _error(result)["ename"] == "NameError"


def test_an_object_that_equals_anything_does_not_pass(grader):
    result = run_test(grader, "assert agree() == 3.0")
    assert not result["passed"] and _error(result)["ename"] == "AssertionError"


def test_the_tests_globals_are_not_the_kernels(grader):
    source = "expected_value = 3\nassert peeks() == [], peeks()"
    assert run_test(grader, source)["passed"]


def test_a_kernel_that_never_answers_fails_the_cell(grader):
    result = run_test(grader, "assert double(1) == 2", kernel=False)
    assert not result["passed"]
    assert "kernel" in _error(result)["evalue"]


def test_a_test_that_runs_too_long_is_interrupted(grader):
    result = run_test(grader, "while True:\n    pass", timeout=1)
    assert not result["passed"]
    assert "time" in _error(result)["evalue"]
    assert run_test(grader, "assert double(2) == 4")["passed"]  # and the grader goes on


def test_a_torch_model_trains_in_the_kernel_with_the_kernels_own_optimizer(grader):
    """Tensors cross by value; the optimizer and the loss are the kernel's (kernel_module)."""
    pytest.importorskip("torch")
    source = """
import torch
from dlkit.testing import kernel_module
ktorch = kernel_module(globals(), "torch")
torch.manual_seed(0)
x, y = torch.randn(16, 3), torch.randint(0, 2, (16,))
model = Net()
optimizer = ktorch.optim.SGD(model.parameters(), lr=0.5)
loss_fn = ktorch.nn.CrossEntropyLoss()
losses = [train_step(model, x, y, optimizer, loss_fn) for _ in range(30)]
assert isinstance(losses[0], float) and losses[-1] < 0.8 * losses[0], losses
logits = model(x)
assert type(logits) is torch.Tensor and logits.shape == (16, 2) and logits.grad_fn is None
freeze_body(model)
flags = {name: p.requires_grad for name, p in model.named_parameters()}
assert flags == {"body.weight": False, "body.bias": False, "head.weight": True,
                 "head.bias": True}, flags
weights = model.state_dict()
assert set(weights) == {"body.weight", "body.bias", "head.weight", "head.bias"}
fresh = Net()
fresh.load_state_dict(weights)
assert torch.equal(fresh(x), logits)
"""
    result = run_test(grader, source, student=TORCH_STUDENT, timeout=60)
    assert result["passed"], result
