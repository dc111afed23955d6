import numpy as np
import pytest

import lmtheory as lmt


def test_mean_se_matches_definition():
    x = np.random.default_rng(0).normal(size=(40, 3))
    est = lmt.mean_se(x)
    np.testing.assert_allclose(est.value, x.mean(0))
    np.testing.assert_allclose(est.stderr, x.std(0, ddof=1) / np.sqrt(40))
    with pytest.raises(ValueError):
        lmt.mean_se([1.0])


def test_loglog_slope_standard_error_is_calibrated():
    """Over many noisy fits, the spread of the slope matches the reported standard error (Monte Carlo)."""
    rng = np.random.default_rng(1)
    x = np.geomspace(1, 1000, 10)
    fits = [lmt.loglog_slope(x, 2.0 * x**0.7 * np.exp(0.05 * rng.standard_normal(10))) for _ in range(2000)]
    slopes = np.array([float(f.value) for f in fits])
    ses = np.array([float(f.stderr) for f in fits])
    assert abs(slopes.mean() - 0.7) < 4 * slopes.std() / np.sqrt(len(slopes))
    # ratio of empirical spread to mean reported SE: 1 within Monte-Carlo error (~2-3% for 2000 fits)
    assert abs(slopes.std() / np.sqrt(np.mean(ses**2)) - 1) < 0.06


def test_loglog_slope_rejects_bad_input():
    with pytest.raises(ValueError):
        lmt.loglog_slope([1, 2], [1, 2])
    with pytest.raises(ValueError):
        lmt.loglog_slope([1, 2, -3], [1, 2, 3])
    with pytest.raises(ValueError):
        lmt.loglog_slope([1, 2, 3], [1, 2, 3, 4])


def test_crossing_time_interpolates_and_marks_never():
    t = np.linspace(0, 1, 11)
    traj = np.stack([t, 0.5 * t])
    out = lmt.crossing_time(t, traj, 0.75)
    np.testing.assert_allclose(out[0], 0.75)
    assert np.isnan(out[1])


def test_estimate_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        lmt.Estimate(np.zeros(3), np.zeros(2), 3)
    with pytest.raises(ValueError):
        lmt.Estimate(np.zeros(3), np.zeros(3), 3, kind="median")


def test_mean_se_omit_nan_equals_mean_se_of_the_kept_values():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 3))
    x[2, 0] = x[5, 0] = x[4, 2] = np.nan
    est = lmt.mean_se(x, omit_nan=True)
    for j in range(3):
        kept = lmt.mean_se(x[~np.isnan(x[:, j]), j])
        np.testing.assert_allclose([est.value[j], est.stderr[j]], [kept.value, kept.stderr], rtol=1e-12)
    assert est.n == 5
    with pytest.raises(ValueError, match="non-NaN"):
        lmt.mean_se([[1.0, np.nan], [2.0, np.nan], [3.0, 1.0]], omit_nan=True)
    assert np.isnan(lmt.mean_se(x).value[0])          # without the flag a NaN is not hidden
