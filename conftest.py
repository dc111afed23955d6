"""Repository-wide pytest hooks: a per-notebook timing table at the end of an nbval run."""

from __future__ import annotations

import collections
import json
import os
import pathlib

_NOTEBOOK_TIMES: dict[str, float] = collections.defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _NOTEBOOK_TIMES[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _NOTEBOOK_TIMES:
        return
    terminalreporter.section("notebook timings (seconds, all cells incl. kernel start)")
    for path, seconds in sorted(_NOTEBOOK_TIMES.items(), key=lambda kv: -kv[1]):
        flag = "  <-- over the 60 s budget" if seconds > 60 else ""
        terminalreporter.write_line(f"{seconds:8.1f}  {path}{flag}")
    terminalreporter.write_line(f"{sum(_NOTEBOOK_TIMES.values()):8.1f}  total")
    target = os.environ.get("LMTHEORY_TIMINGS", "").strip()       # for `make bench`
    if target:
        pathlib.Path(target).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(target).write_text(json.dumps(dict(_NOTEBOOK_TIMES), indent=1))
