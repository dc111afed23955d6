"""The prediction contract: it passes when right, fails (and says why) when wrong, and records both."""

import json

import numpy as np
import pytest

import lmtheory as lmt
from lmtheory.contract.check import evaluate


def test_relative_pass_and_fail():
    assert lmt.check("t", "s", predicted=2.0, measured=2.09, tol=lmt.relative(0.05), reference="r",
                     quiet=True).passed
    with pytest.raises(lmt.PredictionFailed) as info:
        lmt.check("t", "s", predicted=2.0, measured=2.2, tol=lmt.relative(0.05), reference="r", quiet=True)
    assert info.value.verdict.passed is False
    assert float(info.value.predicted) == 2.0 and float(info.value.measured) == 2.2
    assert "FAIL t" in str(info.value)


def test_absolute_on_arrays_fails_if_any_element_fails():
    pred = np.array([1.0, 2.0, 3.0])
    assert lmt.check("a", "s", predicted=pred, measured=pred + 1e-7, tol=lmt.absolute(1e-6), reference="r",
                     quiet=True).passed
    with pytest.raises(lmt.PredictionFailed):
        lmt.check("a", "s", predicted=pred, measured=pred + np.array([0, 0, 1e-3]), tol=lmt.absolute(1e-6),
                  reference="r", quiet=True)


def test_standard_errors_and_floor():
    est = lmt.Estimate(np.array(10.2), np.array(0.1), 50)
    assert lmt.check("m", "s", predicted=10.0, measured=est, tol=lmt.within_se(3), reference="r",
                     quiet=True).passed
    with pytest.raises(lmt.PredictionFailed):
        lmt.check("m", "s", predicted=10.0, measured=est, tol=lmt.within_se(1), reference="r", quiet=True)
    # a 5% systematic floor admits an error of 0.4 even though it is 4 SE
    est2 = lmt.Estimate(np.array(10.4), np.array(0.1), 50)
    assert lmt.check("m", "s", predicted=10.0, measured=est2, tol=lmt.within_se(3, rel_floor=0.05),
                     reference="r", quiet=True).passed


def test_slope_check_uses_fitted_standard_error():
    x = np.geomspace(1, 100, 8)
    rng = np.random.default_rng(0)
    slope = lmt.loglog_slope(x, x**-1.0 * np.exp(0.01 * rng.standard_normal(8)))
    assert slope.kind == "slope"
    assert lmt.check("k", "s", predicted=-1.0, measured=slope, tol=lmt.within_se(4), reference="r",
                     quiet=True).passed
    with pytest.raises(lmt.PredictionFailed):
        lmt.check("k", "s", predicted=-1.25, measured=slope, tol=lmt.within_se(4), reference="r", quiet=True)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_measurement_is_a_clear_failure(bad):
    with pytest.raises(lmt.PredictionFailed) as info:
        lmt.check("n", "s", predicted=1.0, measured=bad, tol=lmt.relative(0.5), reference="r", quiet=True)
    assert "not finite" in str(info.value)


def test_stderr_tolerance_needs_an_estimate_and_relative_needs_nonzero_prediction():
    with pytest.raises(ValueError, match="standard error"):
        lmt.check("x", "s", predicted=1.0, measured=1.0, tol=lmt.within_se(3), reference="r", quiet=True)
    with pytest.raises(ValueError, match="non-zero"):
        lmt.check("x", "s", predicted=0.0, measured=0.0, tol=lmt.relative(0.1), reference="r", quiet=True)


@pytest.mark.parametrize("kwargs", [dict(id=""), dict(statement=" "), dict(reference=None)])
def test_check_rejects_missing_text(kwargs):
    base = dict(id="i", statement="s", reference="r")
    base.update(kwargs)
    with pytest.raises(ValueError):
        lmt.check(predicted=1.0, measured=1.0, tol=lmt.absolute(1.0), quiet=True, **base)


def test_bad_tolerances_are_rejected():
    for make in (lambda: lmt.relative(0), lambda: lmt.absolute(-1), lambda: lmt.within_se(np.nan),
                 lambda: lmt.Tolerance("fuzzy", 1.0), lambda: lmt.within_se(3, rel_floor=-0.1)):
        with pytest.raises(ValueError):
            make()
    with pytest.raises(ValueError, match="Tolerance"):
        lmt.check("i", "s", predicted=1.0, measured=1.0, tol=0.1, reference="r", quiet=True)


def test_shape_mismatch_is_rejected():
    with pytest.raises(ValueError, match="shapes"):
        evaluate(np.ones(3), np.ones(2), None, lmt.absolute(1.0))


def test_verdict_line_shows_both_numbers(capsys):
    lmt.check("shown", "words", predicted=1.5, measured=1.5, tol=lmt.absolute(1e-9), reference="ref")
    out = capsys.readouterr().out
    assert out.startswith("PASS shown: words") and "predicted 1.5" in out and "measured 1.5" in out
    assert "[ref]" in out


def test_run_check_records_passes_and_failures(tmp_path, monkeypatch):
    monkeypatch.setenv("LMTHEORY_RECORDS", str(tmp_path))
    run = lmt.Run("chap", seed=3, scale="ci", run_id="abc")
    run.check("ok", "s", predicted=1.0, measured=1.01, tol=lmt.relative(0.05), reference="r")
    with pytest.raises(lmt.PredictionFailed):
        run.check("bad", "s", predicted=1.0, measured=np.nan, tol=lmt.relative(0.05), reference="r")
    rows = [json.loads(line) for line in (tmp_path / "chap.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["ok", "bad"]
    assert [r["passed"] for r in rows] == [True, False]
    assert rows[1]["measured"] == "nan" and rows[1]["reason"].startswith("measured value is not finite")
    assert {r["run_id"] for r in rows} == {"abc"} and rows[0]["seed"] == 3
    assert rows[0]["tolerance"] == {"kind": "relative", "value": 0.05, "rel_floor": 0.0, "abs_floor": 0.0}


def test_recorded_inputs_reproduce_the_verdict(tmp_path, monkeypatch):
    monkeypatch.setenv("LMTHEORY_RECORDS", str(tmp_path))
    run = lmt.Run("chap", seed=0)
    est = lmt.Estimate(np.array([1.0, 2.0]), np.array([0.1, 0.1]), 10)
    run.check("se", "s", predicted=[1.1, 2.05], measured=est, tol=lmt.within_se(3), reference="r")
    row = json.loads((tmp_path / "chap.jsonl").read_text())
    _, _, passed, _ = evaluate(row["predicted"], row["measured"], row["stderr"], lmt.Tolerance(**row["tolerance"]))
    assert passed is True
    _, _, passed, _ = evaluate(np.array(row["predicted"]) * 1.25, row["measured"], row["stderr"],
                               lmt.Tolerance(**row["tolerance"]))
    assert passed is False


def test_within_se_with_few_degrees_of_freedom_keeps_the_false_alarm_rate():
    from scipy import stats
    for dof in (3, 15, 63):
        tol = lmt.within_se(3, dof=dof)
        assert tol.value > 3
        np.testing.assert_allclose(stats.t.sf(tol.value, dof), stats.norm.sf(3.0), rtol=1e-9)
    # Monte Carlo: z = mean / (s / sqrt(n)) of 16 normal draws exceeds 3 SE far more often than 0.27%
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200_000, 16))
    z = np.abs(x.mean(1) / (x.std(1, ddof=1) / 4))
    rate = lambda c: np.mean(z > c)  # noqa: E731
    assert rate(3.0) > 3 * 0.0027 and abs(rate(lmt.within_se(3, dof=15).value) - 0.0027) < 4 * np.sqrt(0.0027 / 2e5)
    for bad in (0, -2, 1.5):
        with pytest.raises(ValueError, match="dof"):
            lmt.within_se(3, dof=bad)
