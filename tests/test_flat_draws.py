"""Random draws taken flat and reshaped (a several times smaller compiled kernel under vmap) give the same numbers.

lmtheory.simulation.sparse_parity (the input bits) and lmtheory.simulation.models.MLP (the initial weights) draw
their random arrays as 1-d vectors and reshape them, because XLA compiles a 2-d/3-d threefry draw under ``vmap``
into kernels several times larger (the quanta chapter's compilation time). The numbers must be those of the
straightforward shaped draw, so that every chapter's results are unchanged, also under vmap.
"""

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from lmtheory.simulation import models
from lmtheory.simulation import sparse_parity as sim


def test_sparse_parity_bits_equal_a_shaped_draw():
    subsets = sim.parity_subsets(jax.random.key(0), n_tasks=3, n_bits=7, k_sparse=2)
    tasks = jnp.arange(3).repeat(5)
    keys = jax.random.split(jax.random.key(1), 4)
    x = jax.vmap(lambda k: sim.sparse_parity_inputs(k, tasks, subsets, n_bits=7)[0])(keys)
    bits = jax.vmap(lambda k: jax.random.bernoulli(k, 0.5, (15, 7)))(keys)
    np.testing.assert_array_equal(np.asarray(x[..., 3:]), np.asarray(bits, np.float32))


def test_mlp_init_equals_shaped_normal_draws():
    def shaped(key, dims):
        rngs = nnx.Rngs(key)
        return [i**-0.5 * jax.random.normal(rngs.params(), (o, i)) for i, o in zip(dims[:-1], dims[1:])]

    keys = jax.random.split(jax.random.key(2), 3)
    params = jax.vmap(lambda k: models.functional(models.MLP(5, 8, 2, depth=3, rngs=nnx.Rngs(k)))[1])(keys)
    expected = jax.vmap(lambda k: shaped(k, [5, 8, 8, 2]))(keys)
    for got, want in zip(jax.tree.leaves(params), expected):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
