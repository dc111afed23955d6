"""Eigenlearning theory and the exactly solvable kernels, against independent computations.

Independent checks: closed forms (flat spectrum; the isotropic ridgeless risk of Hastie et al. 2022), Monte
Carlo kernel regression with Gaussian features (tolerances from standard errors plus the stated O(1/n)
finite-size allowance), brute-force eigendecompositions and truncated Fourier sums for the kernels.
"""

import jax
import numpy as np
import pytest
from scipy import special

from lmtheory.simulation import data, measure
from lmtheory.theory import eigenlearning as el
from lmtheory.theory import kernels


# ---- effective ridge ---------------------------------------------------------------------------------------

def test_flat_spectrum_kappa_closed_forms():
    lam, n_modes = 0.3, 40
    for n in (5.0, 17.0, 39.0):
        np.testing.assert_allclose(el.effective_ridge(n, [lam] * n_modes), lam * (n_modes - n) / n, rtol=1e-10)
    # with a ridge: n kappa^2 + (n lam - N lam - delta) kappa - delta lam = 0, positive root
    n, delta = 12.0, 0.7
    b = n * lam - n_modes * lam - delta
    root = (-b + np.sqrt(b**2 + 4 * n * delta * lam)) / (2 * n)
    np.testing.assert_allclose(el.effective_ridge(n, [lam] * n_modes, ridge=delta), root, rtol=1e-10)


def test_kappa_solves_its_equation_and_is_vectorized():
    lam, mult = kernels.hypercube_spectrum(12, decay=0.2)
    n = np.array([3.0, 30.0, 300.0])
    for ridge in (0.0, 0.5):
        kappa = el.effective_ridge(n, lam, ridge=ridge, multiplicity=mult)
        lhs = np.sum(mult * lam / (lam + kappa[:, None]), axis=1) + ridge / kappa
        np.testing.assert_allclose(lhs, n, rtol=1e-10)
        assert np.all(np.diff(kappa) < 0) and np.all(kappa >= ridge / n)
        one_by_one = [float(el.effective_ridge(m, lam, ridge=ridge, multiplicity=mult)) for m in n]
        np.testing.assert_allclose(kappa, one_by_one, rtol=1e-12)


def test_isotropic_limit_is_the_ridgeless_risk_of_hastie_et_al():
    n_modes, norm2, eps2 = 50, 2.0, 0.3
    power = np.full(n_modes, norm2 / n_modes)
    for n in (10.0, 30.0, 45.0):          # overparameterized: (1 - n/N) r^2 + eps^2 N / (N - n)
        expected = (1 - n / n_modes) * norm2 + eps2 * n_modes / (n_modes - n)
        np.testing.assert_allclose(el.mse_test(n, np.ones(n_modes), power, noise_variance=eps2), expected, rtol=1e-9)
    for n in (60.0, 200.0):               # underparameterized: eps^2 n / (n - N)
        np.testing.assert_allclose(el.mse_test(n, np.ones(n_modes), power, noise_variance=eps2),
                                   eps2 * n / (n - n_modes), rtol=1e-12)
        np.testing.assert_allclose(el.mse_train(n, np.ones(n_modes), power, ridge=0.0, noise_variance=eps2),
                                   eps2 * (n - n_modes) / n, rtol=1e-12)
    assert np.isinf(el.overfitting_coefficient(float(n_modes), np.ones(n_modes)))


def _gaussian_design(lam, w, n, ridge, eps2, n_seeds, rng):
    """Monte Carlo kernel regression with Gaussian features: test MSE, train MSE, learnability of mode 0."""
    out = []
    for _ in range(n_seeds):
        x = rng.standard_normal((n, lam.size)) * np.sqrt(lam)
        y = x @ w + np.sqrt(eps2) * rng.standard_normal(n)
        gram = x @ x.T
        alpha = np.linalg.solve(gram + ridge * np.eye(n), np.column_stack([y, x[:, 0] / np.sqrt(lam[0])]))
        w_hat = x.T @ alpha[:, 0]
        test = np.sum(lam * (w_hat - w) ** 2) + eps2
        train = np.mean((y - gram @ alpha[:, 0]) ** 2)
        learn = np.sqrt(lam[0]) * (x[:, 0] @ alpha[:, 1])        # coefficient of f_hat on phi_0 for target phi_0
        out.append((test, train, learn))
    return np.array(out)


@pytest.mark.parametrize("ridge", [0.0, 0.05])
def test_theory_matches_monte_carlo_kernel_regression(ridge):
    rng = np.random.default_rng(0)
    n, n_modes, eps2, n_seeds = 80, 240, 0.05, 300
    lam = np.arange(1, n_modes + 1.0) ** -1.5
    w = np.arange(1, n_modes + 1.0) ** -0.5                    # power v_k^2 = lam_k w_k^2 = k^-2.5
    sims = _gaussian_design(lam, w, n, ridge, eps2, n_seeds, rng)
    mean, se = sims.mean(0), sims.std(0, ddof=1) / np.sqrt(n_seeds)
    kappa = el.effective_ridge(n, lam, ridge=ridge)
    pred = [el.mse_test(n, lam, lam * w**2, ridge=ridge, noise_variance=eps2),
            el.mse_train(n, lam, lam * w**2, ridge=ridge, noise_variance=eps2),
            el.learnability(lam[:1], kappa)[0]]
    floor = 3.0 / n                                             # O(1/n) corrections of the asymptotic theory
    for j, p in enumerate(pred):
        if ridge == 0 and j == 1:
            assert mean[j] < 1e-18 and p == 0
            continue
        assert abs(mean[j] - p) <= max(4 * se[j], floor * abs(p)), (j, mean[j], se[j], p)


def test_learnability_and_e0_values():
    np.testing.assert_allclose(el.learnability([2.0, 1.0], np.array([1.0, 3.0])), [[2 / 3, 0.5], [0.4, 0.25]])
    assert el.overfitting_coefficient(2.0, [1.0] * 4) == pytest.approx(2.0)


@pytest.mark.parametrize("call, message", [
    (lambda: el.effective_ridge(2, [1.0, -1.0]), "eigenvalues"),
    (lambda: el.effective_ridge(2, [1.0, 1.0], multiplicity=[1.0]), "multiplicity"),
    (lambda: el.effective_ridge(2, [1.0, 1.0], ridge=-1.0), "ridge"),
    (lambda: el.effective_ridge(0, [1.0, 1.0]), "n"),
    (lambda: el.learnability([1.0], -1.0), "kappa"),
    (lambda: el.mse_test(2, [1.0, 1.0], [1.0]), "target_power"),
    (lambda: el.mse_test(2, [1.0, 1.0], [1.0, -1.0]), "target_power"),
    (lambda: el.mse_test(2, [1.0, 1.0], [1.0, 1.0], noise_variance=-1.0), "noise_variance"),
])
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---- kernels with an exactly known eigensystem ----------------------------------------------------------------

def test_hypercube_kernel_eigensystem_by_brute_force():
    dim, decay = 4, 0.35
    cube = np.array(np.meshgrid(*[[-1.0, 1.0]] * dim)).reshape(dim, -1).T       # all 16 points
    gram = np.asarray(kernels.hypercube_kernel(cube, cube, decay=decay))
    lam, mult = kernels.hypercube_spectrum(dim, decay=decay)
    expected = np.sort(np.repeat(lam, mult.astype(int)))
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(gram / len(cube))), expected, rtol=1e-10, atol=1e-14)
    subsets = [(), (0,), (1, 3), (0, 1, 2)]
    chi = np.asarray(kernels.hypercube_eigenfunctions(cube, subsets))
    np.testing.assert_allclose(chi.T @ chi / len(cube), np.eye(len(subsets)), atol=1e-12)
    for s, col in zip(subsets, chi.T):                                           # K chi_S / 16 = lambda_|S| chi_S
        np.testing.assert_allclose(gram @ col / len(cube), lam[len(s)] * col, atol=1e-12)
    sq_scale = ((1 + decay**2) / (1 + decay) ** 2) ** dim                         # K_2 = K K / 16
    np.testing.assert_allclose(np.asarray(kernels.hypercube_kernel(cube, cube, decay=decay**2, scale=sq_scale)),
                               gram @ gram / len(cube), rtol=1e-10)


@pytest.mark.parametrize("exponent", [2, 4])
def test_circle_kernel_equals_its_fourier_series(exponent):
    x1, x2 = np.linspace(0.1, 6.0, 7), np.linspace(0.0, 6.2, 5)
    k = np.arange(1, 200_001, dtype=float)
    diff = (x1[:, None] - x2[None, :]).ravel()
    series = 1.0 + 2 * np.array([np.sum(np.cos(k * d) * k**-exponent) for d in diff]).reshape(7, 5)
    np.testing.assert_allclose(np.asarray(kernels.circle_kernel(x1, x2, exponent=exponent)), series,
                               atol=3 / 200_000 ** (exponent - 1))
    lam, mult = kernels.circle_spectrum(exponent, 3)
    np.testing.assert_allclose(lam, [1.0, 1.0, 2.0**-exponent, 3.0**-exponent])
    np.testing.assert_allclose(mult, [1.0, 2.0, 2.0, 2.0])


def test_ridge_coefficients_match_numpy():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 6))
    gram, y = a @ a.T + 0.1 * np.eye(6), rng.standard_normal((6, 2))
    for ridge in (0.0, 0.3):
        np.testing.assert_allclose(np.asarray(kernels.ridge_coefficients(gram, y, ridge)),
                                   np.linalg.solve(gram + ridge * np.eye(6), y), rtol=1e-8)


@pytest.mark.parametrize("call", [
    lambda: kernels.hypercube_kernel(np.ones((1, 2)), np.ones((1, 2)), decay=1.0),
    lambda: kernels.hypercube_spectrum(3, decay=0.0),
    lambda: kernels.circle_kernel(np.zeros(1), np.zeros(1), exponent=3),
    lambda: kernels.circle_spectrum(2, 0),
])
def test_kernel_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()


# ---- samplers and measurements -----------------------------------------------------------------------------

def test_samplers_are_uniform():
    x = np.asarray(data.hypercube_inputs(jax.random.key(0), 4000, 3))
    assert set(np.unique(x)) == {-1.0, 1.0} and np.all(np.abs(x.mean(0)) < 4 / np.sqrt(4000))
    theta = np.asarray(data.circle_inputs(jax.random.key(1), 4000))
    assert abs(theta.mean() - np.pi) < 4 * np.pi / np.sqrt(3 * 4000)            # sd of U(0, 2 pi) = pi/sqrt(3)


def test_kernel_predictor_error_matches_a_test_set():
    dim, decay, n = 8, 0.3, 20
    lam, _ = kernels.hypercube_spectrum(dim, decay=decay)
    subsets, coeffs = [(0,), (1, 2)], np.array([1.0, -0.5])
    x = np.asarray(data.hypercube_inputs(jax.random.key(2), n, dim))
    chi = np.asarray(kernels.hypercube_eigenfunctions(x, subsets))
    alpha = np.linalg.solve(np.asarray(kernels.hypercube_kernel(x, x, decay=decay)) + 0.1 * np.eye(n), chi @ coeffs)
    sq = np.asarray(kernels.hypercube_kernel(x, x, decay=decay**2, scale=((1 + decay**2) / (1 + decay) ** 2) ** dim))
    exact = float(measure.kernel_predictor_error(alpha, sq, chi @ (coeffs * lam[[1, 2]]), coeffs @ coeffs))
    x_test = np.asarray(data.hypercube_inputs(jax.random.key(3), 50_000, dim))
    resid = (np.asarray(kernels.hypercube_kernel(x_test, x, decay=decay)) @ alpha
             - np.asarray(kernels.hypercube_eigenfunctions(x_test, subsets)) @ coeffs) ** 2
    assert abs(resid.mean() - exact) < 4 * resid.std() / np.sqrt(resid.size)
