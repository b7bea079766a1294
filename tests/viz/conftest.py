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
    """

    def __init__(self, fn):
        self.fn, self.calls = fn, []

    def __call__(self, *args, **kwargs):
        self.calls.append(tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args))
        return self.fn(*args, **kwargs)
