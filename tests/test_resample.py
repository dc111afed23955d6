"""Jackknife standard errors against the spread of repeated experiments (Monte Carlo)."""

import numpy as np
import pytest

from lmtheory import loglog_slope
from lmtheory.contract import resample


def test_seed_loglog_slope_value_is_the_fit_to_seed_means():
    rng = np.random.default_rng(0)
    x = np.array([64.0, 128.0, 256.0, 512.0])
    samples = x[:, None] ** -0.7 * rng.lognormal(0.0, 0.3, size=(4, 20))
    assert np.isclose(resample.seed_loglog_slope(x, samples).value, loglog_slope(x, samples.mean(1)).value)


def test_jackknife_slope_error_matches_the_spread_over_repeated_sweeps():
    """Repeat a noisy sweep many times: the typical jackknife SE equals the standard deviation of the slopes."""
    rng = np.random.default_rng(1)
    x, seeds, reps = np.array([1.0, 2.0, 4.0, 8.0]), 16, 2000
    slopes, ses = [], []
    for _ in range(reps):
        common = rng.lognormal(0.0, 0.4, size=(1, seeds))          # the same seed reused at every x: correlated
        samples = x[:, None] ** -1.0 * common * rng.lognormal(0.0, 0.3, size=(4, seeds))
        est = resample.seed_loglog_slope(x, samples)
        slopes.append(float(est.value))
        ses.append(float(est.stderr))
    spread = np.std(slopes, ddof=1)
    assert abs(np.sqrt(np.mean(np.square(ses))) / spread - 1) < 0.1        # jackknife SE is calibrated
    assert abs(np.mean(slopes) + 1.0) < 4 * spread / np.sqrt(reps) + 0.01  # and the slope nearly unbiased


def test_jackknife_of_the_mean_is_the_standard_error_and_errors():
    v = np.random.default_rng(2).normal(size=(3, 50))
    value, se = resample.jackknife(lambda m: m, v, axis=1)
    np.testing.assert_allclose(value, v.mean(1))
    np.testing.assert_allclose(se, v.std(1, ddof=1) / np.sqrt(50))
    with pytest.raises(ValueError):
        resample.jackknife(lambda m: m, np.ones(2))
    with pytest.raises(ValueError):
        resample.jackknife(None, np.ones(5))
    with pytest.raises(ValueError):
        resample.seed_loglog_slope([1.0, 2.0], np.ones((3, 4)))
    with pytest.raises(ValueError):
        resample.seed_loglog_slope([1.0, 2.0], -np.ones((2, 4)))
