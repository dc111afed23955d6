"""Synthetic tasks. Every generator takes an explicit PRNG ``key`` and returns plain arrays."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from lmtheory import _validate


class LinearTask(NamedTuple):
    """A linear regression task ``y = M x`` with ``M = left @ diag(strengths) @ right.T``.

    ``x``: (n_samples, in_dim); ``y``: (n_samples, out_dim); ``left``: (out_dim, k) and ``right``: (in_dim, k)
    have orthonormal columns (the singular vectors of ``Sigma_yx``); ``strengths``: (k,) singular values.
    """

    x: jax.Array
    y: jax.Array
    left: jax.Array
    right: jax.Array
    strengths: jax.Array


def random_orthogonal(key, n: int, k: int | None = None) -> jax.Array:
    """An ``n x k`` matrix with orthonormal columns, Haar-distributed (QR of a Gaussian, signs fixed).

    >>> q = random_orthogonal(jax.random.key(0), 4)
    >>> bool(jnp.allclose(q.T @ q, jnp.eye(4), atol=1e-5))
    True
    """
    _validate.positive("n", n, integer=True)
    k = n if k is None else _validate.positive("k", k, integer=True)
    if k > n:
        raise ValueError(f"k must be <= n, got k={k}, n={n}")
    q, r = jnp.linalg.qr(jax.random.normal(key, (n, k)))
    return q * jnp.sign(jnp.diag(r))


def whitened_inputs(key, n_samples: int, dim: int) -> jax.Array:
    """``n_samples x dim`` inputs with *exactly* white second moment: ``x.T @ x / n_samples = I``.

    >>> x = whitened_inputs(jax.random.key(1), 10, 3)
    >>> bool(jnp.allclose(x.T @ x / 10, jnp.eye(3), atol=1e-5))
    True
    """
    _validate.positive("n_samples", n_samples, integer=True)
    _validate.positive("dim", dim, integer=True)
    if n_samples < dim:
        raise ValueError(f"whitening needs n_samples >= dim, got n_samples={n_samples}, dim={dim}")
    return jnp.sqrt(n_samples) * random_orthogonal(key, n_samples, dim)


def linear_teacher_task(key, *, in_dim: int, out_dim: int, strengths, n_samples: int,
                        input_variances=None) -> LinearTask:
    """Whitened inputs and targets ``y = M x`` whose input-output correlation has singular values ``strengths``.

    Because ``x.T x / P = I`` exactly, ``Sigma_yx = y.T x / P = M``, whose SVD is known by construction.
    With ``input_variances`` (``in_dim`` positive numbers) the inputs are *not* white: ``Sigma_xx = R diag(c)
    R^T`` exactly, for a random rotation ``R``; then ``Sigma_yx = M Sigma_xx`` and ``left``, ``right``,
    ``strengths`` still describe the teacher ``M`` (the map the network must end up computing).

    >>> task = linear_teacher_task(jax.random.key(0), in_dim=4, out_dim=3, strengths=[2.0, 1.0], n_samples=8)
    >>> sigma_yx = task.y.T @ task.x / 8
    >>> bool(jnp.allclose(task.left.T @ sigma_yx @ task.right, jnp.diag(jnp.array([2.0, 1.0])), atol=1e-5))
    True
    """
    s = jnp.asarray(_validate.positive_array("strengths", strengths))
    k = s.shape[0]
    if k > min(in_dim, out_dim):
        raise ValueError(f"at most min(in_dim, out_dim) = {min(in_dim, out_dim)} strengths, got {k}")
    k_x, k_u, k_v, k_r = jax.random.split(key, 4)
    x = whitened_inputs(k_x, n_samples, in_dim)
    if input_variances is not None:
        c = jnp.asarray(_validate.positive_array("input_variances", input_variances))
        if c.shape != (in_dim,):
            raise ValueError(f"input_variances must have shape ({in_dim},), got {c.shape}")
        rot = random_orthogonal(k_r, in_dim)
        x = x @ (rot * jnp.sqrt(c)) @ rot.T
    left, right = random_orthogonal(k_u, out_dim, k), random_orthogonal(k_v, in_dim, k)
    y = x @ (right * s) @ left.T
    return LinearTask(x, y, left, right, s)


def ranks_above(strengths) -> np.ndarray:
    """For each strength, how many strengths are strictly larger (0 for the strongest mode).

    >>> ranks_above([1.0, 3.0, 2.0]).tolist()
    [2, 0, 1]
    """
    s = np.asarray(strengths, float)
    return (s[None, :] > s[:, None]).sum(axis=1)
