"""Marchenko-Pastur, Tracy-Widom and spiked-outlier formulas against quadrature, Monte Carlo and the secular equation."""

import numpy as np
import pytest
from scipy import integrate, optimize

from lmtheory.theory import random_matrix as rm


def _integral(f, q, var):
    lo, hi = rm.mp_edges(ratio=q, variance=var)
    return integrate.quad(lambda x: f(x) * rm.mp_density(x, ratio=q, variance=var), lo, hi, limit=200,
                          points=[lo, hi])[0]


@pytest.mark.parametrize("q,var", [(0.3, 1.0), (1.0, 2.0), (2.5, 0.5)])
def test_density_mass_and_moments(q, var):
    mass = _integral(lambda x: 1.0, q, var)
    np.testing.assert_allclose(mass, min(1.0, 1.0 / q), rtol=1e-6)
    # first two moments of the full law (the atom at 0 adds nothing): E s = var, E s^2 = var^2 (1 + q)
    np.testing.assert_allclose(_integral(lambda x: x, q, var), var, rtol=1e-6)
    np.testing.assert_allclose(_integral(lambda x: x * x, q, var), var**2 * (1 + q), rtol=1e-6)


@pytest.mark.parametrize("q,var", [(0.3, 1.0), (1.0, 2.0), (2.5, 0.5)])
def test_cdf_matches_quadrature(q, var):
    lo, hi = rm.mp_edges(ratio=q, variance=var)
    atom = max(0.0, 1 - 1 / q)
    for x in np.linspace(lo, hi, 7)[1:-1]:
        quad = integrate.quad(lambda s: rm.mp_density(s, ratio=q, variance=var), lo, x, limit=200)[0]
        np.testing.assert_allclose(rm.mp_cdf(x, ratio=q, variance=var), atom + quad, atol=1e-7)
    assert rm.mp_cdf(hi * 1.01, ratio=q, variance=var) == 1.0 and rm.mp_cdf(-1.0, ratio=q, variance=var) == 0.0


@pytest.mark.parametrize("q,var,z", [(0.3, 1.0, 0.1), (0.3, 1.0, -2.0), (1.0, 2.0, -0.5), (2.5, 0.5, -0.3)])
def test_stieltjes_and_derivative_match_quadrature(q, var, z):
    atom = max(0.0, 1 - 1 / q)
    m = _integral(lambda s: 1 / (s - z), q, var) + atom / (0 - z)
    dm = _integral(lambda s: 1 / (s - z) ** 2, q, var) + atom / z**2
    np.testing.assert_allclose(rm.mp_stieltjes(z, ratio=q, variance=var), m, rtol=1e-6)
    np.testing.assert_allclose(rm.mp_stieltjes_derivative(z, ratio=q, variance=var), dm, rtol=1e-6)


def test_empirical_spectrum_of_a_large_wishart_matrix_follows_the_cdf():
    rng = np.random.default_rng(0)
    n, m, var = 2000, 800, 1.5
    w = rng.normal(scale=np.sqrt(var), size=(n, m))
    eig = np.sort(np.linalg.eigvalsh(w.T @ w / n))
    cdf = rm.mp_cdf(eig, ratio=m / n, variance=var)
    ks = np.max(np.maximum(np.arange(1, m + 1) / m - cdf, cdf - np.arange(m) / m))
    assert ks < 10 / m                                    # rigid spectra: O(log m / m), far below 1/sqrt(m)


def test_largest_eigenvalue_matches_monte_carlo():
    rng = np.random.default_rng(1)
    n, m, reps = 200, 100, 600
    w = rng.normal(size=(reps, n, m))
    top = np.linalg.eigvalsh(w.transpose(0, 2, 1) @ w / n)[:, -1]        # batched BLAS (einsum: ~10x slower)
    mean, sd = rm.largest_eigenvalue(rows=n, cols=m)
    assert abs(top.mean() - mean) < 4 * top.std() / np.sqrt(reps) + 0.1 * sd   # TW error O(n^{-2/3}) in units of sd
    assert 0.8 < top.std() / sd < 1.2


@pytest.mark.parametrize("q,theta", [(0.5, 1.3), (0.25, 0.9), (1.0, 2.0)])
def test_outlier_solves_the_secular_equation(q, theta):
    """theta^2 phi_1(s) phi_2(s) = 1 with phi from the Stieltjes transforms (Benaych-Georges & Nadakuditi 2012)."""
    def secular(lam):
        g_m = -_stieltjes_above(lam, q)
        g_n = q * g_m + (1 - q) / lam    # (1/n) tr (x - X X^T)^{-1}
        return theta**2 * lam * g_m * g_n - 1.0
    edge = rm.mp_edges(ratio=q)[1]
    root = optimize.brentq(secular, edge * (1 + 1e-9), 100.0)
    np.testing.assert_allclose(rm.spike_outlier(theta, ratio=q), root, rtol=1e-8)


def _stieltjes_above(x, q):
    """m(x) = int dF(s)/(s - x) for real x above the bulk, by quadrature (independent of the closed form)."""
    atom = max(0.0, 1 - 1 / q)
    return _integral(lambda s: 1 / (s - x), q, 1.0) + atom / (0 - x)


def test_outlier_matches_monte_carlo_and_threshold_is_continuous():
    rng = np.random.default_rng(2)
    n, m, theta = 800, 400, 1.5
    u, v = rng.normal(size=n), rng.normal(size=m)
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    tops = []
    for _ in range(8):
        w = rng.normal(size=(n, m)) / np.sqrt(n) + theta * np.outer(u, v)
        tops.append(np.linalg.eigvalsh(w.T @ w)[-1])
    tops = np.array(tops)
    assert abs(tops.mean() - rm.spike_outlier(theta, ratio=m / n)) < 4 * tops.std() / np.sqrt(8) + 2.0 / np.sqrt(n)
    q = 0.3
    thr = rm.bbp_threshold(ratio=q)
    np.testing.assert_allclose(rm.spike_outlier(thr * (1 + 1e-9), ratio=q), rm.mp_edges(ratio=q)[1], rtol=1e-6)
    np.testing.assert_allclose(rm.spike_outlier(1.5, ratio=q, variance=4.0), 4.0 * rm.spike_outlier(1.5, ratio=q))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="ratio"):
        rm.mp_edges(ratio=0.0)
    with pytest.raises(ValueError, match="variance"):
        rm.mp_cdf(1.0, ratio=0.5, variance=-1.0)
    with pytest.raises(ValueError, match="below the bulk"):
        rm.mp_stieltjes(1.0, ratio=0.5)
    with pytest.raises(ValueError, match="below the bulk"):
        rm.mp_stieltjes(0.0, ratio=2.0)
    with pytest.raises(ValueError, match="theta"):
        rm.spike_outlier(-1.0, ratio=0.5)
    with pytest.raises(ValueError, match="rows"):
        rm.largest_eigenvalue(rows=1, cols=3)


def test_cdf_correction_matches_monte_carlo_in_the_bulk():
    """E F_m(x) - F(x) = -arcsin(u)/(2 pi m) (Bai-Silverstein) at four bulk points, from 4000 small Wishart matrices."""
    rng = np.random.default_rng(4)
    m, n, reps = 50, 100, 4000
    w = rng.normal(size=(reps, n, m))
    eig = np.linalg.eigvalsh(w.transpose(0, 2, 1) @ w / n)
    lo, hi = rm.mp_edges(ratio=m / n)
    x = 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.array([-0.7, -0.3, 0.3, 0.7])
    f = (eig[:, :, None] <= x).mean(1)
    diff = f.mean(0) - rm.mp_cdf(x, ratio=m / n)
    se = f.std(0) / np.sqrt(reps)
    pred = rm.mp_cdf_correction(x, ratio=m / n, size=m)
    assert np.all(np.abs(diff - pred) < 4 * se + 0.05 / m)          # O(1/m^2) remainder
    assert np.any(np.abs(diff) > 4 * se)                             # the correction itself is resolved


def test_trained_spikes_match_explicit_gradient_descent():
    rng = np.random.default_rng(5)
    n, m, lr, steps = 30, 12, 0.1, 7
    u, v = np.linalg.qr(rng.normal(size=(n, 2)))[0], np.linalg.qr(rng.normal(size=(m, 2)))[0]
    s = np.array([20.0, 5.0])
    teacher = (u * s) @ v.T
    w0 = 0.7 * rng.normal(size=(n, m))
    w = w0.copy()
    for _ in range(steps):                       # whitened inputs: grad of 1/(2P) sum |y - W x|^2 is W - T
        w -= lr * (w - teacher)
    theta, bulk = rm.trained_spikes(s, lr=lr, steps=steps, rows=n, scale=0.7)
    np.testing.assert_allclose(w, (bulk / 0.7) * w0 + (1 - bulk / 0.7) * teacher, atol=1e-12)
    np.testing.assert_allclose(u.T @ (w - (bulk / 0.7) * w0) @ v, np.diag(theta * bulk * np.sqrt(n)), atol=1e-10)
    with pytest.raises(ValueError, match="lr"):
        rm.trained_spikes(s, lr=1.5, steps=1, rows=n)
    with pytest.raises(ValueError, match="ratio"):
        rm.mp_cdf_correction(1.0, ratio=2.0, size=10)
