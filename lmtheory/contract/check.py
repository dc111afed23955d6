"""The prediction contract: compare a theory's number with a fresh measurement, print a verdict, fail loudly.

Every chapter ends its experiment with calls of :func:`check` (usually through :meth:`lmtheory.Run.check`,
which also records the verdict). A check

* compares ``predicted`` -- a :class:`~lmtheory.contract.prediction.Prediction` made by a recorded call of a
  function of :mod:`lmtheory.theory` (``run.predict(fn, ...)``); a bare number is refused -- with
  ``measured`` (from this run's simulation),
* says what the evidence is: ``evidence=`` one of :data:`EVIDENCE` --
  ``"trained-network"`` (a model with a nonlinearity or at least two weight layers -- a deep linear or
  diagonal network counts, a perceptron with its sign counts -- updated by an optimizer in this run),
  ``"random-network"`` (networks at initialization, sampled in this run) or ``"solvable-model"`` (anything
  linear in its trained parameters -- linear or kernel regression, a random-features readout --, a quadratic,
  an iterated map on samples),
* under a :class:`Tolerance`: **statistical** (:func:`within_se`: a two-sided false-alarm probability
  ``alpha``, 5e-5 by default, turned into a number of standard errors by the Student-t quantile for the
  estimate's degrees of freedom, plus optional floors for a *stated* systematic error) or **deterministic**
  (:func:`relative`, :func:`absolute`: for comparisons without sampling noise, e.g. a numerical solution
  against a closed form; they are not counted in the book's false-alarm budget),
* prints one verdict line and raises :class:`PredictionFailed` when the prediction fails.

**What is not a check.** An identity that holds for any data -- a trace identity, GD algebra on numbers from
the same run, a map compared with its own spectral radius -- cannot come out wrong, so it belongs in
``tests/`` as a unit test. The contract cannot detect this; authors and reviewers must.

**A prediction of exactly zero** (a slope of 0, a vanishing drift) has no size of its own: the check names
its ``alternative``, the smallest effect (in the quantity's units) it must detect; the falsifiability audit
moves the prediction there.

**Where the theory breaks** is checked too: :func:`check_breaks` passes only when the prediction *misses* by
more than ``margin`` (in the units of the tolerance, at least twice it), and names with ``pair=`` the
in-regime check of the same theory in the same chapter.

:func:`evaluate` is the pure arithmetic behind a verdict; the audits re-run it on recorded inputs.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, fields

import numpy as np

from lmtheory import _validate
from lmtheory.contract.format import error_summary, format_value, jsonable
from lmtheory.contract.prediction import Prediction, predict
from lmtheory.contract.stats import Estimate
from lmtheory.contract.tolerance import (DEFAULT_ALPHA, Tolerance, absolute, relative, se_multiplier,
                                         within_se)

EVIDENCE = ("trained-network", "random-network", "solvable-model")
CHECK_KINDS = ("check", "breaks")

__all__ = ["DEFAULT_ALPHA", "EVIDENCE", "Prediction", "PredictionFailed", "Record", "Tolerance", "Verdict",
           "absolute", "check", "check_breaks", "error_summary", "evaluate", "format_value", "predict",
           "relative", "se_multiplier", "within_se"]


def evaluate(predicted, measured, stderr, tolerance: Tolerance, dof=math.inf, *, margin=None):
    """Per-element ``(error, allowed, passed, reason)`` for a prediction and a measurement (pure arithmetic).

    ``stderr`` may be ``None`` unless the tolerance is statistical; ``dof`` is that of the standard error.
    Non-finite measurements fail. With ``margin`` (a :func:`check_breaks`), ``allowed`` is the miss required,
    ``margin`` in the tolerance's units (standard errors, a fraction of ``|p|``, or absolute), and the check
    passes only when every element misses by more.

    >>> err, allowed, ok, why = evaluate(2.0, 2.1, None, relative(0.1))
    >>> ok, round(float(err), 3)
    (True, 0.1)
    """
    p, m = np.asarray(predicted, float), np.asarray(measured, float)
    try:
        p, m = np.broadcast_arrays(p, m)
    except ValueError as exc:
        raise ValueError(f"predicted {p.shape} and measured {m.shape} shapes do not match") from exc
    if not np.all(np.isfinite(p)):
        raise ValueError(f"predicted values must be finite, got {p}")
    err = np.abs(m - p)
    if tolerance.kind == "relative":
        if np.any(p == 0):
            raise ValueError("a relative tolerance needs non-zero predicted values; use absolute() instead")
        unit, scale = np.abs(p), tolerance.value
    elif tolerance.kind == "absolute":
        unit, scale = np.ones(p.shape), tolerance.value
    else:
        if stderr is None:
            raise ValueError("within_se() needs a measurement with a standard error (an Estimate)")
        unit, scale = np.broadcast_to(np.asarray(stderr, float), p.shape), se_multiplier(tolerance.value, dof)
    if margin is not None:
        allowed = _validate.positive("margin", margin) * unit
    elif tolerance.kind == "stderr":
        allowed = np.maximum.reduce([scale * unit, tolerance.rel_floor * np.abs(p),
                                     np.full(p.shape, tolerance.abs_floor)])
    else:
        allowed = scale * unit
    if not np.all(np.isfinite(m)):
        return err, allowed, False, "measured value is not finite (nan or inf)"
    if margin is not None:
        passed = bool(np.all(err > allowed))
        return err, allowed, passed, "" if passed else "the prediction does not miss by the margin"
    passed = bool(np.all(err <= allowed))
    return err, allowed, passed, "" if passed else "outside tolerance"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check; ``error`` and ``allowed`` are per element, in the quantity's units."""

    id: str
    statement: str
    reference: str
    evidence: str
    theory: tuple
    predicted: np.ndarray
    measured: np.ndarray
    stderr: np.ndarray | None
    dof: float
    error: np.ndarray
    allowed: np.ndarray
    tolerance: Tolerance
    measured_kind: str
    passed: bool
    reason: str = ""
    check_kind: str = "check"
    pair: str | None = None
    margin: float | None = None
    alternative: float | None = None

    def line(self) -> str:
        """The one-line verdict printed in the notebook."""
        head = ("PASS" if self.passed else "FAIL") + (" (theory breaks)" if self.check_kind == "breaks" else "")
        meas = format_value(self.measured) + ("" if self.stderr is None else f" ± {format_value(self.stderr)}")
        tol = (f"margin {self.margin:g} × {self.tolerance.kind} unit" if self.check_kind == "breaks"
               else self.tolerance.describe(self.dof))
        return (f"{head} {self.id}: {self.statement} | predicted {format_value(self.predicted)}, measured "
                f"{meas}, error {error_summary(self)} (tolerance {tol}; {self.evidence})"
                + (f" — {self.reason}" if self.reason else "") + f" [{self.reference}]")


@dataclass(frozen=True)
class Record:
    """The JSON record of one verdict in one run: the one owner of the record format.

    Written by :meth:`lmtheory.Run.check` (``LMTHEORY_RECORDS`` and the notebook's outputs); read by the ledger
    and the audits through :meth:`from_json`, which validates it.
    """

    id: str
    statement: str
    reference: str
    evidence: str
    theory: list
    predicted: object
    measured: object
    stderr: object
    dof: object
    error: object
    allowed: object
    tolerance: dict
    measured_kind: str
    passed: bool
    reason: str
    check_kind: str
    pair: str | None
    margin: float | None
    alternative: float | None
    chapter: str
    run_id: str
    seed: int | None = None
    scale: str | None = None
    started: float | None = None
    recorded: float | None = None
    elapsed_s: float | None = None

    @staticmethod
    def from_verdict(verdict: Verdict, **run) -> Record:
        """The record of a verdict, with the run's identity (``chapter, run_id, seed, scale, ...``)."""
        out = {f.name: getattr(verdict, f.name) for f in fields(Verdict) if f.name != "tolerance"}
        for k in ("predicted", "measured", "stderr", "error", "allowed"):
            out[k] = None if out[k] is None else jsonable(out[k])
        out.update(theory=list(verdict.theory), tolerance=asdict(verdict.tolerance),
                   dof="inf" if math.isinf(verdict.dof) else verdict.dof)
        return Record(**out, **run)

    def to_json(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)

    @staticmethod
    def required() -> tuple:
        """Names of the fields every record must have."""
        return tuple(f.name for f in fields(Record) if f.default is MISSING)

    @staticmethod
    def from_json(data, where: str = "record") -> Record:
        """Validate a JSON object as a record; ValueError naming ``where`` and what is missing or wrong."""
        if not isinstance(data, dict):
            raise ValueError(f"{where}: a record must be a JSON object, got {type(data).__name__}")
        missing = [k for k in Record.required() if k not in data]
        if missing:
            raise ValueError(f"{where}: record lacks field(s) {', '.join(missing)}")
        tol = data["tolerance"]
        if not isinstance(tol, dict) or not {"kind", "value"} <= set(tol):
            raise ValueError(f"{where}: record {data['id']!r} has a malformed tolerance {tol!r}")
        if data["evidence"] not in EVIDENCE:
            raise ValueError(f"{where}: record {data['id']!r} has evidence {data['evidence']!r}, not one of "
                             f"{EVIDENCE}")
        if not data["theory"]:
            raise ValueError(f"{where}: record {data['id']!r} names no theory")
        known = {f.name for f in fields(Record)}
        return Record(**{k: v for k, v in data.items() if k in known})


class PredictionFailed(AssertionError):
    """Raised when a measurement falls outside a prediction's tolerance; ``.verdict`` carries the numbers."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.line())
        self.verdict = verdict
        self.predicted, self.measured = verdict.predicted, verdict.measured


def _require_text(**texts):
    for name, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{name} must be a non-empty string, got {text!r}")


def _verdict(id, statement, predicted, measured, tol, evidence, reference, *, check_kind="check", pair=None,
             margin=None, alternative=None) -> Verdict:
    _require_text(id=id, statement=statement, reference=reference)
    _validate.one_of("evidence", evidence, set(EVIDENCE))
    if not isinstance(predicted, Prediction):
        raise ValueError(f"predicted must be a Prediction made by run.predict(theory_function, ...) (or "
                         f"lmt.predict), so that the record names the theory; got {type(predicted).__name__}")
    if not isinstance(tol, Tolerance):
        raise ValueError(f"tol must be a Tolerance (relative/absolute/within_se), got {tol!r}")
    p = predicted.value
    if np.any(p == 0) and alternative is None and check_kind == "check":
        raise ValueError(f"{id}: a prediction of exactly zero must name its alternative= (the smallest effect, in "
                         f"the quantity's units, that the check must detect)")
    if alternative is not None:
        _validate.positive("alternative", alternative)
    est = measured if isinstance(measured, Estimate) else None
    value = est.value if est else np.asarray(measured, float)
    stderr, dof = (est.stderr, est.dof) if est else (None, math.inf)
    err, allowed, passed, reason = evaluate(p, value, stderr, tol, dof, margin=margin)
    return Verdict(id, statement, reference, evidence, predicted.theory, p, np.asarray(value, float), stderr,
                   dof, err, allowed, tol, est.kind if est else "value", passed, reason, check_kind, pair,
                   None if margin is None else float(margin), None if alternative is None else float(alternative))


def check(id: str, statement: str, *, predicted, measured, tol: Tolerance, evidence: str, reference: str,
          alternative: float | None = None, quiet: bool = False, raise_on_fail: bool = True) -> Verdict:
    """Compare ``predicted`` with ``measured``; print the verdict; raise :class:`PredictionFailed` on failure.

    Args:
        id: short stable identifier, ``"<chapter-prefix>-<what>"``, e.g. ``"dln-half-time"``.
        statement: the prediction in one line of words.
        predicted: a :class:`~lmtheory.contract.prediction.Prediction` (from ``run.predict`` / ``lmt.predict``).
        measured: this run's value(s): scalar, array, or an :class:`Estimate` (mean or slope with its SE).
        tol: a :class:`Tolerance` from :func:`within_se`, :func:`relative` or :func:`absolute`.
        evidence: what the measurement rests on, one of :data:`EVIDENCE`.
        reference: the primary reference (a bibtex key of ``book/references.bib``).
        alternative: for a prediction with zero elements, the smallest effect the check must detect.

    >>> from lmtheory.theory import linear_networks as dln
    >>> v = check("demo", "rise time", predicted=predict(dln.rise_time, strength=1.0), measured=2.1972,
    ...           tol=relative(1e-3), evidence="solvable-model", reference="none", quiet=True)
    >>> v.passed, v.theory
    (True, ('lmtheory.theory.linear_networks.rise_time',))
    """
    verdict = _verdict(id, statement, predicted, measured, tol, evidence, reference, alternative=alternative)
    return _finish(verdict, quiet, raise_on_fail)


def check_breaks(id: str, statement: str, *, predicted, measured, tol: Tolerance, margin: float, pair: str,
                 evidence: str, reference: str, quiet: bool = False, raise_on_fail: bool = True) -> Verdict:
    """Where the theory breaks: pass only when ``predicted`` misses ``measured`` by more than ``margin``.

    ``margin`` is in the tolerance's units (standard errors for :func:`within_se`, a fraction of ``|p|`` for
    :func:`relative`, the quantity's units for :func:`absolute`) and must be at least twice the tolerance (for
    a statistical one, twice its number of standard errors at the estimate's dof), so that "misses" cannot be
    noise. ``pair`` is the id of the in-regime :func:`check` of the same theory in the same chapter.

    >>> from lmtheory.theory import linear_networks as dln
    >>> v = check_breaks("demo-breaks", "rise time, far from the regime", predicted=predict(dln.rise_time,
    ...                  strength=1.0), measured=3.0, tol=relative(0.01), margin=0.1, pair="demo",
    ...                  evidence="solvable-model", reference="none", quiet=True)
    >>> v.passed
    True
    """
    _require_text(pair=pair)
    needed = 2 * _tolerance_units(tol, measured)
    if not margin >= needed:
        raise ValueError(f"{id}: margin {margin:g} must be at least twice the tolerance ({needed:.3g} in its units)")
    verdict = _verdict(id, statement, predicted, measured, tol, evidence, reference, check_kind="breaks",
                       pair=pair, margin=margin)
    return _finish(verdict, quiet, raise_on_fail)


def _tolerance_units(tol: Tolerance, measured) -> float:
    """The tolerance in its own units: standard errors (at the estimate's dof), a fraction, or absolute."""
    if tol.kind != "stderr":
        return tol.value
    return se_multiplier(tol.value, measured.dof if isinstance(measured, Estimate) else math.inf)


def _finish(verdict: Verdict, quiet: bool, raise_on_fail: bool) -> Verdict:
    if not quiet:
        print(verdict.line())
    if not verdict.passed and raise_on_fail:
        raise PredictionFailed(verdict)
    return verdict
