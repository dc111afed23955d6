"""The shared argument checks: readable ValueErrors for bad input, and no checks on jax-traced values."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lmtheory import _validate


@pytest.mark.parametrize("check, value", [
    (_validate.positive, 0.0), (_validate.positive, -1), (_validate.positive, float("inf")),
    (_validate.positive, True), (_validate.positive, "1"),
    (_validate.nonnegative, -1e-9), (_validate.nonnegative, float("nan")), (_validate.nonnegative, None),
    (_validate.positive_array, [1.0, 0.0]), (_validate.positive_array, []),
    (_validate.fraction, 1.0), (_validate.fraction, 0),
    (_validate.finite, float("nan")), (_validate.finite, float("inf")), (_validate.finite, [1.0, float("-inf")]),
    (_validate.finite, None), (_validate.finite, "1"), (_validate.finite, True), (_validate.finite, [[1.0], [2.0, 3.0]]),
    (_validate.finite_array, [0.0, float("nan")]), (_validate.finite_array, np.array([1j, np.inf])),
    (_validate.finite_array, [1j]),
])
def test_bad_values_raise_value_error_naming_the_argument(check, value):
    with pytest.raises(ValueError, match="lr"):
        check("lr", value)


def test_good_values_are_returned():
    assert _validate.positive("width", 3, integer=True) == 3
    assert _validate.nonnegative("noise", 0.0) == 0.0
    np.testing.assert_array_equal(_validate.positive_array("s", [1, 2]), [1.0, 2.0])
    with pytest.raises(ValueError, match="integer"):
        _validate.positive("width", 3.0, integer=True)


def test_finite_accepts_numbers_and_arrays_unchanged():
    x = jnp.array([1.0, -2.0])
    assert _validate.finite("x", x) is x and _validate.finite("x", -3) == -3
    np.testing.assert_array_equal(_validate.finite_array("x", [[0, -1.5]]), [[0.0, -1.5]])
    assert _validate.finite("t", float("inf"), allow_inf=True) == float("inf")
    with pytest.raises(ValueError, match="t must not be NaN"):
        _validate.finite_array("t", [1.0, float("nan")], allow_inf=True)


@pytest.mark.parametrize("check", [_validate.positive, _validate.nonnegative, _validate.positive_array,
                                   _validate.finite, _validate.finite_array])
def test_traced_values_pass_unchecked(check):
    """Under vmap the value is a tracer (unknown until run time): the check must not raise or concretize."""
    out = jax.vmap(lambda v: jnp.asarray(check("x", v)) * 2)(jnp.array([1.0, 2.0]))
    np.testing.assert_allclose(out, [2.0, 4.0])
