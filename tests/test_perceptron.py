"""The teacher-student perceptron: Cover's count against brute-force enumeration, the online order-parameter
equations against Monte Carlo averages and their own asymptotics, and the linear-programming separability test."""

import itertools
import math

import jax
import numpy as np
import pytest
from scipy import integrate, stats

from lmtheory.simulation import perceptron as sim
from lmtheory.theory import perceptron as th


def _cover_count(p, n):
    return 2 * sum(math.comb(p - 1, k) for k in range(n))


@pytest.mark.parametrize("p,n", [(4, 2), (5, 2), (5, 3), (6, 3), (7, 4)])
def test_cover_count_matches_enumeration_of_all_dichotomies(p, n):
    """Count, by linear programming, the labelings of p Gaussian points realizable through the origin."""
    x = np.random.default_rng(p * 10 + n).normal(size=(p, n))
    count = sum(sim.is_separable(x, np.array(lab)) for lab in itertools.product([-1.0, 1.0], repeat=p))
    assert count == _cover_count(p, n)
    assert th.separable_probability(p, dim=n) * 2**p == pytest.approx(count, abs=1e-9)


def test_cover_recursion_and_half_at_twice_the_dimension():
    for n in range(2, 8):
        for p in range(1, 20):
            c = th.separable_probability(np.array([p, p + 1]), dim=n) * 2.0 ** np.array([p, p + 1])
            below = th.separable_probability(p, dim=n - 1) * 2.0**p
            assert c[1] == pytest.approx(c[0] + below)                       # C(P+1,N) = C(P,N) + C(P,N-1)
        assert th.separable_probability(2 * n, dim=n) == pytest.approx(0.5)
        assert th.separable_probability(n, dim=n) == 1.0


def test_capacity_law_is_negative_binomial_with_mean_and_variance_two_n():
    for n in (1, 5, 25):
        p = np.arange(1, 60 * n + 200)
        pmf = th.capacity_pmf(p, dim=n)
        tail = th.separable_probability(p, dim=n)
        np.testing.assert_allclose(pmf[:-1], tail[:-1] - tail[1:], atol=1e-12)      # Prob[P_c = P]
        assert np.sum(pmf) == pytest.approx(1.0)
        assert np.sum(p * pmf) == pytest.approx(th.expected_capacity(dim=n))
        assert np.sqrt(np.sum(p**2 * pmf) - (2 * n) ** 2) == pytest.approx(th.capacity_std(dim=n))
        assert th.expected_capacity(dim=n, max_patterns=int(p[-1])) == pytest.approx(2 * n)


def test_cover_becomes_gardner_step_at_two():
    n = 20000
    assert th.separable_probability(int(1.9 * n), dim=n) > 1 - 1e-9
    assert th.separable_probability(int(2.1 * n), dim=n) < 1e-9
    assert th.gardner_capacity(0.0) == 2.0
    for kappa in (0.3, 1.0):
        integral = integrate.quad(lambda t: (t + kappa) ** 2 * stats.norm.pdf(t), -kappa, np.inf)[0]
        assert th.gardner_capacity(kappa) == pytest.approx(1 / integral)


def test_hebb_closed_form_equals_ode_and_monte_carlo():
    a = np.array([0.3, 1.0, 5.0, 20.0])
    r, q = th.online_order_parameters(a, rule="hebb")
    np.testing.assert_allclose(r / np.sqrt(q), th.hebb_overlap(a), rtol=1e-7)
    np.testing.assert_allclose(th.online_error(a, rule="hebb"), th.hebb_error(a), rtol=1e-7)
    rng = np.random.default_rng(0)
    n, reps = 200, 400                        # finite-N means of J.B/|B| sqrt(N) and |J|^2/N at alpha = 2
    p = 2 * n
    b = rng.normal(size=n)
    rs, qs = [], []
    for _ in range(reps):
        x = rng.normal(size=(p, n))
        j = np.sign(x @ b) @ x / np.sqrt(n)
        rs.append(j @ b / np.linalg.norm(b) / np.sqrt(n))
        qs.append(j @ j / n)
    r2, q2 = th.online_order_parameters(2.0, rule="hebb")
    assert abs(np.mean(rs) - r2) < 4 * np.std(rs) / np.sqrt(reps)
    assert abs(np.mean(qs) - q2) < 4 * np.std(qs) / np.sqrt(reps) + (q2 - 2.0) / p   # exact mean: P(P-1) not P^2


@pytest.mark.parametrize("r,q", [(0.3, 0.5), (1.2, 2.0), (2.0, 4.5)])
def test_perceptron_rule_averages_match_monte_carlo(r, q):
    """<F u>, <2 F h + F^2> with F = sign(u) Theta(-u h), by sampling the two Gaussian fields."""
    rng = np.random.default_rng(1)
    m = 2_000_000
    u = rng.normal(size=m)
    h = r * u + np.sqrt(q - r**2) * rng.normal(size=m)
    f = np.sign(u) * (u * h <= 0)
    dr, dq = th._rhs("perceptron")(0.0, [r, q])
    assert np.mean(f * u) == pytest.approx(dr, abs=4 * np.std(f * u) / np.sqrt(m))
    g = 2 * f * h + f**2
    assert np.mean(g) == pytest.approx(dq, abs=4 * np.std(g) / np.sqrt(m))


def test_perceptron_rule_reaches_its_minus_one_third_asymptote():
    a = np.array([1e2, 1e3, 1e4, 1e5])
    ratio = th.online_error(a) / th.perceptron_rule_asymptote(a)
    assert np.all(np.diff(np.abs(ratio - 1)) < 0) and abs(ratio[-1] - 1) < 1e-3
    slope = np.polyfit(np.log(a[-2:]), np.log(th.online_error(a[-2:])), 1)[0]
    assert slope == pytest.approx(-1 / 3, abs=2e-3)
    assert np.all(th.online_error(a) > th.hebb_error(a))         # the perceptron rule loses to Hebb at large alpha


def test_capacity_of_bisection_agrees_with_a_linear_scan():
    k = jax.random.key(3)
    x = np.asarray(jax.random.normal(k, (30, 6)), float)
    y = np.asarray(jax.random.rademacher(jax.random.fold_in(k, 1), (30,)), float)
    scan = max(p for p in range(1, 31) if sim.is_separable(x[:p], y[:p]))
    assert sim.capacity_of(x, y) == scan


def test_online_simulation_follows_the_hebb_law_at_moderate_n():
    keys = jax.random.split(jax.random.key(0), 64)
    eps = np.asarray(jax.vmap(lambda k: sim.online_errors(k, False, dim=100, every=100, n_records=2))(keys))
    pred = th.hebb_error(np.array([1.0, 2.0]))
    assert np.all(np.abs(eps.mean(0) - pred) < 5 * eps.std(0) / 8 + 0.002)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="n_patterns"):
        th.separable_probability(2.5, dim=3)
    with pytest.raises(ValueError, match="dim"):
        th.separable_probability(4, dim=0)
    with pytest.raises(ValueError, match="rule"):
        th.online_error(1.0, rule="adatron")
    with pytest.raises(ValueError, match="alpha"):
        th.hebb_error(-1.0)
    with pytest.raises(ValueError, match="margin"):
        th.gardner_capacity(-0.5)
