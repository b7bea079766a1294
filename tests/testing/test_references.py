"""dlkit.references: the table of each exercise's references, and the notebook warning."""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from dlkit import functional as F
from dlkit import references as R

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "solutions").glob("0[0-8]_*/0[0-8]_*.ipynb"))


def _answer_ids(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return [
        c["metadata"]["nbgrader"]["grade_id"]
        for c in cells
        if c["cell_type"] == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")
    ]


def test_every_graded_exercise_of_units_00_to_08_has_an_entry():
    assert len(NOTEBOOKS) == 9
    for path in NOTEBOOKS:
        unit = path.parent.name
        assert unit in R.REFERENCES, unit
        ids = _answer_ids(path)
        assert ids, path
        missing = set(ids) - set(R.REFERENCES[unit])
        assert not missing, f"{unit}: answer cells without a table entry: {sorted(missing)}"
        stale = set(R.REFERENCES[unit]) - set(ids)
        assert not stale, f"{unit}: table entries without an answer cell: {sorted(stale)}"


def test_every_listed_name_is_a_real_def_or_class():
    for unit, table in R.REFERENCES.items():
        for exercise, names in table.items():
            assert isinstance(names, tuple), (unit, exercise)
            for name in names:
                assert R.resolve(name) is not None
                module, qualname = R.definition_site(name)  # raises if not redactable
                assert module.startswith("dlkit.") and "<locals>" not in qualname


def test_bad_names_and_units_are_explained():
    with pytest.raises(ValueError, match="unit must be one of"):
        R.exercises_of("01_perceptrons")
    with pytest.raises(ValueError, match="dotted dlkit name"):
        R.resolve("numpy.exp")
    with pytest.raises(ValueError, match="has no attribute 'nope'"):
        R.resolve("dlkit.functional.nope")
    with pytest.raises(ValueError, match="list the kernel it calls"):
        R.definition_site("dlkit.autograd.nn_functions.Sigmoid")  # made by a factory


# -- the notebook warning ---------------------------------------------------------------------
CELL = """
from dlkit import functional as F
from dlkit.autograd import Value

def sigmoid(z):
    return F.sigmoid(z)

def logistic(z):
    return F.sigmoid(z)

def helper(z):
    return F.sigmoid(z)

def sigmoid2(z):
    return helper(z)

class Mine:
    def sigmoid(self, z):
        return F.sigmoid(z)

top = lambda z: F.sigmoid(z)
at_top_level = F.sigmoid
"""


def _cell(filename: str) -> dict:
    namespace: dict = {}
    exec(compile(CELL, filename, "exec"), namespace)
    return namespace


@pytest.fixture
def armed():
    R.install_warnings()
    try:
        yield
    finally:
        R.uninstall_warnings()


def _warnings_of(fn, *args) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(*args)
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("filename", ["/tmp/ipykernel_4242/123abc.py", "<ipython-input-3-f00>"])
def test_an_answer_calling_its_own_reference_warns_once(armed, filename):
    ns = _cell(filename)
    z = np.linspace(-2, 2, 5)
    assert _warnings_of(ns["top"], z) == []  # test cells call references in lambdas
    assert _warnings_of(ns["at_top_level"], z) == []  # and at the top level of a cell
    assert _warnings_of(ns["logistic"], z) == []  # another exercise's helper may use it
    (text,) = _warnings_of(ns["sigmoid"], z)
    assert "your sigmoid calls dlkit's reference dlkit.functional.sigmoid" in text
    assert "raises ReferenceUnavailable when 01_perceptron is graded" in text
    assert "must compute the answer itself" in text
    assert _warnings_of(ns["sigmoid"], z) == []  # once per exercise per kernel
    np.testing.assert_allclose(ns["sigmoid"](z), 1 / (1 + np.exp(-z)))  # still computes


def test_a_reference_a_few_frames_down_warns(armed):
    ns = _cell("/tmp/ipykernel_1/a.py")
    z = np.zeros(3)
    assert _warnings_of(ns["helper"], z) == []
    assert len(_warnings_of(ns["Mine"]().sigmoid, z)) == 1  # a method named like the exercise


def test_a_class_exercise_calling_the_reference_class_warns(armed):
    from dlkit.autograd import Value as RefValue

    code = "class Value:\n    def __init__(self, x):\n        self.inner = RefValue(x)\n"
    student = {"RefValue": RefValue}
    exec(compile(code, "/tmp/ipykernel_1/c.py", "exec"), student)
    (text,) = _warnings_of(student["Value"], 1.0)
    assert "your Value calls dlkit's reference dlkit.autograd.Value" in text
    assert _warnings_of(RefValue, 2.0) == []  # the test cells' own use


def test_code_outside_notebooks_never_warns(armed):
    ns = _cell(str(REPO / "some_module.py"))
    assert _warnings_of(ns["sigmoid"], np.zeros(2)) == []


def test_uninstall_restores_the_functions_exactly():
    code, signature = F.sigmoid.__code__, inspect.signature(F.sigmoid)
    defaults = F.binary_cross_entropy.__kwdefaults__
    assert R.install_warnings() > 50
    assert F.sigmoid.__code__ is not code
    assert inspect.signature(F.sigmoid) == signature  # help() shows the real arguments
    assert F.binary_cross_entropy(np.zeros(2), np.ones(2), from_logits=True)[0] > 0
    R.uninstall_warnings()
    assert F.sigmoid.__code__ is code and "__signature__" not in vars(F.sigmoid)
    assert F.binary_cross_entropy.__kwdefaults__ == defaults


def test_outside_ipython_nothing_is_armed():
    assert R.arm_notebook() is False
    assert "_dlkit_reference" not in (F.sigmoid.__kwdefaults__ or {})
