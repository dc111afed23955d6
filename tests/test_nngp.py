"""Finite-width non-Gaussianity of random networks against Monte Carlo of the exact finite-width laws."""

import numpy as np
import pytest

from lmtheory.theory import nngp


def _kurtosis(f):
    m2, m4 = np.mean(f**2), np.mean(f**4)
    infl = f**4 / m2**2 - 2 * m4 * f**2 / m2**3
    return m4 / m2**2 - 3, infl.std() / np.sqrt(f.size)


@pytest.mark.parametrize("activation, sigma_b", [("relu", 0.0), ("relu", 0.5), ("erf", 0.3), ("tanh", 0.0)])
def test_one_hidden_layer_kurtosis_against_monte_carlo(activation, sigma_b):
    """Sample the hidden layer (n i.i.d. N(0, q1) units), then f ~ N(0, s^2): the scale mixture of Step 3."""
    rng = np.random.default_rng(1)
    n, q1, sw, draws = 6, 1.7, 1.3, 400_000
    phi = {"relu": lambda u: np.maximum(u, 0), "erf": __import__("scipy").special.erf, "tanh": np.tanh}[activation]
    s2 = sw**2 * np.mean(phi(np.sqrt(q1) * rng.standard_normal((draws, n))) ** 2, 1) + sigma_b**2
    k, se = _kurtosis(np.sqrt(s2) * rng.standard_normal(draws))
    pred = nngp.one_hidden_layer_kurtosis(q1, width=n, sigma_w=sw, sigma_b=sigma_b, activation=activation)
    assert abs(k - pred) < 4 * se


def test_relu_kurtosis_closed_form():
    for n in (4, 16, 100):
        assert nngp.one_hidden_layer_kurtosis(2.0, width=n, sigma_w=np.sqrt(2), sigma_b=0.0) == pytest.approx(15 / n)
        assert nngp.relu_output_kurtosis(width=n, depth=2) == pytest.approx(15 / n)


def test_deep_relu_kurtosis_against_the_exact_variance_chain():
    """s^2 is multiplied by (2/n) sum ReLU(z_i)^2 in every hidden layer (sigma_w^2 = 2, no bias)."""
    rng = np.random.default_rng(2)
    n, depth, draws = 8, 4, 400_000
    s2 = np.ones(draws)
    for _ in range(depth - 1):
        s2 = s2 * 2 * np.mean(np.maximum(rng.standard_normal((draws, n)), 0) ** 2, 1)
    m2, m4 = np.mean(s2), np.mean(s2**2)
    ratio = m4 / m2**2                                     # = E f^4 / (3 E[f^2]^2) = 1 + kappa / 3
    samples = s2**2 / m2**2 - 2 * m4 * s2 / m2**3
    se = samples.std() / np.sqrt(draws)
    assert abs(3 * (ratio - 1) - nngp.relu_output_kurtosis(width=n, depth=depth)) < 4 * 3 * se


@pytest.mark.parametrize("call, match", [
    (lambda: nngp.one_hidden_layer_kurtosis(-1.0, width=4, sigma_w=1.0, sigma_b=0.0), "q1"),
    (lambda: nngp.one_hidden_layer_kurtosis(1.0, width=4.5, sigma_w=1.0, sigma_b=0.0), "width"),
    (lambda: nngp.one_hidden_layer_kurtosis(1.0, width=4, sigma_w=1.0, sigma_b=0.0, activation="selu"),
     "activation"),
    (lambda: nngp.relu_output_kurtosis(width=4, depth=0), "depth"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
