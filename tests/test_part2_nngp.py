"""NNGP (Part II): the 1/width rate of the gap between a trained random-features readout and NNGP regression."""

import numpy as np

from lmtheory.theory import kernels, nngp


def test_readout_gap_exponent_matches_a_small_monte_carlo():
    """Independent check: ridge regression on n ReLU random features (numpy, He scale, no biases) against NNGP
    kernel regression, for n = 128, 512, 2048 and 100 feature draws each; the log-log slope of the mean squared gap
    is -1 within 0.1 (its standard error here is about 0.03)."""
    rng = np.random.default_rng(1)
    angles = np.concatenate([rng.uniform(0, 2 * np.pi, 8), np.linspace(0, 2 * np.pi, 16, endpoint=False)])
    x = np.sqrt(2) * np.stack([np.cos(angles), np.sin(angles)], -1)         # |x|^2 / d = 1
    y = np.sin(2 * angles[:8])
    ridge, widths, draws = 1.0, np.array([128, 512, 2048]), 100

    def regress(k):                                                         # k: (..., 24, 24)
        return (k[..., 8:, :8] @ np.linalg.solve(k[..., :8, :8] + ridge * np.eye(8), y[:, None]))[..., 0]

    f_inf = regress(kernels.nngp_kernel(x, depth=2, sigma_w=np.sqrt(2), sigma_b=0.0, activation="relu"))
    gap = []
    for n in widths:
        h = x @ rng.standard_normal((draws, 2, n))                          # sigma_w / sqrt(d) = 1
        f = np.sqrt(2) * np.maximum(h, 0) / np.sqrt(n)                      # readout features sigma_w phi / sqrt(n)
        gap.append(np.mean(np.sum((regress(f @ f.transpose(0, 2, 1)) - f_inf) ** 2, -1)))
    slope = np.polyfit(np.log(widths), np.log(gap), 1)[0]
    assert abs(slope - nngp.readout_gap_exponent()) < 0.1
