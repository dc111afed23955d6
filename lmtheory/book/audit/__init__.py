"""Audits of the prediction contract itself (build tooling; notebooks never import this).

* :mod:`lmtheory.book.audit.falsifiability` -- every recorded check must fail when its prediction is perturbed
  (pure arithmetic on the records; ``make test`` runs it right after nbval).
* :mod:`lmtheory.book.audit.seeds` -- rerun every notebook with K fresh seeds and report, per check, how many
  seeds passed and how much the measurement moved (``make audit``; slow, not in CI).

Command line (see ``python -m lmtheory.book.audit --help``)::

    python -m lmtheory.book.audit falsifiability _build/records/test --run-id RUN_ID
    python -m lmtheory.book.audit seeds notebooks --k 5 --out _build/audit
"""
