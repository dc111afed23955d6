"""Exact learning dynamics of deep linear networks (Saxe, McClelland & Ganguli 2014).

Set-up and units. A linear network ``f(x) = W_L ... W_1 x`` is trained on the loss
``L = 1/(2P) sum_mu ||y_mu - f(x_mu)||^2`` with whitened inputs (``Sigma_xx = I``). Write the input-output
correlation as ``Sigma_yx = sum_a s_a u_a v_a^T`` (SVD). Time ``t`` is gradient-flow time: ``t = lr * steps``
for gradient descent with learning rate ``lr``. The *mode strength* ``u_a(t) = u_a^T W_L...W_1 v_a``.

For two layers from a small, balanced, aligned initialisation every mode obeys the logistic equation
``du/dt = 2 u (s - u)`` on its own (the modes decouple), whose solution is
``u(t) = s / (1 + (s/u0 - 1) exp(-2 s t))``.

Reference: A. M. Saxe, J. L. McClelland, S. Ganguli, arXiv:1312.6120 (2014), eqs. (5)-(8).
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, special

from lmtheory import _validate


def mode_trajectory(time, *, strength: float, init: float):
    """Strength ``u(t) = s / (1 + (s/u0 - 1) e^{-2 s t})`` of one mode of a 2-layer linear network.

    Exact solution of gradient flow ``du/dt = 2u(s - u)`` from a balanced aligned start ``u(0) = u0``.
    ``time`` is in units of lr x steps; ``strength`` ``s`` and ``init`` ``u0`` in output units.

    >>> round(float(mode_trajectory(0.0, strength=2.0, init=1e-3)), 6)
    0.001
    >>> round(float(mode_trajectory(50.0, strength=2.0, init=1e-3)), 6)
    2.0
    """
    s = _validate.positive("strength", strength)
    u0 = _validate.positive("init", init)
    t = _validate.finite_array("time", time, allow_inf=True)     # time = inf: the final strength s
    return s / (1.0 + (s / u0 - 1.0) * np.exp(-2.0 * s * t))


def half_time(*, strength, init):
    """Time at which a mode reaches half its final strength: ``t_1/2 = ln(s/u0 - 1) / (2 s)``.

    Requires ``u0 < s/2``. Units: lr x steps. Vectorised over arrays of strengths.

    >>> t = half_time(strength=2.0, init=1e-3)
    >>> bool(np.isclose(mode_trajectory(t, strength=2.0, init=1e-3), 1.0))
    True
    """
    s = _validate.positive_array("strength", strength)
    u0 = _validate.positive_array("init", init)
    if np.any(u0 >= s / 2):
        raise ValueError("init must be below strength/2 for the mode to have a half-time")
    return np.log(s / u0 - 1.0) / (2.0 * s)


def rise_time(*, strength, low: float = 0.1, high: float = 0.9):
    """Time to go from ``low*s`` to ``high*s``: ``[logit(high) - logit(low)] / (2 s)``, independent of ``u0``.

    For the default 10%-90% rise this is ``ln(81) / (2 s) = ln(9) / s``: the sigmoid's width shrinks as 1/s.

    >>> round(float(rise_time(strength=1.0)), 6) == round(float(np.log(9.0)), 6)
    True
    """
    s = _validate.positive_array("strength", strength)
    _validate.fraction("low", low)
    _validate.fraction("high", high)
    if not low < high:
        raise ValueError(f"low must be < high, got low={low}, high={high}")
    return (special.logit(high) - special.logit(low)) / (2.0 * s)


def discrete_rate(*, strength, lr: float):
    """Growth rate per unit time of a small mode under gradient descent: ``ln(1 + lr s) / lr``.

    In the early, linear phase a mode's hidden-layer vector grows by ``(1 + lr s)`` per step, i.e. at rate
    ``ln(1 + lr s)/lr = s (1 - lr s/2 + O(lr^2 s^2))`` per unit of time ``lr * steps``; gradient flow is
    ``lr -> 0``. Use it in place of ``s`` in growth-phase formulas to predict GD rather than the flow.

    >>> round(float(discrete_rate(strength=1.0, lr=1e-8)), 6)
    1.0
    """
    s = _validate.positive_array("strength", strength)
    _validate.positive("lr", lr)
    return np.log1p(lr * s) / lr


def expected_half_time(*, strength, init_scale: float, width: int, rank_above=0, lr: float | None = None):
    """Seed-averaged half-time of each mode from a small *random* Gaussian initialisation.

    Weights have i.i.d. ``N(0, init_scale^2)`` entries (``init_scale`` may be an array: it broadcasts); the hidden layer has ``width`` units. In the linear
    phase the hidden vectors ``a = W1 v`` and ``b = W2^T u`` of a mode evolve as ``d(a+b)/dt = s (a+b)``,
    ``d(a-b)/dt = -s (a-b)``, so the mode grows like ``u0_eff e^{2st}`` with ``u0_eff = ||a0 + b0||^2 / 4
    = init_scale^2 chi^2_k / 2``. Modes learned earlier (``rank_above`` of them, stronger) occupy that many
    hidden directions and remove the corresponding components, so ``k = width - rank_above``. Averaging
    ``ln(s/u0_eff)/(2s)`` with ``E[ln chi^2_k] = psi(k/2) + ln 2`` gives

        ``E[t_1/2] = [ln(s / init_scale^2) - psi((width - rank_above)/2)] / (2 s_eff)``,

    with ``s_eff = s`` for gradient flow or :func:`discrete_rate` for GD with learning rate ``lr``.
    Asymptotic: corrections are ``O(u0/s)`` (small init) and ``O(lr s)`` in the short nonlinear phase.

    >>> t = expected_half_time(strength=[2.0, 1.0], init_scale=1e-3, width=32, rank_above=[0, 1])
    >>> bool(t[0] < t[1])
    True
    """
    s = _validate.positive_array("strength", strength)
    sigma0 = _validate.positive_array("init_scale", init_scale)
    _validate.positive("width", width, integer=True)
    m = _validate.finite_array("rank_above", rank_above)
    if np.any(m < 0) or np.any(m >= width):
        raise ValueError(f"rank_above must lie in [0, width), got {rank_above!r}")
    rate = s if lr is None else discrete_rate(strength=s, lr=lr)
    return (np.log(s / sigma0**2) - special.digamma((width - m) / 2.0)) / (2.0 * rate)


def time_to_reach(level: float, *, strength: float, init: float, depth: int = 2):
    """Gradient-flow time for a mode of a depth-``depth`` balanced linear net to grow from ``init`` to ``level``.

    With ``depth`` weight matrices and a balanced aligned start, ``du/dt = depth * u^(2 - 2/depth) (s - u)``
    (Saxe et al. 2014, sec. 4). The time is ``int_{u0}^{level} du / [depth u^(2-2/depth) (s - u)]``,
    computed by adaptive quadrature. For ``depth = 2`` it reduces to the logistic solution.

    >>> t = time_to_reach(1.0, strength=2.0, init=1e-3, depth=2)
    >>> bool(np.isclose(t, half_time(strength=2.0, init=1e-3)))
    True
    """
    s = _validate.positive("strength", strength)
    u0 = _validate.positive("init", init)
    _validate.positive("depth", depth, integer=True)
    if depth < 2:
        raise ValueError(f"depth must be >= 2 weight matrices, got {depth}")
    if not u0 < level < s:
        raise ValueError(f"need init < level < strength, got init={u0}, level={level}, strength={s}")
    power = 2.0 - 2.0 / depth
    # substitute u = e^x for accuracy over many decades of u
    integrand = lambda x: np.exp(x) / (depth * np.exp(power * x) * (s - np.exp(x)))  # noqa: E731
    value, _ = integrate.quad(integrand, np.log(u0), np.log(level), limit=200, epsabs=0, epsrel=1e-10)
    return value
