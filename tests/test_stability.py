"""Stability theory of gradient descent and Hessian-free sharpness, against independent computations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import lmtheory as lmt
from lmtheory.simulation import measure
from lmtheory.theory import stability


def _random_hessian(seed, d=6):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((2 * d, d))
    return a.T @ a / (2 * d)


def _diverges(h, lr, steps=1000):
    """Does ||theta|| still grow over the second half of `steps` GD steps? (renormalized: no overflow)"""
    theta, log_growth = np.ones(h.shape[0]), 0.0
    for k in range(steps):
        theta = theta - lr * h @ theta
        norm = np.linalg.norm(theta)
        theta /= norm
        log_growth += np.log(norm) if k >= steps // 2 else 0.0
    return log_growth > 0


@pytest.mark.parametrize("seed", range(2))
def test_critical_lr_matches_bisection_on_the_iterated_map(seed):
    h = _random_hessian(seed)
    lo, hi = 0.0, 10.0
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if _diverges(h, mid) else (mid, hi)
    assert stability.critical_lr(np.linalg.eigvalsh(h).max()) == pytest.approx(0.5 * (lo + hi), rel=1e-6)


@pytest.mark.parametrize("lr", [0.05, 0.3, 0.9])
def test_spectral_radius_is_the_asymptotic_norm_ratio(lr):
    h = _random_hessian(4)
    m = np.eye(len(h)) - lr * h
    rho = np.linalg.norm(np.linalg.matrix_power(m, 401), 2) / np.linalg.norm(np.linalg.matrix_power(m, 400), 2)
    assert stability.spectral_radius(lr, np.linalg.eigvalsh(h)) == pytest.approx(rho, rel=1e-8)
    assert stability.growth_factor(lr, np.linalg.eigvalsh(h)).max() == pytest.approx(rho, rel=1e-8)


def test_quadratic_trajectory_matches_gradient_descent():
    lam, c0, lr = np.array([0.5, 2.0, 3.5]), np.array([1.0, -2.0, 0.5]), 0.3
    theta, path = c0.copy(), [c0.copy()]
    for _ in range(10):
        theta = theta - lr * lam * theta
        path.append(theta.copy())
    np.testing.assert_allclose(stability.quadratic_trajectory(np.arange(11), lr=lr, eigenvalues=lam, initial=c0),
                               path, rtol=1e-12)
    assert stability.edge_of_stability(lr) == pytest.approx(2 / lr)


def _mlp_loss(seed=0):
    jax.config.update("jax_enable_x64", True)
    k_x, k_net = jax.random.split(jax.random.key(seed))
    task = lmt.data.tanh_teacher_task(k_x, n_samples=12, in_dim=3, width=5, target_std=2.0)
    net = lmt.models.MLP(3, 6, 1, depth=3, activation="tanh", rngs=nnx.Rngs(k_net))
    apply, params = lmt.models.functional(net)
    return lmt.train.mse_loss(apply, task.x, task.y), params


def _dense_hessian(loss, params):
    """The dense Hessian by forward-over-reverse differentiation, compiled once (eager: ~10x slower)."""
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    return np.asarray(jax.jit(jax.hessian(lambda f: loss(unravel(f))))(flat)), flat, unravel


def test_hessian_vector_product_and_sharpness_match_the_dense_hessian():
    loss, params = _mlp_loss()
    hess, flat, unravel = _dense_hessian(loss, params)
    v = np.random.default_rng(0).standard_normal(flat.size)
    hvp = jax.jit(lambda p, u: measure.hessian_vector_product(loss, p, u))
    hv = jax.flatten_util.ravel_pytree(hvp(params, unravel(jnp.asarray(v))))[0]
    np.testing.assert_allclose(hv, hess @ v, rtol=1e-9, atol=1e-10)
    eig = np.linalg.eigvalsh(hess)
    top = eig[np.argmax(np.abs(eig))]
    sharp = jax.jit(lambda p, k: measure.sharpness(loss, p, key=k, iters=300))
    assert float(sharp(params, jax.random.key(1))) == pytest.approx(top, rel=1e-6)


def test_gradient_descent_sharpness_records_the_top_eigenvalue():
    loss, params = _mlp_loss(1)
    p, (losses, sharp) = jax.jit(lambda q: lmt.train.gradient_descent_sharpness(
        loss, q, lr=0.05, steps=40, every=20, key=jax.random.key(2), iters=100))(params)
    p_ref, _ = jax.jit(lambda q: lmt.train.gradient_descent(loss, q, lr=0.05, steps=40))(params)
    np.testing.assert_allclose(jax.flatten_util.ravel_pytree(p)[0], jax.flatten_util.ravel_pytree(p_ref)[0],
                               rtol=1e-12)
    eig = np.linalg.eigvalsh(_dense_hessian(loss, p)[0])
    assert float(sharp[-1]) == pytest.approx(eig[np.argmax(np.abs(eig))], rel=1e-5)
    assert float(losses[-1]) == pytest.approx(float(loss(p)))


def test_tanh_teacher_task_is_reproducible_and_scaled():
    a = lmt.data.tanh_teacher_task(jax.random.key(3), n_samples=40, in_dim=4, width=7, target_std=3.0)
    b = lmt.data.tanh_teacher_task(jax.random.key(3), n_samples=40, in_dim=4, width=7, target_std=3.0)
    np.testing.assert_array_equal(a.y, b.y)
    assert float(jnp.std(a.y)) == pytest.approx(3.0, rel=1e-6)


@pytest.mark.parametrize("call", [
    lambda: stability.critical_lr(0.0),
    lambda: stability.edge_of_stability(-0.1),
    lambda: stability.growth_factor(0.0, 1.0),
    lambda: stability.spectral_radius(-1.0, [1.0]),
    lambda: stability.quadratic_trajectory(np.array([0.5]), lr=0.1, eigenvalues=[1.0], initial=[1.0]),
    lambda: measure.sharpness(lambda p: p**2, jnp.array(1.0)),
    lambda: measure.sharpness(lambda p: p**2, jnp.array(1.0), key=jax.random.key(0), iters=0),
    lambda: lmt.train.gradient_descent_sharpness(lambda p: p**2, jnp.array(1.0), lr=0.1, steps=5, every=2,
                                                 key=jax.random.key(0)),
    lambda: lmt.data.tanh_teacher_task(jax.random.key(0), n_samples=0, in_dim=2, width=3),
])
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()
