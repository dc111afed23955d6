"""Models, data, training loops and measurements."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import lmtheory as lmt
from lmtheory.simulation import data, measure, models, train


def test_gradient_descent_on_a_quadratic_matches_the_closed_form():
    lam, lr, steps = 2.0, 0.1, 30
    p, hist = train.gradient_descent(lambda p: 0.5 * lam * p**2, jnp.array(1.0), lr=lr, steps=steps, every=10)
    np.testing.assert_allclose(hist, (1 - lr * lam) ** np.array([0, 10, 20, 30]), rtol=1e-10)
    np.testing.assert_allclose(p, (1 - lr * lam) ** steps, rtol=1e-10)


def test_training_vmaps_over_seeds():
    def one(key):
        x0 = jax.random.normal(key, (3,))
        return train.gradient_descent(lambda p: 0.5 * jnp.sum(p**2), x0, lr=1.0, steps=2)[0]  # exact zero

    out = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(0), 5))
    np.testing.assert_allclose(out, 0.0, atol=1e-12)


def test_stochastic_train_converges_to_the_mean():
    sample = lambda k: 1.0 + jax.random.normal(k, (64,))  # noqa: E731
    p, _ = train.stochastic_train(lambda p, b: 0.5 * jnp.mean((p - b) ** 2), jnp.array(0.0), optax.sgd(0.05),
                                  key=jax.random.key(0), sample=sample, steps=2000, every=1000)
    assert abs(float(p) - 1.0) < 0.05


def test_recorded_scan_records_every_block_and_hands_each_step_its_own_key():
    key = jax.random.key(3)
    state, hist = jax.jit(lambda k: train.recorded_scan(lambda s, kk: s + jax.random.uniform(kk), 0.0, steps=6,
                                                        every=3, record=lambda s: (s, s), key=k))(key)
    draws = np.array([jax.random.uniform(k) for b in jax.random.split(key, 2) for k in jax.random.split(b, 3)])
    np.testing.assert_allclose(hist, [0.0, draws[:3].sum(), draws.sum()], rtol=1e-12)
    assert float(state) == pytest.approx(draws.sum(), rel=1e-12)


def test_stochastic_train_is_the_explicit_minibatch_loop():
    """(init, step) + recorded scan against a Python loop of optax updates with the same step keys."""
    loss = lambda p, b: jnp.mean((p[0] * b - p[1]) ** 2)                 # noqa: E731
    sample = lambda k: jax.random.normal(k, (8,))                       # noqa: E731
    p0, opt, key = jnp.array([1.0, -0.5]), optax.adam(0.1), jax.random.key(4)
    p, hist = train.stochastic_train(loss, p0, opt, key=key, sample=sample, steps=6, every=2)
    @jax.jit
    def update(q, state, k):
        updates, state = opt.update(jax.grad(loss)(q, sample(k)), state, q)
        return optax.apply_updates(q, updates), state

    q, state, path = p0, opt.init(p0), [p0]
    for block_key in jax.random.split(key, 3):
        for k in jax.random.split(block_key, 2):
            q, state = update(q, state, k)
        path.append(q)
    np.testing.assert_allclose(p, q, rtol=1e-12)
    np.testing.assert_allclose(hist, np.stack(path), rtol=1e-12)


def test_rk4_converges_at_fourth_order_and_sharpness_tracking_vmaps_over_learning_rates():
    loss = lambda p: 0.5 * (4.0 * p[0] ** 2 + p[1] ** 2)                # noqa: E731
    errors = [abs(float(train.gradient_flow_rk4(loss, jnp.array([1.0, 1.0]), dt=1.0 / n, steps=n)[0][0])
                  - np.exp(-4.0)) for n in (32, 64)]
    assert np.log2(errors[0] / errors[1]) == pytest.approx(4.0, abs=0.2)   # fitted convergence rate
    lrs = jnp.array([0.1, 0.2])
    _, (losses, lam) = jax.jit(jax.vmap(lambda lr: train.gradient_descent_sharpness(
        loss, jnp.array([1.0, 1.0]), lr=lr, steps=4, every=2, key=jax.random.key(0))))(lrs)
    steps = np.array([0, 2, 4])
    expected = 0.5 * (4.0 * (1 - 4 * np.asarray(lrs)[:, None]) ** (2 * steps) + (1 - np.asarray(lrs)[:, None])
                      ** (2 * steps))
    np.testing.assert_allclose(losses, expected, rtol=1e-10)
    np.testing.assert_allclose(lam, 4.0, rtol=1e-8)


def test_schedule_validation():
    loss = lambda p: p**2  # noqa: E731
    for kwargs in (dict(lr=0.0, steps=10), dict(lr=-1.0, steps=10), dict(lr=0.1, steps=0),
                   dict(lr=0.1, steps=10, every=3)):
        with pytest.raises(ValueError):
            train.gradient_descent(loss, jnp.array(1.0), **kwargs)
    assert train.record_times(lr=0.5, steps=4, every=2).tolist() == [0.0, 1.0, 2.0]


def test_mse_loss_normalization_and_shape_check():
    loss = train.mse_loss(lambda p, x: x * p, jnp.ones((4, 1)), jnp.zeros((4, 1)))
    np.testing.assert_allclose(loss(2.0), 0.5 * 4 * 4 / 4)
    with pytest.raises(ValueError):
        train.mse_loss(lambda p, x: x, jnp.ones((4, 1)), jnp.ones((3, 1)))


def test_linear_task_has_the_requested_correlation_and_whitening():
    task = data.linear_teacher_task(jax.random.key(0), in_dim=6, out_dim=5, strengths=[3.0, 1.0, 0.5],
                                    n_samples=20)
    np.testing.assert_allclose(task.x.T @ task.x / 20, np.eye(6), atol=1e-10)
    sigma_yx = task.y.T @ task.x / 20
    np.testing.assert_allclose(np.linalg.svd(sigma_yx, compute_uv=False)[:3], [3.0, 1.0, 0.5], atol=1e-10)
    np.testing.assert_allclose(measure.mode_strengths(sigma_yx, task.left, task.right), [3.0, 1.0, 0.5],
                               atol=1e-10)


def test_unwhitened_task_has_the_requested_covariance_spectrum():
    c = np.array([0.5, 1.0, 1.5, 4.0])
    task = data.linear_teacher_task(jax.random.key(1), in_dim=4, out_dim=4, strengths=[1.0], n_samples=8,
                                    input_variances=c)
    np.testing.assert_allclose(np.linalg.eigvalsh(task.x.T @ task.x / 8), np.sort(c), atol=1e-10)
    with pytest.raises(ValueError):
        data.linear_teacher_task(jax.random.key(1), in_dim=4, out_dim=4, strengths=[1.0], n_samples=8,
                                 input_variances=[1.0, 2.0])


def test_data_validation():
    with pytest.raises(ValueError):
        data.whitened_inputs(jax.random.key(0), 2, 3)
    with pytest.raises(ValueError):
        data.linear_teacher_task(jax.random.key(0), in_dim=2, out_dim=2, strengths=[1, 1, 1], n_samples=4)
    with pytest.raises(ValueError):
        data.linear_teacher_task(jax.random.key(0), in_dim=2, out_dim=2, strengths=[1, -1], n_samples=4)
    assert data.ranks_above([0.5, 2.0, 1.0]).tolist() == [2, 0, 1]


def test_deep_linear_initial_statistics_and_end_to_end():
    net = models.DeepLinear(50, 80, 40, depth=3, init_scale=0.2, rngs=nnx.Rngs(0))
    w = np.concatenate([np.ravel(p[...]) for p in net.weights])
    assert abs(w.std() / 0.2 - 1) < 0.02          # ~15,000 entries: relative SE ~0.6%
    x = jax.random.normal(jax.random.key(1), (7, 50))
    np.testing.assert_allclose(net(x), x @ net.end_to_end().T, rtol=1e-10)
    apply, params = models.functional(net)
    np.testing.assert_allclose(apply(params, x), net(x))
    ws = [np.asarray(p[...]) for p in net.weights]
    np.testing.assert_allclose(models.end_to_end(ws), np.linalg.multi_dot(ws[::-1]), rtol=1e-10)


@pytest.mark.parametrize("parameterization", models.PARAMETERIZATIONS)
def test_mlp_preactivation_variance_is_order_one(parameterization):
    """Under every parameterization the first-layer pre-activations of unit-norm-per-coordinate inputs are O(1)."""
    net = models.MLP(100, 400, 1, depth=2, activation="relu", parameterization=parameterization,
                     rngs=nnx.Rngs(0))
    x = jax.random.normal(jax.random.key(2), (200, 100))
    mult = 1.0 if parameterization == "standard" else 100**-0.5
    z = mult * x @ net.weights[0][...].T
    assert abs(float(z.var()) - 1.0) < 0.05


def test_mlp_meanfield_output_is_smaller_by_sqrt_width():
    kw = dict(depth=2, activation="relu", rngs=None)
    outs = {}
    for p in ("ntk", "meanfield"):
        net = models.MLP(10, 1000, 1, depth=2, activation="relu", parameterization=p, rngs=nnx.Rngs(0))
        outs[p] = float(jnp.std(net(jax.random.normal(jax.random.key(3), (500, 10)))))
    np.testing.assert_allclose(outs["meanfield"] * np.sqrt(1000), outs["ntk"], rtol=1e-6)
    assert kw  # (kwargs kept for readability)


@pytest.mark.parametrize("call", [
    lambda: models.DeepLinear(3, -1, 2, init_scale=0.1, rngs=nnx.Rngs(0)),
    lambda: models.DeepLinear(3, 4, 2, init_scale=0.0, rngs=nnx.Rngs(0)),
    lambda: models.DeepLinear(3, 4, 2, depth=0, init_scale=0.1, rngs=nnx.Rngs(0)),
    lambda: models.MLP(3, 4, 2, parameterization="mup-ish", rngs=nnx.Rngs(0)),
    lambda: models.MLP(3, 4, 2, activation="gelu-ish", rngs=nnx.Rngs(0)),
    lambda: models.MLP(3, 4, 2, output_scale=-1.0, rngs=nnx.Rngs(0)),
    lambda: models.functional(models.DeepLinear(3, 4, 2, init_scale=0.1, rngs=nnx.Rngs(0)), "nope"),
    lambda: measure.mode_strengths(jnp.ones((2, 3)), jnp.ones((3, 1)), jnp.ones((3, 1))),
    lambda: models.end_to_end([]),
])
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_random_orthogonal_is_orthogonal():
    q = data.random_orthogonal(jax.random.key(4), 6, 3)
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-12)
    with pytest.raises(ValueError):
        data.random_orthogonal(jax.random.key(4), 3, 6)


def test_orthonormalize_equals_qr_with_positive_diagonal():
    z = jax.random.normal(jax.random.key(5), (40, 25))
    q_ref, r_ref = np.linalg.qr(np.asarray(z))           # independent: LAPACK Householder QR
    q_ref = q_ref * np.sign(np.diag(r_ref))
    np.testing.assert_allclose(data.orthonormalize(z), q_ref, atol=1e-10)
    with pytest.raises(ValueError):
        data.orthonormalize(z.T)


def test_orthonormalize_calls_no_lapack_even_under_vmap():
    """Two frames under vmap+jit compile to matrix products only (the jaxlib 0.10 CPU deadlock needs LAPACK)."""
    two = jax.vmap(lambda k: [data.random_orthogonal(kk, 8, 3) for kk in jax.random.split(k)])
    text = jax.jit(two).lower(jax.random.split(jax.random.key(0), 4)).as_text()
    assert "custom_call" not in text and "geqrf" not in text and "householder" not in text


def test_random_orthogonal_is_haar():
    """For a Haar orthogonal n x n matrix, E[q_11^2] = 1/n and E[q_11^4] = 3/(n(n+2)) (uniform on the sphere)."""
    n, draws = 5, 20000
    q11 = jax.vmap(lambda k: data.random_orthogonal(k, n)[0, 0])(jax.random.split(jax.random.key(6), draws))
    for power, exact in ((2, 1 / n), (4, 3 / (n * (n + 2)))):
        values = np.asarray(q11) ** power
        assert abs(values.mean() - exact) < 4 * values.std() / np.sqrt(draws)
    # and the sign is not fixed by the construction: q_11 is symmetric about zero
    assert abs(np.asarray(q11).mean()) < 4 * np.asarray(q11).std() / np.sqrt(draws)


def test_plot_helper_draws_and_validates():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    lmt.plot.use_style()
    fig, ax = plt.subplots()
    lmt.plot.theory_vs_simulation(ax, x_theory=[1, 10], y_theory=[1, 10], x=[2, 5], y=[2, 5], yerr=[0.1, 0.1],
                                  logx=True, logy=True)
    assert ax.get_xscale() == "log" and len(ax.lines) >= 1
    with pytest.raises(ValueError):
        lmt.plot.theory_vs_simulation(ax, x_theory=[1, 2], y_theory=[1], x=[1], y=[1])
    plt.close(fig)
