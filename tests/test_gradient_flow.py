"""Gradient-flow theory (lmtheory.theory.gradient_flow) against independent computations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

from lmtheory.simulation import flow
from lmtheory.theory import gradient_flow as gft

EIGS = np.array([0.3, 1.0, 2.5])
INIT = np.array([1.0, -0.5, 0.8])


def test_quadratic_gd_matches_iterating_the_update():
    lr, steps = 0.07, 23
    theta = INIT.copy()
    for _ in range(steps):
        theta = theta - lr * EIGS * theta
    np.testing.assert_allclose(gft.quadratic_gd(EIGS, INIT, lr=lr, steps=steps), theta, rtol=1e-12)


def test_quadratic_flow_matches_an_ode_solve():
    sol = integrate.solve_ivp(lambda _, th: -EIGS * th, (0, 1.7), INIT, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gft.quadratic_flow(EIGS, INIT, time=1.7), sol.y[:, -1], rtol=1e-9)


def test_first_order_rate_is_the_flow_of_the_modified_loss():
    """The order-1 rate equals the gradient of L + (lr/4)||grad L||^2, computed by autodiff."""
    lr = 0.1
    loss = lambda th: 0.5 * jnp.sum(jnp.asarray(EIGS) * th**2)  # noqa: E731
    theta = jnp.asarray(INIT)
    grad_tilde = jax.grad(flow.modified_loss(loss, lr))(theta)
    np.testing.assert_allclose(grad_tilde, gft.backward_error_rate(EIGS, lr=lr, order=1) * INIT, rtol=1e-12)
    assert gft.modified_loss_strength(lr=lr) == pytest.approx(lr / 4)


def test_the_series_converges_below_the_radius_and_diverges_above():
    lr = 1.0
    inside, outside = 0.9 * gft.series_radius(1.0), 1.5 * gft.series_radius(1.0)
    exact = gft.backward_error_rate(inside, lr=lr)
    np.testing.assert_allclose(gft.backward_error_rate(inside, lr=lr, order=400), exact, rtol=1e-12)
    partial = [float(gft.backward_error_rate(outside, lr=lr, order=k)) for k in (10, 20, 40)]
    assert partial[0] < partial[1] < partial[2] and partial[2] > 1e5
    assert np.isnan(gft.backward_error_rate(outside, lr=lr))


def test_exact_rate_interpolates_gd():
    lr, steps = 0.05, 40
    rate = gft.backward_error_rate(EIGS, lr=lr)
    np.testing.assert_allclose(np.exp(-rate * lr * steps) * INIT, gft.quadratic_gd(EIGS, INIT, lr=lr, steps=steps),
                               rtol=1e-10)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_global_error_order_is_the_fitted_convergence_rate(order):
    time = 2.0
    steps = np.array([200, 400, 800, 1600])
    gaps = [np.linalg.norm(gft.quadratic_gd(EIGS, INIT, lr=time / n, steps=int(n))
                           - gft.quadratic_flow(EIGS, INIT, time=time, lr=time / n, order=order)) for n in steps]
    slope = np.polyfit(np.log(time / steps), np.log(gaps), 1)[0]
    assert slope == pytest.approx(gft.global_error_order(order), abs=0.05)   # next order: O(lr lambda_max)


def test_gap_coefficient_matches_a_small_learning_rate_run():
    time, steps = 1.5, 20000
    lr = time / steps
    gap = gft.quadratic_gd(EIGS, INIT, lr=lr, steps=steps) - gft.quadratic_flow(EIGS, INIT, time=time)
    np.testing.assert_allclose(gap / lr, gft.quadratic_gap_coefficient(EIGS, INIT, time=time), rtol=1e-3)


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="eigenvalue"):
        gft.backward_error_rate(-1.0, lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        gft.backward_error_rate(1.0, lr=0.0)
    with pytest.raises(ValueError, match="correction_order"):
        gft.global_error_order(-1)
    with pytest.raises(ValueError, match="correction_order"):
        gft.backward_error_rate(1.0, lr=0.1, order=1.5)
    with pytest.raises(ValueError, match="steps"):
        gft.quadratic_gd(1.0, 1.0, lr=0.1, steps=2.5)
    with pytest.raises(ValueError, match="time"):
        gft.quadratic_flow(1.0, 1.0, time=-1.0)
    with pytest.raises(ValueError, match="lr"):
        gft.quadratic_flow(1.0, 1.0, time=1.0, order=1)
    with pytest.raises(ValueError, match="sharpness"):
        gft.series_radius(0.0)
    with pytest.raises(ValueError, match="lr"):
        gft.modified_loss_strength(lr=-0.1)
