"""How far a finite-width random network is from its Gaussian-process limit (Neal 1996; Lee et al. 2018).

Set-up as in :mod:`lmtheory.theory.kernels`: ``h^1 = sigma_w W^1 x / sqrt(d) + sigma_b b^1``, hidden layers of
``width`` units, ``h^{l+1} = sigma_w W^{l+1} phi(h^l) / sqrt(width) + sigma_b b^{l+1}``, all entries of ``W``
and ``b`` i.i.d. ``N(0, 1)``, output ``f = h^depth`` (one unit). Given the last hidden layer, ``f`` is exactly
Gaussian with variance ``s^2 = sigma_w^2 mean_i phi(h_i)^2 + sigma_b^2``, so over the ensemble ``f`` is a Gaussian
*scale mixture* and its excess kurtosis is ``3 Var(s^2) / E[s^2]^2`` -- zero exactly when ``s^2`` stops
fluctuating, i.e. at infinite width (the central limit theorem over hidden units).

The kernel itself (the covariance of ``f``) is :func:`lmtheory.theory.kernels.nngp_kernel`.
"""

from __future__ import annotations

from lmtheory import _validate
from lmtheory.theory import meanfield


def one_hidden_layer_kurtosis(q1: float, *, width: int, sigma_w: float, sigma_b: float,
                              activation: str = "relu") -> float:
    """Excess kurtosis of the output of a one-hidden-layer random network (``depth = 2``), exact at any width.

    ``q1`` is the first-layer variance at the input, ``sigma_w^2 |x|^2 / d + sigma_b^2``. The hidden units are
    i.i.d. ``N(0, q1)``, so ``Var(s^2) = sigma_w^4 Var[phi(u)^2] / width`` and

        ``kappa = 3 sigma_w^4 Var[phi(u)^2] / (width (sigma_w^2 E[phi(u)^2] + sigma_b^2)^2)``,  ``u ~ N(0, q1)``.

    Expectations by Gauss-Hermite quadrature (exact for ReLU: its moments are half-line polynomial moments).
    Dimensionless. For ReLU without bias ``kappa = 15 / width``.

    >>> round(one_hidden_layer_kurtosis(2.0, width=30, sigma_w=2**0.5, sigma_b=0.0), 12)
    0.5
    """
    _validate.positive("q1", q1)
    _validate.positive("width", width, integer=True)
    _validate.positive("sigma_w", sigma_w)
    _validate.nonnegative("sigma_b", sigma_b)
    phi, _ = meanfield.ACTIVATIONS[_validate.one_of("activation", activation, set(meanfield.ACTIVATIONS))]
    m2 = float(meanfield.gaussian_mean(lambda u: phi(u) ** 2, q1))
    m4 = float(meanfield.gaussian_mean(lambda u: phi(u) ** 4, q1))
    return 3.0 * sigma_w**4 * (m4 - m2**2) / (width * (sigma_w**2 * m2 + sigma_b**2) ** 2)


def relu_output_kurtosis(*, width: int, depth: int) -> float:
    """Excess kurtosis of the output of a deep ReLU network without biases: ``3 [(1 + 5/width)^(depth-1) - 1]``.

    Without biases each layer multiplies the conditional variance by ``(sigma_w^2/width) sum_i ReLU(z_i)^2`` with
    ``z_i`` i.i.d. standard normal, independently of the past; its second moment is ``(sigma_w^2/2)^2 (1 + 5/width)``,
    so ``E[s^4] / E[s^2]^2 = (1 + 5/width)^(depth - 1)`` exactly (Hanin & Rolnick 2018). For ``depth << width`` this
    is ``15 (depth - 1) / width``: non-Gaussianity grows with depth over width. Independent of ``sigma_w``.

    >>> round(relu_output_kurtosis(width=30, depth=2), 12), round(relu_output_kurtosis(width=10, depth=3), 12)
    (0.5, 3.75)
    """
    _validate.positive("width", width, integer=True)
    _validate.positive("depth", depth, integer=True)
    return 3.0 * ((1.0 + 5.0 / width) ** (depth - 1) - 1.0)


def readout_gap_exponent() -> float:
    """Log-log slope against the width ``n`` of the mean squared gap between a trained readout and NNGP regression.

    Training only the last layer of a random network (ridge ``lambda``, ``n`` hidden units) is kernel ridge
    regression with the empirical kernel ``K_n = F F^T`` of its random features, ``f_n = K_n(x, X) (K_n + lambda
    I)^{-1} y``. Write ``K_n = K + dK``: ``dK`` averages ``n`` i.i.d. terms, so ``E dK = 0`` and its covariance is
    ``O(1/n)``; ``f_n`` is a smooth function of the kernel, so ``f_n - f_inf`` is linear in ``dK`` to leading order
    (the delta method) and ``E ||f_n - f_inf||^2 = C / n + O(n^-2)``: the slope is ``-1`` (Lee et al. 2018;
    Neal 1996). A leading-order exponent: fit it where the ``O(n^-2)`` term is below the noise. Dimensionless.

    >>> readout_gap_exponent()
    -1.0
    """
    return -1.0
