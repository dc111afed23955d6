"""Finite-width theory against independent computations: quadrature, direct sums, Monte Carlo of the product of
layer factors (tolerances from standard errors), convergence of the asymptotic forms, and explicit networks."""

import jax
import numpy as np
import pytest
from scipy import integrate

from lmtheory.simulation import random_networks as rn
from lmtheory.theory import finite_width as fwt

RNG_SEED = 12345


def _gauss(f):
    return integrate.quad(lambda z: f(z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi), -np.inf, np.inf,
                          epsabs=1e-13, epsrel=1e-12)[0]


def _product_samples(rng, width, depth, activation, draws):
    """s / E[s] as the product of independent layer factors, drawn directly (numpy)."""
    s = rng.chisquare(width, draws) / width
    for _ in range(depth - 1):
        if activation == "linear":
            s *= rng.chisquare(width, draws) / width
        else:
            b = rng.binomial(width, 0.5, draws)
            s *= 2 * np.where(b > 0, rng.chisquare(np.maximum(b, 1)), 0.0) / width
    return s


@pytest.mark.parametrize("slope", [0.0, 0.3, 0.5, 1.0])
def test_vertex_coefficient_is_the_kurtosis_of_one_unit(slope):
    phi = lambda z: max(z, slope * z)  # noqa: E731
    kappa = _gauss(lambda z: phi(z) ** 4) / _gauss(lambda z: phi(z) ** 2) ** 2
    assert fwt.vertex_coefficient(slope=slope) == pytest.approx(kappa - 1, rel=1e-9)


@pytest.mark.parametrize("width", [1, 3, 8, 50])
def test_relu_layer_factor_second_moment_by_direct_binomial_sum(width):
    b = np.arange(width + 1)
    from math import comb
    p = np.array([comb(width, k) for k in b]) / 2.0**width
    ex2 = (2 / width) ** 2 * np.sum(p * (b * b + 2 * b))
    assert ex2 == pytest.approx(1 + 5 / width, rel=1e-12)
    assert fwt.moment_ratio(width=width, depth=2) == pytest.approx((1 + 2 / width) * ex2, rel=1e-12)


@pytest.mark.parametrize("activation, width, depth", [("linear", 8, 3), ("relu", 8, 2), ("relu", 16, 4)])
def test_moment_ratio_and_log_moments_match_monte_carlo(activation, width, depth):
    rng = np.random.default_rng(RNG_SEED)
    s = _product_samples(rng, width, depth, activation, 200_000)
    m1, m2 = s.mean(), (s * s).mean()                      # delta-method SE of m2 / m1^2
    grad = np.array([-2 * m2 / m1**3, 1 / m1**2])
    se = np.sqrt(grad @ np.cov(np.stack([s, s * s])) @ grad / s.size)
    assert abs(m2 / m1**2 - fwt.moment_ratio(width=width, depth=depth, activation=activation)) < 4.5 * se
    y = np.log(s[s > 0])
    mean, var = fwt.log_moments(width=width, depth=depth, activation=activation)
    assert abs(y.mean() - mean) < 4.5 * y.std() / np.sqrt(y.size)
    assert abs(y.var() - var) < 4.5 * np.sqrt(np.var((y - y.mean()) ** 2) / y.size)


def test_higher_moments_match_monte_carlo_and_k2_is_the_ratio():
    rng = np.random.default_rng(RNG_SEED + 1)
    s = _product_samples(rng, 16, 2, "relu", 400_000)
    s3 = s**3
    assert abs(s3.mean() - fwt.moment(3, width=16, depth=2)) < 4.5 * s3.std() / np.sqrt(s.size)
    assert fwt.moment(1, width=9, depth=7) == pytest.approx(1.0, rel=1e-12)
    assert fwt.moment(2, width=9, depth=7, activation="linear") == pytest.approx(
        fwt.moment_ratio(width=9, depth=7, activation="linear"), rel=1e-12)


def test_first_order_is_the_derivative_and_lognormal_the_fixed_beta_limit():
    eps = 1e-6                                             # d/d(1/n) at 1/n -> 0 equals 2 + c (L - 1)
    assert (fwt.moment_ratio(width=1 / eps, depth=5) - 1) / eps == pytest.approx(2 + 5 * 4, rel=1e-4)
    ns = np.array([100, 200, 400, 800])                    # fixed beta = L/n = 0.5: error ~ 1/n
    err = np.abs(fwt.moment_ratio(width=ns, depth=ns // 2) / fwt.moment_ratio(width=ns, depth=ns // 2,
                                                                               order="lognormal") - 1)
    assert np.polyfit(np.log(ns), np.log(err), 1)[0] == pytest.approx(-1.0, abs=0.05)


@pytest.mark.parametrize("activation, c, mu3", [("linear", 2.0, 8.0), ("relu", 5.0, 44.0)])
def test_log_variance_slope_has_the_second_order_expansion(activation, c, mu3):
    for n in (200, 400, 800):
        v = fwt.layer_log_moments(width=n, activation=activation)[1]
        assert v == pytest.approx(c / n + (2.5 * c * c - mu3) / n**2, rel=30 / n**2)


def test_survival_probability_matches_monte_carlo():
    rng = np.random.default_rng(RNG_SEED + 2)
    alive = np.all(rng.binomial(3, 0.5, (200_000, 4)) > 0, axis=1).mean()
    p = float(fwt.survival_probability(width=3, depth=5))
    assert abs(alive - p) < 4.5 * np.sqrt(p * (1 - p) / 200_000)


def test_vertex_trajectory_reproduces_the_scale_invariant_law_and_the_tanh_two_thirds():
    for activation, c, s_w in (("relu", 5.0, np.sqrt(2)), ("linear", 2.0, 1.0)):
        v = fwt.vertex_trajectory(0.7, depth=6, width=20, activation=activation, sigma_w=s_w)
        assert v == pytest.approx(c * np.arange(6) / 20, abs=1e-6)
    v = fwt.vertex_trajectory(1.0, depth=4000, width=1, activation="tanh", sigma_w=1.0)
    assert np.diff(v)[-500:].mean() == pytest.approx(2 / 3, rel=0.02)


def test_explicit_networks_match_the_exact_moments():
    s = rn.simulate_norms(jax.random.key(3), width=8, depth=3, n_nets=20000, slopes=(1.0, 0.0))
    s = s / np.array([1.0, 2.0])[:, None, None]
    for i, a in enumerate(("linear", "relu")):
        est = rn.moment_ratio_estimate(s[i], axis=0)
        assert np.all(np.abs(est.value - fwt.moment_ratio(width=8, depth=np.arange(1, 4), activation=a))
                      < 4.5 * est.stderr)


def test_kernel_flow_sample_has_the_law_of_explicit_networks():
    """Exact-law sampling (weights integrated out) against explicit weights: Var of ln s for ReLU."""
    keys = jax.random.split(jax.random.key(4), 20000)
    k = np.asarray(jax.vmap(lambda key: rn.kernel_flow_sample(key, width=8, depth=4, k1=2.0, sigma_w=np.sqrt(2),
                                                              activations=("relu",))[:, 0])(keys))
    s = rn.simulate_norms(jax.random.key(5), width=8, depth=4, n_nets=20000, slopes=(0.0,))[0]
    for y in (np.log(k[np.all(k > 0, 1), -1] / 2), np.log(s[np.all(s > 0, 1), -1] / 2)):
        var = fwt.log_moments(width=8, depth=4)[1]
        assert abs(y.var() - var) < 4.5 * np.sqrt(np.var((y - y.mean()) ** 2) / y.size)


def test_variance_slope_and_moment_ratio_estimate_errors():
    rng = np.random.default_rng(RNG_SEED + 3)
    y = np.cumsum(rng.normal(size=(5, 20000)) * np.sqrt(0.5), axis=0)   # Var grows by 0.5 per step
    est = rn.variance_slope(np.arange(1, 6), y)
    assert abs(est.value - 0.5) < 4.5 * est.stderr
    x = rng.exponential(size=50000)                                       # E x^2 / (E x)^2 = 2
    est = rn.moment_ratio_estimate(x)
    assert abs(est.value - 2.0) < 4.5 * est.stderr


@pytest.mark.parametrize("call, match", [
    (lambda: fwt.moment_ratio(width=0, depth=2), "width"),
    (lambda: fwt.moment_ratio(width=8, depth=1.5), "depth"),
    (lambda: fwt.moment_ratio(width=8, depth=2, activation="tanh"), "activation"),
    (lambda: fwt.moment_ratio(width=8, depth=2, order="second"), "order"),
    (lambda: fwt.vertex_coefficient(slope=2.0), "slope"),
    (lambda: fwt.layer_log_moments(width=-1), "width"),
    (lambda: fwt.moment(0, width=8, depth=2), "k"),
    (lambda: fwt.vertex_trajectory(1.0, depth=0, width=8, sigma_w=1.0), "depth"),
    (lambda: rn.layer_norms(jax.random.key(0), width=0, depth=2), "width"),
    (lambda: rn.kernel_flow_sample(jax.random.key(0), width=4, depth=2, k1=1.0, sigma_w=1.0,
                                   activations=("gelu",)), "activation"),
    (lambda: rn.variance_slope([1.0, 2.0], np.zeros((3, 5))), "samples"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_ntk_change_exponents_agree_with_the_one_hidden_layer_laws_of_the_linearization_chapter():
    from lmtheory.theory import lazy
    assert fwt.ntk_change_exponent("width", "smooth") == lazy.linearization_error_exponent("smooth", "kernel")
    assert fwt.ntk_change_exponent("width", "relu") == lazy.linearization_error_exponent("relu", "kernel")
    assert fwt.ntk_change_exponent("depth", "smooth") == 1.0


@pytest.mark.parametrize("call, match", [
    (lambda: fwt.ntk_change_exponent("time"), "variable"),
    (lambda: fwt.ntk_change_exponent("width", "tanh"), "activation"),
    (lambda: fwt.ntk_change_exponent("depth", "relu"), "depth"),
])
def test_ntk_change_exponent_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
