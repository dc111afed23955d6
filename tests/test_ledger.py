"""The ledger of predictions: records in, validated and never mixed; rows out; the book build's extension."""

import datetime
import json
import os
import textwrap
import time

import nbformat
import pytest

import lmtheory as lmt
from lmtheory.contract import config
from lmtheory.theory import linear_networks as dln

TWO = lmt.predict(dln.rise_time, strength=0.5 * 2.1972245773362196)    # a recorded prediction of 2.0
from lmtheory.book import ledger, sphinxext


def record(**over):
    """A valid passing record (a seed mean of 16 seeds checked at the default alpha); override any field."""
    rec = {"id": "demo-x", "statement": "x is one", "reference": "saxe2014exact", "predicted": [1.0, 2.0],
           "measured": [1.01, 1.99], "stderr": [0.01, 0.01], "dof": 15, "error": [0.01, 0.01],
           "allowed": [0.056, 0.056], "evidence": "trained-network",
           "theory": ["lmtheory.theory.linear_networks.rise_time"],
           "tolerance": {"kind": "stderr", "value": 5e-5, "rel_floor": 0.0, "abs_floor": 0.0},
           "check_kind": "check", "pair": None, "margin": None, "alternative": None,
           "measured_kind": "mean", "passed": True, "reason": "", "chapter": "demo", "seed": 0, "scale": "ci",
           "run_id": "run-1", "started": time.time(), "recorded": time.time(), "elapsed_s": 1.5}
    rec.update(over)
    return rec


def write(folder, chapter, *records):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{chapter}.jsonl", "a", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec) + "\n")


# ---- records from a folder --------------------------------------------------------------------------------

def test_missing_folder_is_reported_clearly(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        ledger.load_records(tmp_path / "nowhere")


@pytest.mark.parametrize("content", [None, "", "\n\n"])
def test_empty_folder_is_reported_clearly(tmp_path, content):
    if content is not None:
        (tmp_path / "demo.jsonl").write_text(content)
    with pytest.raises(ValueError, match="holds no records"):
        ledger.load_records(tmp_path)


def test_bad_lines_name_file_and_line(tmp_path):
    write(tmp_path, "demo", record())
    with open(tmp_path / "demo.jsonl", "a") as fh:
        fh.write("{not json\n")
    with pytest.raises(ValueError, match=r"demo.jsonl:2: not valid JSON"):
        ledger.load_records(tmp_path)
    (tmp_path / "demo.jsonl").write_text(json.dumps({"id": "x", "chapter": "demo"}) + "\n")
    with pytest.raises(ValueError, match=r"demo.jsonl:1: record lacks field\(s\) statement"):
        ledger.load_records(tmp_path)


def test_two_runs_are_never_mixed(tmp_path):
    write(tmp_path, "a", record(chapter="a", run_id="run-1"))
    write(tmp_path, "b", record(chapter="b", run_id="run-2"), record(chapter="b", id="y", run_id="run-2"))
    with pytest.raises(ValueError, match="mixes 2 runs"):
        ledger.load_records(tmp_path)
    kept = ledger.load_records(tmp_path, run_id="run-2")
    assert {r["run_id"] for r in kept} == {"run-2"} and len(kept) == 2
    with pytest.raises(ValueError, match="no records of run 'run-3'"):
        ledger.load_records(tmp_path, run_id="run-3")
    with pytest.raises(ValueError, match="never mixed"):
        ledger.by_chapter([record(run_id="run-1"), record(run_id="run-2")])
    with pytest.raises(ValueError, match="mixes 2 runs"):
        ledger.to_markdown(ledger.load_records(tmp_path))


def test_run_check_records_pass_and_fail_in_one_run(tmp_path, monkeypatch):
    monkeypatch.setenv("LMTHEORY_RECORDS", str(tmp_path))
    monkeypatch.setenv("LMTHEORY_RUN_ID", "r-42")
    run = lmt.setup("demo", seed=3)
    run.check("demo-ok", "two is two", predicted=TWO, measured=2.0, tol=lmt.absolute(1e-9),
              evidence="solvable-model", reference="none")
    with pytest.raises(lmt.PredictionFailed):
        run.check("demo-bad", "two is three", predicted=TWO, measured=3.0, tol=lmt.relative(0.1),
                  evidence="trained-network", reference="none")
    recs = ledger.load_records(tmp_path)
    assert [(r["id"], r["passed"], r["run_id"], r["seed"]) for r in recs] == [
        ("demo-ok", True, "r-42", 3), ("demo-bad", False, "r-42", 3)]
    assert ledger.totals(recs) == {"checks": 2, "passed": 1, "failed": 1}


# ---- non-finite measurements ------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_non_finite_measurement_is_a_clear_failure(bad):
    rec = record(measured=[1.0, bad], passed=False, reason="measured value is not finite (nan or inf)")
    r = ledger.row(rec)
    assert r["verdict"] == "FAIL: measured value is not finite (nan or inf)"
    assert bad.lstrip("-") in r["measured"]
    assert ledger.totals([rec]) == {"checks": 1, "passed": 0, "failed": 1}
    assert ledger.inconsistent([rec]) == []
    # a record that claims to pass with a nan measurement is caught, not believed
    assert ledger.inconsistent([dict(rec, passed=True)]) == ["demo-x"]
    status, message = ledger.chapter_status([rec], {"succeeded": True})
    assert status == "check-failed" and "not finite" in message


def test_non_finite_measurement_through_run_check(tmp_path, monkeypatch):
    monkeypatch.setenv("LMTHEORY_RECORDS", str(tmp_path))
    with pytest.raises(lmt.PredictionFailed, match="not finite"):
        lmt.setup("demo").check("demo-nan", "finite", predicted=TWO, measured=float("nan"),
                                tol=lmt.relative(0.1), evidence="random-network", reference="none")
    (rec,) = ledger.load_records(tmp_path)
    assert rec["measured"] == "nan" and rec["passed"] is False
    assert "FAIL: measured value is not finite" in ledger.to_markdown([rec])


# ---- rows, tables, statuses -------------------------------------------------------------------------------

def test_row_and_markdown():
    r = ledger.row(record(), time_s=12.345)
    assert r["verdict"] == "PASS" and r["tolerance"] == "5.61 SE (α=5e-05, 15 dof)" and r["time_s"] == "12.3"
    assert r["evidence"] == "trained network" and r["theory"] == "lmtheory.theory.linear_networks.rise_time"
    assert r["measured"] == "[1.01, 1.99] ± [0.01, 0.01]" and r["error"].endswith("SE")
    md = ledger.to_markdown([record(), record(id="demo-y", statement="a | b")])
    assert md.startswith("**2 checks: 2 passed, 0 failed** (run run-1)")
    assert "a \\| b" in md and md.count("\n| demo |") == 2


@pytest.mark.parametrize("records,executed,mode,newest,expected", [
    ([], None, "off", None, "not-executed"),
    ([], None, "cache", None, "missing"),
    ([], {"succeeded": True}, "cache", None, "missing"),
    ([], {"succeeded": False, "error": "CellExecutionError"}, "cache", None, "failed"),
    ([record(), record(run_id="run-2")], {"succeeded": True}, "cache", None, "mixed"),
    ([record(started=100.0)], {"succeeded": True}, "cache", 200.0, "stale"),
    ([record(passed=False)], {"succeeded": True}, "cache", None, "inconsistent"),
    ([record(measured=[5.0, 2.0], passed=False)], {"succeeded": False, "error": "E"}, "cache", None, "failed"),
    ([record(started=300.0)], {"succeeded": True}, "cache", 200.0, "ok"),
])
def test_chapter_status(records, executed, mode, newest, expected):
    status, message = ledger.chapter_status(records, executed, mode=mode, newest_source=newest)
    assert status == expected and (status == "ok") == (message == "")


def test_records_from_notebook_outputs_and_glue():
    rec = record()
    out = nbformat.v4.new_output("display_data", data={"text/plain": "PASS", config.VERDICT_MIME: rec},
                                 metadata={"scrapbook": {"name": f"{config.GLUE_PREFIX}1-demo-x"}})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("x"), nbformat.v4.new_code_cell("y")])
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="hello"), out]
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # round trip through the file format
    assert ledger.from_notebook(nb) == [rec]
    glue = {f"{config.GLUE_PREFIX}1-demo-x": {"data": {config.VERDICT_MIME: rec}}, "user-key": {"data": {}}}
    assert ledger.from_glue(glue) == [rec]


def test_run_check_in_a_kernel_displays_the_record(monkeypatch):
    shown = []
    monkeypatch.setattr(config, "_in_kernel", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda data, **kw: shown.append((data, kw)))
    lmt.setup("demo", seed=1).check("demo-k", "two", predicted=TWO, measured=2.0, tol=lmt.absolute(1e-9),
                                    evidence="solvable-model", reference="none")
    (data, kw), = shown
    assert data["text/plain"].startswith("PASS demo-k") and data[config.VERDICT_MIME]["seed"] == 1
    assert kw["raw"] and kw["metadata"]["scrapbook"]["name"].startswith(config.GLUE_PREFIX)
    json.dumps(data)  # the bundle must be valid JSON (no nan floats)


def test_plain_python_only_prints(capsys):
    lmt.setup("demo").check("demo-p", "two", predicted=TWO, measured=2.0, tol=lmt.absolute(1e-9),
                            evidence="solvable-model", reference="none")
    assert capsys.readouterr().out.startswith("PASS demo-p")


def test_cli_prints_the_ledger(tmp_path, capsys):
    assert ledger.main([str(tmp_path / "none")]) == 2
    write(tmp_path, "demo", record())
    assert ledger.main([str(tmp_path)]) == 0
    assert "demo-x" in capsys.readouterr().out
    write(tmp_path, "demo", record(id="demo-z", measured=[9.0, 9.0], passed=False))
    assert ledger.main([str(tmp_path)]) == 1


# ---- the Sphinx extension's helpers -----------------------------------------------------------------------

def test_newest_source_ignores_tooling(tmp_path):
    (tmp_path / "audit").mkdir()
    for name, age in (("theory.py", 100), ("sphinxext.py", 0), ("ledger.py", 0), ("audit/x.py", 0)):
        (tmp_path / name).write_text("")
        os.utime(tmp_path / name, (time.time() - age, time.time() - age))
    assert abs(sphinxext.newest_source(tmp_path) - (time.time() - 100)) < 5


def test_stale_cache_entries_are_dropped(tmp_path):
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")], metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    cache = get_cache(tmp_path / "cache")
    cache.cache_notebook_bundle(CacheBundleIn(nb, "nb.ipynb", data={"execution_seconds": 1.0}),
                                check_validity=False)
    created = cache.list_cache_records()[0].created.replace(tzinfo=datetime.timezone.utc).timestamp()
    assert sphinxext._drop_stale_cache(tmp_path / "cache", created - 10) == 0
    assert sphinxext._drop_stale_cache(tmp_path / "cache", created + 10) == 1
    assert get_cache(tmp_path / "cache").list_cache_records() == []
    assert sphinxext._drop_stale_cache(tmp_path / "no-cache", 0.0) == 0


VERDICT_CELL = textwrap.dedent("""\
    import json, time
    from IPython.display import display
    def show(i, rec):
        display({"text/plain": "verdict " + rec["id"], "%s": rec},
                metadata={"scrapbook": {"name": "%s%%d-%%s" %% (i, rec["id"])}}, raw=True)
    for i, rec in enumerate(json.loads(%r), 1):
        show(i, dict(rec, started=time.time()))
    """)


def _book(tmp_path, chapters):
    """A small Sphinx project: one notebook per chapter (displaying the given records), a ledger page."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        "extensions = ['myst_nb', 'lmtheory.book.sphinxext']\nnb_execution_mode = 'force'\n"
        "lmtheory_ledger_pages = ['ledger']\nexclude_patterns = ['_build']\n")
    (src / "index.md").write_text("# Book\n\n```{toctree}\n" + "\n".join([*chapters, "ledger"]) + "\n```\n")
    (src / "ledger.md").write_text("# Ledger\n\n```{lmtheory-ledger}\n```\n")
    for name, records in chapters.items():
        code = VERDICT_CELL % (config.VERDICT_MIME, config.GLUE_PREFIX, json.dumps(records))
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {name}"),
                                             nbformat.v4.new_code_cell(code)],
                                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                               "language": "python"}})
        nbformat.write(nb, src / f"{name}.ipynb")
    return src


def test_ledger_page_in_a_sphinx_build(tmp_path):
    import io

    from sphinx.application import Sphinx
    nan_rec = record(chapter="b", id="b-nan", measured=["nan", 2.0], passed=False,
                     reason="measured value is not finite (nan or inf)")
    src = _book(tmp_path, {"a": [record(chapter="a", id="a-one")], "b": [nan_rec], "c": []})
    warnings = io.StringIO()
    app = Sphinx(str(src), str(src), str(tmp_path / "html"), str(tmp_path / "doctrees"), "html",
                 status=io.StringIO(), warning=warnings, freshenv=True)
    app.build()
    html = (tmp_path / "html" / "ledger.html").read_text()
    assert "Totals: 2 checks in 3 chapters (1 with a complete, current ledger): 1 passed, 1 failed." in html
    assert "a-one" in html and "PASS" in html
    assert "Evidence" in html and "trained network" in html and "lmtheory-ledger-evidence" in html
    assert "lmtheory.theory.linear_networks.rise_time" in html          # the theory column
    assert "FAIL: measured value is not finite (nan or inf)" in html
    assert "missing: executed, but its outputs carry no verdict records" in html
    log = warnings.getvalue()
    assert "b: recorded check(s) failed: b-nan (measured value is not finite" in log
    assert "c: executed, but its outputs carry no verdict records" in log
    assert "ledger read before" not in log and "predictions: a:" not in log
