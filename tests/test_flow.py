"""lmtheory.simulation.flow (accurate gradient flows, modified loss, linear response) against closed forms and fits."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import linalg

from lmtheory.simulation import flow, train
from lmtheory.theory import gradient_flow as gft

A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.4]])   # a symmetric positive definite Hessian
THETA0 = np.array([1.0, -1.0, 0.5])


def quadratic(p):
    th = jnp.concatenate([p["a"], p["b"]])
    return 0.5 * th @ jnp.asarray(A) @ th


def as_tree(v):
    return {"a": jnp.asarray(v[:2]), "b": jnp.asarray(v[2:])}


def test_gradient_flow_of_a_quadratic_is_the_matrix_exponential():
    end, hist = flow.gradient_flow(quadratic, as_tree(THETA0), time=1.3, times=[0.0, 0.5, 1.0])
    np.testing.assert_allclose(np.concatenate([end["a"], end["b"]]), linalg.expm(-1.3 * A) @ THETA0, rtol=1e-9)
    for k, t in enumerate([0.0, 0.5, 1.0]):
        got = np.concatenate([hist["a"][k], hist["b"][k]])
        np.testing.assert_allclose(got, linalg.expm(-t * A) @ THETA0, rtol=1e-9, atol=1e-12)


def test_modified_loss_gradient_is_the_igr_field():
    lr = 0.2
    grad = jax.grad(flow.modified_loss(quadratic, lr))(as_tree(THETA0))
    expected = (A + 0.5 * lr * A @ A) @ THETA0                      # grad L + (lr/2) H grad L
    np.testing.assert_allclose(np.concatenate([grad["a"], grad["b"]]), expected, rtol=1e-12)


def test_flow_of_a_sum_of_decoupled_losses_is_the_stack_of_flows():
    lam = jnp.array([0.5, 2.0])
    stacked_end, _ = flow.gradient_flow(lambda w: jnp.sum(0.5 * lam * w**2 + 0.1 * w**4), jnp.array([1.0, -1.0]),
                                        time=1.0)
    for i in range(2):
        one, _ = flow.gradient_flow(lambda w: 0.5 * lam[i] * w**2 + 0.1 * w**4, jnp.array([1.0, -1.0])[i], time=1.0)
        np.testing.assert_allclose(stacked_end[i], one, rtol=1e-9)


def test_flow_response_matches_the_closed_form_for_a_quadratic():
    lam, t = 1.7, 0.8
    loss = lambda w: 0.5 * lam * w**2  # noqa: E731
    _, e = flow.flow_response(loss, lambda w: jax.grad(loss)(w) ** 2, jnp.array(1.0), time=t)
    # (lr/4) e(T) must be the quadratic's first-order GD gap -lr (lam^2 t / 2) exp(-lam t)
    np.testing.assert_allclose(0.25 * e, gft.quadratic_gap_coefficient(lam, 1.0, time=t), rtol=1e-8)


def test_flow_response_matches_finite_differences_on_a_nonlinear_loss():
    loss = lambda w: jnp.sum(jnp.cos(w) + 0.3 * w**2) + w[0] * w[1] ** 2  # noqa: E731
    pert = lambda w: jnp.sum(jnp.sin(w))  # noqa: E731
    w0, t, eps = jnp.array([0.4, -0.7]), 1.2, 1e-4
    _, e = flow.flow_response(loss, pert, w0, time=t)
    plus, _ = flow.gradient_flow(lambda w: loss(w) + eps * pert(w), w0, time=t)
    minus, _ = flow.gradient_flow(lambda w: loss(w) - eps * pert(w), w0, time=t)
    np.testing.assert_allclose(e, (plus - minus) / (2 * eps), rtol=1e-6)


def test_gd_tracks_the_modified_flow_to_second_order_on_a_nonlinear_loss():
    """Fitted convergence rates: slope 1 to the gradient flow, slope 2 to the flow of L + (lr/4)||grad L||^2."""
    loss = lambda w: jnp.sum(jnp.log(jnp.cosh(w - 0.3))) + 0.5 * w[0] ** 2 * w[1] ** 2 + 0.2 * jnp.sum(w**2)  # noqa: E731
    w0, time = jnp.array([1.0, -0.8]), 1.0
    steps = np.array([100, 200, 400, 800])
    exact, _ = flow.gradient_flow(loss, w0, time=time)
    gap_flow, gap_mod = [], []
    for n in steps:
        gd = train.gradient_descent_endpoint(loss, w0, lr=time / n, steps=int(n))
        mod, _ = flow.gradient_flow(flow.modified_loss(loss, time / n), w0, time=time)
        gap_flow.append(np.linalg.norm(gd - exact))
        gap_mod.append(np.linalg.norm(gd - mod))
    lrs = time / steps
    assert np.polyfit(np.log(lrs), np.log(gap_flow), 1)[0] == pytest.approx(1.0, abs=0.03)
    assert np.polyfit(np.log(lrs), np.log(gap_mod), 1)[0] == pytest.approx(2.0, abs=0.05)


def test_gradient_descent_endpoint_matches_the_scan_loop_and_vmaps_over_step_counts():
    loss = lambda w: jnp.sum(jnp.cos(w)) + 0.1 * jnp.sum(w**4)  # noqa: E731
    w0 = jnp.array([0.3, -1.2])
    ref, _ = train.gradient_descent(loss, w0, lr=0.05, steps=30, every=30)
    np.testing.assert_allclose(train.gradient_descent_endpoint(loss, w0, lr=0.05, steps=30), ref, rtol=1e-13)
    lrs, steps = jnp.array([0.1, 0.05]), jnp.array([15, 30])
    both = jax.jit(jax.vmap(lambda lr, n: train.gradient_descent_endpoint(loss, w0, lr=lr, steps=n)))(lrs, steps)
    for i in range(2):
        one = train.gradient_descent_endpoint(loss, w0, lr=float(lrs[i]), steps=int(steps[i]))
        np.testing.assert_allclose(both[i], one, rtol=1e-13)


def test_invalid_arguments_raise():
    w0 = jnp.array([1.0])
    with pytest.raises(ValueError, match="time"):
        flow.gradient_flow(lambda w: jnp.sum(w**2), w0, time=0.0)
    with pytest.raises(ValueError, match="rtol"):
        flow.gradient_flow(lambda w: jnp.sum(w**2), w0, time=1.0, rtol=0.0)
    with pytest.raises(ValueError, match="method"):
        flow.integrate(lambda w: -w, w0, time=1.0, method="Euler")
    with pytest.raises(ValueError, match="times"):
        flow.integrate(lambda w: -w, w0, time=1.0, times=[0.5, 0.2])
    with pytest.raises(ValueError, match="times"):
        flow.integrate(lambda w: -w, w0, time=1.0, times=[0.5, 2.0])
    with pytest.raises(ValueError, match="float64"):
        flow.integrate(lambda w: -w, jnp.array([1.0], dtype=jnp.float32), time=1.0)
    with pytest.raises(ValueError, match="coefficient"):
        flow.modified_loss(lambda w: jnp.sum(w**2), 0.1, coefficient=0.0)
    with pytest.raises(ValueError, match="lr"):
        flow.modified_loss(lambda w: jnp.sum(w**2), -0.1)
    with pytest.raises(ValueError, match="steps"):
        train.gradient_descent_endpoint(lambda w: jnp.sum(w**2), w0, lr=0.1, steps=0)
