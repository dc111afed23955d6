"""Scaling-law theory against independent computations: fitted convergence to the asymptotic exponents and
effective ridge, and Monte Carlo random-feature projections."""

import numpy as np
import pytest

from lmtheory.theory import eigenlearning as el
from lmtheory.theory import scaling


def test_power_law_and_exponents():
    np.testing.assert_allclose(scaling.power_law(4, 1.5, scale=2.0), 2.0 * np.arange(1, 5.0) ** -1.5)
    assert scaling.data_limited_exponent(2.0, 3.0) == 2.0 and scaling.data_limited_exponent(1.5, 5.0) == 3.0
    assert scaling.model_limited_exponent(1.5, 1.5) == 0.5 and scaling.model_limited_exponent(2.0, 5.0) == 2.0


def test_asymptotic_kappa_converges_like_one_over_n():
    lam = scaling.power_law(2_000_000, 2.0)
    n = np.array([100.0, 200.0, 400.0, 800.0])
    rel = np.abs(el.effective_ridge(n, lam) / scaling.asymptotic_kappa(n, 2.0) - 1)
    assert rel[-1] < 0.01
    rate = np.polyfit(np.log(n), np.log(rel), 1)[0]
    assert rate == pytest.approx(-1.0, abs=0.15)


@pytest.mark.parametrize("a, b", [(2.0, 3.0), (2.0, 6.0), (1.5, 2.5)])
def test_data_limited_curves_approach_the_exponent(a, b):
    lam = scaling.power_law(1_000_000, a)
    power = scaling.power_law(1_000_000, b)
    n = np.array([1000.0, 2000.0, 4000.0])                                     # 1 << n << number of modes
    slope = scaling.curve_loglog_slope(n, el.mse_test(n, lam, power))
    assert slope == pytest.approx(-scaling.data_limited_exponent(a, b), abs=0.03)


@pytest.mark.parametrize("a, b", [(2.0, 2.0), (2.0, 4.0)])
def test_random_feature_curves_approach_the_exponent(a, b):
    lam, power = scaling.power_law(1_000_000, a), scaling.power_law(1_000_000, b)
    p = np.array([1000.0, 2000.0, 4000.0])
    slope = scaling.curve_loglog_slope(p, scaling.random_feature_error(p, lam, power))
    assert slope == pytest.approx(-scaling.model_limited_exponent(a, b), abs=0.03)


def test_random_feature_error_matches_monte_carlo_projections():
    rng = np.random.default_rng(0)
    m, p, n_seeds = 300, 40, 300
    lam = scaling.power_law(m, 2.0)
    u = np.sqrt(lam)                                     # isotropic teacher w = 1: u = Lambda^(1/2) w
    a_mat = rng.standard_normal((n_seeds, p, m)) * np.sqrt(lam)          # one batched solve for all seeds
    au = a_mat @ u
    errs = u @ u - np.sum(au * np.linalg.solve(a_mat @ a_mat.transpose(0, 2, 1), au[..., None])[..., 0], -1)
    mean, se = np.mean(errs), np.std(errs, ddof=1) / np.sqrt(n_seeds)
    pred = scaling.random_feature_error(p, lam, lam)
    assert abs(mean - pred) <= max(4 * se, 2.0 / p * pred)                     # O(1/p) allowance


def test_curve_loglog_slope_of_an_exact_power_law_and_of_a_curved_law():
    x = np.array([3.0, 10.0, 30.0, 100.0])
    assert scaling.curve_loglog_slope(x, 5.0 * x**-0.7) == pytest.approx(-0.7, abs=1e-12)
    curved = x**-0.7 + 0.3 / x**2                                            # against numpy's own fit
    assert scaling.curve_loglog_slope(x, curved) == pytest.approx(np.polyfit(np.log(x), np.log(curved), 1)[0],
                                                                  rel=1e-12)


@pytest.mark.parametrize("call", [
    lambda: scaling.power_law(0, 2.0),
    lambda: scaling.data_limited_exponent(1.0, 3.0),
    lambda: scaling.model_limited_exponent(2.0, 0.5),
    lambda: scaling.asymptotic_kappa(10.0, 0.9),
    lambda: scaling.random_feature_error(2, [1.0, 1.0], [1.0]),
    lambda: scaling.curve_loglog_slope([1.0, 2.0], [1.0]),
])
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()
