"""How eigenmodes are filled: measured learnabilities of kernel regression on many samples at once, and of a
wide two-layer ReLU network on the sphere trained to convergence (eigenmodes chapter).

Kernel regression: :func:`sampled_learnabilities` draws Gaussian eigenfunctions and returns ``T_ii`` of every
mode on every sample (batched float64 linear algebra; see :mod:`lmtheory.simulation.learnability`).

Network (NTK parameterization, all parameters trained): ``f_c(x) = h^-1/2 sum_j a_jc ReLU(w_j.x + b_j)`` with
``w_j ~ N(0, I_d)``, ``b_j, a_jc ~ N(0, 1)``, inputs on the unit sphere ``S^(d-1)``; its infinite-width NTK is
:func:`lmtheory.theory.eigenlearning.relu_ntk_sphere`. The initialization is *antisymmetric* (units come in
twins with equal ``w, b`` and opposite ``a``), so ``f_0 = 0`` (to rounding) while the NTK is that of ``h/2``
independent units. Targets are the normalized product harmonics ``phi_S(x) = sqrt(d (d+2) ... (d+2|S|-2))
prod_{i in S} x_i`` (``S`` a set of distinct coordinates; ``|S|`` is the degree), one per output.

The learned coefficient on ``phi_S`` is exact, not a test-set estimate: by the Funk-Hecke formula
``E_x[ReLU(w.x + b) phi_S(x)] = c_l(|w|, b) phi_S(w/|w|)`` with ``c_l(r, b) = c_d int ReLU(r t + b) P_l(t)
(1 - t^2)^((d-3)/2) dt`` (one-dimensional quadrature per unit). The network functions are jax-traceable
(``vmap`` over seeds); :func:`harmonic_coefficients` is plain numpy (it runs once, after training).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy import special

from lmtheory import _validate


def sampled_learnabilities(key, n: int, eigenvalues, samples: int, ridge: float = 0.0, chunk: int = 4096):
    """Measured learnabilities ``T_ii`` of all ``M`` modes on ``samples`` fresh samples; shape (samples, M).

    Each sample has ``n`` points with Gaussian eigenfunctions ``phi_i(x_mu) ~ N(0, 1)`` i.i.d. (the linear
    kernel ``K(x, x') = sum_i lambda_i x_i x'_i`` on ``x ~ N(0, I_M)``); ``T_ii = lambda_i phi_i(X)^T (K(X, X) +
    ridge I)^{-1} phi_i(X)`` by batched float64 solves, ``chunk`` samples at a time (numpy's generator,
    seeded by ``key``: ten times faster than jax's for float64 normals on a CPU).

    >>> t = sampled_learnabilities(jax.random.key(0), 3, np.array([1.0, 0.5, 0.25, 0.1]), 5)
    >>> t.shape, bool(np.allclose(t.sum(1), 3.0))                         # ridgeless: the sum rule
    ((5, 4), True)
    """
    lam = np.asarray(_validate.positive_array("eigenvalues", eigenvalues), dtype=np.float64)
    _validate.positive("n", n, integer=True)
    _validate.positive("samples", samples, integer=True)
    out = []
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)))  # numpy's sampler, seeded by the jax key
    for start in range(0, samples, chunk):
        phi = rng.standard_normal((min(chunk, samples - start), n, lam.size))
        gram = np.matmul(phi * lam, phi.transpose(0, 2, 1)) + ridge * np.eye(n)
        out.append(lam * np.sum(phi * np.linalg.solve(gram, phi), axis=1))
    return np.concatenate(out)


def sphere_inputs(key, n: int, dim: int):
    """``n`` points drawn uniformly on the unit sphere ``S^(dim-1)`` (normalized Gaussians); shape (n, dim).

    >>> x = sphere_inputs(jax.random.key(0), 3, 4)
    >>> bool(jnp.allclose(jnp.linalg.norm(x, axis=1), 1.0))
    True
    """
    z = jax.random.normal(key, (n, dim), jnp.float32)
    return z / jnp.linalg.norm(z, axis=1, keepdims=True)


def _norm(dim: int, degree: int) -> float:
    return math.sqrt(math.prod(dim + 2 * k for k in range(degree)))


def product_harmonics(x, subsets):
    """Orthonormal spherical harmonics ``phi_S(x) = sqrt(prod_{k<|S|} (d + 2k)) prod_{i in S} x_i``; (n, len(subsets)).

    Each ``S`` is a tuple of *distinct* coordinates (``()``: the constant 1). ``E[phi_S phi_T] = delta_ST`` for
    ``x`` uniform on ``S^(d-1)``, since ``E[prod_{i in S} x_i^2] = 1/(d (d+2) ... (d+2|S|-2))``.

    >>> x = jnp.array([[0.6, 0.8, 0.0]])
    >>> [round(float(v), 4) for v in product_harmonics(x, [(), (0,), (0, 1)])[0]]
    [1.0, 1.0392, 1.859]
    """
    dim = x.shape[-1]
    cols = [_norm(dim, len(s)) * jnp.prod(x[..., list(s)], axis=-1) if s else jnp.ones(x.shape[:-1]) for s in subsets]
    return jnp.stack(cols, axis=-1)


def init_twins(key, dim: int, width: int, n_out: int):
    """Antisymmetric initialization: ``width/2`` units and their twins with negated output weights (``f_0 = 0``).

    >>> p = init_twins(jax.random.key(0), 3, 4, 2)
    >>> p["w"].shape, p["a"].shape, bool(jnp.allclose(p["a"][:2], -p["a"][2:]))
    ((4, 3), (4, 2), True)
    """
    _validate.positive("width", width, integer=True)
    if width % 2:
        raise ValueError(f"width must be even (units come in twins), got {width}")
    kw, kb, ka = jax.random.split(key, 3)
    half = width // 2
    w, b, a = (jax.random.normal(k, s, jnp.float32) for k, s in ((kw, (half, dim)), (kb, (half,)), (ka, (half, n_out))))
    return {"w": jnp.concatenate([w, w]), "b": jnp.concatenate([b, b]), "a": jnp.concatenate([a, -a])}


def apply(params, x, output_scale: float = 1.0):
    """``f(x) = output_scale * h^-1/2 ReLU(x W^T + b) A``; x (n, d) -> (n, n_out)."""
    h = params["w"].shape[0]
    return output_scale * jax.nn.relu(x @ params["w"].T + params["b"]) @ params["a"] / jnp.sqrt(h)


def train(params, x, y, *, lr: float, steps: int, momentum: float = 0.0, output_scale: float = 1.0):
    """Full-batch (heavy-ball) gradient descent on ``L = 1/2 sum_mu |f(x_mu) - y_mu|^2``; returns the parameters.

    With ``momentum = 0`` plain GD; gradient flow on ``L`` moves the outputs on the sample by ``-Theta (f - y)``
    (``Theta`` the NTK), so ``lr`` is in units of ``1/Theta``.
    """
    loss = lambda p: 0.5 * jnp.sum((apply(p, x, output_scale) - y) ** 2)  # noqa: E731
    grad = jax.grad(loss)

    def step(_, state):
        p, v = state
        v = jax.tree.map(lambda vi, gi: momentum * vi - lr * gi, v, grad(p))
        return jax.tree.map(jnp.add, p, v), v

    return jax.lax.fori_loop(0, steps, step, (params, jax.tree.map(jnp.zeros_like, params)))[0]


def _legendre_sphere(t, dim: int, max_degree: int):
    """``P_l(t) = C_l^alpha(t) / C_l^alpha(1)``, ``alpha = (d-2)/2``, for l = 0..max_degree (three-term recurrence)."""
    alpha = (dim - 2) / 2.0
    c, one = [np.ones_like(t), 2 * alpha * t], [1.0, 2 * alpha]
    for k in range(1, max_degree):
        c.append((2 * t * (k + alpha) * c[k] - (k + 2 * alpha - 1) * c[k - 1]) / (k + 1))
        one.append((2 * (k + alpha) * one[k] - (k + 2 * alpha - 1) * one[k - 1]) / (k + 1))
    return np.stack([ck / ok for ck, ok in zip(c[: max_degree + 1], one)], axis=-1)


def relu_funk_hecke(radius, bias, dim: int, max_degree: int, *, nodes: int = 64):
    """``c_l(r, b) = c_d int_{-1}^{1} ReLU(r t + b) P_l(t) (1 - t^2)^((d-3)/2) dt`` for l = 0..max_degree.

    The integrand vanishes below ``t_0 = -b/r``; on ``[max(t_0, -1), 1]`` it is smooth, and Gauss-Legendre with
    ``nodes`` nodes is accurate to about ``1e-9``. Broadcasts over ``radius``, ``bias``; returns ``shape + (L+1,)``.

    >>> c = relu_funk_hecke(np.array([1.0]), np.array([10.0]), 5, 1)      # ReLU(t + 10) = t + 10: mean 10
    >>> np.round(c, 8).tolist()[0][0]
    10.0
    """
    r, b = np.broadcast_arrays(np.asarray(radius, dtype=np.float64), np.asarray(bias, dtype=np.float64))
    c_d = math.exp(special.gammaln(dim / 2) - special.gammaln((dim - 1) / 2)) / math.sqrt(math.pi)
    u, w = np.polynomial.legendre.leggauss(nodes)
    lo = np.clip(-b / r, -1.0, 1.0)[..., None]
    t = lo + (1.0 - lo) * (u + 1) / 2                                   # (..., nodes) on [t_0, 1]
    integrand = np.maximum(r[..., None] * t + b[..., None], 0.0) * (1 - t**2) ** ((dim - 3) / 2)
    return c_d * np.einsum("...n,...nl->...l", integrand * w * (1.0 - lo) / 2, _legendre_sphere(t, dim, max_degree))


def harmonic_coefficients(params, subsets, output_scale: float = 1.0):
    """Coefficients ``<phi_S, f_c>`` of every output ``c`` on every harmonic ``S`` in ``subsets``.

    Funk-Hecke per hidden unit (module docstring; :func:`relu_funk_hecke`). Leading axes of the parameters
    (e.g. seeds) are kept: returns ``batch + (n_out, len(subsets))``. For an output trained on ``phi_S`` its
    coefficient on ``phi_S`` is the measured learnability of that eigenmode. Plain numpy.

    >>> p = init_twins(jax.random.key(0), 4, 8, 1)
    >>> bool(np.allclose(harmonic_coefficients(p, [(), (0,)]), 0.0, atol=1e-6))     # f_0 = 0
    True
    """
    w, b, a = (np.asarray(params[k], dtype=np.float64) for k in ("w", "b", "a"))
    dim, h = w.shape[-1], w.shape[-2]
    degrees = [len(s) for s in subsets]
    r = np.linalg.norm(w, axis=-1)
    c_l = relu_funk_hecke(r, b, dim, max(degrees))                      # (..., h, degree)
    unit = c_l[..., degrees] * np.asarray(product_harmonics(w / r[..., None], subsets), dtype=np.float64)
    return output_scale * np.swapaxes(a, -1, -2) @ unit / np.sqrt(h)


def train_on_harmonics(key, subsets, output_scale, lr, *, n: int, dim: int, width: int, steps: int,
                       momentum: float = 0.9):
    """One network per harmonic in ``subsets``, each trained on the target ``phi_S`` alone from ``f_0 = 0``.

    Draws ``n`` points on ``S^(dim-1)`` and trains a fresh twin-initialized one-output network per target by
    :func:`train` with learning rate ``lr / output_scale^2``: the function-space dynamics do not depend on
    ``output_scale`` while the parameters move ``1/output_scale`` as far (large: lazy; small: rich). Returns the
    trained parameters (leading axis: the targets) and the relative training residuals. ``output_scale`` and
    ``lr`` may be traced (one compilation serves both regimes).
    """
    k_x, k_net = jax.random.split(key)
    x = sphere_inputs(k_x, n, dim)
    y = product_harmonics(x, subsets)                                  # (n, targets)

    def one(k, target):
        p = train(init_twins(k, dim, width, 1), x, target[:, None], lr=lr / output_scale**2, steps=steps,
                  momentum=momentum, output_scale=output_scale)
        return p, jnp.sum((apply(p, x, output_scale)[:, 0] - target) ** 2) / jnp.sum(target**2)

    return jax.vmap(one)(jax.random.split(k_net, len(subsets)), y.T)


def own_coefficients(params, subsets, output_scale: float = 1.0):
    """Learnability of each target from :func:`train_on_harmonics`: network ``k``'s coefficient on ``subsets[k]``.

    ``params`` with axes ``(..., targets, ...)``; returns ``(..., targets)``.
    """
    coeff = harmonic_coefficients(params, subsets, output_scale)[..., 0, :]    # (..., targets, harmonics)
    return np.diagonal(coeff, axis1=-2, axis2=-1)
