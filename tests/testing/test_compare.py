"""dlkit.testing.compare: assert_close passes right answers and explains wrong ones."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dlkit.testing import CheckFailed, assert_close, passed


def fails(match: str):
    return pytest.raises(CheckFailed, match=match)


def test_equal_and_nearly_equal_arrays_pass(rng):
    e = rng.standard_normal((3, 4))
    assert_close(e.copy(), e)
    assert_close(e * (1 + 1e-8), e)
    assert_close(e.tolist(), e)  # a list of numbers is accepted
    assert_close(2.0, np.array(2.0))
    assert_close(np.float64(2.0), np.array(2.0))
    assert_close(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))  # NaN where NaN is expected


def test_check_failed_is_an_assertion_error():
    # so pytest, nbgrader and plain `assert`-based graders all see a failed check
    assert issubclass(CheckFailed, AssertionError)


def test_tolerances_are_used(rng):
    e = np.ones(3)
    with fails("values differ"):
        assert_close(e + 1e-3, e)
    assert_close(e + 1e-3, e, rtol=1e-2)
    assert_close(e + 1e-3, e, atol=1e-2)


def test_none_suggests_a_missing_return():
    with fails(r"my_fn is not right yet\.\n.*it is None: did you forget the `return`"):
        assert_close(None, np.ones(3), name="my_fn")


def test_tuple_where_an_array_is_expected():
    with fails(r"it is a tuple of 2 items, but a single array is expected"):
        assert_close((np.ones(3), None), np.ones(3))


def test_wrong_type():
    with fails(r"it is a str, but an array is expected"):
        assert_close("0.5", np.ones(3))
    with fails(r"it is a dict, but an array is expected"):
        assert_close({"a": 1}, np.ones(3))


def test_wrong_kind_numpy_vs_torch(torch):
    with fails(r"it is a NumPy array, but a torch tensor on cpu is expected: keep the array"):
        assert_close(np.ones(3), torch.ones(3))
    with fails(r"it is a torch tensor on cpu, but a NumPy array is expected"):
        assert_close(torch.ones(3), np.ones(3))
    assert_close(torch.ones(3), np.ones(3), check_kind=False)


def test_wrong_device(torch):
    with fails(r"it is a torch tensor on cpu, but a torch tensor on meta is expected"):
        assert_close(torch.ones(3), torch.ones(3, device="meta"))


def test_torch_values_are_compared(device, torch):
    e = torch.arange(6.0, device=device).reshape(2, 3)
    assert_close(e.clone(), e)
    with fails(r"worst at index \(1, 2\): got 6, expected 5"):
        assert_close(e + torch.tensor([0.0, 0, 0, 0, 0, 1], device=device).reshape(2, 3), e)


@pytest.mark.parametrize(
    ("actual", "expected", "hint"),
    [
        ((3, 2), (2, 3), r"transposed: did you forget a \.T"),
        ((4, 1), (4,), r"extra axis of size 1: drop keepdims=True"),
        ((4,), (4, 1), r"one axis fewer than expected: .*forget keepdims=True"),
        ((4, 2), (4, 3), r"did you reduce or index along the wrong axis"),
        ((), (2, 3), r"you returned a single number"),
    ],
)
def test_shape_mismatch_names_both_shapes_and_hints(actual, expected, hint):
    message = rf"its shape is {re.escape(str(actual))}, but the expected shape is " + re.escape(
        str(expected)
    )
    with fails(message + r"\n  hint: .*" + hint):
        assert_close(np.zeros(actual), np.zeros(expected))


def test_dtype_is_checked_only_when_asked(torch):
    assert_close(np.ones(3, np.float32), np.ones(3))
    with fails(r"its dtype is float32, but float64 is expected"):
        assert_close(np.ones(3, np.float32), np.ones(3), check_dtype=True)
    # the same dtype in two libraries is the same dtype
    assert_close(torch.ones(3), np.ones(3, np.float32), check_dtype=True, check_kind=False)


def test_value_failure_reports_the_worst_element():
    expected = np.zeros((3, 4))
    actual = expected.copy()
    actual[0, 1], actual[2, 3] = 0.5, -2.0
    with fails(r"shape \(3, 4\) is right, but 2 of 12 values differ") as info:
        assert_close(actual, expected)
    assert "worst at index (2, 3): got -2, expected 0 (abs error 2" in str(info.value)


def test_value_failure_of_a_scalar():
    with fails(r"worst: got 3, expected 2 \(abs error 1, relative 0\.5\)"):
        assert_close(np.array(3.0), np.array(2.0))


def test_nan_is_reported_with_a_stability_hint():
    expected = np.array([1.0, 2.0, 3.0])
    with fails(r"worst at index \(1,\): got nan, expected 2.*\n.*hint: your output has NaN"):
        assert_close(np.array([1.0, np.nan, 3.0]), expected)
    with fails(r"hint: your output has inf"):
        assert_close(np.array([1.0, np.inf, 3.0]), expected)


def test_sign_hint(rng):
    e = rng.standard_normal(5)
    with fails(r"hint: your output has the opposite sign"):
        assert_close(-e, e)


def test_missing_or_doubled_1_over_n_hints(rng):
    e = rng.standard_normal((4, 3))
    with fails(r"4x \(the batch size N\) too large: did you forget to divide by N"):
        assert_close(4 * e, e, batch_size=4)
    with fails(r"4x \(the batch size N\) too small"):
        assert_close(e / 4, e, batch_size=4)
    with fails(r"too large and has the opposite sign"):
        assert_close(-4 * e, e, batch_size=4)
    with fails(r"exactly 4 times the expected one"):  # no batch size: a generic factor
        assert_close(4 * e, e)


def test_transpose_hint_for_square_outputs(rng):
    e = rng.standard_normal((3, 3))
    with fails(r"hint: your output is the transpose of the expected one"):
        assert_close(e.T, e)


def test_complement_hint(rng):
    p = rng.uniform(0.1, 0.9, 4)
    with fails(r"hint: your output equals 1 - expected"):
        assert_close(1 - p, p)


def test_alternatives_name_the_known_mistake(rng):
    x = rng.standard_normal((3, 4))
    right = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    wrong_axis = np.exp(x) / np.exp(x).sum(axis=0, keepdims=True)
    with fails(r"hint: softmax over the wrong axis"):
        assert_close(wrong_axis, right, alternatives={"softmax over the wrong axis": wrong_axis})


def test_unrelated_wrong_values_get_no_misleading_hint(rng):
    e = rng.standard_normal((3, 4))
    with pytest.raises(CheckFailed) as info:
        assert_close(rng.standard_normal((3, 4)), e, batch_size=3)
    assert "hint" not in str(info.value)


def test_passed_prints_one_line(capsys):
    passed("sigmoid matches the reference")
    assert capsys.readouterr().out == "\N{CHECK MARK} sigmoid matches the reference\n"
