"""Implicit bias of diagonal linear networks (Woodworth et al. 2020; Pesme & Flammarion 2023).

Set-up and units. A diagonal linear network predicts ``f(x) = <beta, x>`` with ``beta = u*u - v*v``
(element-wise), starts from ``u = v = alpha * 1`` (so ``beta(0) = 0``) and is trained by gradient flow on
``L(beta) = ||X beta - y||^2 / (2 n)`` for ``n`` samples ``X`` (n x d, n < d). Time ``t`` is gradient-flow
time, ``t = lr * steps`` for gradient descent.

* The flow keeps ``u v = alpha^2`` and ``ln(u/v)`` in the row space of ``X``, so its limit is the interpolant
  minimising the *hypentropy potential* ``Q_alpha(beta) = sum_i alpha^2 q(beta_i / alpha^2)``,
  ``q(z) = 2 - sqrt(4 + z^2) + z arcsinh(z/2)`` (Woodworth et al. 2020, Theorem 1): it tends to the
  minimum-l1 interpolant as ``alpha -> 0`` and to the minimum-l2 one as ``alpha -> infinity``.
* As ``alpha -> 0``, in accelerated time ``tau = t / ln(1/alpha)`` the flow jumps between saddles
  (Pesme & Flammarion 2023, Algorithm 1); :func:`saddle_sequence` computes the jump times and saddles.

Everything here is numerical linear algebra or convex optimisation (scipy), independent of any training code.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from lmtheory import _validate


def hypentropy(z):
    """The scalar potential ``q(z) = 2 - sqrt(4 + z^2) + z arcsinh(z/2)``; ``q'(z) = arcsinh(z/2)``.

    ``q(0) = q'(0) = 0``; ``q(z) ~ z^2/4`` for small ``|z|`` and ``~ |z| (ln|z| - 1)`` for large ``|z|``.

    >>> float(hypentropy(0.0))
    0.0
    >>> round(float(hypentropy(1e-3) / (1e-3**2 / 4)), 6)
    1.0
    """
    z = _validate.finite_array("z", z)
    return 2.0 - np.sqrt(4.0 + z**2) + z * np.arcsinh(z / 2.0)


def potential(beta, *, init_scale: float):
    """``Q_alpha(beta) = sum_i alpha^2 q(beta_i / alpha^2)`` (sum over the last axis), ``alpha = init_scale``.

    Its gradient is ``arcsinh(beta / (2 alpha^2))``. Units: those of ``beta``, times a logarithm.

    >>> round(float(potential(np.array([1e-3, -2e-3]), init_scale=1.0) / (5e-6 / 4)), 6)
    1.0
    """
    a2 = _validate.positive("init_scale", init_scale) ** 2
    return np.sum(a2 * hypentropy(_validate.finite_array("beta", beta) / a2), axis=-1)


def _check_xy(x, y):
    x, y = _validate.finite_array("x", x), _validate.finite_array("y", y)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"x must be (n, d) and y (n,), got x {x.shape} and y {y.shape}")
    if x.shape[0] >= x.shape[1]:
        raise ValueError(f"the problem must be underdetermined (n < d), got x of shape {x.shape}")
    return x, y


def min_l2_interpolant(x, y):
    """Minimum-l2-norm solution of ``X beta = y``: ``beta = X^T (X X^T)^{-1} y`` (the pseudo-inverse).

    >>> min_l2_interpolant(np.array([[1.0, 1.0]]), np.array([2.0])).tolist()
    [1.0, 1.0]
    """
    x, y = _check_xy(x, y)
    return x.T @ np.linalg.solve(x @ x.T, y)


def min_l1_interpolant(x, y):
    """Minimum-l1-norm solution of ``X beta = y`` by linear programming (scipy ``linprog``, HiGHS).

    Writes ``beta = p - m`` with ``p, m >= 0`` and minimises ``sum(p + m)`` subject to ``X (p - m) = y``.

    >>> min_l1_interpolant(np.array([[1.0, 2.0]]), np.array([2.0])).round(9).tolist()
    [0.0, 1.0]
    """
    x, y = _check_xy(x, y)
    d = x.shape[1]
    res = optimize.linprog(np.ones(2 * d), A_eq=np.hstack([x, -x]), b_eq=y, bounds=(0, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    return res.x[:d] - res.x[d:]


def potential_interpolant(x, y, *, init_scale: float):
    """The interpolant minimising ``Q_alpha`` (the gradient-flow limit from ``u = v = alpha``).

    ``init_scale`` may also be an array with one ``alpha_i`` per coordinate (potential
    ``sum_i alpha_i^2 q(beta_i / alpha_i^2)``, e.g. the effective scales of gradient descent).
    Solved through the convex dual: ``beta = 2 alpha^2 sinh(X^T mu)`` where ``mu`` minimises
    ``D(mu) = 2 alpha^2 sum_i (cosh((X^T mu)_i) - 1) - y . mu`` (scipy ``trust-exact`` with exact Hessian);
    stationarity of ``D`` is ``X beta = y`` and ``grad Q(beta) = arcsinh(beta / 2 alpha^2) = X^T mu``.

    >>> x, y = np.array([[1.0, 2.0]]), np.array([2.0])
    >>> bool(np.allclose(potential_interpolant(x, y, init_scale=1e3), min_l2_interpolant(x, y), atol=1e-6))
    True
    """
    x, y = _check_xy(x, y)
    a2 = _validate.positive_array("init_scale", init_scale) ** 2
    if a2.ndim > 1 or a2.size not in (1, x.shape[1]):
        raise ValueError(f"init_scale must be a number or one value per coordinate ({x.shape[1]}), "
                         f"got shape {a2.shape}")
    c = 2 * a2.max() + 1.0              # solve for nu = c mu: O(1) for alpha -> 0 and for alpha -> infinity
    scale = np.abs(y).max() + 1.0       # and divide D by a constant so that its values stay O(1)

    def dual(nu):                       # c D(nu / c) / scale, its gradient and Hessian in nu
        z = x.T @ nu / c
        val = (np.sum(4 * a2 * np.sinh(z / 2) ** 2) * c - y @ nu) / scale     # cosh z - 1 = 2 sinh^2(z/2)
        return val, (x @ (2 * a2 * np.sinh(z)) - y) / scale, (x * (2 * a2 * np.cosh(z))) @ x.T / (c * scale)

    nu0 = c * np.linalg.solve(x @ x.T, y) / (2 * a2.mean())            # the lazy (alpha -> inf) solution
    nu0 *= min(1.0, c * np.log1p(np.abs(y).max() / a2.min()) / max(np.abs(x.T @ nu0).max(), 1e-300))
    res = optimize.minimize(lambda m: dual(m)[0], nu0, jac=lambda m: dual(m)[1], hess=lambda m: dual(m)[2],
                            method="trust-exact", options={"gtol": 1e-12, "maxiter": 2000})
    nu = _newton_polish(lambda m: dual(m)[1:], res.x)   # the trust region can stall at ~1e-7 from rounding
    beta = 2 * a2 * np.sinh(x.T @ nu / c)
    if not np.allclose(x @ beta, y, rtol=1e-6, atol=1e-8 * scale):
        raise RuntimeError(f"dual solve did not converge ({res.message})")
    return beta


def relative_test_error(x, y, beta_star, *, init_scale: float):
    """Relative excess test error ``||beta_Q - beta*||^2 / ||beta*||^2`` of the gradient-flow limit.

    ``beta_Q`` is :func:`potential_interpolant` of ``(x, y)`` at ``alpha = init_scale``, the interpolant that
    gradient flow from ``u = v = alpha`` converges to. For test inputs with identity covariance the excess test
    error of a linear predictor is ``E_x <beta - beta*, x>^2 = ||beta - beta*||^2``; dividing by ``||beta*||^2``
    makes it dimensionless (0: the teacher is recovered; 1: no better than predicting 0).

    >>> x, y = np.array([[1.0, 2.0]]), np.array([2.0])
    >>> round(float(relative_test_error(x, y, np.array([0.0, 1.0]), init_scale=1e3)), 6)   # l2 solution (0.4, 0.8)
    0.2
    """
    b = _validate.finite_array("beta_star", beta_star)
    norm2 = float(b @ b) if b.ndim == 1 else 0.0
    if not norm2 > 0:
        raise ValueError("beta_star must be a non-zero vector")
    return float(np.sum((potential_interpolant(x, y, init_scale=init_scale) - b) ** 2) / norm2)


def l2_test_error(*, n_samples: int, dim: int):
    """Mean relative test error ``E ||beta_l2 - beta*||^2 / ||beta*||^2 = 1 - n/d`` of the min-l2 interpolant.

    For a Gaussian design (``X_ij`` i.i.d. ``N(0, 1)``, ``n < d``) and any teacher independent of ``X``, the
    min-l2 interpolant of ``y = X beta*`` is the orthogonal projection of ``beta*`` onto the row space of ``X``, a
    uniformly random ``n``-dimensional subspace; the squared fraction of ``beta*`` left outside it is
    ``Beta((d - n)/2, n/2)``-distributed with mean ``1 - n/d`` (exact). It is the relative excess test error of
    the lazy (``alpha -> infinity``) network, as in :func:`relative_test_error`.

    >>> l2_test_error(n_samples=20, dim=40)
    0.5
    """
    n = _validate.positive("n_samples", n_samples, integer=True)
    d = _validate.positive("dim", dim, integer=True)
    if not n < d:
        raise ValueError(f"n_samples must be below dim (an underdetermined problem), got {n} and {d}")
    return 1.0 - n / d


def _newton_polish(grad_hess, nu, *, steps: int = 8):
    """A few plain Newton steps on a convex problem's stationarity equation, kept while the gradient shrinks.

    Trust-region methods compare function values, which rounding makes unreliable near the optimum; Newton's
    iteration needs only the gradient and converges quadratically from a point already close to the optimum.
    """
    g, h = grad_hess(nu)
    for _ in range(steps):
        trial = nu - np.linalg.lstsq(h, g, rcond=None)[0]        # H may be numerically singular (alpha -> 0)
        g_new, h_new = grad_hess(trial)
        if not np.linalg.norm(g_new) < np.linalg.norm(g):
            break
        nu, g, h = trial, g_new, h_new
    return nu


def first_coordinate(x, y):
    """The coordinate that leaves the origin first and its one-dimensional target: ``(i, b)``.

    ``i = argmax |g|`` with ``g = X^T y / n`` (minus the gradient of L at ``beta = 0``) and
    ``b = g_i / H_ii`` with ``H = X^T X / n``: the minimiser of L along coordinate ``i`` alone.

    >>> first_coordinate(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), np.array([2.0, 0.5]))
    (0, 2.0)
    """
    x, y = _check_xy(x, y)
    g = x.T @ y / x.shape[0]
    i = int(np.argmax(np.abs(g)))
    return i, float(g[i] / (x[:, i] @ x[:, i] / x.shape[0]))


def escape_time(x, y, *, init_scale: float):
    """Gradient-flow time for the first coordinate to leave the origin's plateau, ``alpha -> 0`` asymptotics.

    With ``g = X^T y / n`` (minus the gradient at ``beta = 0``), the strongest coordinate grows as
    ``beta_i ~ alpha^2 e^{4 |g_i| t}`` and towards its one-dimensional optimum ``b = g_i / H_ii``
    (``H = X^T X / n``) along a logistic curve, reaching ``b/2`` at

        ``t_1 = ln(|b| / alpha^2 - 1) / (4 ||g||_inf)``,  so  ``dt_1 / d ln(1/alpha) = 1 / (2 ||g||_inf)``.

    >>> x = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]); y = np.array([2.0, 0.5])
    >>> round(float(escape_time(x, y, init_scale=1e-3)), 4) == round(float(np.log(2e6 - 1) / 4), 4)
    True
    """
    a2 = _validate.positive("init_scale", init_scale) ** 2
    i, b = first_coordinate(x, y)
    g = np.asarray(x, float)[:, i] @ np.asarray(y, float) / len(y)
    if abs(b) <= a2:
        raise ValueError("init_scale is too large for a plateau: alpha^2 must be below the first coordinate")
    return np.log(abs(b) / a2 - 1.0) / (4.0 * abs(g))


def _saddle(x, y, s_tilde, tol):
    """Minimiser of L on the active set ``|s_tilde| = 1`` with sign(beta_i) = sign(s_tilde_i), zero elsewhere."""
    n, d = x.shape
    active = np.flatnonzero(np.abs(s_tilde) >= 1 - tol)
    beta = np.zeros(d)
    if active.size:
        signs = np.sign(s_tilde[active])
        b, _ = optimize.nnls(x[:, active] * signs, y, maxiter=50 * d)
        beta[active] = signs * b
    return beta


def saddle_sequence(x, y, *, max_jumps: int | None = None, tol: float = 1e-7):
    """Jump times and saddles of the ``alpha -> 0`` limit of the flow (Pesme & Flammarion 2023, Alg. 1).

    In accelerated time ``tau = t / ln(1/alpha)`` write ``u = alpha e^{S}``, ``v = alpha e^{-S}``: then
    ``S~ = S / ln(1/alpha)`` obeys ``dS~/dtau = 2 g(beta)`` with ``g = X^T (y - X beta) / n``, and
    ``beta_i = 2 alpha^2 sinh(2 S_i)`` is negligible unless ``|S~_i| = 1``. Between jumps ``beta`` sits at a
    saddle (the loss minimised over the active set with the signs of ``S~``) and ``S~`` moves in straight
    lines; the next jump is the first time an inactive coordinate reaches ``|S~_i| = 1``.

    Returns ``(taus, betas)``: jump times in units of ``ln(1/alpha)`` (``taus[0] = 1 / (2 ||X^T y / n||_inf)``)
    and the saddles reached; ``betas[-1]`` is the minimum-l1 interpolant when ``n < d``.

    >>> x = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]); y = np.array([2.0, 0.5])
    >>> taus, betas = saddle_sequence(x, y)
    >>> taus.round(6).tolist(), betas[-1].round(6).tolist()
    ([0.5, 2.0], [2.0, 0.5, 0.0])
    """
    x, y = _check_xy(x, y)
    n, d = x.shape
    max_jumps = 4 * d if max_jumps is None else _validate.positive("max_jumps", max_jumps, integer=True)
    s_tilde, beta, tau = np.zeros(d), np.zeros(d), 0.0
    taus, betas = [], []
    scale = np.abs(x.T @ y).max() / n
    for _ in range(max_jumps):
        g = x.T @ (y - x @ beta) / n
        moving = (beta == 0) & (np.abs(g) > tol * scale)
        if not moving.any() or np.abs(g).max() <= tol * scale:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            hit = np.where(moving, (np.sign(g) - s_tilde) / (2 * g), np.inf)
        hit = np.where(hit > 0, hit, np.inf)
        k = int(np.argmin(hit))
        tau += hit[k]
        s_tilde = np.clip(s_tilde + 2 * g * hit[k] * moving, -1.0, 1.0)
        s_tilde[k] = np.sign(g[k])
        beta = _saddle(x, y, s_tilde, tol)
        taus.append(tau)
        betas.append(beta)
    return np.array(taus), np.array(betas)
