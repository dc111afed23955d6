"""Kernels with an exactly known eigensystem (chapters eigenlearning and scaling-laws).

Two families whose Mercer decomposition is known in closed form, so that a kernel theory can be checked with no
numerical eigendecomposition: the product kernel on the Boolean hypercube (eigenfunctions: parities) and
translation-invariant kernels on the circle with a power-law spectrum (eigenfunctions: Fourier modes). The
kernels are jax-traceable (they run inside ``jax.vmap`` over seeds); inputs may be numpy or jax arrays. Also
available as ``lmtheory.theory.kernels.<name>``.

References: R. O'Donnell, *Analysis of Boolean Functions* (2014), ch. 1 (parities); for the circle kernel the
Fourier series of the Bernoulli polynomials (DLMF 24.8.1-24.8.2).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import scipy.special

from lmtheory import _validate

__all__ = ["hypercube_kernel", "hypercube_spectrum", "hypercube_eigenfunctions", "circle_kernel",
           "circle_spectrum"]


def hypercube_kernel(x1, x2, *, decay: float, scale: float = 1.0):
    """Product kernel on the Boolean hypercube, ``K(x, x') = scale prod_j (1 + decay x_j x'_j) / (1 + decay)^d``.

    Inputs are rows of ``{-1, +1}^d`` (``x1``: (n1, d), ``x2``: (n2, d)); returns (n1, n2). Expanding the product
    gives ``K = scale (1 + decay)^-d sum_S decay^|S| chi_S(x) chi_S(x')`` over all subsets ``S`` of the ``d``
    coordinates, with the parities ``chi_S(x) = prod_{j in S} x_j`` orthonormal under uniform ``x``: the Mercer
    eigenfunctions are the ``2^d`` parities and a degree-``k`` parity has eigenvalue ``scale decay^k / (1 +
    decay)^d`` (:func:`hypercube_spectrum`). In the Hamming distance ``h``: ``K = scale ((1 - decay)/(1 +
    decay))^h``, an exponential (Laplace) kernel. ``0 < decay < 1``. The kernel of the squared integral operator
    is ``hypercube_kernel(decay=decay**2, scale=scale**2 ((1 + decay**2)/(1 + decay)**2)**d)``.

    >>> x = np.array([[1.0, 1.0, 1.0], [1.0, -1.0, 1.0]])
    >>> np.round(np.asarray(hypercube_kernel(x, x, decay=0.5), float), 6).tolist()     # Hamming distance 1: 1/3
    [[1.0, 0.333333], [0.333333, 1.0]]
    """
    if not 0 < decay < 1:
        raise ValueError(f"decay must lie strictly between 0 and 1, got {decay!r}")
    _validate.finite("x1", x1), _validate.finite("x2", x2), _validate.finite("scale", scale)
    hamming = (x1.shape[-1] - jnp.asarray(x1) @ jnp.asarray(x2).T) / 2
    return scale * jnp.exp(hamming * np.log((1 - decay) / (1 + decay)))


def hypercube_spectrum(dim: int, *, decay: float, scale: float = 1.0):
    """Eigenvalues and multiplicities of :func:`hypercube_kernel`, one entry per parity degree ``k = 0..dim``.

    Returns ``(eigenvalues, multiplicity)`` with ``eigenvalues[k] = scale decay^k / (1 + decay)^dim`` and
    ``multiplicity[k] = C(dim, k)`` (the number of degree-``k`` parities). Exact.

    >>> lam, mult = hypercube_spectrum(2, decay=0.5)
    >>> np.round(lam, 6).tolist(), mult.tolist()
    ([0.444444, 0.222222, 0.111111], [1.0, 2.0, 1.0])
    """
    _validate.positive("dim", dim, integer=True)
    if not 0 < decay < 1:
        raise ValueError(f"decay must lie strictly between 0 and 1, got {decay!r}")
    degree = np.arange(dim + 1)
    return scale * decay**degree / (1 + decay) ** dim, scipy.special.comb(dim, degree)


def hypercube_eigenfunctions(x, subsets):
    """Parities ``chi_S(x) = prod_{j in S} x_j`` for each subset ``S`` in ``subsets`` (tuples of coordinates).

    ``x``: (n, d) in ``{-1, +1}``; returns (n, len(subsets)). The empty subset gives the constant 1.

    >>> x = np.array([[1.0, -1.0, -1.0]])
    >>> np.asarray(hypercube_eigenfunctions(x, [(), (1,), (1, 2)])).tolist()
    [[1.0, -1.0, 1.0]]
    """
    x = jnp.asarray(_validate.finite("x", x))
    return jnp.stack([jnp.prod(x[:, list(s)], axis=1) if len(s) else jnp.ones(x.shape[0]) for s in subsets], 1)


def _bernoulli_series(theta, order: int):
    """``sum_{k>=1} cs(k theta) / k^order`` (cs = cos for even, sin for odd order) as a Bernoulli polynomial:
    ``(-1)^(order//2 + 1) (2 pi)^order B_order(t) / (2 order!)`` with ``t = (theta mod 2 pi) / 2 pi``."""
    t = jnp.mod(theta, 2 * np.pi) / (2 * np.pi)
    numbers = scipy.special.bernoulli(order)
    coeffs = [scipy.special.comb(order, j) * numbers[j] for j in range(order + 1)]   # of t^(order - j)
    poly = jnp.polyval(jnp.asarray(coeffs), t)
    return (-1) ** (order // 2 + 1) * (2 * np.pi) ** order / (2 * math.factorial(order)) * poly


def circle_kernel(x1, x2, *, exponent: int, zero_mode: float = 1.0):
    """Translation-invariant kernel on the circle with power-law spectrum,
    ``K(x, x') = zero_mode + 2 sum_{k>=1} k^-exponent cos(k (x - x'))``, in closed form.

    ``x1``: (n1,), ``x2``: (n2,) angles in radians; returns (n1, n2). For uniform ``x`` on ``[0, 2 pi)`` the
    eigenfunctions are ``1, sqrt(2) cos(k x), sqrt(2) sin(k x)`` with eigenvalues ``zero_mode`` and ``k^-exponent``
    (twice each; :func:`circle_spectrum`). ``exponent`` must be an even integer >= 2, for which the sum is a
    Bernoulli polynomial (``exponent = 2``: ``pi^2/3 - pi theta + theta^2/2``, a periodic linear-spline kernel
    up to the constant mode).

    >>> round(float(circle_kernel(np.array([0.0]), np.array([np.pi]), exponent=2)[0, 0]), 6)   # 1 - pi^2/6
    -0.644934
    """
    if isinstance(exponent, bool) or not isinstance(exponent, int) or exponent < 2 or exponent % 2:
        raise ValueError(f"exponent must be an even integer >= 2, got {exponent!r}")
    _validate.finite("x1", x1), _validate.finite("x2", x2), _validate.finite("zero_mode", zero_mode)
    diff = jnp.asarray(x1)[:, None] - jnp.asarray(x2)[None, :]
    return zero_mode + 2 * _bernoulli_series(diff, exponent)


def circle_spectrum(exponent: float, n_frequencies: int, *, zero_mode: float = 1.0):
    """Eigenvalues and multiplicities of :func:`circle_kernel` for frequencies ``k = 0..n_frequencies``.

    Returns ``(eigenvalues, multiplicity)``: ``[zero_mode, 1, 2^-a, ...]`` and ``[1, 2, 2, ...]``. The spectrum
    is infinite; truncating it at ``K`` frequencies drops ``sum_{k>K} 2 k^-a ~ 2 K^(1-a)/(a-1)`` of trace.

    >>> lam, mult = circle_spectrum(2, 2)
    >>> lam.tolist(), mult.tolist()
    ([1.0, 1.0, 0.25], [1.0, 2.0, 2.0])
    """
    _validate.positive("exponent", exponent)
    _validate.positive("n_frequencies", n_frequencies, integer=True)
    k = np.arange(1, n_frequencies + 1, dtype=float)
    return np.concatenate([[zero_mode], k**-exponent]), np.concatenate([[1.0], np.full(n_frequencies, 2.0)])
