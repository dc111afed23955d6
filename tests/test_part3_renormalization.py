"""Finite-range fits of the kernel flow (chapter renormalization): window_exponent and window_rate, each against
an independent computation (a flow iterated with adaptive quadrature, exact scale-invariant flows, the
asymptotic finite-width shift -l/(3n))."""

import numpy as np
import pytest
from scipy import integrate

from lmtheory.theory import renormalization as rg


def _quad_flow(k1, depth, phi, sigma_w):
    """K^1..K^depth of K' = sigma_w^2 E[phi(sqrt(K) z)^2], by adaptive quadrature (not Gauss-Hermite)."""
    out = [k1]
    for _ in range(depth - 1):
        k = out[-1]
        val, _ = integrate.quad(lambda z: phi(np.sqrt(k) * z) ** 2 * np.exp(-z * z / 2) / np.sqrt(2 * np.pi),
                                -np.inf, np.inf, epsabs=1e-14, epsrel=1e-12)
        out.append(sigma_w**2 * val)
    return np.array(out)


def test_window_exponent_matches_a_flow_iterated_by_quadrature():
    lo, hi = 4, 40
    k = _quad_flow(1.0, hi, np.tanh, 1.0)
    layers = np.arange(lo, hi + 1)
    expected = np.polyfit(np.log(layers), np.log(k[lo - 1:]), 1)[0]
    assert abs(rg.window_exponent(1.0, window=(lo, hi), activation="tanh", sigma_w=1.0) - expected) < 1e-7


def test_window_exponent_approaches_minus_one_deep_in_the_network():
    shallow = rg.window_exponent(1.0, window=(16, 256), activation="tanh", sigma_w=1.0)
    deep = rg.window_exponent(1.0, window=(1000, 10000), activation="tanh", sigma_w=1.0)
    assert abs(deep + 1) < abs(shallow + 1)
    assert abs(deep + 1) < 0.02


@pytest.mark.parametrize("sigma_w", [0.8, 1.0, 1.3])
def test_window_rate_of_a_scale_invariant_flow_is_exact(sigma_w):
    rate = rg.window_rate(2.0, window=(3, 30), activation="relu", sigma_w=sigma_w)
    assert abs(rate - np.log(sigma_w**2 / 2)) < 1e-10


def test_window_rate_tends_to_ln_chi_deep_below_criticality():
    rate = rg.window_rate(1.0, window=(60, 120), activation="tanh", sigma_w=0.9)
    assert abs(rate - rg.relaxation_rate(activation="tanh", sigma_w=0.9)) < 1e-3
    shallow = rg.window_rate(1.0, window=(2, 10), activation="tanh", sigma_w=0.9)
    assert abs(shallow - np.log(0.81)) > abs(rate - np.log(0.81))     # the O(K) correction fades with depth


def test_finite_width_shift_of_the_exponent_is_minus_l_over_3n():
    n, window = 100_000, (64, 256)
    shift = (rg.window_exponent(1.0, window=window, activation="tanh", sigma_w=1.0, width=n)
             - rg.window_exponent(1.0, window=window, activation="tanh", sigma_w=1.0))
    layers = np.arange(window[0], window[1] + 1)
    expected = np.polyfit(np.log(layers), -layers / (3 * n), 1)[0]    # ln(1 - l/3n) ~ -l/3n, asymptotic in l
    assert shift < 0
    assert abs(shift / expected - 1) < 0.15


def test_window_checks_its_arguments():
    with pytest.raises(ValueError):              # the first-order mean at width 32 turns negative by l ~ 64
        rg.window_exponent(1.0, window=(16, 256), activation="tanh", sigma_w=1.0, width=32)
    with pytest.raises(ValueError, match="3 layers"):
        rg.window_rate(1.0, window=(5, 6), activation="tanh", sigma_w=0.9)
    with pytest.raises(ValueError):
        rg.window_exponent(1.0, window=(4, 40), activation="softsign", sigma_w=1.0)
