"""The prediction contract: it passes when right, fails (and says why) when wrong, and records both."""

import json
import math

import numpy as np
import pytest
from scipy import stats

import lmtheory as lmt
from lmtheory.contract.check import DEFAULT_ALPHA, EVIDENCE, evaluate, se_multiplier
from lmtheory.theory import linear_networks as dln

SRC = dln.rise_time      # a theory function to make recorded predictions with: rise_time(strength=s) = ln 9 / s


def pred(value):
    """A recorded prediction with value ``value``: ln 9 / s at s = ln 9 / value."""
    v = np.asarray(value, float)
    return lmt.predict(SRC, strength=np.log(9.0) / v) if np.all(v != 0) else 0 * lmt.predict(SRC, strength=1.0) + v


def chk(id="t", statement="s", *, predicted, measured, tol, evidence="solvable-model", reference="r", **kw):
    return lmt.check(id, statement, predicted=predicted, measured=measured, tol=tol, evidence=evidence,
                     reference=reference, quiet=True, **kw)


# ---- recorded predictions -------------------------------------------------------------------------------

def test_predict_records_the_dotted_path_and_arithmetic_keeps_the_union():
    from lmtheory.theory import stability
    a = lmt.predict(dln.rise_time, strength=2.0)
    b = lmt.predict(stability.critical_lr, 4.0)
    c = 2 * a - np.log(b) + np.stack([a, a])[0]
    assert set(c.theory) == set(a.theory) | set(b.theory)
    assert c.theory[0].startswith("lmtheory.theory.")
    np.testing.assert_allclose(float(a), np.log(9) / 2)
    assert isinstance(a[None][0], lmt.Prediction) and np.asarray(a).dtype == float


@pytest.mark.parametrize("fn", [float, np.log, lambda s: s, lmt.mean_se])
def test_predictions_come_only_from_theory_functions(fn):
    with pytest.raises(ValueError, match="lmtheory.theory"):
        lmt.predict(fn, 1.0)


def test_check_refuses_a_prediction_without_a_source():
    for bare in (2.0, np.array([1.0, 2.0]), [1.0]):
        with pytest.raises(ValueError, match="Prediction"):
            chk(predicted=bare, measured=2.0, tol=lmt.relative(0.1))
    # numpy functions that leave the Prediction type (np.asarray) drop the source, and are refused too
    with pytest.raises(ValueError, match="Prediction"):
        chk(predicted=np.asarray(pred(2.0)), measured=2.0, tol=lmt.relative(0.1))


@pytest.mark.parametrize("evidence", ["", "trained", "Trained-Network", None])
def test_evidence_must_be_one_of_three_classes(evidence):
    with pytest.raises(ValueError, match="evidence"):
        chk(predicted=pred(2.0), measured=2.0, tol=lmt.relative(0.1), evidence=evidence)
    assert EVIDENCE == ("trained-network", "random-network", "solvable-model")


def test_verdict_carries_evidence_and_theory():
    v = chk(predicted=pred(2.0), measured=2.0, tol=lmt.relative(0.1), evidence="trained-network")
    assert v.evidence == "trained-network" and v.theory == ("lmtheory.theory.linear_networks.rise_time",)
    assert "trained-network" in v.line()


# ---- tolerances ------------------------------------------------------------------------------------------

def test_relative_pass_and_fail():
    assert chk(predicted=pred(2.0), measured=2.09, tol=lmt.relative(0.05)).passed
    with pytest.raises(lmt.PredictionFailed) as info:
        chk(predicted=pred(2.0), measured=2.2, tol=lmt.relative(0.05))
    assert info.value.verdict.passed is False
    assert float(info.value.predicted) == pytest.approx(2.0) and float(info.value.measured) == 2.2
    assert "FAIL t" in str(info.value)


def test_absolute_on_arrays_fails_if_any_element_fails():
    p = pred([1.0, 2.0, 3.0])
    assert chk(predicted=p, measured=p.value + 1e-7, tol=lmt.absolute(1e-6)).passed
    with pytest.raises(lmt.PredictionFailed):
        chk(predicted=p, measured=p.value + np.array([0, 0, 1e-3]), tol=lmt.absolute(1e-6))


def test_alpha_becomes_a_student_t_quantile_of_the_estimates_dof():
    assert se_multiplier(DEFAULT_ALPHA) == pytest.approx(4.0556, abs=1e-3)
    assert se_multiplier(DEFAULT_ALPHA, 15) == pytest.approx(5.607, abs=1e-3)
    assert se_multiplier(DEFAULT_ALPHA, 4) == pytest.approx(18.52, abs=1e-2)
    for dof in (3, 15, 63):
        k = se_multiplier(1e-3, dof)
        assert 2 * stats.t.sf(k, dof) == pytest.approx(1e-3, rel=1e-9)
    # the same error of 5 SE passes with 15 dof (5.61 allowed) and fails with infinitely many (4.06)
    p = pred(10.0)
    assert chk(predicted=p, measured=lmt.Estimate(10.5, 0.1, 16), tol=lmt.within_se()).passed
    with pytest.raises(lmt.PredictionFailed):
        chk(predicted=p, measured=lmt.Estimate(10.5, 0.1, 16, dof=math.inf), tol=lmt.within_se())


def test_the_designed_false_alarm_rate_holds_for_a_mean_of_16_seeds():
    """Monte Carlo: |mean - mu| / SE over 16 normal draws exceeds the alpha-tolerance at rate alpha."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400_000, 16))
    z = np.abs(x.mean(1) / (x.std(1, ddof=1) / 4))
    alpha = 1e-2                                # large enough to measure: expected 4000 exceedances
    rate = np.mean(z > se_multiplier(alpha, 15))
    assert abs(rate - alpha) < 4 * np.sqrt(alpha / 4e5)
    assert np.mean(z > stats.norm.isf(alpha / 2)) > 1.3 * alpha     # the normal quantile would under-cover


def test_n_se_gives_the_false_alarm_rate_of_that_many_normal_sds():
    assert lmt.within_se(3).value == pytest.approx(2 * stats.norm.sf(3))
    assert lmt.within_se().value == DEFAULT_ALPHA
    with pytest.raises(ValueError):
        lmt.within_se(3, alpha=1e-3)


def test_standard_errors_and_floor():
    est = lmt.Estimate(np.array(10.2), np.array(0.1), 50)
    assert chk(predicted=pred(10.0), measured=est, tol=lmt.within_se()).passed
    with pytest.raises(lmt.PredictionFailed):
        chk(predicted=pred(10.0), measured=est, tol=lmt.within_se(1))
    # a 5% systematic floor admits an error of 0.6 even though it is 6 SE
    est2 = lmt.Estimate(np.array(10.6), np.array(0.1), 50)
    assert chk(predicted=pred(10.0), measured=est2, tol=lmt.within_se(rel_floor=0.07)).passed


def test_slope_check_uses_fitted_standard_error_and_its_dof():
    x = np.geomspace(1, 100, 8)
    rng = np.random.default_rng(0)
    slope = lmt.loglog_slope(x, x**-1.0 * np.exp(0.01 * rng.standard_normal(8)))
    assert slope.kind == "slope" and slope.dof == 6
    p = -1 * pred(1.0)
    assert chk(predicted=p, measured=slope, tol=lmt.within_se()).passed
    with pytest.raises(lmt.PredictionFailed):
        chk(predicted=1.25 * p, measured=slope, tol=lmt.within_se())


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_measurement_is_a_clear_failure(bad):
    with pytest.raises(lmt.PredictionFailed) as info:
        chk(predicted=pred(1.0), measured=bad, tol=lmt.relative(0.5))
    assert "not finite" in str(info.value)


def test_stderr_tolerance_needs_an_estimate_and_relative_needs_nonzero_prediction():
    with pytest.raises(ValueError, match="standard error"):
        chk(predicted=pred(1.0), measured=1.0, tol=lmt.within_se())
    with pytest.raises(ValueError, match="non-zero"):
        chk(predicted=pred(0.0), measured=0.0, tol=lmt.relative(0.1), alternative=0.1)


def test_a_zero_prediction_must_name_its_alternative():
    zero = pred(0.0)
    with pytest.raises(ValueError, match="alternative"):
        chk(predicted=zero, measured=lmt.Estimate(0.01, 0.01, 32), tol=lmt.within_se())
    v = chk(predicted=zero, measured=lmt.Estimate(0.01, 0.01, 32), tol=lmt.within_se(), alternative=0.2)
    assert v.passed and v.alternative == 0.2
    with pytest.raises(ValueError, match="alternative"):
        chk(predicted=zero, measured=lmt.Estimate(0.01, 0.01, 32), tol=lmt.within_se(), alternative=-1.0)


@pytest.mark.parametrize("kwargs", [dict(id=""), dict(statement=" "), dict(reference=None)])
def test_check_rejects_missing_text(kwargs):
    base = dict(id="i", statement="s", reference="r")
    base.update(kwargs)
    with pytest.raises(ValueError):
        lmt.check(predicted=pred(1.0), measured=1.0, tol=lmt.absolute(1.0), evidence="solvable-model", quiet=True,
                  **base)


def test_bad_tolerances_are_rejected():
    for make in (lambda: lmt.relative(0), lambda: lmt.absolute(-1), lambda: lmt.within_se(np.nan),
                 lambda: lmt.Tolerance("fuzzy", 1.0), lambda: lmt.within_se(rel_floor=-0.1),
                 lambda: lmt.within_se(alpha=1.5), lambda: lmt.within_se(alpha=0.0)):
        with pytest.raises(ValueError):
            make()
    with pytest.raises(ValueError, match="Tolerance"):
        chk(predicted=pred(1.0), measured=1.0, tol=0.1)


def test_shape_mismatch_is_rejected():
    with pytest.raises(ValueError, match="shapes"):
        evaluate(np.ones(3), np.ones(2), None, lmt.absolute(1.0))


def test_verdict_line_shows_both_numbers(capsys):
    lmt.check("shown", "words", predicted=pred(1.5), measured=1.5, tol=lmt.absolute(1e-9),
              evidence="random-network", reference="ref")
    out = capsys.readouterr().out
    assert out.startswith("PASS shown: words") and "predicted 1.5" in out and "measured 1.5" in out
    assert "[ref]" in out and "random-network" in out


# ---- where the theory breaks -----------------------------------------------------------------------------

def test_check_breaks_passes_only_when_the_prediction_misses_by_the_margin():
    far = lmt.check_breaks("b", "s", predicted=pred(1.0), measured=1.5, tol=lmt.relative(0.05), margin=0.2,
                           pair="t", evidence="trained-network", reference="r", quiet=True)
    assert far.passed and far.check_kind == "breaks" and far.pair == "t"
    with pytest.raises(lmt.PredictionFailed):        # misses by 10% < margin 20%: no evidence of a break
        lmt.check_breaks("b", "s", predicted=pred(1.0), measured=1.1, tol=lmt.relative(0.05), margin=0.2,
                         pair="t", evidence="trained-network", reference="r", quiet=True)
    est = lmt.Estimate(1.5, 0.01, 16)                # a miss of 50 SE against a margin of 12 SE (2 x 5.61)
    assert lmt.check_breaks("b", "s", predicted=pred(1.0), measured=est, tol=lmt.within_se(), margin=12,
                            pair="t", evidence="trained-network", reference="r", quiet=True).passed


def test_a_scalar_prediction_against_a_vector_measurement_is_summarized():
    v = lmt.check_breaks("b", "s", predicted=pred(1.0), measured=np.array([1.5, 1.6]), tol=lmt.relative(0.05),
                         margin=0.2, pair="t", evidence="trained-network", reference="r", quiet=True)
    assert v.passed and "50%" in v.line()
    w = lmt.check("c", "s", predicted=pred(1.0), measured=np.array([1.01, 1.02]), tol=lmt.relative(0.05),
                  evidence="trained-network", reference="r", quiet=True)
    assert w.passed and "2%" in w.line()


def test_check_breaks_margin_must_be_twice_the_tolerance():
    with pytest.raises(ValueError, match="twice"):
        lmt.check_breaks("b", "s", predicted=pred(1.0), measured=1.5, tol=lmt.relative(0.1), margin=0.15,
                         pair="t", evidence="trained-network", reference="r", quiet=True)
    with pytest.raises(ValueError, match="twice"):   # 2 x 5.61 SE at 15 dof
        lmt.check_breaks("b", "s", predicted=pred(1.0), measured=lmt.Estimate(1.5, 0.01, 16),
                         tol=lmt.within_se(), margin=10, pair="t", evidence="trained-network", reference="r",
                         quiet=True)


def test_run_check_breaks_needs_an_earlier_in_regime_pair(tmp_path, monkeypatch):
    monkeypatch.setenv("LMTHEORY_RECORDS", str(tmp_path))
    run = lmt.Run("chap", seed=0, run_id="x")
    kw = dict(predicted=pred(1.0), measured=1.5, tol=lmt.relative(0.05), margin=0.2, evidence="trained-network",
              reference="r")
    with pytest.raises(ValueError, match="pair"):
        run.check_breaks("b", "s", pair="ok", **kw)
    run.check("ok", "s", predicted=pred(1.0), measured=1.01, tol=lmt.relative(0.05), evidence="trained-network",
              reference="r")
    run.check_breaks("b", "s", pair="ok", **kw)
    rows = [json.loads(line) for line in (tmp_path / "chap.jsonl").read_text().splitlines()]
    assert [(r["id"], r["check_kind"], r["pair"]) for r in rows] == [("ok", "check", None), ("b", "breaks", "ok")]


# ---- records ---------------------------------------------------------------------------------------------

def test_run_check_records_passes_and_failures(tmp_path, monkeypatch):
    monkeypatch.setenv("LMTHEORY_RECORDS", str(tmp_path))
    run = lmt.Run("chap", seed=3, scale="ci", run_id="abc")
    run.check("ok", "s", predicted=run.predict(SRC, strength=np.log(9.0)), measured=1.01, tol=lmt.relative(0.05),
              evidence="solvable-model", reference="r")
    with pytest.raises(lmt.PredictionFailed):
        run.check("bad", "s", predicted=pred(1.0), measured=np.nan, tol=lmt.relative(0.05),
                  evidence="trained-network", reference="r")
    rows = [json.loads(line) for line in (tmp_path / "chap.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["ok", "bad"]
    assert [r["passed"] for r in rows] == [True, False]
    assert rows[1]["measured"] == "nan" and rows[1]["reason"].startswith("measured value is not finite")
    assert {r["run_id"] for r in rows} == {"abc"} and rows[0]["seed"] == 3
    assert rows[0]["tolerance"] == {"kind": "relative", "value": 0.05, "rel_floor": 0.0, "abs_floor": 0.0}
    assert [r["evidence"] for r in rows] == ["solvable-model", "trained-network"]
    assert rows[0]["theory"] == ["lmtheory.theory.linear_networks.rise_time"]
    for r in rows:
        lmt.Record.from_json(r)                       # every written record is a valid Record


def test_record_validation_names_what_is_wrong():
    row = lmt.Run("c", 0, run_id="r").record(chk(predicted=pred(1.0), measured=1.0, tol=lmt.relative(0.1)))
    lmt.Record.from_json(row)
    for field, bad, match in (("evidence", "anecdote", "evidence"), ("theory", [], "theory"),
                              ("tolerance", 3, "tolerance")):
        with pytest.raises(ValueError, match=match):
            lmt.Record.from_json(dict(row, **{field: bad}), "here")
    with pytest.raises(ValueError, match="here: record lacks field"):
        lmt.Record.from_json({k: v for k, v in row.items() if k != "theory"}, "here")


def test_recorded_inputs_reproduce_the_verdict(tmp_path, monkeypatch):
    monkeypatch.setenv("LMTHEORY_RECORDS", str(tmp_path))
    run = lmt.Run("chap", seed=0)
    est = lmt.Estimate(np.array([1.0, 2.0]), np.array([0.01, 0.01]), 20)
    run.check("se", "s", predicted=pred([1.03, 2.05]), measured=est, tol=lmt.within_se(), evidence="trained-network",
              reference="r")
    row = json.loads((tmp_path / "chap.jsonl").read_text())
    assert row["dof"] == 19
    tol = lmt.Tolerance(**row["tolerance"])
    _, _, passed, _ = evaluate(row["predicted"], row["measured"], row["stderr"], tol, row["dof"])
    assert passed is True
    _, _, passed, _ = evaluate(np.array(row["predicted"]) * 1.25, row["measured"], row["stderr"], tol, row["dof"])
    assert passed is False
