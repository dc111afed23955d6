"""Part I addition to lmtheory.theory.silent_alignment: a kernel that only changes scale gives kernel regression."""

import numpy as np

from lmtheory.theory import kernels
from lmtheory.theory import silent_alignment as sa


def test_function_space_flow_with_a_rescaled_kernel_is_kernel_regression_with_the_final_kernel():
    """Euler steps of df/dt = -g(t) Theta(x, X) (f(X) - y) / n with a fixed-shape kernel and a varying scale g(t)."""
    rng = np.random.default_rng(0)
    n, m, d = 12, 20, 3
    x = rng.normal(size=(n + m, d))
    theta = np.exp(-2.0 * np.sum((x[:, None] - x[None, :n]) ** 2, -1))       # (n + m, n), well conditioned on X
    y = np.sin(x[:n, 0]) + x[:n, 1]
    f = np.zeros(n + m)
    dt = 2.0
    for k in range(6_000):
        g = 1e-3 if k < 1_000 else 1.0 + 0.5 * np.sin(k / 30.0)             # a plateau, then a wobbling scale
        f = f - dt * g * theta @ (f[:n] - y) / n
    assert np.abs(f[:n] - y).max() < 1e-9                                     # converged: it interpolates
    f_kr = kernels.kernel_regression(theta[:n], theta[n:], y)
    r2 = 1 - np.sum((f[n:] - f_kr) ** 2) / np.sum(f[n:] ** 2)
    assert abs(r2 - sa.final_kernel_r2()) < 1e-6
