"""``python -m lmtheory.book.audit {falsifiability,seeds} ...``: the command line of the audits.

Exit status: 0 when the audit passes, 1 when it fails (a check survives a perturbation, or fails for a
seed), 2 when it cannot run (no records, bad arguments).
"""

from __future__ import annotations

import argparse
import sys

from lmtheory.book.audit import falsifiability, seeds
from lmtheory.book.ledger import load_records


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lmtheory.book.audit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("falsifiability", help="every recorded check must fail under a perturbed prediction")
    f.add_argument("folder", help="records folder of one notebook run (LMTHEORY_RECORDS)")
    f.add_argument("--run-id", default=None,
                   help="audit only this run's records (required if the folder holds several runs)")
    s = sub.add_parser("seeds", help="rerun every notebook with K fresh seeds")
    s.add_argument("paths", nargs="*", default=["notebooks"],
                   help="notebooks or folders of notebooks (default: notebooks)")
    s.add_argument("--k", type=int, default=5, help="number of fresh random seeds (default 5)")
    s.add_argument("--seeds", default="", help="comma-separated seeds to use instead of K random ones")
    s.add_argument("--out", default="_build/audit", help="output folder (default _build/audit)")
    s.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    s.add_argument("--report-only", action="store_true",
                   help="run nothing: rebuild the report from the runs already in --out (after an interruption)")
    return parser


def _falsifiability(args) -> int:
    try:
        outcomes = falsifiability.audit(load_records(args.folder, args.run_id))
    except ValueError as exc:
        print(f"falsifiability audit: {exc}", file=sys.stderr)
        return 2
    print("Falsifiability audit: each check re-evaluated with its prediction perturbed (x1.25 and x0.8; "
          "slopes +-25%; zero predictions moved to their alternative; theory-breaks checks need a margin of "
          "twice their tolerance); every check must fail, and the false-alarm budget must hold.\n")
    print(falsifiability.report(outcomes))
    return 0 if falsifiability.passes(outcomes) else 1


def _seeds(args) -> int:
    if args.report_only:
        try:
            runs, chosen = seeds.load_runs(args.out)
        except ValueError as exc:
            print(f"seed audit: {exc}", file=sys.stderr)
            return 2
        report = seeds.summarize(runs, chosen)
    else:
        try:
            chosen = ([int(s) for s in args.seeds.split(",") if s.strip()] if args.seeds
                      else seeds.fresh_seeds(args.k))
            if any(s < 0 for s in chosen):
                raise ValueError(f"seeds must be non-negative integers, got {args.seeds!r}")
            notebooks = seeds.find_notebooks(args.paths)
        except ValueError as exc:
            print(f"seed audit: {exc}", file=sys.stderr)
            return 2
        print(f"Seed audit: {len(notebooks)} notebook(s) x seeds {chosen} -> {args.out}", flush=True)
        report = seeds.run_audit(notebooks, chosen, args.out, timeout=args.timeout,
                                 log=lambda line: print(line, flush=True))
    json_path, md_path = seeds.write_report(report, args.out)
    print("\n" + seeds.format_report(report) + f"\n\nReport: {json_path} and {md_path}")
    return 0 if report["ok"] else 1


def main(argv=None) -> int:
    """Run the audit named on the command line; return the exit status."""
    args = _parser().parse_args(argv)
    return _falsifiability(args) if args.command == "falsifiability" else _seeds(args)


if __name__ == "__main__":
    sys.exit(main())
