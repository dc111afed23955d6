"""Linear stability of gradient descent (the quadratic theory behind the edge of stability).

Set-up and units. Gradient descent ``theta <- theta - lr * grad L`` on a quadratic ``L = 1/2 theta^T H theta``
is the linear map ``theta <- (I - lr H) theta``. In the eigenbasis of ``H`` (eigenvalues ``lambda_i``, units of
loss per parameter squared) each component is multiplied by ``1 - lr lambda_i`` per step, so

* the component along ``lambda_i`` grows iff ``|1 - lr lambda_i| > 1``, i.e. iff ``lr > 2 / lambda_i``;
* gradient descent diverges iff ``lr > 2 / lambda_max`` (the *critical learning rate*), and
* ``||theta_k||`` grows or shrinks asymptotically by the spectral radius ``max_i |1 - lr lambda_i|`` per step.

Near any minimum of a smooth loss the same holds for the Hessian there, which is why ``lambda_max`` is called
the *sharpness* and ``2 / lr`` the *edge of stability* (Cohen et al. 2021, arXiv:2103.00065).
"""

from __future__ import annotations

import numpy as np

from lmtheory import _validate


def critical_lr(sharpness):
    """Largest stable learning rate ``2 / lambda_max`` of gradient descent on a quadratic of sharpness ``lambda_max``.

    >>> float(critical_lr(4.0))
    0.5
    """
    return 2.0 / _validate.positive_array("sharpness", sharpness)


def edge_of_stability(lr):
    """The sharpness ``2 / lr`` at which gradient descent with learning rate ``lr`` is marginally stable.

    Empirically (Cohen et al. 2021), full-batch gradient descent on neural networks drives the sharpness up to this
    value and then hovers around it. Units: loss per parameter squared when ``lr`` is in parameter^2 per loss.

    >>> float(edge_of_stability(0.1))
    20.0
    """
    return 2.0 / _validate.positive_array("lr", lr)


def growth_factor(lr, curvature):
    """Per-step factor ``|1 - lr * lambda|`` of the component of ``theta`` along an eigenvector of curvature ``lambda``.

    Broadcasts over ``lr`` and ``curvature`` (``curvature`` may be negative or zero: a flat or concave direction).

    >>> float(growth_factor(0.3, 10.0))
    2.0
    """
    lr = _validate.positive_array("lr", lr)
    return np.abs(1.0 - lr * _validate.finite_array("curvature", curvature))


def spectral_radius(lr, eigenvalues):
    """Asymptotic per-step factor of ``||theta_k||``: ``max_i |1 - lr lambda_i|`` (last axis of ``eigenvalues``).

    ``lr`` broadcasts against the leading axes of ``eigenvalues`` (e.g. ``lr[:, None]`` with ``eigenvalues[None, :]``
    gives one value per learning rate).

    >>> spectral_radius(np.array([0.1, 0.3]), np.array([1.0, 10.0])).round(6).tolist()
    [0.9, 2.0]
    """
    lam = _validate.finite_array("eigenvalues", eigenvalues)
    lr = np.asarray(_validate.positive_array("lr", lr), float)
    return np.max(growth_factor(lr[..., None], lam), axis=-1)


def quadratic_trajectory(steps, *, lr: float, eigenvalues, initial):
    """Closed-form gradient descent on ``1/2 sum_i lambda_i c_i^2``: ``c_i(k) = (1 - lr lambda_i)^k c_i(0)``.

    The ``c_i`` are the coordinates of ``theta`` in the eigenbasis of the Hessian.

    ``steps``: integer array of step numbers ``k``; ``initial``: the coordinates ``c(0)`` in the eigenbasis.
    Returns shape ``steps.shape + (n_eigenvalues,)``.

    >>> quadratic_trajectory(np.array([0, 1, 2]), lr=0.5, eigenvalues=[1.0, 3.0], initial=[1.0, 1.0]).tolist()
    [[1.0, 1.0], [0.5, -0.5], [0.25, 0.25]]
    """
    _validate.positive("lr", lr)
    k = np.asarray(steps)
    if not np.issubdtype(k.dtype, np.integer) or np.any(k < 0):
        raise ValueError(f"steps must be non-negative integers, got {steps!r}")
    factor = 1.0 - lr * _validate.finite_array("eigenvalues", eigenvalues)
    return _validate.finite_array("initial", initial) * factor ** k[..., None]


def self_stabilized_amplitude(sharpening, stabilization, drift=0.0):
    """Mean squared oscillation ``<x^2> = 2 (alpha - drift) / beta`` along the top eigenvector at the edge of stability.

    The self-stabilization model of Damian, Nichani & Lee (2023, arXiv:2209.15594, Sec. 4): with ``x`` the
    displacement along the top Hessian eigenvector ``u`` from the centre of the oscillation and ``y = S - 2/lr`` the
    excess sharpness, a cubic Taylor expansion of the loss gives ``x' = -(1 + lr y) x`` and
    ``y' = y + lr (alpha - beta x^2 / 2)``, with ``alpha = -grad L . grad S`` (progressive sharpening, > 0) and
    ``beta = ||grad S||^2`` (``grad S = nabla^3 L[u, u]``, components along ``u`` removed). Summed over a window of
    ``T`` steps, ``sum_t (alpha - beta x_t^2 / 2) = (y_T - y_0) / lr``: the time average of ``x^2`` is
    ``2 (alpha - drift) / beta`` with ``drift = (y_T - y_0) / (lr T)``, the window's net sharpening per unit time
    (0 over whole cycles: ``2 alpha / beta``). Leading order in the amplitude (heuristic for a network: one unstable
    direction, ``alpha`` and ``beta`` constant over the window). ``sharpening``: ``alpha`` (loss^2 per
    parameter^4); ``stabilization``: ``beta`` (> 0, loss^2 per parameter^6); ``drift`` in the units of ``alpha``.
    Where ``alpha - drift <= 0`` the model predicts no oscillation (0). Units: parameter^2.

    >>> float(self_stabilized_amplitude(0.3, 2.0)), round(float(self_stabilized_amplitude(0.3, 2.0, drift=0.1)), 12)
    (0.3, 0.2)
    """
    alpha = _validate.finite_array("sharpening", sharpening)
    beta = _validate.positive_array("stabilization", stabilization)
    drift = _validate.finite_array("drift", drift)
    return 2.0 * np.maximum(alpha - drift, 0.0) / beta
