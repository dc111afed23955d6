"""Measurements of gradient descent at the edge of stability: the oscillation and the forces that hold it.

Near the edge, gradient descent oscillates along the top Hessian eigenvector ``u`` about a slowly moving centre.
Self-stabilization (Damian, Nichani & Lee 2023, arXiv:2209.15594) balances two rates at that centre: progressive
sharpening ``alpha = -grad L . grad S`` and the cubic restoring force ``beta = ||grad S||^2`` (both with the
component along ``u`` removed), where ``grad S = grad (u^T H u) = nabla^3 L[u, u]`` is the gradient of the
sharpness (Hellmann-Feynman, ``u`` held fixed). :func:`sharpness_gradient` computes it without any dense array
(the gradient of a Hessian-vector product); :func:`gradient_descent_edge` runs full-batch gradient descent and
records, every ``every`` steps, the loss, the sharpness, the displacement ``x`` along ``u`` and ``alpha``, ``beta``
at the centre of the oscillation. Everything is ``jit``/``vmap`` friendly (``lr`` may be traced).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from lmtheory import _validate
from lmtheory.simulation import measure, train


def sharpness_gradient(loss: Callable, params, vector):
    """``grad_theta (v^T H(theta) v) = nabla^3 L(theta)[v, v]`` for a fixed ``vector`` ``v`` (pytrees like params).

    With ``v`` the unit top eigenvector ``u`` this is the gradient of the sharpness ``S = lambda_max`` (for a simple
    eigenvalue, by the Hellmann-Feynman theorem). One reverse pass over a Hessian-vector product; units: loss per
    parameter cubed.

    >>> loss = lambda p: p[0] ** 2 * p[1]                  # v^T H v with v = e_0 is 2 p_1: gradient (0, 2)
    >>> sharpness_gradient(loss, jnp.array([1.0, 3.0]), jnp.array([1.0, 0.0])).tolist()
    [0.0, 2.0]
    """
    def curvature(p):
        hv = measure.hessian_vector_product(loss, p, vector)
        return sum(jnp.vdot(a, b) for a, b in zip(jax.tree.leaves(vector), jax.tree.leaves(hv)))

    return jax.grad(curvature)(params)


def _edge_record(floss, lr, iters):
    """The record of :func:`gradient_descent_edge` on flat parameters: state (theta, u) -> (state, measurements)."""
    grad = jax.grad(floss)

    def record(state):
        theta, v = state
        lam, v = measure.sharpness(floss, theta, vector=v, iters=iters, return_vector=True)
        g = grad(theta)
        centre = theta - 0.5 * lr * g                    # midpoint of theta_t and theta_{t+1}
        g_c, ds = grad(centre), sharpness_gradient(floss, centre, v)
        g_perp, ds_perp = g_c - (v @ g_c) * v, ds - (v @ ds) * v
        x = 0.5 * lr * (v @ g)                           # u.grad L = S x at the edge, S = 2 / lr
        return (theta, v), (floss(theta), lam, x, -(g_perp @ ds_perp), ds_perp @ ds_perp)

    return record


def gradient_descent_edge(loss: Callable, params, *, lr, steps: int, every: int, key, iters: int = 20):
    """Full-batch gradient descent recording the self-stabilization quantities every ``every`` steps.

    Returns ``(params, (losses, sharpness, x, alpha, beta))``, each history of length ``steps // every + 1``:
    ``sharpness`` by ``iters`` warm-started power iterations at ``theta_t`` (the first record uses ``4 * iters``
    from a random direction drawn with ``key``); ``x = (lr / 2) u . grad L(theta_t)``, the displacement along ``u``
    from the centre of the oscillation (exact for a quadratic at ``S = 2 / lr``); ``alpha`` and ``beta`` at the
    midpoint ``theta_t - (lr / 2) grad L(theta_t)`` of two consecutive iterates, where the oscillation's own
    contribution cancels, with the components along ``u`` removed (Damian et al. 2023, Sec. 4). Units: ``x`` in
    parameter units, ``alpha`` loss^2 per parameter^4, ``beta`` loss^2 per parameter^6, ``2 alpha / beta`` in
    parameter^2.

    >>> loss = lambda p: 0.5 * (4.0 * p[0] ** 2 + p[1] ** 2)   # a quadratic: grad S = 0; x flips sign (u's is arbitrary)
    >>> _, (ls, lam, x, a, b) = gradient_descent_edge(loss, jnp.array([1.0, 1.0]), lr=0.5, steps=2, every=1,
    ...                                               key=jax.random.key(0))
    >>> [round(float(v), 4) for v in lam], [round(abs(float(v)), 4) for v in x], float(x[0] * x[1]), float(b[0])
    ([4.0, 4.0, 4.0], [1.0, 1.0, 1.0], -1.0, 0.0)
    """
    _validate.positive("iters", iters, integer=True)
    flat, unravel = ravel_pytree(params)
    floss = lambda f: loss(unravel(f))                   # noqa: E731
    _, step = train.gd_step(floss, lr=lr)
    v0 = jax.random.normal(key, flat.shape, flat.dtype)
    _, v0 = measure.sharpness(floss, flat, vector=v0, iters=4 * iters, return_vector=True)
    (theta, _), hist = train.recorded_scan(lambda s, k: (step(s[0], k), s[1]), (flat, v0), steps=steps,
                                           every=every, record=_edge_record(floss, lr, iters))
    return unravel(theta), hist
