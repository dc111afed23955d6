"""Signal propagation (Part II): the finite-window decay slope of the correlation map."""

import numpy as np
import pytest
from scipy import optimize

from lmtheory.theory import meanfield as mf


def _erf_slope(sigma_w, sigma_b, c1, first, last):
    """The same slope from Williams' closed-form erf correlation map (no quadrature), fitted with numpy."""
    def var_map(q):
        return sigma_w**2 * 2 / np.pi * np.arcsin(2 * q / (1 + 2 * q)) + sigma_b**2

    q = optimize.brentq(lambda v: var_map(v) - v, 1e-9, 50.0)

    def corr_map(c):
        return (sigma_w**2 * 2 / np.pi * np.arcsin(2 * q * c / (1 + 2 * q)) + sigma_b**2) / q

    chi_1 = sigma_w**2 * 4 / (np.pi * np.sqrt((1 + 2 * q) ** 2 - 4 * q**2))        # C'(1)
    c_star = 1.0 if chi_1 <= 1 else optimize.brentq(lambda c: corr_map(c) - c, 0.0, 1 - 1e-9, xtol=1e-15)
    c = [c1]
    for _ in range(last - 2):
        c.append(corr_map(c[-1]))
    layers = np.arange(1, last)
    window = slice(first - 1, last - 1)
    return np.polyfit(layers[window], np.log(np.abs(np.array(c)[window] - c_star)), 1)[0]


@pytest.mark.parametrize("sigma_w, c1", [(1.0, 0.2), (2.5, 0.8)])        # ordered and chaotic
def test_decay_slope_matches_closed_form_erf_map(sigma_w, c1):
    got = mf.correlation_decay_slope(c1, first=5, last=20, sigma_w=sigma_w, sigma_b=0.3, activation="erf")
    assert got == pytest.approx(_erf_slope(sigma_w, 0.3, c1, 5, 20), rel=1e-8)


def test_decay_slope_near_the_fixed_point_is_ln_chi_c():
    c_star = mf.correlation_fixed_point(sigma_w=2.5, sigma_b=0.3)
    got = mf.correlation_decay_slope(c_star + 1e-7, first=1, last=5, sigma_w=2.5, sigma_b=0.3)
    assert got == pytest.approx(np.log(mf.chi_c(sigma_w=2.5, sigma_b=0.3)), rel=1e-5)


def test_decay_slope_differs_from_asymptote_over_a_shallow_window():
    """The O((c - c*)^2) term: over layers 5-20 the chaotic slope is ~2% flatter than -1/xi_c."""
    sb = np.sqrt(0.05)
    s = mf.correlation_decay_slope(0.5 + 0.5 * sb**2 / mf.q_fixed_point(sigma_w=2.5, sigma_b=sb), first=5, last=20,
                                   sigma_w=2.5, sigma_b=sb)
    asym = -1 / mf.correlation_depth_scale(sigma_w=2.5, sigma_b=sb)
    assert 0.01 < 1 - s / asym < 0.03


@pytest.mark.parametrize("kwargs", [dict(first=5, last=6), dict(first=0, last=10), dict(first=5, last=20.5)])
def test_decay_slope_rejects_bad_windows(kwargs):
    with pytest.raises(ValueError):
        mf.correlation_decay_slope(0.5, sigma_w=1.0, sigma_b=0.3, **kwargs)


@pytest.mark.parametrize("c1", [np.nan, 1.5, -2.0])
def test_decay_slope_rejects_bad_c1(c1):
    with pytest.raises(ValueError, match="c1"):
        mf.correlation_decay_slope(c1, first=5, last=20, sigma_w=1.0, sigma_b=0.3)
