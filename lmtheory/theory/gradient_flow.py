"""Gradient descent as a discretization of gradient flow, and its modified flows (closed forms).

Set-up and units. Gradient descent ``theta_{k+1} = theta_k - lr * grad L(theta_k)`` is the explicit Euler method
with step ``lr`` for the gradient flow ``d theta/dt = -grad L``; time is ``t = lr * steps``. *Backward error
analysis* looks for a modified vector field ``F_lr = -grad L + lr F_1 + lr^2 F_2 + ...`` whose exact flow passes
through the iterates. Matching the Taylor expansion of one flow step of length ``lr`` with one GD step gives
``F_1 = -(1/2) H grad L = -(1/4) grad ||grad L||^2``: to first order gradient descent is the gradient flow of the
modified loss ``L + (lr/4) ||grad L||^2`` (implicit gradient regularization). A method whose modified field is
matched through ``F_k`` has global error ``O(lr^(k+1))`` at fixed time (local error ``O(lr^(k+2))`` per step,
``time/lr`` steps).

For a quadratic loss ``L = (1/2) sum_i lambda_i theta_i^2`` everything is explicit: GD multiplies mode ``i`` by
``(1 - lr lambda_i)`` per step, i.e. it decays at the rate ``-ln(1 - lr lambda)/lr = lambda sum_k (lr lambda)^k /
(k + 1)`` per unit time. The series is the modified flow order by order; for a quadratic it converges iff
``lr lambda < 1``, and for ``lr lambda >= 1`` (GD overshoots and flips sign) no real flow reproduces GD at all. For
a general (non-quadratic) loss the backward-error series typically diverges for every ``lr > 0``: it is only
asymptotic, and truncated at an optimal order it describes GD up to errors exponentially small in ``1/(lr
lambda_max)`` (Hairer, Lubich & Wanner, ch. IX.7). The quadratic's radius is then only the scale where it fails.

Reference: D. G. T. Barrett, B. Dherin, "Implicit Gradient Regularization", ICLR 2021 (arXiv:2009.11162),
Theorem 3.1; backward error analysis: Hairer, Lubich & Wanner, *Geometric Numerical Integration*, ch. IX.
"""

from __future__ import annotations

import numpy as np

from lmtheory import _validate

IGR_COEFFICIENT = 0.25
"""Coefficient ``c`` of ``lr * ||grad L||^2`` in the modified loss of gradient descent: ``c = 1/4``."""


def modified_loss_strength(*, lr: float) -> float:
    """Strength ``lr / 4`` of the implicit regularizer ``||grad L||^2`` in GD's modified loss ``L + (lr/4)||grad L||^2``.

    Units: those of ``lr`` (time). Barrett & Dherin (2021), Theorem 3.1.

    >>> modified_loss_strength(lr=0.1)
    0.025
    """
    return IGR_COEFFICIENT * _validate.positive("lr", lr)


def global_error_order(correction_order: int) -> int:
    """Exponent ``p`` in ``|theta_GD(T) - theta_k(T)| = O(lr^p)`` at fixed time ``T``: ``p = k + 1``.

    ``theta_k`` is the flow of the modified field truncated after ``k`` corrections (``k = 0``: plain gradient
    flow; ``k = 1``: the flow of ``L + (lr/4)||grad L||^2``). Local error ``O(lr^(k+2))`` times ``T/lr`` steps.

    >>> global_error_order(0), global_error_order(1)
    (1, 2)
    """
    if isinstance(correction_order, bool) or not isinstance(correction_order, (int, np.integer)) \
            or correction_order < 0:
        raise ValueError(f"correction_order must be a non-negative integer, got {correction_order!r}")
    return int(correction_order) + 1


def backward_error_rate(eigenvalue, *, lr: float, order: int | None = None):
    """Decay rate per unit time of a quadratic mode under GD's modified flow.

    ``order=None``: the exact rate ``-ln(1 - lr lambda)/lr`` whose flow passes through every GD iterate (``nan``
    where ``lr lambda >= 1``: no real flow exists). ``order=k``: the backward-error series truncated after ``k``
    corrections, ``lambda sum_{j=0..k} (lr lambda)^j / (j + 1)`` (``k = 0``: gradient flow, ``k = 1``: the IGR
    flow ``lambda (1 + lr lambda / 2)``). The series converges to the exact rate iff ``lr lambda < 1``.
    Units: 1/time; ``eigenvalue`` is a Hessian eigenvalue (1/time).

    >>> float(backward_error_rate(2.0, lr=0.1, order=1))
    2.2
    >>> bool(np.isclose(backward_error_rate(2.0, lr=0.1), -np.log(0.8) / 0.1))
    True
    """
    lam = np.asarray(eigenvalue, float)
    if not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError(f"eigenvalue must be finite and >= 0, got {eigenvalue!r}")
    _validate.positive("lr", lr)
    x = lr * lam
    if order is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            exact = -np.log1p(-x) / lr
        return np.where(x < 1, np.where(x > 0, exact, lam), np.nan)
    k = global_error_order(order) - 1
    return lam * sum(x**j / (j + 1) for j in range(k + 1))


def quadratic_gd(eigenvalues, init, *, lr: float, steps: int):
    """GD on ``L = (1/2) sum_i lambda_i theta_i^2`` after ``steps`` steps: ``theta_i = (1 - lr lambda_i)^steps theta_i(0)``.

    Coordinates are the Hessian's eigenbasis; ``eigenvalues`` and ``init`` broadcast.

    >>> float(quadratic_gd(1.0, 1.0, lr=0.5, steps=2))
    0.25
    """
    _validate.positive("lr", lr)
    _validate.positive("steps", steps, integer=True)
    lam, theta0 = _validate.finite_array("eigenvalues", eigenvalues), _validate.finite_array("init", init)
    return (1.0 - lr * lam) ** steps * theta0


def quadratic_flow(eigenvalues, init, *, time, lr: float | None = None, order: int = 0):
    """Flow of a quadratic mode for a time ``t``: ``theta_i(t) = exp(-r_i t) theta_i(0)``.

    ``r_i = lambda_i`` for the gradient flow (``order=0``); with ``lr`` and ``order=k`` it is GD's modified flow
    truncated after ``k`` corrections (:func:`backward_error_rate`; ``order=1`` is the flow of
    ``L + (lr/4)||grad L||^2``), and ``order=None`` the exact interpolating flow.

    >>> round(float(quadratic_flow(1.0, 1.0, time=1.0)), 6) == round(float(np.exp(-1.0)), 6)
    True
    """
    t = _validate.finite_array("time", time, allow_inf=True)     # time = inf: the flow's end point
    if np.any(t < 0):
        raise ValueError(f"time must be >= 0, got {time!r}")
    _validate.finite("eigenvalues", eigenvalues), _validate.finite("init", init)
    if order == 0:
        rate = np.asarray(eigenvalues, float)
    elif lr is None:
        raise ValueError("lr is needed for a modified flow (order != 0)")
    else:
        rate = backward_error_rate(eigenvalues, lr=lr, order=order)
    return np.exp(-rate * t) * np.asarray(init, float)


def quadratic_gap_coefficient(eigenvalues, init, *, time):
    """Leading coefficient of GD's deviation from gradient flow on a quadratic, ``lim (theta_GD - theta)/lr``.

    ``(1 - lr lambda)^(t/lr) = exp(-lambda t - lr lambda^2 t / 2 + O(lr^2))`` gives
    ``theta_GD(t) - theta(t) = -lr (lambda^2 t / 2) exp(-lambda t) theta(0) + O(lr^2)``.

    >>> round(float(quadratic_gap_coefficient(1.0, 1.0, time=2.0)), 4)    # -exp(-2)
    -0.1353
    """
    lam, t = _validate.finite_array("eigenvalues", eigenvalues), _validate.finite_array("time", time)
    return -0.5 * lam**2 * t * np.exp(-lam * t) * _validate.finite_array("init", init)


def series_radius(sharpness: float) -> float:
    """Largest learning rate ``1/lambda_max`` at which the backward-error series of a *quadratic* converges.

    Beyond it GD overshoots the minimum along the sharpest direction (``1 - lr lambda_max < 0``); GD itself stays
    stable up to ``2/lambda_max``, but no (modified) gradient flow describes it there. For a non-quadratic loss the
    series is in general only asymptotic (Hairer, Lubich & Wanner, ch. IX): ``1/lambda_max`` is then the scale
    where truncations stop helping, not a radius of convergence.

    >>> series_radius(4.0)
    0.25
    """
    return 1.0 / _validate.positive("sharpness", sharpness)
