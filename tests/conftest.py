"""Shared fixtures: hypothesis profiles, an optional torch, a seeded rng and the devices."""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# HYPOTHESIS_PROFILE=dev for more, random examples while writing code; ci (the default) is
# derandomized and has no deadline, so a slow shared runner never fails a test by timing.
settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@functools.cache
def devices() -> list[str]:
    """``["cpu"]``, plus ``"cuda"`` when torch sees a GPU: the devices parity tests run on."""
    try:
        import torch
    except ImportError:
        return ["cpu"]
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # torch is imported only when a collected test asks for a device
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", devices())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `-m "not torch"` deselects everything that needs torch
    for item in items:
        if "torch" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.torch)


@pytest.fixture
def torch():
    """The torch module; the test is skipped cleanly where torch is not installed."""
    module = pytest.importorskip("torch")
    module.set_num_threads(1)  # pytest-xdist already uses every core
    return module


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed: every test sees the same numbers every run."""
    return np.random.default_rng(20240531)
