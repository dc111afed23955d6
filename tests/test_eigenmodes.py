"""Learnability as an occupation number (chapter eigenmodes): measured learnabilities, the sum rule, the
Fermi-Dirac form and the first finite-n correction, each against an independent computation.

Identities are checked in float64 against other linear algebra (a QR projector, eigenvalues of K); Monte Carlo
averages with a tolerance of 4 standard errors plus the stated finite-n allowance.
"""

import jax
import numpy as np
import pytest

from lmtheory.simulation import learnability as lb
from lmtheory.theory import eigenlearning as el
from lmtheory.theory import kernels

RNG = np.random.default_rng(0)
LAM = np.arange(1, 25, dtype=float) ** -1.5          # M = 24 modes


def _projector_diagonal(phi, lam):
    """diag of the orthogonal projector onto the row space of Z = Phi Lambda^(1/2), via QR (no K^{-1})."""
    q, _ = np.linalg.qr((phi * np.sqrt(lam)).T)
    return np.sum(q**2, axis=1)


@pytest.mark.parametrize("n", [1, 5, 17, 24])
def test_sum_rule_is_the_rank_of_a_projection(n):
    phi = RNG.normal(size=(n, LAM.size))
    learn = np.asarray(lb.empirical_learnabilities(phi, LAM))
    assert abs(learn.sum() - n) < 1e-9 * n
    np.testing.assert_allclose(learn, _projector_diagonal(phi, LAM), atol=1e-10)
    assert np.all((learn > -1e-12) & (learn < 1 + 1e-12))


def test_ridge_sum_is_trace_of_k_over_k_plus_ridge():
    phi, ridge = RNG.normal(size=(10, LAM.size)), 0.2
    k_eig = np.linalg.eigvalsh((phi * LAM) @ phi.T)
    learn = np.asarray(lb.empirical_learnabilities(phi, LAM, ridge))
    assert abs(learn.sum() - np.sum(k_eig / (k_eig + ridge))) < 1e-10


def test_transfer_matrix_is_an_idempotent_whose_trace_is_basis_free():
    n = 9
    phi = RNG.normal(size=(n, LAM.size))
    t = np.asarray(lb.transfer_matrix(phi, LAM))
    np.testing.assert_allclose(t @ t, t, atol=1e-9)                       # learning twice changes nothing
    np.testing.assert_allclose(np.diag(t), lb.empirical_learnabilities(phi, LAM), atol=1e-12)
    q, _ = np.linalg.qr(RNG.normal(size=(LAM.size, LAM.size)))            # another orthonormal basis
    assert abs(np.trace(q.T @ t @ q) - n) < 1e-9
    # T is what regression does: fitting the target phi_j reproduces column j of T as coefficients
    target = phi[:, 3]
    coef = LAM * (phi.T @ np.linalg.solve((phi * LAM) @ phi.T, target))
    np.testing.assert_allclose(coef, t[:, 3], atol=1e-10)


def test_fermi_dirac_is_the_learnability_and_stable():
    lam, kappa = RNG.uniform(1e-6, 10, size=50), 0.37
    np.testing.assert_allclose(el.fermi_dirac(-np.log(lam), -np.log(kappa)), lam / (lam + kappa), rtol=1e-13)
    extreme = el.fermi_dirac(np.array([-800.0, 0.0, 800.0]), 0.0)
    assert extreme.tolist() == [1.0, 0.5, 0.0]


def test_learnability_sum_is_n_minus_ridge_over_kappa():
    n, ridge = 7, 0.3
    kappa = float(el.effective_ridge(n, LAM, ridge=ridge))
    assert abs(float(el.learnability_sum(n, LAM, ridge=ridge)) - (n - ridge / kappa)) < 1e-10
    assert abs(float(el.learnability_sum(n, LAM)) - n) < 1e-10
    assert float(el.learnability_sum(40, LAM)) == LAM.size                  # more samples than modes


def _monte_carlo(n, lam, samples, seed):
    phi = np.random.default_rng(seed).normal(size=(samples, n, lam.size))
    k = (phi * lam) @ phi.transpose(0, 2, 1)                        # batched BLAS (einsum: several x slower)
    learn = lam * np.einsum("sni,sni->si", phi, np.linalg.solve(k, phi))
    return learn.mean(0), learn.std(0, ddof=1) / np.sqrt(samples)


def test_monte_carlo_learnability_matches_theory_within_se_and_correction_bound():
    n = 16
    lam = np.arange(1, 49, dtype=float) ** -1.0
    mean, se = _monte_carlo(n, lam, 3000, 1)
    ell = el.learnability(lam, el.effective_ridge(n, lam))
    bound = 0.25 / np.sum(ell * (1 - ell))                                 # |Delta L| <= 1/(4 D)
    assert np.all(np.abs(mean - ell) <= 4 * se + bound)


def test_finite_sample_correction_sums_to_zero_and_improves_small_n():
    n = 3
    lam = np.arange(1, 25, dtype=float) ** -1.5
    corr = el.finite_sample_correction(n, lam)
    assert abs(corr.sum()) < 1e-12
    ell = el.learnability(lam, el.effective_ridge(n, lam))
    assert np.all(np.abs(corr) <= 0.25 / np.sum(ell * (1 - ell)) + 1e-15)
    mean, se = _monte_carlo(n, lam, 20000, 2)
    assert np.sum((mean - ell - corr) ** 2) < 0.5 * np.sum((mean - ell) ** 2)   # the correction explains the bias
    assert np.abs(mean - ell)[0] > 4 * se[0]                                # and the bias is real at small n


def test_fourier_features_are_orthonormal_and_build_the_circle_kernel():
    n_freq, grid = 6, 64
    x = 2 * np.pi * np.arange(grid) / grid                                   # exact quadrature for |k| < grid
    phi = np.asarray(lb.fourier_features(jax.numpy.asarray(x), n_freq), float)
    np.testing.assert_allclose(phi.T @ phi / grid, np.eye(2 * n_freq + 1), atol=1e-12)
    spec, mult = kernels.circle_spectrum(4, n_freq)
    lam = np.repeat(spec, mult.astype(int))
    exact = np.asarray(kernels.circle_kernel(x[:5], x[:5], exponent=4), float)
    tail = 2 * sum(k**-4.0 for k in range(n_freq + 1, 10_000))               # the truncated part, at most
    assert np.abs((phi[:5] * lam) @ phi[:5].T - exact).max() <= tail + 1e-12


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="features"):
        lb.transfer_matrix(np.ones((3, 4)), np.ones(5))
    with pytest.raises(ValueError, match="features"):
        lb.empirical_learnabilities(np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match="n_frequencies"):
        lb.fourier_features(np.zeros(3), 0)
    with pytest.raises(ValueError, match="finite"):
        el.fermi_dirac(np.inf, 0.0)
    with pytest.raises(ValueError, match="eigenvalues"):
        el.finite_sample_correction(4, [1.0, -1.0])
    with pytest.raises(ValueError, match="n"):
        el.finite_sample_correction(0, [1.0, 0.5])
    with pytest.raises(ValueError, match="ridge"):
        el.learnability_sum(3, [1.0, 0.5], ridge=-1.0)
