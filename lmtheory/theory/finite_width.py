"""Finite-width statistics of a random network at initialization: the 1/width expansion and the log-normal limit.

Set-up. A fully connected network of equal hidden widths ``n`` and ``depth`` L weight matrices (hidden layers and
the output all have ``n`` units) acts on one fixed input ``x``: ``h^1 = W^1 x``, ``h^{l+1} = W^{l+1} phi(h^l)``, no
biases, every entry of ``W^l`` i.i.d. ``N(0, C_W / fan_in)``. We follow the normalized squared norm of the last
pre-activation, ``s = ||h^L||^2 / n`` (units of squared pre-activation), for the two scale-invariant activations
``phi(z) = z`` (``C_W = 1``) and ``phi(z) = max(z, 0)`` (He initialization, ``C_W = 2``), for which
``E[s] = C_W ||x||^2 / d`` at every depth.

Exact structure. Given layer ``l``, ``h^{l+1}`` is Gaussian with i.i.d. components of variance
``G = (C_W / n) ||phi(h^l)||^2``; for a scale-invariant ``phi`` the ratio of successive ``G`` is a fresh random
factor ``X`` independent of the past. Hence ``s = G^1 X_1 ... X_{L-1} (chi^2_n / n)``, a product of ``L``
independent factors with

* ``X = chi^2_n / n`` (linear): ``E[X^2] = 1 + 2/n``;
* ``X = (2/n) chi^2_B``, ``B ~ Binomial(n, 1/2)`` active units (ReLU): ``E[X^2] = 1 + 5/n`` exactly;
* the last factor ``chi^2_n / n``: the ``n`` output components sampled from a Gaussian of variance ``G^L``.

So ``E[s^2] / E[s]^2 = (1 + 2/n) (1 + c/n)^(L-1)`` with ``c = 3 A_4 / A_2^2 - 1`` (2 linear, 5 ReLU), and the
``(L-1)`` layer factors are the normalized four-point vertex ``1 + V^L / (n K^2)`` of Roberts, Yaida & Hanin.
Logarithms: ``ln s`` is a sum of ``L`` independent terms, whose means and variances follow from
``E[ln chi^2_k] = psi(k/2) + ln 2`` and ``Var[ln chi^2_k] = psi'(k/2)``; for ``n, L -> inf`` at fixed ``L/n`` it is
Gaussian with variance ``~ c L / n`` (the log-normal limit of Hanin & Nica).

Depth (number of weight matrices) and width are dimensionless integers. ReLU log-moments are conditioned on
``B >= 1`` in every layer (the network output is exactly 0 with probability ``1 - (1 - 2^-n)^(L-1)``).

References: B. Hanin, D. Rolnick, arXiv:1803.01719 (2018); B. Hanin, M. Nica, arXiv:1812.05994 (2020);
D. A. Roberts, S. Yaida, B. Hanin, arXiv:2106.10165 (2022), ch. 3 (linear) and sec. 5.5 (scale-invariant class).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from lmtheory import _validate
from lmtheory.theory import activations, meanfield

ACTIVATIONS = activations.names(scale_invariant=True)      # ("linear", "relu"): the exactly solvable class
# c = 3 A_4 / A_2^2 - 1 with A_k = E[phi(z)^k] / E[z^k] (z standard normal): 2 (linear), 5 (ReLU)
VERTEX = {name: activations.vertex_coefficient(activations.get(name).slopes[1] / activations.get(name).slopes[0])
          for name in ACTIVATIONS}
ORDERS = ("exact", "first", "lognormal")


def _arrays(width, depth, activation):
    """Widths and depths as float arrays (positive integers, else ValueError) and the vertex coefficient c."""
    out = []
    for name, v in (("width", width), ("depth", depth)):
        a = np.asarray(v, float)
        if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a < 1) or np.any(a != np.round(a)):
            raise ValueError(f"{name} must be a positive integer (or an array of them), got {v!r}")
        out.append(a)
    return out[0], out[1], VERTEX[_validate.one_of("activation", activation, set(ACTIVATIONS))]


def vertex_coefficient(activation: str = "relu", *, slope: float | None = None) -> float:
    """Growth per layer of the normalized four-point vertex: ``c = E[phi(z)^4] / E[phi(z)^2]^2 - 1``, z Gaussian.

    For a scale-invariant ``phi(z) = max(z, a z)`` (``slope`` a; 1: linear, 0: ReLU) and ``z ~ N(0, q)``:
    ``E[phi^2] = A_2 q``, ``E[phi^4] = 3 A_4 q^2`` with ``A_k = (1 + a^k) / 2``, so ``c = 3 A_4 / A_2^2 - 1
    = 6 (1 + a^4) / (1 + a^2)^2 - 1`` (Roberts, Yaida & Hanin, sec. 5.5), independent of ``q``.

    >>> vertex_coefficient("linear"), vertex_coefficient("relu"), round(vertex_coefficient(slope=0.5), 6)
    (2.0, 5.0, 3.08)
    """
    if slope is None:
        return VERTEX[_validate.one_of("activation", activation, set(ACTIVATIONS))]
    return activations.vertex_coefficient(slope)


def moment_ratio(*, width, depth, activation: str = "relu", order: str = "exact"):
    """``E[s^2] / E[s]^2`` for ``s = ||h^depth||^2 / width`` at initialization, one fixed input.

    ``order="exact"``: ``(1 + 2/n) (1 + c/n)^(L-1)``, exact for Gaussian weights (see the module docstring);
    ``"first"``: first order of perturbation theory in ``1/n`` at fixed L, ``1 + (2 + c (L-1)) / n``;
    ``"lognormal"``: leading order at fixed ``L/n`` (log-normal limit), ``exp((2 + c (L-1)) / n)``.
    ``c`` = 2 (linear), 5 (ReLU). Dimensionless; vectorized over ``depth`` and ``width`` arrays.

    >>> round(float(moment_ratio(width=10, depth=3, activation="relu")), 10)     # 1.2 * 1.5^2
    2.7
    >>> float(moment_ratio(width=10, depth=3, activation="linear", order="first"))
    1.6
    """
    _validate.one_of("order", order, set(ORDERS))
    n, depth, c = _arrays(width, depth, activation)
    x = (2.0 + c * (depth - 1)) / n
    if order == "first":
        return 1.0 + x
    if order == "lognormal":
        return np.exp(x)
    return (1.0 + 2.0 / n) * (1.0 + c / n) ** (depth - 1)


def _factor_moment(k: int, width: int, activation: str) -> float:
    """``E[X^k]`` for one layer's factor: ``prod_j (1 + 2j/n)`` (linear) or ``(2/n)^k E[prod_j (B + 2j)]`` (ReLU)."""
    j = np.arange(k)
    if activation == "linear":
        return float(np.prod(1.0 + 2.0 * j / width))
    b = np.arange(width + 1)
    return float((2.0 / width) ** k * stats.binom.pmf(b, width, 0.5) @ np.prod(b[:, None] + 2.0 * j, axis=1))


def moment(k: int, *, width: int, depth: int, activation: str = "relu") -> float:
    """Exact ``E[s^k] / E[s]^k`` for ``s = ||h^depth||^2 / width``: ``E[X_out^k] E[X^k]^(depth - 1)``.

    ``X_out = chi^2_n / n`` is the output sampling factor, ``X`` the hidden-layer factor; ``E[(chi^2_n/n)^k] =
    prod_{j<k} (1 + 2j/n)`` and, for ReLU, ``chi^2_B`` given ``B`` has ``E[(chi^2_B)^k] = prod_{j<k} (B + 2j)``.
    ``k = 2`` is :func:`moment_ratio`; ``k = 4`` tells how many draws sample the second moment.

    >>> bool(np.isclose(moment(2, width=16, depth=5), moment_ratio(width=16, depth=5)))
    True
    """
    _validate.positive("k", k, integer=True)
    _validate.positive("width", width, integer=True)
    _validate.positive("depth", depth, integer=True)
    _validate.one_of("activation", activation, set(ACTIVATIONS))
    return _factor_moment(k, width, "linear") * _factor_moment(k, width, activation) ** (depth - 1)


def _relu_layer_log_moments(width: int):
    """Mean and variance of ``ln X`` for one ReLU layer, ``X = (2/n) chi^2_B``, ``B ~ Bin(n, 1/2) | B >= 1``."""
    b = np.arange(1, width + 1)
    p = stats.binom.pmf(b, width, 0.5)
    p = p / p.sum()
    mean_given_b = special.digamma(b / 2.0) + np.log(2.0) + np.log(2.0 / width)
    mean = float(p @ mean_given_b)
    var = float(p @ special.polygamma(1, b / 2.0) + p @ (mean_given_b - mean) ** 2)
    return mean, var


def layer_log_moments(*, width: int, activation: str = "relu"):
    """Mean and variance of ``ln X`` for the random factor ``X`` by which one hidden layer multiplies ``s``.

    Linear: ``X = chi^2_n / n``, ``E ln X = psi(n/2) + ln(2/n)``, ``Var ln X = psi'(n/2)``. ReLU:
    ``X = (2/n) chi^2_B`` with ``B ~ Binomial(n, 1/2)`` conditioned on ``B >= 1``; sum over ``B`` of the
    conditional moments (law of total variance). Leading orders: ``-c/(2n)`` and ``c/n`` (c = 2, 5).

    >>> m, v = layer_log_moments(width=1000, activation="relu")
    >>> round(m * 1000, 1), round(v * 1000, 1)
    (-2.5, 5.0)
    """
    _validate.positive("width", width, integer=True)
    n, _, _ = _arrays(width, 1, activation)
    if activation == "relu":
        return _relu_layer_log_moments(int(width))
    return float(special.digamma(n / 2) + np.log(2.0 / n)), float(special.polygamma(1, n / 2))


def log_moments(*, width: int, depth, activation: str = "relu"):
    """Exact mean and variance of ``ln(s / E[s])`` for ``s = ||h^depth||^2 / width`` (ReLU: given ``s > 0``).

    ``ln s - ln E[s]`` is the sum of ``depth - 1`` independent hidden-layer terms (:func:`layer_log_moments`) and
    one output term ``ln(chi^2_n / n)``. Both moments are linear in ``depth``; the slope of the variance is
    ``c/n + O(1/n^2)``: 2/n (linear), 5/n (ReLU). Vectorized over ``depth``.

    >>> mean, var = log_moments(width=64, depth=np.array([1, 2]), activation="linear")
    >>> bool(np.isclose(var[1], 2 * var[0]))
    True
    """
    _validate.positive("width", width, integer=True)
    _, depth, _ = _arrays(width, depth, activation)
    m_out, v_out = layer_log_moments(width=width, activation="linear")
    m_hid, v_hid = layer_log_moments(width=width, activation=activation)
    return m_out + (depth - 1) * m_hid, v_out + (depth - 1) * v_hid


def survival_probability(*, width: int, depth):
    """Probability that a ReLU network's output is not identically 0: ``(1 - 2^-n)^(depth - 1)``.

    A hidden layer kills the signal when all ``n`` pre-activations are negative (probability ``2^-n``).

    >>> float(survival_probability(width=1, depth=3))
    0.25
    """
    _validate.positive("width", width, integer=True)
    _, depth, _ = _arrays(width, depth, "relu")
    return (1.0 - 2.0 ** -float(width)) ** (depth - 1)


def vertex_trajectory(k1: float, *, depth: int, width: int, activation: str = "tanh", sigma_w: float,
                      sigma_b: float = 0.0):
    """First-order 1/width theory for any activation: normalized four-point vertex ``V^l / (n (K^l)^2)``, l=1..depth.

    ``G^l`` (the conditional variance of layer ``l``) has mean ``K^l`` and variance ``V^l / n``. A layer maps
    ``G -> F(G) + noise`` with ``F(K) = C_b + C_W E[phi^2]`` and noise variance ``C_W^2 Var[phi^2] / n``, so to first
    order in ``1/n`` (Roberts, Yaida & Hanin eq. 4.90 and sec. 5.1) ``V^{l+1} = chi_par(K^l)^2 V^l + C_W^2
    (E[phi^4] - E[phi^2]^2)`` with ``chi_par = F'`` and ``V^1 = 0``; the mean runs on the infinite-width flow.
    ``E[s^2] / E[s]^2 = (1 + 2/n)(1 + V^L / (n K^2))`` to this order. For a scale-invariant phi at criticality
    ``V^l / (n K^2) = c (l - 1) / n``. Uses the quadratures of :mod:`lmtheory.theory.meanfield`.

    >>> v = vertex_trajectory(1.0, depth=4, width=100, activation="relu", sigma_w=np.sqrt(2))
    >>> np.round(v, 10).tolist()                                          # 5 (l - 1) / n
    [0.0, 0.05, 0.1, 0.15]
    """
    _validate.positive("k1", k1)
    _validate.positive("depth", depth, integer=True)
    _validate.positive("width", width, integer=True)
    m, v, out = float(k1), 0.0, [0.0]
    for _ in range(depth - 1):
        f0, d1, _, g = meanfield._q_derivatives(m, sigma_w, sigma_b, activation)  # F, F', F'', C_W^2 Var[phi^2]
        m, v = f0, d1**2 * v + g
        out.append(v / (width * m * m))
    return np.array(out)


def ntk_change_exponent(variable: str = "width", activation: str = "smooth") -> float:
    """Exponent ``p`` in ``||Theta_T - Theta_0||_F / ||Theta_0||_F ~ variable^p`` for a deep MLP trained a fixed time.

    NTK parameterization, ``depth`` L weight matrices of equal width ``n``, gradient descent for a fixed number of
    steps at a fixed function-space rate (``lr`` times the NTK held fixed). To first order in ``1/n`` the change
    of the empirical NTK is ``dNTK . (theta_T - theta_0)`` plus the same order from the ddNTK; both are ``O(L/n)``
    relative to ``Theta`` (Roberts, Yaida & Hanin 2022, ch. 11; Hanin & Nica 2019, arXiv:1909.05989;
    Dyer & Gur-Ari 2019, arXiv:1909.11304), so

    * ``variable="width"`` (fixed L, ``activation="smooth"``, e.g. erf): ``-1``, with relative corrections
      ``O(L/n)`` for the root-mean-square change (an expectation of a polynomial in the kernel change);
    * ``variable="depth"`` (fixed ``n``, ``L << n``, at criticality): ``+1``, to leading order in ``1/L`` only;
    * ``variable="width"``, ``activation="relu"``: ``-3/4`` (heuristic): a fraction ``O(n^-1/2)`` of the units
      cross the kink during training, each changing its term of the kernel by ``O(1)`` with a random sign.

    Dimensionless. Asymptotic in ``n`` (and, for ``"depth"``, in ``L``).

    >>> ntk_change_exponent("width"), ntk_change_exponent("depth"), ntk_change_exponent("width", "relu")
    (-1.0, 1.0, -0.75)
    """
    _validate.one_of("variable", variable, {"width", "depth"})
    _validate.one_of("activation", activation, {"smooth", "relu"})
    if activation == "relu":
        if variable == "depth":
            raise ValueError("no depth exponent is predicted for ReLU (activation='relu' with variable='depth')")
        return -0.75
    return -1.0 if variable == "width" else 1.0
