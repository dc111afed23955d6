"""Deep-linear-network theory against independent computations (ODE integration, Monte Carlo, iteration)."""

import numpy as np
import pytest
from scipy import integrate, special

from lmtheory.theory import linear_networks as dln


def test_mode_trajectory_solves_the_logistic_ode():
    s, u0 = 2.0, 1e-3
    t = np.linspace(0, 5, 50)
    sol = integrate.solve_ivp(lambda _, u: 2 * u * (s - u), (0, 5), [u0], t_eval=t, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(dln.mode_trajectory(t, strength=s, init=u0), sol.y[0], rtol=1e-7)


def test_half_and_rise_times_are_where_the_trajectory_crosses():
    s, u0 = 1.5, 1e-4
    t_half = dln.half_time(strength=s, init=u0)
    np.testing.assert_allclose(dln.mode_trajectory(t_half, strength=s, init=u0), s / 2)
    t10 = dln.time_to_reach(0.1 * s, strength=s, init=u0)
    t90 = dln.time_to_reach(0.9 * s, strength=s, init=u0)
    np.testing.assert_allclose(t90 - t10, dln.rise_time(strength=s), rtol=1e-8)


@pytest.mark.parametrize("depth", [3, 4])
def test_time_to_reach_matches_direct_integration_of_the_deep_ode(depth):
    s, u0, level = 1.0, 1e-3, 0.5
    event = lambda _, u: u[0] - level  # noqa: E731
    event.terminal = True
    sol = integrate.solve_ivp(lambda _, u: depth * u ** (2 - 2 / depth) * (s - u), (0, 1e4), [u0],
                              events=event, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(dln.time_to_reach(level, strength=s, init=u0, depth=depth), sol.t_events[0][0],
                               rtol=1e-6)


def test_discrete_rate_matches_iterating_the_linear_growth_map():
    s, lr, steps = 2.0, 0.05, 200
    growth = (1 + lr * s) ** steps           # a+b after `steps` GD steps in the linear phase
    np.testing.assert_allclose(np.log(growth) / (lr * steps), dln.discrete_rate(strength=s, lr=lr))
    assert dln.discrete_rate(strength=s, lr=lr) < s


def test_expected_half_time_matches_monte_carlo_over_chi_square():
    """E[ln(s/u0)]/(2s) with u0 = sigma^2 chi^2_k / 2, estimated by sampling, vs the digamma formula."""
    rng = np.random.default_rng(0)
    s, sigma, width, m = 1.0, 1e-3, 16, 2
    samples = np.log(s / (sigma**2 * rng.chisquare(width - m, size=400_000) / 2)) / (2 * s)
    mc, se = samples.mean(), samples.std() / np.sqrt(samples.size)
    pred = dln.expected_half_time(strength=s, init_scale=sigma, width=width, rank_above=m)
    assert abs(pred - mc) < 4 * se


def test_expected_half_time_uses_e_log_chi_square():
    k = 10
    rng = np.random.default_rng(1)
    x = np.log(rng.chisquare(k, 400_000))
    assert abs(x.mean() - (special.digamma(k / 2) + np.log(2))) < 4 * x.std() / np.sqrt(x.size)


@pytest.mark.parametrize("call", [
    lambda: dln.mode_trajectory(1.0, strength=-1.0, init=0.1),
    lambda: dln.half_time(strength=1.0, init=0.6),
    lambda: dln.rise_time(strength=1.0, low=0.9, high=0.1),
    lambda: dln.discrete_rate(strength=1.0, lr=0.0),
    lambda: dln.expected_half_time(strength=1.0, init_scale=1e-3, width=0),
    lambda: dln.expected_half_time(strength=1.0, init_scale=1e-3, width=4, rank_above=4),
    lambda: dln.time_to_reach(2.0, strength=1.0, init=1e-3),
    lambda: dln.time_to_reach(0.5, strength=1.0, init=1e-3, depth=1),
])
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()
