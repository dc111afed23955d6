"""The falsifiability audit: every recorded check must fail when its prediction is perturbed.

A check that cannot fail is not a check. From the recorded inputs of a check alone (predicted, measured,
standard error, tolerance, kind of measurement), :func:`falsify` re-evaluates it with
:func:`lmtheory.contract.check.evaluate` under two perturbed predictions and requires *both* to fail. No simulation
is rerun: this is arithmetic on the records, cheap enough for every ``make test``.

The perturbations (:func:`perturbations`), applied to every element of an array prediction at once:

* a value or a seed mean (``measured_kind`` ``"value"``/``"mean"``): the prediction times **1.25** and
  times **0.8**;
* a fitted slope (``"slope"``): the predicted slope shifted by **±25% of its value**, ``p ± 0.25 |p|``
  (a multiplicative perturbation would not move a slope of a sign-symmetric family);
* an element predicted to be **exactly zero** has no size of its own to take 25% of. It is shifted to
  ±``alternative``, the smallest effect the check says it must detect (``run.check(..., alternative=)``,
  required by the contract for a zero prediction); a record without one (written before the contract required
  it) is shifted by ±25% of the check's largest ``|predicted|`` and is INVALID if every element is zero.

A **theory-breaks** record (``run.check_breaks``) is not perturbed: it must pass as recorded (the prediction
misses by more than its margin), its margin must be at least twice its tolerance (in the tolerance's units:
standard errors at the estimate's dof, a fraction, or absolute), and its ``pair`` must be an in-regime check of
the same chapter in the same run.

**The false-alarm budget.** Every statistical check (a tolerance in standard errors) has a designed two-sided
false-alarm probability ``alpha``; their sum is the book's expected number of false alarms per full run.
:func:`false_alarm_rate` computes it, the report prints it, and the audit fails when it exceeds
:data:`FALSE_ALARM_BUDGET` (1%). Deterministic checks (relative/absolute tolerances) are not counted.

A record that does not pass unperturbed (a failed check, or a ``nan``/``inf`` measurement) fails the audit
too, with its reason; so does a record whose numbers cannot be evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmtheory.book.ledger import decode, dof_of, reevaluate, text_table, tolerance_of
from lmtheory.contract.check import se_multiplier

FACTORS = (1.25, 0.8)          # value and mean predictions
SLOPE_SHIFT = 0.25             # slope predictions: p +- SLOPE_SHIFT |p|
ZERO_SHIFT_FRACTION = 0.25     # zero elements: +- this fraction of the check's largest |predicted| ...
FALSE_ALARM_BUDGET = 0.01      # the sum of alpha over the book's statistical checks may not exceed this


@dataclass(frozen=True)
class Outcome:
    """The audit of one check: did it pass as recorded, and did each perturbation make it fail?"""

    chapter: str
    id: str
    kind: str
    tolerance: str
    check_kind: str = "check"
    alpha: float = 0.0                 # designed false-alarm probability (0 for deterministic and breaks checks)
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

    >>> [(lab, p.tolist()) for lab, p in perturbations({"predicted": [2.0, 0.0], "measured_kind": "mean",
    ...                                                  "alternative": 0.1})]
    [('×1.25', [2.5, 0.1]), ('×0.8', [1.6, -0.1])]
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
        if record.get("alternative") is not None:
            delta = float(record["alternative"])
        elif np.any(~zero):
            delta = ZERO_SHIFT_FRACTION * float(np.max(np.abs(p)))
        else:
            raise ValueError("a prediction of exactly zero must name its alternative (the smallest effect to detect)")
        up, down = np.where(zero, delta, up), np.where(zero, -delta, down)
    return [(labels[0], up), (labels[1], down)]


def _why_survived(record: dict, p: np.ndarray, p2: np.ndarray, allowed: np.ndarray) -> str:
    shift = np.broadcast_to(np.abs(p2 - p), allowed.shape)
    i = int(np.argmax(allowed / np.maximum(shift, 1e-300)))
    s, a = shift.ravel()[i], allowed.ravel()[i]
    where = f" (element {i})" if allowed.size > 1 else ""
    tol = tolerance_of(record)
    if tol.kind == "stderr" and record.get("stderr") is not None:
        noise = se_multiplier(tol.value, dof_of(record)) * np.broadcast_to(decode(record["stderr"]), allowed.shape).ravel()[i]
        if noise >= a:
            return (f"measured too noisy: {tol.describe(dof_of(record))} = {noise:.3g} against a shift of {s:.3g}{where}; "
                    "average over more seeds")
        return f"tolerance too loose: its systematic floor allows {a:.3g} against a shift of {s:.3g}{where}"
    return f"tolerance too loose: {tol.describe()} allows {a:.3g} against a shift of {s:.3g}{where}"


def falsify(record: dict, pairs=None) -> Outcome:
    """Audit one record: it must pass as recorded and fail under both :func:`perturbations`.

    ``pairs``: the ids of the in-regime checks of the record's chapter (for a theory-breaks record).

    >>> base = {"chapter": "c", "id": "x", "measured_kind": "mean", "stderr": [0.01], "dof": "inf",
    ...         "tolerance": {"kind": "stderr", "value": 5e-5}}
    >>> falsify(dict(base, predicted=[1.0], measured=[1.01])).ok
    True
    >>> out = falsify(dict(base, predicted=[1.0], measured=[1.01], stderr=[0.2]))
    >>> out.ok, out.reasons()[0][:33]
    (False, 'survives ×1.25: measured too nois')
    >>> falsify(dict(base, predicted=[1.0], measured=["nan"])).reasons()
    ['does not pass as recorded: measured value is not finite (nan or inf)']
    """
    head = dict(chapter=str(record.get("chapter", "?")), id=str(record.get("id", "?")),
                kind=str(record.get("measured_kind", "?")), check_kind=str(record.get("check_kind", "check")))
    try:
        tol = tolerance_of(record)
        head["tolerance"] = tol.describe(dof_of(record))
        _, _, passed, reason = reevaluate(record)
        if not passed:
            return Outcome(**head, problem=f"does not pass as recorded: {reason}")
        if head["check_kind"] == "breaks":
            return _breaks_outcome(record, head, tol, pairs)
        head["alpha"] = tol.value if tol.statistical else 0.0
        p, results = decode(record["predicted"]), []
        note = "zero: alternative" if np.any(p == 0) else ""
        for label, p2 in perturbations(record):
            _, allowed, survived, _ = reevaluate(record, predicted=p2)
            results.append((label, not survived, _why_survived(record, p, p2, allowed) if survived else ""))
    except (ValueError, KeyError, TypeError) as exc:
        return Outcome(**{"tolerance": "?", **head}, problem=f"cannot be evaluated: {exc}")
    if tol.statistical and dof_of(record) < 15:
        note = ", ".join(filter(None, [note, f"dof {dof_of(record):g} < 15"]))
    return Outcome(**head, results=tuple(results), note=note)


def _breaks_outcome(record: dict, head: dict, tol, pairs) -> Outcome:
    """The audit of a theory-breaks record: a margin of at least twice the tolerance, and a real pair."""
    units = se_multiplier(tol.value, dof_of(record)) if tol.statistical else tol.value
    margin = float(record.get("margin") or 0.0)
    if margin < 2 * units:
        return Outcome(**head, problem=f"vacuous margin: {margin:g} < twice the tolerance ({2 * units:.3g})")
    if pairs is not None and record.get("pair") not in pairs:
        return Outcome(**head, problem=f"pair {record.get('pair')!r} is not an in-regime check of this chapter")
    return Outcome(**head, results=(("misses by margin", True, ""),), note=f"breaks; pair {record.get('pair')}")


def false_alarm_rate(outcomes) -> float:
    """The designed false-alarm probability of a full run: the sum of ``alpha`` over the statistical checks.

    >>> false_alarm_rate([Outcome("c", "a", "mean", "t", alpha=5e-5), Outcome("c", "b", "value", "t")])
    5e-05
    """
    return float(sum(o.alpha for o in outcomes))


def audit(records) -> list[Outcome]:
    """:func:`falsify` every record; ValueError when there are none (an audit of nothing is no audit)."""
    records = list(records)
    if not records:
        raise ValueError("no records to audit: the falsifiability audit needs the records of a notebook run")
    pairs: dict = {}
    for rec in records:
        if rec.get("check_kind", "check") == "check":
            pairs.setdefault(rec.get("chapter"), set()).add(rec.get("id"))
    return [falsify(rec, pairs.get(rec.get("chapter"), set())) for rec in records]


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
        if o.check_kind == "breaks":
            cells = ["(theory breaks:", "misses by margin)"]
        cells = (cells + ["-", "-"])[:2]
        rows.append([o.chapter, o.id, o.kind, o.tolerance, *cells, o.status,
                     o.note])
    lines = [text_table(["chapter", "check", "kind", "tolerance", "perturbed up", "perturbed down", "audit",
                         "note"], rows, width=48), ""]
    for o in outcomes:
        lines += [f"{o.chapter} {o.id}: {why}" for why in o.reasons()]
    good = sum(o.ok for o in outcomes)
    rate, n_stat = false_alarm_rate(outcomes), sum(o.alpha > 0 for o in outcomes)
    budget = (f"designed false-alarm rate per full run: {100 * rate:.3g}% ({n_stat} statistical checks; budget "
              f"{100 * FALSE_ALARM_BUDGET:g}%)" + ("" if rate <= FALSE_ALARM_BUDGET else " -- OVER BUDGET"))
    return "\n".join(lines + ([""] if good < len(outcomes) else [])
                     + [budget, f"{good}/{len(outcomes)} checks fail under perturbation"])


def passes(outcomes) -> bool:
    """True when every check passes the audit and the false-alarm budget holds."""
    outcomes = list(outcomes)
    return all(o.ok for o in outcomes) and false_alarm_rate(outcomes) <= FALSE_ALARM_BUDGET
