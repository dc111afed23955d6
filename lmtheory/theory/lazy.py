"""Lazy training (Chizat, Oyallon & Bach 2019): the alpha -> infinity limit of an output-scaled model.

Set-up and units. A model ``f(theta; x)`` with initialization ``theta_0`` is replaced by the centered, scaled
model ``h_alpha(theta) = alpha [f(theta) - f(theta_0)]`` and trained on ``L_alpha = L(h_alpha) / alpha^2`` with
``L(h) = 1/(2P) sum_mu (y_mu - h(x_mu))^2`` over ``P`` training points. Dividing by ``alpha^2`` is the same as
training ``f`` itself on the targets ``y / alpha``, so as ``alpha -> infinity`` the model needs only an
``O(1/alpha)`` change of ``f``, its linearization ``f_0 + J (theta - theta_0)`` becomes exact, and

* the parameters move by ``||theta_T - theta_0|| = ||G y|| / alpha + O(1/alpha^2)``, with ``G`` the linear map
  of gradient descent on the linearized model (:func:`lazy_displacement`);
* the hidden units keep their random initial directions, so any measure of feature alignment keeps its value
  at initialization (:func:`random_alignment` for isotropic 2-D weights).

Here ``J`` is the ``P x p`` Jacobian of ``f`` at ``theta_0`` on the training inputs and ``K = J J^T`` the
(empirical, unnormalized) tangent kernel on them; the displacement depends on ``J`` only through ``K``.

Reference: L. Chizat, E. Oyallon, F. Bach, "On Lazy Training in Differentiable Programming", NeurIPS 2019,
arXiv:1812.07956, Sec. 2 (Theorem 2.2: ``sup_{t <= T} ||w_alpha(t) - w_0|| = O(1/alpha)``).
"""

from __future__ import annotations

import numpy as np

from lmtheory import _validate
from lmtheory.theory import kernels


def lazy_displacement(kernel, residual, *, lr: float, steps: int) -> float:
    """Parameter displacement ``||theta_T - theta_0||`` of gradient descent on a *linearized* model.

    The model ``f_0 + J delta`` is trained from ``delta = 0`` on ``L = 1/(2P) ||r_0 - J delta||^2`` by ``steps``
    steps of size ``lr``. The residual obeys ``r_{k+1} = (I - lr K/P) r_k`` and the displacement is the
    geometric sum ``delta_T = J^T K^{-1} [I - (I - lr K/P)^steps] r_0``; with ``K = sum_k lambda_k u_k u_k^T``,

    ``||delta_T||^2 = sum_k lambda_k g(lambda_k)^2 (u_k . r_0)^2``,  ``g(lambda) = [1 - (1 - lr lambda/P)^steps]
    / lambda``.

    ``kernel``: the ``P x P`` tangent kernel ``K = J J^T`` at ``theta_0`` (units of f^2 per parameter^2);
    ``residual``: ``r_0`` (P,), in units of f. For the centered model of :mod:`lmtheory.theory.lazy`, ``r_0 =
    y / alpha``, so the displacement is ``lazy_displacement(K, y) / alpha``. As ``steps -> infinity`` it tends
    to the minimum-norm solution ``||J^+ r_0||``. Exact for the linearized model; for a network it is the
    ``alpha -> infinity`` limit (Chizat, Oyallon & Bach 2019, Theorem 2.2).

    >>> K = np.diag([2.0, 0.5])
    >>> round(lazy_displacement(K, np.array([1.0, 1.0]), lr=0.5, steps=10_000), 6)   # sqrt(1/2 + 1/0.5)
    1.581139
    """
    k = np.asarray(kernel, float)
    r = np.asarray(residual, float).ravel()
    if k.ndim != 2 or k.shape != (r.size, r.size):
        raise ValueError(f"kernel must be a square matrix matching residual ({r.size} points), got {k.shape}")
    if not np.allclose(k, k.T, rtol=1e-6, atol=1e-12 * max(1.0, np.abs(k).max())):
        raise ValueError("kernel must be symmetric (a Gram matrix J J^T)")
    _validate.positive("lr", lr)
    _validate.positive("steps", steps, integer=True)
    lam, u = np.linalg.eigh(k)
    lam = np.clip(lam, 0.0, None)
    g = kernels.gd_filter(lam, lr=lr, steps=steps, n_train=r.size)
    return float(np.sqrt(np.sum(lam * g**2 * (u.T @ r) ** 2)))


def random_alignment(directions, half_width: float) -> float:
    """Expected kink alignment of hidden units with isotropic random 2-D weights: the lazy-limit value.

    A unit ``ReLU(w . x)`` counts as aligned with teacher unit ``j`` when the line of ``w`` lies within
    ``half_width`` (radians) of the line of ``directions[j]`` (see ``lmtheory.simulation.measure.kink_alignment``). For
    ``w`` with a uniformly distributed angle, independent of the units' masses, the expected mass fraction is
    the probability that a uniform angle falls in the union of the arcs ``[phi_j - delta, phi_j + delta]``
    modulo ``pi``: ``|union| / pi``, which equals ``2 k delta / pi`` when the ``k`` arcs do not overlap.
    Exact at initialization for Gaussian (isotropic) first-layer weights, for any width; in the lazy limit
    the trained network keeps this value up to ``O(1/alpha)``.

    ``directions``: (n_teacher, 2); ``half_width`` ``delta`` in radians, in ``(0, pi/2]``. Dimensionless result.

    >>> round(random_alignment(np.array([[1.0, 0.0], [0.0, 1.0]]), np.pi / 12), 6)      # 2 * 2 * 15deg / 180deg
    0.333333
    >>> random_alignment(np.array([[1.0, 0.0], [-1.0, 0.0]]), 0.1) == random_alignment(np.array([[1.0, 0.0]]), 0.1)
    True
    """
    w = np.asarray(directions, float)
    if w.ndim != 2 or w.shape[1] != 2 or w.shape[0] == 0:
        raise ValueError(f"directions must have shape (n_teacher, 2), got {w.shape}")
    if not isinstance(half_width, (int, float, np.floating)) or not 0 < half_width <= np.pi / 2:
        raise ValueError(f"half_width must lie in (0, pi/2] radians, got {half_width!r}")
    phi = np.sort(np.mod(np.arctan2(w[:, 1], w[:, 0]), np.pi))
    gaps = np.diff(np.append(phi, phi[0] + np.pi))        # spacing of the lines around the half-circle
    return float(np.sum(np.minimum(gaps, 2.0 * half_width)) / np.pi)
