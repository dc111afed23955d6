"""Kernel-flow (RG) theory against independent computations: polynomial fits of the quadrature map, finite
differences, the mean-field module, iteration of the exact recursion and fitted convergence rates."""

import numpy as np
import pytest

from lmtheory.theory import meanfield as mf
from lmtheory.theory import renormalization as rg

K_STAR_ZERO = ("tanh", "erf", "sin")


@pytest.mark.parametrize("activation", K_STAR_ZERO)
def test_flow_coefficients_match_a_fit_of_the_quadrature_map(activation):
    s_w = rg.critical_couplings(activation)[1]
    k = np.linspace(2e-3, 3e-2, 40)
    resid = (mf.q_map(k, sigma_w=s_w, sigma_b=0.0, activation=activation) - k) / k**2   # = a_1 + a_2 K + ...
    _, _, a2_fit, a1_fit = np.polyfit(k, resid, 3)
    a1, a2 = rg.flow_coefficients(activation)
    assert a1_fit == pytest.approx(a1, rel=1e-5)
    assert a2_fit == pytest.approx(a2, rel=1e-3)


@pytest.mark.parametrize("activation", K_STAR_ZERO + ("relu", "linear"))
def test_critical_couplings_agree_with_meanfield(activation):
    assert rg.critical_couplings(activation)[1] == pytest.approx(mf.critical_sigma_w(0.0, activation=activation),
                                                                 rel=1e-12)


@pytest.mark.parametrize("activation", K_STAR_ZERO)
def test_second_order_asymptote_converges_faster_than_the_first(activation):
    depth = 20000
    k = rg.kernel_flow(1.0, depth=depth, activation=activation, sigma_w=rg.critical_couplings(activation)[1])
    layers = np.array([1000, 2000, 4000, 8000, 16000])
    err1 = np.abs(k[layers - 1] / rg.critical_kernel(layers, activation=activation) - 1)
    err2 = np.abs(k[layers - 1] / rg.critical_kernel(layers, activation=activation, order=2) - 1)
    assert np.polyfit(np.log(layers), np.log(err1), 1)[0] < -0.75          # ~ ln l / l
    assert np.polyfit(np.log(layers), np.log(err2), 1)[0] == pytest.approx(-1.0, abs=0.1)   # ~ c / l
    assert np.all(err2 < err1)


@pytest.mark.parametrize("activation, k", [("tanh", 0.4), ("erf", 1.3), ("sin", 0.05), ("relu", 0.7)])
def test_susceptibilities_are_the_derivative_of_the_map_and_chi_1(activation, k):
    s_w = 1.3
    h = 1e-5 * k
    deriv = (mf.q_map(k + h, sigma_w=s_w, sigma_b=0.0, activation=activation)
             - mf.q_map(k - h, sigma_w=s_w, sigma_b=0.0, activation=activation)) / (2 * h)
    chi_par, chi_perp = rg.susceptibilities(k, activation=activation, sigma_w=s_w)
    assert chi_par == pytest.approx(float(deriv), rel=1e-6)
    _, dphi = mf.ACTIVATIONS[activation]
    assert chi_perp == pytest.approx(s_w**2 * float(mf.gaussian_mean(lambda u: dphi(u) ** 2, k)), rel=1e-10)


def test_susceptibilities_at_zero_are_the_small_kernel_limits():
    for a in K_STAR_ZERO:
        s_w = 0.9 * rg.critical_couplings(a)[1]
        at_zero = rg.susceptibilities(0.0, activation=a, sigma_w=s_w)
        near = rg.susceptibilities(1e-7, activation=a, sigma_w=s_w)
        assert at_zero == pytest.approx(near, rel=1e-5)


@pytest.mark.parametrize("activation, sigma_w, sigma_b", [("tanh", 0.9, 0.0), ("tanh", 1.5, 0.0),
                                                         ("erf", 1.2, 0.3), ("relu", 1.2, 0.0)])
def test_relaxation_rate_matches_the_iterated_flow(activation, sigma_w, sigma_b):
    k_star = mf.q_fixed_point(sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)
    k = rg.kernel_flow(1.0, depth=400, activation=activation, sigma_w=sigma_w, sigma_b=sigma_b)
    dev = np.abs(k - k_star)
    use = (dev > 1e-11) & (dev < 1e-4)
    rate = np.polyfit(np.nonzero(use)[0], np.log(dev[use]), 1)[0]
    assert rate == pytest.approx(rg.relaxation_rate(activation=activation, sigma_w=sigma_w, sigma_b=sigma_b),
                                 rel=2e-3)


def test_classes_and_exponents():
    assert [rg.universality_class(a) for a in ("relu", "linear", "tanh", "erf", "sin")] == [
        "scale-invariant", "scale-invariant", "K*=0", "K*=0", "K*=0"]
    assert rg.critical_exponent("sin") == 1.0 and rg.critical_exponent("relu") == 0.0
    k = rg.kernel_flow(0.8, depth=50, activation="relu", sigma_w=np.sqrt(2))        # exactly marginal
    assert np.allclose(k, 0.8, rtol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: rg.flow_coefficients("relu"), "scale-invariant"),
    (lambda: rg.flow_coefficients("gelu"), "activation"),
    (lambda: rg.critical_kernel(0.0), "depth"),
    (lambda: rg.critical_kernel(10.0, order=3), "order"),
    (lambda: rg.kernel_flow(-1.0, depth=3, sigma_w=1.0), "k1"),
    (lambda: rg.kernel_flow(1.0, depth=0, sigma_w=1.0), "depth"),
    (lambda: rg.susceptibilities(-0.1, sigma_w=1.0), "kernel"),
    (lambda: rg.relaxation_rate(activation="relu", sigma_w=1.5), "scale-invariant"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---- identities of the iterated map (formerly notebook checks; deterministic, so unit tests) --------------------

@pytest.mark.parametrize("activation", K_STAR_ZERO)
def test_iterated_map_tail_is_a_power_law_with_amplitude_one_over_minus_a1(activation):
    far = np.arange(1, 10_001)
    k = rg.kernel_flow(1.0, depth=far.size, activation=activation, sigma_w=rg.critical_couplings(activation)[1])
    tail = far >= 1000
    assert np.polyfit(np.log(far[tail]), np.log(k[tail]), 1)[0] == pytest.approx(-1.0, abs=2e-3)
    assert far[-1] * k[-1] == pytest.approx(1 / -rg.flow_coefficients(activation)[0], rel=1e-3)


@pytest.mark.parametrize("activation, sigma_w, sigma_b", [("tanh", 1.0, 0.3), ("tanh", 1.2, 0.3)])
def test_window_relaxation_rate_tends_to_ln_chi_par(activation, sigma_w, sigma_b):
    k_star = mf.q_fixed_point(sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)
    deep = rg.window_relaxation_rate(3 * k_star, window=(12, 20), activation=activation, sigma_w=sigma_w,
                                     sigma_b=sigma_b)
    chi_par, chi_perp = rg.susceptibilities(k_star, activation=activation, sigma_w=sigma_w, sigma_b=sigma_b)
    assert deep == pytest.approx(np.log(chi_par), rel=2e-3)
    assert chi_par < chi_perp < 1                       # the two susceptibilities differ (saturating phi)


def test_relu_correlation_map_is_the_arc_cosine_kernel_by_quadrature():
    from scipy import integrate, stats

    for rho in (-0.6, 0.0, 0.3, 0.9):
        s = np.sqrt(1 - rho * rho)              # E[relu(m + s z)] = m Phi(m/s) + s phi(m/s), then quad over z_1

        def inner(z1):
            m = rho * z1
            return stats.norm.pdf(z1) * z1 * (m * stats.norm.cdf(m / s) + s * stats.norm.pdf(m / s))

        expected = 2 * integrate.quad(inner, 0, np.inf, epsabs=1e-13)[0]
        assert rg.relu_correlation_flow(rho, depth=2)[1] == pytest.approx(expected, abs=1e-9)


def test_relu_decorrelation_expansion_and_asymptote():
    a = 2 * np.sqrt(2) / (3 * np.pi)
    for eps in (1e-3, 1e-4):
        step = 1 - rg.relu_correlation_flow(1 - eps, depth=2)[1]
        assert (eps - step) / eps**1.5 == pytest.approx(a, rel=0.1 * eps)        # eps' = eps - A eps^(3/2)
    depth = 20_000
    eps = 1 - rg.relu_correlation_flow(0.0, depth=depth)
    layers = np.array([2000, 5000, 20_000])
    ratio = eps[layers - 1] / rg.critical_relu_decorrelation(layers)
    assert np.all(np.abs(ratio - 1) < 5 * np.log(layers) / layers)             # O(ln l / l) corrections
    assert rg.relu_correlation_exponent(0.0, window=(5000, 20_000)) == pytest.approx(-2.0, abs=5e-3)


@pytest.mark.parametrize("window", [(16, 48), (100, 400)])
def test_relu_decorrelation_slope_matches_the_iterated_map(window):
    lo, hi = window
    eps = 1 - rg.relu_correlation_flow(0.0, depth=hi)[lo - 1:]
    fitted = np.polyfit(np.arange(lo, hi + 1), eps**-0.5, 1)[0]
    assert fitted == pytest.approx(rg.relu_decorrelation_slope(window=window), rel=1e-2 * 16 / lo)


def test_he_initialization_keeps_the_mean_kernel_at_any_width():
    """Formerly the notebook check rg-marginal-relu: E[K^l] = K^1 for critical ReLU (a property of the init)."""
    import jax

    from lmtheory import random_networks as rn
    k = np.asarray(jax.vmap(lambda key: rn.kernel_flow_sample(key, width=64, depth=8, k1=1.0, sigma_w=np.sqrt(2),
                                                              activations=("relu",))[:, 0])(
        jax.random.split(jax.random.key(3), 4000)))
    mean, se = k.mean(0), k.std(0) / np.sqrt(k.shape[0])
    assert np.all(np.abs(mean - 1) < 5 * se)


def test_sample_input_kernels_first_layer_is_the_input_gram():
    import jax

    from lmtheory import random_networks as rn
    x = np.array([[[1.0, 0.0], [0.6, 0.8]]])
    k = np.asarray(jax.vmap(lambda key: rn.sample_input_kernels(key, x, width=256, depth=2, sigma_w=[1.3],
                                                                sigma_b=[0.4], activations=("tanh",)))(
        jax.random.split(jax.random.key(0), 400)))
    expected = 1.3**2 * x[0] @ x[0].T / 2 + 0.4**2
    assert np.allclose(k[:, 0, 0].mean(0), expected, atol=5 * k[:, 0, 0].std(0).max() / 20)
