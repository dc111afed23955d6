"""Infinite-width kernels of fully connected networks, and what a kernel predicts for training.

Conventions (shared by the chapters on linearization, silent alignment, NNGP and eigenlearning). Inputs are
arrays of shape ``(n, d)``, one row per point. A network of ``depth`` weight matrices in **NTK
parameterization** (Jacot et al. 2018; Lee et al. 2019, eq. 1) computes

    ``h^1 = sigma_w W^1 x / sqrt(d) + sigma_b b^1``,
    ``h^{l+1} = sigma_w W^{l+1} phi(h^l) / sqrt(N_l) + sigma_b b^{l+1}``,

with every entry of ``W^l, b^l`` i.i.d. ``N(0, 1)``, hidden widths ``N_l -> infinity`` and output ``f = h^depth``
(:class:`lmtheory.simulation.models.MLP` with ``parameterization="ntk"``: ``sigma_w = 1``, ``sigma_b = 0``). The
output is a Gaussian process with covariance ``Sigma^depth`` (the **NNGP kernel**), and gradient descent moves it
with the **neural tangent kernel** ``Theta^depth`` (the NTK), given by the recursions

    ``Sigma^1(x, x') = sigma_w^2 x.x'/d + sigma_b^2``,   ``Theta^1 = Sigma^1``,
    ``Sigma^{l+1} = sigma_w^2 E[phi(u) phi(v)] + sigma_b^2``,   ``Sigma_dot^{l+1} = sigma_w^2 E[phi'(u) phi'(v)]``,
    ``Theta^{l+1} = Theta^l Sigma_dot^{l+1} + Sigma^{l+1}``,

where ``(u, v)`` is Gaussian with the covariance ``Sigma^l`` of the pair ``(x, x')``; for ReLU the expectations
are the arc-cosine kernels of Cho & Saul (2009). Units: kernels carry the units of ``f^2``. What a kernel predicts
for training: :func:`linearized_gd` (GD steps) and :func:`kernel_flow_predictor` (flow or GD, ridge, prior).

References: A. Jacot, F. Gabriel, C. Hongler, arXiv:1806.07572 (2018), Thm. 1; J. Lee et al., arXiv:1902.06720
(2019), eqs. (1), (14)-(16); Y. Cho, L. Saul, NeurIPS 2009, eqs. (1)-(6); C. Williams, NeurIPS 1997 (erf).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np

from lmtheory import _validate
from lmtheory.theory import activations
# Kernels with an exactly known eigensystem live in their own module; re-exported for the chapters that use them.
from lmtheory.theory.exact_spectra import (  # noqa: F401
    circle_kernel, circle_spectrum, hypercube_eigenfunctions, hypercube_kernel, hypercube_spectrum,
)

ACTIVATIONS = activations.names(dual=True)  # those with closed-form Gaussian expectations (the recursions' "dual")


@dataclasses.dataclass(frozen=True)
class Network(Mapping):
    """One description of a fully connected random network, passed unchanged to theory and simulation.

    ``depth`` weight matrices, weight scale ``sigma_w`` and bias scale ``sigma_b`` (the parameterization of the
    module docstring: ``Var W_ij = sigma_w^2 / fan_in``, ``Var b_i = sigma_b^2``) and an activation of the
    registry (:mod:`lmtheory.theory.activations`). It unpacks as keyword arguments (``**net``) into the analytic
    kernels (:func:`nngp_kernel`, :func:`ntk_kernel`) and into the samplers of
    :mod:`lmtheory.simulation.random_networks` (which add the finite ``width``), so that a prediction and its
    simulation describe the same network by construction.

    >>> net = Network(depth=2, sigma_w=1.0, activation="relu")
    >>> x = np.array([[1.0, 0.0], [0.0, 1.0]]) * np.sqrt(2)
    >>> bool(np.allclose(nngp_kernel(x, **net), nngp_kernel(x, depth=2)))
    True
    """

    depth: int
    sigma_w: float = 1.0
    sigma_b: float = 0.0
    activation: str = "relu"

    def __post_init__(self):
        _validate.positive("depth", self.depth, integer=True)
        _validate.positive("sigma_w", self.sigma_w)
        _validate.nonnegative("sigma_b", self.sigma_b)
        activations.get(self.activation)

    def __getitem__(self, name):
        if name not in self.__dataclass_fields__:
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self):
        return iter(self.__dataclass_fields__)

    def __len__(self):
        return len(self.__dataclass_fields__)


def _points(name: str, x) -> np.ndarray:
    arr = _validate.finite_array(name, x)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be an array of shape (n, d) with n, d >= 1, got shape {arr.shape}")
    return arr


def _pair(x1, x2):
    a = _points("x1", x1)
    b = a if x2 is None else _points("x2", x2)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x1 and x2 must have the same input dimension, got {a.shape[1]} and {b.shape[1]}")
    return a, b


def arccos_kernel(x1, x2=None, *, order: int):
    """Arc-cosine kernel of Cho & Saul (2009): ``k_n(x, y) = ||x||^n ||y||^n J_n(theta) / pi``.

    ``theta`` is the angle between ``x`` and ``y``; ``J_0 = pi - theta``, ``J_1 = sin(theta) + (pi - theta)
    cos(theta)`` and ``J_2 = 3 sin(theta) cos(theta) + (pi - theta)(1 + 2 cos^2 theta)`` (Cho & Saul, eq. 6).
    Equivalently ``k_n(x, y) = 2 E_w[step(w.x) step(w.y) (w.x)^n (w.y)^n]`` for ``w ~ N(0, I)``, so
    ``E_w[ReLU(w.x) ReLU(w.y)] = k_1/2`` and ``E_w[step(w.x) step(w.y)] = k_0/2``. ``order`` is 0, 1 or 2.
    ``x1``: (n1, d), ``x2``: (n2, d) (default ``x1``); returns (n1, n2) in units of ``|x|^(2 order)``.

    >>> x = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> np.round(arccos_kernel(x, order=1), 6).tolist()            # k_1(x, x) = ||x||^2; orthogonal: ||x|| ||y|| / pi
    [[1.0, 0.63662], [0.63662, 4.0]]
    >>> np.round(arccos_kernel(x, order=0), 6).tolist()
    [[1.0, 0.5], [0.5, 1.0]]
    """
    _validate.one_of("order", order, {0, 1, 2})
    a, b = _pair(x1, x2)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    if np.any(na == 0) or np.any(nb == 0):
        raise ValueError("arccos_kernel needs non-zero input vectors (the angle is undefined at 0)")
    cos = np.clip((a @ b.T) / np.outer(na, nb), -1.0, 1.0)
    theta = np.arccos(cos)
    if order == 0:
        return (np.pi - theta) / np.pi
    if order == 1:
        return np.outer(na, nb) * (np.sin(theta) + (np.pi - theta) * cos) / np.pi
    j2 = 3 * np.sin(theta) * cos + (np.pi - theta) * (1 + 2 * cos**2)
    return np.outer(na, nb) ** 2 * j2 / np.pi


def gaussian_expectations(var1, cov, var2, *, activation: str = "relu"):
    """``(E[phi(u) phi(v)], E[phi'(u) phi'(v)])`` for a centred Gaussian pair with ``Var u = var1``, ``Var v =
    var2``, ``Cov(u, v) = cov`` (arrays broadcast): the "dual activation" of each layer of the recursions.

    The closed forms (ReLU: arc-cosine kernels of Cho & Saul 2009; erf: Williams 1997; linear) live with the
    activation registry, :func:`lmtheory.theory.activations.dual`.

    >>> [round(float(v), 6) for v in gaussian_expectations(1.0, 1.0, 1.0)]     # E[ReLU(u)^2] = 1/2, P(u > 0)
    [0.5, 0.5]
    """
    return activations.dual(var1, cov, var2, activation=activation)


def _check_net(depth, sigma_w, sigma_b, activation):
    _validate.positive("depth", depth, integer=True)
    _validate.positive("sigma_w", sigma_w)
    _validate.nonnegative("sigma_b", sigma_b)
    _validate.one_of("activation", activation, set(ACTIVATIONS))


def _recursion(x1, x2, depth, sigma_w, sigma_b, activation):
    """Run the layer recursion; returns (NNGP, NTK) on x1 x x2, both (n1, n2)."""
    a, b = _pair(x1, x2)
    _check_net(depth, sigma_w, sigma_b, activation)
    d, sw2, sb2 = a.shape[1], sigma_w**2, sigma_b**2
    q1, q2 = sw2 * np.sum(a * a, 1) / d + sb2, sw2 * np.sum(b * b, 1) / d + sb2     # Sigma^l(x, x) per point
    sigma = sw2 * (a @ b.T) / d + sb2
    theta = sigma.copy()
    for _ in range(depth - 1):
        e, e_dot = gaussian_expectations(q1[:, None], sigma, q2[None, :], activation=activation)
        sigma, theta = sw2 * e + sb2, theta * sw2 * e_dot + sw2 * e + sb2
        q1 = sw2 * gaussian_expectations(q1, q1, q1, activation=activation)[0] + sb2
        q2 = sw2 * gaussian_expectations(q2, q2, q2, activation=activation)[0] + sb2
    return sigma, theta


def nngp_kernel(x1, x2=None, *, depth: int, sigma_w: float = 1.0, sigma_b: float = 0.0,
                activation: str = "relu"):
    """NNGP kernel ``Sigma^depth(x1, x2)``: the covariance of the output of an infinitely wide random network.

    ``depth`` weight matrices (``depth = 1`` is the linear model ``sigma_w^2 x.x'/d + sigma_b^2``); see the
    module docstring for the recursion and the parameterization. ``x1``: (n1, d), ``x2``: (n2, d) (default
    ``x1``). Returns (n1, n2). Exact in the limit of infinite hidden widths (Lee et al. 2018, eq. 4).

    >>> x = np.array([[1.0, 0.0], [0.0, 1.0]]) * np.sqrt(2)       # |x|^2 / d = 1
    >>> np.round(nngp_kernel(x, depth=2), 6).tolist()              # E[ReLU(u)ReLU(v)] for unit variances
    [[0.5, 0.159155], [0.159155, 0.5]]
    """
    return _recursion(x1, x2, depth, sigma_w, sigma_b, activation)[0]


def ntk_kernel(x1, x2=None, *, depth: int, sigma_w: float = 1.0, sigma_b: float = 0.0,
               activation: str = "relu"):
    """Neural tangent kernel ``Theta^depth(x1, x2)`` of an infinitely wide network in NTK parameterization.

    ``Theta(x, x') = sum_p df(x)/dtheta_p df(x')/dtheta_p`` in the limit of infinite widths (Jacot et al.
    2018, Thm. 1), by the recursion of the module docstring. For two ReLU layers without biases and
    ``sigma_w = 1``: ``Theta(x, x') = (x.x'/d) k_0(x, x')/2 + k_1(x, x')/(2d)`` in terms of :func:`arccos_kernel`.
    ``x1``: (n1, d), ``x2``: (n2, d) (default ``x1``). Returns (n1, n2).

    >>> x = np.array([[1.0, 0.0], [0.0, 1.0]]) * np.sqrt(2)
    >>> np.round(ntk_kernel(x, depth=2), 6).tolist()               # diagonal: 1 * 1/2 + 1/2
    [[1.0, 0.159155], [0.159155, 1.0]]
    """
    return _recursion(x1, x2, depth, sigma_w, sigma_b, activation)[1]


def relu_ntk_fluctuation(x1, x2=None, *, sigma_w: float = 1.0):
    """Variance of one hidden unit's contribution to the empirical NTK of a two-layer ReLU net without biases.

    In NTK parameterization ``f = sigma_w/sqrt(N) sum_i v_i ReLU(u_i)``, ``u_i = sigma_w w_i.x/sqrt(d)``, the
    empirical NTK is an average of ``N`` i.i.d. terms ``xi_i = sigma_w^2 ReLU(u_i)ReLU(u_i') + sigma_w^4 v_i^2
    step(u_i) step(u_i') s`` with ``s = x.x'/d``, so ``N E[(Theta_0 - Theta)^2] = Var(xi)`` *exactly, at every
    width*. With ``E v^2 = 1``, ``E v^4 = 3`` and the arc-cosine kernels ``k_n`` (:func:`arccos_kernel`):

        ``E[xi^2] = sigma_w^8 k_2/(2 d^2) + 2 sigma_w^8 s k_1/(2d) + 3 sigma_w^8 s^2 k_0/2``,

    and ``Var(xi) = E[xi^2] - Theta^2`` with ``Theta`` = :func:`ntk_kernel` (depth 2). ``x1``: (n1, d), ``x2``:
    (n2, d) (default ``x1``). Returns (n1, n2) in units of kernel^2.

    >>> x = np.array([[1.0, 0.0], [0.0, 1.0]]) * np.sqrt(2)
    >>> np.round(relu_ntk_fluctuation(x), 6).tolist()          # diagonal: 3/2 + 1 + 3/2 - 1
    [[3.0, 0.22467], [0.22467, 3.0]]
    """
    a, b = _pair(x1, x2)
    _validate.positive("sigma_w", sigma_w)
    d, s = a.shape[1], (a @ b.T) / a.shape[1]
    k0, k1, k2 = (arccos_kernel(a, b, order=n) for n in (0, 1, 2))
    second = sigma_w**8 * (k2 / (2 * d**2) + s * k1 / d + 1.5 * s**2 * k0)
    return second - ntk_kernel(a, b, depth=2, sigma_w=sigma_w) ** 2


def _targets(y, n: int, name: str = "y") -> np.ndarray:
    arr = _validate.finite_array(name, y)
    if arr.ndim not in (1, 2) or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) or ({n}, k) to match the kernel, got {arr.shape}")
    return arr


def _kernels(k_train, k_test_train):
    k = _validate.finite_array("k_train", k_train)
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] == 0:
        raise ValueError(f"k_train must be a square (n, n) matrix, got shape {np.shape(k_train)}")
    ks = _validate.finite_array("k_test_train", k_test_train)
    if ks.ndim != 2 or ks.shape[1] != k.shape[0]:
        raise ValueError(f"k_test_train must have shape (m, {k.shape[0]}), got {ks.shape}")
    return k, ks


def kernel_regression(k_train, k_test_train, y, ridge: float = 0.0):
    """Kernel (ridge) regression predictor ``f(x*) = K(x*, X) (K(X, X) + ridge I)^{-1} y``.

    With ``ridge = 0`` the pseudo-inverse is used: the minimum-RKHS-norm interpolant, which is also where
    gradient descent on a linearized model started at ``f = 0`` ends (Jacot et al. 2018, Sec. 5; Lee et al.
    2019, eq. 9). ``k_train``: (n, n); ``k_test_train``: (m, n); ``y``: (n,) or (n, k); ``ridge`` >= 0 in
    the units of the kernel. Returns (m,) or (m, k). Pure linear algebra (no training).

    >>> k = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> kernel_regression(k, k, np.array([1.0, -1.0])).tolist()           # interpolates the training data
    [1.0, -1.0]
    """
    return kernel_flow_predictor(k_train, k_test_train, y, ridge=ridge)     # time = inf (eigenvalue cut as lstsq)


def gd_mode_factors(eigenvalues, *, lr: float, steps, n_train: int):
    """Factor ``(1 - lr lambda_i / n)^steps`` by which GD on ``L = 1/(2n) sum (f - y)^2`` shrinks the residual
    along each eigenvector of a *constant* kernel with eigenvalue ``lambda_i`` (its continuous-time limit is
    ``exp(-lambda_i t / n)``, ``t = lr * steps``). ``steps`` may be an array (it broadcasts against the
    eigenvalues); ``n_train`` is ``n``, the number of training points. Dimensionless.

    >>> gd_mode_factors(np.array([1.0, 0.5]), lr=1.0, steps=2, n_train=2).tolist()
    [0.25, 0.5625]
    """
    lam = _validate.finite_array("eigenvalues", eigenvalues)
    _validate.positive("lr", lr)
    _validate.positive("n_train", n_train, integer=True)
    if np.any(lam < 0):
        raise ValueError("eigenvalues of a kernel matrix must be >= 0")
    n_steps = _validate.finite_array("steps", steps)
    if np.any(n_steps < 0):
        raise ValueError(f"steps must be >= 0, got {steps!r}")
    return (1.0 - lr * lam / n_train) ** n_steps


def gd_filter(eigenvalues, *, lr: float, steps: int, n_train: int):
    """Spectral filter ``g(lambda) = [1 - (1 - lr lambda / n)^steps] / lambda`` of ``steps`` GD steps from zero.

    After ``steps`` steps on ``L = 1/(2n) ||K alpha - y||^2``-type losses with a constant kernel, the fitted dual
    coefficients are ``g(K) y``: ``g -> 1/lambda`` for well-learned modes and ``g -> lr steps / n`` (its limit at
    ``lambda = 0``) for modes too weak to move. Computed with ``expm1``/``log1p`` so that small ``lr lambda / n``
    loses no digits. Requires ``lr lambda_max / n < 2`` (else GD diverges). Units: 1/kernel.

    >>> gd_filter(np.array([0.0, 1.0, 2.0]), lr=0.5, steps=2, n_train=1).tolist()     # [lr*steps, .75/1, 1/2]
    [1.0, 0.75, 0.5]
    """
    lam = _validate.finite_array("eigenvalues", eigenvalues)
    _validate.positive("lr", lr)
    _validate.positive("steps", steps, integer=True)
    _validate.positive("n_train", n_train, integer=True)
    if np.any(lam < 0):
        raise ValueError("eigenvalues of a kernel matrix must be >= 0")
    x = lr * lam / n_train
    if np.any(x >= 2.0):
        raise ValueError(f"lr too large: lr * lambda_max / n = {x.max():.3g} >= 2, gradient descent diverges")
    small = x < 1.0
    decay = np.where(small, -np.expm1(steps * np.log1p(-np.where(small, x, 0.0))), 1.0 - (1.0 - x) ** steps)
    return np.where(lam > 0, decay / np.where(lam > 0, lam, 1.0), lr * steps / n_train)


def linearized_gd(k_train, k_test_train, y, *, lr: float, steps: int, f0_train=None, f0_test=None):
    """Predictions after ``steps`` of GD on the *linearized* model with constant tangent kernel ``K``.

    With ``L = 1/(2n) sum_mu (f(x_mu) - y_mu)^2`` the residual on the training set obeys ``r_{k+1} = (I - lr K /
    n) r_k`` exactly, and every other point follows through ``K(x*, X)`` (Lee et al. 2019, eqs. 8-9, here for
    discrete steps):

        ``f_train = y + (I - lr K/n)^steps (f0_train - y)``,
        ``f_test  = f0_test + K(x*, X) K^{-1} [I - (I - lr K/n)^steps] (y - f0_train)``.

    ``k_train``: (n, n) = ``K(X, X)``; ``k_test_train``: (m, n); ``y``, ``f0_train``: (n,); ``f0_test``: (m,)
    (both ``f0`` default to 0: a centred network). Requires ``lr lambda_max / n < 2`` (else GD diverges). As
    ``steps -> infinity`` ``f_test`` tends to :func:`kernel_regression` of ``y - f0_train``, plus ``f0_test``.

    >>> k = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> [np.round(v, 6).tolist() for v in linearized_gd(k, k, np.array([1.0, 1.0]), lr=1.0, steps=1)]
    [[1.0, 0.5], [1.0, 0.5]]
    """
    k, ks = _kernels(k_train, k_test_train)
    n = k.shape[0]
    t = _targets(y, n).ravel()
    _validate.positive("steps", steps, integer=True)
    f0 = np.zeros(n) if f0_train is None else _targets(f0_train, n, "f0_train").ravel()
    f0s = np.zeros(ks.shape[0]) if f0_test is None else _targets(f0_test, ks.shape[0], "f0_test").ravel()
    gd = dict(time=_validate.positive("lr", lr) * steps, lr=lr)     # raises if lr * lambda_max / n >= 2
    return f0 + kernel_flow_predictor(k, k, t - f0, **gd), f0s + kernel_flow_predictor(k, ks, t - f0, **gd)


def _flow_filter(lam, n: int, time: float, lr, ridge: float):
    """``h(lam) = [1 - decay(lam + ridge)] / (lam + ridge)`` of :func:`kernel_flow_predictor` (pinv at time inf)."""
    mu = lam + ridge
    pos = mu > max(float(mu.max()), 0.0) * n * np.finfo(float).eps
    safe = np.where(pos, mu, 1.0)
    if lr is not None and np.any(lr * mu / n >= 2.0):
        raise ValueError(f"lr too large: lr (lambda_max + ridge) / n = {lr * mu.max() / n:.3g} >= 2, GD diverges")
    if time == 0 or np.isinf(time):
        return np.where(pos, 1.0 / safe, 0.0) * (time != 0)
    if lr is None:
        return np.where(pos, -np.expm1(-safe * time / n) / safe, time / n)
    if not np.isclose(time / lr, steps := round(time / lr), rtol=1e-9, atol=0):
        raise ValueError(f"time must be a whole number of steps of size lr, got time={time!r}, lr={lr!r}")
    return gd_filter(mu, lr=lr, steps=int(steps), n_train=n)


def _prior_blocks(prior, k, ks):
    s, s_st, s_tt = (_validate.finite_array(f"prior[{i}]", p) for i, p in enumerate(prior))
    if s.shape != k.shape or s_st.shape != ks.shape or s_tt.shape != (ks.shape[0],) * 2:
        raise ValueError(f"prior must hold arrays of shapes {k.shape}, {ks.shape}, {(ks.shape[0],) * 2}")
    return s, s_st, s_tt


def kernel_flow_predictor(k_train, k_test_train, y, *, time=np.inf, lr=None, ridge: float = 0.0, prior=None):
    """Test outputs of a model trained from ``f_0`` by gradient flow (or descent) with a *constant* kernel ``K``.

    An infinitely wide network in NTK parameterization (``K = Theta``; Lee et al. 2019, eqs. 9, 14-16). With
    ``L = 1/(2n) sum_mu (f(x_mu) - y_mu)^2 + ridge/(2n) ||theta - theta_0||^2`` and ``d theta/dt = -grad L``,

        ``f_t(x*) = f_0(x*) + A_t (y - f_0(X))``,  ``A_t = K(x*, X) (K + ridge I)^{-1} [I - e^{-(K + ridge I) t/n}]``.

    With ``lr``: gradient descent, ``(I - lr (K + ridge I)/n)^(t/lr)`` replaces the exponential; ``time=inf``:
    kernel (ridge) regression (pseudo-inverse if ``ridge=0``). Returns the mean ``A_t y`` over an ``f_0`` of mean
    zero (``f_t`` itself for a centred network, ``f_0 = 0``). ``prior=(S, S_test_train, S_test)``, the covariance
    of ``f_0`` (:func:`nngp_kernel` at infinite width) on ``X x X``, ``x* x X``, ``x* x x*``, returns ``(mean,
    cov)``, ``cov = S_test - A_t S_test_train^T - S_test_train A_t^T + A_t S A_t^T`` (Lee et al., eq. 16).
    ``k_train``: (n, n); ``k_test_train``: (m, n); ``y``: (n,) or (n, k); ``time >= 0`` (``t = lr * steps``).

    >>> k = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> np.round(kernel_flow_predictor(k, k, np.array([1.0, 1.0]), time=2.0), 4).tolist()   # 1 - exp(-lam t/2)
    [0.8647, 0.6321]
    """
    k, ks = _kernels(k_train, k_test_train)
    n, t = k.shape[0], _targets(y, k.shape[0])
    time = float(_validate.finite_array("time", time, allow_inf=True))
    if time < 0:
        raise ValueError(f"time must be >= 0, got {time!r}")
    if lr is not None:
        _validate.positive("lr", lr)
    lam, u = np.linalg.eigh((k + k.T) / 2)
    a = ks @ (u * _flow_filter(np.clip(lam, 0.0, None), n, time, lr, _validate.nonnegative("ridge", ridge))) @ u.T
    if prior is None:
        return a @ t
    s, s_st, s_tt = _prior_blocks(prior, k, ks)
    return a @ t, s_tt - a @ s_st.T - s_st @ a.T + a @ s @ a.T


def ridge_coefficients(k_train, y, ridge: float = 0.0):
    """Dual coefficients ``alpha = (K + ridge I)^{-1} y`` of kernel ridge regression, ``f(x) = K(x, X) alpha``.

    The jax-traceable core of :func:`kernel_regression` (use it inside ``jax.vmap``). ``ridge = 0`` needs an
    invertible ``K`` (distinct points, strictly positive-definite kernel); otherwise use
    :func:`kernel_regression`, which takes the pseudo-inverse. ``k_train``: (n, n) symmetric positive-definite
    (solved by Cholesky); ``y``: (n,) or (n, k).

    >>> k = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> np.round(np.asarray(ridge_coefficients(k, np.array([1.0, 1.0]), 1.0), float), 6).tolist()
    [0.333333, 0.5]
    """
    _validate.finite("k_train", k_train), _validate.finite("y", y), _validate.finite("ridge", ridge)
    return jax.scipy.linalg.solve(k_train + ridge * jnp.eye(k_train.shape[0]), y, assume_a="pos")
