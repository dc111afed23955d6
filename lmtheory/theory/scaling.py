"""Scaling laws from power-law spectra: exponents and finite-range learning curves.

Set-up. A kernel (or a linear model on Gaussian features) has eigenvalues ``lambda_k = k^-a`` (``a > 1``, the
*capacity* exponent) and the target has power ``P_k = v_k^2 = k^-b`` (``b > 1``, the *source* exponent) in
eigenmode ``k = 1, 2, ...``. Two resources limit learning:

* **data-limited** (``n`` samples, infinitely many features; ridgeless, noiseless kernel regression): by
  eigenlearning (:mod:`lmtheory.theory.eigenlearning`) ``kappa ~ n^-a``, ``E_0 -> a`` and the test error
  ``E_0 sum_k (1 - L_k)^2 P_k ~ n^-min(b - 1, 2a)`` (Bordelon, Canatar & Pehlevan 2020, Sec. 5; the power
  ``2a`` is the *saturation* of kernel ridge regression for very smooth targets);
* **model-limited** (``p`` random features ``z = W x`` of a Gaussian latent ``x`` with covariance
  ``diag(lambda)``, ``W`` Gaussian, infinitely many samples): the population least-squares error is
  ``sum_k P_k (1 - L_k) = sum_k P_k kappa_p / (lambda_k + kappa_p)`` with ``kappa_p`` the eigenlearning
  ``kappa`` at ``n = p``, ``~ p^-min(b - 1, a)``. Maloney, Roberts & Sully (2022) take an isotropic teacher,
  ``b = a = 1 + alpha``, for which both exponents are ``alpha``.

Exponents are asymptotic (``1 << n, p << number of modes``); over a finite range the theory curves bend, and
:func:`curve_loglog_slope` gives the slope a straight-line fit would see. Units: errors in units of ``y^2``.

References: B. Bordelon, A. Canatar, C. Pehlevan, arXiv:2002.02561 (2020); A. Maloney, D. A. Roberts,
J. Sully, arXiv:2210.16859 (2022); Y. Bahri et al., arXiv:2102.06701 (2021).
"""

from __future__ import annotations

import numpy as np

from lmtheory import _validate
from lmtheory.theory import eigenlearning


def power_law(n_modes: int, exponent: float, *, scale: float = 1.0) -> np.ndarray:
    """``scale * k^-exponent`` for ``k = 1..n_modes``: a truncated power-law spectrum (or target power).

    >>> power_law(3, 2.0).tolist()
    [1.0, 0.25, 0.1111111111111111]
    """
    _validate.positive("n_modes", n_modes, integer=True)
    _validate.positive("exponent", exponent)
    _validate.positive("scale", scale)
    return scale * np.arange(1, n_modes + 1, dtype=float) ** -exponent


def _exponents(capacity, source):
    a = _validate.positive("capacity", capacity)
    b = _validate.positive("source", source)
    if a <= 1 or b <= 1:
        raise ValueError(f"capacity and source exponents must be > 1 (finite trace and target power), "
                         f"got capacity={capacity!r}, source={source!r}")
    return float(a), float(b)


def data_limited_exponent(capacity: float, source: float) -> float:
    """Exponent ``min(b - 1, 2a)`` of ridgeless, noiseless kernel regression: test error ``~ n^-exponent``.

    ``b - 1`` when the target is rough enough (``b - 1 < 2a``); ``2a`` (saturation) otherwise.

    >>> data_limited_exponent(2.0, 3.0), data_limited_exponent(2.0, 6.0)
    (2.0, 4.0)
    """
    a, b = _exponents(capacity, source)
    return min(b - 1.0, 2.0 * a)


def model_limited_exponent(capacity: float, source: float) -> float:
    """Exponent ``min(b - 1, a)`` of the random-feature model at infinite data: error ``~ p^-exponent``.

    For Maloney et al.'s isotropic teacher (``a = b = 1 + alpha``) this is ``alpha``.

    >>> model_limited_exponent(2.0, 2.0), model_limited_exponent(1.5, 4.0)
    (1.0, 1.5)
    """
    a, b = _exponents(capacity, source)
    return min(b - 1.0, a)


def asymptotic_kappa(n, capacity: float) -> np.ndarray:
    """Large-``n`` effective ridge for ``lambda_k = k^-a`` (ridgeless): ``kappa = [n sin(pi/a) / (pi/a)]^-a``.

    From ``sum_k 1/(1 + kappa k^a) ~ integral_0^inf dk / (1 + kappa k^a) = kappa^(-1/a) (pi/a) / sin(pi/a)``;
    relative error ``O(1/n)``. Units of ``lambda``.

    >>> round(float(asymptotic_kappa(100.0, 2.0) * 100.0**2), 6)             # (pi/2)^2
    2.467401
    """
    a = _validate.positive("capacity", capacity)
    if a <= 1:
        raise ValueError(f"capacity must be > 1, got {capacity!r}")
    n_arr = _validate.positive_array("n", n)
    return (n_arr * np.sin(np.pi / a) / (np.pi / a)) ** -a


def random_feature_error(p, eigenvalues, target_power, *, ridge: float = 0.0):
    """Population error of least squares on ``p`` Gaussian random features: ``sum_k P_k kappa / (lambda_k + kappa)``.

    ``kappa`` is :func:`lmtheory.theory.eigenlearning.effective_ridge` at ``n = p``: the projection of the target
    onto ``p`` random directions ``W^T a`` (``W`` i.i.d. Gaussian) learns mode ``k`` to the fraction ``L_k`` on
    average, with no variance because the data are infinite. ``eigenvalues``: latent covariance spectrum;
    ``target_power``: ``P_k`` per mode. Vectorized over ``p``. Units of ``y^2``.

    >>> round(float(random_feature_error(2, [1.0] * 4, [1.0] * 4)), 12)     # L = 1/2 for all 4 modes
    2.0
    """
    _validate.positive_array("p", p)                   # checked here so that the message names p, not n
    lam = _validate.positive_array("eigenvalues", eigenvalues)
    power = _validate.finite_array("target_power", target_power)
    if power.shape != lam.shape or np.any(power < 0):
        raise ValueError(f"target_power must be >= 0 with the shape of eigenvalues {lam.shape}, got {power.shape}")
    kappa = eigenlearning.effective_ridge(p, lam, ridge=ridge)
    return np.sum(power * (1.0 - eigenlearning.learnability(lam, kappa)), axis=-1)


def curve_loglog_slope(x, curve) -> float:
    """Log-log slope of a *theory* curve over a finite range: ``sum_i w_i ln curve_i``, ``w_i = (ln x_i - m) /
    sum_j (ln x_j - m)^2`` with ``m`` the mean of ``ln x`` -- the exponent a straight-line fit over this grid reports.

    A deterministic functional of a closed-form curve (e.g. :func:`random_feature_error` or
    :func:`lmtheory.theory.eigenlearning.mse_test` on the sizes of a sweep), not an estimate from samples: compare a
    measured slope (:func:`lmtheory.contract.stats.slope` on the same grid) with this to remove the bias of
    pre-asymptotic curvature. Equals minus the exponent for an exact power law. Dimensionless.

    >>> round(curve_loglog_slope([1.0, 2.0, 4.0], [1.0, 0.25, 0.0625]), 12)
    -2.0
    """
    lx = np.log(_validate.positive_array("x", x))
    ly = np.log(_validate.positive_array("curve", curve))
    if lx.shape != ly.shape or lx.ndim != 1 or lx.size < 2:
        raise ValueError(f"x and curve must be 1-D of the same length >= 2, got {lx.shape} and {ly.shape}")
    dx = lx - lx.mean()
    return float(np.sum(dx * (ly - ly.mean())) / np.sum(dx**2))


