"""Shared by the widget tests: warnings are errors, a spy to prove student code is called, and a
stand-in for IPython's display that records what was shown and how it was updated."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    """A widget that floods warnings on an extreme control value fails its test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


class Spy:
    """Wraps a function (the student's, in a notebook) and records the arguments of each call.

    Array arguments are copied, so a later in-place change cannot rewrite the record.
    ``calls`` holds the positional arguments of each call, ``kwargs`` its keyword arguments.
    """

    def __init__(self, fn):
        self.fn, self.calls, self.kwargs = fn, [], []

    def __call__(self, *args, **kwargs):
        self.calls.append(tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args))
        self.kwargs.append(
            {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        )
        return self.fn(*args, **kwargs)


class DisplayHandle:
    """What ``display(..., display_id=True)`` returns: records each ``update`` and its keywords."""

    def __init__(self) -> None:
        self.updates: list[Any] = []
        self.update_kwargs: list[dict[str, Any]] = []

    def update(self, obj: Any, **kwargs: Any) -> None:
        self.updates.append(obj)
        self.update_kwargs.append(kwargs)


@pytest.fixture
def displayed(monkeypatch):
    """``(shown, handles)``: what IPython's display was given, and the handle of each display
    that asked for one (``display_id=True``)."""
    import IPython.display

    shown: list[Any] = []
    handles: list[DisplayHandle] = []

    def display(*objs: Any, **kwargs: Any) -> DisplayHandle | None:
        shown.extend(objs)
        if kwargs.get("display_id"):
            handles.append(DisplayHandle())
            return handles[-1]
        return None

    monkeypatch.setattr(IPython.display, "display", display)
    return shown, handles
