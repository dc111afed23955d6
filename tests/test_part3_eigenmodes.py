"""Chapter eigenmodes (Part III): the conservation law as a unit test, the corrected learnability, the NTK of a
two-layer ReLU network on the sphere and the exact read-out of a trained network's mode coefficients.

Independent checks: a QR projector for the sum rule, the general recursion of `kernels.ntk_kernel` for the
closed-form NTK, a Monte Carlo Funk-Hecke integral for the eigenvalues, brute-force quadrature and a large
test set for the coefficients of a network on the spherical harmonics.
"""

import jax
import numpy as np
import pytest
from scipy import integrate, special

from lmtheory.simulation import learnability as lb
from lmtheory.simulation import mode_filling as mf
from lmtheory.theory import eigenlearning as el
from lmtheory.theory import kernels

jax.config.update("jax_enable_x64", True)
LAM = np.arange(1, 65, dtype=float) ** -1.5          # the chapter's spectrum: M = 64 modes, a = 1.5


@pytest.mark.parametrize("n", [2, 8, 32])
def test_sum_rule_holds_on_every_sample_of_the_chapter(n):
    """The former chapter check em-sum-rule: a trace identity, true for any sample (rounding only)."""
    learn = mf.sampled_learnabilities(jax.random.key(n), n, LAM, 256)
    assert np.abs(learn.sum(1) - n).max() < 1e-8 * n
    assert float(el.learnability_sum(n, LAM)) == pytest.approx(n, rel=1e-10)
    phi = np.random.default_rng(n).standard_normal((n, LAM.size))
    np.testing.assert_allclose(mf.sampled_learnabilities(jax.random.key(0), n, LAM, 1)[0].sum(), n, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(lb.empirical_learnabilities(phi, LAM)).sum(), n, rtol=1e-9)


def test_sampled_learnabilities_match_the_single_sample_function():
    key = jax.random.key(3)
    batch = mf.sampled_learnabilities(key, 5, LAM, 3, ridge=0.2, chunk=2)
    phi = np.random.default_rng(np.asarray(jax.random.key_data(key))).standard_normal((2, 5, LAM.size))
    np.testing.assert_allclose(batch[0], np.asarray(lb.empirical_learnabilities(phi[0], LAM, 0.2)), rtol=1e-10)


def test_corrected_learnability_is_l_plus_delta_l_and_conserves_n():
    for n in (2, 16):
        ell = el.learnability(LAM, el.effective_ridge(n, LAM))
        np.testing.assert_allclose(el.corrected_learnability(n, LAM), ell + el.finite_sample_correction(n, LAM))
        assert abs(el.corrected_learnability(n, LAM).sum() - n) < 1e-9
    assert el.corrected_learnability(np.array([4, 8]), LAM).shape == (2, LAM.size)


def test_relu_ntk_sphere_is_the_general_recursion_without_output_bias():
    rng = np.random.default_rng(0)
    for dim in (3, 8):
        x = rng.standard_normal((6, dim))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        general = np.asarray(kernels.ntk_kernel(np.sqrt(dim) * x, depth=2, sigma_b=1.0))   # has an output bias: +1
        np.testing.assert_allclose(el.relu_ntk_sphere(np.clip(x @ x.T, -1, 1)) + 1.0, general, atol=1e-10)


def test_sphere_spectrum_by_funk_hecke_and_by_monte_carlo():
    dim = 5
    lam, mult, tail = el.relu_ntk_sphere_spectrum(dim, 60)
    assert mult[:3].tolist() == [1.0, 5.0, 14.0] and 0 <= tail < 0.02
    assert abs(np.sum(mult * lam) + tail - 2.0) < 1e-12
    # K phi = lambda phi for phi = sqrt(d) x_1, by Monte Carlo over x' at a fixed x
    x = np.zeros(dim)
    x[0] = 1.0
    xs = np.asarray(mf.sphere_inputs(jax.random.key(1), 400_000, dim), dtype=float)
    est = np.mean(el.relu_ntk_sphere(np.clip(xs @ x, -1, 1)) * np.sqrt(dim) * xs[:, 0])
    assert abs(est - lam[1] * np.sqrt(dim)) < 5e-3


def test_sphere_learnability_solves_the_kappa_equation_with_the_tail_as_a_ridge():
    lam, mult, tail = el.relu_ntk_sphere_spectrum(8)
    ell = el.relu_ntk_sphere_learnability(16, 8, np.arange(121))
    kappa = lam[1] * (1 - ell[1]) / ell[1]
    assert abs(np.sum(mult * ell) + tail / kappa - 16) < 1e-8


def test_product_harmonics_are_orthonormal_and_the_network_starts_at_zero():
    dim, subsets = 6, [(), (0,), (1,), (0, 1), (2, 3), (0, 1, 2)]
    x = mf.sphere_inputs(jax.random.key(2), 200_000, dim)
    phi = np.asarray(mf.product_harmonics(x, subsets), dtype=float)
    np.testing.assert_allclose(phi.T @ phi / len(phi), np.eye(len(subsets)), atol=0.02)
    params = mf.init_twins(jax.random.key(3), dim, 16, 2)
    assert np.abs(np.asarray(mf.apply(params, x[:10]))).max() < 1e-6            # zero up to float32 rounding


def test_funk_hecke_projection_of_a_network_matches_quadrature_and_a_test_set():
    dim, r, b = 8, 1.3, 0.4
    c_d = np.exp(special.gammaln(dim / 2) - special.gammaln((dim - 1) / 2)) / np.sqrt(np.pi)
    alpha = (dim - 2) / 2

    def brute(ell):
        f = lambda t: (max(r * t + b, 0) * special.eval_gegenbauer(ell, alpha, t)  # noqa: E731
                       / special.eval_gegenbauer(ell, alpha, 1) * (1 - t * t) ** ((dim - 3) / 2))
        return c_d * integrate.quad(f, -1, 1, points=[-b / r], epsabs=1e-13)[0]

    np.testing.assert_allclose(mf.relu_funk_hecke(np.array(r), np.array(b), dim, 3), [brute(k) for k in range(4)],
                               atol=1e-9)
    subsets = [(), (0,), (0, 1), (0, 1, 2)]
    params = mf.init_twins(jax.random.key(4), dim, 64, len(subsets))
    params = {**params, "a": params["a"].at[32:].set(0.3)}                # break the twins: f != 0
    x = mf.sphere_inputs(jax.random.key(5), 400_000, dim)
    test_set = np.asarray(mf.apply(params, x) * mf.product_harmonics(x, subsets)).mean(0)
    np.testing.assert_allclose(np.diag(mf.harmonic_coefficients(params, subsets)), test_set, atol=8e-3)


def test_lazy_training_converges_and_interpolates():
    params, resid = mf.train_on_harmonics(jax.random.key(6), [(0,), (0, 1)], 16.0, 0.06, n=8, dim=8, width=64,
                                          steps=100)
    assert float(np.max(resid)) < 1e-3
    assert mf.own_coefficients(params, [(0,), (0, 1)], 16.0).shape == (2,)


@pytest.mark.parametrize("call, message", [
    (lambda: el.relu_ntk_sphere(1.5), "cosine"),
    (lambda: el.sphere_multiplicity(2, [1]), "dim"),
    (lambda: el.sphere_multiplicity(4, [-1]), "degree"),
    (lambda: el.relu_ntk_sphere_learnability(8, 5, [200]), "degrees"),
    (lambda: el.corrected_learnability(0, LAM), "n"),
    (lambda: mf.init_twins(jax.random.key(0), 3, 5, 1), "width"),
])
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
