"""Depth as a renormalization-group flow of the kernel: fixed points, susceptibilities, universality classes.

Set-up (as in :mod:`lmtheory.theory.meanfield`): weights of variance ``C_W / fan_in = sigma_w^2 / fan_in``, biases of
variance ``C_b = sigma_b^2``. At infinite width the single-input kernel ``K^l`` (the variance of a pre-activation
in layer ``l``) obeys the recursion ``K^{l+1} = C_b + C_W E[phi(z)^2]``, ``z ~ N(0, K^l)``: a discrete RG flow
whose "time" is the layer index. Its linearization at a fixed point ``K*`` defines the two susceptibilities of
Roberts, Yaida & Hanin (RYH), eqs. (5.8)-(5.9):

* ``chi_par(K) = dK^{l+1}/dK^l = (C_W / 2K^2) E[phi(z)^2 (z^2 - K)]`` (how a change of the kernel propagates);
* ``chi_perp(K) = C_W E[phi'(z)^2]`` (how a small difference between two inputs propagates).

Criticality means ``chi_par(K*) = chi_perp(K*) = 1``. Universality classes (RYH sec. 5.3):

* **scale-invariant** (``phi(lambda z) = lambda phi(z)``: ReLU, linear): ``E[phi^2] = A_2 K`` with
  ``A_2 = (a_+^2 + a_-^2)/2``; ``chi_par = chi_perp = C_W A_2`` for every ``K``; critical at ``C_b = 0``,
  ``C_W = 1/A_2``, where every ``K`` is a fixed point (exactly marginal): ``K^l = K^1``, exponent 0.
* **K* = 0** (``phi(0) = 0``, ``sigma_1 = phi'(0) != 0`` and ``a_1 < 0``: tanh, erf, sin): critical at ``C_b = 0``,
  ``C_W = 1 / sigma_1^2``; there ``K^{l+1} = K^l + a_1 (K^l)^2 + a_2 (K^l)^3 + ...`` with
  ``a_1 = sigma_3/sigma_1 + (3/4)(sigma_2/sigma_1)^2`` (``sigma_k = phi^{(k)}(0)``), a marginally irrelevant
  coupling, so ``K^l = 1 / (-a_1 l) + O(ln l / l^2)``: a **power law** with exponent -1 (RYH eqs. 5.57-5.64).

Off criticality, near a stable fixed point ``|K^l - K*| ~ chi_par(K*)^l``: exponential, at rate ``ln chi_par``.
Expectations are Gauss-Hermite quadratures (``meanfield.gaussian_mean``). Kernels are in units of squared
pre-activation; depth (layers) and the susceptibilities are dimensionless.

References: D. A. Roberts, S. Yaida, B. Hanin, arXiv:2106.10165 (2022), ch. 5; S. S. Schoenholz et al.,
arXiv:1611.01232 (2017); B. Poole et al., arXiv:1606.05340 (2016).
"""

from __future__ import annotations

import numpy as np

from lmtheory import _validate
from lmtheory.theory import activations, meanfield

# From the activation registry (lmtheory.theory.activations):
# (sigma_0, ..., sigma_5), sigma_k = k-th derivative of phi at 0, for the analytic, non-scale-invariant activations
TAYLOR = {name: activations.get(name).taylor for name in activations.names(taylor=True, scale_invariant=False)}
# (a_+, a_-): phi(z) = a_+ z (z > 0), a_- z (z < 0)
SCALE_INVARIANT = {name: activations.get(name).slopes for name in activations.names(scale_invariant=True)}
CLASSES = ("scale-invariant", "K*=0", "half-stable")


def _activation(activation):
    return _validate.one_of("activation", activation, set(TAYLOR) | set(SCALE_INVARIANT))


def flow_coefficients(activation: str = "tanh"):
    """``(a_1, a_2)`` of the critical flow ``K^{l+1} = K^l + a_1 (K^l)^2 + a_2 (K^l)^3 + O(K^4)`` (K* = 0 class).

    With ``C_W = 1/sigma_1^2``, expand ``phi(z)^2`` in powers of ``z`` and use ``E z^4 = 3K^2``, ``E z^6 = 15K^3``:
    ``a_1 = sigma_3/sigma_1 + (3/4)(sigma_2/sigma_1)^2`` (RYH eq. 5.60) and
    ``a_2 = 15 (sigma_1 sigma_5/60 + sigma_2 sigma_4/24 + sigma_3^2/36) / sigma_1^2``. Dimensionless per unit K.

    >>> [round(float(a), 10) for a in flow_coefficients("tanh")]          # tanh z = z - z^3/3 + 2 z^5/15
    [-2.0, 5.6666666667]
    """
    if _activation(activation) in SCALE_INVARIANT:
        raise ValueError(f"activation={activation!r} is scale-invariant: its critical flow is K^(l+1) = K^l")
    _, s1, s2, s3, s4, s5 = TAYLOR[activation]
    a1 = s3 / s1 + 0.75 * (s2 / s1) ** 2
    a2 = 15.0 * (s1 * s5 / 60 + s2 * s4 / 24 + s3**2 / 36) / s1**2
    return float(a1), float(a2)


def universality_class(activation: str = "tanh") -> str:
    """``"scale-invariant"`` (ReLU, linear), ``"K*=0"`` (phi(0)=0, phi'(0)!=0, a_1<0) or ``"half-stable"`` (a_1>0).

    >>> universality_class("relu"), universality_class("sin")
    ('scale-invariant', 'K*=0')
    """
    if _activation(activation) in SCALE_INVARIANT:
        return "scale-invariant"
    return "K*=0" if flow_coefficients(activation)[0] < 0 else "half-stable"


def critical_couplings(activation: str = "tanh"):
    """``(sigma_b, sigma_w)`` at criticality: ``C_b = 0`` and ``C_W = 1/A_2`` (scale-invariant) or ``1/sigma_1^2``.

    >>> [round(float(c), 12) for c in critical_couplings("erf")], critical_couplings("relu")
    ([0.0, 0.886226925453], (0.0, 1.4142135623730951))
    """
    if _activation(activation) in SCALE_INVARIANT:
        a_plus, a_minus = SCALE_INVARIANT[activation]
        return 0.0, float(np.sqrt(2.0 / (a_plus**2 + a_minus**2)))
    return 0.0, float(1.0 / TAYLOR[activation][1])


def critical_exponent(activation: str = "tanh") -> float:
    """Exponent ``p`` of ``K^l ~ l^(-p)`` at criticality: ``p = 0`` (scale-invariant, marginal) or 1 (K* = 0 class).

    >>> critical_exponent("tanh"), critical_exponent("linear")
    (1.0, 0.0)
    """
    cls = universality_class(activation)
    if cls == "half-stable":
        raise ValueError(f"activation={activation!r} has a_1 > 0: no power-law approach to K* = 0")
    return 0.0 if cls == "scale-invariant" else 1.0


def critical_kernel(depth, *, activation: str = "tanh", order: int = 1):
    """Large-depth kernel at criticality in the K* = 0 class.

    ``order=1``: ``K^l = 1/(-a_1 l)`` (RYH eq. 5.64). ``order=2``: ``K^l = 1/(-a_1 l + b ln l)`` with
    ``b = (a_1^2 - a_2)/(-a_1)``, from ``u = 1/K``: ``u^{l+1} = u^l - a_1 + (a_1^2 - a_2)/u^l + O(u^-2)``. The
    remaining relative error is ``c / (-a_1 l)`` with a constant ``c`` set by the initial kernel. Vectorized.

    >>> float(critical_kernel(100.0, activation="sin"))
    0.01
    """
    layers = _validate.positive_array("depth", depth)
    a1, a2 = flow_coefficients(activation)
    if a1 >= 0:
        raise ValueError(f"activation={activation!r} is not in the K*=0 class (a_1 = {a1} >= 0)")
    _validate.one_of("order", order, {1, 2})
    u = -a1 * layers + (0.0 if order == 1 else (a1 * a1 - a2) / (-a1) * np.log(layers))
    return 1.0 / u


def kernel_flow(k1, *, depth: int, activation: str = "tanh", sigma_w: float, sigma_b: float = 0.0):
    """Iterates the exact recursion ``K^{l+1} = sigma_b^2 + sigma_w^2 E[phi(z)^2]``: returns ``K^1, ..., K^depth``.

    The renormalization-group name for :func:`lmtheory.theory.meanfield.q_trajectory` at infinite width
    (``width=None``); ``k1`` may be an array (one flow per entry).

    >>> k = kernel_flow(1.0, depth=3, activation="relu", sigma_w=1.0)          # K -> K/2 each layer
    >>> np.round(k, 12).tolist()
    [1.0, 0.5, 0.25]
    """
    k1 = _validate.positive_array("k1", k1)             # checked here so that the message names k1
    return meanfield.q_trajectory(k1, depth=depth, sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)


def susceptibilities(kernel, *, activation: str = "tanh", sigma_w: float, sigma_b: float = 0.0):
    """``(chi_par, chi_perp)`` at kernel value ``K`` (RYH eqs. 5.8-5.9); at ``K = 0`` their limits.

    ``chi_par = (C_W / 2K^2) E[phi(z)^2 (z^2 - K)]`` (Stein's lemma form of ``dK'/dK``),
    ``chi_perp = C_W E[phi'(z)^2]``. At ``K = 0``: both equal ``C_W sigma_1^2`` (or ``C_W A_2``, scale-invariant).

    >>> [round(float(x), 12) for x in susceptibilities(0.7, activation="relu", sigma_w=1.2)]     # both 1.44/2
    [0.72, 0.72]
    """
    phi, dphi = meanfield.ACTIVATIONS[_activation(activation)]
    _validate.positive("sigma_w", sigma_w)
    _validate.nonnegative("kernel", kernel)
    cw = sigma_w**2
    if kernel == 0:
        _, s_w = critical_couplings(activation)
        return cw / s_w**2, cw / s_w**2
    z, w = meanfield._normal_nodes(meanfield.NODES)
    u = np.sqrt(kernel) * z
    chi_par = cw / (2 * kernel**2) * float(w @ (phi(u) ** 2 * (u * u - kernel)))
    return float(chi_par), float(cw * (w @ dphi(u) ** 2))


def relaxation_rate(*, activation: str = "tanh", sigma_w: float, sigma_b: float = 0.0) -> float:
    """``ln chi_par(K*)`` at the stable fixed point ``K*`` (per layer): ``|K^l - K*| ~ exp(l ln chi_par)``.

    ``K*`` from :func:`lmtheory.theory.meanfield.q_fixed_point` (0 when the signal dies out). The correlation
    depth ``xi = -1/ln chi_par`` diverges at criticality, where the approach becomes a power law.

    >>> bool(np.isclose(relaxation_rate(activation="tanh", sigma_w=0.9), np.log(0.81), rtol=1e-12))
    True
    """
    if activation in SCALE_INVARIANT:
        _, s_w = critical_couplings(activation)
        if sigma_b != 0 or sigma_w >= s_w:
            raise ValueError("for a scale-invariant activation use sigma_b = 0 and sigma_w below critical "
                             f"({s_w:.4g}), where K* = 0 and K^l = (sigma_w/{s_w:.4g})^(2(l-1)) K^1")
        return float(np.log(sigma_w**2 / s_w**2))
    k_star = meanfield.q_fixed_point(sigma_w=sigma_w, sigma_b=sigma_b, activation=activation)
    return float(np.log(susceptibilities(k_star, activation=activation, sigma_w=sigma_w,
                                         sigma_b=sigma_b)[0]))


# ---- Finite-range fits of the flow (chapter renormalization, Part III) ------------------------------------------

def _window_flow(k1, window, activation, sigma_w, sigma_b, width):
    """Layers ``window[0]..window[1]`` and the flow's kernel there (the first-order 1/width mean with a width)."""
    _validate.positive_array("k1", k1)                  # checked here so that the message names k1, not q1
    lo, hi = (_validate.positive(f"window[{i}]", w, integer=True) for i, w in enumerate(window))
    if hi - lo < 2:
        raise ValueError(f"window must span at least 3 layers, got {tuple(window)}")
    _activation(activation)
    k = meanfield.q_trajectory(k1, depth=hi, sigma_w=sigma_w, sigma_b=sigma_b, activation=activation, width=width)
    kern = np.asarray(k, float)[lo - 1:]
    if np.any(kern <= 0):
        raise ValueError(f"the first-order mean kernel at width {width} turns negative inside the window "
                         f"{tuple(window)} (depth ~ 2 width): the 1/width expansion has broken down there")
    return np.arange(lo, hi + 1, dtype=float), kern


def window_exponent(k1, *, window, activation: str = "tanh", sigma_w: float, sigma_b: float = 0.0,
                    width: int | None = None) -> float:
    """Least-squares slope of ``ln K^l`` against ``ln l`` over the layers ``window[0] <= l <= window[1]``.

    The exponent that a straight-line fit over a finite range of depths sees: at criticality in the K* = 0 class
    it tends to -1 (:func:`critical_exponent`) only as the window moves to infinite depth, with ``O(ln l / l)``
    corrections (:func:`critical_kernel`). ``width=None``: the infinite-width flow (:func:`kernel_flow`); a
    ``width`` ``n``: the mean kernel of width-``n`` networks to first order in ``1/n``
    (:func:`lmtheory.theory.meanfield.q_trajectory`), whose relative shift ``-l/(3n)`` at criticality steepens
    the slope. ValueError when that first-order mean turns negative inside the window (``l ~ 2n``). A closed
    form evaluated over a finite range (no samples); dimensionless.

    >>> abs(window_exponent(1.0, window=(16, 256), activation="relu", sigma_w=2**0.5)) < 1e-12   # marginal
    True
    >>> round(window_exponent(1.0, window=(1000, 10000), activation="sin", sigma_w=1.0), 3)
    -0.999
    """
    layers, kern = _window_flow(k1, window, activation, sigma_w, sigma_b, width)
    return float(np.polyfit(np.log(layers), np.log(kern), 1)[0])


def window_rate(k1, *, window, activation: str = "tanh", sigma_w: float, sigma_b: float = 0.0,
                width: int | None = None) -> float:
    """Least-squares slope of ``ln K^l`` against ``l`` (per layer) over ``window[0] <= l <= window[1]``.

    Below criticality (``K* = 0``) this tends to :func:`relaxation_rate`, ``ln chi_par``, deep in the network;
    over a finite window it differs by the nonlinear ``O(K)`` correction of the flow. ``width`` as in
    :func:`window_exponent`. Exact for a scale-invariant activation, where ``K^l = (sigma_w^2 A_2)^(l-1) K^1``.

    >>> bool(abs(window_rate(1.0, window=(1, 10), activation="relu", sigma_w=1.0) - np.log(0.5)) < 1e-12)
    True
    """
    layers, kern = _window_flow(k1, window, activation, sigma_w, sigma_b, width)
    return float(np.polyfit(layers, np.log(kern), 1)[0])


def window_relaxation_rate(k1, *, window, activation: str = "tanh", sigma_w: float, sigma_b: float = 0.0) -> float:
    """Least-squares slope of ``ln|K^l - K*|`` against ``l`` (per layer) over ``window[0] <= l <= window[1]``.

    The infinite-width flow (:func:`kernel_flow`) from ``K^1 = k1`` relaxing to the stable fixed point ``K*``
    (:func:`lmtheory.theory.meanfield.q_fixed_point`). Deep in the network this tends to :func:`relaxation_rate`,
    ``ln chi_par(K*)``; over a finite window it differs by the ``O(K - K*)`` term of the map. Dimensionless.

    >>> bool(abs(window_relaxation_rate(1.0, window=(10, 20), activation="relu", sigma_w=1.2, sigma_b=0.5)
    ...          - np.log(0.72)) < 1e-6)
    True
    """
    _validate.positive_array("k1", k1)
    lo, hi = (_validate.positive(f"window[{i}]", w, integer=True) for i, w in enumerate(window))
    if hi - lo < 2:
        raise ValueError(f"window must span at least 3 layers, got {tuple(window)}")
    k_star = meanfield.q_fixed_point(sigma_w=sigma_w, sigma_b=sigma_b, activation=_activation(activation))
    dev = np.abs(kernel_flow(k1, depth=hi, activation=activation, sigma_w=sigma_w, sigma_b=sigma_b) - k_star)
    return float(np.polyfit(np.arange(lo, hi + 1), np.log(dev[lo - 1:]), 1)[0])


# ---- Critical ReLU: the correlation of two inputs (arc-cosine map) ---------------------------------------------

def relu_correlation_flow(rho1, *, depth: int):
    """Correlations ``rho^1, ..., rho^depth`` of two inputs in a critical ReLU network (He: ``C_W = 2, C_b = 0``).

    The arc-cosine map (Cho & Saul 2009; RYH sec. 5.5), exact at infinite width:
    ``rho -> (sqrt(1 - rho^2) + (pi - arccos rho) rho) / pi``. Near ``rho = 1``, with ``eps = 1 - rho``,
    ``eps' = eps - (2 sqrt2 / (3 pi)) eps^(3/2) + O(eps^(5/2))`` (:func:`critical_relu_decorrelation`).
    Dimensionless.

    >>> np.round(relu_correlation_flow(0.0, depth=2), 12).tolist()           # rho^2 = 1/pi
    [0.0, 0.318309886184]
    """
    _validate.positive("depth", depth, integer=True)
    rho = float(_validate.finite_array("rho1", rho1))
    if not -1.0 <= rho <= 1.0:
        raise ValueError(f"rho1 must lie in [-1, 1], got {rho}")
    out = [rho]
    for _ in range(depth - 1):
        r = out[-1]
        out.append(min(1.0, (np.sqrt(max(0.0, 1 - r * r)) + (np.pi - np.arccos(r)) * r) / np.pi))
    return np.array(out)


def relu_correlation_exponent(rho1, *, window) -> float:
    """Least-squares slope of ``ln(1 - rho^l)`` against ``ln l`` of :func:`relu_correlation_flow` over the window.

    Tends to ``-2`` (:func:`critical_relu_decorrelation`) only slowly: the next-order terms of
    ``u = (1 - rho)^(-1/2) = (A/2) l + (3A/4) ln l + C`` (``A = 2 sqrt2/(3 pi)``, ``C`` set by ``rho1``) shift it
    by ``O(ln l / l)``. Exact at infinite width over a finite range of depths; dimensionless.

    >>> round(relu_correlation_exponent(0.0, window=(2000, 4000)), 2)
    -1.99
    """
    lo, hi = (_validate.positive(f"window[{i}]", w, integer=True) for i, w in enumerate(window))
    if hi - lo < 2:
        raise ValueError(f"window must span at least 3 layers, got {tuple(window)}")
    eps = 1.0 - relu_correlation_flow(rho1, depth=hi)[lo - 1:]
    return float(np.polyfit(np.log(np.arange(lo, hi + 1)), np.log(eps), 1)[0])


def critical_relu_decorrelation(depth):
    """Asymptotic ``1 - rho^l = 9 pi^2 / (2 l^2)`` of two inputs in a critical ReLU network, any ``rho^1 < 1``.

    From ``eps' = eps - A eps^(3/2)`` with ``A = 2 sqrt2 / (3 pi)``: ``u = eps^(-1/2)`` grows by ``A/2`` per layer,
    so ``eps = 4 / (A l)^2 = 9 pi^2 / (2 l^2)``; relative corrections ``O(ln l / l)``. Vectorized; dimensionless.

    >>> round(float(critical_relu_decorrelation(1.0)), 5)                   # 9 pi^2 / 2
    44.41322
    """
    layers = _validate.positive_array("depth", depth)
    return 4.5 * np.pi**2 / layers**2


def relu_decorrelation_slope(*, window) -> float:
    """Slope of ``u = (1 - rho^l)^(-1/2)`` against ``l`` over ``window[0] <= l <= window[1]``, critical ReLU.

    From ``eps' = eps - A eps^(3/2) + O(eps^(5/2))`` (``A = 2 sqrt2/(3 pi)``), ``u' = u + A/2 + (3/8) A^2 / u +
    O(u^-2)``, so ``u = (A/2) l + (3A/4) ln l + C + O(ln l / l)`` whatever ``rho^1 < 1`` (it only sets ``C``). The
    least-squares slope over the window is ``(A/2) (1 + (3/2) s)``, ``s`` the slope of ``ln l`` against ``l``
    there; ``A/2 = (9 pi^2 / 2)^(-1/2)`` is the amplitude of :func:`critical_relu_decorrelation`. Per layer.

    >>> round(float(relu_decorrelation_slope(window=(10**5, 2 * 10**5)) * 3 * np.pi / np.sqrt(2)), 4)   # A/2
    1.0
    """
    lo, hi = (_validate.positive(f"window[{i}]", w, integer=True) for i, w in enumerate(window))
    if hi - lo < 2:
        raise ValueError(f"window must span at least 3 layers, got {tuple(window)}")
    layers = np.arange(lo, hi + 1, dtype=float)
    s = np.polyfit(layers, np.log(layers), 1)[0]
    return float(np.sqrt(2.0) / (3 * np.pi) * (1 + 1.5 * s))
