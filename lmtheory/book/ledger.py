"""The ledger of predictions: verdict records, validated, kept to one run, and rendered as rows.

A *record* is the JSON object that :meth:`lmtheory.Run.check` writes for every verdict (pass or fail):
a :class:`lmtheory.contract.check.Record` (the one owner of the format): the verdict's inputs and outcome, what it
rests on (``evidence``) and which theory predicted it (``theory``), plus the run's identity. Records reach
this module two ways:

* from a folder of ``<chapter>.jsonl`` files (``LMTHEORY_RECORDS``; nbval runs and the seed audit), read by
  :func:`load_records`, which never mixes two runs: it keeps one ``run_id`` or refuses;
* from an executed notebook's own outputs, where each verdict is displayed with its record attached under
  :data:`VERDICT_MIME` (:func:`from_notebook`), or from the myst-nb glue data that the book build extracts
  from those outputs (:func:`from_glue`). The book's ledger page (:mod:`lmtheory.book.sphinxext`) uses these, so
  the page and the ledger always come from the same execution.

Numbers are re-checked on the way in: :func:`reevaluate` recomputes every verdict from its recorded inputs
with :func:`lmtheory.contract.check.evaluate`, so a record with a ``nan``/``inf`` measurement is a failure with a
clear reason, never a pass and never a crash.

``python -m lmtheory.book.ledger FOLDER [--run-id ID]`` prints a folder's ledger as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from collections import Counter

import numpy as np

import math

from lmtheory.contract.check import Record, Tolerance, Verdict, error_summary, evaluate, format_value
from lmtheory.contract.config import GLUE_PREFIX, VERDICT_MIME

REQUIRED = Record.required()
COLUMNS = ("chapter", "check", "statement", "evidence", "theory", "reference", "predicted", "measured", "error",
           "tolerance", "verdict", "seed", "scale", "time_s")
EVIDENCE_LABELS = {"trained-network": "trained network", "random-network": "random network",
                   "solvable-model": "solvable model"}


def decode(value) -> np.ndarray:
    """A recorded number or (nested) list, with ``'nan'``/``'inf'``/``'-inf'`` strings, as a float array.

    >>> decode([1.0, "nan", "-inf"]).tolist()
    [1.0, nan, -inf]
    >>> decode(2).shape
    ()
    """
    try:
        return np.array(value, dtype=object).astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a recorded number or array of numbers: {value!r}") from exc


def validate(record, where: str = "record") -> dict:
    """Check that ``record`` is a valid :class:`~lmtheory.contract.check.Record`; return it (the dict).

    Raises ValueError naming ``where`` and the missing or malformed field.

    >>> validate({"id": "x"}, "a.jsonl:3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: a.jsonl:3: record lacks field(s) statement, reference, evidence, theory, ...
    """
    Record.from_json(record, where)
    return record


def tolerance_of(record: dict) -> Tolerance:
    """The :class:`~lmtheory.contract.check.Tolerance` of a record.

    >>> tolerance_of({"tolerance": {"kind": "relative", "value": 0.05}}).describe()
    'rel 5%'
    """
    t = record["tolerance"]
    return Tolerance(t["kind"], float(t["value"]), float(t.get("rel_floor", 0.0)),
                     float(t.get("abs_floor", 0.0)))


def reevaluate(record: dict, predicted=None):
    """``(error, allowed, passed, reason)`` of a record, recomputed from its inputs (or for another ``predicted``).

    >>> rec = {"predicted": 2.0, "measured": "nan", "stderr": None,
    ...        "tolerance": {"kind": "relative", "value": 0.1}}
    >>> reevaluate(rec)[2:]
    (False, 'measured value is not finite (nan or inf)')
    >>> reevaluate(dict(rec, measured=2.1))[2]
    True
    """
    stderr = record.get("stderr")
    p = decode(record["predicted"]) if predicted is None else np.asarray(predicted, float)
    return evaluate(p, decode(record["measured"]), None if stderr is None else decode(stderr),
                    tolerance_of(record), dof_of(record), margin=record.get("margin"))


def dof_of(record: dict) -> float:
    """The degrees of freedom of a record's standard error (infinite when not recorded).

    >>> dof_of({"dof": 15}), dof_of({"dof": "inf"}), dof_of({})
    (15.0, inf, inf)
    """
    dof = record.get("dof")
    return math.inf if dof is None else float(dof)


def verdict_of(record: dict) -> Verdict:
    """The :class:`~lmtheory.contract.check.Verdict` of a record, with error and verdict recomputed from its inputs.

    >>> rec = {"id": "x", "statement": "s", "reference": "r", "predicted": 2.0, "measured": 2.1,
    ...        "stderr": None, "tolerance": {"kind": "relative", "value": 0.1}, "measured_kind": "value",
    ...        "evidence": "solvable-model"}
    >>> verdict_of(rec).line()
    'PASS x: s | predicted 2, measured 2.1, error 5% (tolerance rel 10%; solvable-model) [r]'
    """
    err, allowed, passed, reason = reevaluate(record)
    stderr = record.get("stderr")
    return Verdict(record["id"], record["statement"], record["reference"], record.get("evidence", "?"),
                   tuple(record.get("theory") or ()), decode(record["predicted"]), decode(record["measured"]),
                   None if stderr is None else decode(stderr), dof_of(record), err, allowed, tolerance_of(record),
                   record["measured_kind"], passed, reason, record.get("check_kind", "check"), record.get("pair"),
                   record.get("margin"), record.get("alternative"))


def read_jsonl(path) -> list[dict]:
    """The validated records of one ``.jsonl`` file; a bad line raises ValueError with ``file:line``."""
    out = []
    path = pathlib.Path(path)
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        out.append(validate(rec, f"{path}:{n}"))
    return out


def load_records(folder, run_id: str | None = None) -> list[dict]:
    """Every record of one run in a folder of ``<chapter>.jsonl`` files.

    With ``run_id`` only that run's records are kept; without it the folder must hold exactly one run.
    A missing or empty folder, an unknown ``run_id`` or a folder of several runs raises ValueError saying so.
    """
    path = pathlib.Path(folder)
    if not path.is_dir():
        raise ValueError(f"records folder {path} does not exist: run the notebooks with "
                         f"LMTHEORY_RECORDS={path}")
    records = [rec for f in sorted(path.glob("*.jsonl")) for rec in read_jsonl(f)]
    if not records:
        raise ValueError(f"records folder {path} holds no records (no *.jsonl lines): did the notebooks run "
                         f"with LMTHEORY_RECORDS={path} and call run.check?")
    runs = Counter(rec["run_id"] for rec in records)
    if run_id is not None:
        if run_id not in runs:
            raise ValueError(f"no records of run {run_id!r} in {path}; it holds runs {sorted(runs)}")
        return [rec for rec in records if rec["run_id"] == run_id]
    if len(runs) > 1:
        raise ValueError(f"records folder {path} mixes {len(runs)} runs {sorted(runs)}; pick one with run_id "
                         f"(--run-id) -- records of different runs are never combined")
    return records


def from_notebook(notebook: dict) -> list[dict]:
    """The verdict records attached to an executed notebook's outputs (:data:`VERDICT_MIME`), in order.

    >>> nb = {"cells": [{"cell_type": "code", "outputs": [
    ...     {"output_type": "display_data", "data": {"text/plain": "PASS ...", VERDICT_MIME: {"id": "a"}}}]}]}
    >>> [r["id"] for r in from_notebook(nb)]
    ['a']
    """
    out = []
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data") or {}
            if VERDICT_MIME in data:
                rec = data[VERDICT_MIME]
                out.append(json.loads(rec) if isinstance(rec, str) else json.loads(json.dumps(rec)))
    return out


def from_glue(glue: dict) -> list[dict]:
    """The verdict records among myst-nb's glue data of a page (``<docname>.glue.json``), in notebook order.

    >>> glue = {"lmtheory-verdict-1-a": {"data": {VERDICT_MIME: {"id": "a"}}}, "other": {"data": {}}}
    >>> [r["id"] for r in from_glue(glue)]
    ['a']
    """
    return [json.loads(json.dumps(out["data"][VERDICT_MIME])) for key, out in glue.items()
            if key.startswith(GLUE_PREFIX) and VERDICT_MIME in (out.get("data") or {})]


def run_ids(records) -> list[str]:
    """The distinct run ids of some records, in order of first appearance.

    >>> run_ids([{"run_id": "b"}, {"run_id": "a"}, {"run_id": "b"}])
    ['b', 'a']
    """
    return list(dict.fromkeys(rec.get("run_id") for rec in records))


def by_chapter(records) -> dict[str, list[dict]]:
    """Records grouped by chapter (in order of appearance); a chapter with two runs raises ValueError.

    >>> list(by_chapter([{"chapter": "a", "run_id": "1"}, {"chapter": "b", "run_id": "2"}]))
    ['a', 'b']
    """
    groups: dict[str, list[dict]] = {}
    for rec in records:
        groups.setdefault(rec["chapter"], []).append(rec)
    for chapter, recs in groups.items():
        ids = run_ids(recs)
        if len(ids) > 1:
            raise ValueError(f"chapter {chapter!r} has records of {len(ids)} runs {ids}; never mixed")
    return groups


def row(record: dict, *, time_s: float | None = None) -> dict[str, str]:
    """The ledger row of one record: display strings for every column of :data:`COLUMNS`.

    >>> rec = {"id": "x", "statement": "s", "reference": "r", "predicted": 2.0, "measured": "nan",
    ...        "stderr": None, "tolerance": {"kind": "absolute", "value": 0.1}, "measured_kind": "value",
    ...        "chapter": "c", "seed": 0, "scale": "ci", "elapsed_s": 1.5}
    >>> r = row(rec)
    >>> r["verdict"], r["measured"], r["time_s"]
    ('FAIL: measured value is not finite (nan or inf)', 'nan', '1.5')
    """
    v = verdict_of(record)
    meas = format_value(v.measured) + ("" if v.stderr is None else f" ± {format_value(v.stderr)}")
    elapsed = time_s if time_s is not None else record.get("elapsed_s")
    breaks = v.check_kind == "breaks"
    tol = f"misses by > {v.margin:g} × ({v.tolerance.describe(v.dof)})" if breaks else v.tolerance.describe(v.dof)
    verdict = ("PASS" if v.passed else f"FAIL: {v.reason}") + (f" (breaks; pair {v.pair})" if breaks else "")
    return {"chapter": record["chapter"], "check": v.id, "statement": v.statement,
            "evidence": EVIDENCE_LABELS.get(v.evidence, v.evidence), "theory": ", ".join(v.theory),
            "reference": v.reference, "predicted": format_value(v.predicted), "measured": meas,
            "error": error_summary(v), "tolerance": tol, "verdict": verdict,
            "seed": str(record.get("seed", "?")), "scale": str(record.get("scale", "?")),
            "time_s": "?" if elapsed is None else f"{float(elapsed):.3g}"}


def totals(records) -> dict[str, int]:
    """Counts of checks, passes and failures, with every verdict recomputed from its inputs.

    >>> base = {"predicted": 1.0, "stderr": None, "tolerance": {"kind": "absolute", "value": 0.1}}
    >>> totals([dict(base, measured=1.0), dict(base, measured="inf")])
    {'checks': 2, 'passed': 1, 'failed': 1}
    """
    passed = sum(bool(reevaluate(rec)[2]) for rec in records)
    return {"checks": len(records), "passed": passed, "failed": len(records) - passed}


def inconsistent(records) -> list[str]:
    """Ids of records whose recorded verdict disagrees with the verdict recomputed from their inputs.

    >>> inconsistent([{"id": "x", "predicted": 1.0, "measured": 5.0, "stderr": None, "passed": True,
    ...                "tolerance": {"kind": "absolute", "value": 0.1}}])
    ['x']
    """
    return [rec["id"] for rec in records if bool(rec["passed"]) != bool(reevaluate(rec)[2])]


PROBLEMS = ("missing", "mixed", "stale", "inconsistent", "check-failed")  # reported as build warnings


def chapter_status(records, executed: dict | None, *, mode: str = "cache",
                   newest_source: float | None = None) -> tuple[str, str]:
    """``(status, message)`` of one chapter's records in a book build.

    ``executed`` is myst-nb's execution data of the page (``None`` if this build did not execute it),
    ``mode`` the ``execute_notebooks`` setting and ``newest_source`` the newest modification time of the code
    the notebook imports. Status: ``ok``, ``failed`` (the execution raised), ``not-executed`` (execution
    switched off: nothing to show, not an error) or one of :data:`PROBLEMS`: ``missing`` (executed, but no
    records), ``mixed`` (records of two runs), ``stale`` (the code changed after the execution that produced
    the records), ``inconsistent`` (a recorded verdict disagrees with its recomputation) or
    ``check-failed`` (the execution went through, but a recorded check failed, e.g. a ``nan`` measurement
    whose exception the notebook caught).

    >>> chapter_status([], None, mode="off")[0]
    'not-executed'
    >>> chapter_status([], {"succeeded": True, "mtime": 10.0})[0]
    'missing'
    >>> chapter_status([{"run_id": "a", "started": 5.0}], {"succeeded": True, "mtime": 10.0},
    ...                newest_source=7.0)[0]
    'stale'
    """
    if executed is None or not records:
        return _no_records_status(executed, mode)
    ids = run_ids(records)
    if len(ids) > 1:
        return "mixed", f"its outputs carry records of {len(ids)} runs {ids}; they are never combined"
    started = min(float(rec.get("started", executed.get("mtime", 0.0))) for rec in records)
    if newest_source is not None and newest_source > started:
        return "stale", ("its records come from an execution that started before lmtheory's source last "
                         "changed; re-execute it (delete the execution cache or `make clean book`)")
    bad = inconsistent(records)
    if bad:
        return "inconsistent", f"recorded verdicts of {bad} disagree with their recorded numbers"
    if not executed.get("succeeded", True):
        return "failed", f"execution failed ({executed.get('error')})"
    failed = [f"{rec['id']} ({reevaluate(rec)[3]})" for rec in records if not reevaluate(rec)[2]]
    if failed:
        return "check-failed", f"recorded check(s) failed: {'; '.join(failed)}"
    return "ok", ""


def _no_records_status(executed: dict | None, mode: str) -> tuple[str, str]:
    if executed is None:
        if mode == "off":
            return "not-executed", "not executed in this build (execute_notebooks: off): no measurements"
        return "missing", f"not executed in this build (execute_notebooks: {mode}), so it has no records"
    if not executed.get("succeeded", True):
        return "failed", f"execution failed ({executed.get('error')}) before any check"
    return "missing", "executed, but its outputs carry no verdict records: does it call run.check?"


def markdown_table(headers, rows) -> str:
    """A Markdown (GitHub) table; ``|`` inside cells is escaped.

    >>> print(markdown_table(["a", "b"], [["1", "x|y"]]))
    | a | b |
    |---|---|
    | 1 | x\\|y |
    """
    def cells(values):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in values) + " |"
    return "\n".join([cells(headers), "|" + "---|" * len(headers)] + [cells(r) for r in rows])


def text_table(headers, rows, *, width: int = 60) -> str:
    """A plain-text table with aligned columns; cells longer than ``width`` are cut with ``…``.

    >>> print(text_table(["id", "n"], [["a", "10"], ["bb", "2"]]))
    id  n
    --  --
    a   10
    bb  2
    """
    cut = [[s if len(s) <= width else s[: width - 1] + "…" for s in map(str, r)] for r in [headers, *rows]]
    widths = [max(len(r[i]) for r in cut) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cut]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def to_markdown(records) -> str:
    """The ledger of some records of one run as Markdown: totals, then one table row per check.

    >>> rec = {"id": "x", "statement": "s", "reference": "r", "predicted": 2.0, "measured": 2.0,
    ...        "stderr": None, "tolerance": {"kind": "relative", "value": 0.1}, "measured_kind": "value",
    ...        "passed": True, "chapter": "c", "run_id": "r1", "seed": 0, "scale": "ci", "elapsed_s": 1.0}
    >>> print(to_markdown([rec]).splitlines()[0])
    **1 checks: 1 passed, 0 failed** (run r1)
    """
    groups = by_chapter(records)
    t = totals(records)
    runs = ", ".join(run_ids(records))
    head = f"**{t['checks']} checks: {t['passed']} passed, {t['failed']} failed** (run {runs})"
    rows = [[r[c] for c in COLUMNS] for recs in groups.values() for r in map(row, recs)]
    return head + "\n\n" + markdown_table(COLUMNS, rows) + "\n"


def main(argv=None) -> int:
    """``python -m lmtheory.book.ledger FOLDER [--run-id ID]``: print the ledger of a records folder."""
    parser = argparse.ArgumentParser(prog="python -m lmtheory.book.ledger", description=main.__doc__)
    parser.add_argument("folder", help="folder of <chapter>.jsonl records (LMTHEORY_RECORDS)")
    parser.add_argument("--run-id", default=None, help="keep only this run's records")
    args = parser.parse_args(argv)
    try:
        records = load_records(args.folder, args.run_id)
    except ValueError as exc:
        print(f"ledger: {exc}", file=sys.stderr)
        return 2
    print(to_markdown(records))
    return 1 if totals(records)["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
