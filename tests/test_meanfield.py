"""Mean-field signal propagation against independent computations: adaptive quadrature, closed forms,
iteration of the maps, finite differences (Price's theorem), fitted convergence rates and Monte Carlo."""

import numpy as np
import pytest
from scipy import integrate, special

from lmtheory.theory import meanfield as mf

SB = np.sqrt(0.05)


def _quad(f, q):
    dens = lambda z: f(np.sqrt(q) * z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)  # noqa: E731
    with np.errstate(over="ignore"):
        return integrate.quad(dens, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12, limit=200)[0]


@pytest.mark.parametrize("q", [0.05, 0.7, 2.0, 5.0])
def test_gauss_hermite_matches_adaptive_quadrature(q):
    for f in (lambda u: np.tanh(u) ** 2, lambda u: 1 / np.cosh(u) ** 4):
        assert mf.gaussian_mean(f, q) == pytest.approx(_quad(f, q), rel=1e-5)


def test_two_dimensional_rule_matches_williams_erf_kernel():
    """E[erf(u_a) erf(u_b)] = (2/pi) arcsin(2 S_ab / sqrt((1 + 2 S_aa)(1 + 2 S_bb))) (Williams 1997)."""
    for qa, qb, qab in [(0.5, 1.5, 0.3), (2.0, 2.0, -1.2), (1.0, 3.0, 1.6)]:
        exact = 2 / np.pi * np.arcsin(2 * qab / np.sqrt((1 + 2 * qa) * (1 + 2 * qb)))
        got = mf.gaussian_mean_2d(lambda a, b: special.erf(a) * special.erf(b), qa, qb, qab)
        assert got == pytest.approx(exact, rel=1e-8, abs=1e-10)


def test_relu_and_linear_variance_maps_are_linear():
    assert mf.q_map(3.0, sigma_w=1.3, sigma_b=0.4, activation="relu") == pytest.approx(1.3**2 * 1.5 + 0.16)
    assert mf.q_map(3.0, sigma_w=0.8, sigma_b=0.1, activation="linear") == pytest.approx(0.64 * 3 + 0.01)
    assert mf.q_fixed_point(sigma_w=1.2, sigma_b=0.5, activation="relu") == pytest.approx(0.25 / (1 - 0.72))


@pytest.mark.parametrize("sigma_w", [0.8, 1.3, 2.5])
def test_q_fixed_point_is_the_limit_of_the_iterated_map(sigma_w):
    q = 1.0
    for _ in range(3000):
        q = float(mf.q_map(q, sigma_w=sigma_w, sigma_b=SB))
    assert mf.q_fixed_point(sigma_w=sigma_w, sigma_b=SB) == pytest.approx(q, rel=1e-9)


def test_q_fixed_point_is_zero_when_signals_die():
    assert mf.q_fixed_point(sigma_w=0.9, sigma_b=0.0) == 0.0


@pytest.mark.parametrize("sigma_w", [1.0, 1.25, 1.6, 2.5])
def test_chi_1_is_the_slope_of_the_correlation_map_at_one(sigma_w):
    h = 1e-4
    slope = (1.0 - mf.correlation_map(1 - h, sigma_w=sigma_w, sigma_b=SB)) / h
    assert mf.chi_1(sigma_w=sigma_w, sigma_b=SB) == pytest.approx(slope, rel=2e-3)


@pytest.mark.parametrize("sigma_w", [1.6, 2.5])
def test_chaotic_fixed_point_and_chi_c_against_iteration_and_finite_differences(sigma_w):
    c = 0.5
    for _ in range(400):
        c = mf.correlation_map(c, sigma_w=sigma_w, sigma_b=SB)
    c_star = mf.correlation_fixed_point(sigma_w=sigma_w, sigma_b=SB)
    assert c_star == pytest.approx(c, abs=1e-9)
    h = 1e-5
    slope = (mf.correlation_map(c_star + h, sigma_w=sigma_w, sigma_b=SB)
             - mf.correlation_map(c_star - h, sigma_w=sigma_w, sigma_b=SB)) / (2 * h)
    assert mf.chi_c(sigma_w=sigma_w, sigma_b=SB) == pytest.approx(slope, rel=1e-5)


@pytest.mark.parametrize("sigma_w", [1.0, 2.5])
def test_depth_scale_is_the_fitted_convergence_rate_of_the_iterates(sigma_w):
    c_star = mf.correlation_fixed_point(sigma_w=sigma_w, sigma_b=SB)
    traj = mf.correlation_trajectory(0.5, depth=60, sigma_w=sigma_w, sigma_b=SB)
    late = np.arange(40, 55)
    rate = np.polyfit(late, np.log(np.abs(traj[late] - c_star)), 1)[0]
    assert -1 / rate == pytest.approx(mf.correlation_depth_scale(sigma_w=sigma_w, sigma_b=SB), rel=2e-3)


def test_critical_line():
    s = mf.critical_sigma_w(SB)
    assert mf.chi_1(sigma_w=s, sigma_b=SB) == pytest.approx(1.0, abs=1e-9)
    assert mf.critical_sigma_w(0.3, activation="relu") == pytest.approx(np.sqrt(2))
    assert mf.critical_sigma_w(0.0, activation="erf") == pytest.approx(np.sqrt(np.pi) / 2)
    assert mf.critical_sigma_w(0.2) < mf.critical_sigma_w(0.5)      # the line rises with sigma_b


def test_finite_width_q_correction_against_monte_carlo_of_the_exact_chain():
    """q^{l+1} = s_w^2 mean_i tanh(sqrt(q^l) z_i)^2 + s_b^2 over n units: the exact finite-width chain of q."""
    rng = np.random.default_rng(0)
    n, depth, chains, sw, sb = 8, 6, 200_000, 2.0, 0.3
    q = np.full(chains, 3.0)
    for _ in range(depth - 1):
        q = sw**2 * np.mean(np.tanh(np.sqrt(q)[:, None] * rng.standard_normal((chains, n))) ** 2, 1) + sb**2
    mean, se = q.mean(), q.std() / np.sqrt(chains)
    pred = mf.q_trajectory(3.0, depth=depth, sigma_w=sw, sigma_b=sb, width=n)[-1]
    infinite = mf.q_trajectory(3.0, depth=depth, sigma_w=sw, sigma_b=sb)[-1]
    assert abs(infinite - mean) > 5 * se                      # the correction is resolved ...
    assert abs(pred - mean) < 0.25 * abs(infinite - mean)    # ... and the 1/n theory accounts for most of it


def test_linear_network_log_normal_drift_against_the_chi_square_law():
    """phi = identity: ratio = s_w^2 chi^2_n / n exactly, so E ln ratio = ln s_w^2 + psi(n/2) - ln(n/2)."""
    for n in (64, 256):
        exact = np.log(0.81) + special.digamma(n / 2) - np.log(n / 2)
        got = mf.lyapunov_exponent(sigma_w=0.9, sigma_b=0.0, activation="linear", width=n)
        assert got == pytest.approx(exact, abs=2.0 / n**2)


@pytest.mark.parametrize("call, match", [
    (lambda: mf.q_map(1.0, sigma_w=1.0, sigma_b=0.1, activation="softsign"), "activation"),
    (lambda: mf.gaussian_mean(np.tanh, -1.0), "q"),
    (lambda: mf.q_map(1.0, sigma_w=0.0, sigma_b=0.1), "sigma_w"),
    (lambda: mf.q_map(1.0, sigma_w=1.0, sigma_b=-0.1), "sigma_b"),
    (lambda: mf.q_fixed_point(sigma_w=1.5, sigma_b=0.1, activation="relu"), "sigma_w"),
    (lambda: mf.correlation_map(0.5, sigma_w=0.9, sigma_b=0.0), "q\\* = 0"),
    (lambda: mf.correlation_map(1.5, sigma_w=1.0, sigma_b=0.1), "c must"),
    (lambda: mf.gaussian_mean_2d(np.multiply, 1.0, 1.0, 2.0), "q_ab"),
    (lambda: mf.correlation_trajectory(0.5, depth=0, sigma_w=1.0, sigma_b=0.1), "depth"),
    (lambda: mf.q_trajectory(1.0, depth=5, sigma_w=1.0, sigma_b=0.1, width=2.5), "width"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
