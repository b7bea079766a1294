"""dlkit.autograd tensors: every op's gradient in float64 (central differences and a
directional check), parity with torch autograd on every device, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dlkit.autograd as A
from dlkit.autograd import Tensor
from dlkit.backend import is_torch, to_numpy
from dlkit.testing import assert_close, check_directional, check_gradient

LABELS = np.array([2, 0, 1, 2])


def labels_like(z):
    if is_torch(z):
        import torch

        return torch.as_tensor(LABELS, device=z.device)
    return LABELS


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def positive(*shape):
    return lambda rng: 0.5 + rng.random(shape) * 2


def away_from_zero(*shape):  # kinks (relu at 0) make finite differences meaningless
    return lambda rng: rng.choice([-1.0, 1.0], shape) * (0.2 + rng.random(shape))


def tf():  # torch.nn.functional, imported when a torch test runs
    import torch.nn.functional as F

    return F


# name -> (our op on Tensors, torch's op on tensors, input generators)
CASES = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, [normal(3, 4), normal(3, 4)]),
    "add row broadcast": (lambda a, b: a + b, lambda a, b: a + b, [normal(3, 4), normal(4)]),
    "add outer broadcast": (lambda a, b: a + b, lambda a, b: a + b, [normal(3, 1), normal(1, 4)]),
    "add 3-D broadcast": (lambda a, b: a + b, lambda a, b: a + b, [normal(2, 3, 4), normal(3, 1)]),
    "add 0-d": (lambda a, b: a + b, lambda a, b: a + b, [normal(), normal(5)]),
    "python number": (lambda a: 2.0 - a * 3 + 1 / (a * a + 1), None, [normal(3)]),
    "sub broadcast": (lambda a, b: a - b, lambda a, b: a - b, [normal(4), normal(2, 4)]),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, [normal(3, 4), normal(3, 4)]),
    "mul broadcast": (lambda a, b: a * b, lambda a, b: a * b, [normal(2, 1, 4), normal(3, 1)]),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [normal(3, 4), positive(3, 4)]),
    "div broadcast": (lambda a, b: a / b, lambda a, b: a / b, [normal(3, 4), positive(3, 1)]),
    "neg": (lambda a: -a, lambda a: -a, [normal(3, 2)]),
    "pow 3": (lambda a: a**3, lambda a: a**3, [normal(3, 2)]),
    "pow 0.5": (lambda a: a**0.5, lambda a: a**0.5, [positive(4)]),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [normal(3, 4), normal(4, 2)]),
    "matmul batched broadcast": (
        lambda a, b: a @ b,
        lambda a, b: a @ b,
        [normal(2, 3, 4), normal(4, 5)],
    ),
    "sum": (lambda a: a.sum(), lambda a: a.sum(), [normal(3, 4)]),
    "sum axis 0": (lambda a: a.sum(axis=0), lambda a: a.sum(dim=0), [normal(3, 4)]),
    "sum axes keepdims": (
        lambda a: a.sum(axis=(0, 2), keepdims=True),
        lambda a: a.sum(dim=(0, 2), keepdim=True),
        [normal(2, 3, 4)],
    ),
    "mean": (lambda a: a.mean(), lambda a: a.mean(), [normal(3, 4)]),
    "mean axis -1": (lambda a: a.mean(axis=-1), lambda a: a.mean(dim=-1), [normal(3, 4)]),
    "mean axis keepdims": (
        lambda a: a.mean(axis=1, keepdims=True),
        lambda a: a.mean(dim=1, keepdim=True),
        [normal(2, 3, 4)],
    ),
    "reshape": (lambda a: a.reshape(4, 3) * 1.0, lambda a: a.reshape(4, 3), [normal(2, 6)]),
    "transpose": (lambda a: a.T, lambda a: a.permute(1, 0), [normal(2, 5)]),
    "transpose axes": (
        lambda a: a.transpose(1, 2, 0),
        lambda a: a.permute(1, 2, 0),
        [normal(2, 3, 4)],
    ),
    "exp": (A.exp, lambda a: a.exp(), [normal(3, 4)]),
    "log": (A.log, lambda a: a.log(), [positive(3, 4)]),
    "relu": (A.relu, lambda a: a.relu(), [away_from_zero(3, 4)]),
    "leaky_relu": (
        lambda a: A.leaky_relu(a, 0.1),
        lambda a: tf().leaky_relu(a, 0.1),
        [away_from_zero(3, 4)],
    ),
    "sigmoid": (A.sigmoid, lambda a: a.sigmoid(), [normal(3, 4)]),
    "tanh": (A.tanh, lambda a: a.tanh(), [normal(3, 4)]),
    "gelu": (A.gelu, lambda a: tf().gelu(a), [normal(3, 4)]),
    "softmax": (A.softmax, lambda a: a.softmax(dim=-1), [normal(3, 4)]),
    "softmax axis 0": (
        lambda a: A.softmax(a, axis=0),
        lambda a: a.softmax(dim=0),
        [normal(3, 4)],
    ),
    "log_softmax": (A.log_softmax, lambda a: a.log_softmax(dim=-1), [normal(3, 4)]),
    "affine": (
        A.affine,
        lambda x, w, b: x @ w + b,
        [normal(4, 3), normal(3, 5), normal(5)],
    ),
    "softmax_cross_entropy": (
        lambda z: A.softmax_cross_entropy(z, labels_like(z.data)),
        lambda z: tf().cross_entropy(z, labels_like(z)),
        [normal(4, 3)],
    ),
    "mse_loss": (A.mse_loss, lambda p, t: tf().mse_loss(p, t), [normal(3, 2), normal(3, 2)]),
    "composite mlp": (
        lambda x, w: A.tanh(x @ w).sum(axis=1).mean() * 2.0,
        lambda x, w: (x @ w).tanh().sum(dim=1).mean() * 2.0,
        [normal(5, 3), normal(3, 4)],
    ),
}


def scalar_loss(op, arrays, weight):
    """``sum(op(*arrays) * weight)`` through the autograd: the gradient w.r.t. the output
    is exactly ``weight``."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = op(*tensors)
    loss = (out * Tensor(weight)).sum()
    loss.backward()
    return loss, tensors


def make_inputs(case, rng):
    op, _, gens = CASES[case]
    arrays = [g(rng) for g in gens]
    out_shape = op(*[Tensor(a) for a in arrays]).shape
    return op, arrays, rng.standard_normal(out_shape)


@pytest.mark.parametrize("check", ["central differences", "directional"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_match_finite_differences(case, check, rng):
    """Every op's gradient, in float64, element-wise and along a random direction."""
    op, arrays, weight = make_inputs(case, rng)
    _, tensors = scalar_loss(op, arrays, weight)
    for k, t in enumerate(tensors):

        def f(value, k=k):
            args = [Tensor(a) for a in arrays]
            args[k] = Tensor(value)
            return float(np.sum(op(*args).data * weight))

        name = f"{case}: d input {k}"
        if check == "directional":
            check_directional(f, arrays[k].copy(), t.grad, rng=rng, name=name)
        else:
            check_gradient(f, arrays[k].copy(), t.grad, name=name)


@pytest.mark.parametrize("case", sorted(c for c in CASES if CASES[c][1] is not None))
def test_values_and_gradients_match_torch_on_device(case, rng, torch, device):
    op, reference, gens = CASES[case]
    arrays = [g(rng) for g in gens]
    ours = [Tensor(torch.as_tensor(a, device=device), requires_grad=True) for a in arrays]
    theirs = [torch.as_tensor(a, device=device).requires_grad_(True) for a in arrays]
    out, expected = op(*ours), reference(*theirs)
    assert is_torch(out.data) and out.data.device.type == device
    assert_close(out.data, expected.detach(), name=f"{case} forward", rtol=1e-10, atol=1e-12)
    weight = torch.as_tensor(rng.standard_normal(tuple(expected.shape)), device=device)
    (out * Tensor(weight)).sum().backward()
    grads = torch.autograd.grad((expected * weight).sum(), theirs)
    for k, (t, g) in enumerate(zip(ours, grads, strict=True)):
        assert is_torch(t.grad) and t.grad.device.type == device
        assert tuple(t.grad.shape) == tuple(g.shape)
        assert_close(t.grad, g, name=f"{case}: d input {k}", rtol=1e-9, atol=1e-12)


def test_numpy_in_numpy_out(rng):
    x = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    loss = A.relu(x).sum()
    loss.backward()
    assert isinstance(loss.data, np.ndarray) and isinstance(x.grad, np.ndarray)
    assert x.grad.dtype == np.float64 and x.grad.shape == (3, 2)


def test_float32_stays_float32(rng):
    x = Tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    (A.tanh(x) * 2.0).mean().backward()
    assert x.grad.dtype == np.float32


def test_gradients_accumulate_over_uses_and_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x + x).sum().backward()
    assert_close(x.grad, np.array([3.0, 5.0]), name="d(x^2 + x)")
    (x * 1.0).sum().backward()
    assert_close(x.grad, np.array([4.0, 6.0]), name="accumulated grad")


def test_only_leaves_that_require_grad_get_one(rng):
    x = Tensor(rng.standard_normal(3))
    w = Tensor(rng.standard_normal(3), requires_grad=True)
    h = x * w
    h.sum().backward()
    assert x.grad is None and h.grad is None and w.grad is not None
    assert not (x * 2.0).requires_grad and (x * 2.0)._node is None
    assert h.requires_grad and not h.is_leaf and "Mul" in repr(h)


def test_backward_with_an_explicit_gradient(rng):
    x = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    g = rng.standard_normal((2, 3))
    (x * 3.0).backward(g)
    assert_close(x.grad, 3.0 * g, name="x.grad")


def test_a_deep_chain_does_not_hit_the_recursion_limit():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.sum().backward()
    assert_close(x.grad, np.ones(2), name="x.grad")


def test_errors_name_the_problem(rng, torch):
    x = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"one-element tensor.*\(2, 3\)"):
        (x * 2.0).backward()
    with pytest.raises(ValueError, match="does not require grad"):
        Tensor(np.ones(1)).backward()
    with pytest.raises(ValueError, match=r"grad must have shape \(2, 3\)"):
        (x * 2.0).backward(np.ones((3, 2)))
    with pytest.raises(TypeError, match="mix NumPy arrays and torch tensors"):
        x + Tensor(torch.ones(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        Tensor(np.ones(3)) @ Tensor(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 2\)"):
        x @ Tensor(np.ones((2, 2)))
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(TypeError, match="data must be"):
        Tensor("abc")
    with pytest.raises(ValueError, match="permutation"):
        x.transpose(0, 0)
    with pytest.raises(ValueError, match="item"):
        x.item()
    with pytest.raises(TypeError, match="exponent"):
        x ** Tensor(np.ones(1))
    with pytest.raises(ValueError, match="logits"):
        A.softmax_cross_entropy(Tensor(np.ones(3)), np.array([0]))


def test_conveniences(rng):
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.shape == (2, 2) and x.ndim == 2 and len(x) == 2 and x.dtype == np.float64
    assert x.sum().item() == 10.0 and to_numpy(x.numpy()).shape == (2, 2)
    assert x.detach()._node is None
    assert A.tensor(1.0, requires_grad=True).requires_grad
    y = np.ones((2, 2)) + Tensor(np.ones((2, 2)), requires_grad=True)
    assert isinstance(y, Tensor) and y.requires_grad


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast together: some axes dropped or set to 1 on either side."""
    full = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    shapes = []
    for _ in range(2):
        drop = draw(st.integers(0, len(full)))
        shape = [1 if draw(st.booleans()) else n for n in full[drop:]]
        shapes.append(tuple(shape))
    return shapes


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # torch is a module
@given(broadcast_pair(), st.sampled_from(["add", "sub", "mul", "div"]))
def test_broadcasting_gradients_match_torch(torch, shapes, op):
    rng = np.random.default_rng(len(shapes[0]) * 10 + len(shapes[1]))
    a, b = rng.standard_normal(shapes[0]), 0.5 + rng.random(shapes[1])
    fn = {"add": A.add, "sub": A.sub, "mul": A.mul, "div": A.div}[op]
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = fn(ta, tb)
    weight = rng.standard_normal(out.shape)
    (out * Tensor(weight)).sum().backward()
    ra, rb = (torch.tensor(v, requires_grad=True) for v in (a, b))
    ref = {"add": ra + rb, "sub": ra - rb, "mul": ra * rb, "div": ra / rb}[op]
    ga, gb = torch.autograd.grad((ref * torch.as_tensor(weight)).sum(), (ra, rb))
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape
    assert_close(ta.grad, ga.numpy(), name=f"d a for {shapes} ({op})", rtol=1e-10, atol=1e-12)
    assert_close(tb.grad, gb.numpy(), name=f"d b for {shapes} ({op})", rtol=1e-10, atol=1e-12)
