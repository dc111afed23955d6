"""Tolerances of the prediction contract: statistical (a false-alarm probability) or deterministic.

A statistical tolerance (:func:`within_se`) is a designed two-sided false-alarm probability ``alpha``
(:data:`DEFAULT_ALPHA` = 5e-5), turned into a number of standard errors by the Student-t quantile for the
degrees of freedom of the measured estimate (:func:`se_multiplier`), plus optional floors for a *stated*
systematic error. A deterministic tolerance (:func:`relative`, :func:`absolute`) is for comparisons without
sampling noise; it has no false-alarm probability and is not counted in the book's false-alarm budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lmtheory import _validate

KINDS = ("relative", "absolute", "stderr")
DEFAULT_ALPHA = 5e-5        # two-sided false-alarm probability of a statistical check


def se_multiplier(alpha: float, dof=math.inf) -> float:
    """Standard errors allowed for a two-sided false-alarm probability ``alpha`` with ``dof`` degrees of freedom.

    The Student-t quantile ``t_{1 - alpha/2}(dof)`` (the normal one for infinite ``dof``).

    >>> round(se_multiplier(5e-5), 2), round(se_multiplier(5e-5, 15), 2), round(se_multiplier(5e-5, 4), 1)
    (4.06, 5.61, 18.5)
    """
    from scipy import stats

    _validate.fraction("alpha", alpha)
    if dof is None or math.isinf(dof):
        return float(stats.norm.isf(alpha / 2))
    return float(stats.t.isf(alpha / 2, df=_validate.positive("dof", dof)))


@dataclass(frozen=True)
class Tolerance:
    """How far a measurement may sit from a prediction.

    ``kind="relative"``: ``|m - p| <= value * |p|``. ``kind="absolute"``: ``|m - p| <= value`` (both
    deterministic). ``kind="stderr"``: ``value`` is the two-sided false-alarm probability ``alpha`` and
    ``|m - p| <= max(k SE, rel_floor |p|, abs_floor)`` with ``k = se_multiplier(alpha, dof)`` for the
    measurement's degrees of freedom; the floors stand for a *stated* systematic error of the theory (a known
    finite-size or discretization correction), never for noise.
    """

    kind: str
    value: float
    rel_floor: float = 0.0
    abs_floor: float = 0.0

    def __post_init__(self):
        _validate.one_of("tolerance kind", self.kind, set(KINDS))
        _validate.positive("tolerance value", self.value)
        if self.kind == "stderr":
            _validate.fraction("alpha (false-alarm probability)", self.value)
        _validate.nonnegative("rel_floor", self.rel_floor)
        _validate.nonnegative("abs_floor", self.abs_floor)
        for name in ("value", "rel_floor", "abs_floor"):  # numpy scalars -> plain floats (JSON, formatting)
            object.__setattr__(self, name, float(getattr(self, name)))

    @property
    def statistical(self) -> bool:
        """True for a tolerance in standard errors (it has a false-alarm probability)."""
        return self.kind == "stderr"

    def describe(self, dof=math.inf) -> str:
        """Short human-readable form, e.g. ``'4.06 SE (α=5e-05)'`` or ``'rel 5%'``."""
        if self.kind == "relative":
            return f"rel {100 * self.value:.3g}%"
        if self.kind == "absolute":
            return f"abs {self.value:.3g}"
        floors = [f"rel {100 * self.rel_floor:.3g}%"] * (self.rel_floor > 0)
        floors += [f"abs {self.abs_floor:.3g}"] * (self.abs_floor > 0)
        dof_text = "" if dof is None or math.isinf(dof) else f", {dof:g} dof"
        return (f"{se_multiplier(self.value, dof):.3g} SE (α={self.value:.2g}{dof_text})"
                + (f" (floor {', '.join(floors)})" if floors else ""))


def relative(rtol: float) -> Tolerance:
    """Deterministic tolerance ``|m - p| <= rtol |p|`` (no sampling noise in the comparison).

    >>> relative(0.05).describe()
    'rel 5%'
    """
    return Tolerance("relative", rtol)


def absolute(atol: float) -> Tolerance:
    """Deterministic tolerance ``|m - p| <= atol`` (in the units of the quantity).

    >>> absolute(1e-6).describe()
    'abs 1e-06'
    """
    return Tolerance("absolute", atol)


def within_se(n_se: float | None = None, *, alpha: float | None = None, rel_floor: float = 0.0,
              abs_floor: float = 0.0) -> Tolerance:
    """Statistical tolerance: a two-sided false-alarm probability ``alpha`` (default :data:`DEFAULT_ALPHA`).

    The number of standard errors follows from ``alpha`` and the degrees of freedom of the measured
    :class:`~lmtheory.Estimate` when the check is evaluated (4.06 SE for infinitely many, 5.61 for 15).
    ``n_se`` instead of ``alpha`` gives the false-alarm probability of ``n_se`` normal standard deviations
    (``within_se(3)``: alpha = 0.0027). Floors: see :class:`Tolerance`.

    >>> within_se().describe(), within_se().describe(dof=15)
    ('4.06 SE (α=5e-05)', '5.61 SE (α=5e-05, 15 dof)')
    """
    if n_se is not None and alpha is not None:
        raise ValueError("give n_se or alpha, not both")
    if n_se is not None:
        from scipy import stats

        alpha = float(2 * stats.norm.sf(_validate.positive("n_se", n_se)))
    return Tolerance("stderr", DEFAULT_ALPHA if alpha is None else alpha, rel_floor, abs_floor)
