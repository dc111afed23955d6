"""Audits of the prediction contract itself (build tooling; notebooks never import this).

* :mod:`lmtheory.audit.falsifiability` -- every recorded check must fail when its prediction is perturbed
  (pure arithmetic on the records; ``make test`` runs it right after nbval).
* :mod:`lmtheory.audit.seeds` -- rerun every notebook with K fresh seeds and report, per check, how many
  seeds passed and how much the measurement moved (``make audit``; slow, not in CI).

Command line (see ``python -m lmtheory.audit --help``)::

    python -m lmtheory.audit falsifiability _build/records/test --run-id RUN_ID
    python -m lmtheory.audit seeds notebooks --k 5 --out _build/audit
"""
