"""Tests of the quanta theory (lmtheory.theory.quanta); its task is tested in test_sparse_parity.py."""

import numpy as np
import pytest

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


def test_tail_loss_slope_tends_to_minus_alpha_and_bends_when_truncated():
    assert quanta.tail_loss_slope(np.arange(1000, 2000, 50), n_tasks=10**7, alpha=0.7) == pytest.approx(-0.7, abs=2e-3)
    assert quanta.tail_loss_slope(np.arange(1, 5), n_tasks=6, alpha=0.7) < -0.7 - 0.3
    n = np.arange(1, 5)                                                      # against numpy's own fit
    fit = np.polyfit(np.log(n), np.log(quanta.tail_loss(n, n_tasks=6, alpha=0.7)), 1)[0]
    assert quanta.tail_loss_slope(n, n_tasks=6, alpha=0.7) == pytest.approx(fit, rel=1e-12)


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


def test_learning_time_exponent_is_the_fitted_slope_of_the_heuristic_times():
    """Any set of ranks, any n_tasks: ln t_k is linear in ln k with slope alpha + 1 (Z, tau, B drop out)."""
    for n_tasks, alpha in ((6, 0.4), (20, 1.3)):
        p = quanta.zipf_frequencies(n_tasks, alpha)
        t = quanta.learning_times(p, examples_needed=3.0e4, batch=128)
        k = np.arange(1, n_tasks + 1)
        for ranks in (k, k[:-1], k[1::2]):
            fit = np.polyfit(np.log(ranks), np.log(t[ranks - 1]), 1)[0]
            assert fit == pytest.approx(quanta.learning_time_exponent(alpha), rel=1e-10)


@pytest.mark.parametrize("call", [
    lambda: quanta.zipf_frequencies(0, 0.5),
    lambda: quanta.zipf_frequencies(3, -1.0),
    lambda: quanta.tail_loss(5, n_tasks=4, alpha=0.5),
    lambda: quanta.tail_loss(1.5, n_tasks=4, alpha=0.5),
    lambda: quanta.tail_loss_slope([1, 4], n_tasks=4, alpha=0.5),
    lambda: quanta.learning_times([0.5, 0.0], examples_needed=1.0, batch=1),
    lambda: quanta.step_exponent(0.0),
    lambda: quanta.learning_time_exponent(-0.5),
])
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()


def test_train_on_subsets_sampler_draws_fair_bits_and_zipf_tasks():
    """The cheap sampler of train_on_subsets: an untrained network's loss is ln 2 and a 1-sparse task is learned."""
    import jax
    import jax.numpy as jnp
    from lmtheory.simulation import sparse_parity as sim
    s = jnp.array([[0, 1, 1], [2, 3, 4]])
    loss, acc = sim.train_on_subsets(jax.random.key(1), s, frequencies=jnp.array([0.5, 0.5]), n_bits=6, width=32,
                                     batch=64, lr=3e-2, steps=200, every=200, eval_per_task=128)
    assert abs(float(loss[0].mean()) - np.log(2)) < 0.1 and float(acc[-1, 0]) == 1.0
    with pytest.raises(ValueError):
        sim.train_on_subsets(jax.random.key(1), s, frequencies=jnp.array([0.5, 0.5]), n_bits=40, width=4,
                             batch=4, lr=0.1, steps=2, every=1)


def test_disjoint_subsets_are_disjoint_and_easy_rows_copy_an_unused_bit():
    import jax
    from lmtheory.simulation import sparse_parity as sim
    for seed in range(5):
        s = np.asarray(sim.disjoint_subsets(jax.random.key(seed), n_tasks=4, n_bits=14, k_sparse=3, n_easy=2))
        hard, easy = s[:4], s[4:]
        assert len(set(hard.ravel().tolist())) == 12
        assert all(len(set(row.tolist())) == 1 for row in easy)
        assert not set(easy[:, 0].tolist()) & set(hard.ravel().tolist()) and easy[0, 0] != easy[1, 0]
    with pytest.raises(ValueError):
        sim.disjoint_subsets(jax.random.key(0), n_tasks=5, n_bits=14, k_sparse=3)
    with pytest.raises(ValueError):
        sim.disjoint_subsets(jax.random.key(0), n_tasks=2, n_bits=14, k_sparse=2, n_easy=1)
