"""dlkit.viz.graph: GraphExplorer draws the student's Value graph; TrainingCurves."""

from __future__ import annotations

import math

import pytest

from dlkit.autograd import Value
from dlkit.viz import GraphExplorer, Slider, TrainingCurves
from dlkit.viz.graph import neuron
from tests.viz.conftest import Spy


class StudentValue:
    """A minimal engine written as a student would (no __slots__, own names)."""

    def __init__(self, data, _children=(), _op="", label=""):
        self.data, self.grad, self._prev, self._op, self.label = data, 0.0, _children, _op, label
        self._backward = lambda: None

    def __add__(self, other):
        out = StudentValue(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        out = StudentValue(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = StudentValue(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()

        def visit(v):
            if v not in seen:
                seen.add(v)
                for c in v._prev:
                    visit(c)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()


def texts(explorer):
    return [t.get_text() for t in explorer.figure.axes[0].texts]


def test_draws_every_node_with_label_data_and_grad():
    e = GraphExplorer(Value)
    labels = texts(e)
    for name in ("x1", "w1", "x2", "w2", "b", "x1*w1", "z", "out"):
        assert any(t.startswith(name + "\n") for t in labels), name
    assert "tanh" in labels and labels.count("*") == 2 and labels.count("+") == 2
    assert e.root.grad == 1.0 and e.root.data == pytest.approx(math.tanh(0.88))
    assert any(t == f"grad {1 - math.tanh(0.88) ** 2:.4f}" for t in labels)


def test_uses_the_students_class():
    calls = []

    def build(V, **values):
        calls.append(V)
        return neuron(V, **values)

    e = GraphExplorer(StudentValue, build=build)
    assert calls == [StudentValue] and isinstance(e.root, StudentValue)
    spy = Spy(lambda a, b: StudentValue.__mul__(a, b))

    class Watched(StudentValue):
        def __mul__(self, other):
            return spy(self, other)

    e = GraphExplorer(Watched)
    e.update(x1=1.0)
    assert len(spy.calls) == 4 and spy.calls[2][0].data == 1.0  # x1 * w1, after the update
    assert e.root.data == pytest.approx(math.tanh(3.88))


@pytest.mark.parametrize(
    "values",
    [{"x1": 0.5}, {"w2": -2.0, "x2": 1.0}, {"b": 10.0}, {"b": -10.0, "x1": -3.0, "w1": 3.0}],
)
def test_ordinary_and_extreme_values_change_the_picture(values):
    e = GraphExplorer(Value)
    before = e.fingerprint()
    e.update(**values)
    assert e.fingerprint() != before
    assert -1.0 <= e.root.data <= 1.0


def test_custom_expression_and_controls():
    def square(V, a):
        x = V(a)
        return x * x + x

    e = GraphExplorer(Value, build=square, controls={"a": Slider(-2.0, 2.0, 1.0)})
    assert e.root.data == 2.0 and "grad 3.0000" in texts(e)


def test_static_show_displays_once(capsys):
    assert GraphExplorer(Value).show(static=True) is None


def test_errors():
    with pytest.raises(TypeError, match="value_class"):
        GraphExplorer(Value(1.0))
    with pytest.raises(TypeError, match="build"):
        GraphExplorer(Value, build=3)
    with pytest.raises(TypeError, match="Value-like"):
        GraphExplorer(Value, build=lambda V, a: a, controls={"a": Slider(0.0, 1.0, 0.5)})


def test_training_curves_log_and_redraw():
    curves = TrainingCurves()
    empty = curves.fingerprint()
    curves.show()
    for epoch in range(3):
        curves.log(train_loss=1.0 / (epoch + 1), val_loss=1.2 / (epoch + 1), val_accuracy=0.5)
    assert curves.history["train_loss"] == [1.0, 0.5, 1.0 / 3]
    loss_ax, acc_ax = curves.figure.axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 1
    assert curves.fingerprint() != empty
    with pytest.raises(ValueError, match="finite"):
        curves.log(train_loss=float("nan"))


def test_training_curves_redraw_every_k_calls():
    curves = TrainingCurves(every=2)
    curves.log(train_loss=1.0)
    assert not curves.figure.axes[0].lines  # not redrawn yet
    curves.log(train_loss=0.5)
    assert len(curves.figure.axes[0].lines[0].get_xdata()) == 2
    curves.log(train_loss=0.2)
    curves.refresh()
    assert len(curves.figure.axes[0].lines[0].get_xdata()) == 3
    with pytest.raises(ValueError, match="every"):
        TrainingCurves(every=0)
