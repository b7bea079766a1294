"""dlkit.autograd.scalar: the Value engine against torch autograd."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlkit.autograd import Value

# (name, Value op, torch op); every op is defined for any real input
UNARY = [
    ("tanh", lambda a: a.tanh(), lambda a: a.tanh()),
    ("relu", lambda a: a.relu(), lambda a: a.relu()),
    ("sigmoid", lambda a: a.sigmoid(), lambda a: a.sigmoid()),
    ("exp of a bounded value", lambda a: a.tanh().exp(), lambda a: a.tanh().exp()),
    ("log(a^2 + 1)", lambda a: (a**2 + 1).log(), lambda a: (a**2 + 1).log()),
    ("neg", lambda a: -a, lambda a: -a),
    ("cube", lambda a: a**3, lambda a: a**3),
    ("sqrt(a^2 + 1)", lambda a: (a * a + 1) ** 0.5, lambda a: (a * a + 1) ** 0.5),
    ("2 - a", lambda a: 2 - a, lambda a: 2 - a),
    ("1 / (1 + a^2)", lambda a: 1 / (1 + a * a), lambda a: 1 / (1 + a * a)),
]
BINARY = [
    ("+", lambda a, b: a + b),
    ("-", lambda a, b: a - b),
    ("*", lambda a, b: a * b),
    ("/ (b^2 + 1)", lambda a, b: a / (b * b + 1)),
    ("0.5 * a + b * 3", lambda a, b: 0.5 * a + b * 3),
]

finite = st.floats(-2.0, 2.0, allow_nan=False)
program = st.lists(
    st.tuples(
        st.booleans(),
        st.integers(0, len(UNARY) - 1),
        st.integers(0, len(BINARY) - 1),
        st.integers(0, 10),
        st.integers(0, 10),
    ),
    min_size=1,
    max_size=12,
)


def run(program, leaves, unary_pick, binary_op):
    """Apply ``program`` to ``leaves`` with either library's ops; returns the last node."""
    nodes = list(leaves)
    for is_unary, u, b, i, j in program:
        a = nodes[i % len(nodes)]
        if is_unary:
            nodes.append(unary_pick(u)(a))
        else:
            nodes.append(binary_op(b)(a, nodes[j % len(nodes)]).tanh())  # keep values bounded
    return nodes[-1]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # torch is a module
@given(st.lists(finite, min_size=1, max_size=4), program)
def test_random_expressions_match_torch_autograd(torch, xs, prog):
    values = [Value(x) for x in xs]
    out = run(prog, values, lambda u: UNARY[u][1], lambda b: BINARY[b][1])
    out.backward()
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    ref = run(prog, tensors, lambda u: UNARY[u][2], lambda b: BINARY[b][1])
    grads = torch.autograd.grad(ref, tensors, allow_unused=True)
    assert out.data == pytest.approx(ref.item(), rel=1e-12, abs=1e-12)
    for v, g in zip(values, grads, strict=True):
        expected = 0.0 if g is None else g.item()
        assert v.grad == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_neuron_gradients_by_hand():
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.8813735870195432)
    out = (x1 * w1 + x2 * w2 + b).tanh()
    out.backward()
    assert out.data == pytest.approx(math.sqrt(0.5), abs=1e-6)
    local = 1 - out.data**2  # 0.5
    assert w1.grad == pytest.approx(local * 2.0)
    assert x1.grad == pytest.approx(local * -3.0)
    assert w2.grad == 0.0 and b.grad == pytest.approx(local)


def test_a_value_used_twice_accumulates_both_gradients():
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0
    c = Value(-2.0)
    (c * c * c).backward()
    assert c.grad == pytest.approx(12.0)


def test_graph_records_children_and_op_labels():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + 1.0
    assert c._op == "*" and set(c._prev) == {a, b}
    assert d._op == "+" and c in d._prev
    assert a._op == "" and a._prev == ()
    assert a.tanh()._op == "tanh" and (a**2)._op == "**2"


def test_topological_order_puts_children_first():
    a, b = Value(1.0), Value(2.0)
    out = ((a * b) + a).tanh()
    order = out.topological_order()
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for child in node._prev:
            assert position[id(child)] < position[id(node)]
    assert order[-1] is out and len(order) == 5


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = Value(0.5)
    y = x
    for _ in range(20_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0)


def test_numbers_on_either_side():
    a = Value(4.0)
    for expr, value, grad in [
        (lambda v: 1 + v, 5.0, 1.0),
        (lambda v: 10 - v, 6.0, -1.0),
        (lambda v: 3 * v, 12.0, 3.0),
        (lambda v: 8 / v, 2.0, -0.5),
        (lambda v: v / 2, 2.0, 0.5),
        (lambda v: v - 1, 3.0, 1.0),
    ]:
        a.grad = 0.0
        out = expr(a)
        out.backward()
        assert out.data == value and a.grad == grad


def test_extreme_inputs_stay_finite():
    for x in (-1000.0, 1000.0):
        s = Value(x).sigmoid()
        s.backward()
        t = Value(x).tanh()
        t.backward()
        assert np.isfinite([s.data, t.data]).all()
    assert Value(-800.0).sigmoid().data == pytest.approx(0.0)


def test_errors_name_the_problem():
    with pytest.raises(TypeError, match="real number"):
        Value("1.0")
    with pytest.raises(TypeError, match="Value or a real number"):
        Value(1.0) + "a"
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="positive"):
        Value(0.0).log()
    assert "data=2" in repr(Value(2.0))
