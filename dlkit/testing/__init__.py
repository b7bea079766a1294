"""The checks that the course's graded tests call (and dlkit's own test suite).

One copy, shared by pytest, the visible tests in the notebooks and nbgrader's hidden tests:

* :func:`assert_close` compares arrays and explains a failure (shape, kind, device, worst
  element, misconception hints).
* :func:`check_gradient`, :func:`check_directional` and :func:`check_layer_gradients` verify
  backward passes against finite differences in float64.
* :func:`using` grades one exercise at a time: inside it, names the exercise depends on are
  swapped for the reference, so one mistake costs points once, not in every later exercise.
* :func:`kernel_module` gives a test the student's kernel's own module (``torch``), to build
  objects that must live beside the student's model (an optimizer, a loss, a data loader).
"""

from .compare import CheckFailed, assert_close, passed
from .gradcheck import (
    check_directional,
    check_gradient,
    check_layer_gradients,
    numerical_gradient,
)
from .isolation import kernel_module, using

__all__ = [
    "CheckFailed",
    "assert_close",
    "check_directional",
    "check_gradient",
    "check_layer_gradients",
    "numerical_gradient",
    "passed",
    "kernel_module",
    "using",
]
