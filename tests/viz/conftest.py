"""Shared by the widget tests: warnings are errors, and a spy to prove student code is called."""

from __future__ import annotations

import warnings

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
