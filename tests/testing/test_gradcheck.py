"""dlkit.testing.gradcheck: right gradients pass, wrong ones fail and say where."""

from __future__ import annotations

import numpy as np
import pytest

from dlkit.testing import (
    CheckFailed,
    check_directional,
    check_gradient,
    check_layer_gradients,
    numerical_gradient,
)


def cubic(x):
    """L = sum(x^3) / 3 has dL/dx = x^2."""
    return np.sum(x**3) / 3


def square_forward(x, w):
    return x * w, (x, w)


def square_backward(dout, cache):
    x, w = cache
    return dout * w, dout * x


def test_numerical_gradient_of_a_known_function(rng):
    x = rng.standard_normal((3, 2))
    x0 = x.copy()
    np.testing.assert_allclose(numerical_gradient(cubic, x), x**2, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(x, x0)  # perturbed in place, then restored exactly


def test_numerical_gradient_needs_a_scalar(rng):
    with pytest.raises(ValueError, match=r"f\(x\) must return a scalar; got shape \(3,\)"):
        numerical_gradient(lambda x: x * 2, rng.standard_normal(3))


def test_right_gradient_passes_both_checks(rng):
    x = rng.standard_normal((4, 3))
    check_gradient(cubic, x, x**2)
    check_directional(cubic, x, x**2, rng=rng)


def test_wrong_element_is_reported_with_its_index(rng):
    x = rng.standard_normal((4, 3))
    grad = x**2
    grad[2, 1] += 0.5
    with pytest.raises(
        CheckFailed,
        match=r"dx does not match the numerical gradient at 1 of 12 elements\.\n"
        r"  worst at index \(2, 1\): analytic .*, numerical ",
    ):
        check_gradient(cubic, x, grad, name="dx")


def test_directional_check_catches_a_wrong_gradient(rng):
    x = rng.standard_normal((10, 10))
    with pytest.raises(CheckFailed, match=r"dW fails the directional check: .*<dW, v> = "):
        check_directional(cubic, x, 2 * x**2, rng=rng, name="dW")


@pytest.mark.parametrize("check", [check_gradient, check_directional])
def test_missing_or_misshapen_gradient(check, rng):
    kw = {"rng": rng} if check is check_directional else {}
    x = rng.standard_normal((2, 3))
    with pytest.raises(CheckFailed, match=r"dx is None: did your backward pass forget"):
        check(cubic, x, None, name="dx", **kw)
    with pytest.raises(CheckFailed, match=r"dx has shape \(3, 2\) but must match .*\(2, 3\)"):
        check(cubic, x, (x**2).T, name="dx", **kw)


@pytest.mark.parametrize("check", [check_gradient, check_directional])
def test_float32_is_refused_with_the_reason(check, rng):
    kw = {"rng": rng} if check is check_directional else {}
    x = rng.standard_normal(3).astype(np.float32)
    with pytest.raises(TypeError, match=r"x must be float64 for a gradient check .*got float32"):
        check(cubic, x, x**2, **kw)


def test_directional_check_needs_a_generator(rng):
    x = rng.standard_normal(3)
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        check_directional(cubic, x, x**2, rng=0)


def test_gradient_checks_work_on_float64_tensors(torch, rng):
    x = torch.tensor(rng.standard_normal((3, 2)), dtype=torch.float64)

    def f(t):
        return (t**3).sum() / 3

    check_gradient(f, x, x**2)
    check_directional(f, x, x**2, rng=rng)
    with pytest.raises(CheckFailed):
        check_gradient(f, x, 2 * x**2)
    with pytest.raises(TypeError, match=r"must be float64"):
        check_gradient(f, x.float(), x**2)


@pytest.mark.parametrize("elementwise", [True, False])
def test_layer_gradients_pass_for_a_right_backward(elementwise, rng):
    inputs = {"x": rng.standard_normal((3, 4)), "w": rng.standard_normal((3, 4))}
    check_layer_gradients(square_forward, square_backward, inputs, rng=rng, elementwise=elementwise)


@pytest.mark.parametrize("elementwise", [True, False])
def test_layer_gradients_name_the_wrong_one(elementwise, rng):
    inputs = {"x": rng.standard_normal((3, 4)), "w": rng.standard_normal((3, 4))}

    def swapped_backward(dout, cache):
        dx, dw = square_backward(dout, cache)
        return dx, -dw

    with pytest.raises(CheckFailed, match=r"^dw "):
        check_layer_gradients(
            square_forward, swapped_backward, inputs, rng=rng, elementwise=elementwise
        )


def test_layer_gradients_count_the_returned_gradients(rng):
    inputs = {"x": rng.standard_normal(3), "w": rng.standard_normal(3)}
    with pytest.raises(CheckFailed, match=r"backward must return 2 gradient\(s\) \(dx, dw\).*got"):
        check_layer_gradients(square_forward, lambda dout, cache: dout, inputs, rng=rng)
    with pytest.raises(CheckFailed, match=r"got tuple of length 3"):
        check_layer_gradients(
            square_forward, lambda dout, cache: (dout, dout, dout), inputs, rng=rng
        )


def test_layer_gradients_pass_keyword_arguments_and_single_outputs(rng):
    def forward(x, scale):
        return scale * x, None

    def backward(dout, cache):
        return 3.0 * dout  # one input: a bare array is fine

    check_layer_gradients(forward, backward, {"x": rng.standard_normal(4)}, rng=rng, scale=3.0)
    with pytest.raises(CheckFailed):
        check_layer_gradients(forward, backward, {"x": rng.standard_normal(4)}, rng=rng, scale=2.0)


def test_layer_gradients_refuse_float32_inputs(rng):
    inputs = {"x": rng.standard_normal(3), "w": rng.standard_normal(3).astype(np.float32)}
    with pytest.raises(TypeError, match=r"w must be float64"):
        check_layer_gradients(square_forward, square_backward, inputs, rng=rng)
