"""Tests of the quanta theory (lmtheory.theory.quanta) and the multitask sparse parity generator."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lmtheory.simulation import sparse_parity as sim
from lmtheory.theory import quanta


def test_tail_loss_matches_explicit_sum():
    n_tasks, alpha = 7, 0.6
    w = np.array([k ** -(alpha + 1) for k in range(1, n_tasks + 1)])
    for n in range(n_tasks + 1):
        explicit = np.log(2) * sum(w[k] for k in range(n, n_tasks)) / w.sum()
        assert quanta.tail_loss(n, n_tasks=n_tasks, alpha=alpha) == pytest.approx(explicit, rel=1e-12, abs=1e-15)


def test_tail_asymptotic_is_the_large_n_limit():
    """Against the exact infinite tail (Hurwitz zeta); its relative error should fall like 1/n (fitted rate)."""
    from scipy.special import zeta
    alpha = 0.5
    ns = np.array([100, 200, 400, 800])
    exact = zeta(alpha + 1, ns + 1) / zeta(alpha + 1)
    err = np.abs(exact / quanta.tail_asymptotic(ns, alpha=alpha) - 1)
    rate = np.polyfit(np.log(ns), np.log(err), 1)[0]
    assert rate == pytest.approx(-1.0, abs=0.05)


def test_finite_range_slope_tends_to_minus_alpha_and_bends_when_truncated():
    assert quanta.finite_range_slope(np.arange(1000, 2000, 50), n_tasks=10**7, alpha=0.7) == pytest.approx(-0.7, abs=2e-3)
    assert quanta.finite_range_slope(np.arange(1, 5), n_tasks=6, alpha=0.7) < -0.7 - 0.3


def test_step_exponent_composes_time_and_loss_laws():
    """n(S) ~ S^(1/(alpha+1)) from t_k ~ 1/p_k, then L ~ n^-alpha: check numerically on the exact sums."""
    alpha, n_tasks = 0.5, 10**6
    p = quanta.zipf_frequencies(n_tasks, alpha)
    t = quanta.learning_times(p, examples_needed=1.0, batch=1)
    steps = np.geomspace(1e3, 1e6, 7)
    n = np.searchsorted(t, steps)                      # quanta with t_k <= S
    loss = quanta.tail_loss(n, n_tasks=n_tasks, alpha=alpha)
    slope = np.polyfit(np.log(steps), np.log(loss), 1)[0]
    assert slope == pytest.approx(-quanta.step_exponent(alpha), abs=0.01)


def test_generator_frequencies_match_monte_carlo():
    p = quanta.zipf_frequencies(5, 0.5)
    subsets = sim.parity_subsets(jax.random.key(0), n_tasks=5, n_bits=10, k_sparse=3)
    n = 20000
    _, y, tasks = sim.multitask_sparse_parity(jax.random.key(1), subsets, frequencies=jnp.asarray(p), batch=n, n_bits=10)
    freq = np.bincount(np.asarray(tasks), minlength=5) / n
    se = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(freq - p) < 4 * se)
    assert abs(float(np.mean(y)) - 0.5) < 4 * 0.5 / np.sqrt(n)     # parity of fair bits is fair


def test_parity_labels_against_direct_computation():
    subsets = sim.parity_subsets(jax.random.key(3), n_tasks=4, n_bits=9, k_sparse=3)
    tasks = jnp.arange(4).repeat(50)
    x, y = sim.sparse_parity_inputs(jax.random.key(4), tasks, subsets, n_bits=9)
    x, y, s = np.asarray(x), np.asarray(y), np.asarray(subsets)
    for row, label, task in zip(x, y, np.asarray(tasks)):
        assert row[:4].argmax() == task
        assert label == int(sum(row[4 + j] for j in s[task])) % 2


def test_effective_quanta_counts_learned_tasks():
    loss = np.array([[0.0, 0.0, np.log(2)], [np.log(2)] * 3])
    assert sim.effective_quanta(loss).tolist() == [2.0, 0.0]


@pytest.mark.parametrize("call", [
    lambda: quanta.zipf_frequencies(0, 0.5),
    lambda: quanta.zipf_frequencies(3, -1.0),
    lambda: quanta.tail_loss(5, n_tasks=4, alpha=0.5),
    lambda: quanta.tail_loss(1.5, n_tasks=4, alpha=0.5),
    lambda: quanta.finite_range_slope([1, 4], n_tasks=4, alpha=0.5),
    lambda: quanta.learning_times([0.5, 0.0], examples_needed=1.0, batch=1),
    lambda: quanta.step_exponent(0.0),
    lambda: sim.parity_subsets(jax.random.key(0), n_tasks=2, n_bits=2, k_sparse=3),
    lambda: sim.effective_quanta(np.zeros(2), loss_unlearned=0.0),
])
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()
