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

Conventions: weights are (fan_out, fan_in); hidden unit ``j`` owns row ``j`` of its incoming matrix (and entry
``j`` of its bias) and column ``j`` of its outgoing matrix. Leading axes (e.g. seeds, steps) broadcast.
"""

from __future__ import annotations

import numpy as np

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
