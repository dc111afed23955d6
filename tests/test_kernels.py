"""Infinite-width kernels and kernel predictors against independent computations; empirical NTK and friends.

Analytic kernels are compared with Monte Carlo estimates (tolerance: 4 standard errors of the estimate) over
random Gaussian weights or random wide networks built here from scratch; linear algebra against numpy lstsq
and explicit gradient descent in feature space.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax.flatten_util import ravel_pytree

from lmtheory.simulation import measure, models, train
from lmtheory.theory import kernels

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 3))


def _close_in_se(estimate, samples, exact, n_se=4.0):
    se = samples.std(0, ddof=1) / np.sqrt(samples.shape[0])
    assert np.all(np.abs(estimate - exact) <= n_se * se + 1e-12), (estimate, exact, se)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_arccos_kernel_is_twice_a_gaussian_average_of_step_or_relu_features(order):
    w = np.random.default_rng(1).normal(size=(200_000, 3))
    z = w @ X.T                                                 # (samples, points)
    feat = (z > 0) * z**order
    samples = 2 * feat[:, :, None] * feat[:, None, :]
    _close_in_se(samples.mean(0), samples, kernels.arccos_kernel(X, order=order))


@pytest.mark.parametrize("activation", ["relu", "erf", "linear"])
def test_gaussian_expectations_match_sampling(activation):
    var1, var2, cov = 1.3, 0.7, -0.5
    chol = np.linalg.cholesky(np.array([[var1, cov], [cov, var2]]))
    u, v = chol @ np.random.default_rng(2).normal(size=(2, 400_000))
    phi, dphi = {"relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0),
                 "erf": (lambda z: __import__("scipy").special.erf(z), lambda z: 2 / np.sqrt(np.pi) * np.exp(-z**2)),
                 "linear": (lambda z: z, lambda z: np.ones_like(z))}[activation]
    samples = np.stack([phi(u) * phi(v), dphi(u) * dphi(v)], axis=1)
    exact = np.array(kernels.gaussian_expectations(var1, cov, var2, activation=activation), float)
    _close_in_se(samples.mean(0), samples, exact)


def _random_network(key, x, width, depth, sigma_w, sigma_b, activation):
    """A random NTK-parameterized MLP written from scratch: returns (apply, params)."""
    phi = {"relu": jax.nn.relu, "erf": jax.scipy.special.erf}[activation]
    dims = [x.shape[1]] + [width] * (depth - 1) + [1]
    keys = jax.random.split(key, 2 * depth)
    params = [(jax.random.normal(keys[2 * i], (dims[i], dims[i + 1])),
               jax.random.normal(keys[2 * i + 1], (dims[i + 1],))) for i in range(depth)]

    def apply(p, z):
        for i, (w, b) in enumerate(p):
            z = sigma_w * (phi(z) if i else z) @ w / np.sqrt(w.shape[0]) + sigma_b * b
        return z[:, 0]

    return apply, params


@pytest.mark.parametrize("depth,activation,width,sigma_b", [(2, "relu", 64, 0.3), (2, "erf", 64, 0.5),
                                                             (3, "relu", 256, 0.2)])
def test_ntk_and_nngp_match_averages_over_random_wide_networks(depth, activation, width, sigma_b):
    """E[empirical NTK] and E[f f] over networks; exact at any width for depth 2, up to O(1/width) for depth 3."""
    sigma_w, x = 1.4, jnp.asarray(X)

    def one(key):
        apply, p = _random_network(key, x, width, depth, sigma_w, sigma_b, activation)
        jac = jax.jacrev(lambda q: apply(q, x))(p)
        j = jnp.concatenate([leaf.reshape(x.shape[0], -1) for leaf in jax.tree.leaves(jac)], axis=1)
        f = apply(p, x)
        return j @ j.T, jnp.outer(f, f)

    n_nets = 400 if depth == 2 else 128
    ntk_s, nngp_s = (np.asarray(a) for a in jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(3), n_nets)))
    args = dict(depth=depth, sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)
    _close_in_se(ntk_s.mean(0), ntk_s, kernels.ntk_kernel(X, **args))
    _close_in_se(nngp_s.mean(0), nngp_s, kernels.nngp_kernel(X, **args))


def test_relu_ntk_fluctuation_is_the_variance_of_one_hidden_unit_contribution():
    """N Var(Theta_0) = Var(one unit's term): sample single units (width 1) of a scaled net and compare."""
    sigma_w, d = 1.3, X.shape[1]
    rng = np.random.default_rng(4)
    w, v = rng.normal(size=(200_000, d)), rng.normal(size=(200_000, 1, 1))
    u = sigma_w * w @ X.T / np.sqrt(d)                                    # (units, points)
    relu, step = np.maximum(u, 0), (u > 0) * 1.0
    xi = sigma_w**2 * relu[:, :, None] * relu[:, None, :] + sigma_w**4 * v**2 * step[:, :, None] * step[:, None, :] \
        * (X @ X.T / d)
    _close_in_se(xi.mean(0), xi, kernels.ntk_kernel(X, depth=2, sigma_w=sigma_w))
    var_samples = (xi - kernels.ntk_kernel(X, depth=2, sigma_w=sigma_w)) ** 2
    _close_in_se(var_samples.mean(0), var_samples, kernels.relu_ntk_fluctuation(X, sigma_w=sigma_w))


def test_two_layer_relu_ntk_is_the_arccos_combination_and_linear_kernels_are_closed_form():
    d = X.shape[1]
    expected = (X @ X.T / d) * kernels.arccos_kernel(X, order=0) / 2 + kernels.arccos_kernel(X, order=1) / (2 * d)
    np.testing.assert_allclose(kernels.ntk_kernel(X, depth=2), expected, rtol=1e-7)   # arccos near 1: half the digits
    for depth in (1, 2, 4):
        lin = 1.5 ** (2 * depth) * X @ X.T / d
        np.testing.assert_allclose(kernels.nngp_kernel(X, depth=depth, sigma_w=1.5, activation="linear"), lin)
        np.testing.assert_allclose(kernels.ntk_kernel(X, depth=depth, sigma_w=1.5, activation="linear"), depth * lin)


def test_lmtheory_mlp_in_ntk_parameterization_has_sigma_w_one_and_no_bias():
    net = models.MLP(3, 256, 1, depth=2, activation="relu", parameterization="ntk", rngs=nnx.Rngs(0))
    apply, params = models.functional(net)
    w1, w2 = (np.asarray(leaf) for leaf in jax.tree.leaves(params))     # (256, 3), (1, 256)
    z = X @ w1.T / np.sqrt(3)
    explicit = (np.maximum(z, 0) @ np.maximum(z, 0).T + ((z > 0) * w2[0]) @ ((z > 0) * w2[0]).T * (X @ X.T) / 3) / 256
    np.testing.assert_allclose(measure.empirical_ntk(apply, params, jnp.asarray(X)), explicit, rtol=1e-10)


def test_empirical_ntk_equals_forward_mode_jacobian_products_and_batches():
    net = models.MLP(3, 16, 2, depth=3, activation="erf", parameterization="ntk", rngs=nnx.Rngs(1))
    apply, params = models.functional(net)
    flat, unravel = ravel_pytree(params)
    x1, x2 = jnp.asarray(X), jnp.asarray(X[:3] + 0.5)
    j1 = jax.jit(jax.jacfwd(lambda v: apply(unravel(v), x1)))(flat)           # (4, 2, P)
    j2 = jax.jit(jax.jacfwd(lambda v: apply(unravel(v), x2)))(flat)
    explicit = np.einsum("aip,bjp->abij", j1, j2)
    ntk = jax.jit(measure.empirical_ntk, static_argnums=0, static_argnames="batch_size")
    np.testing.assert_allclose(ntk(apply, params, x1, x2), explicit, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ntk(apply, params, x1, x2, batch_size=3), explicit, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError):
        measure.empirical_ntk(apply, params, x1, jnp.ones((2, 5)))
    with pytest.raises(ValueError):
        measure.empirical_ntk(apply, params, x1, batch_size=0)


def test_kernel_regression_is_min_norm_least_squares_on_features():
    phi, phi_test, y = RNG.normal(size=(6, 10)), RNG.normal(size=(3, 10)), RNG.normal(size=6)
    k, ks = phi @ phi.T, phi_test @ phi.T
    np.testing.assert_allclose(kernels.kernel_regression(k, ks, y), phi_test @ np.linalg.lstsq(phi, y, rcond=None)[0],
                               rtol=1e-8)
    ridge = 0.3                                                        # primal ridge: (Phi^T Phi + r I) w = Phi^T y
    w = np.linalg.solve(phi.T @ phi + ridge * np.eye(10), phi.T @ y)
    np.testing.assert_allclose(kernels.kernel_regression(k, ks, y, ridge=ridge), phi_test @ w, rtol=1e-8)
    low_rank = phi[:, :4]                                              # singular kernel, ridge 0: pseudo-inverse
    np.testing.assert_allclose(kernels.kernel_regression(low_rank @ low_rank.T, phi_test[:, :4] @ low_rank.T, y),
                               phi_test[:, :4] @ np.linalg.lstsq(low_rank, y, rcond=None)[0], rtol=1e-8)


def test_linearized_gd_matches_explicit_gradient_descent_in_feature_space():
    phi, phi_test, y = RNG.normal(size=(5, 8)), RNG.normal(size=(2, 8)), RNG.normal(size=5)
    offset, offset_test = RNG.normal(size=5), RNG.normal(size=2)      # f0 = offset + Phi w, w0 = 0
    k, ks, lr, steps = phi @ phi.T, phi_test @ phi.T, 0.3, 37
    w = np.zeros(8)
    for _ in range(steps):                                           # L = 1/(2n) ||offset + Phi w - y||^2
        w -= lr * phi.T @ (offset + phi @ w - y) / 5
    f_train, f_test = kernels.linearized_gd(k, ks, y, lr=lr, steps=steps, f0_train=offset, f0_test=offset_test)
    np.testing.assert_allclose(f_train, offset + phi @ w, rtol=1e-10)
    np.testing.assert_allclose(f_test, offset_test + phi_test @ w, rtol=1e-10)
    _, f_inf = kernels.linearized_gd(k, ks, y, lr=lr, steps=200_000)
    np.testing.assert_allclose(f_inf, kernels.kernel_regression(k, ks, y), rtol=1e-8)
    lam = np.linalg.eigvalsh(k)
    np.testing.assert_allclose(kernels.gd_mode_factors(lam, lr=lr, steps=steps, n_train=5),
                               np.prod([1 - lr * lam / 5] * steps, axis=0), rtol=1e-12)


def test_linearize_trains_exactly_like_the_kernel_prediction():
    net = models.MLP(3, 32, 1, depth=2, activation="erf", parameterization="ntk", rngs=nnx.Rngs(2))
    apply, p0 = models.functional(net)
    lin = measure.linearize(apply, p0)
    x, xt, y = jnp.asarray(X), jnp.asarray(X[:2] * 0.7), jnp.asarray(RNG.normal(size=(4, 1)))
    np.testing.assert_allclose(lin(p0, x), apply(p0, x), rtol=1e-12)
    p_lin, _ = jax.jit(lambda p: train.gradient_descent(train.mse_loss(lin, x, y), p, lr=0.5, steps=40))(p0)
    ntk = jax.jit(measure.empirical_ntk, static_argnums=0)
    k0, ks = ntk(apply, p0, x), ntk(apply, p0, xt, x)
    f_train, f_test = kernels.linearized_gd(k0, ks, y[:, 0], lr=0.5, steps=40, f0_train=apply(p0, x)[:, 0],
                                            f0_test=apply(p0, xt)[:, 0])
    np.testing.assert_allclose(lin(p_lin, x)[:, 0], f_train, rtol=1e-9)
    np.testing.assert_allclose(lin(p_lin, xt)[:, 0], f_test, rtol=1e-9)


def test_kernel_alignment_properties():
    y = jnp.asarray(RNG.normal(size=5))
    assert abs(float(measure.kernel_alignment(3.0 * jnp.outer(y, y), y)) - 1.0) < 1e-12
    k = jnp.asarray(RNG.normal(size=(5, 5)))
    k = k @ k.T
    a = float(measure.kernel_alignment(k, y))
    assert 0 < a < 1 and abs(float(measure.kernel_alignment(7 * k, 2 * y)) - a) < 1e-12
    np.testing.assert_allclose(measure.kernel_alignment(k, y), y @ k @ y / (jnp.linalg.norm(k) * (y @ y)), rtol=1e-12)
    with pytest.raises(ValueError):
        measure.kernel_alignment(k, y[:3])


def test_value_errors():
    with pytest.raises(ValueError):
        kernels.arccos_kernel(X, order=3)
    with pytest.raises(ValueError):
        kernels.arccos_kernel(np.zeros((2, 3)), order=1)
    with pytest.raises(ValueError):
        kernels.ntk_kernel(X, X[:, :2], depth=2)
    with pytest.raises(ValueError):
        kernels.ntk_kernel(X[0], depth=2)
    for bad in (dict(depth=0), dict(depth=2, sigma_w=0.0), dict(depth=2, sigma_b=-1.0),
                dict(depth=2, activation="tanh")):
        with pytest.raises(ValueError):
            kernels.nngp_kernel(X, **bad)
    k = np.eye(3)
    with pytest.raises(ValueError):
        kernels.kernel_regression(k, np.ones((2, 4)), np.ones(3))
    with pytest.raises(ValueError):
        kernels.kernel_regression(k, np.ones((2, 3)), np.ones(4))
    with pytest.raises(ValueError):
        kernels.kernel_regression(k, np.ones((2, 3)), np.ones(3), ridge=-1.0)
    with pytest.raises(ValueError):
        kernels.linearized_gd(k, k, np.ones(3), lr=10.0, steps=5)         # lr * lambda / n >= 2
    with pytest.raises(ValueError):
        kernels.gd_mode_factors([-1.0], lr=1.0, steps=1, n_train=1)
    with pytest.raises(ValueError):
        kernels.gaussian_expectations(-1.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        measure.linearize(None, 0.0)


def test_gd_filter_equals_explicit_gradient_descent_on_dual_coefficients():
    """alpha_{k+1} = alpha_k + lr/n (y - K alpha_k) from 0 gives alpha_T = g(K) y (one eigenvalue exactly 0)."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 4))
    k, y, lr, steps, n = a @ a.T, rng.normal(size=6), 0.3, 17, 6        # rank 4: two zero eigenvalues
    alpha = np.zeros(6)
    for _ in range(steps):
        alpha = alpha + lr / n * (y - k @ alpha)
    lam, u = np.linalg.eigh(k)
    lam = np.clip(lam, 0.0, None)
    np.testing.assert_allclose(u @ (kernels.gd_filter(lam, lr=lr, steps=steps, n_train=n) * (u.T @ y)), alpha,
                               rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="diverges"):
        kernels.gd_filter(lam, lr=100.0, steps=1, n_train=n)
    # tiny eigenvalues lose no digits: g(lambda) -> lr * steps / n continuously
    np.testing.assert_allclose(kernels.gd_filter(np.array([1e-14, 0.0]), lr=lr, steps=steps, n_train=n),
                               lr * steps / n, rtol=1e-10)


def test_kernel_flow_predictor_matches_explicit_gd_and_an_ode_with_weight_decay():
    """GD on L = 1/(2n)||Phi w - y||^2 + ridge/(2n)||w||^2 in feature space; the flow via a matrix exponential."""
    from scipy.linalg import expm

    rng = np.random.default_rng(5)
    phi, phi_test, y = rng.normal(size=(6, 9)), rng.normal(size=(3, 9)), rng.normal(size=6)
    k, ks, n, ridge, lr, steps = phi @ phi.T, phi_test @ phi.T, 6, 0.4, 0.05, 40
    w = np.zeros(9)
    for _ in range(steps):
        w -= lr * (phi.T @ (phi @ w - y) + ridge * w) / n
    np.testing.assert_allclose(kernels.kernel_flow_predictor(k, ks, y, time=lr * steps, lr=lr, ridge=ridge),
                               phi_test @ w, rtol=1e-10)
    t, a = 3.7, phi.T @ phi + ridge * np.eye(9)                       # primal flow: w(t) = A^-1 (I - e^{-A t/n}) Phi^T y
    w_t = np.linalg.solve(a, (np.eye(9) - expm(-a * t / n)) @ phi.T @ y)
    np.testing.assert_allclose(kernels.kernel_flow_predictor(k, ks, y, time=t, ridge=ridge), phi_test @ w_t, rtol=1e-9)
    np.testing.assert_allclose(kernels.kernel_flow_predictor(k, ks, y, ridge=ridge),             # t = infinity
                               phi_test @ np.linalg.solve(a, phi.T @ y), rtol=1e-9)
    np.testing.assert_allclose(kernels.kernel_flow_predictor(k, ks, y, time=0.0), 0.0, atol=1e-14)
    low = phi[:, :4]                                                  # singular kernel, no ridge: min-norm limit
    np.testing.assert_allclose(kernels.kernel_flow_predictor(low @ low.T, phi_test[:, :4] @ low.T, y),
                               phi_test[:, :4] @ np.linalg.lstsq(low, y, rcond=None)[0], rtol=1e-8)


def test_kernel_flow_predictor_covariance_is_that_of_a_trained_gaussian_prior():
    """f_t(x*) = f0(x*) + A (y - f0(X)) for f0 ~ GP(0, S): sample f0 jointly and compare the empirical covariance."""
    rng = np.random.default_rng(6)
    xx = rng.normal(size=(7, 3))
    s_all, k_all = kernels.nngp_kernel(xx, depth=2), kernels.ntk_kernel(xx, depth=2)
    n, y, t = 4, rng.normal(size=4), 2.5
    mean, cov = kernels.kernel_flow_predictor(k_all[:n, :n], k_all[n:, :n], y, time=t,
                                              prior=(s_all[:n, :n], s_all[n:, :n], s_all[n:, n:]))
    f0 = rng.multivariate_normal(np.zeros(7), s_all + 1e-12 * np.eye(7), size=100_000)
    cols = [kernels.kernel_flow_predictor(k_all[:n, :n], k_all[n:, :n], e, time=t) for e in np.eye(n)]
    a = np.stack(cols, axis=1)                                        # A, column by column
    f_t = f0[:, n:] + (y - f0[:, :n]) @ a.T
    np.testing.assert_allclose(mean, a @ y, rtol=1e-12)
    np.testing.assert_allclose(f_t.mean(0), mean, atol=4 * np.sqrt(np.diag(cov).max() / 1e5))
    np.testing.assert_allclose(np.cov(f_t.T), cov, atol=0.02 * np.abs(cov).max())


def test_kernel_flow_predictor_rejects_bad_input_by_name():
    k, y = np.eye(3), np.ones(3)
    for kwargs, name in ((dict(k_train=np.full((3, 3), np.nan), k_test_train=k, y=y), "k_train"),
                         (dict(k_train=k, k_test_train=np.ones((2, 4)), y=y), "k_test_train"),
                         (dict(k_train=k, k_test_train=k, y=np.ones(4)), "y"),
                         (dict(k_train=k, k_test_train=k, y=y, time=-1.0), "time"),
                         (dict(k_train=k, k_test_train=k, y=y, time=np.nan), "time"),
                         (dict(k_train=k, k_test_train=k, y=y, time=1.0, lr=10.0), "lr"),
                         (dict(k_train=k, k_test_train=k, y=y, time=1.5, lr=1.0), "time"),
                         (dict(k_train=k, k_test_train=k, y=y, ridge=-0.1), "ridge"),
                         (dict(k_train=k, k_test_train=k, y=y, prior=(k, np.ones((3, 2)), k)), "prior")):
        with pytest.raises(ValueError, match=name):
            kernels.kernel_flow_predictor(**kwargs)
