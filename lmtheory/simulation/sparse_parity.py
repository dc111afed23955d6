"""Multitask sparse parity (Michaud et al. 2023): data, training of one MLP, per-subtask measurements.

An input is ``[one_hot(task, n_tasks), bits]`` with ``n_bits`` fair random bits in ``{0, 1}``; the label of
subtask ``k`` is the parity of the bits in a fixed random subset ``S_k`` of ``k_sparse`` positions. Subtasks are
drawn with given frequencies (a Zipf law in the chapter). The theory lives in :mod:`lmtheory.theory.quanta`.
Reference: E. J. Michaud, Z. Liu, U. Girit, M. Tegmark, arXiv:2303.13506 (2023), Sec. 3.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from lmtheory import _validate
from lmtheory.simulation import models, train


def parity_subsets(key, *, n_tasks: int, n_bits: int, k_sparse: int):
    """Random subsets ``S_k`` (``k_sparse`` distinct bit positions out of ``n_bits``) for each subtask.

    >>> s = parity_subsets(jax.random.key(0), n_tasks=4, n_bits=10, k_sparse=3)
    >>> s.shape, all(len(set(row.tolist())) == 3 for row in s)
    ((4, 3), True)
    """
    _validate.positive("n_tasks", n_tasks, integer=True)
    _validate.positive("k_sparse", k_sparse, integer=True)
    if not isinstance(n_bits, (int, np.integer)) or n_bits < k_sparse:
        raise ValueError(f"n_bits must be an integer >= k_sparse={k_sparse}, got {n_bits!r}")
    keys = jax.random.split(key, n_tasks)
    return jax.vmap(lambda k: jax.random.permutation(k, n_bits)[:k_sparse])(keys)


def sparse_parity_inputs(key, tasks, subsets, *, n_bits: int):
    """Inputs ``x = [one_hot(task), bits]`` and labels ``parity(bits[S_task])`` for given task ids.

    >>> subsets = jnp.array([[0, 1, 2], [3, 4, 5]])
    >>> x, y = sparse_parity_inputs(jax.random.key(1), jnp.array([0, 1, 1]), subsets, n_bits=6)
    >>> picked = jnp.take_along_axis(x[:, 2:], subsets[jnp.array([0, 1, 1])], axis=1)
    >>> x.shape, bool(jnp.all(y == picked.sum(1) % 2))
    ((3, 8), True)
    """
    # Drawn flat and reshaped: the same bits as shape (batch, n_bits) (threefry counts elements in row-major
    # order), but a 1-d draw compiles to a several times smaller XLA kernel, above all under vmap.
    bits = jax.random.bernoulli(key, 0.5, (tasks.shape[0] * n_bits,)).reshape(-1, n_bits).astype(jnp.float32)
    labels = (jnp.take_along_axis(bits, subsets[tasks], axis=1).sum(1) % 2).astype(jnp.int32)
    return jnp.concatenate([jax.nn.one_hot(tasks, subsets.shape[0]), bits], axis=1), labels


@functools.partial(jax.jit, static_argnames=("batch", "n_bits"))
def multitask_sparse_parity(key, subsets, *, frequencies, batch: int, n_bits: int):
    """A minibatch ``(x, labels, tasks)``: task ids drawn i.i.d. with probabilities ``frequencies``.

    >>> s = parity_subsets(jax.random.key(0), n_tasks=2, n_bits=8, k_sparse=3)
    >>> x, y, t = multitask_sparse_parity(jax.random.key(2), s, frequencies=jnp.array([0.5, 0.5]), batch=5, n_bits=8)
    >>> x.shape, y.shape, t.shape
    ((5, 10), (5,), (5,))
    """
    _validate.positive("batch", batch, integer=True)
    k_task, k_bits = jax.random.split(key)
    tasks = jax.random.choice(k_task, subsets.shape[0], (batch,), p=jnp.asarray(frequencies))
    return (*sparse_parity_inputs(k_bits, tasks, subsets, n_bits=n_bits), tasks)


def per_task_metrics(logits, labels, n_tasks: int):
    """Cross-entropy loss (nats) and accuracy of each subtask on an evaluation set sorted by task, equal sizes.

    >>> l, a = per_task_metrics(jnp.zeros((4, 2)), jnp.array([0, 1, 0, 1]), 2)
    >>> [round(float(v), 4) for v in l], [float(v) for v in a]
    ([0.6931, 0.6931], [0.5, 0.5])
    """
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).reshape(n_tasks, -1).mean(1)
    acc = (logits.argmax(1) == labels).reshape(n_tasks, -1).mean(1)
    return loss, acc


def train_multitask_parity(key, *, frequencies, n_bits: int, k_sparse: int, width: int, batch: int, lr: float,
                           steps: int, every: int, eval_per_task: int = 256):
    """Train a one-hidden-layer ReLU MLP with Adam on online multitask sparse parity; per-subtask history.

    Returns ``(loss, acc)``, each ``(steps // every + 1, n_tasks)``: per-subtask cross-entropy (nats) and
    accuracy on a fixed evaluation set of ``eval_per_task`` fresh inputs per subtask, recorded every ``every``
    steps. ``depth = 2`` weight matrices; the one-hot task id plays the role of a per-task bias. One compiled
    program (``jax.jit``; the sizes are static), so it also runs under ``jax.vmap`` over keys.

    One subtask, the parity of 2 of 4 bits: learned from chance (``ln 2`` nats) to perfect accuracy.

    >>> loss, acc = train_multitask_parity(jax.random.key(0), frequencies=jnp.array([1.0]), n_bits=4, k_sparse=2,
    ...                                    width=32, batch=64, lr=3e-2, steps=300, every=150, eval_per_task=64)
    >>> loss.shape, float(loss[0, 0]) > 0.5, float(loss[-1, 0]) < 0.1, acc[:, 0].tolist()[-1]
    ((3, 1), True, True, 1.0)
    """
    for name, v in (("n_bits", n_bits), ("k_sparse", k_sparse), ("width", width), ("batch", batch),
                    ("eval_per_task", eval_per_task)):
        _validate.positive(name, v, integer=True)
    _validate.positive("lr", lr)
    return _train_multitask_parity(key, jnp.asarray(frequencies), lr, n_bits=n_bits, k_sparse=k_sparse,
                                   width=width, batch=batch, steps=steps, every=every, eval_per_task=eval_per_task)


@functools.partial(jax.jit, static_argnames=("n_bits", "k_sparse", "width", "batch", "steps", "every",
                                             "eval_per_task"))
def _train_multitask_parity(key, frequencies, lr, *, n_bits, k_sparse, width, batch, steps, every, eval_per_task):
    k_sub, k_net, k_train, k_eval = jax.random.split(key, 4)
    subsets = parity_subsets(k_sub, n_tasks=frequencies.shape[0], n_bits=n_bits, k_sparse=k_sparse)

    def sample(k):
        return multitask_sparse_parity(k, subsets, frequencies=frequencies, batch=batch, n_bits=n_bits)[:2]

    return _adam_run((k_net, k_train, k_eval), subsets, sample, lr, n_bits=n_bits, width=width, steps=steps,
                     every=every, eval_per_task=eval_per_task)


def _adam_run(keys, subsets, sample, lr, *, n_bits, width, steps, every, eval_per_task):
    """Adam on the cross-entropy of ``sample``'s batches; per-task (loss, acc) on a fixed evaluation set."""
    k_net, k_train, k_eval = keys
    n_tasks = subsets.shape[0]
    x_eval, y_eval = sparse_parity_inputs(k_eval, jnp.repeat(jnp.arange(n_tasks), eval_per_task), subsets,
                                          n_bits=n_bits)
    net = models.MLP(n_tasks + n_bits, width, 2, depth=2, activation="relu", rngs=nnx.Rngs(k_net))
    apply, params = models.functional(net)

    def loss(p, data):
        return optax.softmax_cross_entropy_with_integer_labels(apply(p, data[0]), data[1]).mean()

    def observe(p):
        return per_task_metrics(apply(p, x_eval), y_eval, n_tasks)

    return train.stochastic_train(loss, params, optax.adam(lr), key=k_train, sample=sample, steps=steps,
                                  observe=observe, every=every)[1]


def effective_quanta(task_loss, *, loss_unlearned: float = float(np.log(2.0))):
    """Number of quanta learned, counting partial ones: ``n_eff = sum_k clip(1 - loss_k / loss_unlearned, 0, 1)``.

    >>> float(effective_quanta(np.array([0.0, np.log(2.0) / 2, np.log(2.0)])))
    1.5
    """
    _validate.positive("loss_unlearned", loss_unlearned)
    return np.clip(1.0 - np.asarray(task_loss) / loss_unlearned, 0.0, 1.0).sum(-1)


def train_on_subsets(key, subsets, *, frequencies, n_bits: int, width: int, batch: int, lr: float, steps: int,
                     every: int, eval_per_task: int = 256):
    """As :func:`train_multitask_parity`, but with given subsets ``(n_tasks, k)`` (traced: vmap over them too).

    The training inputs have the same distribution, drawn more cheaply: task ids by ``jax.random.categorical``
    and the ``n_bits <= 32`` bits of an input from one random 32-bit word. Returns ``(loss, acc)``, each ``(steps // every + 1, n_tasks)``, recorded on ``eval_per_task`` inputs per task.

    >>> s = jnp.array([[0, 1, 1]])                                  # a 1-sparse task: copy bit 0
    >>> loss, acc = train_on_subsets(jax.random.key(0), s, frequencies=jnp.array([1.0]), n_bits=4, width=16,
    ...                              batch=32, lr=3e-2, steps=100, every=100, eval_per_task=64)
    >>> loss.shape, float(acc[-1, 0])
    ((2, 1), 1.0)
    """
    for name, v in (("n_bits", n_bits), ("width", width), ("batch", batch), ("eval_per_task", eval_per_task)):
        _validate.positive(name, v, integer=True)
    if n_bits > 32:
        raise ValueError(f"n_bits must be <= 32 (one 32-bit word per input), got {n_bits!r}")
    _validate.positive("lr", lr)
    return _train_on_subsets(key, jnp.asarray(subsets), jnp.asarray(frequencies), lr, n_bits=n_bits, width=width,
                             batch=batch, steps=steps, every=every, eval_per_task=eval_per_task)


@functools.partial(jax.jit, static_argnames=("n_bits", "width", "batch", "steps", "every", "eval_per_task"))
def _train_on_subsets(key, subsets, frequencies, lr, *, n_bits, width, batch, steps, every, eval_per_task):
    n_tasks = frequencies.shape[0]

    def sample(k):                              # the same distribution, drawn from one 32-bit word per input
        k_task, k_bits = jax.random.split(k)
        tasks = jax.random.categorical(k_task, jnp.log(frequencies), shape=(batch,))
        word = jax.random.bits(k_bits, (batch,), dtype=jnp.uint32)
        bits = ((word[:, None] >> jnp.arange(n_bits, dtype=jnp.uint32)) & 1).astype(jnp.float32)
        labels = (jnp.take_along_axis(bits, subsets[tasks], axis=1).sum(1) % 2).astype(jnp.int32)
        return jnp.concatenate([jax.nn.one_hot(tasks, n_tasks), bits], axis=1), labels

    return _adam_run(jax.random.split(key, 3), subsets, sample, lr, n_bits=n_bits, width=width, steps=steps,
                     every=every, eval_per_task=eval_per_task)


def disjoint_subsets(key, *, n_tasks: int, n_bits: int, k_sparse: int, n_easy: int = 0):
    """``n_tasks`` pairwise disjoint random ``k_sparse``-subsets, then ``n_easy`` 1-sparse rows ``[c, c, ..., c]``.

    Disjoint subsets share no bit, so no parity can reuse another's features; an easy row repeats one further
    unused bit ``c`` (odd ``k_sparse``: the parity of ``k_sparse`` copies of ``b_c`` is ``b_c``). Needs
    ``n_tasks * k_sparse + n_easy <= n_bits``. Shape ``(n_tasks + n_easy, k_sparse)``.

    >>> s = disjoint_subsets(jax.random.key(0), n_tasks=2, n_bits=8, k_sparse=3, n_easy=1)
    >>> len(set(s[:2].ravel().tolist())), len(set(s[2].tolist())), int(s[2, 0]) in s[:2].ravel().tolist()
    (6, 1, False)
    """
    for name, v in (("n_tasks", n_tasks), ("n_bits", n_bits), ("k_sparse", k_sparse)):
        _validate.positive(name, v, integer=True)
    if not isinstance(n_easy, (int, np.integer)) or n_easy < 0 or n_tasks * k_sparse + n_easy > n_bits \
            or (n_easy and k_sparse % 2 == 0):
        raise ValueError(f"need n_tasks * k_sparse + n_easy <= n_bits={n_bits} and odd k_sparse for n_easy > 0, "
                         f"got n_tasks={n_tasks}, k_sparse={k_sparse}, n_easy={n_easy!r}")
    perm = jax.random.permutation(key, n_bits)
    hard = perm[:n_tasks * k_sparse].reshape(n_tasks, k_sparse)
    easy = jnp.repeat(perm[n_tasks * k_sparse:n_tasks * k_sparse + n_easy, None], k_sparse, axis=1)
    return jnp.concatenate([hard, easy]).astype(hard.dtype)
