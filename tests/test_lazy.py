"""Lazy training: theory (lmtheory.theory.lazy) against independent computations, and the simulation helpers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import lmtheory as lmt
from lmtheory.theory import lazy


def _linear_gd_displacement(jac, r0, lr, steps):
    """Gradient descent on the linear model J delta, step by step (independent of the closed form)."""
    delta = np.zeros(jac.shape[1])
    for _ in range(steps):
        delta += lr / jac.shape[0] * jac.T @ (r0 - jac @ delta)
    return np.linalg.norm(delta)


def test_lazy_displacement_matches_explicit_gradient_descent():
    rng = np.random.default_rng(0)
    jac = rng.normal(size=(12, 40)) / np.sqrt(40)
    r0 = rng.normal(size=12)
    for lr, steps in ((0.5, 7), (2.0, 300), (8.0, 50)):        # includes 1 < lr lambda/P < 2 (oscillating modes)
        assert lazy.lazy_displacement(jac @ jac.T, r0, lr=lr, steps=steps) == pytest.approx(
            _linear_gd_displacement(jac, r0, lr, steps), rel=1e-10)


def test_lazy_displacement_tends_to_minimum_norm_solution():
    rng = np.random.default_rng(1)
    jac = rng.normal(size=(6, 20))
    r0 = rng.normal(size=6)
    min_norm = np.linalg.norm(np.linalg.pinv(jac) @ r0)
    assert lazy.lazy_displacement(jac @ jac.T, r0, lr=0.1, steps=200_000) == pytest.approx(min_norm, rel=1e-8)


def test_lazy_displacement_is_linear_in_the_residual_and_handles_a_singular_kernel():
    rng = np.random.default_rng(2)
    jac = rng.normal(size=(8, 3))                     # rank 3 < 8: K = J J^T is singular
    r0 = rng.normal(size=8)
    k = jac @ jac.T
    one = lazy.lazy_displacement(k, r0, lr=0.05, steps=40)
    assert lazy.lazy_displacement(k, r0 / 1e3, lr=0.05, steps=40) == pytest.approx(one / 1e3, rel=1e-12)
    assert one == pytest.approx(_linear_gd_displacement(jac, r0, 0.05, 40), rel=1e-10)


def test_lazy_displacement_predicts_a_wide_network_at_large_alpha():
    """Train the centered, alpha-scaled network (float64) and compare with the linearized prediction."""
    task = lmt.data.relu_teacher_task(jax.random.key(0), n_samples=16, n_teacher=2, in_dim=2)
    net = lmt.models.MLP(2, 64, 1, activation="relu", parameterization="meanfield", rngs=nnx.Rngs(1))
    apply, p0 = lmt.models.functional(net)
    k = np.asarray(jax.jit(lambda p: lmt.measure.empirical_ntk(apply, p, task.x))(p0))
    lr, steps = 0.5 * 64, 200
    pred = lazy.lazy_displacement(k, np.asarray(task.y[:, 0]), lr=lr, steps=steps)

    @jax.jit
    def scaled_displacement(alpha):                     # alpha traced: one compilation for every alpha
        h = lmt.models.centered_scaled(apply, p0, alpha, displacement=True)
        loss = lmt.train.mse_loss(h, task.x, task.y)
        d0 = jax.tree.map(jnp.zeros_like, p0)
        d, _ = lmt.train.gradient_descent(lambda d: loss(d) / alpha**2, d0, lr=lr, steps=steps, every=steps)
        return alpha * lmt.measure.displacement(d, d0)

    for alpha in (1e2, 1e3):
        assert float(scaled_displacement(alpha)) == pytest.approx(pred, rel=30 / alpha)   # O(1/alpha) correction


def _uniform_weights(rng, n):
    phi = rng.uniform(0, 2 * np.pi, n)
    return np.stack([np.cos(phi), np.sin(phi)], 1)


def test_random_alignment_against_monte_carlo():
    rng = np.random.default_rng(3)
    for _ in range(5):
        dirs = rng.normal(size=(rng.integers(1, 5), 2))
        delta = rng.uniform(0.05, 1.2)
        unit = _uniform_weights(rng, 200_000)
        cos = np.abs(unit @ (dirs / np.linalg.norm(dirs, axis=1, keepdims=True)).T).max(1)
        hits = cos >= np.cos(delta)
        se = hits.std() / np.sqrt(hits.size)
        assert abs(hits.mean() - lazy.random_alignment(dirs, delta)) < 4 * se


def test_random_alignment_closed_form_for_separated_lines():
    angles = np.deg2rad([10.0, 70.0, 130.0])
    dirs = np.stack([np.cos(angles), np.sin(angles)], 1)
    for delta in np.deg2rad([1.0, 10.0, 29.9]):
        assert lazy.random_alignment(dirs, delta) == pytest.approx(6 * delta / np.pi, rel=1e-12)   # 2k arcs of 2 delta on 2 pi
    assert lazy.random_alignment(dirs, np.deg2rad(40.0)) == pytest.approx(1.0)       # arcs cover the circle


def test_kink_alignment_of_gaussian_network_has_the_random_expectation():
    """Masses |a_i| ||w_i|| are random but independent of the angles: the mass fraction keeps the expectation."""
    key = jax.random.key(4)
    dirs = jnp.array([[1.0, 0.3], [-0.2, 1.0], [0.7, -0.7]])
    delta = 0.2

    def one(k):
        k1, k2 = jax.random.split(k)
        return lmt.measure.kink_alignment(jax.random.normal(k1, (64, 2)), jax.random.normal(k2, (1, 64)),
                                          dirs, delta)

    samples = np.asarray(jax.jit(jax.vmap(one))(jax.random.split(key, 4000)))
    est = lmt.mean_se(samples)
    assert abs(est.value - lazy.random_alignment(np.asarray(dirs), delta)) < 4 * est.stderr


def test_centered_scaled_matches_direct_evaluation():
    net = lmt.models.MLP(2, 16, 1, activation="relu", parameterization="meanfield", rngs=nnx.Rngs(0))
    apply, p0 = lmt.models.functional(net)
    x = jax.random.normal(jax.random.key(1), (5, 2))
    d = jax.tree.map(lambda w: 0.01 * jnp.ones_like(w), p0)
    p1 = jax.tree.map(jnp.add, p0, d)
    direct = 7.0 * (apply(p1, x) - apply(p0, x))
    assert np.allclose(lmt.models.centered_scaled(apply, p0, 7.0)(p1, x), direct, atol=1e-12)
    assert np.allclose(lmt.models.centered_scaled(apply, p0, 7.0, displacement=True)(d, x), direct, atol=1e-12)
    # with alpha = 1 and a mean-field MLP, the centered model equals f - f_0 of the MLP's own output_scale
    assert np.allclose(lmt.models.centered_scaled(apply, p0, 1.0)(p0, x), 0.0)


def test_relu_teacher_task_labels():
    dirs = jnp.array([[2.0, 0.0], [0.0, -1.0]])
    task = lmt.data.relu_teacher_task(jax.random.key(2), n_samples=7, n_teacher=2, in_dim=2, directions=dirs,
                                      output_weights=jnp.array([1.0, -3.0]))
    x = np.asarray(task.x)
    expected = np.maximum(x[:, 0], 0) - 3 * np.maximum(-x[:, 1], 0)
    assert np.allclose(np.asarray(task.y[:, 0]), expected)


def test_movement_measurements():
    p0 = {"a": jnp.array([3.0, 4.0]), "b": jnp.zeros((2, 2))}
    p1 = {"a": jnp.array([3.0, 4.0]), "b": jnp.eye(2)}
    assert float(lmt.measure.displacement(p1, p0)) == pytest.approx(np.sqrt(2))
    assert float(lmt.measure.relative_movement(p1, p0)) == pytest.approx(np.sqrt(2) / 5)


@pytest.mark.parametrize("call, match", [
    (lambda: lazy.lazy_displacement(np.eye(3), np.ones(2), lr=0.1, steps=5), "kernel"),
    (lambda: lazy.lazy_displacement(np.array([[1.0, 2.0], [0.0, 1.0]]), np.ones(2), lr=0.1, steps=5), "symmetric"),
    (lambda: lazy.lazy_displacement(np.eye(2), np.ones(2), lr=-0.1, steps=5), "lr"),
    (lambda: lazy.lazy_displacement(np.eye(2), np.ones(2), lr=0.1, steps=2.5), "steps"),
    (lambda: lazy.lazy_displacement(np.eye(2), np.ones(2), lr=5.0, steps=5), "lr too large"),
    (lambda: lazy.random_alignment(np.ones((2, 3)), 0.1), "directions"),
    (lambda: lazy.random_alignment(np.ones((2, 2)), 2.0), "half_width"),
    (lambda: lazy.random_alignment(np.ones((2, 2)), 0.0), "half_width"),
    (lambda: lmt.models.centered_scaled(lambda p, x: x, {}, 0.0), "alpha"),
    (lambda: lmt.models.centered_scaled(None, {}, 1.0), "apply"),
    (lambda: lmt.data.relu_teacher_task(jax.random.key(0), n_samples=0, n_teacher=3, in_dim=2), "n_samples"),
    (lambda: lmt.data.relu_teacher_task(jax.random.key(0), n_samples=4, n_teacher=3, in_dim=2,
                                        directions=np.ones((2, 2))), "directions"),
    (lambda: lmt.data.relu_teacher_task(jax.random.key(0), n_samples=4, n_teacher=3, in_dim=2,
                                        output_weights=np.ones(2)), "output_weights"),
    (lambda: lmt.measure.kink_alignment(jnp.ones((3, 2)), jnp.ones((1, 3)), jnp.ones((1, 2)), 0.0), "half_width"),
    (lambda: lmt.measure.kink_alignment(jnp.ones((3, 2)), jnp.ones((1, 3)), jnp.ones((1, 3)), 0.1), "directions"),
    (lambda: lmt.measure.neuron_masses(jnp.ones((3, 2)), jnp.ones((1, 4))), "weights_in"),
])
def test_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_hidden_units_polar_draws_and_checks_shapes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(subplot_kw={"projection": "polar"})
    lmt.plot.hidden_units_polar(ax, np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[1.0, -1.0]]),
                                directions=np.array([[1.0, 1.0]]))
    assert len(ax.collections) == 2 and len(ax.lines) == 2
    with pytest.raises(ValueError, match="weights_in"):
        lmt.plot.hidden_units_polar(ax, np.ones((3, 3)), np.ones((1, 3)))
    plt.close(fig)
