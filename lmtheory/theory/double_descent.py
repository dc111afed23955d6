"""Test risk of ridgeless and ridge least squares on isotropic Gaussian data: double descent and its cure.

Set-up and units. ``n`` samples ``x_i ~ N(0, I_p)``, labels ``y_i = x_i . beta + eps_i`` with ``||beta|| = r``
(``signal``) and ``eps_i ~ N(0, sigma^2)`` (``noise = sigma``); ``gamma = p / n`` (``ratio``). The ridge estimator is
``beta_lambda = (X^T X + n lambda I)^{-1} X^T y`` (Hastie et al.'s scaling of ``lambda``); ``lambda -> 0`` gives the
minimum-norm least-squares (ridgeless) estimator. The *risk* is the excess test error over the noise floor,
``R = E[(x . beta_hat - x . beta)^2 | X] = ||beta_hat - beta||^2`` (averaged over ``eps``), in units of the squared
label; the full test error is ``R + sigma^2``.

Reference: T. Hastie, A. Montanari, S. Rosset, R. J. Tibshirani, "Surprises in high-dimensional ridgeless least
squares interpolation", Ann. Statist. 50, 949 (2022), arXiv:1903.08560: Theorem 1 (ridgeless, isotropic) and
Section 5 / Theorem 5 (ridge, isotropic; optimal ``lambda* = sigma^2 gamma / r^2``).
"""

from __future__ import annotations

import numpy as np

from lmtheory import _validate
from lmtheory.theory.random_matrix import mp_stieltjes, mp_stieltjes_derivative


def _args(signal, noise):
    r = float(_validate.positive("signal", signal))
    _validate.nonnegative("noise", noise)
    return r, float(noise)


def ridgeless_risk(ratio, *, signal: float, noise: float):
    """Asymptotic risk of min-norm least squares: ``sigma^2 gamma/(1 - gamma)`` (gamma < 1), else
    ``r^2 (1 - 1/gamma) + sigma^2 / (gamma - 1)``; infinite at ``gamma = 1`` (Hastie et al. 2022, Theorem 1).

    >>> ridgeless_risk(np.array([0.5, 2.0]), signal=1.0, noise=1.0).tolist()
    [1.0, 1.5]
    """
    r, s = _args(signal, noise)
    g = np.asarray(_validate.positive_array("ratio", ratio))
    under = np.where(g < 1, s**2 * g / np.where(g < 1, 1 - g, 1.0), 0.0)
    over = np.where(g > 1, r**2 * (1 - 1 / g) + s**2 / np.where(g > 1, g - 1, 1.0), 0.0)
    return np.where(g == 1, np.inf, under + over)


def ridgeless_risk_finite(*, n_samples: int, dim: int, signal: float, noise: float) -> float:
    """Exact expected risk of min-norm least squares for Gaussian ``X`` at finite ``n`` and ``p``.

    ``p < n - 1``: ``sigma^2 p / (n - p - 1)`` (since ``E[(X^T X)^{-1}] = I / (n - p - 1)``);
    ``p > n + 1``: ``r^2 (1 - n/p) + sigma^2 n / (p - n - 1)`` (the row space of ``X`` is uniformly random and
    ``E[(X X^T)^{-1}] = I / (p - n - 1)``). Infinite for ``|p - n| <= 1``. Tends to :func:`ridgeless_risk`.

    >>> ridgeless_risk_finite(n_samples=100, dim=50, signal=1.0, noise=1.0)
    1.0204081632653061
    """
    n = _validate.positive("n_samples", n_samples, integer=True)
    p = _validate.positive("dim", dim, integer=True)
    r, s = _args(signal, noise)
    if p < n - 1:
        return s**2 * p / (n - p - 1)
    if p > n + 1:
        return r**2 * (1 - n / p) + s**2 * n / (p - n - 1)
    return float("inf")


def ridge_risk(ratio, ridge, *, signal: float, noise: float):
    """Asymptotic risk of ridge regression, ``r^2 lambda^2 m'(-lambda) + sigma^2 gamma [m - lambda m'](-lambda)``.

    ``m`` is the Stieltjes transform of the Marchenko-Pastur law with ratio ``gamma``
    (:func:`lmtheory.theory.random_matrix.mp_stieltjes`); the first term is the squared bias, the second the
    variance (Hastie et al. 2022, Section 5). ``ridge`` = ``lambda`` > 0, in units of the input variance.

    >>> round(float(ridge_risk(1.0, 0.25, signal=1.0, noise=0.5)), 6)      # = optimal_ridge_risk(1, ...)
    0.390388
    """
    r, s = _args(signal, noise)
    g = np.asarray(_validate.positive_array("ratio", ratio))
    lam = np.asarray(_validate.positive_array("ridge", ridge))
    g, lam = np.broadcast_arrays(g, lam)
    out = np.empty(g.shape)
    for idx in np.ndindex(g.shape):
        m = mp_stieltjes(-lam[idx], ratio=g[idx])
        dm = mp_stieltjes_derivative(-lam[idx], ratio=g[idx])
        out[idx] = r**2 * lam[idx] ** 2 * dm + s**2 * g[idx] * (m - lam[idx] * dm)
    return out if out.ndim else float(out)


def optimal_ridge(ratio, *, signal: float, noise: float):
    """The risk-minimizing ridge ``lambda* = sigma^2 gamma / r^2`` (the posterior mean for a Gaussian prior on beta).

    >>> float(optimal_ridge(2.0, signal=1.0, noise=0.5))
    0.5
    """
    r, s = _args(signal, noise)
    return s**2 * np.asarray(_validate.positive_array("ratio", ratio)) / r**2


def optimal_ridge_risk(ratio, *, signal: float, noise: float):
    """Risk at the optimal ridge: ``sigma^2 gamma m(-lambda*)`` -- finite and increasing in ``gamma``: no peak.

    At ``lambda = lambda*`` the bias and variance derivatives cancel in :func:`ridge_risk`, leaving
    ``sigma^2 gamma m(-lambda*)`` (Hastie et al. 2022, Section 5; Dicker 2016).

    >>> round(float(optimal_ridge_risk(1.0, signal=1.0, noise=0.5)), 6)
    0.390388
    """
    r, s = _args(signal, noise)
    g = np.asarray(_validate.positive_array("ratio", ratio))
    if s == 0:
        return np.zeros(g.shape) if g.ndim else 0.0
    lam = optimal_ridge(g, signal=r, noise=s)
    out = np.array([s**2 * gi * mp_stieltjes(-li, ratio=gi) for gi, li in zip(g.ravel(), lam.ravel())])
    return out.reshape(g.shape) if g.ndim else float(out[0])
