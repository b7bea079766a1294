"""Wrong answers a student is likely to write for unit 04, and the hint each must get."""

CASES = {
    "Value": [
        (
            "__mul__ overwrites self.grad (= instead of +=)",
            """
class Value:
    def __init__(self, data, _children=(), _op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self._backward = lambda: None
        self.label = label

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += 1.0 * out.grad
            other.grad += 1.0 * out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad = other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1.0 - t * t) * out.grad

        out._backward = _backward
        return out

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def backward(self):
        backward(self)
""",
            "use += for both",
        ),
    ],
    "backward": [
        (
            "calls _backward in the forward (topological) order, not in reverse",
            """
def backward(root):
    order, visited = [], set()

    def visit(node):
        if id(node) not in visited:
            visited.add(id(node))
            for child in node._prev:
                visit(child)
            order.append(node)

    visit(root)
    root.grad = 1.0
    for node in order:
        node._backward()
""",
            "reverse topological order",
        ),
    ],
    "softmax_cross_entropy": [
        (
            "log(softmax) after the max shift: log(0) for a probability that underflows",
            """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    d = p.copy()
    d[np.arange(n), y] -= 1.0
    return loss, d / n
""",
            "log-sum-exp",
        ),
        (
            "no shift at all: exp overflows",
            """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean()
    d = np.exp(log_p)
    d[np.arange(n), y] -= 1.0
    return loss, d / n
""",
            "subtract each row's maximum",
        ),
        (
            "shifted by the row minimum instead of the maximum",
            """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.min(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean()
    d = np.exp(log_p)
    d[np.arange(n), y] -= 1.0
    return loss, d / n
""",
            "maximum",
        ),
        (
            "shifted by the maximum of the whole array, not of each row",
            """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.max()
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean()
    d = np.exp(log_p)
    d[np.arange(n), y] -= 1.0
    return loss, d / n
""",
            "each row's own maximum",
        ),
    ],
}
