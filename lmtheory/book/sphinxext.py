"""Sphinx extension of the book: the ledger of predictions, built from the executed notebooks themselves.

Every ``run.check`` in a notebook displays its verdict with the full record attached (MIME type
:data:`lmtheory.contract.config.VERDICT_MIME`; myst-nb renders the text line and ignores the record), marked as
myst-nb glue. When Sphinx reads a notebook page, myst-nb executes it or takes its outputs from the execution
cache, and extracts the glue of those outputs into ``jupyter_execute/<docname>.glue.json`` (for cached and
fresh executions alike; the ``.ipynb`` copy written there lacks the outputs of a cached notebook). This
extension collects the records from there, right after the page is read, into the build environment.
A page written with the directive ``lmtheory-ledger`` (``book/ledger.md``) is read
*last* in every build and renders one table row per check of every notebook chapter, grouped by the parts
of ``_toc.yml``. Page and ledger therefore always come from the same execution, cached or fresh.

Stale outputs: the execution cache keys on the notebook's code cells only, not on ``lmtheory``. So before
reading, every notebook whose records started before the newest change of ``lmtheory``'s source (tooling
such as this file excluded) is re-read, and in ``cache`` mode its out-of-date cache entries are dropped, so
it is executed afresh. A chapter that still has no current records (see
:func:`lmtheory.book.ledger.chapter_status`) is shown as such on the page and reported as a build warning; with
execution switched off (``make book-check``) the page says so and warns about nothing.

Config values: ``lmtheory_ledger_pages`` (docnames that hold the directive; default ``["book/ledger"]``),
``lmtheory_ledger_refresh`` (re-execute stale notebooks; default ``True``).
"""

from __future__ import annotations

import datetime
import json
import pathlib
from collections import Counter

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from lmtheory.book import ledger
from lmtheory.contract.config import GLUE_PREFIX

logger = logging.getLogger(__name__)
PACKAGE = pathlib.Path(__file__).resolve().parent
# build tooling: changing it changes no measurement
TOOLING = ("sphinxext.py", "ledger.py", "reference.py", "bench.py", "audit")
HEADERS = ("Chapter", "Check", "Statement", "Evidence", "Theory", "Reference", "Predicted", "Measured", "Error",
           "Tolerance", "Verdict", "Run")
WIDTHS = (10, 9, 18, 7, 12, 8, 8, 10, 6, 8, 6, 9)


def newest_source(package=PACKAGE) -> float:
    """The newest modification time of the package's ``.py`` files, build tooling (:data:`TOOLING`) excluded.

    >>> newest_source() > 0
    True
    """
    times = [p.stat().st_mtime for p in pathlib.Path(package).rglob("*.py")
             if not any(part in TOOLING for part in p.relative_to(package).parts)]
    return max(times, default=0.0)


def toc_chapters(env) -> list[tuple[str, str]]:
    """``(part caption, docname)`` of every page in ``_toc.yml`` order (sphinx-external-toc's site map)."""
    site_map = getattr(env, "external_site_map", None)
    if site_map is None:
        return [("Chapters", d) for d in sorted(env.found_docs)]
    out: list[tuple[str, str]] = []

    def walk(docname, part):  # depth first, in toc order
        if docname in (d for _, d in out) or docname not in site_map:
            return
        out.append((part, docname))
        for tree in site_map[docname].subtrees:
            for child in tree.files():
                walk(child, part)

    for tree in site_map.root.subtrees:
        for docname in tree.files():
            walk(docname, tree.caption or "Chapters")
    return out


def _is_notebook(env, docname: str) -> bool:
    return docname in env.found_docs and str(env.doc2path(docname)).endswith(".ipynb")


def _mode(env) -> str:
    config = getattr(env, "mystnb_config", None)
    return getattr(config, "execution_mode", "off") if config is not None else "off"


def _entries(env) -> dict:
    if not hasattr(env, "lmtheory_ledger"):
        env.lmtheory_ledger = {}
    return env.lmtheory_ledger


def _needs_execution(entry, newest: float) -> bool:
    if not entry or not entry.get("executed") or not entry["executed"].get("succeeded", True):
        return True
    return min((r.get("started", 0.0) for r in entry["records"]), default=0.0) < newest


def _drop_stale_cache(path, newest: float) -> int:
    """Remove execution-cache entries whose execution started before ``newest``; return how many."""
    if not path or not pathlib.Path(path).is_dir():
        return 0
    from jupyter_cache import get_cache
    cache, dropped = get_cache(path), 0
    for rec in cache.list_cache_records():
        created = rec.created if rec.created.tzinfo else rec.created.replace(tzinfo=datetime.timezone.utc)
        if created.timestamp() - float(rec.data.get("execution_seconds") or 0.0) < newest:
            cache.remove_cache(rec.pk)
            dropped += 1
    return dropped


def on_builder_inited(app):
    """Note the newest change of the package's source, once per build."""
    app.lmtheory_newest = newest_source()
    app.lmtheory_pending = set()


def on_get_outdated(app, env, added, changed, removed):
    """Re-read the ledger pages always, and notebooks whose records predate the package source."""
    pages = [d for d in app.config.lmtheory_ledger_pages if d in env.found_docs]
    if _mode(env) == "off" or not app.config.lmtheory_ledger_refresh:
        return pages
    entries, newest = _entries(env), app.lmtheory_newest
    stale = [d for d in env.found_docs if _is_notebook(env, d) and _needs_execution(entries.get(d), newest)]
    if stale and _mode(env) == "cache":
        dropped = _drop_stale_cache(env.mystnb_config.execution_cache_path, newest)
        if dropped:
            logger.info(f"lmtheory ledger: dropped {dropped} execution-cache entries older than lmtheory's "
                        "source; their notebooks are executed afresh")
    return stale + pages


def on_before_read(app, env, docnames):
    """Read the ledger pages after every notebook, so that they see this build's records."""
    pages = [d for d in docnames if d in app.config.lmtheory_ledger_pages]
    for d in pages:
        docnames.remove(d)
    docnames.extend(pages)
    app.lmtheory_pending = set(docnames)


def on_purge(app, env, docname):
    """Forget the records of a page that is re-read or removed."""
    _entries(env).pop(docname, None)


def on_doctree_read(app, doctree):
    """Collect the verdict records of a notebook page from the outputs of its execution in this read."""
    env = app.env
    docname = env.docname
    getattr(app, "lmtheory_pending", set()).discard(docname)
    if not _is_notebook(env, docname):
        return
    from myst_nb.sphinx_ import NbMetadataCollector
    executed = NbMetadataCollector.get_exec_data(env, docname)
    entry = {"records": [], "error": "", "mode": _mode(env),
             "executed": {k: v for k, v in executed.items() if k != "traceback"} if executed else None}
    keys = NbMetadataCollector.get_doc_data(env)[docname].get("glue", [])  # set by this read only
    if executed and any(k.startswith(GLUE_PREFIX) for k in keys):
        *folders, name = docname.split("/")
        path = pathlib.Path(env.mystnb_config.output_folder, *folders, name + ".glue.json")
        try:
            records = ledger.from_glue(json.loads(path.read_text(encoding="utf-8")))
            entry["records"] = [ledger.validate(r, f"{docname}: verdict output") for r in records]
        except (OSError, ValueError) as exc:
            entry["error"] = f"could not read the verdict records of its execution from {path}: {exc}"
    _entries(env)[docname] = entry


def assess(env, newest: float) -> list[dict]:
    """One dict per notebook chapter (toc order): part, docname, status, message, records, executed."""
    out = []
    for part, docname in toc_chapters(env):
        if not _is_notebook(env, docname):
            continue
        entry = _entries(env).get(docname) or {"records": [], "executed": None, "error": ""}
        status, message = ledger.chapter_status(entry["records"], entry["executed"], mode=_mode(env),
                                                newest_source=newest)
        if entry["error"]:
            status, message = "missing", entry["error"]
        shown = status in ("ok", "failed", "inconsistent", "check-failed")
        out.append({"part": part, "docname": docname, "status": status, "message": message,
                    "records": entry["records"] if shown else [], "executed": entry["executed"]})
    return out


class LedgerDirective(SphinxDirective):
    """``lmtheory-ledger``: the totals and the table of every check of every notebook chapter."""

    has_content = False

    def run(self):
        """Warn about every chapter without a current ledger; return the totals and one table per part."""
        app = self.env.app
        if self.env.docname not in app.config.lmtheory_ledger_pages:
            logger.warning(f"the lmtheory-ledger directive is on {self.env.docname!r}, which is not in "
                           "lmtheory_ledger_pages, so it may be read before the notebooks",
                           location=self.get_location())
        late = sorted(getattr(app, "lmtheory_pending", set()) - {self.env.docname})
        if late:
            logger.warning(f"ledger read before the pages {late}: it would show old records",
                           location=self.get_location())
        report = assess(self.env, app.lmtheory_newest)
        for ch in report:
            if ch["status"] in ledger.PROBLEMS:
                logger.warning(f"ledger of predictions: {ch['docname']}: {ch['message']}",
                               location=ch["docname"])
        out = [self._summary(report), self._evidence_table(report)]
        for part in dict.fromkeys(ch["part"] for ch in report):
            out += [nodes.rubric("", part), self._table([ch for ch in report if ch["part"] == part])]
        return out

    def _summary(self, report) -> nodes.Element:
        t = ledger.totals([r for ch in report for r in ch["records"]])
        done = sum(ch["status"] == "ok" for ch in report)
        chapters = f"{len(report)} chapter" + ("" if len(report) == 1 else "s")
        text = (f"Totals: {t['checks']} checks in {chapters} ({done} with a complete, current "
                f"ledger): {t['passed']} passed, {t['failed']} failed.")
        if any(ch["status"] == "not-executed" for ch in report):
            text += (" This build did not execute the notebooks (execute_notebooks: off), so it has no "
                     "measurements; `make book` builds the ledger.")
        problems = [ch["status"] for ch in report if ch["status"] not in ("ok", "not-executed")]
        if problems:
            text += (f" {len(problems)} chapter(s) need attention "
                     f"({', '.join(f'{n} {k}' for k, n in Counter(problems).items())}): see their rows.")
        return nodes.paragraph("", "", nodes.strong("", text), classes=["lmtheory-ledger-totals"])

    def _evidence_table(self, report) -> nodes.table:
        """Counts of checks per part and evidence class (and of theory-breaks checks), from this build's records."""
        counts = evidence_counts(report)
        heads = ["Part", *ledger.EVIDENCE_LABELS.values(), "theory breaks", "all"]
        table = nodes.table(classes=["lmtheory-ledger-evidence"])
        group = nodes.tgroup(cols=len(heads))
        table += group
        group.extend(nodes.colspec(colwidth=1) for _ in heads)
        group += nodes.thead("", _row([[nodes.Text(h)] for h in heads]))
        body = nodes.tbody()
        group += body
        for part, row in counts.items():
            body += _row([[nodes.Text(part)], *([nodes.Text(str(row[k]))] for k in [*ledger.EVIDENCE_LABELS,
                                                                                     "breaks", "all"])])
        return table

    def _theory(self, paths: str) -> list[nodes.Node]:
        """Each theory path as a cross-reference to its entry in the API reference."""
        out: list[nodes.Node] = []
        for i, path in enumerate(p for p in paths.split(", ") if p):
            out += ([nodes.Text(", ")] if i else []) + self._inline(f"{{py:func}}`{path}`")
        return out

    def _inline(self, text: str) -> list[nodes.Node]:
        children, messages = self.state.inline_text(text, self.lineno)
        return list(children) + list(messages)

    def _reference(self, key: str) -> list[nodes.Node]:
        try:
            known = key in self.env.get_domain("cite").bibdata.data.entries
        except Exception:  # noqa: BLE001 -- no sphinxcontrib-bibtex: show the key
            known = False
        return self._inline(f"{{cite:t}}`{key}`") if known else [nodes.literal("", key)]

    def _table(self, chapters) -> nodes.table:
        table = nodes.table(classes=["lmtheory-ledger"])
        group = nodes.tgroup(cols=len(HEADERS))
        table += group
        group.extend(nodes.colspec(colwidth=w) for w in WIDTHS)
        group += nodes.thead("", _row([[nodes.Text(h)] for h in HEADERS]))
        body = nodes.tbody()
        group += body
        for ch in chapters:
            body.extend(self._chapter_rows(ch))
        return table

    def _chapter_rows(self, ch) -> list[nodes.row]:
        link = self._inline(f"{{doc}}`/{ch['docname']}`")
        if not ch["records"]:
            note = f"{ch['status']}: {ch['message']}"
            return [_row([link, [nodes.emphasis("", note)]], spans=[0, len(HEADERS) - 2])]
        rows = []
        for i, rec in enumerate(ch["records"]):
            r = ledger.row(rec, time_s=(ch["executed"] or {}).get("runtime"))
            cells = [[nodes.literal("", r["check"])], [nodes.Text(r["statement"])], [nodes.Text(r["evidence"])],
                     self._theory(r["theory"]), self._reference(r["reference"]),
                     *([nodes.Text(r[k])] for k in ("predicted", "measured", "error", "tolerance")),
                     [nodes.strong("", r["verdict"])]]
            if i == 0:
                cells = [link] + cells + [[nodes.Text(_run_text(rec, r, ch))]]
            rows.append(_row(cells, rowspan=len(ch["records"]) - 1 if i == 0 else 0))
        return rows


def evidence_counts(report) -> dict:
    """``{part: {evidence class: n, "breaks": n, "all": n}}`` over the records of an :func:`assess` report.

    >>> rep = [{"part": "Part I", "records": [{"evidence": "trained-network", "check_kind": "check"},
    ...                                       {"evidence": "solvable-model", "check_kind": "breaks"}]}]
    >>> evidence_counts(rep)["Part I"]
    {'trained-network': 1, 'random-network': 0, 'solvable-model': 1, 'breaks': 1, 'all': 2}
    """
    out: dict = {}
    for ch in report:
        row = out.setdefault(ch["part"], {**{k: 0 for k in ledger.EVIDENCE_LABELS}, "breaks": 0, "all": 0})
        for rec in ch["records"]:
            row[rec.get("evidence")] = row.get(rec.get("evidence"), 0) + 1
            row["breaks"] += rec.get("check_kind") == "breaks"
            row["all"] += 1
    return out


def _run_text(rec: dict, r: dict, ch: dict) -> str:
    when = datetime.datetime.fromtimestamp(float(rec.get("started", 0.0)), datetime.timezone.utc)
    status = "" if ch["status"] == "ok" else f"; {ch['status']}: {ch['message']}"
    return (f"seed {r['seed']}, {r['scale']}; {r['time_s']} s; executed {when:%Y-%m-%d %H:%M} UTC; "
            f"run {rec.get('run_id')}{status}")


def _row(cells, *, spans=None, rowspan: int = 0) -> nodes.row:
    """A table row; with ``rowspan`` the first and last cells span that many more rows."""
    row = nodes.row()
    for i, children in enumerate(cells):
        entry = nodes.entry()
        entry += nodes.paragraph("", "", *children)
        if spans and spans[i]:
            entry["morecols"] = spans[i]
        if rowspan and i in (0, len(cells) - 1):
            entry["morerows"] = rowspan
        row += entry
    return row


def setup(app):
    """Register the directive, the config values and the event handlers."""
    app.add_config_value("lmtheory_ledger_pages", ["book/ledger"], "env")
    app.add_config_value("lmtheory_ledger_refresh", True, "env")
    app.add_directive("lmtheory-ledger", LedgerDirective)
    app.connect("builder-inited", on_builder_inited)
    app.connect("env-get-outdated", on_get_outdated)
    app.connect("env-before-read-docs", on_before_read)
    app.connect("env-purge-doc", on_purge)
    app.connect("doctree-read", on_doctree_read)
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True, "env_version": 1}
