"""Symmetries and (broken) conservation laws of gradient descent: closed forms taking gradients as inputs.

Set-up (Kunin et al. 2021, "Neural Mechanics", arXiv:2012.04728). If the loss is invariant under a continuous
group acting on a block of parameters, the gradient is orthogonal to the group's generator (Noether), and
gradient flow conserves a quadratic charge:

* **rescale** (a ReLU or linear hidden unit ``j``: incoming weights and bias times ``a``, outgoing weights times
  ``1/a``): ``<w_in, g_in> = <w_out, g_out>``, charge ``Q_j = ||w_in,j||^2 - ||w_out,j||^2``;
* **scale** (weights feeding a normalization: ``w -> a w``): ``<w, g> = 0``, charge ``||w||^2``;
* **translation** (softmax logits: all class rows shifted by the same vector): ``sum_c g_c = 0``, charge
  ``sum_c w_c``.

Gradient descent with learning rate ``lr`` changes the quadratic charges by *exactly* ``lr^2`` times the same
quadratic form of the gradient (the cross terms ``-2 lr <w, g>`` cancel by the symmetry), and leaves the linear
translation charge exactly unchanged. Over a fixed time ``T = lr * steps`` the ``T/lr`` per-step changes of order
``lr^2`` add up to a drift of order ``lr``: ``Q(T) - Q(0) = lr * int_0^T Q(g(t)) dt + O(lr^2)``.

Two further laws of the same origin are used by the book: the *matrix* charge of a two-layer linear network,
``D = W1 W1^T - W2^T W2`` (balancedness; Du, Hu & Lee 2018, arXiv:1806.00900; Arora, Cohen & Hazan 2018,
arXiv:1802.06509), which GD changes by exactly ``lr^2 (G1 G1^T - G2^T G2)`` per step; and the equilibrium norm
of scale-invariant weights under SGD with weight decay (van Laarhoven 2017, arXiv:1706.05350; Li & Arora 2020,
arXiv:1910.07454), ``||w||^4 = lr <||grad L(w_hat)||^2> / (2 weight_decay)`` to leading order in ``lr weight_decay``.

Conventions: weights are (fan_out, fan_in); hidden unit ``j`` owns row ``j`` of its incoming matrix (and entry
``j`` of its bias) and column ``j`` of its outgoing matrix. Leading axes (e.g. seeds, steps) broadcast.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate as _integrate

from lmtheory import _validate

UNIT_ROUNDOFF = float(np.finfo(np.float64).eps) / 2
"""Unit roundoff ``u = 2^-53`` of float64: every basic operation has relative error at most ``u``."""


def rescale_step_change(grad_in, grad_out, *, lr: float, grad_bias=None):
    """Exact change of the rescale charges ``Q_j = ||w_in,j||^2 (+ b_j^2) - ||w_out,j||^2`` in one GD step.

    ``Delta Q_j = lr^2 (||g_in,j||^2 + g_b,j^2 - ||g_out,j||^2)`` (Kunin et al. 2021, Sec. 5), with ``grad_in``
    of shape (..., width, fan_in), ``grad_out`` (..., fan_out, width), ``grad_bias`` (..., width): the gradient at
    the point *before* the step. Units: (weight units)^2. Returns shape (..., width).

    >>> rescale_step_change(np.ones((2, 3)), np.ones((1, 2)), lr=0.1).round(12).tolist()
    [0.02, 0.02]
    """
    _validate.positive("lr", lr)
    g_in, g_out = _validate.finite_array("grad_in", grad_in), _validate.finite_array("grad_out", grad_out)
    if g_in.shape[-2] != g_out.shape[-1]:
        raise ValueError(f"grad_in rows ({g_in.shape[-2]}) and grad_out columns ({g_out.shape[-1]}) must both "
                         "count the hidden units")
    change = np.sum(g_in**2, axis=-1) - np.sum(g_out**2, axis=-2)
    if grad_bias is not None:
        change = change + _validate.finite_array("grad_bias", grad_bias) ** 2
    return lr**2 * change


def scale_step_change(grad, *, lr: float):
    """Exact growth of ``||w_i||^2`` in one GD step for rows ``w_i`` with scale symmetry: ``lr^2 ||g_i||^2``.

    ``grad``: (..., rows, fan_in), the gradient before the step. Returns (..., rows). Kunin et al. (2021), Sec. 5.

    >>> scale_step_change(np.array([[3.0, 4.0]]), lr=0.1).round(12).tolist()
    [0.25]
    """
    _validate.positive("lr", lr)
    return lr**2 * np.sum(_validate.finite_array("grad", grad) ** 2, axis=-1)


def fixed_time_drift(rate_integral, *, lr: float):
    """Leading-order drift of a charge over a fixed time ``T``: ``Q(T) - Q(0) = lr * int_0^T q(t) dt + O(lr^2)``.

    ``rate_integral`` is ``int_0^T q dt`` of the per-step change divided by ``lr^2`` (e.g. ``||g_in||^2 -
    ||g_out||^2``) along the gradient flow; units: (weight units)^2. Per-step changes scale as ``lr^2``, the
    number of steps as ``T/lr``, hence the drift scales as ``lr^1`` (:func:`drift_exponent`).

    >>> float(fixed_time_drift(2.0, lr=0.01))
    0.02
    """
    return _validate.positive("lr", lr) * _validate.finite_array("rate_integral", rate_integral)


def drift_exponent(step_exponent: float = 2.0) -> float:
    """Exponent of the drift at fixed time when each step changes a charge by ``O(lr^p)``: ``p - 1``.

    >>> drift_exponent(2.0)
    1.0
    """
    return float(_validate.positive("step_exponent", step_exponent)) - 1.0


def roundoff_bound(sum_of_squares, *, n_terms: int):
    """Float64 bound on the error of a measured one-step change of a sum (or difference) of ``n`` squares.

    A sum of ``n`` squares computed in floating point has absolute error ``<= n u S`` (``S`` the sum of the
    squares' magnitudes, ``u`` the unit roundoff; Higham, *Accuracy and Stability*, Sec. 3.1). A change is the
    difference of two such sums, ``2 n u S``; rounding the updated weights adds ``2 u S``. Bound:
    ``(2 n + 2) u S``. Units: those of ``S``.

    >>> float(roundoff_bound(1.0, n_terms=3)) == 8 * UNIT_ROUNDOFF
    True
    """
    _validate.positive("n_terms", n_terms, integer=True)
    s = _validate.finite_array("sum_of_squares", sum_of_squares)
    if np.any(s < 0):
        raise ValueError("sum_of_squares must be >= 0")
    return (2 * n_terms + 2) * UNIT_ROUNDOFF * s


def conserved_trajectory(initial, *, steps: int):
    """Value of an exactly conserved charge at steps ``0..steps``: the initial value at every step.

    Under gradient descent the *linear* translation charge ``sum_c w_c`` of a softmax layer changes by
    ``-lr sum_c g_c`` per step, which the translation symmetry makes exactly zero (Kunin et al. 2021, Sec. 5):
    the charge keeps its initial value for every learning rate. ``initial``: the charges at step 0, any shape;
    returns shape ``(steps + 1, *initial.shape)`` (the step axis first). Units: those of ``initial``.

    >>> conserved_trajectory(np.array([1.0, -2.0]), steps=2).tolist()
    [[1.0, -2.0], [1.0, -2.0], [1.0, -2.0]]
    """
    _validate.nonnegative("steps", steps)
    if isinstance(steps, bool) or int(steps) != steps:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    q0 = np.asarray(initial, float)
    if not np.all(np.isfinite(q0)):
        raise ValueError(f"initial must be finite, got {initial!r}")
    return np.broadcast_to(q0, (int(steps) + 1, *q0.shape)).copy()


def flow_drift(times, rates, *, lr: float):
    """Leading-order drift ``lr * int_0^T q dt`` of a charge from its rate ``q`` sampled along the gradient flow.

    ``times``: (m,) increasing grid from 0 to ``T`` (units of lr x steps); ``rates``: (m, ...) the per-step change
    divided by ``lr^2`` (e.g. ``||g_in||^2 - ||g_out||^2``) at those times, integrated by Simpson's rule along the
    first axis. Same law as :func:`fixed_time_drift` (Kunin et al. 2021, Sec. 5); units: (weight units)^2.

    >>> float(flow_drift(np.linspace(0.0, 2.0, 5), np.full(5, 3.0), lr=0.01))
    0.06
    """
    _validate.positive("lr", lr)
    t, q = _validate.finite_array("times", times), _validate.finite_array("rates", rates)
    if t.ndim != 1 or t.size < 3 or np.any(np.diff(t) <= 0) or q.shape[:1] != t.shape:
        raise ValueError(f"times must be an increasing (m >= 3,) grid matching rates' first axis, got {t.shape} "
                         f"and {q.shape}")
    return lr * _integrate.simpson(q, x=t, axis=0)


def balance_step_change(grad_in, grad_out, *, lr: float):
    """Exact change of the balancedness ``D = W1 W1^T - W2^T W2`` of a linear layer pair in one GD step.

    ``Delta D = lr^2 (G1 G1^T - G2^T G2)`` with ``G1`` (..., h, fan_in) and ``G2`` (..., fan_out, h) the
    gradients before the step: the matrix version of :func:`rescale_step_change`, from the symmetry
    ``(W1, W2) -> (A W1, W2 A^-1)`` of ``W2 W1`` (Du, Hu & Lee 2018; Arora et al. 2018). Returns (..., h, h).

    >>> balance_step_change(np.ones((2, 3)), np.ones((1, 2)), lr=0.1).round(12).tolist()
    [[0.02, 0.02], [0.02, 0.02]]
    """
    _validate.positive("lr", lr)
    g1, g2 = _validate.finite_array("grad_in", grad_in), _validate.finite_array("grad_out", grad_out)
    if g1.shape[-2] != g2.shape[-1]:
        raise ValueError(f"grad_in rows ({g1.shape[-2]}) and grad_out columns ({g2.shape[-1]}) must both count "
                         "the hidden units")
    return lr**2 * (g1 @ np.swapaxes(g1, -1, -2) - np.swapaxes(g2, -1, -2) @ g2)


def equilibrium_norm(angular_grad_sq, *, lr: float, weight_decay: float):
    """Stationary norm of scale-invariant weights under (S)GD with weight decay: ``(lr G / (2 wd))^(1/4)``.

    Scale invariance gives ``<w, g> = 0`` and ``||g|| = ||grad L(w_hat)|| / ||w||``, so one step of
    ``w <- (1 - lr wd) w - lr g`` maps ``s = ||w||^2`` to ``(1 - lr wd)^2 s + lr^2 G / s`` with
    ``G = ||grad L(w_hat)||^2`` (``w_hat = w/||w||``). Its fixed point, with ``G`` replaced by its stationary
    mean, is ``s^2 = lr^2 G / (1 - (1 - lr wd)^2) = lr G / (2 wd) (1 + O(lr wd))`` (van Laarhoven 2017; Kunin
    et al. 2021; Li & Arora 2020). Returns the leading-order ``||w||``; units: weight units.

    >>> round(float(equilibrium_norm(0.5, lr=0.1, weight_decay=0.025)), 6)
    1.0
    """
    g = _validate.finite_array("angular_grad_sq", angular_grad_sq)
    if np.any(g < 0):
        raise ValueError("angular_grad_sq must be >= 0")
    return (_validate.positive("lr", lr) * g / (2 * _validate.positive("weight_decay", weight_decay))) ** 0.25


def equilibrium_norm_exponent() -> float:
    """Exponent of ``||w||_eq`` in ``lr / weight_decay`` at a fixed product ``lr * weight_decay``: ``1/4``.

    At fixed ``lr wd`` the runs ``(lr, wd)`` and ``(lr / c^2, c^2 wd)`` are the same dynamics with ``w`` scaled by
    ``1/c`` (substitute ``v = w / c`` in the update; the angular gradient ``G`` is unchanged), so the stationary
    ``||w||_eq = (lr G / 2 wd)^(1/4)`` (:func:`equilibrium_norm`) scales as ``(lr/wd)^(1/4)`` once the memory of
    the initial norm, ``exp(-4 lr wd k)`` after ``k`` steps, is gone (Li & Arora 2020, arXiv:1910.07454).

    >>> equilibrium_norm_exponent()
    0.25
    """
    return 0.25
