"""The teacher-student perceptron: Cover's capacity count and the order-parameter equations of online learning.

Set-up and units. A perceptron ``sigma = sign(J . x)`` on inputs ``x`` in ``N`` = ``dim`` dimensions.

*Capacity.* ``P`` = ``n_patterns`` points in general position (e.g. Gaussian) with independent, fair random labels
``y = +-1``. Cover's function counting theorem: the number of labelings realizable by a hyperplane through the
origin is ``C(P, N) = 2 sum_{k=0}^{N-1} binom(P-1, k)``, so the probability that a random labeling is linearly
separable is ``C(P, N) / 2^P = Prob[Binomial(P - 1, 1/2) <= N - 1]`` -- exact at every finite ``N``, equal to
1/2 at ``P = 2N``. The load is ``alpha = P / N``; Gardner's capacity ``alpha_c = 2`` is its ``N -> infinity``
limit.

*Online learning.* A teacher ``B`` labels Gaussian inputs ``x ~ N(0, I_N)`` by ``sign(B . x)``; a student ``J``,
started at ``J = 0``, sees one fresh example per step and moves by ``J <- J + F x / sqrt(N)`` with ``F = sign(B . x)``
(Hebb rule) or ``F = sign(B . x)`` only when the student errs, ``sign(J . x) != sign(B . x)`` (perceptron rule).
``alpha`` = examples / N. With the local fields ``u = B . x / |B|`` and ``h = J . x / sqrt(N)``, the order
parameters ``R = J . B / (sqrt(N) |B|)`` (written ``R~`` in the chapter) and ``Q = |J|^2 / N`` obey, as
``N -> infinity`` at fixed ``alpha`` (self-averaging),

    dR/dalpha = < F u >,        dQ/dalpha = < 2 F h + F^2 >,

averages over the jointly Gaussian fields with ``<u^2> = 1``, ``<h^2> = Q``, ``<u h> = R``. The normalized
overlap is ``rho = R / sqrt(Q)`` and the generalization error (probability of disagreeing with the teacher on a
fresh input) is ``eps = arccos(rho) / pi``, dimensionless.

References: T. M. Cover, IEEE Trans. Electron. Comput. EC-14, 326 (1965); E. Gardner, J. Phys. A 21, 257 (1988);
A. Engel and C. Van den Broeck, *Statistical Mechanics of Learning* (Cambridge, 2001), ch. 9 (online learning);
D. Saad and S. A. Solla, Phys. Rev. E 52, 4225 (1995).
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, special, stats

from lmtheory import _validate

_SQRT_2PI = np.sqrt(2 * np.pi)
RULES = ("hebb", "perceptron")


def _counts(name, value):
    """``value`` as an int64 array of positive integers, else ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a positive integer (or an array of them), got {value!r}")
    arr = _validate.finite_array(name, value)
    if arr.size == 0 or np.any(arr < 1) or np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must be a positive integer (or an array of them), got {value!r}")
    return arr.astype(np.int64)


def separable_probability(n_patterns, *, dim: int):
    """Cover's probability that ``P`` random points in general position in ``N`` dimensions, with fair random
    labels, are separable by a hyperplane through the origin.

    ``C(P, N) / 2^P`` with ``C(P, N) = 2 sum_{k=0}^{N-1} binom(P-1, k)``, i.e. ``Prob[Binomial(P-1, 1/2) <= N-1]``.
    Exact at finite ``N``; 1 for ``P <= N``; 1/2 at ``P = 2N``. Dimensionless. Cover (1965), Theorem 1.

    >>> round(float(separable_probability(50, dim=25)), 6)
    0.5
    >>> separable_probability(np.array([3, 4, 6]), dim=3).tolist()
    [1.0, 0.875, 0.5]
    """
    n = _validate.positive("dim", dim, integer=True)
    p = _counts("n_patterns", n_patterns)
    out = stats.binom.cdf(n - 1, p - 1, 0.5)
    return out if out.ndim else float(out)


def expected_capacity(*, dim: int, max_patterns: int | None = None) -> float:
    """Mean number of points that stay separable when random points with random labels are added one at a time.

    ``P_c`` is the largest ``P`` for which the first ``P`` points are separable, so ``Prob[P_c >= P] =
    C(P, N)/2^P`` and ``E[P_c] = sum_{P >= 1} C(P, N)/2^P = sum_{k<N} sum_{m>=0} binom(m, k) 2^-m = 2N``
    exactly, at every ``N``. With ``max_patterns`` the sum stops there (the mean of ``min(P_c, max_patterns)``).
    In units of points; divide by ``N`` for the load. Cover (1965).

    >>> expected_capacity(dim=25)
    50.0
    >>> round(expected_capacity(dim=25, max_patterns=100), 6)
    50.0
    """
    n = _validate.positive("dim", dim, integer=True)
    if max_patterns is None:
        return 2.0 * n
    top = int(_validate.positive("max_patterns", max_patterns, integer=True))
    return float(np.sum(separable_probability(np.arange(1, top + 1), dim=n)))


def capacity_std(*, dim: int) -> float:
    """Standard deviation of ``P_c`` (see :func:`expected_capacity`): ``sqrt(2N)``, exactly.

    ``Prob[P_c >= P] = Prob[Binomial(P - 1, 1/2) <= N - 1]`` says that ``P_c`` is distributed as the toss at which a
    fair coin shows its ``N``-th head: a sum of ``N`` independent geometric variables of mean 2 and variance 2
    (a negative binomial law). So ``E[P_c] = 2N`` and ``Var[P_c] = 2N``; the width of the transition in
    ``alpha = P/N`` shrinks like ``sqrt(2/N)``: a sharp threshold only as ``N -> infinity``. Units of points.
    Follows from Cover (1965), Theorem 1.

    >>> round(capacity_std(dim=25), 6)
    7.071068
    """
    return float(np.sqrt(2.0 * _validate.positive("dim", dim, integer=True)))


def capacity_pmf(n_patterns, *, dim: int):
    """``Prob[P_c = P]`` (see :func:`capacity_std`): ``binom(P - 1, N - 1) / 2^P`` for ``P >= N``, else 0.

    The probability that separability is lost exactly at point ``P + 1``. Dimensionless. Cover (1965).

    >>> round(float(capacity_pmf(50, dim=25)), 6)
    0.056138
    """
    n = _validate.positive("dim", dim, integer=True)
    p = _counts("n_patterns", n_patterns)
    out = stats.nbinom.pmf(p - n, n, 0.5)
    return out if out.ndim else float(out)


def gardner_capacity(margin: float = 0.0) -> float:
    """Gardner's capacity ``alpha_c(kappa) = 1 / int_{-kappa}^inf Dt (t + kappa)^2`` for stability ``kappa``.

    The integral is ``(1 + kappa^2) Phi(kappa) + kappa phi(kappa)``; ``alpha_c(0) = 2``, the ``N -> infinity``
    limit of Cover's count. ``margin`` = ``kappa`` >= 0, in units of ``|x|/sqrt(N)`` for ``|J| = sqrt(N)``.
    Gardner (1988); the replica-symmetric result, exact for the spherical perceptron.

    >>> gardner_capacity(0.0)
    2.0
    """
    k = float(_validate.nonnegative("margin", margin))
    return float(1.0 / ((1 + k**2) * special.ndtr(k) + k * np.exp(-k**2 / 2) / _SQRT_2PI))


def hebb_overlap(alpha):
    """Normalized teacher-student overlap of the online Hebb rule: ``rho = sqrt(2/pi) alpha / sqrt(alpha +
    2 alpha^2 / pi)``.

    From ``J . B / |B| = sum_mu |u_mu| / sqrt(N)`` (mean ``sqrt(2/pi) alpha sqrt(N)``) and ``|J|^2 / N = alpha +
    (2/pi) alpha^2`` as ``N -> infinity``. Dimensionless. Engel & Van den Broeck (2001), ch. 9.

    >>> round(float(hebb_overlap(1.0)), 6)
    0.623686
    """
    a = _validate.positive_array("alpha", alpha)
    out = np.sqrt(2 / np.pi) * a / np.sqrt(a + 2 * a**2 / np.pi)
    return out if out.ndim else float(out)


def hebb_error(alpha):
    """Generalization error of the online (equivalently, batch) Hebb rule: ``arccos(rho_Hebb(alpha)) / pi``;
    ``~ 1 / sqrt(2 pi alpha)`` for large ``alpha``. Asymptotically exact as ``N -> infinity``. Engel & Van den
    Broeck (2001), ch. 3 and 9.

    >>> round(float(hebb_error(1.0)), 6)
    0.285634
    """
    out = np.arccos(hebb_overlap(alpha)) / np.pi
    return out if np.ndim(out) else float(out)


def _rhs(rule):
    def rhs(_, y):
        r, q = y
        rho = np.clip(r / np.sqrt(q), -1.0, 1.0)
        if rule == "hebb":                      # F = sign(u): <Fu> = sqrt(2/pi), <Fh> = R sqrt(2/pi), <F^2> = 1
            return [np.sqrt(2 / np.pi), 2 * r * np.sqrt(2 / np.pi) + 1.0]
        eps = np.arccos(rho) / np.pi            # F = sign(u) Theta(-u h): <Fu> = (1 - rho)/sqrt(2 pi),
        return [(1 - rho) / _SQRT_2PI, -2 * np.sqrt(q) * (1 - rho) / _SQRT_2PI + eps]   # <Fh> = -sqrt(Q)(1-rho)/..
    return rhs


def online_order_parameters(alpha, *, rule: str = "perceptron"):
    """``(R, Q)`` of online learning at loads ``alpha`` (see the module docstring), by integrating
    ``dR/dalpha = <F u>``, ``dQ/dalpha = <2 F h + F^2>`` from ``J = 0`` (``scipy.integrate.solve_ivp``).

    Perceptron rule ``F = sign(u) Theta(-u h)``: ``dR/dalpha = (1 - rho)/sqrt(2 pi)``, ``dQ/dalpha =
    -2 sqrt(Q) (1 - rho)/sqrt(2 pi) + arccos(rho)/pi``. Hebb rule: ``R = sqrt(2/pi) alpha``, ``Q = alpha + 2
    alpha^2/pi``. Asymptotically exact as ``N -> infinity``. Engel & Van den Broeck (2001), ch. 9.

    >>> r, q = online_order_parameters(np.array([1.0, 4.0]), rule="hebb")
    >>> np.round(r, 6).tolist(), np.round(q, 6).tolist()
    ([0.797885, 3.191538], [1.63662, 14.185916])
    """
    a = np.atleast_1d(_validate.positive_array("alpha", alpha))
    _validate.one_of("rule", rule, RULES)
    a0 = 1e-9 * min(1.0, float(a.min()))        # start just after J = 0: R ~ alpha/sqrt(2 pi), Q ~ alpha/2
    y0 = [a0 * np.sqrt(2 / np.pi), a0] if rule == "hebb" else [a0 / _SQRT_2PI, a0 / 2]
    order = np.argsort(a)
    sol = integrate.solve_ivp(_rhs(rule), (a0, float(a.max())), y0, t_eval=a[order], method="LSODA",
                              rtol=1e-10, atol=1e-12)
    out = np.empty((2, a.size))
    out[:, order] = sol.y
    shape = np.shape(alpha)
    return out[0].reshape(shape), out[1].reshape(shape)


def online_error(alpha, *, rule: str = "perceptron"):
    """Generalization error ``arccos(R / sqrt(Q)) / pi`` of online learning from :func:`online_order_parameters`.

    Perceptron rule: ``eps ~ (2 / (3 pi^3))^(1/3) alpha^(-1/3)`` as ``alpha -> infinity``
    (:func:`perceptron_rule_asymptote`), slower than Hebb's ``alpha^(-1/2)``. Dimensionless. Engel & Van den
    Broeck (2001), ch. 9.

    >>> round(float(online_error(1.0, rule="hebb")), 6) == round(float(hebb_error(1.0)), 6)
    True
    """
    r, q = online_order_parameters(alpha, rule=rule)
    out = np.arccos(np.clip(r / np.sqrt(q), -1.0, 1.0)) / np.pi
    return out if out.ndim else float(out)


def perceptron_rule_asymptote(alpha):
    """Large-``alpha`` law of the online perceptron rule: ``eps ~ (2 / (3 pi^3))^(1/3) alpha^(-1/3)``.

    From the ODEs of :func:`online_order_parameters`: the overlap equation forces ``sqrt(Q) eps -> 1/(pi sqrt(2
    pi))``; then ``dQ/dalpha = eps/2`` gives ``eps^-3 = 3 pi^3 alpha / 2``. Asymptotic. Engel & Van den Broeck
    (2001), ch. 9.

    >>> round(float(perceptron_rule_asymptote(1000.0)), 6)
    0.027807
    """
    a = _validate.positive_array("alpha", alpha)
    out = (2 / (3 * np.pi**3)) ** (1 / 3) * a ** (-1 / 3)
    return out if out.ndim else float(out)
