"""Double-descent risk formulas against Monte Carlo, direct quadrature over the Marchenko-Pastur law, and optimization."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, optimize

from lmtheory.simulation import train
from lmtheory.theory import double_descent as dd
from lmtheory.theory import random_matrix as rm


@pytest.mark.parametrize("n,p", [(40, 20), (30, 75)])
def test_finite_ridgeless_risk_matches_monte_carlo(n, p):
    rng = np.random.default_rng(0)
    r, sigma, reps = 1.0, 0.7, 4000
    risks = []
    for _ in range(reps):
        x = rng.normal(size=(n, p))
        beta = rng.normal(size=p)
        beta *= r / np.linalg.norm(beta)
        y = x @ beta + sigma * rng.normal(size=n)
        risks.append(np.sum((np.linalg.pinv(x) @ y - beta) ** 2))
    risks = np.array(risks)
    pred = dd.ridgeless_risk_finite(n_samples=n, dim=p, signal=r, noise=sigma)
    assert abs(risks.mean() - pred) < 4 * risks.std() / np.sqrt(reps)


def test_finite_risk_tends_to_the_asymptotic_law():
    for g in (0.3, 0.7, 1.5, 3.0):
        n = 10**6
        fin = dd.ridgeless_risk_finite(n_samples=n, dim=int(g * n), signal=1.3, noise=0.4)
        np.testing.assert_allclose(fin, dd.ridgeless_risk(g, signal=1.3, noise=0.4), rtol=1e-4)
    assert dd.ridgeless_risk_finite(n_samples=50, dim=50, signal=1.0, noise=1.0) == np.inf
    assert dd.ridgeless_risk(1.0, signal=1.0, noise=1.0) == np.inf


def _mp_expectation(f, g):
    """int f(s) dF_gamma(s), atom at zero included, by quadrature over the closed-form density."""
    lo, hi = rm.mp_edges(ratio=g)
    cont = integrate.quad(lambda s: f(s) * rm.mp_density(s, ratio=g), lo, hi, limit=200)[0]
    return cont + max(0.0, 1 - 1 / g) * f(0.0)


@pytest.mark.parametrize("g,lam", [(0.4, 0.1), (1.0, 0.3), (2.5, 0.05)])
def test_ridge_risk_matches_direct_quadrature_of_bias_and_variance(g, lam):
    r, sigma = 1.2, 0.6
    bias = r**2 * lam**2 * _mp_expectation(lambda s: 1 / (s + lam) ** 2, g)
    var = sigma**2 * g * _mp_expectation(lambda s: s / (s + lam) ** 2, g)
    np.testing.assert_allclose(dd.ridge_risk(g, lam, signal=r, noise=sigma), bias + var, rtol=1e-6)


def test_ridge_tends_to_ridgeless_and_optimum_is_where_stated():
    for g in (0.5, 2.0):
        np.testing.assert_allclose(dd.ridge_risk(g, 1e-7, signal=1.0, noise=0.5),
                                   dd.ridgeless_risk(g, signal=1.0, noise=0.5), rtol=1e-4)
    for g in (0.3, 1.0, 3.0):
        res = optimize.minimize_scalar(lambda lam: dd.ridge_risk(g, lam, signal=1.0, noise=0.5),
                                       bounds=(1e-4, 10), method="bounded", options={"xatol": 1e-9})
        np.testing.assert_allclose(res.x, dd.optimal_ridge(g, signal=1.0, noise=0.5), rtol=1e-4)
        np.testing.assert_allclose(dd.optimal_ridge_risk(g, signal=1.0, noise=0.5), res.fun, rtol=1e-9)
    risk = dd.optimal_ridge_risk(np.geomspace(0.05, 20, 60), signal=1.0, noise=0.5)
    assert np.all(np.diff(risk) > 0)                           # monotone in gamma: no peak


def test_least_squares_primal_dual_and_min_norm():
    rng = np.random.default_rng(3)
    for n, p in ((20, 8), (8, 20)):
        x, y = rng.normal(size=(n, p)), rng.normal(size=n)
        np.testing.assert_allclose(train.least_squares(jnp.asarray(x), jnp.asarray(y)), np.linalg.pinv(x) @ y,
                                   atol=1e-8)
        lam = 0.3
        direct = np.linalg.solve(x.T @ x + n * lam * np.eye(p), x.T @ y)
        np.testing.assert_allclose(train.least_squares(jnp.asarray(x), jnp.asarray(y), ridge=lam), direct, atol=1e-8)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="ratio"):
        dd.ridgeless_risk(-1.0, signal=1.0, noise=1.0)
    with pytest.raises(ValueError, match="signal"):
        dd.optimal_ridge(1.0, signal=0.0, noise=1.0)
    with pytest.raises(ValueError, match="noise"):
        dd.ridge_risk(1.0, 0.1, signal=1.0, noise=-0.5)
    with pytest.raises(ValueError, match="ridge"):
        dd.ridge_risk(1.0, 0.0, signal=1.0, noise=0.5)
    with pytest.raises(ValueError, match="dim"):
        dd.ridgeless_risk_finite(n_samples=10, dim=0, signal=1.0, noise=1.0)
    with pytest.raises(ValueError, match="ridge"):
        train.least_squares(jnp.ones((3, 2)), jnp.ones(3), ridge=-1.0)
    with pytest.raises(ValueError, match="shape"):
        train.least_squares(jnp.ones((3, 2)), jnp.ones(2))
