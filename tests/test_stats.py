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


# ---- degrees of freedom, stack, indexing, delta method, one slope estimator ------------------------------

def test_estimates_carry_their_degrees_of_freedom():
    assert lmt.mean_se(np.ones((16, 2)) + np.arange(32).reshape(16, 2)).dof == 15
    x = np.geomspace(1, 10, 7)
    assert lmt.slope(x, x**2).dof == 5
    assert lmt.slope(x, np.outer(np.linspace(1, 2, 20), x**2), error="jackknife").dof == 19
    assert lmt.slope(x, np.outer(np.linspace(1, 2, 20), x**2), error="delta").dof == 19
    with pytest.raises(ValueError, match="dof"):
        lmt.Estimate(1.0, 0.1, n=1)
    with pytest.raises(ValueError, match="stderr"):
        lmt.Estimate(1.0, -0.1, n=10)


def test_stack_and_indexing_keep_values_errors_and_the_smallest_dof():
    a, b = lmt.Estimate([1.0, 2.0], [0.1, 0.2], 10), lmt.Estimate([3.0, 4.0], [0.3, 0.4], 20)
    s = lmt.Estimate.stack([a, b])
    assert s.shape == (2, 2) and s.dof == 9 and s.n == 10
    np.testing.assert_array_equal(s[1].value, [3.0, 4.0])
    np.testing.assert_array_equal(s[:, 0].stderr, [0.1, 0.3])
    with pytest.raises(ValueError, match="kinds"):
        lmt.Estimate.stack([a, lmt.Estimate(1.0, 0.1, 5, "slope")])
    with pytest.raises(ValueError):
        lmt.Estimate.stack([])


def test_map_propagates_errors_like_the_closed_form_delta_method():
    e = lmt.Estimate([2.0, 3.0], [0.02, 0.03], 16)
    out = e.map(lambda v: v[0] ** 2 * v[1])           # d/dx = 2xy, d/dy = x^2
    expected = np.hypot(2 * 2.0 * 3.0 * 0.02, 2.0**2 * 0.03)
    np.testing.assert_allclose(out.stderr, expected, rtol=1e-6)
    assert out.dof == 15 and float(out.value) == 12.0


def test_map_error_is_calibrated_by_monte_carlo():
    """The delta-method SE of exp(mean) matches the spread of exp(mean) over many repetitions."""
    rng = np.random.default_rng(2)
    draws = rng.normal(1.0, 1.0, size=(4000, 400))
    ests = [lmt.mean_se(d).map(np.exp) for d in draws[:50]]
    spread = np.std(np.exp(draws.mean(1)), ddof=1)
    reported = np.mean([float(e.stderr) for e in ests])
    assert abs(reported / spread - 1) < 0.08          # 4000 repetitions: the spread is known to ~1.1%


@pytest.mark.parametrize("error", ["ols", "jackknife", "delta"])
def test_slope_standard_errors_are_calibrated(error):
    """For each error model, the spread of the fitted slope over repetitions matches the reported SE."""
    rng = np.random.default_rng(3)
    x = np.geomspace(1, 100, 6)
    reps, seeds = 1500, 20
    noise = 0.05 * rng.standard_normal((reps, seeds, x.size))
    samples = np.exp(noise) * x**0.7
    fits = [lmt.slope(x, s if error != "ols" else s.mean(0), error=error) for s in samples]
    slopes = np.array([float(f.value) for f in fits])
    ses = np.array([float(f.stderr) for f in fits])
    assert abs(slopes.mean() - 0.7) < 4 * slopes.std() / np.sqrt(reps)
    assert abs(slopes.std() / np.sqrt(np.mean(ses**2)) - 1) < 0.1


def test_slope_log_modes_and_transform():
    x = np.arange(1.0, 8.0)
    np.testing.assert_allclose(float(lmt.slope(x, 3 * np.exp(-x / 4), log="y").value), -0.25)
    np.testing.assert_allclose(float(lmt.slope(x, 2 * x + 1, log=False).value), 2.0)
    np.testing.assert_allclose(float(lmt.slope(x, 5 * np.log(x), log="x").value), 5.0)
    curves = 1 + np.exp(-x / 3) * np.linspace(0.9, 1.1, 8)[:, None]
    rate = lmt.slope(x, curves, log="y", error="jackknife", transform=lambda c: np.abs(c - 1))
    np.testing.assert_allclose(float(rate.value), -1 / 3, rtol=1e-9)
    for bad in (dict(log="z"), dict(error="bootstrap")):
        with pytest.raises(ValueError):
            lmt.slope(x, x, **bad)
    with pytest.raises(ValueError, match="seeds"):
        lmt.slope(x, x, error="jackknife")
