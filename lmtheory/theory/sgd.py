"""Constant-step SGD on online least squares with Gaussian inputs: exact second moments, temperature, divergence.

Set-up and units. Inputs ``x ~ N(0, H)`` with ``H = diag(spectrum)`` (in the eigenbasis of the input covariance;
``spectrum`` holds its eigenvalues ``lambda_i``), labels ``y = w*.x + eps`` with ``eps ~ N(0, noise^2)``.
Minibatch SGD with ``batch`` fresh samples per step and learning rate ``lr`` on ``1/2 (y - w.x)^2`` moves the
error ``e = w - w*`` by

    e' = (I - lr Hhat) e + (lr / B) sum_b x_b eps_b,      Hhat = (1/B) sum_b x_b x_b^T.

Gaussian fourth moments, ``E[x x^T A x x^T] = 2 H A H + tr(A H) H``, close the recursion of the second moment
``C = E[e e^T]``:

    C' = C - lr (HC + CH) + lr^2 [(1 + 1/B) HCH + tr(CH) H / B] + lr^2 noise^2 H / B.

Its diagonal ``c_i`` (in the eigenbasis of H) obeys an exact closed recursion, ``c' = M c + b`` with
``M = diag(a_i) + (lr^2/B) lambda lambda^T``, ``a_i = (1 - lr lambda_i)^2 + lr^2 lambda_i^2 / B``,
``b = (lr^2 noise^2 / B) lambda``. Every function takes ``kurtosis`` (default 1, Gaussian): for inputs with
``E[x x^T A x x^T] = kappa (2 H A H + tr(A H) H)`` -- e.g. Gaussian scale mixtures ``x = sqrt(rho) z`` with
``E rho = 1``, ``kappa = E rho^2`` -- the same algebra gives ``a_i = (1 - lr lambda_i)^2 + (2 kappa - 1) lr^2
lambda_i^2 / B`` and the coupling ``kappa lr^2 / B``.
The excess risk is ``R = 1/2 E[e^T H e] = 1/2 sum_i lambda_i c_i`` (units of the squared label, over the noise
floor ``noise^2/2``). Time is counted in SGD steps.

Reference: the stationary (Ornstein-Uhlenbeck) picture of constant-step SGD is Mandt, Hoffman & Blei,
"Stochastic Gradient Descent as Approximate Bayesian Inference", JMLR 18 (2017), arXiv:1704.04289; the exact
Gaussian-input recursion here is derived in the chapter ``sgd-temperature``.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from lmtheory import _validate


def _spectrum(spectrum):
    lam = np.atleast_1d(_validate.positive_array("spectrum", spectrum))
    if lam.ndim != 1:
        raise ValueError(f"spectrum must be a 1-D array of eigenvalues, got shape {lam.shape}")
    return lam


def _denominator(lr, batch, lam, kappa):
    return 2.0 - lr * (1.0 + (2.0 * kappa - 1.0) / batch) * lam


def _gain(lr, batch, lam, kappa):
    """``kappa A`` with ``A = (lr/B) sum_i lambda_i / (2 - lr (1 + (2 kappa - 1)/B) lambda_i)``; ``inf`` if unstable."""
    den = _denominator(lr, batch, lam, kappa)
    return np.inf if np.any(den <= 0) else kappa * lr / batch * np.sum(lam / den)


def _kurtosis(kurtosis):
    if _validate.positive("kurtosis", kurtosis) < 1.0:
        raise ValueError(f"kurtosis must be >= 1 (E rho^2 >= (E rho)^2), got {kurtosis!r}")
    return float(kurtosis)


def temperature(*, lr: float, batch: int, noise: float) -> float:
    """SGD temperature ``T = lr noise^2 / (2 B)`` (units of the squared label).

    To leading order in ``lr`` the stationary error is Gaussian with ``E[e e^T] = T I`` (Mandt et al. 2017), so
    for ``H = I`` every one of the ``d`` modes holds ``T/2`` of excess risk: equipartition, ``R = d T / 2``.

    >>> temperature(lr=0.1, batch=4, noise=2.0)
    0.05
    """
    _validate.positive("lr", lr)
    _validate.positive("batch", batch, integer=True)
    _validate.nonnegative("noise", noise)
    return lr * noise**2 / (2.0 * batch)


def stationary_second_moment(*, lr: float, batch: int, spectrum, noise: float, kurtosis: float = 1.0) -> np.ndarray:
    """Stationary ``c_i = E[e_i^2]`` in the eigenbasis of H (units of w^2); ``inf`` where SGD diverges.

    ``c_i = (lr/B) (noise^2 + 2 kappa R) / (2 - lr (1 + (2 kappa - 1)/B) lambda_i)`` with the excess risk ``R``
    of :func:`stationary_risk`: the gradient noise is set by the label noise *plus* the error itself.

    >>> c = stationary_second_moment(lr=0.01, batch=1, spectrum=np.ones(4), noise=1.0)
    >>> bool(np.allclose(c, 0.01 / (2 - 0.01 * 6)))
    True
    """
    lam, kappa = _spectrum(spectrum), _kurtosis(kurtosis)
    risk = stationary_risk(lr=lr, batch=batch, spectrum=lam, noise=noise, kurtosis=kappa)
    if not np.isfinite(risk):
        return np.full(lam.shape, np.inf)
    return lr / batch * (noise**2 + 2 * kappa * risk) / _denominator(lr, batch, lam, kappa)


def stationary_risk(*, lr: float, batch: int, spectrum, noise: float, kurtosis: float = 1.0) -> float:
    """Exact stationary excess risk ``R_inf = (noise^2/2) A / (1 - kappa A)`` of constant-step SGD (``inf``: unstable).

    ``A = (lr/B) sum_i lambda_i / (2 - lr (1 + (2 kappa - 1)/B) lambda_i)``. For Gaussian inputs (``kappa = 1``)
    and ``H = I_d`` this is
    ``R_inf = noise^2 lr d / (2 [2B - lr (B + 1 + d)])``; to leading order ``lr noise^2 tr(H) / (4B)``, a function
    of ``lr / B`` only. Units: squared label (excess over the floor ``noise^2 / 2``).

    >>> round(stationary_risk(lr=0.01, batch=1, spectrum=np.ones(32), noise=1.0), 6)
    0.096386
    """
    _validate.positive("lr", lr)
    _validate.positive("batch", batch, integer=True)
    _validate.nonnegative("noise", noise)
    kappa = _kurtosis(kurtosis)
    gain = _gain(lr, batch, _spectrum(spectrum), kappa)
    return np.inf if gain >= 1.0 else float(0.5 * noise**2 * gain / kappa / (1.0 - gain))


def critical_lr(*, batch: int, spectrum, kurtosis: float = 1.0) -> float:
    """Largest stable learning rate: the second moment of SGD diverges for ``lr >= lr_max`` (units of 1/H).

    Stability of ``c' = M c + b`` (Perron-Frobenius for the positive matrix ``M``) needs every
    ``lr (1 + (2 kappa - 1)/B) lambda_i < 2`` and ``kappa A(lr) < 1``; ``A`` increases with ``lr``, so ``lr_max``
    solves ``kappa A(lr_max) = 1``. For Gaussian inputs and ``H = I_d``: ``lr_max = 2B / (B + 1 + d)``, below the
    deterministic ``2 / lambda_max``; in general ``2B / (B + 2 kappa - 1 + kappa d)``.

    >>> round(critical_lr(batch=1, spectrum=np.ones(32)), 6)
    0.058824
    """
    _validate.positive("batch", batch, integer=True)
    lam, kappa = _spectrum(spectrum), _kurtosis(kurtosis)
    top = 2.0 / ((1.0 + (2.0 * kappa - 1.0) / batch) * lam.max())
    return float(optimize.brentq(lambda lr: _gain(lr, batch, lam, kappa) - 1.0 if lr < top else 1.0, 1e-12 * top,
                                 top * (1 - 1e-12), xtol=1e-15 * top, rtol=1e-14))


def second_moment_map(*, lr: float, batch: int, spectrum, noise: float, kurtosis: float = 1.0):
    """The exact one-step map of the second moments, ``c' = M c + b`` (``M``: d x d, ``b``: d).

    ``M = diag((1 - lr lambda)^2 + (2 kappa - 1) lr^2 lambda^2 / B) + (kappa lr^2 / B) lambda lambda^T`` and
    ``b = lr^2 noise^2 lambda / B`` (``kappa = kurtosis``, 1 for Gaussian inputs).

    >>> m, b = second_moment_map(lr=0.1, batch=2, spectrum=[1.0, 2.0], noise=1.0)
    >>> m.shape, np.round(b, 6).tolist()
    ((2, 2), [0.005, 0.01])
    """
    _validate.positive("lr", lr)
    _validate.positive("batch", batch, integer=True)
    _validate.nonnegative("noise", noise)
    lam, kappa = _spectrum(spectrum), _kurtosis(kurtosis)
    diag = (1.0 - lr * lam) ** 2 + (2.0 * kappa - 1.0) * lr**2 * lam**2 / batch
    return np.diag(diag) + kappa * lr**2 / batch * np.outer(lam, lam), lr**2 * noise**2 * lam / batch


def growth_factor(*, lr: float, batch: int, spectrum, kurtosis: float = 1.0) -> float:
    """Per-step factor by which ``E||e||^2`` grows (> 1) or decays (< 1) at late times without label noise.

    The spectral radius of ``M`` in :func:`second_moment_map`; it crosses 1 exactly at :func:`critical_lr`. For
    ``H = I_d`` it is ``1 - 2 lr + lr^2 (1 + (1 + d)/B)``. Dimensionless (per step).

    >>> round(growth_factor(lr=0.1, batch=1, spectrum=np.ones(32)), 6)
    1.14
    """
    m, _ = second_moment_map(lr=lr, batch=batch, spectrum=spectrum, noise=0.0, kurtosis=kurtosis)
    return float(np.max(np.linalg.eigvalsh(m)))


def second_moment_trajectory(init, *, lr: float, batch: int, spectrum, noise: float, steps: int,
                             kurtosis: float = 1.0) -> np.ndarray:
    """Iterate the exact recursion from ``c_0 = init`` (per-mode ``E[e_i^2]``, shape d); returns (steps+1, d).

    Exact at every step (no stationarity or small-``lr`` assumption), for an initial error whose second moment
    is diagonal in the eigenbasis of H (e.g. a teacher drawn isotropically).

    >>> traj = second_moment_trajectory(np.ones(2), lr=0.1, batch=1, spectrum=[1.0, 1.0], noise=0.0, steps=3)
    >>> traj.shape, bool(np.allclose(traj[1], 1 - 0.2 + 0.01 * 4))
    ((4, 2), True)
    """
    _validate.positive("steps", steps, integer=True)
    m, b = second_moment_map(lr=lr, batch=batch, spectrum=spectrum, noise=noise, kurtosis=kurtosis)
    c = _validate.finite_array("init", init)
    if c.shape != b.shape:
        raise ValueError(f"init must have one entry per eigenvalue, shape {b.shape}, got {c.shape}")
    out = [c]
    for _ in range(steps):
        c = m @ c + b
        out.append(c)
    return np.array(out)
