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


def _teacher(d=6, h=5, seed=0):
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((d, d)))
    v, _ = np.linalg.qr(rng.standard_normal((d, d)))
    s = np.array([3.0, 2.0, 1.0, 0.5, 0.0, 0.0])[:d]
    e, _ = np.linalg.qr(rng.standard_normal((h, h)))
    return u, s, v, e


def _gradients(w1, w2, m):
    """Gradients of L = ||M - W2 W1||_F^2 / 2 (whitened inputs) with respect to W1 and W2."""
    r = m - w2 @ w1
    return -w2.T @ r, -r @ w1.T


def test_balanced_networks_that_learned_a_subset_of_modes_are_saddles_with_escape_rate_s_next():
    """The prose of 'Saddle to saddle' and exercise dln-ex-saddles: critical points, and the unstable rate."""
    u, s, v, e = _teacher()
    m = (u * s) @ v.T
    learned = [0, 1]
    w1 = sum(np.sqrt(s[b]) * np.outer(e[:, b], v[:, b]) for b in learned)
    w2 = sum(np.sqrt(s[b]) * np.outer(u[:, b], e[:, b]) for b in learned)
    g1, g2 = _gradients(w1, w2, m)
    assert np.abs(g1).max() < 1e-12 and np.abs(g2).max() < 1e-12
    assert 0.5 * np.sum((m - w2 @ w1) ** 2) == pytest.approx(0.5 * np.sum(s[2:] ** 2))
    # Hessian-vector products by finite differences of the gradient: the most unstable direction grows at s[2]
    n1, n2 = w1.size, w2.size

    def hess_vec(z):
        d1, d2 = z[:n1].reshape(w1.shape), z[n1:].reshape(w2.shape)
        eps = 1e-6
        a1, a2 = _gradients(w1 + eps * d1, w2 + eps * d2, m)
        b1, b2 = _gradients(w1 - eps * d1, w2 - eps * d2, m)
        return np.concatenate([(a1 - b1).ravel(), (a2 - b2).ravel()]) / (2 * eps)

    hess = np.stack([hess_vec(z) for z in np.eye(n1 + n2)])
    assert np.linalg.eigvalsh((hess + hess.T) / 2).min() == pytest.approx(-s[2], abs=1e-6)


def test_gradient_flow_conserves_the_balancedness_matrix():
    """W2^T W2 - W1 W1^T is conserved by the flow (small-step RK4 on a random start)."""
    u, s, v, _ = _teacher(seed=1)
    m = (u * s) @ v.T
    rng = np.random.default_rng(2)
    w = [0.3 * rng.standard_normal((5, 6)), 0.3 * rng.standard_normal((6, 5))]
    charge0 = w[1].T @ w[1] - w[0] @ w[0].T

    def flow(state):
        g1, g2 = _gradients(state[0], state[1], m)
        return [-g1, -g2]

    dt = 1e-3
    for _ in range(2000):
        k1 = flow(w)
        k2 = flow([a + dt / 2 * k for a, k in zip(w, k1)])
        k3 = flow([a + dt / 2 * k for a, k in zip(w, k2)])
        k4 = flow([a + dt * k for a, k in zip(w, k3)])
        w = [a + dt / 6 * (p + 2 * q + 2 * r + t) for a, p, q, r, t in zip(w, k1, k2, k3, k4)]
    np.testing.assert_allclose(w[1].T @ w[1] - w[0] @ w[0].T, charge0, atol=1e-9)
    assert np.sum((m - w[1] @ w[0]) ** 2) < 0.5 * np.sum(m**2)       # it did learn something meanwhile
