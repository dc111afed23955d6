"""The multitask sparse-parity task (lmtheory.simulation.sparse_parity): generator, labels, training, counting."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lmtheory.simulation import sparse_parity as sim
from lmtheory.theory import quanta


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
    lambda: sim.parity_subsets(jax.random.key(0), n_tasks=2, n_bits=2, k_sparse=3),
    lambda: sim.effective_quanta(np.zeros(2), loss_unlearned=0.0),
    lambda: sim.train_multitask_parity(jax.random.key(0), frequencies=jnp.array([1.0]), n_bits=4, k_sparse=2,
                                       width=0, batch=4, lr=0.1, steps=2, every=1),
])
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()
