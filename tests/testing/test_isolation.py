"""dlkit.testing.isolation: `using` swaps names for one block and always puts them back."""

from __future__ import annotations

import pytest

from dlkit.testing import using


def student_relu(x):
    return "student"


def reference_relu(x):
    return "reference"


def test_names_are_swapped_inside_and_restored_after():
    ns = {"relu": student_relu, "other": 1}

    def mlp(x):  # looks `relu` up in ns when it runs, as a notebook function does
        return ns["relu"](x)

    with using(ns, relu=reference_relu):
        assert mlp(0) == "reference"
        assert ns["other"] == 1
    assert ns["relu"] is student_relu
    assert mlp(0) == "student"


def test_names_that_did_not_exist_are_removed_again():
    ns = {"a": 1}
    with using(ns, helper=reference_relu):
        assert ns["helper"] is reference_relu
    assert ns == {"a": 1}


def test_names_are_restored_when_the_body_raises():
    ns = {"relu": student_relu}
    with pytest.raises(KeyError), using(ns, relu=reference_relu, extra=2):
        raise KeyError("the graded cell failed")
    assert ns == {"relu": student_relu}


def test_real_function_globals_are_swapped():
    # the way notebooks use it: globals() of the module where the function lives
    g = {}
    exec("def relu(x):\n    return 'student'\ndef mlp(x):\n    return relu(x)\n", g)
    with using(g, relu=reference_relu):
        assert g["mlp"](0) == "reference"
    assert g["mlp"](0) == "student"


def test_nested_uses_unwind_in_order():
    ns = {"f": 1}
    with using(ns, f=2):
        with using(ns, f=3):
            assert ns["f"] == 3
        assert ns["f"] == 2
    assert ns["f"] == 1


def test_namespace_must_be_a_mapping():
    with pytest.raises(TypeError, match=r"namespace must be a dict such as globals\(\); got list"):
        with using([], relu=reference_relu):
            pass
