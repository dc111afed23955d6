"""SGD-temperature theory against independent computations: the full d^2-dimensional moment operator, Monte Carlo
of the SGD chain itself, the continuous-time (Ornstein-Uhlenbeck) limit, and closed forms for H = I."""

import jax
import numpy as np
import pytest
from scipy import linalg

from lmtheory.simulation import data
from lmtheory.theory import sgd


def _full_operator(h, lr, batch, kappa=1.0):
    """The map C -> C' on all d^2 entries of E[e e^T] for a general (non-diagonal) covariance h, as a matrix."""
    d = h.shape[0]
    cols = []
    for k in range(d * d):
        c = np.zeros(d * d)
        c[k] = 1.0
        c = c.reshape(d, d)
        hch = h @ c @ h
        new = (c - lr * (h @ c + c @ h) + lr**2 * ((1 + (2 * kappa - 1) / batch) * hch
                                                   + kappa * np.trace(c @ h) * h / batch))
        cols.append(new.reshape(-1))
    return np.array(cols).T


@pytest.mark.parametrize("batch,kappa", [(1, 1.0), (3, 1.0), (2, 2.0)])
def test_stationary_risk_matches_the_full_matrix_recursion_in_a_rotated_basis(batch, kappa):
    rng = np.random.default_rng(0)
    lam = np.array([0.3, 1.0, 2.2])
    rot = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    h = rot @ np.diag(lam) @ rot.T
    lr, noise = 0.08, 0.7
    op = _full_operator(h, lr, batch, kappa)
    source = (lr**2 * noise**2 * h / batch).reshape(-1)
    c = np.linalg.solve(np.eye(9) - op, source).reshape(3, 3)
    risk = sgd.stationary_risk(lr=lr, batch=batch, spectrum=lam, noise=noise, kurtosis=kappa)
    np.testing.assert_allclose(0.5 * np.trace(h @ c), risk, rtol=1e-10)
    lr_max = sgd.critical_lr(batch=batch, spectrum=lam, kurtosis=kappa)
    radius = [np.max(np.abs(np.linalg.eigvals(_full_operator(h, f * lr_max, batch, kappa)))) for f in (0.999, 1.001)]
    assert radius[0] < 1 < radius[1]


def test_one_step_of_the_map_matches_monte_carlo_of_an_sgd_step():
    rng = np.random.default_rng(1)
    lam, batch, lr, noise, n = np.array([0.5, 1.0, 2.0]), 2, 0.2, 0.5, 400_000
    c0 = np.array([0.3, 0.1, 0.2])
    e = rng.normal(size=(n, 3)) * np.sqrt(c0)
    x = rng.normal(size=(n, batch, 3)) * np.sqrt(lam)
    eps = noise * rng.normal(size=(n, batch))
    grad = np.einsum("nbi,nb->ni", x, np.einsum("nbi,ni->nb", x, e) - eps) / batch
    e1 = e - lr * grad
    m, b = sgd.second_moment_map(lr=lr, batch=batch, spectrum=lam, noise=noise)
    sq = e1**2
    np.testing.assert_array_less(np.abs(sq.mean(0) - (m @ c0 + b)), 4 * sq.std(0) / np.sqrt(n))


@pytest.mark.parametrize("kappa", [1.0, 2.0])
def test_stationary_risk_matches_a_monte_carlo_sgd_chain(kappa):
    rng = np.random.default_rng(2)
    lam, batch, lr, noise = np.array([0.5, 1.5]), 2, 0.15, 1.0
    chains, burn, steps = 4000, 300, 1500
    e, acc = np.zeros((chains, 2)), np.zeros(chains)
    for t in range(burn + steps):
        x = rng.normal(size=(chains, batch, 2)) * np.sqrt(lam)
        if kappa == 2.0:
            x *= np.sqrt(rng.exponential(size=(chains, batch, 1)))
        resid = np.einsum("nbi,ni->nb", x, e) - noise * rng.normal(size=(chains, batch))
        e = e - lr * np.einsum("nbi,nb->ni", x, resid) / batch
        if t >= burn:
            acc += 0.5 * (e**2 * lam).sum(1)
    per_chain = acc / steps
    pred = sgd.stationary_risk(lr=lr, batch=batch, spectrum=lam, noise=noise, kurtosis=kappa)
    assert abs(per_chain.mean() - pred) < 4 * per_chain.std() / np.sqrt(chains)


def test_small_lr_limit_is_the_ornstein_uhlenbeck_temperature():
    lam, batch, noise = np.array([0.2, 1.0, 3.0]), 4, 1.3
    h = np.diag(lam)
    for lr in (1e-3, 1e-4):
        sigma = linalg.solve_continuous_lyapunov(h, lr * noise**2 * h / batch)      # H S + S H = (lr/B) noise^2 H
        ou = 0.5 * np.trace(h @ sigma)
        exact = sgd.stationary_risk(lr=lr, batch=batch, spectrum=lam, noise=noise)
        assert abs(exact / ou - 1) < 2 * lr * (lam.sum() / batch + lam.max())          # O(lr) correction
        t = sgd.temperature(lr=lr, batch=batch, noise=noise)
        np.testing.assert_allclose(sigma, t * np.eye(3), rtol=1e-8)                     # isotropic: no equipartition


@pytest.mark.parametrize("batch,dim,kappa", [(1, 32, 1.0), (4, 10, 1.0), (16, 32, 1.0), (1, 32, 2.0), (3, 5, 3.0)])
def test_isotropic_closed_forms(batch, dim, kappa):
    ones = np.ones(dim)
    lr_max = 2 * batch / (batch + 2 * kappa - 1 + kappa * dim)
    np.testing.assert_allclose(sgd.critical_lr(batch=batch, spectrum=ones, kurtosis=kappa), lr_max, rtol=1e-10)
    lr = 0.5 * lr_max
    rho = 1 - 2 * lr + lr**2 * (1 + (2 * kappa - 1 + kappa * dim) / batch)
    np.testing.assert_allclose(sgd.growth_factor(lr=lr, batch=batch, spectrum=ones, kurtosis=kappa), rho)
    if kappa == 1.0:
        risk = lr * dim / (2 * (2 * batch - lr * (batch + 1 + dim)))
        np.testing.assert_allclose(sgd.stationary_risk(lr=lr, batch=batch, spectrum=ones, noise=1.0), risk)
    traj = sgd.second_moment_trajectory(ones, lr=lr, batch=batch, spectrum=ones, noise=0.0, steps=50,
                                        kurtosis=kappa)
    np.testing.assert_allclose(traj[:, 0], rho ** np.arange(51), rtol=1e-10)


def test_divergent_settings_give_infinite_risk():
    assert sgd.stationary_risk(lr=0.07, batch=1, spectrum=np.ones(32), noise=1.0) == np.inf
    assert np.all(np.isinf(sgd.stationary_second_moment(lr=0.07, batch=1, spectrum=np.ones(32), noise=1.0)))


def test_scale_mixture_sampler_has_the_stated_moments():
    sample = data.linear_regression_sampler(np.zeros(2), batch=200_000, noise=0.0, spectrum=[1.0, 4.0],
                                            inputs="scale-mixture")
    x, _ = sample(jax.random.key(3))
    x = np.asarray(x)
    np.testing.assert_allclose((x**2).mean(0), [1.0, 4.0], rtol=0.03)
    np.testing.assert_allclose((x[:, 0] ** 4).mean(), 2 * 3.0, rtol=0.1)                  # kappa * Gaussian 3


@pytest.mark.parametrize("kwargs,match", [
    (dict(lr=-0.1, batch=1, spectrum=[1.0], noise=1.0), "lr"),
    (dict(lr=0.1, batch=1.5, spectrum=[1.0], noise=1.0), "batch"),
    (dict(lr=0.1, batch=1, spectrum=[0.0, 1.0], noise=1.0), "spectrum"),
    (dict(lr=0.1, batch=1, spectrum=[1.0], noise=-1.0), "noise"),
    (dict(lr=0.1, batch=1, spectrum=[1.0], noise=1.0, kurtosis=0.5), "kurtosis"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sgd.stationary_risk(**kwargs)


def test_bad_arguments_raise_elsewhere():
    with pytest.raises(ValueError, match="init"):
        sgd.second_moment_trajectory(np.ones(3), lr=0.1, batch=1, spectrum=[1.0, 1.0], noise=0.0, steps=2)
    with pytest.raises(ValueError, match="steps"):
        sgd.second_moment_trajectory(np.ones(2), lr=0.1, batch=1, spectrum=[1.0, 1.0], noise=0.0, steps=0)
    with pytest.raises(ValueError, match="batch"):
        sgd.critical_lr(batch=0, spectrum=[1.0])
    with pytest.raises(ValueError, match="inputs"):
        data.linear_regression_sampler(np.ones(2), batch=1, noise=0.0, inputs="cauchy")
    with pytest.raises(ValueError, match="teacher"):
        data.linear_regression_sampler(np.ones((2, 2)), batch=1, noise=0.0)
