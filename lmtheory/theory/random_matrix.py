"""Random-matrix laws for weight matrices and data matrices: Marchenko-Pastur, its edges, spiked outliers.

Set-up and units. ``W`` is an ``n x m`` matrix (``rows = n``, ``cols = m``) with i.i.d. entries of mean 0 and
variance ``variance = sigma^2``; its *aspect ratio* is ``ratio = q = m / n``. The eigenvalues of the ``m x m``
matrix ``S = W^T W / n`` follow, as ``n, m -> infinity`` at fixed ``q``, the Marchenko-Pastur law with

    ``density  rho(x) = sqrt((x_+ - x)(x - x_-)) / (2 pi q sigma^2 x)   on   x_+- = sigma^2 (1 +- sqrt(q))^2``,

plus an atom of mass ``1 - 1/q`` at zero when ``q > 1``. Eigenvalues are in units of ``sigma^2``.
The same law, with ``q = gamma = p / n``, describes the sample covariance ``X^T X / n`` of ``n`` isotropic samples in
``p`` dimensions (chapter double-descent).

References: V. A. Marchenko, L. A. Pastur, Math. USSR-Sbornik 1, 457 (1967); the largest eigenvalue: I. M.
Johnstone, Ann. Statist. 29, 295 (2001) and C. A. Tracy, H. Widom, Commun. Math. Phys. 177, 727 (1996); spiked
rectangular matrices: F. Benaych-Georges, R. R. Nadakuditi, J. Multivariate Anal. 111, 120 (2012), arXiv:1103.2221,
after J. Baik, G. Ben Arous, S. Peche, Ann. Probab. 33, 1643 (2005).
"""

from __future__ import annotations

import numpy as np

from lmtheory import _validate

TW1_MEAN = -1.2065335745820     # mean of the Tracy-Widom law F_1 (real matrices, beta = 1)
TW1_STD = 1.2679830110749       # its standard deviation, sqrt(1.6077810345810)


def _q_var(ratio, variance):
    return float(_validate.positive("ratio", ratio)), float(_validate.positive("variance", variance))


def mp_edges(*, ratio: float, variance: float = 1.0) -> tuple[float, float]:
    """Edges ``(x_-, x_+) = sigma^2 (1 -+ sqrt(q))^2`` of the Marchenko-Pastur bulk (units of ``sigma^2``).

    >>> mp_edges(ratio=0.25)
    (0.25, 2.25)
    """
    q, var = _q_var(ratio, variance)
    return float(var * (1 - np.sqrt(q)) ** 2), float(var * (1 + np.sqrt(q)) ** 2)


def mp_density(x, *, ratio: float, variance: float = 1.0):
    """Density ``sqrt((x_+ - x)(x - x_-)) / (2 pi q sigma^2 x)`` of the continuous part (0 outside the bulk).

    For ``q > 1`` it integrates to ``1/q``; the rest is the atom at zero. Units: 1 / (units of x).

    >>> round(float(mp_density(1.0, ratio=1.0)), 6)      # sqrt(3) / (2 pi)
    0.275664
    """
    q, var = _q_var(ratio, variance)
    lo, hi = mp_edges(ratio=q, variance=var)
    x = _validate.finite_array("x", x)
    inside = (x > lo) & (x < hi)
    xs = np.where(inside, x, 0.5 * (lo + hi))
    return np.where(inside, np.sqrt((hi - xs) * (xs - lo)) / (2 * np.pi * q * var * xs), 0.0)


def mp_cdf(x, *, ratio: float, variance: float = 1.0):
    """Cumulative distribution of the Marchenko-Pastur law, in closed form (atom at 0 included for ``q > 1``).

    With ``x = c - h cos(phi)`` (``c, h`` the centre and half-width of the bulk, ``sigma^2 = 1``),
    ``int_{x_-}^x rho = [h sin(phi) + c phi - 2 sqrt(x_- x_+) arctan(sqrt(x_+/x_-) tan(phi/2))] / (2 pi q)``.

    >>> round(float(mp_cdf(2.0, ratio=1.0)), 6)       # (2 + pi) / (2 pi)
    0.81831
    >>> float(mp_cdf(10.0, ratio=0.3)), float(mp_cdf(0.0, ratio=4.0))     # above the bulk; the atom 1 - 1/q
    (1.0, 0.75)
    """
    q, var = _q_var(ratio, variance)
    lo, hi = mp_edges(ratio=q)
    xs = _validate.finite_array("x", x) / var
    c, h = 0.5 * (lo + hi), 0.5 * (hi - lo)
    phi = np.arccos(np.clip((c - np.clip(xs, lo, hi)) / h, -1.0, 1.0))
    cont = h * np.sin(phi) + c * phi
    if lo > 0:                                     # at q = 1 the lower edge is 0 and this term vanishes
        cont = cont - 2 * np.sqrt(lo * hi) * np.arctan(np.sqrt(hi / lo) * np.tan(phi / 2))
    out = np.where(xs < 0, 0.0, max(0.0, 1.0 - 1.0 / q) + cont / (2 * np.pi * q))
    return np.where(xs >= hi, 1.0, out)


def mp_cdf_correction(x, *, ratio: float, size: int, variance: float = 1.0):
    """Leading finite-size correction ``E F_m(x) - F(x) = -arcsin(u) / (2 pi m) + O(m^-2)`` of the spectral CDF.

    For real Gaussian entries (``E Z^4 = 3``) the Bai-Silverstein (2004) mean formula for linear spectral statistics,
    ``E sum_i f(l_i) - m int f dF -> [f(x_-) + f(x_+)]/4 - (1/2pi) int f(x) dx / sqrt((x_+ - x)(x - x_-))``, applied to
    ``f = 1[. <= x]`` gives ``-arcsin(u)/(2 pi)`` eigenvalues, ``u = (2x - x_- - x_+)/(x_+ - x_-)``, with ``m = size``
    the number of eigenvalues: extra mass ``1/(4m)`` just outside each edge, taken from the bulk. Valid inside the
    bulk, away from the edge regions of width ``O(m^{-2/3})``; ``q <= 1``. Units: probability.

    >>> (mp_cdf_correction(np.array([0.0, 2.0, 4.0]), ratio=1.0, size=100) * 100).round(4).tolist()
    [0.25, -0.0, -0.25]
    """
    q, var = _q_var(ratio, variance)
    m = _validate.positive("size", size, integer=True)
    if q > 1:
        raise ValueError(f"ratio must be <= 1 here (the m x m matrix has no zero eigenvalues), got {ratio!r}")
    lo, hi = mp_edges(ratio=q)
    u = np.clip((2 * _validate.finite_array("x", x) / var - lo - hi) / (hi - lo), -1.0, 1.0)
    return -np.arcsin(u) / (2 * np.pi * m)


def mp_stieltjes(z, *, ratio: float, variance: float = 1.0):
    """Stieltjes transform ``m(z) = int dF(s) / (s - z)`` of the Marchenko-Pastur law, for real ``z`` below the bulk.

    ``m(z) = 2 / (1 - q - z + sqrt((1 - q - z)^2 - 4 q z))`` for ``sigma^2 = 1`` (the root of
    ``q z m^2 - (1 - q - z) m + 1 = 0`` that decays like ``-1/z``); ``m_sigma(z) = m_1(z / sigma^2) / sigma^2``.
    Allowed: ``z < x_-`` if ``q < 1``, ``z < 0`` otherwise. ``m(-lambda) = lim (1/p) tr (S + lambda)^{-1}``.

    >>> round(float(mp_stieltjes(0.0, ratio=0.5)), 6)    # 1 / (1 - q)
    2.0
    """
    q, var = _q_var(ratio, variance)
    zz = _validate.finite_array("z", z) / var
    below = mp_edges(ratio=q)[0] if q < 1 else 0.0
    if np.any(zz >= below):
        raise ValueError(f"z must lie below the bulk (z < {below * var:g} for ratio={q:g}), got {z!r}")
    a = 1.0 - q - zz
    root = np.sqrt(a * a - 4.0 * q * zz)
    safe_z = np.where(zz == 0, -1.0, zz)               # the second form (no cancellation for a < 0) needs z != 0
    return np.where(a >= 0, 2.0 / (a + root), (a - root) / (2.0 * q * safe_z)) / var


def mp_stieltjes_derivative(z, *, ratio: float, variance: float = 1.0):
    """``m'(z) = int dF(s) / (s - z)^2`` below the bulk, from the quadratic: ``m' = (q m^2 + m) / (1-q-z - 2qzm)``.

    >>> round(float(mp_stieltjes_derivative(0.0, ratio=0.5)), 6)   # E[1/s^2] = 1 / (1 - q)^3
    8.0
    """
    q, var = _q_var(ratio, variance)
    zz = _validate.finite_array("z", z) / var
    m = mp_stieltjes(zz, ratio=q)
    return (q * m * m + m) / (1.0 - q - zz - 2.0 * q * zz * m) / var**2


def largest_eigenvalue(*, rows: int, cols: int, variance: float = 1.0) -> tuple[float, float]:
    """Mean and standard deviation of the largest eigenvalue of ``W^T W / n`` (``W``: rows x cols, Gaussian).

    Johnstone (2001): ``(l_max(W^T W) / sigma^2 - mu) / s -> TW_1`` with ``mu = (sqrt(n - 1) + sqrt(m))^2`` and
    ``s = (sqrt(n - 1) + sqrt(m)) (1/sqrt(n - 1) + 1/sqrt(m))^{1/3}``, so the mean is
    ``sigma^2 (mu + s E[TW_1]) / n``: below the edge ``x_+`` by ``O(n^{-2/3})``. Asymptotic (errors
    ``O(n^{-2/3})`` in units of ``s``).

    >>> mean, sd = largest_eigenvalue(rows=400, cols=200)
    >>> round(mean, 4), round(sd, 4)
    (2.8591, 0.0535)
    """
    n = _validate.positive("rows", rows, integer=True)
    m = _validate.positive("cols", cols, integer=True)
    if n < 2:
        raise ValueError(f"rows must be >= 2, got {rows}")
    var = float(_validate.positive("variance", variance))
    a, b = np.sqrt(n - 1.0), np.sqrt(float(m))
    mu, s = (a + b) ** 2, (a + b) * (1 / a + 1 / b) ** (1 / 3)
    return float(var * (mu + s * TW1_MEAN) / n), float(var * s * TW1_STD / n)


def bbp_threshold(*, ratio: float) -> float:
    """Critical spike strength ``theta_c = q^{1/4}`` of the rectangular spiked model (dimensionless).

    For ``W / sqrt(n) = sigma (Z / sqrt(n) + theta u v^T)`` (unit vectors ``u, v``; ``theta`` in units of the noise
    std ``sigma``), an eigenvalue of ``W^T W / n`` leaves the bulk iff ``theta > theta_c`` (Benaych-Georges &
    Nadakuditi 2012; the BBP transition).

    >>> bbp_threshold(ratio=0.0625)
    0.5
    """
    return float(_validate.positive("ratio", ratio) ** 0.25)


def spike_outlier(theta, *, ratio: float, variance: float = 1.0):
    """Limit of the top eigenvalue of ``W^T W / n`` with a rank-one spike of strength ``theta`` (units of sigma).

    ``sigma^2 (1 + theta^2)(q + theta^2) / theta^2`` above the threshold ``theta > q^{1/4}``; the bulk edge
    ``sigma^2 (1 + sqrt q)^2`` below it (``variance = sigma^2``). Each spike of a finite-rank signal with orthogonal
    directions gives its own outlier. Exact as ``n -> infinity``; fluctuations ``O(n^{-1/2})`` above the threshold.

    >>> float(spike_outlier(2.0, ratio=1.0))
    6.25
    >>> float(spike_outlier(0.5, ratio=1.0))             # below the threshold: stuck at the edge (1 + 1)^2
    4.0
    """
    q, var = _q_var(ratio, variance)
    t = _validate.finite_array("theta", theta)
    if np.any(t < 0):
        raise ValueError(f"theta must be >= 0, got {theta!r}")
    ts = np.where(t > q**0.25, t, 1.0)
    out = np.where(t > q**0.25, (1 + ts**2) * (q + ts**2) / ts**2, (1 + np.sqrt(q)) ** 2)
    return var * out


def trained_spikes(strengths, *, lr: float, steps: int, rows: int, scale: float = 1.0):
    """Spike strengths ``theta_i`` (units of the bulk) of a linear layer after gradient descent on whitened data.

    A layer ``W`` (rows x cols, initial i.i.d. entries of std ``scale``) trained by full-batch GD on
    ``1/(2P) sum ||y - W x||^2`` with exactly whitened inputs and ``y = T x``, ``T = sum_i s_i u_i v_i^T``, obeys
    ``W_t - T = a (W_0 - T)`` with ``a = (1 - lr)^steps``. So ``W_t = a W_0 + (1 - a) T`` is a spiked matrix with
    bulk scale ``a * scale`` and strengths ``theta_i = (1 - a) s_i / (a scale sqrt(rows))`` (units of the bulk) --
    input for :func:`spike_outlier` with ``variance = (a scale)^2``. Returns ``(theta, a * scale)``.

    >>> theta, bulk = trained_spikes([10.0], lr=0.5, steps=1, rows=100)
    >>> theta.tolist(), bulk
    ([1.0], 0.5)
    """
    s = np.asarray(_validate.positive_array("strengths", strengths))
    _validate.positive("lr", lr)
    if lr >= 1:
        raise ValueError(f"lr must be < 1 (monotone relaxation of the whitened quadratic), got {lr!r}")
    _validate.positive("steps", steps, integer=True)
    n = _validate.positive("rows", rows, integer=True)
    sigma = float(_validate.positive("scale", scale))
    a = (1.0 - lr) ** steps
    return (1.0 - a) * s / (a * sigma * np.sqrt(n)), float(a * sigma)


def outlier_count(theta, *, ratio: float) -> int:
    """Number of eigenvalues of ``W^T W / n`` that leave the Marchenko-Pastur bulk: spikes with ``theta > q^{1/4}``.

    ``theta``: the strengths of a finite-rank signal with orthogonal directions (units of the noise std, as in
    :func:`spike_outlier`). Each such spike acts independently and pulls out one eigenvalue iff it is above the
    BBP threshold :func:`bbp_threshold` (Benaych-Georges & Nadakuditi 2012); weaker ones stay hidden in the bulk.
    Exact as ``n -> infinity``; at finite size a spike within ``O(n^{-1/3})`` of the threshold is ambiguous.

    >>> outlier_count([0.5, 0.9, 2.0], ratio=0.5)          # threshold 0.5^(1/4) = 0.841
    2
    """
    t = np.asarray(theta, float)
    if t.ndim > 1 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"theta must be a finite, non-negative number or 1-D array, got {theta!r}")
    return int(np.sum(t > bbp_threshold(ratio=ratio)))
