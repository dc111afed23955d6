"""Silent alignment of the tangent kernel of a two-layer linear network (Atanasov, Bordelon & Pehlevan 2022).

Set-up and units. ``f(x) = w2 . W1 x`` with ``W1`` (width x dim) and ``w2`` (width), all entries i.i.d.
``N(0, init_scale^2)``, trained by gradient descent (learning rate ``lr``, time ``t = lr * steps``) on
``L = 1/(2n) sum_mu (y_mu - f(x_mu))^2`` with exactly whitened inputs (``X^T X / n = I``) and a linear teacher
``y = s v . x`` (``|v| = 1``, strength ``s``). The tangent kernel on the training set is ``K = X M X^T`` with
``M = W1^T W1 + |w2|^2 I``, and its alignment with the target is ``A = y^T K y / (||K||_F ||y||^2) =
v^T M v / ||M||_F``.

While the weights are small the dynamics are linear (the chapter on deep linear networks): ``a = W1 v`` and
``b = w2`` obey ``a + b -> (1 + lr s)(a + b)``, ``a - b -> (1 - lr s)(a - b)`` per step, while ``W1`` orthogonal
to ``v`` does not move. With ``|a0 +- b0|^2 ~ 2 N sigma^2`` this gives ``|a|^2 = |b|^2 = N sigma^2 c`` with

    ``c_k = [(1 + lr s)^(2k) + (1 - lr s)^(2k)] / 2``   (``-> cosh(2 s t)`` as ``lr -> 0``),

so ``v^T M v = 2 N sigma^2 c`` and ``M`` restricted to the ``dim - 1`` other directions is ``N sigma^2 (1 + c)``:

    ``A = 2c / sqrt(4 c^2 + (dim - 1)(1 + c)^2)``,

rising from ``1/sqrt(dim)`` to ``2/sqrt(dim + 3)`` on the time scale ``1/s`` -- whatever ``sigma`` and the width
-- while the loss only falls after ``t ~ ln(s/sigma^2)/(2s)``. Asymptotic: corrections are ``O(dim/width)``
(fluctuations of ``W1^T W1``) and ``O(width sigma^2 / s)`` (the plateau must outlast the alignment).

Reference: A. Atanasov, B. Bordelon, C. Pehlevan, ICLR 2022, arXiv:2111.00034, Sec. 3 and Fig. 2.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from lmtheory import _validate
from lmtheory.theory import linear_networks


def _growth(time, strength, lr):
    """``c(t)``: ``cosh(2 s t)`` for gradient flow, ``[(1 + lr s)^(2k) + (1 - lr s)^(2k)]/2`` with ``k = t/lr``."""
    t = _validate.finite_array("time", time, allow_inf=True)    # time = inf: the aligned limit 2/sqrt(dim + 3)
    if np.any(t < 0):
        raise ValueError("time must be >= 0")
    if lr is None:
        return np.cosh(2 * strength * t)
    _validate.positive("lr", lr)
    if lr * strength >= 1:
        raise ValueError(f"need lr * strength < 1 for monotone linear-phase dynamics, got {lr * strength}")
    k = t / lr
    return 0.5 * ((1 + lr * strength) ** (2 * k) + (1 - lr * strength) ** (2 * k))


def alignment_limits(dim: int):
    """Initial and final kernel-target alignment, ``(1/sqrt(dim), 2/sqrt(dim + 3))``.

    At initialization ``M ~ 2 N sigma^2 I`` (isotropic); after alignment ``M ~ |b|^2 (I + v v^T)``.

    >>> [round(a, 6) for a in alignment_limits(8)]
    [0.353553, 0.603023]
    """
    _validate.positive("dim", dim, integer=True)
    if dim < 2:
        raise ValueError(f"dim must be >= 2 (alignment is trivial in one dimension), got {dim}")
    return float(1.0 / np.sqrt(dim)), float(2.0 / np.sqrt(dim + 3.0))


def linear_alignment(time, *, strength: float, dim: int, lr: float | None = None):
    """Kernel-target alignment ``A(t) = 2c / sqrt(4c^2 + (dim - 1)(1 + c)^2)`` of a two-layer linear network.

    ``time`` in units of ``lr * steps`` (array allowed); ``strength`` ``s`` of the teacher; ``dim`` the input
    dimension; ``lr`` selects gradient descent (``None``: gradient flow). Valid from a small initialization,
    for ``width >> dim``, until the loss starts to fall (and it stays at ``2/sqrt(dim + 3)`` afterwards).

    >>> round(float(linear_alignment(0.0, strength=1.0, dim=8)), 6)       # 1/sqrt(8)
    0.353553
    >>> round(float(linear_alignment(20.0, strength=1.0, dim=8)), 6)      # 2/sqrt(11)
    0.603023
    """
    _validate.positive("strength", strength)
    alignment_limits(dim)
    with np.errstate(over="ignore"):
        r = 1.0 + 1.0 / _growth(time, strength, lr)          # (1 + c)/c, -> 1 as c -> infinity
    return 2.0 / np.sqrt(4.0 + (dim - 1.0) * r**2)


def alignment_time(*, strength: float, dim: int, fraction: float = 0.9, lr: float | None = None) -> float:
    """Time at which the alignment has completed ``fraction`` of its rise from ``1/sqrt(dim)`` to ``2/sqrt(dim+3)``.

    Solves ``A(t) = A_0 + fraction (A_inf - A_0)`` for :func:`linear_alignment`; the result is of order
    ``1/strength`` and independent of the initial scale and the width. Units: ``lr * steps``.

    >>> t = alignment_time(strength=1.0, dim=8)
    >>> a0, a1 = alignment_limits(8)
    >>> bool(np.isclose(linear_alignment(t, strength=1.0, dim=8), a0 + 0.9 * (a1 - a0)))
    True
    """
    _validate.fraction("fraction", fraction)
    a0, a1 = alignment_limits(dim)
    target = a0 + fraction * (a1 - a0)
    upper = 1.0 / strength
    while linear_alignment(upper, strength=strength, dim=dim, lr=lr) < target:
        upper *= 2.0
    return float(optimize.brentq(lambda t: linear_alignment(t, strength=strength, dim=dim, lr=lr) - target,
                                 0.0, upper, xtol=1e-12))


def loss_drop_time(*, strength: float, init_scale: float, width: int, drop: float = 0.1,
                   lr: float | None = None) -> float:
    """Seed-averaged time at which the loss has fallen by the fraction ``drop`` of its initial value.

    With ``L = (s - u)^2 / 2`` and the logistic mode ``u(t)`` of :mod:`lmtheory.theory.linear_networks`, the loss
    has fallen by ``drop`` when ``u = l s`` with ``l = 1 - sqrt(1 - drop)``; that happens ``logit(l)/(2 s_eff)``
    after the half-time, whose seed average is :func:`linear_networks.expected_half_time`:

        ``E[t_drop] = [ln(s / sigma^2) - psi(width/2) + ln(l / (1 - l))] / (2 s_eff)``.

    Asymptotic in a small initialization (``u0/s -> 0``). Units: ``lr * steps``.

    >>> t = loss_drop_time(strength=1.0, init_scale=1e-5, width=512)
    >>> bool(t > alignment_time(strength=1.0, dim=8))
    True
    """
    _validate.fraction("drop", drop)
    level = 1.0 - np.sqrt(1.0 - drop)
    rate = strength if lr is None else float(linear_networks.discrete_rate(strength=strength, lr=lr))
    half = linear_networks.expected_half_time(strength=strength, init_scale=init_scale, width=width, lr=lr)
    return float(np.asarray(half).ravel()[0] + np.log(level / (1.0 - level)) / (2.0 * rate))


def final_kernel_r2() -> float:
    """Fraction ``R^2`` of a trained network's output variance explained by kernel regression with its *final* kernel.

    If from some time ``t_1`` on (the end of the silent alignment) the tangent kernel only changes scale,
    ``Theta_t = g(t) Theta_T``, and the function is still ``f_{t_1} ~ 0``, gradient flow in function space gives
    ``f_t(x) = Theta_T(x, X) Theta_T^{-1} [I - exp(-G(t) Theta_T / n)] y`` with ``G = int g``, which tends to kernel
    regression with ``Theta_T`` whatever the history ``g``: ``R^2 = 1 - ||f_T - f_KR||^2 / ||f_T||^2 = 1`` on any
    test points, once training has converged (Atanasov, Bordelon & Pehlevan 2022, Sec. 3). Since ``Theta_t`` and
    ``Theta_T`` differ only by a scale for ``t >= t_1``, the same holds for kernel regression with the kernel at the
    *end of the plateau* ``t_1``: the silent-alignment claim proper. Asymptotic in a small initialization; a finite
    network's eigenvectors are not frozen exactly, and a chapter states the deficit it allows. Dimensionless.

    >>> final_kernel_r2()
    1.0
    """
    return 1.0
