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
    k = _validate.finite_array("kernel", kernel)
    r = _validate.finite_array("residual", residual).ravel()
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
    w = _validate.finite_array("directions", directions)
    if w.ndim != 2 or w.shape[1] != 2 or w.shape[0] == 0:
        raise ValueError(f"directions must have shape (n_teacher, 2), got {w.shape}")
    if not isinstance(half_width, (int, float, np.floating)) or not 0 < half_width <= np.pi / 2:
        raise ValueError(f"half_width must lie in (0, pi/2] radians, got {half_width!r}")
    phi = np.sort(np.mod(np.arctan2(w[:, 1], w[:, 0]), np.pi))
    gaps = np.diff(np.append(phi, phi[0] + np.pi))        # spacing of the lines around the half-circle
    return float(np.sum(np.minimum(gaps, 2.0 * half_width)) / np.pi)


REGIMES = ("lazy", "rich")


def displacement_exponent(regime: str) -> float:
    """Log-log slope of the relative weight movement ``||theta_T - theta_0|| / ||theta_0||`` against ``alpha``.

    ``"lazy"`` (``alpha -> infinity`` at a fixed horizon): ``-1``, since ``||theta_T - theta_0|| = C_T / alpha +
    O(1/alpha^2)`` (:func:`lazy_displacement`; Chizat, Oyallon & Bach 2019, Theorem 2.2).
    ``"rich"`` (``alpha -> 0``) for a model homogeneous of degree 2 in its parameters (a two-layer ReLU or
    linear network without biases), trained with the step ``lr = eta n alpha``: with ``phi = sqrt(alpha) theta``
    it is one training procedure started from ``phi_0 = sqrt(alpha) theta_0``; if ``phi_T`` tends to an
    ``alpha``-independent limit ``phi_*``, then ``||theta_T - theta_0|| / ||theta_0|| -> ||phi_*|| /
    (sqrt(alpha) ||theta_0||)``: ``-1/2``. Asymptotic; the leading correction on the rich side is the relative
    ``O(sqrt(alpha))`` cross term ``-2 phi_* . phi_0``. Dimensionless.

    >>> displacement_exponent("lazy"), displacement_exponent("rich")
    (-1.0, -0.5)
    """
    _validate.one_of("regime", regime, set(REGIMES))
    return -1.0 if regime == "lazy" else -0.5


def linearization_error_exponent(activation: str = "smooth", quantity: str = "function") -> float:
    """Exponent ``p`` in ``error ~ N^p`` of a wide two-layer network's distance from its linearization.

    At a fixed training time, in NTK parameterization of width ``N``:

    * ``activation="smooth"`` (e.g. erf, tanh): ``-1`` for both ``quantity="function"`` (``max_x |f_t - f_lin,t|``)
      and ``quantity="kernel"`` (``||Theta_t - Theta_0||_F / ||Theta_0||_F``): each unit's change is
      ``O(N^(-1/2))`` with a random sign set by its output weight, so ``N`` of them add up to ``O(1/N)``
      (Dyer & Gur-Ari 2020, from a conjecture on correlation functions; proved for polynomial activations by
      Aitken & Gur-Ari 2020). Lee et al. (2019) bound both by ``O(N^(-1/2))``.
    * ``activation="relu"``, ``quantity="kernel"``: ``-3/4`` (heuristic): a fraction ``O(N^(-1/2))`` of the
      units switch on or off during training, each changing its term of the kernel by ``O(1)`` with a random
      sign, so the kernel moves by ``sqrt(N * N^(-1/2)) / N``. For the ReLU *function* no single exponent is
      predicted (switches at the training points add terms of another order): ``ValueError``.

    >>> linearization_error_exponent("smooth"), linearization_error_exponent("relu", "kernel")
    (-1.0, -0.75)
    """
    _validate.one_of("activation", activation, {"smooth", "relu"})
    _validate.one_of("quantity", quantity, {"function", "kernel"})
    if activation == "smooth":
        return -1.0
    if quantity == "kernel":
        return -0.75
    raise ValueError("no single width exponent is predicted for the function of a ReLU network (quantity='function')")


def rich_alignment_limit() -> float:
    """Kink alignment ``A_delta`` of a two-layer ReLU network in the rich limit ``alpha -> 0``: 1 (heuristic).

    Trained from a vanishing initialization, the hidden units first turn towards a few data-determined directions
    while they are still small, then grow ("quantization", Maennel, Bousquet & Gelly 2018, arXiv:1803.08367); for
    a teacher made of ReLU units the heuristic expectation is that all the mass condenses on the teacher's kink
    lines, so the mass fraction within any window ``delta > 0`` of them tends to 1. No theorem gives the deficit
    of a finite network after a finite time; a chapter testing this limit states the threshold it accepts.
    Dimensionless.

    >>> rich_alignment_limit()
    1.0
    """
    return 1.0


def _correlation_maximum(x, y):
    """Exact maximum of ``G(u) = (1/P) sum_mu y_mu ReLU(u . x_mu)`` over unit vectors ``u`` in the plane.

    ``G`` is linear on each arc of directions with a fixed set of active points, ``G(u) = u . v_C`` with
    ``v_C = (1/P) sum_{mu active} y_mu x_mu``; its maximum on an arc lies at ``v_C / |v_C|`` if that direction is
    inside the arc, else at an end of the arc. Returns ``(G_max, u_max)``.
    """
    xs = _validate.finite_array("x", x)
    ys = _validate.finite_array("y", y).ravel()
    if xs.ndim != 2 or xs.shape[1] != 2 or xs.shape[0] != ys.size or ys.size == 0:
        raise ValueError(f"x must have shape (P, 2) with P = len(y) >= 1, got {xs.shape} and {ys.shape}")
    ang = np.arctan2(xs[:, 1], xs[:, 0])
    ends = np.sort(np.mod(np.concatenate([ang + np.pi / 2, ang - np.pi / 2]), 2 * np.pi))
    width = np.diff(np.append(ends, ends[0] + 2 * np.pi))
    mid = ends + width / 2
    unit = lambda t: np.stack([np.cos(t), np.sin(t)], -1)  # noqa: E731
    active = (unit(mid) @ xs.T > 0) * ys                         # (arcs, P): y_mu on the arc's active points
    v = active @ xs / ys.size                                    # v_C of each arc
    inside = np.mod(np.arctan2(v[:, 1], v[:, 0]) - ends, 2 * np.pi) <= width
    g_end = np.maximum(unit(ends) @ xs.T, 0.0) @ ys / ys.size    # G at the arc ends
    cand = np.concatenate([np.where(inside, np.linalg.norm(v, axis=1), -np.inf), g_end])
    best = int(np.argmax(cand))
    u = v[best] / np.linalg.norm(v[best]) if best < ends.size else unit(ends[best - ends.size])
    return float(cand[best]), u


def escape_rate(x, y, *, lr: float | None = None) -> float:
    """Growth rate of the leading hidden units of a two-layer ReLU network escaping a small initialization.

    Model ``f(x) = (1/n) sum_i a_i ReLU(w_i . x)`` on 2-D inputs, trained on ``1/(2P) sum (y - f)^2`` by gradient
    descent with the mean-field step ``n * lr`` (``lr = None``: gradient flow in time ``t = lr * steps``). While
    the output is negligible the residual is ``y`` and each unit obeys ``a' = G(w)``, ``w' = a grad G(w)`` with
    ``G(w) = (1/P) sum_mu y_mu ReLU(w . x_mu)``, 1-homogeneous and linear on each cone of fixed activation
    pattern. A unit with ``a > 0`` whose direction ``u`` satisfies ``grad G(u) = G(u) u`` keeps it and grows,
    ``a + w . u`` by the factor ``1 + lr G(u)`` per step; its mass ``|a| |w|`` by ``(1 + lr G(u))^2``. The units
    that lead the escape sit at the maximum ``G* = max_{|u|=1} G(u)`` (Maennel, Bousquet & Gelly 2018,
    arXiv:1803.08367: the early directions are extrema of this function), so the log-mass of the fastest unit
    grows per step at

        ``2 ln(1 + lr G*)``   (gradient flow: ``2 G*`` per unit time).

    Exact for the linear phase of gradient descent (a unit inside the maximizing cone); asymptotic in a small
    initialization (the residual must still be ``y``). ``x``: (P, 2) inputs *as the first layer sees them*;
    ``y``: (P,). Units: 1/step (GD) or 1/time (flow). :func:`escape_direction` gives the maximizing ``u``.

    >>> x = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    >>> round(escape_rate(x, np.array([1.0, 1.0, 0.0])), 6)        # G* = |(1, 1)| / 3 at u = (1, 1)/sqrt 2
    0.942809
    """
    g = _correlation_maximum(x, y)[0]
    if lr is None:
        return 2.0 * g
    _validate.positive("lr", lr)
    if lr * g <= -1:
        raise ValueError(f"lr too large: 1 + lr G* = {1 + lr * g:.3g} <= 0")
    return float(2.0 * np.log1p(lr * g))


def escape_direction(x, y):
    """Unit vector ``u*`` maximizing ``G(u) = (1/P) sum_mu y_mu ReLU(u . x_mu)`` on the circle (see :func:`escape_rate`).

    Maennel, Bousquet & Gelly (2018): from a small initialization the hidden units with ``a > 0`` that grow
    fastest turn to ``u*`` (units with ``a < 0`` to the minimizers). Exact maximization over the ``2P`` arcs of
    fixed activation pattern. ``x``: (P, 2), ``y``: (P,). Dimensionless.

    >>> escape_direction(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]), np.array([1.0, 1.0, 0.0])).round(6).tolist()
    [0.707107, 0.707107]
    """
    return _correlation_maximum(x, y)[1]
