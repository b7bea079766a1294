"""The wire between the grader and the student's kernel (dlkit/testing/remote.py).

Both ends run in this process, on a socket pair: the "kernel" serves a namespace from a thread,
the "grader" asks. What is checked is what the grading design rests on: plain data arrives as
real Python and NumPy values, a malformed message is an error and never an object, mutation
and identity survive a call, and no comparison is decided on the kernel's side.
"""

from __future__ import annotations

import json
import socket
import struct
import threading

import numpy as np
import pytest

from dlkit.testing.remote import Frame, Peer, Policy, ProtocolError, Proxy, RemoteError

KERNEL_CODE = """
import numpy as np

def add(x, y):
    return x + y

def scale_in_place(w, lr):
    w -= lr

def same(x):
    return x

def replace_first(params):
    params[0] = (params[0][0] * 2, params[0][1])

def update_dict(state):
    state["m"] += 1.0
    state["t"] = 7

class Value:
    def __init__(self, data):
        self.data = data
        self.grad = 0.0
        self._prev = ()

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data)
        out._prev = (self, other)
        return out

    __rmul__ = __mul__

    def __eq__(self, other):
        return True

    def __lt__(self, other):
        return True

def raises():
    raise ValueError("shapes (2,) and (3,) do not match")

def call_back(f, x):
    return f(x) + 1

def draw(rng):
    return rng.standard_normal(3)

def peek(f):
    return f.__globals__

def peek_attribute(f):
    return f.cache

class Agrees(float):
    def __eq__(self, other):
        return True

def agrees():
    return Agrees(3.0)

class Subclass(np.ndarray):
    pass

def subclass():
    return np.zeros(3).view(Subclass)

def generator():
    yield 1
    yield 2

def next_state(state):
    return type(state)(state.velocity + 1.0)

def own_record():
    from collections import namedtuple

    Point = namedtuple("Point", ["x", "y"])
    return Point(1.0, np.zeros(2))
"""


@pytest.fixture
def grader():
    g_sock, k_sock = socket.socketpair()
    namespace: dict = {}
    exec(KERNEL_CODE, namespace)
    kernel = Peer(k_sock, "k")
    kernel.namespace = namespace

    def serve():
        while True:
            try:
                msg, bufs = kernel.recv()
            except ConnectionError:
                return
            if not kernel.handle(msg, bufs):
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    peer = Peer(g_sock, "g", Policy(permissive=False, attribute_types=(np.random.Generator,)))
    yield peer
    peer.send({"op": "bye", "rid": 0}, [])
    thread.join(5)
    g_sock.close()
    k_sock.close()


def get(peer: Peer, name: str):
    return peer.request("global", name=name)


def test_plain_values_arrive_as_real_values(grader):
    add = get(grader, "add")
    total = add(2.0, 0.5)
    assert type(total) is float and total == 2.5
    assert type(add(2, 3)) is int
    out = add(np.arange(3.0), 1.5)
    assert type(out) is np.ndarray and out.flags.writeable
    assert out.tolist() == [1.5, 2.5, 3.5]
    assert add([1], [2]) == [1, 2] and add((1,), (2,)) == (1, 2)
    assert add("a", "b") == "ab"
    assert type(add(np.float32(1), np.float32(2))) is np.float32
    assert add(1 + 2j, 1j) == 1 + 3j


def test_a_float_subclass_arrives_as_its_value(grader):
    value = get(grader, "agrees")()
    assert type(value) is float and value == 3.0 and value != 4.0


def test_an_array_subclass_stays_in_the_kernel(grader):
    value = get(grader, "subclass")()
    assert isinstance(value, Proxy)
    with pytest.raises(TypeError):
        value < 1  # noqa: B015


def test_mutation_of_an_argument_reaches_the_callers_array(grader):
    w = np.ones(3)
    assert get(grader, "scale_in_place")(w, 0.5) is None
    assert w.tolist() == [0.5, 0.5, 0.5]


def test_returning_an_argument_returns_the_callers_object(grader):
    x = np.zeros(2)
    assert get(grader, "same")(x) is x


def test_a_replaced_element_shows_as_replaced(grader):
    w, b = np.ones(2), np.zeros(2)
    params = [(w, b)]
    get(grader, "replace_first")(params)
    assert params[0][0] is not w and params[0][0].tolist() == [2.0, 2.0]
    assert params[0][1] is b


def test_dicts_are_updated_in_place(grader):
    state = {"m": 1.0}
    get(grader, "update_dict")(state)
    assert state == {"m": 2.0, "t": 7}


def test_student_objects_behind_handles(grader):
    Value = get(grader, "Value")
    x, y = Value(3.0), Value(-2.0)
    out = x * y
    assert isinstance(out, Value) and not isinstance(3.0, Value)
    assert out.data == -6.0
    assert set(map(id, out._prev)) == {id(x), id(y)} and out._prev == (x, y)
    assert (2 * x).data == 6.0
    out.grad = 5.0
    assert out.grad == 5.0


def test_comparisons_are_never_decided_by_the_kernel(grader):
    Value = get(grader, "Value")
    v = Value(1.0)
    assert (v == 3.0) is False and (v != 3.0) is True  # its __eq__ says True: not asked
    with pytest.raises(TypeError):
        v < 3  # noqa: B015
    assert isinstance(v * 2.0, Proxy)  # arithmetic gives a handle, never a chosen number


def test_dunder_attributes_are_not_forwarded(grader):
    v = get(grader, "Value")(1.0)
    with pytest.raises(AttributeError):
        v.__array_interface__  # noqa: B018
    assert np.asarray(3.0).shape == ()


def test_student_exceptions_keep_their_builtin_class(grader):
    with pytest.raises(ValueError, match="do not match") as info:
        get(grader, "raises")()
    assert isinstance(info.value, RemoteError) and info.value.ename == "ValueError"
    assert list(iter(get(grader, "generator")())) == [1, 2]


def test_unknown_names_are_name_errors(grader):
    with pytest.raises(RemoteError) as info:
        get(grader, "no_such_function")
    assert info.value.ename == "NameError"


def test_grader_callables_are_called_back(grader):
    assert get(grader, "call_back")(lambda z: z * 10, 4) == 41


def test_grader_objects_expose_only_what_the_policy_allows(grader):
    draws = get(grader, "draw")(np.random.default_rng(0))
    assert draws.tolist() == np.random.default_rng(0).standard_normal(3).tolist()
    with pytest.raises(RemoteError) as info:
        get(grader, "peek")(lambda: None)  # a function's internals stay in the grader
    assert info.value.ename == "AttributeError"
    with pytest.raises(RemoteError) as info:
        get(grader, "peek_attribute")(lambda: None)
    assert info.value.ename == "PermissionError"


_OPEN: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _close_sockets():
    yield
    while _OPEN:
        _OPEN.pop().close()


def _pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    _OPEN.extend((a, b))
    return a, b


def _peer() -> Peer:
    a, _ = _pair()
    return Peer(a, "g", Policy(permissive=False))


@pytest.mark.parametrize(
    "node, bufs",
    [
        ({"t": "nd", "dtype": "|O", "shape": [1], "b": 0}, [b"\0" * 8]),  # object dtype
        ({"t": "nd", "dtype": "<f8", "shape": [3], "b": 0}, [b"\0" * 8]),  # wrong size
        ({"t": "nd", "dtype": "<f8", "shape": [-1], "b": 0}, [b"\0" * 8]),
        ({"t": "nd", "dtype": "<f8", "shape": [1], "b": 3}, [b"\0" * 8]),  # no such buffer
        ({"t": "f", "v": 1.5}, []),  # a float must be its hex text
        ({"t": "i", "v": "12a"}, []),
        ({"t": "pickle", "v": "gASVAAAA"}, []),
        ({"t": "ref", "side": "g", "id": 99}, []),  # a handle never given out
        ({"t": "same", "k": 0}, []),  # no request to refer to
        ({"t": "type", "v": "os.system"}, []),
        ([1, 2], []),
    ],
)
def test_malformed_values_are_protocol_errors(node, bufs):
    with pytest.raises(ProtocolError):
        _peer().decode(node, bufs, None)


def test_nesting_is_bounded():
    node: dict = {"t": "list", "v": []}
    for _ in range(200):
        node = {"t": "list", "v": [node]}
    with pytest.raises(ProtocolError):
        _peer().decode(node, [], None)


def test_oversized_and_non_json_messages_are_refused():
    a, b = _pair()
    peer = Peer(a, "g")
    b.sendall(struct.pack("<II", 2**31, 0))
    with pytest.raises(ProtocolError):
        peer.recv()
    a, b = _pair()
    peer = Peer(a, "g")
    text = b"[" * 100_000
    b.sendall(struct.pack("<II", len(text), 0) + text)
    with pytest.raises(ProtocolError):
        peer.recv()
    a, b = _pair()
    peer = Peer(a, "g")
    text = json.dumps([1]).encode()
    b.sendall(struct.pack("<II", len(text), 0) + text)
    with pytest.raises(ProtocolError):
        peer.recv()


def test_decoded_arrays_are_base_writable_copies():
    peer = _peer()
    raw = np.arange(6.0).tobytes()
    out = peer.decode({"t": "nd", "dtype": "<f8", "shape": [2, 3], "b": 0}, [raw], Frame())
    assert type(out) is np.ndarray and out.flags.writeable and out.shape == (2, 3)
    out[0, 0] = 9.0
    assert raw == np.arange(6.0).tobytes()


def test_revoked_proxies_refuse_to_work(grader):
    add = get(grader, "add")
    grader.forget()
    with pytest.raises(RuntimeError, match="ended"):
        add(1, 2)


def test_named_tuples_keep_their_fields(grader):
    from dlkit.optim.rules import SGDState

    state = get(grader, "next_state")(SGDState(np.zeros(2)))
    assert type(state) is SGDState and state.velocity.tolist() == [1.0, 1.0]
    point = get(grader, "own_record")()
    assert point.x == 1.0 and point.y.tolist() == [0.0, 0.0] and point == (1.0, point.y)


def test_torch_tensors_travel_as_detached_copies(grader):
    torch = pytest.importorskip("torch")
    add = get(grader, "add")
    x = torch.arange(6, dtype=torch.float32).reshape(2, 3).requires_grad_()
    out = add(x, x)  # the kernel's x + x has a graph; the copy that comes back does not
    assert type(out) is torch.Tensor and out.dtype == torch.float32
    assert out.shape == (2, 3) and out.requires_grad and out.grad_fn is None
    assert out.tolist() == [[0, 2, 4], [6, 8, 10]]
    same = get(grader, "same")
    ints = same(torch.tensor([1, 2], dtype=torch.int64))
    assert ints.dtype == torch.int64 and not ints.requires_grad
    p = same(torch.nn.Parameter(torch.ones(2)))
    assert isinstance(p, torch.nn.Parameter) and p.requires_grad
    frozen = same(torch.nn.Parameter(torch.ones(2), requires_grad=False))
    assert isinstance(frozen, torch.nn.Parameter) and not frozen.requires_grad
    t = torch.zeros(3)
    assert same(t) is not t  # no identity across the boundary
    assert same(torch.ones(2, 2).t()).tolist() == [[1, 1], [1, 1]]  # non-contiguous
    assert same(torch.tensor(2.5)).item() == 2.5 and same(torch.tensor(2.5)).shape == ()


def test_a_tensor_numpy_cannot_hold_stays_behind_a_handle(grader):
    torch = pytest.importorskip("torch")
    t = torch.ones(2, dtype=torch.bfloat16)
    assert get(grader, "same")(t) is t  # sent as a handle, so it comes back as itself


def test_a_malformed_tensor_is_refused():
    pytest.importorskip("torch")
    peer = Peer(socket.socketpair()[0], "g")
    node = {"t": "pt", "dtype": "<i8", "shape": [2], "grad": True, "param": False, "b": 0}
    with pytest.raises(ProtocolError, match="floating or complex"):
        peer.decode(node, [np.zeros(2, np.int64).tobytes()], None)
    with pytest.raises(ProtocolError, match="bytes do not match"):
        peer.decode(dict(node, grad=False), [b"123"], None)
    with pytest.raises(ProtocolError, match="booleans"):
        peer.decode(dict(node, grad=1), [np.zeros(2, np.int64).tobytes()], None)
    with pytest.raises(ProtocolError, match="cannot be sent"):
        peer.decode(dict(node, dtype="<U2", grad=False), [b"\0" * 16], None)


def test_the_grader_may_use_the_kernels_modules(grader):
    torch = pytest.importorskip("torch")
    ktorch = grader.request("import", name="torch")
    assert isinstance(ktorch, Proxy)
    made = ktorch.ones(2, 3)  # made by the kernel's torch, returned by value
    assert type(made) is torch.Tensor and made.tolist() == [[1.0] * 3] * 2
    with pytest.raises(RemoteError):
        grader.request("import", name="os; print(1)")
    with pytest.raises(ModuleNotFoundError):
        grader.request("import", name="no_such_module_here")


def test_the_kernel_may_not_import_in_the_grader():
    g_sock, k_sock = socket.socketpair()
    grader = Peer(g_sock, "g")
    kernel = Peer(k_sock, "k")
    thread = threading.Thread(target=lambda: grader.handle(*grader.recv()), daemon=True)
    thread.start()
    with pytest.raises(PermissionError, match="does not import"):
        kernel.request("import", name="os")
    thread.join(5)


def test_torch_devices_and_dtypes_travel_by_value(grader):
    torch = pytest.importorskip("torch")
    same = get(grader, "same")
    device = same(torch.device("cpu"))
    assert type(device) is torch.device and device == torch.device("cpu")
    assert same(torch.device("cuda:1")) == torch.device("cuda:1")  # a name; no GPU needed
    assert same(torch.float32) is torch.float32 and same(torch.int64) is torch.int64
    moved = get(grader, "add")(torch.ones(2), 0.0)
    assert moved.device == torch.device("cpu")
    peer = Peer(socket.socketpair()[0], "g")
    with pytest.raises(ProtocolError, match="not a torch device"):
        peer.decode({"t": "tdevice", "v": "cuda; rm"}, [], None)
    with pytest.raises(ProtocolError, match="not a torch dtype"):
        peer.decode({"t": "tdtype", "v": "torch.Tensor"}, [], None)
