"""The prediction contract: compare a theory's number with a fresh measurement, print a verdict, fail loudly.

Every chapter ends its experiment with one or more calls of :func:`check` (usually through
:meth:`lmtheory.Run.check`, which also records the verdict). A check

* compares ``predicted`` (from ``lmtheory.theory``) with ``measured`` (from this run's simulation),
* under a :class:`Tolerance` -- relative, absolute, or a number of standard errors of an :class:`Estimate`
  (a seed mean or a fitted log-log slope),
* prints one verdict line with both numbers and the error, and
* raises :class:`PredictionFailed` (carrying the numbers) when the prediction fails, so the notebook fails.

:func:`evaluate` is the pure arithmetic behind a verdict; the audits re-run it on recorded inputs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from lmtheory import _validate
from lmtheory.stats import Estimate

KINDS = ("relative", "absolute", "stderr")


@dataclass(frozen=True)
class Tolerance:
    """How far a measurement may sit from a prediction.

    ``kind="relative"``: ``|m - p| <= value * |p|``. ``kind="absolute"``: ``|m - p| <= value``.
    ``kind="stderr"``: ``|m - p| <= max(value * SE, rel_floor * |p|, abs_floor)``, where ``SE`` is the
    measurement's standard error; the floors stand for a *stated* systematic error of the theory
    (a known finite-size or discretization correction), never for noise.
    """

    kind: str
    value: float
    rel_floor: float = 0.0
    abs_floor: float = 0.0

    def __post_init__(self):
        _validate.one_of("tolerance kind", self.kind, set(KINDS))
        _validate.positive("tolerance value", self.value)
        _validate.nonnegative("rel_floor", self.rel_floor)
        _validate.nonnegative("abs_floor", self.abs_floor)
        for name in ("value", "rel_floor", "abs_floor"):  # numpy scalars -> plain floats (JSON, formatting)
            object.__setattr__(self, name, float(getattr(self, name)))

    def describe(self) -> str:
        """Short human-readable form, e.g. ``'3 SE'`` or ``'rel 5%'``."""
        if self.kind == "relative":
            return f"rel {100 * self.value:.3g}%"
        if self.kind == "absolute":
            return f"abs {self.value:.3g}"
        floors = [f"rel {100 * self.rel_floor:.3g}%"] * (self.rel_floor > 0)
        floors += [f"abs {self.abs_floor:.3g}"] * (self.abs_floor > 0)
        return f"{self.value:.3g} SE" + (f" (floor {', '.join(floors)})" if floors else "")


def relative(rtol: float) -> Tolerance:
    """Tolerance ``|m - p| <= rtol |p|``.

    >>> relative(0.05).describe()
    'rel 5%'
    """
    return Tolerance("relative", rtol)


def absolute(atol: float) -> Tolerance:
    """Tolerance ``|m - p| <= atol`` (in the units of the quantity).

    >>> absolute(1e-6).describe()
    'abs 1e-06'
    """
    return Tolerance("absolute", atol)


def within_se(n_se: float = 3.0, *, dof: int | None = None, rel_floor: float = 0.0,
              abs_floor: float = 0.0) -> Tolerance:
    """Tolerance of ``n_se`` standard errors of the measurement, optionally with a systematic floor.

    ``dof``: the degrees of freedom of a standard error *estimated* from few samples (``n - 1`` for a mean or a
    jackknife over ``n`` seeds). The error/SE ratio then follows a Student t law, with heavier tails than the
    normal one, so ``n_se`` is read as a false-alarm rate -- that of ``n_se`` normal standard deviations -- and
    converted to the t quantile with the same rate.

    >>> within_se(3).describe(), within_se(3, dof=15).describe()
    ('3 SE', '3.59 SE')
    """
    if dof is not None:
        from scipy import stats

        _validate.positive("dof", dof, integer=True)
        n_se = float(stats.t.ppf(stats.norm.cdf(_validate.positive("n_se", n_se)), df=dof))
    return Tolerance("stderr", n_se, rel_floor, abs_floor)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check; ``error`` and ``allowed`` are per element, in the quantity's units."""

    id: str
    statement: str
    reference: str
    predicted: np.ndarray
    measured: np.ndarray
    stderr: np.ndarray | None
    error: np.ndarray
    allowed: np.ndarray
    tolerance: Tolerance
    measured_kind: str
    passed: bool
    reason: str = ""

    def line(self) -> str:
        """The one-line verdict printed in the notebook."""
        head = "PASS" if self.passed else "FAIL"
        meas = _fmt(self.measured) + ("" if self.stderr is None else f" ± {_fmt(self.stderr)}")
        return (f"{head} {self.id}: {self.statement} | predicted {_fmt(self.predicted)}, measured {meas}, "
                f"error {_error_summary(self)} (tolerance {self.tolerance.describe()})"
                + (f" — {self.reason}" if self.reason else "") + f" [{self.reference}]")

    def to_record(self) -> dict:
        """A JSON-ready dict of everything needed to re-evaluate the verdict."""
        out = {k: v for k, v in asdict(self).items() if k not in ("predicted", "measured", "stderr", "error",
                                                                   "allowed", "tolerance")}
        for k in ("predicted", "measured", "stderr", "error", "allowed"):
            v = getattr(self, k)
            out[k] = None if v is None else _jsonable(v)
        out["tolerance"] = asdict(self.tolerance)
        return out


class PredictionFailed(AssertionError):
    """Raised when a measurement falls outside a prediction's tolerance; ``.verdict`` carries the numbers."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.line())
        self.verdict = verdict
        self.predicted, self.measured = verdict.predicted, verdict.measured


def evaluate(predicted, measured, stderr, tolerance: Tolerance):
    """Per-element ``(error, allowed, passed, reason)`` for a prediction and a measurement (pure arithmetic).

    ``stderr`` may be ``None`` unless the tolerance is in standard errors. Non-finite measurements fail.

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
        allowed = tolerance.value * np.abs(p)
    elif tolerance.kind == "absolute":
        allowed = np.full(p.shape, tolerance.value)
    else:
        if stderr is None:
            raise ValueError("within_se() needs a measurement with a standard error (an Estimate)")
        se = np.broadcast_to(np.asarray(stderr, float), p.shape)
        allowed = np.maximum.reduce([tolerance.value * se, tolerance.rel_floor * np.abs(p),
                                     np.full(p.shape, tolerance.abs_floor)])
    if not np.all(np.isfinite(m)):
        return err, allowed, False, "measured value is not finite (nan or inf)"
    passed = bool(np.all(err <= allowed))
    return err, allowed, passed, "" if passed else "outside tolerance"


def check(id: str, statement: str, *, predicted, measured, tol: Tolerance, reference: str,
          quiet: bool = False, raise_on_fail: bool = True) -> Verdict:
    """Compare ``predicted`` with ``measured``; print the verdict; raise :class:`PredictionFailed` on failure.

    Args:
        id: short stable identifier, ``"<chapter-prefix>-<what>"``, e.g. ``"dln-half-time"``.
        statement: the prediction in one line of words.
        predicted: theory's value(s): scalar or array.
        measured: this run's value(s): scalar, array, or an :class:`Estimate` (mean or slope with its SE).
        tol: a :class:`Tolerance` from :func:`relative`, :func:`absolute` or :func:`within_se`.
        reference: the primary reference (a bibtex key of ``book/references.bib``).

    >>> v = check("demo", "two is two", predicted=2.0, measured=2.0 + 1e-9, tol=absolute(1e-6),
    ...           reference="none", quiet=True)
    >>> v.passed
    True
    """
    for name, text in (("id", id), ("statement", statement), ("reference", reference)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{name} must be a non-empty string, got {text!r}")
    if not isinstance(tol, Tolerance):
        raise ValueError(f"tol must be a Tolerance (relative/absolute/within_se), got {tol!r}")
    est = measured if isinstance(measured, Estimate) else None
    value = est.value if est else np.asarray(measured, float)
    stderr = est.stderr if est else None
    err, allowed, passed, reason = evaluate(predicted, value, stderr, tol)
    verdict = Verdict(id, statement, reference, np.asarray(predicted, float), np.asarray(value, float),
                      stderr, err, allowed, tol, est.kind if est else "value", passed, reason)
    if not quiet:
        print(verdict.line())
    if not passed and raise_on_fail:
        raise PredictionFailed(verdict)
    return verdict


def _fmt(x) -> str:
    a = np.asarray(x, float)
    if a.ndim == 0:
        return f"{float(a):.4g}"
    flat = a.ravel()
    body = ", ".join(f"{v:.4g}" for v in flat[:6]) + (", …" if flat.size > 6 else "")
    return f"[{body}]"


def _error_summary(v: Verdict) -> str:
    i = int(np.nanargmax(np.where(np.isfinite(v.error), v.error / np.maximum(v.allowed, 1e-300), np.inf)))
    e, p = v.error.ravel()[i], np.abs(v.predicted).ravel()[i]
    if v.tolerance.kind == "stderr":
        se = np.broadcast_to(v.stderr, v.error.shape).ravel()[i]
        return f"{e:.3g} = {e / se:.2f} SE" if se > 0 else f"{e:.3g}"
    if v.tolerance.kind == "relative":
        return f"{100 * e / p:.3g}%"
    return f"{e:.3g}"


def _jsonable(a):
    arr = np.asarray(a, float)
    conv = [float(v) if np.isfinite(v) else str(float(v)) for v in arr.ravel()]  # 'nan', 'inf'
    return conv[0] if arr.ndim == 0 else np.array(conv, dtype=object).reshape(arr.shape).tolist()
