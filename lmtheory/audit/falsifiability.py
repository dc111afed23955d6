"""The falsifiability audit: every recorded check must fail when its prediction is perturbed.

A check that cannot fail is not a check. From the recorded inputs of a check alone (predicted, measured,
standard error, tolerance, kind of measurement), :func:`falsify` re-evaluates it with
:func:`lmtheory.check.evaluate` under two perturbed predictions and requires *both* to fail. No simulation
is rerun: this is arithmetic on the records, cheap enough for every ``make test``.

The perturbations (:func:`perturbations`), applied to every element of an array prediction at once:

* a value or a seed mean (``measured_kind`` ``"value"``/``"mean"``): the prediction times **1.25** and
  times **0.8**;
* a fitted slope (``"slope"``): the predicted slope shifted by **±25% of its value**, ``p ± 0.25 |p|``
  (a multiplicative perturbation would not move a slope of a sign-symmetric family);
* an element predicted to be **exactly zero** has no size of its own to take 25% of. It is shifted by
  ±25% of the largest ``|predicted|`` of the same check when there is one (the size of the quantity the
  check is about), and otherwise -- every element zero, e.g. an identity checked to float precision -- by
  **±10 times its allowed error** (:data:`ZERO_SHIFT_TOLERANCES`). That last test only certifies that the
  tolerance is finite and the measurement lies inside it; the report marks such checks ``zero: 10×tol``.

A record that does not pass unperturbed (a failed check, or a ``nan``/``inf`` measurement) fails the audit
too, with its reason; so does a record whose numbers cannot be evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmtheory.ledger import decode, reevaluate, text_table, tolerance_of

FACTORS = (1.25, 0.8)          # value and mean predictions
SLOPE_SHIFT = 0.25             # slope predictions: p +- SLOPE_SHIFT |p|
ZERO_SHIFT_FRACTION = 0.25     # zero elements: +- this fraction of the check's largest |predicted| ...
ZERO_SHIFT_TOLERANCES = 10.0   # ... or, if every element is zero, +- this many allowed errors


@dataclass(frozen=True)
class Outcome:
    """The audit of one check: did it pass as recorded, and did each perturbation make it fail?"""

    chapter: str
    id: str
    kind: str
    tolerance: str
    problem: str = ""                  # why the check fails the audit before any perturbation ('' if none)
    results: tuple = ()                # (label, failed: bool, why it survived) per perturbation
    note: str = ""

    @property
    def ok(self) -> bool:
        """True when the check passed as recorded and failed under every perturbation."""
        return not self.problem and bool(self.results) and all(failed for _, failed, _ in self.results)

    @property
    def status(self) -> str:
        """``ok``, ``NOT FALSIFIABLE`` (survives a perturbation), ``FAILS AS RECORDED`` or ``INVALID``."""
        if self.problem:
            return "FAILS AS RECORDED" if self.problem.startswith("does not pass") else "INVALID"
        return "ok" if self.ok else "NOT FALSIFIABLE"

    def reasons(self) -> list[str]:
        """Why the check fails the audit, one line each."""
        survived = [f"survives {label}: {why}" for label, failed, why in self.results if not failed]
        return ([self.problem] if self.problem else []) + survived


def perturbations(record: dict) -> list[tuple[str, np.ndarray]]:
    """The two perturbed predictions of a record, as ``(label, predicted)``.

    >>> [(lab, p.tolist()) for lab, p in perturbations({"predicted": [2.0, 0.0], "measured_kind": "mean"})]
    [('×1.25', [2.5, 0.5]), ('×0.8', [1.6, -0.5])]
    >>> [(lab, float(p)) for lab, p in perturbations({"predicted": -0.5, "measured_kind": "slope"})]
    [('+25%', -0.375), ('-25%', -0.625)]
    """
    p = decode(record["predicted"])
    if not np.all(np.isfinite(p)):
        raise ValueError(f"predicted values must be finite, got {record['predicted']!r}")
    if record.get("measured_kind") == "slope":
        labels, up, down = ("+25%", "-25%"), p + SLOPE_SHIFT * np.abs(p), p - SLOPE_SHIFT * np.abs(p)
    else:
        labels, up, down = ("×1.25", "×0.8"), p * FACTORS[0], p * FACTORS[1]
    zero = p == 0
    if np.any(zero):
        size = float(np.max(np.abs(p)))
        delta = ZERO_SHIFT_FRACTION * size if size > 0 else ZERO_SHIFT_TOLERANCES * reevaluate(record)[1]
        up, down = np.where(zero, delta, up), np.where(zero, -delta, down)
    return [(labels[0], up), (labels[1], down)]


def _why_survived(record: dict, p: np.ndarray, p2: np.ndarray, allowed: np.ndarray) -> str:
    shift = np.broadcast_to(np.abs(p2 - p), allowed.shape)
    i = int(np.argmax(allowed / np.maximum(shift, 1e-300)))
    s, a = shift.ravel()[i], allowed.ravel()[i]
    where = f" (element {i})" if allowed.size > 1 else ""
    tol = tolerance_of(record)
    if tol.kind == "stderr" and record.get("stderr") is not None:
        noise = tol.value * np.broadcast_to(decode(record["stderr"]), allowed.shape).ravel()[i]
        if noise >= a:
            return (f"measured too noisy: {tol.value:g} SE = {noise:.3g} against a shift of {s:.3g}{where}; "
                    "average over more seeds")
        return f"tolerance too loose: its systematic floor allows {a:.3g} against a shift of {s:.3g}{where}"
    return f"tolerance too loose: {tol.describe()} allows {a:.3g} against a shift of {s:.3g}{where}"


def falsify(record: dict) -> Outcome:
    """Audit one record: it must pass as recorded and fail under both :func:`perturbations`.

    >>> base = {"chapter": "c", "id": "x", "measured_kind": "mean", "stderr": [0.01],
    ...         "tolerance": {"kind": "stderr", "value": 3}}
    >>> falsify(dict(base, predicted=[1.0], measured=[1.01])).ok
    True
    >>> out = falsify(dict(base, predicted=[1.0], measured=[1.01], stderr=[0.2]))
    >>> out.ok, out.reasons()[0][:33]
    (False, 'survives ×1.25: measured too nois')
    >>> falsify(dict(base, predicted=[1.0], measured=["nan"])).reasons()
    ['does not pass as recorded: measured value is not finite (nan or inf)']
    """
    head = dict(chapter=str(record.get("chapter", "?")), id=str(record.get("id", "?")),
                kind=str(record.get("measured_kind", "?")))
    try:
        head["tolerance"] = tolerance_of(record).describe()
        _, _, passed, reason = reevaluate(record)
        if not passed:
            return Outcome(**head, problem=f"does not pass as recorded: {reason}")
        p, results = decode(record["predicted"]), []
        zero_note = "zero: 10×tol" if np.all(p == 0) else ("zero: 25% of max|p|" if np.any(p == 0) else "")
        for label, p2 in perturbations(record):
            _, allowed, survived, _ = reevaluate(record, predicted=p2)
            results.append((label, not survived, _why_survived(record, p, p2, allowed) if survived else ""))
    except (ValueError, KeyError, TypeError) as exc:
        return Outcome(**{"tolerance": "?", **head}, problem=f"cannot be evaluated: {exc}")
    return Outcome(**head, results=tuple(results), note=zero_note)


def audit(records) -> list[Outcome]:
    """:func:`falsify` every record; ValueError when there are none (an audit of nothing is no audit)."""
    records = list(records)
    if not records:
        raise ValueError("no records to audit: the falsifiability audit needs the records of a notebook run")
    return [falsify(rec) for rec in records]


def report(outcomes) -> str:
    """The audit as text: a table (chapter, check, kind, tolerance, each perturbation, verdict), the reasons
    of every check that fails the audit, and the count ``"N/M checks fail under perturbation"``.

    >>> rec = {"chapter": "c", "id": "x", "measured_kind": "value", "predicted": 1.0, "measured": 1.0,
    ...        "stderr": None, "tolerance": {"kind": "relative", "value": 0.01}}
    >>> print(report([falsify(rec)]).splitlines()[-1])
    1/1 checks fail under perturbation
    """
    rows = []
    for o in outcomes:
        cells = [f"{label} {'fails' if failed else 'SURVIVES'}" for label, failed, _ in o.results]
        cells = cells or ["-", "-"]
        rows.append([o.chapter, o.id, o.kind, o.tolerance, *cells, o.status,
                     o.note])
    lines = [text_table(["chapter", "check", "kind", "tolerance", "perturbed up", "perturbed down", "audit",
                         "note"], rows), ""]
    for o in outcomes:
        lines += [f"{o.chapter} {o.id}: {why}" for why in o.reasons()]
    good = sum(o.ok for o in outcomes)
    return "\n".join(lines + ([""] if good < len(outcomes) else [])
                     + [f"{good}/{len(outcomes)} checks fail under perturbation"])
