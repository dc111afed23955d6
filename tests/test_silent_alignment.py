"""Silent-alignment theory against an explicit simulation of the linear phase and Monte Carlo over seeds."""

import numpy as np
import pytest
from scipy import special

from lmtheory.theory import linear_networks as dln
from lmtheory.theory import silent_alignment as sa


@pytest.mark.parametrize("lr", [None, 0.05])
def test_alignment_matches_explicit_small_weight_dynamics(lr):
    """Iterate GD (or fine-step flow) on L = (s - w2 W1 v)^2/2 + ... for tiny weights; A = v^T M v / ||M||_F."""
    rng = np.random.default_rng(0)
    dim, width, s, sigma = 6, 20_000, 1.5, 1e-6
    v = np.eye(dim)[0]
    w1, w2 = sigma * rng.normal(size=(width, dim)), sigma * rng.normal(size=width)
    step = 0.001 if lr is None else lr
    times, got = [], []
    for k in range(int(2.0 / step) + 1):
        if k % int(0.25 / step) == 0:
            m = w1.T @ w1 + (w2 @ w2) * np.eye(dim)
            times.append(k * step)
            got.append(v @ m @ v / np.linalg.norm(m))
        # whitened GD: dW1 = w2 (s v - W1^T w2)^T, dw2 = W1 (s v - W1^T w2); weights stay tiny (linear phase)
        resid = s * v - w1.T @ w2
        w1, w2 = w1 + step * np.outer(w2, resid), w2 + step * w1 @ resid
    pred = sa.linear_alignment(np.array(times), strength=s, dim=dim, lr=lr)
    np.testing.assert_allclose(got, pred, atol=5 * dim / width + 2e-3 * (lr is None))   # O(dim/width), Euler error


def test_alignment_time_and_limits():
    a0, a1 = sa.alignment_limits(8)
    t90 = sa.alignment_time(strength=2.0, dim=8)
    assert np.isclose(sa.linear_alignment(t90, strength=2.0, dim=8), a0 + 0.9 * (a1 - a0))
    assert np.isclose(t90 * 2.0, sa.alignment_time(strength=1.0, dim=8))          # time scale 1/s
    assert sa.alignment_time(strength=1.0, dim=8, lr=0.05) > sa.alignment_time(strength=1.0, dim=8)


def test_loss_drop_time_matches_monte_carlo_over_the_initial_mode_strength():
    """u0 = sigma^2 chi^2_N / 2; time for the logistic mode to reach l s, averaged over draws."""
    rng = np.random.default_rng(1)
    s, sigma, width, drop = 1.0, 1e-4, 64, 0.1
    u0 = sigma**2 * rng.chisquare(width, size=200_000) / 2
    level = 1 - np.sqrt(1 - drop)
    t = (special.logit(level) - special.logit(u0 / s)) / (2 * s)       # logistic: logit(u/s) = 2st + logit(u0/s)
    assert np.isclose(dln.mode_trajectory(t[0], strength=s, init=u0[0]), level * s)
    pred = sa.loss_drop_time(strength=s, init_scale=sigma, width=width, drop=drop)
    assert abs(t.mean() - pred) < 4 * t.std() / np.sqrt(t.size) + 1e-6 * pred   # + O(u0/s) from logit(u0/s)


def test_value_errors():
    with pytest.raises(ValueError):
        sa.alignment_limits(1)
    with pytest.raises(ValueError):
        sa.linear_alignment(-1.0, strength=1.0, dim=4)
    with pytest.raises(ValueError):
        sa.linear_alignment(1.0, strength=1.0, dim=4, lr=2.0)
    with pytest.raises(ValueError):
        sa.alignment_time(strength=1.0, dim=4, fraction=1.5)
    with pytest.raises(ValueError):
        sa.loss_drop_time(strength=1.0, init_scale=1e-3, width=8, drop=0.0)
