"""Two processes, one conversation: how graded tests reach a student's kernel without sharing it.

When a unit is graded, its test cells do not run in the student's kernel. They run in a grader
process (``dlgrade.harness``) that never runs student code and holds dlkit's reference and the
hidden tests; the student's names reach it through :class:`Proxy` objects. This module is the
wire between the two, imported by both sides:

* **Plain data travels by value**: ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``,
  ``bytes``, NumPy arrays (dtype + shape + raw bytes) and scalars of numeric, boolean or
  unicode dtypes, ``list``, ``tuple``, ``dict``, ``slice``, ``Ellipsis``, ``range``, dtypes and
  NumPy scalar types. A torch tensor (dense, of a NumPy dtype) travels as a detached copy on the
  CPU that keeps its dtype, shape, ``requires_grad`` and whether it is an ``nn.Parameter``; it
  keeps no autograd graph, no device and no identity (an in-place change to a tensor argument
  does not come back). A ``torch.device`` and a ``torch.dtype`` travel by value too.
  A message is JSON plus raw buffers, **never pickle**, and
  :func:`decode` is strict: a number arrives as a real ``float``/``int``, an array as a base,
  writable ``ndarray``, and anything malformed raises :class:`ProtocolError`.
* **Everything else stays where it lives**, behind a handle: a student's function, class or
  ``Value`` is a :class:`Proxy` on the grader's side, whose calls, attributes and arithmetic are
  forwarded; a grader's callable (a reference that :func:`~dlkit.testing.using` substitutes, a
  lambda, a random generator) is a :class:`Proxy` in the kernel, subject to the grader's
  :class:`Policy`. The grader may also ask for one of the kernel's modules by name (the
  ``import`` request): a test builds kernel-side objects (a torch optimizer over the student's
  parameters, a data loader) with the kernel's own torch, through a proxy of that module.
* **Mutation and identity survive the trip**: every container or array decoded from a request
  is remembered; after a call the receiver sends back each argument's state, with objects that
  are still the same marked as such, so ``w -= lr * dw`` updates the caller's own array, a
  replaced list element shows as replaced, and ``return x`` returns the caller's ``x``.
* **Comparisons are never forwarded**: ``==`` between a proxy and anything is identity, ``<``
  is a ``TypeError``, and arithmetic on a student object always yields another proxy, never a
  plain number the kernel chose. A verdict can only be computed from decoded data.

The kernel side is :func:`serve`, which the grading executor starts in the student's kernel for
the duration of one test cell.
"""

from __future__ import annotations

import builtins
import dataclasses
import importlib
import json
import math
import os
import re
import socket
import struct
import sys
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "Peer",
    "Policy",
    "ProtocolError",
    "Proxy",
    "RemoteError",
    "connect",
    "serve",
]

MAX_MESSAGE_BYTES = 256 * 2**20  # one message, buffers included
MAX_DEPTH = 64  # nesting of containers in one value
MAX_STRING = 16 * 2**20
MAX_INT_DIGITS = 4000
SOCKET_NAME = "grader.sock"

_INT = re.compile(rf"-?\d{{1,{MAX_INT_DIGITS}}}")
_DTYPE = re.compile(r"^[<>|=]?(?:b1|[iu][1248]|f[248]|c(?:8|16)|U\d{1,6})$")
_SCALAR_TYPES = {
    name: getattr(np, name)
    for name in (
        "bool_ int8 int16 int32 int64 uint8 uint16 uint32 uint64 "
        "float16 float32 float64 complex64 complex128"
    ).split()
}
_BUILTIN_TYPES = {"int": int, "float": float, "bool": bool, "complex": complex, "str": str}
_TORCH_DEVICE = re.compile(r"(?:cpu|cuda|mps|meta)(?::\d{1,3})?")
_TORCH_DTYPES = {
    f"torch.{name}"
    for name in "bool uint8 int8 int16 int32 int64 float16 bfloat16 float32 float64 "
    "complex64 complex128".split()
}
_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*){0,8}")
# Binary operators forwarded on proxies; their results always stay behind a handle.
_BINARY = (
    "add sub mul truediv floordiv mod pow matmul and or xor lshift rshift "
    "radd rsub rmul rtruediv rfloordiv rmod rpow rmatmul rand ror rxor rlshift rrshift"
).split()
_UNARY = ("neg", "pos", "abs", "invert")
# Conversions: forwarded, and the answer must have exactly this type.
_CONVERSIONS = {
    "bool": bool,
    "float": float,
    "int": int,
    "index": int,
    "complex": complex,
    "len": int,
    "str": str,
    "repr": str,
    "instancecheck": bool,
}


class ProtocolError(RuntimeError):
    """A message that is not what the protocol allows (malformed, too large, too deep)."""


class RemoteError(Exception):
    """An exception raised on the other side; ``ename``, ``evalue`` and ``remote_traceback``
    (text lines) say what it was. Builtin exception names are also raised as a subclass of that
    builtin, so ``except ValueError`` catches a student's ``ValueError``."""

    ename = "Exception"
    evalue = ""
    remote_traceback: list[str] = []  # noqa: RUF012

    def __str__(self) -> str:
        return self.evalue


_REMOTE_CLASSES: dict[str, type] = {}


def remote_exception(ename: str, evalue: str, tb: list[str]) -> RemoteError:
    """A :class:`RemoteError` for ``ename``; for a builtin ``Exception`` subclass also an
    instance of that builtin (``StopIteration`` from a remote iterator ends a loop)."""
    base = getattr(builtins, ename, None) if ename.isidentifier() else None
    if not (isinstance(base, type) and issubclass(base, Exception)) or issubclass(
        base, RemoteError
    ):
        base = None
    key = ename if base is not None else ""
    cls = _REMOTE_CLASSES.get(key)
    if cls is None:
        bases = (RemoteError, base) if base is not None else (RemoteError,)
        cls = type(ename if base is not None else "RemoteError", bases, {})
        _REMOTE_CLASSES[key] = cls
    exc = cls(evalue)
    exc.ename, exc.evalue, exc.remote_traceback = ename, evalue, tb
    return exc


class Policy:
    """What the other side may do with the objects this side exposes by handle.

    The kernel's policy (the default) allows everything: it is the student's own process. The
    grader's allows calling the callables it handed over and reading or writing the public
    attributes of instances of the classes in ``attribute_types`` (random generators) or of
    classes defined in ``attribute_packages`` (dlkit's autograd values, hyperparameters,
    search spaces); never a dunder attribute, never a function's or a class's internals."""

    def __init__(
        self,
        permissive: bool = True,
        attribute_types: tuple[type, ...] = (),
        attribute_packages: tuple[str, ...] = (),
    ):
        self.permissive = permissive
        self.attribute_types = attribute_types
        self.attribute_packages = attribute_packages

    def open_attributes(self, obj: Any) -> bool:
        """Whether the public attributes of ``obj`` may be used: an instance (not a class, not
        a function) of a listed type or of a class defined in a listed package."""
        if isinstance(obj, self.attribute_types):
            return True
        if isinstance(obj, type):  # a class: its attributes lead to its code
            return False
        module = getattr(type(obj), "__module__", "") or ""
        return any(module == p or module.startswith(p + ".") for p in self.attribute_packages)

    def check(self, obj: Any, op: str, name: str | None = None) -> None:
        if self.permissive:
            return
        if op == "call":
            if callable(obj):
                return
            raise PermissionError(f"a {type(obj).__name__} object handed to you is not callable")
        if op in ("getattr", "setattr") and (name is None or name.startswith("__")):
            raise PermissionError(f"attribute {name!r} of a grader object is not available")
        if self.open_attributes(obj):
            return
        raise PermissionError(
            f"the grader's {type(obj).__name__} object only passes through your code: "
            f"'{op}{'' if name is None else ' ' + name}' is not available on it"
        )


def _hex(x: float) -> str:
    return float.hex(x)


def _unhex(text: Any) -> float:
    if not isinstance(text, str) or len(text) > 40:
        raise ProtocolError("a float must be sent as its hex text")
    try:
        return float.fromhex(text)
    except ValueError:
        raise ProtocolError(f"not a float: {text[:40]!r}") from None


def _array_bytes(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


class Frame:
    """The containers and arrays of one request, in the order they were encoded/decoded."""

    def __init__(self):
        self.objects: list[Any] = []
        self.arrays: dict[int, bytes] = {}  # index -> bytes as decoded (to see changes)


class Peer:
    """One end of the conversation: encodes, decodes, sends, receives and serves requests.

    ``side`` is ``"g"`` (grader) or ``"k"`` (kernel); handles name the side whose table holds
    the object. ``strict`` (the grader) enforces the result types of conversions and that
    arithmetic on a proxy returns a proxy."""

    def __init__(self, sock: socket.socket, side: str, policy: Policy | None = None):
        self.sock = sock
        self.side = side
        self.other = "k" if side == "g" else "g"
        self.strict = side == "g"
        self.policy = policy or Policy()
        self.table: dict[int, Any] = {}
        self._ids: dict[int, int] = {}
        self._proxies: dict[int, Proxy] = {}
        self._next = 1
        self._rid = 0
        self.closed = False
        self.namespace: dict[str, Any] | None = None  # the kernel's globals
        self._swaps: dict[int, tuple[str, Any]] = {}

    # --- handles ---------------------------------------------------------------------------
    def expose(self, obj: Any) -> int:
        key = id(obj)
        hid = self._ids.get(key)
        if hid is None or self.table.get(hid) is not obj:
            hid, self._next = self._next, self._next + 1
            self.table[hid] = obj
            self._ids[key] = hid
        return hid

    def proxy(self, hid: int, cls: str, is_callable: bool) -> Proxy:
        found = self._proxies.get(hid)
        if found is None:
            found = Proxy(self, hid, cls, is_callable)
            self._proxies[hid] = found
        return found

    def forget(self) -> None:
        """Drop every handle both ways (the end of one test cell)."""
        self.table.clear()
        self._ids.clear()
        for p in self._proxies.values():
            object.__setattr__(p, "_peer", None)
        self._proxies.clear()

    # --- encoding --------------------------------------------------------------------------
    def encode(self, obj: Any, bufs: list[bytes], frame: Frame | None, memo=None, depth=0):
        """``obj`` as a JSON-able node (+ raw buffers appended to ``bufs``). ``frame`` collects
        the containers and arrays encoded (a request's); ``memo`` maps ``id`` of objects decoded
        from a request to their index (a reply's after-state)."""
        if depth > MAX_DEPTH:
            raise ProtocolError(f"a value nested more than {MAX_DEPTH} levels deep")
        if memo is not None and id(obj) in memo:
            k = memo[id(obj)]
            node = {"t": "same", "k": k}
            if isinstance(obj, np.ndarray):
                if frame is not None and frame.arrays.get(k) == _array_bytes(obj):
                    return node
            if isinstance(obj, (list, tuple, dict, np.ndarray)):
                node["v"] = self.encode_value(obj, bufs, None, memo, depth, skip_memo=True)
            return node
        return self.encode_value(obj, bufs, frame, memo, depth)

    def encode_value(self, obj, bufs, frame, memo, depth, skip_memo=False):
        t = type(obj)
        if obj is None or t is bool:
            return obj
        if t is int:
            return {"t": "i", "v": str(obj)}
        if t is float:
            return {"t": "f", "v": _hex(obj)}
        if t is complex:
            return {"t": "c", "v": [_hex(obj.real), _hex(obj.imag)]}
        if t is str:
            return obj
        if t is bytes:
            bufs.append(obj)
            return {"t": "bytes", "b": len(bufs) - 1}
        if obj is Ellipsis:
            return {"t": "..."}
        if t is slice:
            return {
                "t": "slice",
                "v": [
                    self.encode(x, bufs, None, None, depth + 1)
                    for x in (obj.start, obj.stop, obj.step)
                ],
            }
        if t is range:
            return {"t": "range", "v": [str(obj.start), str(obj.stop), str(obj.step)]}
        if isinstance(obj, np.generic) and _DTYPE.match(obj.dtype.str):
            bufs.append(obj.tobytes())
            return {"t": "npscalar", "dtype": obj.dtype.str, "b": len(bufs) - 1}
        if t is np.dtype and _DTYPE.match(obj.str):
            return {"t": "dtype", "v": obj.str}
        if isinstance(obj, type):
            for name, typ in (*_SCALAR_TYPES.items(), *_BUILTIN_TYPES.items()):
                if obj is typ:
                    return {"t": "type", "v": name}
        if t is np.ndarray and _DTYPE.match(obj.dtype.str):
            k = self._register(frame, obj, skip_memo)
            data = _array_bytes(obj)
            if frame is not None and k is not None:
                frame.arrays[k] = data
            bufs.append(data)
            return {"t": "nd", "dtype": obj.dtype.str, "shape": list(obj.shape), "b": len(bufs) - 1}
        if t in (list, tuple):
            self._register(frame, obj, skip_memo)
            items = [self.encode(x, bufs, frame, memo, depth + 1) for x in obj]
            return {"t": "list" if t is list else "tuple", "v": items}
        if t is dict:
            self._register(frame, obj, skip_memo)
            pairs = [
                [
                    self.encode(k, bufs, frame, memo, depth + 1),
                    self.encode(v, bufs, frame, memo, depth + 1),
                ]
                for k, v in obj.items()
            ]
            return {"t": "dict", "v": pairs}
        if _dlkit_dataclass(t):
            items = [
                [f.name, self.encode(getattr(obj, f.name), bufs, frame, memo, depth + 1)]
                for f in dataclasses.fields(obj)
                if f.init
            ]
            return {"t": "dc", "cls": f"{t.__module__}:{t.__qualname__}", "v": items}
        if isinstance(obj, Proxy) and obj._peer is self:
            return {"t": "ref", "side": self.other, "id": obj._hid}
        if isinstance(obj, tuple) and _namedtuple_fields(t) is not None:
            self._register(frame, obj, skip_memo)
            items = [self.encode(x, bufs, frame, memo, depth + 1) for x in obj]
            return {
                "t": "ntuple",
                "cls": f"{t.__module__}:{t.__qualname__}",
                "fields": list(t._fields),
                "v": items,
            }
        torch = sys.modules.get("torch")
        if torch is not None and t is torch.device:
            return {"t": "tdevice", "v": str(obj)}
        if torch is not None and t is torch.dtype and str(obj) in _TORCH_DTYPES:
            return {"t": "tdtype", "v": str(obj)}
        if torch is not None and isinstance(t, type) and issubclass(t, torch.Tensor):
            node = _tensor_node(torch, obj, bufs)
            if node is not None:
                return node
        if not self.strict and isinstance(obj, (float, int, str)) and t is not bool:
            # a subclass of a number or string (the kernel side): its plain value
            plain = float if isinstance(obj, float) else int if isinstance(obj, int) else str
            return self.encode_value(plain.__new__(plain, obj), bufs, frame, memo, depth)
        hid = self.expose(obj)
        return {
            "t": "ref",
            "side": self.side,
            "id": hid,
            "cls": _type_name(obj),
            "callable": callable(obj),
        }

    @staticmethod
    def _register(frame, obj, skip_memo):
        if frame is None or skip_memo:
            return None
        frame.objects.append(obj)
        return len(frame.objects) - 1

    # --- decoding --------------------------------------------------------------------------
    def decode(
        self,
        node: Any,
        bufs: list[bytes],
        frame: Frame | None,
        sent: Frame | None = None,
        depth: int = 0,
    ) -> Any:
        """The value of ``node``. ``frame`` records decoded containers and arrays (a request);
        ``sent`` is the frame of the request being answered (resolves ``same`` nodes)."""
        if depth > MAX_DEPTH:
            raise ProtocolError(f"a value nested more than {MAX_DEPTH} levels deep")
        if node is None or type(node) is bool:
            return node
        if type(node) is str:
            if len(node) > MAX_STRING:
                raise ProtocolError("a string longer than the limit")
            return str(node)
        if type(node) is not dict:
            raise ProtocolError(f"unexpected {type(node).__name__} in a message")
        t = node.get("t")
        if t == "i":
            text = node.get("v")
            if not isinstance(text, str) or not _INT.fullmatch(text):
                raise ProtocolError("an integer must be sent as its decimal digits")
            return int(text)
        if t == "f":
            return _unhex(node.get("v"))
        if t == "c":
            v = node.get("v")
            if not isinstance(v, list) or len(v) != 2:
                raise ProtocolError("a complex number is two floats")
            return complex(_unhex(v[0]), _unhex(v[1]))
        if t == "bytes":
            return bytes(self._buf(bufs, node))
        if t == "...":
            return Ellipsis
        if t == "slice":
            v = self._list(node, 3)
            return slice(*(self.decode(x, bufs, None, None, depth + 1) for x in v))
        if t == "range":
            v = self._list(node, 3)
            return range(*(self.decode({"t": "i", "v": x}, bufs, None) for x in v))
        if t == "npscalar":
            dtype = self._dtype(node.get("dtype"))
            raw = self._buf(bufs, node)
            if len(raw) != dtype.itemsize:
                raise ProtocolError("a NumPy scalar of the wrong size")
            return np.frombuffer(raw, dtype=dtype)[0]
        if t == "dtype":
            return self._dtype(node.get("v"))
        if t == "type":
            name = node.get("v")
            found = _SCALAR_TYPES.get(name) or _BUILTIN_TYPES.get(name)
            if found is None:
                raise ProtocolError(f"not a type that can be sent: {str(name)[:40]!r}")
            return found
        if t == "nd":
            return self._array(node, bufs, frame)
        if t == "pt":
            return self._tensor(node, bufs)
        if t == "tdevice":
            text = node.get("v")
            if not isinstance(text, str) or not _TORCH_DEVICE.fullmatch(text):
                raise ProtocolError(f"not a torch device: {str(text)[:40]!r}")
            return importlib.import_module("torch").device(text)
        if t == "tdtype":
            text = node.get("v")
            if text not in _TORCH_DTYPES:
                raise ProtocolError(f"not a torch dtype that can be sent: {str(text)[:40]!r}")
            return getattr(importlib.import_module("torch"), text.removeprefix("torch."))
        if t == "ntuple":
            cls = _namedtuple_class(node.get("cls"), node.get("fields"))
            items = self._list(node)
            if len(items) != len(cls._fields):
                raise ProtocolError("a named tuple with the wrong number of values")
            index = self._record(frame, None)
            out_n = cls(*(self.decode(x, bufs, frame, sent, depth + 1) for x in items))
            if index is not None:
                frame.objects[index] = out_n
            return out_n
        if t == "dc":
            cls = _dlkit_class(node.get("cls"))
            values = {}
            for pair in self._list(node):
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                    raise ProtocolError("a malformed dataclass field")
                values[pair[0]] = self.decode(pair[1], bufs, frame, sent, depth + 1)
            try:
                return cls(**values)
            except Exception as exc:
                raise ProtocolError(f"{cls.__name__} refused the values sent: {exc}") from None
        if t in ("list", "tuple"):
            items = self._list(node)
            if t == "list":
                out: list = []
                self._record(frame, out)
                out.extend(self.decode(x, bufs, frame, sent, depth + 1) for x in items)
                return out
            index = self._record(frame, None)
            out_t = tuple(self.decode(x, bufs, frame, sent, depth + 1) for x in items)
            if index is not None:
                frame.objects[index] = out_t
            return out_t
        if t == "dict":
            out_d: dict = {}
            self._record(frame, out_d)
            for pair in self._list(node):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ProtocolError("a dict item is a [key, value] pair")
                key = self.decode(pair[0], bufs, frame, sent, depth + 1)
                try:
                    out_d[key] = self.decode(pair[1], bufs, frame, sent, depth + 1)
                except TypeError:
                    raise ProtocolError("a dict key that cannot be hashed") from None
            return out_d
        if t == "same":
            return self._same(node, bufs, sent, depth)
        if t == "ref":
            hid = node.get("id")
            if type(hid) is not int:
                raise ProtocolError("a handle id is an integer")
            if node.get("side") == self.side:
                if hid not in self.table:
                    raise ProtocolError("a handle that this side never gave out (or revoked)")
                return self.table[hid]
            if node.get("side") != self.other:
                raise ProtocolError("a handle of an unknown side")
            cls = node.get("cls")
            return self.proxy(
                hid, cls if isinstance(cls, str) else "object", node.get("callable") is True
            )
        raise ProtocolError(f"unknown value tag {str(t)[:20]!r}")

    @staticmethod
    def _record(frame, obj):
        if frame is None:
            return None
        frame.objects.append(obj)
        return len(frame.objects) - 1

    @staticmethod
    def _list(node, n=None):
        v = node.get("v")
        if not isinstance(v, list) or (n is not None and len(v) != n):
            raise ProtocolError("malformed container")
        return v

    @staticmethod
    def _buf(bufs, node) -> bytes:
        b = node.get("b")
        if type(b) is not int or not 0 <= b < len(bufs):
            raise ProtocolError("a buffer index out of range")
        return bufs[b]

    @staticmethod
    def _dtype(text) -> np.dtype:
        if not isinstance(text, str) or not _DTYPE.match(text):
            raise ProtocolError(f"dtype {str(text)[:20]!r} cannot be sent")
        return np.dtype(text)

    def _array(self, node, bufs, frame) -> np.ndarray:
        dtype = self._dtype(node.get("dtype"))
        shape = node.get("shape")
        if (
            not isinstance(shape, list)
            or len(shape) > 32
            or not all(type(n) is int and n >= 0 for n in shape)
        ):
            raise ProtocolError("an array shape is a list of non-negative integers")
        raw = self._buf(bufs, node)
        if math.prod(shape) * dtype.itemsize != len(raw):
            raise ProtocolError("an array's bytes do not match its shape and dtype")
        out = np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)
        if frame is not None:
            frame.objects.append(out)
            frame.arrays[len(frame.objects) - 1] = raw
        return out

    def _tensor(self, node, bufs) -> Any:
        array = self._array(node, bufs, None)
        if array.dtype.kind not in "biufc":
            raise ProtocolError(f"a tensor of dtype {array.dtype.str!r} cannot be sent")
        grad, param = node.get("grad"), node.get("param")
        if type(grad) is not bool or type(param) is not bool:
            raise ProtocolError("a tensor's grad and param flags are booleans")
        if grad and array.dtype.kind not in "fc":
            raise ProtocolError("only a floating or complex tensor can require gradients")
        torch = importlib.import_module("torch")
        out = torch.from_numpy(array)
        if param:
            return torch.nn.Parameter(out, requires_grad=grad)
        return out.requires_grad_(grad)

    def _same(self, node, bufs, sent: Frame | None, depth):
        k = node.get("k")
        if sent is None or type(k) is not int or not 0 <= k < len(sent.objects):
            raise ProtocolError("a reference to an object of the request that does not exist")
        orig = sent.objects[k]
        if "v" not in node:
            return orig
        new = self.decode(node["v"], bufs, None, sent, depth + 1)
        if isinstance(orig, np.ndarray):
            if not isinstance(new, np.ndarray):
                raise ProtocolError("an array came back as something else")
            if new.shape == orig.shape and new.dtype == orig.dtype and orig.flags.writeable:
                np.copyto(orig, new)
                return orig
            return new
        if isinstance(orig, list) and isinstance(new, list):
            orig[:] = new
            return orig
        if isinstance(orig, dict) and isinstance(new, dict):
            orig.clear()
            orig.update(new)
            return orig
        if isinstance(orig, tuple) and isinstance(new, tuple):
            return (
                orig
                if len(orig) == len(new) and all(a is b for a, b in zip(orig, new, strict=True))
                else new
            )
        raise ProtocolError("an object of the request came back as another kind")

    # --- messages --------------------------------------------------------------------------
    def send(self, header: dict, bufs: list[bytes]) -> None:
        text = json.dumps(header, separators=(",", ":")).encode()
        size = len(text) + sum(len(b) for b in bufs)
        if size > MAX_MESSAGE_BYTES:
            raise ProtocolError(
                f"a message of {size / 2**20:.0f} MiB is over the limit of "
                f"{MAX_MESSAGE_BYTES // 2**20} MiB"
            )
        parts = [struct.pack("<II", len(text), len(bufs)), text]
        for b in bufs:
            parts += [struct.pack("<Q", len(b)), b]
        try:
            self.sock.sendall(b"".join(parts))
        except OSError as exc:
            self.closed = True
            raise ConnectionError(f"the other process is gone ({exc})") from None

    def _recv_exact(self, n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            try:
                chunk = self.sock.recv(min(n - got, 1 << 20))
            except OSError as exc:
                chunk, err = b"", exc
            else:
                err = None
            if not chunk:
                self.closed = True
                raise ConnectionError(
                    "the other process closed the connection" + (f" ({err})" if err else "")
                )
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def recv(self) -> tuple[dict, list[bytes]]:
        head_len, nbufs = struct.unpack("<II", self._recv_exact(8))
        if head_len > MAX_MESSAGE_BYTES or nbufs > 1_000_000:
            raise ProtocolError("a message header over the limit")
        total = head_len
        try:
            header = json.loads(self._recv_exact(head_len))
        except (ValueError, RecursionError):
            raise ProtocolError("a message header that is not JSON") from None
        bufs = []
        for _ in range(nbufs):
            (n,) = struct.unpack("<Q", self._recv_exact(8))
            total += n
            if total > MAX_MESSAGE_BYTES:
                raise ProtocolError("a message over the size limit")
            bufs.append(self._recv_exact(n))
        if not isinstance(header, dict):
            raise ProtocolError("a message header must be a JSON object")
        return header, bufs

    # --- requests --------------------------------------------------------------------------
    def request(
        self, op: str, args: tuple = (), kwargs: dict | None = None, *, keep: bool = False, **fields
    ) -> Any:
        """Send request ``op`` and serve the other side's requests until its answer arrives;
        return the decoded answer (or raise the other side's exception)."""
        if self.closed:
            raise ConnectionError("the connection to the other process is closed")
        self._rid += 1
        rid = self._rid
        bufs: list[bytes] = []
        frame = Frame()
        header = dict(fields, op=op, rid=rid, keep=keep)
        if self.strict:
            header["ctx"] = _context()
        header["args"] = [self.encode(a, bufs, frame) for a in args]
        header["kwargs"] = [[k, self.encode(v, bufs, frame)] for k, v in (kwargs or {}).items()]
        self.send(header, bufs)
        while True:
            msg, rbufs = self.recv()
            if "op" in msg:
                self.handle(msg, rbufs)
                continue
            if msg.get("re") != rid:
                raise ProtocolError("an answer to a request that was not made")
            after = msg.get("after", [])
            if not isinstance(after, list):
                raise ProtocolError("malformed after-state")
            for node in after:
                self.decode(node, rbufs, None, frame)
            if msg.get("ok") is True:
                return self.decode(msg.get("value"), rbufs, None, frame)
            exc = msg.get("exc")
            if not isinstance(exc, dict):
                raise ProtocolError("a failed answer without its exception")
            raise remote_exception(
                _text(exc.get("ename"), 200) or "Exception",
                _text(exc.get("evalue"), 20_000),
                [
                    _text(line, 20_000)
                    for line in (exc.get("tb") or [])[-40:]
                    if isinstance(line, str)
                ],
            )

    def handle(self, msg: dict, bufs: list[bytes]) -> bool:
        """Serve one request of the other side; False when it said goodbye."""
        op, rid = msg.get("op"), msg.get("rid")
        if op == "bye":
            return False
        frame = Frame()
        reply: dict[str, Any] = {"re": rid}
        out_bufs: list[bytes] = []
        try:
            args = [self.decode(x, bufs, frame) for x in _seq(msg.get("args"))]
            kwargs = {}
            for pair in _seq(msg.get("kwargs")):
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                    raise ProtocolError("malformed keyword arguments")
                kwargs[pair[0]] = self.decode(pair[1], bufs, frame)
            with _applied(msg.get("ctx") if not self.strict else None):
                value = self.perform(op, msg, args, kwargs)
            memo = {id(obj): k for k, obj in enumerate(frame.objects) if obj is not None}
            reply["after"] = [
                self.encode(obj, out_bufs, frame, memo)
                for obj in (*args, *kwargs.values())
                if isinstance(obj, (list, tuple, dict, np.ndarray))
            ]
            if msg.get("keep") is True:
                reply["value"] = {
                    "t": "ref",
                    "side": self.side,
                    "id": self.expose(value),
                    "cls": _type_name(value),
                    "callable": callable(value),
                }
            else:
                reply["value"] = self.encode(value, out_bufs, frame, memo)
            reply["ok"] = True
        except BaseException as exc:  # everything, KeyboardInterrupt included, goes back
            if self.side == "g" and not isinstance(exc, Exception):
                raise  # the grader's own interrupt or exit ends the test, not the request
            out_bufs = []
            reply = {"re": rid, "ok": False, "exc": self.describe(exc)}
        self.send(reply, out_bufs)
        return True

    def describe(self, exc: BaseException) -> dict:
        ename = type(exc).__name__
        if isinstance(exc, RemoteError):
            return {"ename": exc.ename, "evalue": exc.evalue, "tb": exc.remote_traceback}
        try:
            evalue = str(exc)
        except Exception:
            evalue = "(the message could not be shown)"
        return {"ename": ename, "evalue": evalue[:20_000], "tb": self.format_tb(exc)}

    def format_tb(self, exc: BaseException) -> list[str]:
        if self.side == "g":  # the grader never shows its own frames (hidden tests)
            return []
        try:
            shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
            if shell is not None:
                lines = shell.InteractiveTB.structured_traceback(type(exc), exc, exc.__traceback__)
            else:
                lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        except Exception:
            lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        keep = [line for line in lines if __file__ not in line]
        return [line[:20_000] for line in keep[-25:]]

    def perform(self, op: str, msg: dict, args: list, kwargs: dict) -> Any:
        """Carry out request ``op`` (of the other side) on this side's objects."""
        if op == "global":
            name = msg.get("name")
            if self.namespace is None or not isinstance(name, str):
                raise PermissionError("no namespace is served here")
            if name not in self.namespace:
                raise NameError(f"name {name!r} is not defined")
            return self.namespace[name]
        if op == "swap":
            name = msg.get("name")
            if self.namespace is None or not isinstance(name, str) or len(args) != 1:
                raise PermissionError("no namespace is served here")
            token = self.expose(object())
            self._swaps[token] = (name, self.namespace.get(name, _MISSING))
            self.namespace[name] = args[0]
            return token
        if op == "import":
            name = msg.get("name")
            if self.strict:
                raise PermissionError("the grader does not import modules for the kernel")
            if not isinstance(name, str) or not _MODULE_NAME.fullmatch(name):
                raise ProtocolError("a module name is a dotted Python identifier")
            return importlib.import_module(name)
        if op == "unswap":
            token = msg.get("token")
            name, old = self._swaps.pop(token) if token in self._swaps else (None, None)
            if name is not None:
                if old is _MISSING:
                    self.namespace.pop(name, None)
                else:
                    self.namespace[name] = old
            return None
        hid = msg.get("h")
        if type(hid) is not int or hid not in self.table:
            raise ProtocolError("a request on a handle that does not exist (or was revoked)")
        obj = self.table[hid]
        name = msg.get("name")
        self.policy.check(obj, op, name if isinstance(name, str) else None)
        if op == "call":
            return obj(*args, **kwargs)
        if op == "getattr":
            return getattr(obj, name)
        if op == "setattr":
            setattr(obj, name, args[0])
            return None
        if op == "op":
            return _apply(obj, name, args)
        raise ProtocolError(f"unknown request {str(op)[:20]!r}")


_MISSING = object()
_NAMEDTUPLES: dict[tuple, type] = {}


def _tensor_node(torch: Any, obj: Any, bufs: list[bytes]) -> dict | None:
    """A torch tensor as a value node (a detached CPU copy), or None when it cannot travel by
    value (sparse, quantized, meta, or a dtype NumPy lacks such as bfloat16): then it goes by
    handle like any other object."""
    try:
        if obj.layout is not torch.strided or obj.is_quantized or obj.device.type == "meta":
            return None
        data = obj.detach().cpu().resolve_conj().resolve_neg().contiguous().numpy()
    except (RuntimeError, TypeError, ValueError):
        return None
    if not _DTYPE.match(data.dtype.str) or data.dtype.kind not in "biufc":
        return None
    bufs.append(data.tobytes())
    return {
        "t": "pt",
        "dtype": data.dtype.str,
        "shape": list(data.shape),
        "grad": bool(obj.requires_grad),
        "param": isinstance(obj, torch.nn.Parameter),
        "b": len(bufs) - 1,
    }


def _dlkit_dataclass(cls: type) -> bool:
    """Whether instances of ``cls`` travel by value: a dataclass defined in dlkit (both sides
    have the class: hyperparameters, search spaces and results)."""
    module = getattr(cls, "__module__", "") or ""
    return (module == "dlkit" or module.startswith("dlkit.")) and dataclasses.is_dataclass(cls)


def _dlkit_class(name: Any) -> type:
    if not isinstance(name, str) or len(name) > 300:
        raise ProtocolError("a malformed class name")
    module, _, qualname = name.partition(":")
    if not (module == "dlkit" or module.startswith("dlkit.")):
        raise ProtocolError(f"only dlkit's dataclasses travel by value, not {name[:80]!r}")
    try:
        found: Any = importlib.import_module(module)
    except ImportError:
        raise ProtocolError(f"no module {module[:80]!r} here") from None
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if not (isinstance(found, type) and _dlkit_dataclass(found)):
        raise ProtocolError(f"{name[:80]!r} is not one of dlkit's dataclasses")
    return found


def _namedtuple_fields(cls: type) -> tuple | None:
    fields = getattr(cls, "_fields", None)
    if isinstance(fields, tuple) and all(isinstance(f, str) for f in fields):
        return fields
    return None


def _namedtuple_class(name: Any, fields: Any) -> type:
    """The named tuple class for a decoded value: dlkit's own class when ``name`` is one of
    dlkit's named tuples with these fields, otherwise a plain named tuple of that shape."""
    if not (
        isinstance(name, str)
        and len(name) < 300
        and isinstance(fields, list)
        and len(fields) < 256
        and all(isinstance(f, str) and f.isidentifier() and not f.startswith("_") for f in fields)
    ):
        raise ProtocolError("a malformed named tuple")
    module, _, qualname = name.partition(":")
    if module == "dlkit" or module.startswith("dlkit."):
        found = sys.modules.get(module)
        for part in qualname.split(".") if found is not None else ():
            found = getattr(found, part, None)
        if (
            isinstance(found, type)
            and issubclass(found, tuple)
            and _namedtuple_fields(found) == tuple(fields)
        ):
            return found
    key = (qualname, tuple(fields))
    if key not in _NAMEDTUPLES:
        import collections

        label = qualname.rsplit(".", 1)[-1]
        _NAMEDTUPLES[key] = collections.namedtuple(
            label if label.isidentifier() else "Record", fields
        )
    return _NAMEDTUPLES[key]


def _context() -> dict:
    """The state a test sets around a call and expects the call to run under: NumPy's error
    handling (``np.errstate``) and the warning filters of the builtin warning classes
    (``warnings.simplefilter("error")``), so "this overflows" is caught as it would be in one
    process."""
    filters = []
    for action, message, category, module, lineno in warnings.filters[:50]:
        if getattr(builtins, getattr(category, "__name__", ""), None) is not category:
            continue
        filters.append(
            [
                action,
                getattr(message, "pattern", None),
                category.__name__,
                getattr(module, "pattern", None),
                lineno,
            ]
        )
    return {"err": np.geterr(), "warn": filters}


class _applied:
    """Apply a request's context (see :func:`_context`) around one request, leniently."""

    def __init__(self, ctx):
        self.ctx = ctx if isinstance(ctx, dict) else None

    def __enter__(self):
        if self.ctx is None:
            return self
        self._warn = warnings.catch_warnings()
        self._warn.__enter__()
        entries = []
        for item in self.ctx.get("warn") or []:
            try:
                action, message, category, module, lineno = item
                cls = getattr(builtins, category)
                if not (isinstance(cls, type) and issubclass(cls, Warning)):
                    continue
                entries.append(
                    (
                        action,
                        re.compile(message, re.I) if message else None,
                        cls,
                        re.compile(module) if module else None,
                        int(lineno),
                    )
                )
            except (TypeError, ValueError, AttributeError, re.error):
                continue
        warnings.filters[:] = entries
        warnings._filters_mutated()
        err = self.ctx.get("err")
        self._err = np.errstate(**err) if isinstance(err, dict) else None
        if self._err is not None:
            try:
                self._err.__enter__()
            except (TypeError, ValueError):
                self._err = None
        return self

    def __exit__(self, *exc):
        if self.ctx is None:
            return False
        if self._err is not None:
            self._err.__exit__(*exc)
        self._warn.__exit__(*exc)
        return False


def _seq(value) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProtocolError("malformed arguments")
    return value


def _text(value, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _type_name(obj: Any) -> str:
    try:
        return str(type(obj).__name__)[:100]
    except Exception:
        return "object"


def _apply(obj: Any, name: str, args: list) -> Any:
    """The operator ``name`` of ``obj`` (the side that owns it)."""
    if name in _BINARY:
        (other,) = args
        method = getattr(type(obj), f"__{name}__", None)
        result = NotImplemented if method is None else method(obj, other)
        if result is NotImplemented:
            raise TypeError(f"unsupported operand for {name}: {_type_name(obj)}")
        return result
    if name in _UNARY:
        return getattr(type(obj), f"__{name}__")(obj)
    if name == "getitem":
        return obj[args[0]]
    if name == "setitem":
        obj[args[0]] = args[1]
        return None
    if name == "delitem":
        del obj[args[0]]
        return None
    if name == "iter":
        return iter(obj)
    if name == "next":
        return next(obj)
    if name == "array":
        return np.asarray(obj) if not args or args[0] is None else np.asarray(obj, args[0])
    if name == "instancecheck":
        return isinstance(args[0], obj)
    if name in _CONVERSIONS:
        return {
            "bool": bool,
            "float": float,
            "int": int,
            "index": _index,
            "complex": complex,
            "len": len,
            "str": str,
            "repr": repr,
        }[name](obj)
    if name == "call_method":  # obj.<args[0]>(*args[1])
        return getattr(obj, args[0])(*args[1])
    raise ProtocolError(f"unknown operator {str(name)[:20]!r}")


def _index(obj):
    return obj.__index__()


class Proxy:
    """An object of the other process: calls, attributes, items and arithmetic are forwarded.

    Comparisons are not: ``==`` is identity (the same remote object gives the same proxy) and
    ordering raises ``TypeError``, so no verdict can be decided by the other side's code.
    Conversions (``bool``, ``float``, ``len``, ``np.asarray``, ``str``, ...) are forwarded and
    their answer must be of exactly the expected type. Dunder attributes are never forwarded
    (NumPy's ``__array_interface__`` and similar probes find nothing)."""

    __slots__ = ("_peer", "_hid", "_cls", "_callable", "__weakref__")

    def __init__(self, peer: Peer, hid: int, cls: str, is_callable: bool):
        object.__setattr__(self, "_peer", peer)
        object.__setattr__(self, "_hid", hid)
        object.__setattr__(self, "_cls", cls)
        object.__setattr__(self, "_callable", is_callable)

    def _ask(self, op: str, args=(), kwargs=None, *, keep=False, want=None, **fields):
        peer = object.__getattribute__(self, "_peer")
        if peer is None:
            raise RuntimeError(
                f"this {object.__getattribute__(self, '_cls')} object belonged to a test cell "
                "that has ended"
            )
        value = peer.request(
            op, args, kwargs, keep=keep, h=object.__getattribute__(self, "_hid"), **fields
        )
        if want is not None and peer.strict and type(value) is not want:
            raise TypeError(
                f"expected a {want.__name__}, but the student's object gave a "
                f"{type(value).__name__}"
            )
        if keep and peer.strict and not isinstance(value, Proxy):
            raise ProtocolError("the kernel answered an operator with plain data")
        return value

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._ask("getattr", name=name)

    def __setattr__(self, name: str, value) -> None:
        self._ask("setattr", (value,), name=name)

    def __call__(self, *args, **kwargs):
        return self._ask("call", args, kwargs)

    def __getitem__(self, key):
        return self._ask("op", (key,), name="getitem")

    def __setitem__(self, key, value):
        self._ask("op", (key, value), name="setitem")

    def __delitem__(self, key):
        self._ask("op", (key,), name="delitem")

    def __iter__(self):
        return self._ask("op", name="iter", keep=True)

    def __next__(self):
        return self._ask("op", name="next")

    def __len__(self):
        return self._ask("op", name="len", want=int)

    def __bool__(self):
        return self._ask("op", name="bool", want=bool)

    def __float__(self):
        return self._ask("op", name="float", want=float)

    def __int__(self):
        return self._ask("op", name="int", want=int)

    def __index__(self):
        return self._ask("op", name="index", want=int)

    def __complex__(self):
        return self._ask("op", name="complex", want=complex)

    def __array__(self, dtype=None, copy=None):
        value = self._ask("op", (dtype,), name="array")
        if type(value) is not np.ndarray:
            raise TypeError("the student's object did not convert to a NumPy array")
        return value

    def __instancecheck__(self, obj) -> bool:
        return self._ask("op", (obj,), name="instancecheck", want=bool)

    def __str__(self):
        return self._ask("op", name="str", want=str)

    def __repr__(self):
        try:
            return self._ask("op", name="repr", want=str)
        except Exception:
            return f"<{object.__getattribute__(self, '_cls')} object of the other process>"

    def __format__(self, spec):
        return format(str(self), spec)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __hash__(self):
        return object.__hash__(self)

    def __lt__(self, other):
        return NotImplemented

    __le__ = __gt__ = __ge__ = __lt__

    def __dir__(self):
        return []


def _make_binary(name: str):
    def method(self, other):
        return self._ask("op", (other,), name=name, keep=True)

    method.__name__ = f"__{name}__"
    return method


def _make_unary(name: str):
    def method(self):
        return self._ask("op", name=name, keep=True)

    method.__name__ = f"__{name}__"
    return method


for _name in _BINARY:
    setattr(Proxy, f"__{_name}__", _make_binary(_name))
for _name in _UNARY:
    setattr(Proxy, f"__{_name}__", _make_unary(_name))


# --- the kernel side ---------------------------------------------------------------------------
def socket_path(connection_file: str | None = None, name: str = SOCKET_NAME) -> str:
    """Where the grader listens: ``name`` beside the kernel's connection file."""
    if connection_file is None:
        from ipykernel import get_connection_file

        connection_file = get_connection_file()
    return os.path.join(os.path.dirname(os.path.abspath(connection_file)), name)


def connect(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    return sock


def serve(
    path: str = SOCKET_NAME, namespace: dict | None = None, on_end: Callable[[], None] | None = None
) -> None:
    """Answer the grader's requests for one test cell (called in the student's kernel).

    ``path`` is the grader's socket; a relative one is beside the kernel's connection file
    (the folder that the sandbox shares with the grader)."""
    if not os.path.isabs(path):
        path = socket_path(name=path)
    if namespace is None:
        namespace = sys.modules["__main__"].__dict__
        try:
            from IPython import get_ipython

            shell = get_ipython()
            if shell is not None:
                namespace = shell.user_ns
        except ImportError:
            pass
    sock = connect(path)
    peer = Peer(sock, "k")
    peer.namespace = namespace
    try:
        while True:
            try:
                msg, bufs = peer.recv()
            except ConnectionError:
                break
            if "op" not in msg:
                continue
            if not peer.handle(msg, bufs):
                break
    finally:
        for name, old in list(peer._swaps.values()):  # restore what a test substituted
            if old is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = old
        peer.forget()
        sock.close()
        if on_end is not None:
            on_end()
