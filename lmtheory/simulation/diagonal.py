"""Diagonal linear networks and sparse regression tasks (simulation side of the implicit-bias chapter).

A *diagonal linear network* is the linear predictor ``f(x) = <beta, x>`` parameterized as
``beta = u * u - v * v`` (element-wise), i.e. a two-layer linear network whose first layer is diagonal and
whose second layer is fixed to ``(+1, -1)`` on a doubled input ``(x, x)``. It is the standard solvable model of
how the initialization scale selects among the many interpolants of an underdetermined regression problem
(Woodworth et al. 2020, arXiv:2002.09277; Pesme & Flammarion 2023, arXiv:2304.00488).
The theory lives in :mod:`lmtheory.theory.implicit_bias`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx

from lmtheory import _validate


class SparseTask(NamedTuple):
    """Noise-free sparse regression ``y = X beta_star``: ``x`` (n_samples, dim), ``y`` (n_samples,),
    ``beta_star`` (dim,) with ``sparsity`` non-zero entries."""

    x: jax.Array
    y: jax.Array
    beta_star: jax.Array


def sparse_regression_task(key, *, n_samples: int, dim: int, sparsity: int, low: float = 0.5,
                           high: float = 1.5) -> SparseTask:
    """Gaussian design ``X_ij ~ N(0, 1)`` and a ``sparsity``-sparse teacher with random signs and support.

    The non-zero entries of ``beta_star`` have magnitudes uniform in ``[low, high]`` and random signs; the
    support is a uniformly random subset. With ``n_samples < dim`` the problem ``X beta = y`` has infinitely many
    solutions (interpolants).

    >>> task = sparse_regression_task(jax.random.key(0), n_samples=5, dim=12, sparsity=2)
    >>> task.x.shape, int((task.beta_star != 0).sum()), bool(jnp.allclose(task.x @ task.beta_star, task.y))
    ((5, 12), 2, True)
    """
    for name, value in (("n_samples", n_samples), ("dim", dim), ("sparsity", sparsity)):
        _validate.positive(name, value, integer=True)
    if sparsity > dim:
        raise ValueError(f"sparsity must be <= dim = {dim}, got {sparsity}")
    _validate.positive("low", low)
    if not high >= low:
        raise ValueError(f"high must be >= low = {low}, got {high}")
    k_x, k_support, k_mag, k_sign = jax.random.split(key, 4)
    x = jax.random.normal(k_x, (n_samples, dim))
    support = jax.random.permutation(k_support, dim)[:sparsity]
    sign = jnp.where(jax.random.bernoulli(k_sign, 0.5, (sparsity,)), 1.0, -1.0)
    mag = jax.random.uniform(k_mag, (sparsity,), minval=low, maxval=high)
    beta_star = jnp.zeros(dim, dtype=x.dtype).at[support].set(sign * mag)
    return SparseTask(x, x @ beta_star, beta_star)


class DiagonalLinear(nnx.Module):
    """``f(x) = x @ beta`` with ``beta = u*u - v*v``, initialized at ``u = v = init_scale * 1`` (so ``beta = 0``).

    ``init_scale`` is the paper's ``alpha`` (it may be a traced value, for ``vmap`` over scales).

    >>> net = DiagonalLinear(3, init_scale=0.5)
    >>> net.coefficients().tolist(), net(jnp.ones((2, 3))).shape
    ([0.0, 0.0, 0.0], (2,))
    """

    def __init__(self, dim: int, *, init_scale: float):
        _validate.positive("dim", dim, integer=True)
        _validate.positive("init_scale", init_scale)
        self.u = nnx.Param(init_scale * jnp.ones(dim))
        self.v = nnx.Param(init_scale * jnp.ones(dim))

    def coefficients(self):
        """The linear predictor's coefficients ``beta = u*u - v*v`` (dim,)."""
        return self.u[...] ** 2 - self.v[...] ** 2

    def __call__(self, x):
        return x @ self.coefficients()
