"""The audits of the contract: falsifiability (arithmetic on records) and seeds (reruns of notebooks)."""

import json
import random
import textwrap
import time

import nbformat
import numpy as np
import pytest

from lmtheory.book.audit import __main__ as cli
from lmtheory.book.audit import falsifiability as fa
from lmtheory.book.audit import seeds as sa


def record(**over):
    rec = {"id": "demo-x", "statement": "s", "reference": "r", "predicted": 1.0, "measured": 1.0, "stderr": None,
           "dof": "inf", "evidence": "solvable-model", "theory": ["lmtheory.theory.linear_networks.rise_time"],
           "check_kind": "check", "pair": None, "margin": None, "alternative": None, "error": 0.0, "allowed": 0.02,
           "tolerance": {"kind": "relative", "value": 0.02}, "measured_kind": "value", "passed": True,
           "reason": "", "chapter": "demo", "seed": 0, "scale": "ci", "run_id": "run-1", "started": time.time()}
    rec.update(over)
    return rec


def stderr_record(se, **tol):
    return record(measured_kind="mean", predicted=[2.0, 4.0], measured=[2.01, 3.99], stderr=[se, se],
                  dof=15, tolerance={"kind": "stderr", "value": 5e-5, "rel_floor": 0.0, "abs_floor": 0.0, **tol})


# ---- perturbations ----------------------------------------------------------------------------------------

def test_value_and_mean_predictions_are_scaled():
    (l1, up), (l2, down) = fa.perturbations(record(predicted=[1.0, -2.0]))
    assert (l1, l2) == ("×1.25", "×0.8")
    np.testing.assert_allclose(up, [1.25, -2.5])
    np.testing.assert_allclose(down, [0.8, -1.6])


def test_slopes_are_shifted_by_a_quarter_of_their_size():
    (l1, up), (l2, down) = fa.perturbations(record(measured_kind="slope", predicted=-0.5))
    assert (l1, l2) == ("+25%", "-25%")
    assert (float(up), float(down)) == (-0.375, -0.625)


def test_zero_predictions():
    # a zero element with a named alternative: moved to +-alternative
    (_, up), (_, down) = fa.perturbations(record(predicted=[0.0, 4.0], alternative=0.3,
                                                 tolerance={"kind": "absolute", "value": 0.1}))
    np.testing.assert_allclose(up, [0.3, 5.0])
    np.testing.assert_allclose(down, [-0.3, 3.2])
    # an old record without one: 25% of the largest |predicted|; every element zero: refused
    (_, up), _ = fa.perturbations(record(predicted=[0.0, 4.0], tolerance={"kind": "absolute", "value": 0.1}))
    np.testing.assert_allclose(up, [1.0, 5.0])
    with pytest.raises(ValueError, match="alternative"):
        fa.perturbations(record(predicted=0.0, measured=1e-13, tolerance={"kind": "absolute", "value": 1e-10}))


def test_non_finite_predictions_are_rejected():
    with pytest.raises(ValueError, match="finite"):
        fa.perturbations(record(predicted=["nan"]))


# ---- verdicts of the audit --------------------------------------------------------------------------------

def test_a_tight_check_is_falsifiable():
    out = fa.falsify(record())
    assert out.ok and out.status == "ok" and [f for _, f, _ in out.results] == [True, True]


def test_a_loose_tolerance_survives_with_its_reason():
    out = fa.falsify(record(tolerance={"kind": "relative", "value": 0.3}))
    assert not out.ok and out.status == "NOT FALSIFIABLE"
    assert out.reasons()[0].startswith("survives ×1.25: tolerance too loose: rel 30% allows 0.375")


def test_a_noisy_measurement_survives_with_its_reason():
    out = fa.falsify(stderr_record(0.5))
    assert not out.ok and "measured too noisy: 5.61 SE (α=5e-05, 15 dof) = 2.8" in out.reasons()[0]
    assert fa.falsify(stderr_record(0.01)).ok


def test_a_loose_floor_survives_with_its_reason():
    out = fa.falsify(stderr_record(0.01, rel_floor=0.5))
    assert not out.ok and "systematic floor allows" in out.reasons()[0]


def test_zero_prediction_checks():
    near_zero = record(predicted=[0.0, 4.0], measured=[0.001, 4.0], alternative=0.05,
                       tolerance={"kind": "absolute", "value": 0.01})
    assert fa.falsify(near_zero).ok and fa.falsify(near_zero).note == "zero: alternative"
    zero = record(predicted=[0.0], measured=[0.001], alternative=0.05, tolerance={"kind": "absolute", "value": 0.01})
    assert fa.falsify(zero).ok
    assert not fa.falsify(dict(zero, alternative=0.005)).ok     # an alternative inside the tolerance survives
    identity = record(predicted=0.0, measured=1e-13, tolerance={"kind": "absolute", "value": 1e-10})
    assert fa.falsify(identity).status == "INVALID"


def breaks_record(**over):
    rec = record(id="demo-breaks", predicted=1.0, measured=1.5, check_kind="breaks", pair="demo-x", margin=0.2,
                 tolerance={"kind": "relative", "value": 0.05})
    rec.update(over)
    return rec


def test_theory_breaks_records_need_a_real_margin_and_pair():
    outcomes = fa.audit([record(), breaks_record()])
    assert all(o.ok for o in outcomes) and outcomes[1].check_kind == "breaks"
    out = fa.falsify(breaks_record(margin=0.08), {"demo-x"})                        # < 2 x 5%
    assert out.status == "INVALID" and "vacuous margin" in out.problem
    out = fa.falsify(breaks_record(), {"other"})
    assert out.status == "INVALID" and "pair" in out.problem
    out = fa.falsify(breaks_record(measured=1.1), {"demo-x"})                       # misses by 10% < 20%
    assert out.status == "FAILS AS RECORDED"
    se = breaks_record(stderr=0.01, dof=15, margin=11.0, tolerance={"kind": "stderr", "value": 5e-5})
    assert "vacuous margin" in fa.falsify(se, {"demo-x"}).problem                    # 2 x 5.61 SE = 11.2


def test_false_alarm_budget_is_the_sum_of_alpha_over_statistical_checks():
    stat = stderr_record(0.01)
    outcomes = fa.audit([stat, record()])
    assert fa.false_alarm_rate(outcomes) == pytest.approx(5e-5) and fa.passes(outcomes)
    many = fa.audit([dict(stat, id=f"s{i}") for i in range(201)])       # 201 x 5e-5 = 1.005% > 1%
    assert all(o.ok for o in many) and not fa.passes(many)
    assert "OVER BUDGET" in fa.report(many)
    assert "designed false-alarm rate per full run: 0.005% (1 statistical checks" in fa.report(outcomes)


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_non_finite_measurements_fail_the_audit_clearly(bad):
    out = fa.falsify(record(measured=bad, passed=False))
    assert not out.ok and out.status == "FAILS AS RECORDED"
    assert out.reasons() == ["does not pass as recorded: measured value is not finite (nan or inf)"]


def test_unevaluable_records_fail_the_audit_without_crashing():
    out = fa.falsify(record(predicted=0.0))  # a relative tolerance needs a non-zero prediction
    assert out.status == "INVALID" and "cannot be evaluated" in out.problem
    assert fa.falsify({"id": "broken"}).status == "INVALID"


def test_report_counts_and_lists_reasons():
    outcomes = fa.audit([record(), record(id="demo-loose", tolerance={"kind": "relative", "value": 0.5})])
    text = fa.report(outcomes)
    assert text.splitlines()[-1] == "1/2 checks fail under perturbation"
    assert "designed false-alarm rate per full run: 0% (0 statistical checks" in text
    assert "demo demo-loose: survives ×1.25: tolerance too loose" in text
    with pytest.raises(ValueError, match="no records"):
        fa.audit([])


# ---- the command line -------------------------------------------------------------------------------------

def write(folder, *records):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "demo.jsonl", "a") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)


def test_falsifiability_command(tmp_path, capsys):
    assert cli.main(["falsifiability", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert cli.main(["falsifiability", str(tmp_path / "empty")]) == 2
    assert "holds no records" in capsys.readouterr().err
    write(tmp_path / "good", record(), record(id="demo-y"))
    assert cli.main(["falsifiability", str(tmp_path / "good")]) == 0
    assert "2/2 checks fail under perturbation" in capsys.readouterr().out
    write(tmp_path / "good", record(id="demo-old", run_id="run-0", tolerance={"kind": "relative", "value": 0.9}))
    assert cli.main(["falsifiability", str(tmp_path / "good")]) == 2  # two runs: refuse to mix them
    assert "mixes 2 runs" in capsys.readouterr().err
    assert cli.main(["falsifiability", str(tmp_path / "good"), "--run-id", "run-1"]) == 0
    assert cli.main(["falsifiability", str(tmp_path / "good"), "--run-id", "run-0"]) == 1
    assert "0/1 checks fail under perturbation" in capsys.readouterr().out


# ---- the seed audit ---------------------------------------------------------------------------------------

def test_fresh_seeds_and_arguments(tmp_path):
    seeds = sa.fresh_seeds(5, rng=random.Random(0))
    assert len(set(seeds)) == 5 and not set(seeds) & set(sa.SKIP_SEEDS)
    for k in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="positive integer"):
            sa.fresh_seeds(k)
    with pytest.raises(ValueError, match="no notebooks"):
        sa.find_notebooks([tmp_path])
    with pytest.raises(ValueError, match="not a notebook"):
        sa.find_notebooks([tmp_path / "x.py"])
    with pytest.raises(ValueError, match="distinct"):
        sa.run_audit([], [3, 3], tmp_path)
    assert cli.main(["seeds", str(tmp_path), "--seeds", "1,2"]) == 2


def test_summary_counts_failed_missing_and_non_finite_seeds():
    ok, nan = record(measured=1.001), record(measured="nan", passed=False)
    runs = [{"notebook": "n.ipynb", "seed": 1, "seconds": 2.0, "error": "", "records": [ok, record(id="y")]},
            {"notebook": "n.ipynb", "seed": 2, "seconds": 3.0, "error": "PredictionFailed: FAIL", "records": [nan]},
            {"notebook": "m.ipynb", "seed": 1, "seconds": 9.0, "error": "", "records": [record(id="z")]}]
    report = sa.summarize(runs, [1, 2])
    by_id = {c["id"]: c for c in report["checks"]}
    assert (by_id["demo-x"]["passed"], by_id["demo-x"]["failed_seeds"]) == (1, [2])
    assert by_id["demo-x"]["worst_error_over_allowed"] == float("inf")
    assert (by_id["y"]["passed"], by_id["y"]["missing_seeds"]) == (1, [2])
    assert report["slowest"] == {"notebook": "m.ipynb", "seconds": 9.0}
    assert not report["ok"] and report["notebooks"][0]["errors"] == {"2": "PredictionFailed: FAIL"}
    assert "AUDIT FAILED" in sa.format_report(report)


def test_report_tables_handle_measured_arrays_of_any_rank():
    """Regression (first full audit): a 2-D measured array crashed the report after 30 minutes of runs."""
    runs = [{"notebook": "n.ipynb", "seed": s, "seconds": 1.0, "error": "",
             "records": [record(predicted=[[1.0, 2.0], [3.0, 4.0]], measured=[[1.0, 2.0], [3.0, 4.0 + s / 100]])]}
            for s in (1, 2)]
    report = sa.summarize(runs, [1, 2])
    assert "(element (1, 1) of 4)" in sa.format_report(report)


def test_seed_audit_runs_every_seed_even_after_a_failure(tmp_path):
    # What run.check does, without importing lmtheory (and jax) into the kernel: write a record, then raise.
    code = textwrap.dedent("""\
        import json, os, pathlib
        seed, folder = int(os.environ["LMTHEORY_SEED"]), pathlib.Path(os.environ["LMTHEORY_RECORDS"])
        rec = %s
        rec.update(seed=seed, run_id=os.environ["LMTHEORY_RUN_ID"], measured=1.0 + seed %% 2)
        rec["passed"] = seed %% 2 == 0
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "tiny.jsonl", "a") as fh:
            fh.write(json.dumps(rec) + "\\n")
        if not rec["passed"]:
            raise AssertionError("FAIL tiny-even")
        """) % repr(record(id="tiny-even", chapter="tiny", tolerance={"kind": "absolute", "value": 0.5}))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)], metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, tmp_path / "tiny.ipynb")
    report = sa.run_audit([tmp_path / "tiny.ipynb"], [3, 4], tmp_path / "out", log=lambda line: None)
    (check,) = report["checks"]
    assert (check["id"], check["passed"], check["failed_seeds"]) == ("tiny-even", 1, [3])
    assert check["measured"]["min"] == 1.0 and check["measured"]["max"] == 2.0
    assert set(report["notebooks"][0]["seconds"]) == {"3", "4"} and not report["ok"]
    assert report["notebooks"][0]["errors"]["3"] == "AssertionError: FAIL tiny-even"
    json_path, md_path = sa.write_report(report, tmp_path / "out")
    assert json.loads(json_path.read_text())["seeds"] == [3, 4]
    assert "| tiny | tiny-even | 1/2 | 3 |" in md_path.read_text()
    assert sorted(p.name for p in (tmp_path / "out" / "records").iterdir()) == ["seed-3", "seed-4"]
    # the report can be rebuilt from the folder alone (an interrupted audit loses nothing it finished)
    rebuilt = sa.summarize(*sa.load_runs(tmp_path / "out"))
    assert rebuilt["checks"] == report["checks"] and rebuilt["seeds"] == [3, 4]
    assert cli.main(["seeds", "--report-only", "--out", str(tmp_path / "out")]) == 1      # seed 3 failed
    assert cli.main(["seeds", "--report-only", "--out", str(tmp_path / "none")]) == 2
