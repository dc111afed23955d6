"""The teacher-student perceptron: linear separability by linear programming, and online learning rules.

Two experiments of the chapter ``perceptron`` (theory in :mod:`lmtheory.theory.perceptron`):

* **capacity** -- Gaussian points with fair random labels, added one at a time; a linear program decides whether
  the first ``P`` of them are separable by a hyperplane through the origin (the perceptron *algorithm* cannot
  decide this: near capacity it may run arbitrarily long on separable data);
* **online learning** -- a student perceptron ``J`` learns a teacher ``B`` from a stream of fresh Gaussian
  examples with the Hebb or the perceptron rule, compiled as one ``lax.scan``; the generalization error
  ``arccos(J . B / |J||B|) / pi`` is computed exactly from the weights.

Every function that draws random numbers takes an explicit PRNG ``key``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from scipy import optimize

from lmtheory import _validate

def _rbg(key):
    """A key of the ``rbg`` implementation (XLA's RngBitGenerator) derived from ``key``: its normals compile in a
    fraction of the time of threefry's on CPU, and ``split``/``fold_in`` stay those of threefry."""
    return jax.random.wrap_key_data(jax.random.bits(key, (4,), jnp.uint32), impl="rbg")


def is_separable(x, labels, *, tol: float = 1e-6) -> bool:
    """Whether a hyperplane through the origin separates the labels: ``labels_mu (w . x_mu) > 0`` for every row.

    Decided by the linear program "maximize ``t`` subject to ``labels_mu (w . x_mu) >= t``, ``|w_i| <= 1``,
    ``t <= 1``" (``scipy.optimize.linprog``, HiGHS): always feasible (``w = 0``, ``t = 0``) and bounded, so the
    solver always returns an optimum ``t*``, which is 0 unless the points are separable. Separable iff
    ``t* > tol``; for Gaussian points in a few tens of dimensions separable sets have ``t*`` of order
    ``10^-4`` or more even at the capacity, far above the solver's ``10^-7`` feasibility tolerance.

    >>> x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> is_separable(x, np.array([1, 1, 1])), is_separable(x, np.array([1, 1, -1]))
    (True, False)
    """
    x, y = np.asarray(x, float), np.asarray(labels, float)
    p, n = x.shape
    cost = np.zeros(n + 1)
    cost[-1] = -1.0
    res = optimize.linprog(cost, A_ub=np.hstack([-(y[:, None] * x), np.ones((p, 1))]), b_ub=np.zeros(p),
                           bounds=[(-1.0, 1.0)] * n + [(None, 1.0)], method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog did not solve the margin program: {res.message}")
    return bool(-res.fun > tol)


def capacity_of(x, labels) -> int:
    """``min(P_c, len(x))``, with ``P_c`` the largest ``P`` such that the first ``P`` rows of ``x`` (with their
    ``labels``) are linearly separable through the origin.

    Separability of the first ``P`` points can only be lost as ``P`` grows, so ``P_c`` is found by bisection
    between ``dim`` (points in general position, ``dim`` or fewer, are always separable) and ``len(x)``: about
    ``log2(len(x) - dim + 1)`` linear programs (:func:`is_separable`).

    >>> x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    >>> capacity_of(x, np.array([1, 1, -1, 1]))
    2
    """
    x, y = np.asarray(x, float), np.asarray(labels, float)
    top, n = x.shape
    if top <= n:
        return int(top)
    lo, hi = n, top + 1                   # the first lo points are separable, the first hi are not (or hi > top)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if is_separable(x[:mid], y[:mid]) else (lo, mid)
    return int(lo)


def capacities(key, *, dim: int, max_patterns: int, n_datasets: int) -> np.ndarray:
    """:func:`capacity_of` for ``n_datasets`` independent data sets of ``max_patterns`` Gaussian points in ``dim``
    dimensions with fair random labels (drawn at once from ``key``), as an int array.

    >>> capacities(jax.random.key(1), dim=2, max_patterns=10, n_datasets=3).shape
    (3,)
    """
    n = _validate.positive("dim", dim, integer=True)
    top = _validate.positive("max_patterns", max_patterns, integer=True)
    m = _validate.positive("n_datasets", n_datasets, integer=True)
    k_x, k_y = jax.random.split(_rbg(key))
    x = np.asarray(jax.random.normal(k_x, (m, top, n)), float)
    y = np.asarray(jax.random.rademacher(k_y, (m, top)), float)
    return np.array([capacity_of(xi, yi) for xi, yi in zip(x, y)])


def _online_step(on_errors, dim, teacher):
    def step(j, x):
        u, h = x @ teacher, x @ j
        learn = jnp.where(on_errors, u * h <= 0, True)    # perceptron rule: only on errors (and at h = 0, J = 0)
        return j + jnp.where(learn, jnp.sign(u), 0.0) * x / jnp.sqrt(dim), None
    return step


@functools.partial(jax.jit, static_argnames=("dim", "every", "n_records"))
def online_errors(key, on_errors, *, dim: int, every: int, n_records: int):
    """Generalization error ``arccos(J . B / |J||B|) / pi`` of a student perceptron trained online from ``J = 0``,
    recorded after every ``every`` examples, ``n_records`` times (record ``k`` is at ``alpha = (k + 1) every /
    dim``).

    The rule: ``J += sign(B.x) x / sqrt(N)`` at every example (Hebb, ``on_errors = False``) or only when
    ``sign(J.x) != sign(B.x)`` (perceptron rule, ``on_errors = True``; a traced flag, so both rules can share
    one compilation under ``jax.vmap``). The teacher ``B`` is Gaussian, inputs ``x ~ N(0, I_dim)``, one fresh
    example per step; two nested ``lax.scan`` (blocks, then the examples of a block). Use ``jax.vmap`` over keys
    for seeds.

    >>> eps = online_errors(jax.random.key(0), False, dim=50, every=50, n_records=4)
    >>> eps.shape, bool(eps[3] < eps[0] < 0.5)
    ((4,), True)
    """
    k_teacher, k_data = jax.random.split(_rbg(key))
    teacher = jax.random.normal(k_teacher, (dim,))
    step = _online_step(on_errors, dim, teacher)

    def block(j, k):                      # the inputs of one block are drawn at once, then used one by one
        j, _ = jax.lax.scan(step, j, jax.random.normal(jax.random.fold_in(k_data, k), (every, dim)))
        cos = j @ teacher / (jnp.linalg.norm(j) * jnp.linalg.norm(teacher))
        return j, jnp.arccos(jnp.clip(cos, -1.0, 1.0)) / jnp.pi

    return jax.lax.scan(block, jnp.zeros(dim), jnp.arange(n_records))[1]
