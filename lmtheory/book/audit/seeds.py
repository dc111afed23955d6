"""The seed audit: rerun every notebook with K fresh seeds and report how each check fares.

Rule of the book: every check passes for any seed. :func:`run_audit` executes each notebook (with
``nbclient``, in the notebook's folder) once per seed, with ``LMTHEORY_SEED`` set to the seed,
``LMTHEORY_RECORDS`` to ``<out>/records/seed-<seed>`` and a run id of its own per notebook and seed, so
records are never mixed. A failing notebook does not stop the audit: its error is collected, and the audit
goes on. :func:`summarize` then reports, per check, how many seeds passed (a check a notebook never reached
counts as failed), the spread of the measured values over the seeds and the worst error as a fraction of
the allowed error; per notebook, its wall times; and the slowest notebook. :func:`write_report` writes
``report.json`` and ``report.md`` under ``<out>``; :func:`format_report` is the terminal table.
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import shutil
import time

import numpy as np

from lmtheory.book.ledger import decode, load_records, markdown_table, reevaluate, text_table

SKIP_SEEDS = (0, 7, 2024)  # the seeds every author already tested; fresh seeds avoid them


def fresh_seeds(k: int, *, rng: random.Random | None = None) -> list[int]:
    """``k`` distinct random seeds in ``[1000, 2**31)`` (none of :data:`SKIP_SEEDS`).

    >>> s = fresh_seeds(3, rng=random.Random(1))
    >>> len(set(s)), all(1000 <= x < 2**31 for x in s)
    (3, True)
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k (number of seeds) must be a positive integer, got {k!r}")
    return (rng or random.SystemRandom()).sample(range(1000, 2**31), k)


def find_notebooks(paths) -> list[pathlib.Path]:
    """The ``.ipynb`` files named in ``paths`` (files, or folders searched recursively), sorted, unique."""
    found = []
    for p in map(pathlib.Path, paths):
        if p.is_dir():
            found += [f for f in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in f.parts]
        elif p.suffix == ".ipynb" and p.is_file():
            found.append(p)
        else:
            raise ValueError(f"not a notebook or a folder of notebooks: {p}")
    if not found:
        raise ValueError(f"no notebooks found in {list(map(str, paths))}")
    return sorted(set(found))


def execute(notebook, *, seed: int, records, run_id: str, timeout: int = 600) -> dict:
    """Execute one notebook with ``LMTHEORY_SEED=seed``; return ``{"seconds", "error"}`` ('' on success)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = pathlib.Path(notebook).resolve()
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, LMTHEORY_SEED=str(seed), LMTHEORY_RECORDS=str(pathlib.Path(records).resolve()),
               LMTHEORY_RUN_ID=run_id)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel,
                            resources={"metadata": {"path": str(path.parent)}})
    start, error = time.perf_counter(), ""
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # noqa: BLE001 -- a timeout or a dead kernel is a result of the audit, too
        error = f"{type(exc).__name__}: {exc}"
    error = error.strip().splitlines()[0] if error.strip() else ""
    return {"seconds": round(time.perf_counter() - start, 2), "error": error}


def run_id_of(stamp: str, seed: int, notebook) -> str:
    """The run id of one notebook and seed in an audit.

    >>> run_id_of("20260101T000000", 12, "notebooks/part1/dln.ipynb")
    'audit-20260101T000000-seed12-dln'
    """
    return f"audit-{stamp}-seed{seed}-{pathlib.Path(notebook).stem}"


def run_audit(notebooks, seeds, out, *, timeout: int = 600, log=print) -> dict:
    """Execute every notebook with every seed; return the :func:`summarize` report (also for failures).

    Each finished execution is appended to ``<out>/runs.jsonl`` at once, so that a report can be rebuilt
    from the folder (:func:`load_runs`) if the audit is interrupted or its report step fails.
    """
    notebooks, out = [pathlib.Path(n) for n in notebooks], pathlib.Path(out)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty list of distinct integers, got {seeds!r}")
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    out.mkdir(parents=True, exist_ok=True)
    (out / "runs.jsonl").write_text("", encoding="utf-8")
    runs = []
    for seed in seeds:
        folder = out / "records" / f"seed-{seed}"
        shutil.rmtree(folder, ignore_errors=True)
        for nb in notebooks:
            rid = run_id_of(stamp, seed, nb)
            res = dict(execute(nb, seed=seed, records=folder, run_id=rid, timeout=timeout), notebook=str(nb),
                       seed=seed, run_id=rid)
            with open(out / "runs.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps(res) + "\n")
            runs.append(dict(res, records=_records_of(folder, rid)))
            outcome = res["error"][:100] or "ok"
            log(f"seed {seed:>10}  {nb}: {res['seconds']:7.1f} s  {outcome}  "
                f"({len(runs[-1]['records'])} checks recorded)")
    return summarize(runs, seeds)


def _records_of(folder, run_id: str) -> list[dict]:
    try:
        return load_records(folder, run_id)
    except ValueError:                                   # the notebook died before its first check
        return []


def load_runs(out) -> tuple[list[dict], list[int]]:
    """The executions of an audit folder (from ``runs.jsonl``, with their records) and its seeds, in order.

    ``summarize(*load_runs(out))`` rebuilds the report of an interrupted audit from what it finished.
    """
    path = pathlib.Path(out) / "runs.jsonl"
    if not path.is_file():
        raise ValueError(f"{path} does not exist: no seed audit has run with --out {out}")
    runs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not runs:
        raise ValueError(f"{path} is empty: the audit finished no notebook")
    for run in runs:
        run["records"] = _records_of(pathlib.Path(out) / "records" / f"seed-{run['seed']}", run["run_id"])
    return runs, list(dict.fromkeys(run["seed"] for run in runs))


def _stats(values: list[np.ndarray]) -> dict:
    try:
        stack = np.stack([np.asarray(v, float) for v in values])
    except ValueError:  # shapes differ between seeds: no elementwise spread
        return {}
    std = stack.std(0, ddof=1) if len(values) > 1 else np.zeros(stack.shape[1:])
    return {k: np.asarray(v).tolist() for k, v in
            (("mean", stack.mean(0)), ("std", std), ("min", stack.min(0)), ("max", stack.max(0)))}


def _check_summary(notebook: str, cid: str, by_seed: dict, seeds) -> dict:
    passed, ratios, failed = 0, [], []
    for seed in seeds:
        rec = by_seed.get(seed)
        if rec is None:
            continue
        err, allowed, ok, _ = reevaluate(rec)
        passed += ok
        failed += [] if ok else [seed]
        ratios.append(float(np.nanmax(np.where(np.isfinite(err), err / np.maximum(allowed, 1e-300), np.inf))))
    first = next(iter(by_seed.values()))
    return {"mean_pull": mean_pull(list(by_seed.values())), "notebook": notebook, "chapter": first["chapter"], "id": cid, "statement": first["statement"],
            "passed": passed, "k": len(seeds), "failed_seeds": failed,
            "missing_seeds": [s for s in seeds if s not in by_seed],
            "measured": _stats([decode(r["measured"]) for r in by_seed.values()]),
            "worst_error_over_allowed": max(ratios) if ratios else None}


def mean_pull(records) -> float | None:
    """The mean over seeds of the signed error in standard errors, ``(measured - predicted) / SE``, of the
    element where its size is largest; ``None`` for a check without standard errors or with fewer than 2 seeds.

    Over K seeds an unbiased check has a mean pull of about ``N(0, 1/K)``; a size above ``3/sqrt(K)`` is a
    systematic bias to explain (issue "Any seed passes").

    >>> recs = [{"predicted": [1.0, 2.0], "measured": [1.1, 2.0 + d], "stderr": [0.1, 0.1]} for d in (0.1, -0.1)]
    >>> mean_pull(recs)
    1.0
    """
    pulls = []
    for rec in records:
        if rec.get("stderr") is None or rec.get("check_kind", "check") != "check":
            return None
        p, m, se = (np.asarray(decode(rec[k]), float) for k in ("predicted", "measured", "stderr"))
        pulls.append(np.broadcast_to((m - p) / np.where(se > 0, se, np.nan), np.broadcast(p, m).shape))
    if len(pulls) < 2:
        return None
    try:
        mean = np.nanmean(np.stack(pulls), axis=0).ravel()
    except ValueError:
        return None
    return None if not np.any(np.isfinite(mean)) else round(float(mean[np.nanargmax(np.abs(mean))]), 3)


def summarize(runs, seeds) -> dict:
    """The audit report (JSON-ready) from the executions ``runs`` (dicts of notebook, seed, seconds, error,
    records) with ``seeds``; ``ok`` is True when every check passed for every seed and nothing raised."""
    checks: dict[tuple[str, str], dict] = {}
    for run in runs:
        seen: dict[str, int] = {}
        for rec in run["records"]:  # a check id recorded twice in one run is audited as two checks
            seen[rec["id"]] = seen.get(rec["id"], 0) + 1
            cid = rec["id"] if seen[rec["id"]] == 1 else f"{rec['id']}#{seen[rec['id']]}"
            checks.setdefault((run["notebook"], cid), {})[run["seed"]] = rec
    per_check = [_check_summary(nb, cid, by_seed, seeds) for (nb, cid), by_seed in checks.items()]
    notebooks = []
    for nb in dict.fromkeys(run["notebook"] for run in runs):
        mine = [r for r in runs if r["notebook"] == nb]
        times = [r["seconds"] for r in mine]
        notebooks.append({"notebook": nb, "seconds": {str(r["seed"]): r["seconds"] for r in mine},
                          "mean_seconds": round(float(np.mean(times)), 2), "max_seconds": max(times),
                          "errors": {str(r["seed"]): r["error"] for r in mine if r["error"]}})
    slowest = max(notebooks, key=lambda n: n["max_seconds"], default=None)
    ok = (bool(per_check) and all(c["passed"] == c["k"] for c in per_check)
          and not any(n["errors"] for n in notebooks))
    return {"seeds": list(seeds), "k": len(seeds), "scale": os.environ.get("LMTHEORY_SCALE", "ci") or "ci",
            "checks": per_check, "notebooks": notebooks, "ok": ok,
            "slowest": slowest and {"notebook": slowest["notebook"], "seconds": slowest["max_seconds"]}}


def spread_text(measured: dict) -> str:
    """``mean ± std [min, max]`` over seeds (for an array: its element of largest relative spread).

    >>> spread_text({"mean": [1.0, 2.0], "std": [0.1, 0.0], "min": [0.9, 2.0], "max": [1.1, 2.0]})
    '1 ± 0.1 [0.9, 1.1] (element 0 of 2)'
    >>> spread_text({"mean": [[1.0, 2.0]], "std": [[0.0, 0.2]], "min": [[1.0, 1.8]], "max": [[1.0, 2.2]]})
    '2 ± 0.2 [1.8, 2.2] (element (0, 1) of 2)'
    """
    if not measured:
        return "-"
    shape = np.shape(measured["mean"])
    arrays = {k: np.ravel(np.asarray(v, float)) for k, v in measured.items()}     # arrays of any rank
    rel = arrays["std"] / np.maximum(np.abs(arrays["mean"]), 1e-300)
    i = int(np.nanargmax(np.where(np.isfinite(rel), rel, np.inf))) if rel.size else 0
    mean, std, lo, hi = (arrays[k][i] for k in ("mean", "std", "min", "max"))
    where = i if len(shape) <= 1 else tuple(int(j) for j in np.unravel_index(i, shape))
    tail = f" (element {where} of {rel.size})" if rel.size > 1 else ""
    return f"{mean:.4g} ± {std:.2g} [{lo:.4g}, {hi:.4g}]{tail}"


def _tables(report: dict):
    head_c = ["chapter", "check", "seeds passed", "failed seeds", "measured over seeds",
              "worst error/allowed", "mean pull (SE)"]
    rows_c = [[c["chapter"], c["id"], f"{c['passed']}/{c['k']}", ", ".join(map(str, c["failed_seeds"]
               + c["missing_seeds"])) or "-", spread_text(c["measured"]),
               "-" if c["worst_error_over_allowed"] is None else f"{c['worst_error_over_allowed']:.2f}",
               _pull_text(c.get("mean_pull"), report["k"])]
              for c in report["checks"]]
    head_n = ["notebook", "mean s", "max s", "errors"]
    rows_n = [[n["notebook"], f"{n['mean_seconds']:.1f}", f"{n['max_seconds']:.1f}",
               "; ".join(f"seed {s}: {e}" for s, e in n["errors"].items()) or "-"]
              for n in report["notebooks"]]
    return (head_c, rows_c), (head_n, rows_n)


def _pull_text(pull, k: int) -> str:
    """The mean pull, flagged ``BIAS?`` when its size exceeds ``3/sqrt(K)``.

    >>> _pull_text(1.2, 9), _pull_text(0.5, 9), _pull_text(None, 9)
    ('+1.20 BIAS?', '+0.50', '-')
    """
    if pull is None:
        return "-"
    return f"{pull:+.2f}" + (" BIAS?" if k > 1 and abs(pull) > 3 / np.sqrt(k) else "")


def _verdict(report: dict) -> str:
    good = sum(c["passed"] == c["k"] for c in report["checks"])
    slow = report["slowest"]
    return (f"{good}/{len(report['checks'])} checks passed for all {report['k']} seeds "
            f"({', '.join(map(str, report['seeds']))}); "
            + (f"slowest notebook: {slow['notebook']} ({slow['seconds']:.1f} s); " if slow else "")
            + ("AUDIT PASSED" if report["ok"] else "AUDIT FAILED"))


def format_report(report: dict) -> str:
    """The terminal form of a report: the table of checks, the table of notebooks, the verdict line."""
    (hc, rc), (hn, rn) = _tables(report)
    return "\n\n".join([text_table(hc, rc), text_table(hn, rn, width=100), _verdict(report)])


def write_report(report: dict, out) -> tuple[pathlib.Path, pathlib.Path]:
    """Write ``report.json`` and ``report.md`` under ``out``; return their paths."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (hc, rc), (hn, rn) = _tables(report)
    md = (f"# Seed audit\n\nSeeds: {', '.join(map(str, report['seeds']))} (scale {report['scale']}).\n\n"
          f"## Checks\n\n{markdown_table(hc, rc)}\n\n## Notebooks\n\n{markdown_table(hn, rn)}\n\n"
          f"**{_verdict(report)}**\n")
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (out / "report.md").write_text(md, encoding="utf-8")
    return out / "report.json", out / "report.md"
