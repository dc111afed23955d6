"""Eigenlearning: learning curves of kernel (ridge) regression from the kernel's eigensystem.

Set-up and units. A kernel ``K`` on inputs ``x ~ p(x)`` has the Mercer decomposition ``K(x, x') = sum_i lambda_i
phi_i(x) phi_i(x')`` with eigenfunctions orthonormal under ``p``: ``E_x[phi_i(x) phi_j(x)] = delta_ij``. Kernel
ridge regression on ``n`` samples ``y_mu = f(x_mu) + eps_mu`` (noise variance ``eps^2``) predicts

    ``f_hat(x) = K(x, X) (K(X, X) + ridge I_n)^{-1} y``,

with the ridge ``delta`` added to the *unnormalized* ``n x n`` kernel matrix (``ridge = 0``: the interpolant).
Write the target as ``f = sum_i v_i phi_i``. Eigenvalues ``lambda_i`` carry the units of ``K``; so do ``ridge``
and ``kappa``. Degenerate eigenvalues may be given once with a ``multiplicity`` ``m_i``; the target is then
described by its total power ``P_i = sum v^2`` over the ``m_i`` eigenfunctions of that eigenvalue.

The theory (asymptotic in ``n``; exact for Gaussian features in the proportional limit):

* the **effective regularization** ``kappa > 0`` solves ``sum_i m_i lambda_i / (lambda_i + kappa) + ridge / kappa
  = n``;
* the **learnability** of eigenmode ``i`` is ``L_i = lambda_i / (lambda_i + kappa)``: the expected coefficient of
  ``f_hat`` on ``phi_i`` is ``L_i v_i``;
* the **overfitting coefficient** is ``E_0 = n / (n - sum_i m_i L_i^2)``;
* test MSE ``E_(x,y)(f_hat(x) - y)^2 = E_0 [sum_i (1 - L_i)^2 P_i + eps^2]`` (noisy test labels);
* train MSE ``(1/n) sum_mu (f_hat(x_mu) - y_mu)^2 = (ridge / (n kappa))^2 x test MSE``.

References: J. B. Simon, M. Dickens, D. Karkada, M. R. DeWeese, arXiv:2110.03922 (TMLR 2023), Sec. 4 and the
authors' code ``theory.py``; B. Bordelon, A. Canatar, C. Pehlevan, arXiv:2002.02561 (ICML 2020), eqs. (9)-(11)
(the same result; their ``kappa`` is ours).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from lmtheory import _validate


def _spectrum(eigenvalues, multiplicity):
    lam = _validate.positive_array("eigenvalues", eigenvalues)
    if lam.ndim != 1:
        raise ValueError(f"eigenvalues must be a 1-D array, got shape {lam.shape}")
    if multiplicity is None:
        return lam, np.ones_like(lam)
    mult = _validate.positive_array("multiplicity", multiplicity)
    if mult.shape != lam.shape:
        raise ValueError(f"multiplicity must have the shape of eigenvalues {lam.shape}, got {mult.shape}")
    return lam, mult


def _samples(n) -> np.ndarray:
    arr = _validate.positive_array("n", n)
    return arr


def _kappa_one(n: float, lam, mult, ridge: float) -> float:
    """Bracketed root of the (strictly decreasing) function of log kappa; see :func:`effective_ridge`."""
    n_modes = mult.sum()
    if ridge == 0 and n_modes <= n:
        return 0.0                                   # fewer modes than samples: every mode is learned exactly

    def excess(log_kappa):
        kappa = np.exp(log_kappa)
        return np.sum(mult * lam / (lam + kappa)) + ridge / kappa - n

    hi = 2 * (np.sum(mult * lam) + ridge) / n        # the sum is <= n at half this, < n here
    lo = 0.5 * (ridge / n if ridge > 0 else lam.min() * (n_modes - n) / n)   # >= n at twice this, > n here
    return float(np.exp(optimize.brentq(excess, np.log(lo), np.log(hi), xtol=1e-14, rtol=1e-14)))


def effective_ridge(n, eigenvalues, *, ridge: float = 0.0, multiplicity=None):
    """The effective regularization ``kappa`` solving ``sum_i m_i lambda_i/(lambda_i + kappa) + ridge/kappa = n``.

    The left side falls strictly from ``sum_i m_i`` (or infinity if ``ridge > 0``) to 0 as ``kappa`` grows, so
    the root is unique; it is found by Brent's method on ``log kappa`` inside the bracket ``[ridge/n, (sum m
    lambda + ridge)/n]`` (ridge > 0) or ``[lambda_min (N - n)/n, sum m lambda / n]`` (ridge = 0, ``N = sum m``
    modes), widened by a factor 2 on each side so that the signs at both ends are strict. Ridgeless with
    ``N <= n`` modes returns 0 (all modes learned). ``n`` (samples; scalar or array, need not be an integer) is
    vectorized over. Units of ``K``.

    >>> round(float(effective_ridge(2, [1.0, 1.0, 1.0, 1.0])), 12)      # flat: 4 / (1 + kappa) = 2
    1.0
    >>> float(effective_ridge(5, [1.0, 0.5]))                             # fewer modes than samples
    0.0
    """
    lam, mult = _spectrum(eigenvalues, multiplicity)
    _validate.nonnegative("ridge", ridge)
    n_arr = _samples(n)
    out = np.array([_kappa_one(float(m), lam, mult, float(ridge)) for m in np.ravel(n_arr)])
    return out.reshape(np.shape(n_arr))


def learnability(eigenvalues, kappa):
    """Learnability ``L_i = lambda_i / (lambda_i + kappa)`` of each eigenmode; shape ``kappa.shape + (M,)``.

    ``L_i`` is the expected fraction of the target's coefficient on ``phi_i`` that the learned function carries
    (a number in [0, 1]; dimensionless).

    >>> learnability([3.0, 1.0], 1.0).tolist()
    [0.75, 0.5]
    """
    lam = _validate.positive_array("eigenvalues", eigenvalues)
    k = np.asarray(kappa, dtype=float)
    if np.any(k < 0) or not np.all(np.isfinite(k)):
        raise ValueError(f"kappa must be finite and >= 0, got {kappa!r}")
    return lam / (lam + k[..., None])


def overfitting_coefficient(n, eigenvalues, *, ridge: float = 0.0, multiplicity=None):
    """``E_0 = n / (n - sum_i m_i L_i^2)`` (>= 1): the factor by which fitting noise inflates the test error.

    Ridgeless with exactly as many modes as samples gives ``inf`` (the interpolation peak). Dimensionless.

    >>> round(float(overfitting_coefficient(2, [1.0] * 4)), 12)          # L = 1/2 each: 2 / (2 - 1)
    2.0
    """
    lam, mult = _spectrum(eigenvalues, multiplicity)
    n_arr = _samples(n)
    kap = effective_ridge(n_arr, lam, ridge=ridge, multiplicity=mult)
    denom = n_arr - np.sum(mult * learnability(lam, kap) ** 2, axis=-1)
    with np.errstate(divide="ignore"):
        return np.where(denom > 0, n_arr / np.where(denom > 0, denom, 1.0), np.inf)


def _power(target_power, lam):
    p = np.asarray(target_power, dtype=float)
    if p.shape != lam.shape or np.any(p < 0) or not np.all(np.isfinite(p)):
        raise ValueError(f"target_power must be finite, >= 0 and of shape {lam.shape}, got {np.shape(target_power)}")
    return p


def mse_test(n, eigenvalues, target_power, *, ridge: float = 0.0, noise_variance: float = 0.0,
             multiplicity=None):
    """Predicted test MSE ``E_0 [sum_i (1 - L_i)^2 P_i + eps^2]`` of kernel ridge regression on ``n`` samples.

    ``target_power[i]`` is ``P_i``, the target's power ``sum v^2`` in eigenspace ``i`` (all ``m_i`` modes);
    ``noise_variance`` is ``eps^2`` of the labels (train and test). Units of ``y^2``. Vectorized over ``n``.

    >>> round(float(mse_test(1, [1.0, 1.0], [1.0, 0.0])), 12)          # kappa = 1, L = 1/2, E_0 = 2
    0.5
    """
    lam, mult = _spectrum(eigenvalues, multiplicity)
    p = _power(target_power, lam)
    _validate.nonnegative("noise_variance", noise_variance)
    n_arr = _samples(n)
    kap = effective_ridge(n_arr, lam, ridge=ridge, multiplicity=mult)
    e0 = overfitting_coefficient(n_arr, lam, ridge=ridge, multiplicity=mult)
    bias = np.sum((1.0 - learnability(lam, kap)) ** 2 * p, axis=-1)
    return e0 * (bias + noise_variance)


def mse_train(n, eigenvalues, target_power, *, ridge: float, noise_variance: float = 0.0, multiplicity=None):
    """Predicted train MSE ``(ridge / (n kappa))^2 x`` :func:`mse_test` (0 for ridgeless interpolation).

    Follows from the generalized-cross-validation identity (see the eigenlearning chapter). For ridge = 0 with
    ``N < n`` modes (no interpolation) the limit ``ridge/kappa -> n - N`` gives ``eps^2 (n - N)/n``, the classical
    least-squares residual. Units of ``y^2``.

    >>> round(float(mse_train(1, [1.0, 1.0], [1.0, 0.0], ridge=1.0)), 12) > 0
    True
    """
    lam, mult = _spectrum(eigenvalues, multiplicity)
    _validate.nonnegative("ridge", ridge)
    n_arr = _samples(n)
    kap = effective_ridge(n_arr, lam, ridge=ridge, multiplicity=mult)
    test = mse_test(n_arr, lam, target_power, ridge=ridge, noise_variance=noise_variance, multiplicity=mult)
    # kappa = 0 only for ridge = 0 with N <= n modes; there ridge/kappa -> n - N as ridge -> 0.
    factor = np.where(kap > 0, ridge / (n_arr * np.where(kap > 0, kap, 1.0)), (n_arr - mult.sum()) / n_arr)
    return factor**2 * test


# ---- Learnability as an occupation number (chapter eigenmodes, Part III) ---------------------------------------

def fermi_dirac(energy, chemical_potential):
    """Fermi-Dirac occupation ``1 / (1 + exp(energy - chemical_potential))`` at unit temperature.

    With the mode "energy" ``eps_i = -ln lambda_i`` and the "chemical potential" ``mu = -ln kappa`` it equals the
    learnability ``lambda_i / (lambda_i + kappa)`` exactly (an algebraic identity; Simon et al. 2023,
    arXiv:2110.03922). Broadcasts; evaluated stably (``scipy.special.expit``). Dimensionless, in [0, 1].

    >>> round(float(fermi_dirac(-np.log(3.0), -np.log(1.0))), 12)         # = learnability([3], 1) = 0.75
    0.75
    """
    from scipy.special import expit

    e, m = np.asarray(energy, dtype=float), np.asarray(chemical_potential, dtype=float)
    if not (np.all(np.isfinite(e)) and np.all(np.isfinite(m))):
        raise ValueError("energy and chemical_potential must be finite")
    return expit(m - e)


def learnability_sum(n, eigenvalues, *, ridge: float = 0.0, multiplicity=None):
    """The theory's total learnability ``sum_i m_i L_i = n - ridge / kappa`` (the kappa equation as a sum rule).

    Ridgeless this is ``min(n, N)`` for ``N = sum m_i`` modes. The *measured* learnabilities of one sample obey
    the ridgeless sum rule exactly (``sum_i T_ii = tr[K K^{-1}] = n`` for ``n <= N``; the eigenmodes chapter).
    Vectorized over ``n``; dimensionless.

    >>> float(learnability_sum(3, [1.0, 0.5, 0.25, 0.1]).round(10)), float(learnability_sum(9, [1.0, 0.5]))
    (3.0, 2.0)
    """
    lam, mult = _spectrum(eigenvalues, multiplicity)
    kap = effective_ridge(n, lam, ridge=ridge, multiplicity=mult)
    return np.sum(mult * learnability(lam, kap), axis=-1)


def finite_sample_correction(n, eigenvalues):
    """Leading finite-``n`` correction ``Delta L_i = L_i (1 - L_i) (c - L_i) / D`` to ridgeless learnabilities.

    ``D = sum_j L_j (1 - L_j)`` and ``c = sum_j L_j^2 (1 - L_j) / D``. Derived in the eigenmodes chapter for
    Gaussian eigenfunctions: the Jensen (variance) term of the cavity quantity ``q_i = phi_i^T K_{-i}^{-1} phi_i``
    plus a common shift of its mean fixed by the exact sum rule (so ``sum_i Delta L_i = 0``). Heuristic; its
    size is ``O(1/D)`` and ``|Delta L_i| <= 1/(4 D)``. One eigenvalue per mode (no multiplicities); scalar ``n``.

    >>> abs(float(finite_sample_correction(4, 1.0 / np.arange(1, 21)).sum())) < 1e-12
    True
    """
    lam = _validate.positive_array("eigenvalues", eigenvalues)
    _validate.positive("n", n)
    ell = learnability(lam, effective_ridge(n, lam))
    d = np.sum(ell * (1 - ell))
    if d == 0:
        return np.zeros_like(ell)
    c = np.sum(ell**2 * (1 - ell)) / d
    return ell * (1 - ell) * (c - ell) / d


def corrected_learnability(n, eigenvalues):
    """Ridgeless learnabilities with their first finite-``n`` correction, ``L_i + Delta L_i``.

    ``L_i = lambda_i / (lambda_i + kappa)`` (:func:`learnability` at :func:`effective_ridge`) plus
    :func:`finite_sample_correction`; the neglected terms are ``O(1/D^2)`` with ``D = sum_j L_j (1 - L_j)``
    (eigenmodes chapter, Gaussian eigenfunctions). Scalar ``n`` or 1-D array (one row per ``n``); dimensionless.

    >>> lam = 1.0 / np.arange(1, 21)
    >>> bool(abs(corrected_learnability(4, lam).sum() - 4.0) < 1e-10)        # the sum rule survives the correction
    True
    """
    lam = _validate.positive_array("eigenvalues", eigenvalues)
    n_arr = _samples(n)
    rows = [learnability(lam, effective_ridge(float(m), lam)) + finite_sample_correction(float(m), lam)
            for m in np.ravel(n_arr)]
    return np.reshape(np.array(rows), np.shape(n_arr) + lam.shape)


# ---- The NTK of a two-layer ReLU network on the sphere (eigenmodes chapter: a trained network's modes) ---------

def relu_ntk_sphere(cosine):
    """Infinite-width NTK ``Theta(t)`` of ``f(x) = h^-1/2 sum_j a_j ReLU(w_j.x + b_j)`` on the unit sphere.

    ``w_j ~ N(0, I_d)``, ``b_j, a_j ~ N(0, 1)``, all trained, no output bias; ``|x| = |x'| = 1`` and ``t = x.x'``.
    The pre-activations have variance 2 and correlation ``rho = (1 + t)/2 = cos(theta)``, and the arc-cosine
    kernels (Cho & Saul 2009) give ``Theta(t) = [sin(theta) + (pi - theta) cos(theta)]/pi + (1 + t)(pi - theta)
    /(2 pi)`` (the first term from the output weights, the second from ``w`` and ``b``). A zonal kernel: its
    eigenfunctions are the spherical harmonics. Units of ``f^2``; ``Theta(1) = 2``.

    >>> float(relu_ntk_sphere(1.0))
    2.0
    """
    t = np.asarray(cosine, dtype=float)
    if not np.all(np.isfinite(t)) or np.any(np.abs(t) > 1 + 1e-12):
        raise ValueError(f"cosine must lie in [-1, 1], got {cosine!r}")
    theta = np.arccos(np.clip((1.0 + t) / 2.0, -1.0, 1.0))
    return (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / np.pi + (1.0 + t) * (np.pi - theta) / (2 * np.pi)


def sphere_multiplicity(dim: int, degree):
    """Number of spherical harmonics of degree ``l`` on ``S^(d-1)``: ``(2l + d - 2)/l * C(l + d - 3, l - 1)``.

    ``l = 0`` gives 1. Dimensionless; vectorized over ``degree``.

    >>> sphere_multiplicity(3, [0, 1, 2]).tolist()                       # 2l + 1 on the ordinary sphere
    [1.0, 3.0, 5.0]
    """
    from scipy import special

    _validate.positive("dim", dim, integer=True)
    if dim < 3:
        raise ValueError(f"dim must be >= 3 (the sphere S^(d-1) with d >= 3), got {dim}")
    ell = _validate.finite_array("degree", degree)
    if np.any(ell < 0) or np.any(ell != np.round(ell)):
        raise ValueError(f"degree must hold integers >= 0, got {degree!r}")
    safe = np.maximum(ell, 1)
    return np.where(ell == 0, 1.0, (2 * safe + dim - 2) / safe * special.comb(safe + dim - 3, safe - 1))


def relu_ntk_sphere_spectrum(dim: int, max_degree: int = 120, *, nodes: int = 4000):
    """Eigenvalues ``lambda_l`` (l = 0..max_degree) of :func:`relu_ntk_sphere` under the uniform measure on S^(d-1).

    Funk-Hecke: ``lambda_l = c_d int_{-1}^{1} Theta(t) P_l(t) (1 - t^2)^((d-3)/2) dt`` with ``P_l`` the Gegenbauer
    polynomial ``C_l^((d-2)/2)`` normalized to ``P_l(1) = 1`` and ``c_d = Gamma(d/2)/(sqrt(pi) Gamma((d-1)/2))``,
    by Gauss-Gegenbauer quadrature with ``nodes`` nodes. Returns ``(eigenvalues, multiplicities, tail)``, where
    ``tail = Theta(1) - sum_l m_l lambda_l >= 0`` is the trace left in the degrees above ``max_degree``. Units of
    ``f^2``.

    >>> lam, mult, tail = relu_ntk_sphere_spectrum(8, 40)
    >>> bool(lam[0] > lam[1] > lam[2] > 0 and 0 < tail < 0.05)
    True
    """
    from scipy import special

    mult = sphere_multiplicity(dim, np.arange(_validate.positive("max_degree", max_degree, integer=True) + 1))
    _validate.positive("nodes", nodes, integer=True)
    alpha = (dim - 2) / 2.0
    t, w = special.roots_gegenbauer(nodes, alpha)
    c_d = np.exp(special.gammaln(dim / 2) - special.gammaln((dim - 1) / 2)) / np.sqrt(np.pi)
    legendre = np.array([special.eval_gegenbauer(ell, alpha, t) / special.eval_gegenbauer(ell, alpha, 1.0)
                         for ell in range(max_degree + 1)])
    lam = c_d * legendre @ (w * relu_ntk_sphere(t))
    return lam, mult, max(float(relu_ntk_sphere(1.0)) - float(np.sum(mult * lam)), 0.0)


def relu_ntk_sphere_learnability(n, dim: int, degrees, *, max_degree: int = 120):
    """Eigenlearning learnability ``L_l = lambda_l/(lambda_l + kappa)`` of the degree-``l`` harmonics of the NTK.

    Ridgeless kernel regression with :func:`relu_ntk_sphere` on ``n`` uniform points of ``S^(d-1)`` (the function
    a wide two-layer ReLU network trained to convergence from ``f_0 = 0`` learns). ``kappa`` solves the kappa
    equation over the degrees ``0..max_degree`` with their multiplicities; the degrees above, with total trace
    ``tail`` (tiny eigenvalues, ``L ~ lambda/kappa``), add ``tail/kappa`` to it exactly as a ridge would. Returns
    shape ``np.shape(n) + (len(degrees),)``; dimensionless.

    >>> ell = relu_ntk_sphere_learnability(32, 8, [0, 1, 2])
    >>> bool(1 > ell[0] > ell[1] > ell[2] > 0)
    True
    """
    lam, mult, tail = relu_ntk_sphere_spectrum(dim, max_degree)
    deg = np.asarray(degrees)
    if deg.ndim != 1 or np.any(deg < 0) or np.any(deg > max_degree) or np.any(deg != np.round(deg)):
        raise ValueError(f"degrees must be integers in [0, max_degree], got {degrees!r}")
    kappa = effective_ridge(n, lam, ridge=tail, multiplicity=mult)
    return learnability(lam[deg.astype(int)], kappa)
