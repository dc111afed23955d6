"""Mean-field signal propagation in wide random networks (Poole et al. 2016; Schoenholz et al. 2017).

Set-up. A fully connected network with ``h^1 = W^1 x + b^1`` and ``h^{l+1} = W^{l+1} phi(h^l) + b^{l+1}``,
weights ``W_ij ~ N(0, sigma_w^2 / fan_in)`` and biases ``b_i ~ N(0, sigma_b^2)``. As width -> infinity the
pre-activations of one layer are i.i.d. Gaussian across units, with variance ``q^l`` for one input and covariance
``q^l_ab`` for two inputs, and these obey deterministic maps from layer to layer:

* variance map      ``q^{l+1} = sigma_w^2 E[phi(sqrt(q^l) z)^2] + sigma_b^2``, fixed point ``q*``;
* correlation map   ``c^{l+1} = (sigma_w^2 E[phi(u_1) phi(u_2)] + sigma_b^2) / q*`` with
  ``u_1 = sqrt(q*) z_1``, ``u_2 = sqrt(q*) (c z_1 + sqrt(1 - c^2) z_2)``; ``c = 1`` is always a fixed point;
* ``chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]`` = slope of the correlation map at ``c = 1``: ``chi_1 < 1`` is the
  ordered phase (``c* = 1`` is stable), ``chi_1 > 1`` the chaotic one (a fixed point ``c* < 1`` takes over);
* ``chi_c = sigma_w^2 E[phi'(u_1) phi'(u_2)]`` at ``c*`` = slope there, and the correlation depth scale
  ``xi_c = -1 / ln chi_c``: ``|c^l - c*| ~ exp(-l / xi_c)``; it diverges on the critical line ``chi_1 = 1``.

Depth (layers) is dimensionless; ``q`` is in units of squared pre-activation. Gaussian expectations are computed
by Gauss-Hermite quadrature (exact for polynomials of degree < 2 * nodes, spectrally accurate for smooth
``phi``). Everything here is a closed form or a quadrature; nothing is simulated.

References: B. Poole et al., arXiv:1606.05340, eqs. (3), (5), (7); S. S. Schoenholz et al., arXiv:1611.01232,
eqs. (3)-(5) and (8)-(9) (``xi_c^{-1} = -ln chi_c``).
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import optimize

from lmtheory import _validate
from lmtheory.theory import activations

NODES = 200  # Gauss-Hermite nodes per dimension: relative error < 1e-5 for tanh/erf up to q = 5

# name -> (phi, phi') in numpy, every activation of the registry (lmtheory.theory.activations)
ACTIVATIONS = {name: (a.phi, a.dphi) for name, a in activations.REGISTRY.items()}


@functools.lru_cache(maxsize=4)
def _normal_nodes(n: int):
    """Nodes and weights with ``sum w f(z) ~= E[f(z)]`` for ``z ~ N(0, 1)`` (physicists' Hermite rescaled)."""
    x, w = np.polynomial.hermite.hermgauss(n)
    return np.sqrt(2.0) * x, w / np.sqrt(np.pi)


def _functions(activation):
    return ACTIVATIONS[_validate.one_of("activation", activation, set(ACTIVATIONS))]


def gaussian_mean(f, q, *, nodes: int = NODES):
    """``E[f(sqrt(q) z)]`` for ``z ~ N(0, 1)``, by Gauss-Hermite quadrature; vectorised over an array ``q >= 0``.

    >>> round(float(gaussian_mean(lambda u: u**4, 2.0)), 10)    # E[u^4] = 3 q^2
    12.0
    """
    z, w = _normal_nodes(nodes)
    q = _validate.finite_array("q", q)
    if np.any(q < 0):
        raise ValueError(f"q (a variance) must be >= 0, got {q}")
    return np.tensordot(f(np.sqrt(q)[..., None] * z), w, axes=([-1], [0]))


def gaussian_mean_2d(f, q_a, q_b, q_ab, *, nodes: int = NODES):
    """``E[f(u_a, u_b)]`` for ``(u_a, u_b)`` centred Gaussian with variances ``q_a, q_b`` and covariance ``q_ab``.

    Uses ``u_a = sqrt(q_a) z_1``, ``u_b = sqrt(q_b) (c z_1 + sqrt(1 - c^2) z_2)``, ``c = q_ab / sqrt(q_a q_b)``,
    and a tensor-product Gauss-Hermite rule. Scalars only.

    >>> round(float(gaussian_mean_2d(lambda a, b: a * b, 2.0, 3.0, 1.5)), 10)
    1.5
    """
    q_a, q_b = _validate.positive("q_a", float(q_a)), _validate.positive("q_b", float(q_b))
    c = float(q_ab) / np.sqrt(q_a * q_b)
    if not -1.0 - 1e-12 <= c <= 1.0 + 1e-12:
        raise ValueError(f"q_ab must satisfy |q_ab| <= sqrt(q_a q_b), got correlation {c}")
    c = float(np.clip(c, -1.0, 1.0))
    z, w = _normal_nodes(nodes)
    z1, z2 = z[:, None], z[None, :]
    u_a = np.sqrt(q_a) * z1
    u_b = np.sqrt(q_b) * (c * z1 + np.sqrt(1.0 - c * c) * z2)
    return float(np.einsum("i,j,ij->", w, w, f(u_a, u_b)))


def q_map(q, *, sigma_w: float, sigma_b: float, activation: str = "tanh"):
    """One layer of the variance map ``q -> sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2`` (Poole et al. eq. 3).

    >>> round(float(q_map(1.0, sigma_w=np.sqrt(2), sigma_b=0.0, activation="relu")), 12)   # E[relu^2] = q/2
    1.0
    """
    phi, _ = _functions(activation)
    _validate.positive("sigma_w", sigma_w)
    _validate.nonnegative("sigma_b", sigma_b)
    return sigma_w**2 * gaussian_mean(lambda u: phi(u) ** 2, q) + sigma_b**2


def q_fixed_point(*, sigma_w: float, sigma_b: float, activation: str = "tanh") -> float:
    """The stable fixed point ``q*`` of the variance map (``0`` if signals die out; ``ValueError`` if none exists).

    Finds the largest root of ``q_map(q) - q`` where it crosses from above to below (a stable fixed point).
    ReLU and linear have the closed form ``q* = sigma_b^2 / (1 - sigma_w^2 g)`` with ``g = 1/2`` or ``1``.

    >>> round(q_fixed_point(sigma_w=1.0, sigma_b=1.0, activation="relu"), 12)
    2.0
    """
    _functions(activation)
    _validate.positive("sigma_w", sigma_w)
    _validate.nonnegative("sigma_b", sigma_b)
    if activation in ("relu", "linear"):
        gain = sigma_w**2 * (0.5 if activation == "relu" else 1.0)
        if gain >= 1.0:
            raise ValueError(f"sigma_w={sigma_w}: the {activation} variance map has no finite fixed point "
                             f"(needs sigma_w^2 < {2.0 if activation == 'relu' else 1.0})")
        return sigma_b**2 / (1.0 - gain)
    return _q_star(float(sigma_w), float(sigma_b), activation)


@functools.lru_cache(maxsize=256)
def _q_star(sigma_w, sigma_b, activation):
    g = lambda q: q_map(q, sigma_w=sigma_w, sigma_b=sigma_b, activation=activation) - q  # noqa: E731
    top = sigma_w**2 + sigma_b**2 + 1.0                    # bounded phi (|phi| <= 1): g(top) < 0
    grid = np.geomspace(1e-10, top, 400)
    vals = g(grid)
    down = np.nonzero((vals[:-1] > 0) & (vals[1:] <= 0))[0]
    if down.size == 0:
        return 0.0                                         # only the trivial fixed point q* = 0
    i = down[-1]
    return float(optimize.brentq(g, grid[i], grid[i + 1], xtol=1e-14, rtol=1e-13))


def chi_1(*, sigma_w: float, sigma_b: float, activation: str = "tanh") -> float:
    """``chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]``: growth per layer of a small perturbation's squared norm.

    ``chi_1 = 1`` is the order-to-chaos boundary (Poole et al. eq. 7). For ReLU ``chi_1 = sigma_w^2 / 2``.

    >>> chi_1(sigma_w=1.2, sigma_b=0.0, activation="relu") == 1.2**2 / 2
    True
    """
    _, dphi = _functions(activation)
    _validate.positive("sigma_w", sigma_w)
    _validate.nonnegative("sigma_b", sigma_b)
    if activation in ("relu", "linear"):                    # phi'^2 is 1/2 (relu) or 1 on average, whatever q
        return float(sigma_w**2 * (0.5 if activation == "relu" else 1.0))
    q = q_fixed_point(sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)
    return float(sigma_w**2 * gaussian_mean(lambda u: dphi(u) ** 2, q))


def _q_star_positive(sigma_w, sigma_b, activation):
    q = q_fixed_point(sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)
    if q <= 0:
        raise ValueError(f"sigma_w={sigma_w}, sigma_b={sigma_b}: q* = 0 (signals die out), so correlations "
                         "are undefined; use sigma_b > 0 or a larger sigma_w")
    return q


def correlation_map(c, *, sigma_w: float, sigma_b: float, activation: str = "tanh") -> float:
    """One layer of the correlation map at the fixed variance ``q*`` (Poole et al. eq. 5; Schoenholz eq. 4).

    ``c -> (sigma_w^2 E[phi(u_1) phi(u_2)] + sigma_b^2) / q*`` with ``(u_1, u_2)`` of variance ``q*`` and
    correlation ``c``. ``c = 1`` maps to 1.

    >>> round(correlation_map(1.0, sigma_w=1.5, sigma_b=0.3), 10)
    1.0
    """
    phi, _ = _functions(activation)
    q = _q_star_positive(sigma_w, sigma_b, activation)
    if not -1.0 <= c <= 1.0:
        raise ValueError(f"c must lie in [-1, 1], got {c}")
    return (sigma_w**2 * gaussian_mean_2d(lambda a, b: phi(a) * phi(b), q, q, c * q) + sigma_b**2) / q


def correlation_fixed_point(*, sigma_w: float, sigma_b: float, activation: str = "tanh") -> float:
    """The stable fixed point ``c*`` of the correlation map: ``1`` in the ordered phase (``chi_1 <= 1``), else the
    root in ``[0, 1)`` of ``C(c) = c`` (``C(c) - c`` is >= 0 at ``c = 0`` and < 0 just below ``c = 1``).

    >>> correlation_fixed_point(sigma_w=1.0, sigma_b=0.3)
    1.0
    >>> round(correlation_fixed_point(sigma_w=2.0, sigma_b=0.0), 10)      # odd phi, no bias: c* = 0
    0.0
    """
    if chi_1(sigma_w=sigma_w, sigma_b=sigma_b, activation=activation) <= 1.0:
        return 1.0
    g = lambda c: correlation_map(c, sigma_w=sigma_w, sigma_b=sigma_b, activation=activation) - c  # noqa: E731
    if g(0.0) <= 1e-14:
        return 0.0
    top = 1.0 - 1e-3
    while g(top) >= 0:                                       # move closer to 1 until C(c) < c
        top = 1.0 - (1.0 - top) / 10
        if top > 1 - 1e-12:
            raise ValueError("could not bracket c*; the system is too close to criticality")
    return float(optimize.brentq(g, 0.0, top, xtol=1e-14, rtol=1e-13))


def chi_c(*, sigma_w: float, sigma_b: float, activation: str = "tanh") -> float:
    """``chi_c = sigma_w^2 E[phi'(u_1) phi'(u_2)]`` at the stable ``c*``: the slope of the correlation map there.

    Equals ``chi_1`` in the ordered phase (``c* = 1``). Schoenholz et al. (2017), eq. (9).

    >>> chi_c(sigma_w=1.0, sigma_b=0.3) == chi_1(sigma_w=1.0, sigma_b=0.3)
    True
    """
    _, dphi = _functions(activation)
    c = correlation_fixed_point(sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)
    if c == 1.0:
        return chi_1(sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)
    q = _q_star_positive(sigma_w, sigma_b, activation)
    return float(sigma_w**2 * gaussian_mean_2d(lambda a, b: dphi(a) * dphi(b), q, q, c * q))


def correlation_depth_scale(*, sigma_w: float, sigma_b: float, activation: str = "tanh") -> float:
    """``xi_c = -1 / ln chi_c`` (layers): ``|c^l - c*| ~ e^{-l / xi_c}``; ``inf`` on the critical line.

    >>> xi = correlation_depth_scale(sigma_w=1.0, sigma_b=0.3)        # ordered phase: xi_c = -1/ln chi_1
    >>> bool(np.isclose(xi, -1 / np.log(chi_1(sigma_w=1.0, sigma_b=0.3))))
    True
    """
    chi = chi_c(sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)
    return float("inf") if np.isclose(chi, 1.0, rtol=0, atol=1e-12) else float(-1.0 / np.log(chi))


def critical_sigma_w(sigma_b: float, *, activation: str = "tanh") -> float:
    """The weight scale on the order-to-chaos line: the root of ``chi_1(sigma_w, sigma_b) = 1``.

    ReLU: ``sqrt(2)`` (independent of ``sigma_b``); with ``sigma_b = 0``, tanh: 1 and erf: ``sqrt(pi)/2``.

    >>> round(critical_sigma_w(0.0), 6), round(critical_sigma_w(0.5, activation="relu"), 12)
    (1.0, 1.414213562373)
    """
    _validate.nonnegative("sigma_b", sigma_b)
    _functions(activation)
    if activation in ("relu", "linear"):
        return float(np.sqrt(2.0 if activation == "relu" else 1.0))
    if sigma_b == 0:                       # q* = 0 up to sigma_w = 1/phi'(0), chaos beyond (odd phi)
        return float(1.0 / ACTIVATIONS[activation][1](0.0))
    g = lambda s: chi_1(sigma_w=s, sigma_b=sigma_b, activation=activation) - 1.0  # noqa: E731
    hi = 1.0 + 1e-9
    while g(hi) < 0:
        hi *= 1.5
    return float(optimize.brentq(g, 1e-3 if g(1e-3) < 0 else 1e-6, hi, xtol=1e-13, rtol=1e-12))


def correlation_trajectory(c1: float, *, depth: int, sigma_w: float, sigma_b: float,
                           activation: str = "tanh"):
    """Iterates ``c^1, c^2, ..., c^depth`` of the correlation map, for two inputs whose variances sit at ``q*``.

    >>> c = correlation_trajectory(0.5, depth=40, sigma_w=1.0, sigma_b=0.3)    # ordered phase: c -> 1
    >>> bool(c[0] == 0.5 and abs(c[-1] - 1) < 1e-4)
    True
    """
    _validate.positive("depth", depth, integer=True)
    if not np.isfinite(c1) or not -1.0 <= c1 <= 1.0:
        raise ValueError(f"c1 must lie in [-1, 1], got {c1!r}")
    out = [float(c1)]
    for _ in range(depth - 1):
        out.append(correlation_map(out[-1], sigma_w=sigma_w, sigma_b=sigma_b, activation=activation))
    return np.array(out)


def _q_derivatives(q, sigma_w, sigma_b, activation):
    """``F(q), F'(q), F''(q)`` of the variance map and ``G(q) = sigma_w^4 Var[phi(sqrt(q) z)^2]``.

    Derivatives by central differences of the (smooth) quadrature; ``G/width`` is the conditional variance of
    the next layer's ``q`` at finite width.
    """
    phi, _ = _functions(activation)
    h = 1e-3 * max(q, 1e-3)
    f = lambda x: q_map(x, sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)  # noqa: E731
    f0, fp, fm = f(q), f(q + h), f(max(q - h, 0.0))
    d1 = (fp - fm) / (q + h - max(q - h, 0.0))
    d2 = (fp - 2 * f0 + fm) / h**2 if q - h >= 0 else 0.0
    var = gaussian_mean(lambda u: phi(u) ** 4, q) - gaussian_mean(lambda u: phi(u) ** 2, q) ** 2
    return float(f0), float(d1), float(d2), float(sigma_w**4 * var)


def q_trajectory(q1: float, *, depth: int, sigma_w: float, sigma_b: float, activation: str = "tanh",
                 width: int | None = None):
    """Mean pre-activation variance ``E[q^l]``, ``l = 1..depth``, starting from ``q^1`` (set by the input).

    ``width=None``: the mean-field iterates ``q^{l+1} = F(q^l)`` (Poole et al. eq. 3), exact as width -> inf.
    With a ``width`` n: the ``O(1/n)``-corrected mean. At finite width ``q^{l+1}`` given layer ``l`` has mean
    ``F(q^l)`` and variance ``G(q^l)/n`` (a sum of ``n`` i.i.d. terms), so its mean ``m`` and variance ``v`` obey
    ``m' = F(m) + F''(m) v / 2``, ``v' = F'(m)^2 v + G(m)/n``, to first order in ``1/n`` (``v^1 = 0``).

    With ``width=None``, ``q1`` may be an array (one trajectory per entry; output shape ``(depth, *q1.shape)``).

    >>> q = q_trajectory(3.0, depth=30, sigma_w=1.5, sigma_b=0.3)
    >>> bool(abs(q[-1] - q_fixed_point(sigma_w=1.5, sigma_b=0.3)) < 1e-6)
    True
    """
    _validate.positive("depth", depth, integer=True)
    if width is None:                                # the map alone: cheap enough for 10^4 layers
        out = [np.asarray(_validate.positive_array("q1", q1))]
        for _ in range(depth - 1):
            out.append(q_map(out[-1], sigma_w=sigma_w, sigma_b=sigma_b, activation=activation))
        return np.stack(out)
    _validate.positive("q1", q1)
    _validate.positive("width", width, integer=True)
    m, v, out = float(q1), 0.0, [float(q1)]
    for _ in range(depth - 1):
        f0, d1, d2, g = _q_derivatives(m, sigma_w, sigma_b, activation)
        m, v = f0 + 0.5 * d2 * v, d1**2 * v + g / width
        out.append(m)
    return np.array(out)


def lyapunov_exponent(*, sigma_w: float, sigma_b: float, activation: str = "tanh", width: int | None = None):
    """Mean growth per layer of ``ln ||delta h||^2`` for an infinitesimal input perturbation, at ``q = q*``.

    Mean field (``width=None``): ``ln chi_1`` (Poole et al.). At finite width n the per-layer ratio of squared
    norms is ``sigma_w^2 (chi^2_n / n) A`` with ``A = sum_i phi'(h_i)^2 w_i`` a weighted average over units
    (``w_i = delta_i^2 / ||delta||^2``, Gaussian ``delta_i``), so the mean of its *logarithm* is lower by the
    log-normal drift ``(1/n) [1 + (3/2) Var(phi'^2) / E[phi'^2]^2] + O(1/n^2)`` (delta method for both factors;
    fluctuations of ``q`` around ``q*`` are neglected). A heuristic, leading-order correction.

    >>> round(lyapunov_exponent(sigma_w=1.2, sigma_b=0.0, activation="relu"), 6)       # ln(1.2^2 / 2)
    -0.328504
    >>> round(lyapunov_exponent(sigma_w=1.2, sigma_b=0.0, activation="relu", width=100), 6)   # - 2.5/100
    -0.353504
    """
    _, dphi = _functions(activation)
    lam = float(np.log(chi_1(sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)))
    if width is None:
        return lam
    _validate.positive("width", width, integer=True)
    q = 1.0 if activation in ("relu", "linear") else q_fixed_point(sigma_w=sigma_w, sigma_b=sigma_b,
                                                                     activation=activation)
    m2 = gaussian_mean(lambda u: dphi(u) ** 2, q)
    m4 = gaussian_mean(lambda u: dphi(u) ** 4, q)
    return float(lam - (1.0 + 1.5 * (m4 - m2**2) / m2**2) / width)


def correlation_decay_slope(c1: float, *, first: int, last: int, sigma_w: float, sigma_b: float,
                            activation: str = "tanh") -> float:
    """Least-squares slope of ``ln|c^l - c*|`` against ``l`` over the layers ``first <= l < last`` of the map.

    The correlation map is iterated from ``c^1 = c1`` (:func:`correlation_trajectory`; layers are numbered from 1)
    and fitted over the same window a measurement uses. Near ``c*`` the decay is exponential with slope
    ``ln chi_c = -1/xi_c`` (:func:`correlation_depth_scale`); over a finite window that still contains the
    ``O((c - c*)^2)`` term of the map, the fitted slope differs from ``-1/xi_c`` (here by up to a few percent), and
    it tends to ``-1/xi_c`` as the window moves deep. This is the mean-field prediction for a slope fitted to the
    ensemble mean over those layers. Units: per layer.

    >>> s = correlation_decay_slope(0.5, first=20, last=40, sigma_w=1.0, sigma_b=0.3)   # deep window
    >>> bool(abs(s + 1 / correlation_depth_scale(sigma_w=1.0, sigma_b=0.3)) < 1e-3)
    True
    """
    _validate.positive("first", first, integer=True)
    _validate.positive("last", last, integer=True)
    _validate.positive("sigma_w", sigma_w)
    _validate.nonnegative("sigma_b", sigma_b)
    if last - first < 2:
        raise ValueError(f"the window [first, last) must hold at least 2 layers, got first={first}, last={last}")
    if not np.isfinite(c1) or not -1.0 <= c1 <= 1.0:
        raise ValueError(f"c1 must lie in [-1, 1], got {c1!r}")
    c_star = correlation_fixed_point(sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)
    c = correlation_trajectory(c1, depth=last - 1, sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)
    dev = np.abs(c[first - 1:] - c_star)
    if np.any(dev <= 0):
        raise ValueError("the correlation map reaches c* inside the window; start nearer to c1 or use a shorter one")
    layers = np.arange(first, last, dtype=float)
    dx = layers - layers.mean()
    return float(np.sum(dx * np.log(dev)) / np.sum(dx**2))
