"""The edge-of-stability chapter's exact pieces, as unit tests of the code (not chapter checks).

GD on a quadratic is power iteration of I - lr H: its divergence threshold and growth factor are linear algebra
(formerly the chapter's checks eos-threshold and eos-growth). The self-stabilization measurements (the sharpness
gradient nabla^3 L[u, u], the displacement x, alpha and beta at the centre) are checked against dense
computations, and the amplitude law 2 alpha / beta against the Damian-Nichani-Lee map it is derived from.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax.flatten_util import ravel_pytree

import lmtheory as lmt
from lmtheory.simulation import edge_of_stability
from lmtheory.theory import stability


def _hessians(seed, n=4, d=12, m=24):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, m, d))
    return np.einsum("nmi,nmj->nij", a, a) / m, rng.standard_normal((n, d))


def test_gradient_descent_on_a_quadratic_diverges_iff_lr_exceeds_the_critical_lr():
    hessians, theta0 = _hessians(0)
    lrs = np.linspace(0.3, 1.2, 181)
    with jax.enable_x64(True):
        def norms(h, t0, lr):
            return lmt.train.gradient_descent(lambda th: 0.5 * th @ h @ th, t0, lr=lr, steps=300,
                                              observe=jnp.linalg.norm)[1]
        out = np.asarray(jax.jit(jax.vmap(jax.vmap(norms, (None, None, 0)), (0, 0, None)))(
            jnp.asarray(hessians), jnp.asarray(theta0), jnp.asarray(lrs)))
    diverged = out[:, :, -1] > out[:, :, 150]
    first = np.argmax(diverged, axis=1)
    measured = 0.5 * (lrs[first - 1] + lrs[first])
    predicted = stability.critical_lr(np.linalg.eigvalsh(hessians)[:, -1])
    np.testing.assert_allclose(measured, predicted, atol=0.5 * (lrs[1] - lrs[0]) + 1e-12)
    rho = stability.spectral_radius(lrs[None, :], np.linalg.eigvalsh(hessians)[:, None, :])
    above = (lrs[None, :] > predicted[:, None]) & (rho > 1.1)      # runner-up term negligible after 300 steps
    np.testing.assert_allclose((out[:, :, -1] / out[:, :, -2])[above], rho[above], rtol=1e-6)


def _mlp_loss(seed=0):
    k_x, k_net = jax.random.split(jax.random.key(seed))
    task = lmt.data.tanh_teacher_task(k_x, n_samples=10, in_dim=3, width=5, target_std=2.0)
    net = lmt.models.MLP(3, 5, 1, depth=2, activation="tanh", rngs=nnx.Rngs(k_net))
    apply, params = lmt.models.functional(net)
    loss = lmt.train.mse_loss(apply, task.x, task.y)
    flat, unravel = ravel_pytree(params)
    return (lambda f: loss(unravel(f))), flat


def test_sharpness_gradient_is_the_gradient_of_the_top_eigenvalue():
    with jax.enable_x64(True):
        floss, flat = _mlp_loss()
        flat = jnp.asarray(flat, jnp.float64)
        hess = jax.jit(jax.hessian(floss))
        evals, evecs = np.linalg.eigh(np.asarray(hess(flat)))
        u = jnp.asarray(evecs[:, -1])
        grad_s = np.asarray(edge_of_stability.sharpness_gradient(floss, flat, u))
        direction = np.random.default_rng(1).standard_normal(flat.size)
        h = 1e-5
        top = [np.linalg.eigvalsh(np.asarray(hess(flat + s * h * direction)))[-1] for s in (1, -1)]
        assert grad_s @ direction == pytest.approx((top[0] - top[1]) / (2 * h), rel=1e-5)


def test_gradient_descent_edge_records_match_direct_computations():
    with jax.enable_x64(True):
        floss, flat = _mlp_loss(2)
        params = jnp.asarray(flat, jnp.float64)
        lr = 0.3
        p_end, (losses, lam, x, alpha, beta) = edge_of_stability.gradient_descent_edge(
            floss, params, lr=lr, steps=6, every=3, key=jax.random.key(0), iters=200)
        p_ref, _ = lmt.train.gradient_descent(floss, params, lr=lr, steps=6)
        np.testing.assert_allclose(p_end, p_ref, rtol=1e-12)
        evals, evecs = np.linalg.eigh(np.asarray(jax.hessian(floss)(p_end)))
        u = evecs[:, -1]
        g = np.asarray(jax.grad(floss)(p_end))
        centre = p_end - 0.5 * lr * g
        ds = np.asarray(edge_of_stability.sharpness_gradient(floss, centre, jnp.asarray(u)))
        g_c = np.asarray(jax.grad(floss)(centre))
        perp = np.eye(u.size) - np.outer(u, u)
        assert float(lam[-1]) == pytest.approx(evals[-1], rel=1e-8)
        assert abs(float(x[-1])) == pytest.approx(abs(0.5 * lr * u @ g), rel=1e-6)
        assert float(alpha[-1]) == pytest.approx(-(perp @ g_c) @ (perp @ ds), rel=1e-5)
        assert float(beta[-1]) == pytest.approx((perp @ ds) @ (perp @ ds), rel=1e-5)


def test_amplitude_law_is_the_time_average_of_the_self_stabilization_map():
    lr, a, b = 0.02, 0.5, 4.0                            # fixed point x^2 = 0.25; period ~ 2 pi / (lr sqrt(2 a))
    x, y, xs, ys = 0.45, 0.0, [], []                     # (the discrete map spirals out slowly: a few cycles only)
    for _ in range(5000):
        xs.append(x * x)
        ys.append(y)
        x, y = -(1 + lr * y) * x, y + lr * (a - 0.5 * b * x * x)
    # a window of whole cycles: the sum of the y-increments vanishes up to the end-point mismatch
    assert np.mean(xs) == pytest.approx(float(stability.self_stabilized_amplitude(a, b)), rel=2e-2)
    assert float(stability.self_stabilized_amplitude(-1.0, 2.0)) == 0.0
    with pytest.raises(ValueError):
        stability.self_stabilized_amplitude(1.0, 0.0)
