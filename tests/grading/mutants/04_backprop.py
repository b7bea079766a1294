"""Plausible wrong answers for unit 04; each must lose its own exercise's points, only those."""

_VALUE = """
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
MUL_BODY

        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
TANH_BODY

        out._backward = _backward
        return out

    def __pow__(self, k):
        out = Value(self.data**k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other**-1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return (-self) + other

    def __rtruediv__(self, other):
        return self**-1 * other

    def backward(self):
        backward(self)
"""

_MUL_OK = """            self.grad += other.data * out.grad
            other.grad += self.data * out.grad"""
_TANH_OK = """            self.grad += (1.0 - t * t) * out.grad"""


def _value(mul: str = _MUL_OK, tanh: str = _TANH_OK) -> str:
    return _VALUE.replace("MUL_BODY", mul).replace("TANH_BODY", tanh)


_STEP_HEAD = """
def train_step(params, X, y, lr):
    last = len(params) - 1
    h, caches = X, []
    for i, (w, b) in enumerate(params):
        z, cache = F.affine_forward(h, w, b)
        caches.append((cache, z))
        h = z if i == last else F.relu(z)
    loss, dout = softmax_cross_entropy(h, y)
"""

MUTANTS = {
    "Value": {
        "__mul__ with the local gradients swapped": _value(
            mul="""            self.grad += self.data * out.grad
            other.grad += other.data * out.grad"""
        ),
        "__mul__ assigns (=) instead of accumulating (+=)": _value(
            mul="""            self.grad = other.data * out.grad
            other.grad = self.data * out.grad"""
        ),
        "__mul__ forgets the upstream gradient": _value(
            mul="""            self.grad += other.data
            other.grad += self.data"""
        ),
        "tanh's local gradient uses the input: 1 - x**2": _value(
            tanh="""            self.grad += (1.0 - self.data**2) * out.grad"""
        ),
        "tanh's local gradient is tanh itself": _value(
            tanh="""            self.grad += t * out.grad"""
        ),
        "tanh assigns (=) instead of accumulating (+=)": _value(
            tanh="""            self.grad = (1.0 - t * t) * out.grad"""
        ),
    },
    "backward": {
        "no topological order: breadth-first from the root": """
def backward(root):
    root.grad = 1.0
    queue, seen = [root], set()
    while queue:
        node = queue.pop(0)
        if id(node) in seen:
            continue
        seen.add(id(node))
        node._backward()
        queue.extend(node._prev)
""",
        "topological order, but not reversed (leaves first)": """
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
        "shared nodes visited once per path": """
def backward(root):
    order = []

    def visit(node):
        for child in node._prev:
            visit(child)
        order.append(node)

    visit(root)
    root.grad = 1.0
    for node in reversed(order):
        node._backward()
""",
        "forgets the seed root.grad = 1": """
def backward(root):
    order, visited = [], set()

    def visit(node):
        if id(node) not in visited:
            visited.add(id(node))
            for child in node._prev:
                visit(child)
            order.append(node)

    visit(root)
    for node in reversed(order):
        node._backward()
""",
    },
    "affine_backward": {
        "dw = dout.T @ x (transposed)": """
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, dout.T @ x, dout.sum(axis=0)
""",
        "dw averaged over the batch instead of summed": """
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout / x.shape[0], dout.sum(axis=0)
""",
        "db summed over the wrong axis": """
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=1)
""",
        "dx without the transpose (dout @ w)": """
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w, x.T @ dout, dout.sum(axis=0)
""",
        "db as the mean over the batch": """
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.mean(axis=0)
""",
    },
    "softmax_cross_entropy": {
        "gradient without 1/N": """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    d = p.copy()
    d[np.arange(n), y] -= 1
    return loss, d
""",
        "no max shift: overflows for large logits": """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    d = p.copy()
    d[np.arange(n), y] -= 1
    return loss, d / n
""",
        "log of a shifted softmax: log(0) for very wrong classes": """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    d = p.copy()
    d[np.arange(n), y] -= 1
    return loss, d / n
""",
        "summed loss instead of the mean": """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].sum()
    d = np.exp(log_p)
    d[np.arange(n), y] -= 1
    return loss, d / n
""",
        "shifted by the row minimum: exp overflows": """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.min(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean()
    d = np.exp(log_p)
    d[np.arange(n), y] -= 1
    return loss, d / n
""",
        "shifted by the maximum of the whole batch, not of each row": """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.max()
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean()
    d = np.exp(log_p)
    d[np.arange(n), y] -= 1
    return loss, d / n
""",
        "gradient p / N: forgets the one-hot": """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean()
    return loss, np.exp(log_p) / n
""",
    },
    "numerical_gradient": {
        "one-sided difference": """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=np.float64)
    base = f(x)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + h
        grad[idx] = (f(x) - base) / h
        x[idx] = old
    return grad
""",
        "does not restore x": """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=np.float64)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = f(x)
        x[idx] = old - h
        minus = f(x)
        grad[idx] = (plus - minus) / (2 * h)
    return grad
""",
        "divides by h instead of 2h": """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=np.float64)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = f(x)
        x[idx] = old - h
        minus = f(x)
        x[idx] = old
        grad[idx] = (plus - minus) / h
    return grad
""",
        "ignores the h argument (fixed step)": """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=np.float64)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + 1e-5
        plus = f(x)
        x[idx] = old - 1e-5
        minus = f(x)
        x[idx] = old
        grad[idx] = (plus - minus) / 2e-5
    return grad
""",
    },
    "train_step": {
        "+ instead of - in the update (gradient ascent)": _STEP_HEAD
        + """
    for i in range(last, -1, -1):
        cache, z = caches[i]
        if i != last:
            dout = F.relu_backward(dout, z)
        dout, dw, db = affine_backward(dout, cache)
        w, b = params[i]
        w += lr * dw
        b += lr * db
    return float(loss)
""",
        "forgets the ReLU in the backward pass": _STEP_HEAD
        + """
    for i in range(last, -1, -1):
        cache, z = caches[i]
        dout, dw, db = affine_backward(dout, cache)
        w, b = params[i]
        w -= lr * dw
        b -= lr * db
    return float(loss)
""",
        "rebinds w = w - lr * dw: params never change": _STEP_HEAD
        + """
    for i in range(last, -1, -1):
        cache, z = caches[i]
        if i != last:
            dout = F.relu_backward(dout, z)
        dout, dw, db = affine_backward(dout, cache)
        w, b = params[i]
        w = w - lr * dw
        b = b - lr * db
    return float(loss)
""",
        "applies ReLU's backward to the output layer too": _STEP_HEAD
        + """
    for i in range(last, -1, -1):
        cache, z = caches[i]
        dout = F.relu_backward(dout, z)
        dout, dw, db = affine_backward(dout, cache)
        w, b = params[i]
        w -= lr * dw
        b -= lr * db
    return float(loss)
""",
        "updates only the weights, never the biases": _STEP_HEAD
        + """
    for i in range(last, -1, -1):
        cache, z = caches[i]
        if i != last:
            dout = F.relu_backward(dout, z)
        dout, dw, db = affine_backward(dout, cache)
        w, b = params[i]
        w -= lr * dw
    return float(loss)
""",
    },
}
