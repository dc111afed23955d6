"""Measured learnabilities of kernel (ridge) regression on one sample, from the kernel's eigenfunctions.

For a kernel ``K(x, x') = sum_i lambda_i phi_i(x) phi_i(x')`` with finitely many (``M``) eigenmodes and a sample
``X`` of ``n`` points, collect the eigenfunctions at the sample in the design matrix ``Phi[mu, i] = phi_i(x_mu)``
(shape (n, M)), so that the kernel matrix is ``Phi diag(lambda) Phi^T``. Kernel ridge regression of the target
``phi_j`` returns the function whose coefficient on ``phi_i`` is the *transfer matrix* element

    ``T_ij = lambda_i phi_i(X)^T (K(X, X) + ridge I_n)^{-1} phi_j(X)``,

and the measured (``D``-)learnability of mode ``i`` is ``T_ii = <phi_i, f_hat[phi_i]>``
(Simon et al. 2023, arXiv:2110.03922, Sec. 3). Everything here is jax-traceable (use it inside ``jax.vmap``).
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.linalg

from lmtheory import _validate


def transfer_matrix(features, eigenvalues, ridge: float = 0.0):
    """Transfer matrix ``T = diag(lambda) Phi^T (Phi diag(lambda) Phi^T + ridge I)^{-1} Phi`` of one sample.

    ``features``: (n, M) eigenfunctions at the sample; ``eigenvalues``: (M,) in the units of ``K``; ``ridge`` >= 0
    (same units). Row ``i``, column ``j``: the coefficient on ``phi_i`` of the function learned from the target
    ``phi_j``. Ridgeless (``ridge = 0``) needs ``n <= M`` and a full-rank kernel matrix; the solve is a Cholesky
    solve (no pseudo-inverse), so its error is about machine epsilon times the condition number of ``K(X, X)``.
    Dimensionless; shape (M, M).

    >>> import numpy as np
    >>> t = transfer_matrix(np.array([[1.0, 1.0]]), np.array([3.0, 1.0]))     # one sample, two modes
    >>> np.round(np.asarray(t), 4).tolist()
    [[0.75, 0.75], [0.25, 0.25]]
    """
    phi = jnp.asarray(features)
    lam = jnp.asarray(eigenvalues)
    if phi.ndim != 2 or lam.shape != phi.shape[-1:]:
        raise ValueError(f"features must be (n, M) and eigenvalues (M,), got {phi.shape} and {lam.shape}")
    gram = (phi * lam) @ phi.T + ridge * jnp.eye(phi.shape[0])
    return lam[:, None] * (phi.T @ jax.scipy.linalg.solve(gram, phi, assume_a="pos"))


def empirical_learnabilities(features, eigenvalues, ridge: float = 0.0):
    """Measured learnability ``L_i = T_ii = lambda_i phi_i(X)^T (K + ridge I)^{-1} phi_i(X)`` of every mode.

    The diagonal of :func:`transfer_matrix` without forming it; shape (M,). For ``ridge = 0`` and ``n <= M``
    the entries add up to ``n`` exactly (the trace of a rank-``n`` projection), for any sample.

    >>> import numpy as np
    >>> np.round(np.asarray(empirical_learnabilities(np.array([[1.0, 1.0]]), np.array([3.0, 1.0]))), 4).tolist()
    [0.75, 0.25]
    """
    phi = jnp.asarray(features)
    lam = jnp.asarray(eigenvalues)
    if phi.ndim != 2 or lam.shape != phi.shape[-1:]:
        raise ValueError(f"features must be (n, M) and eigenvalues (M,), got {phi.shape} and {lam.shape}")
    gram = (phi * lam) @ phi.T + ridge * jnp.eye(phi.shape[0])
    return lam * jnp.sum(phi * jax.scipy.linalg.solve(gram, phi, assume_a="pos"), axis=0)


def fourier_features(x, n_frequencies: int):
    """Orthonormal eigenfunctions ``1, sqrt(2) cos(k x), sqrt(2) sin(k x)`` (``k = 1..K``) on the circle.

    ``x``: (n,) angles (uniform on ``[0, 2 pi)`` makes them orthonormal); returns (n, 2K + 1), ordered
    ``[1, cos 1x, sin 1x, cos 2x, sin 2x, ...]`` to match ``np.repeat`` of
    :func:`lmtheory.theory.kernels.circle_spectrum` over its multiplicities. With those eigenvalues the kernel
    ``sum_i lambda_i phi_i(x) phi_i(x')`` is the circle kernel truncated at ``K`` frequencies.

    >>> import numpy as np
    >>> np.round(np.asarray(fourier_features(np.array([0.0]), 2), dtype=float), 4).tolist()
    [[1.0, 1.4142, 0.0, 1.4142, 0.0]]
    """
    _validate.positive("n_frequencies", n_frequencies, integer=True)
    k = jnp.arange(1, n_frequencies + 1)
    angle = jnp.asarray(x)[:, None] * k[None, :]
    waves = jnp.stack([jnp.cos(angle), jnp.sin(angle)], axis=-1).reshape(angle.shape[0], -1)
    return jnp.concatenate([jnp.ones((angle.shape[0], 1)), jnp.sqrt(2.0) * waves], axis=1)
