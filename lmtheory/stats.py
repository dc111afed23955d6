"""Estimates with standard errors: seed means and fitted log-log slopes.

An :class:`Estimate` is what a simulation hands to the prediction contract when the measurement has a known
statistical error: ``value`` and ``stderr`` (one standard error, same units as ``value``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmtheory import _validate


@dataclass(frozen=True)
class Estimate:
    """A measured value with its standard error.

    Attributes:
        value: the estimate (scalar or array), in the units of the measured quantity.
        stderr: one standard error of ``value``, same shape and units.
        n: number of independent samples (seeds, or points in a fit) behind it.
        kind: ``"mean"`` for a sample mean, ``"slope"`` for a fitted log-log slope.
    """

    value: np.ndarray
    stderr: np.ndarray
    n: int
    kind: str = "mean"

    def __post_init__(self):
        _validate.one_of("kind", self.kind, {"mean", "slope"})
        value, stderr = np.asarray(self.value, float), np.asarray(self.stderr, float)
        if value.shape != stderr.shape:
            raise ValueError(f"value and stderr must have the same shape, got {value.shape} and {stderr.shape}")
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "stderr", stderr)


def mean_se(samples, axis: int = 0, *, omit_nan: bool = False) -> Estimate:
    """Sample mean and its standard error ``std(ddof=1) / sqrt(n)`` along ``axis`` (the seed axis).

    With ``omit_nan=True``, NaN entries (runs that produced no value, e.g. never entered the regime a law is
    about) are left out of each mean separately; ``n`` is then the smallest count, and every mean needs two
    values. Say in the chapter how many runs were left out and why: leaving runs out is a selection.

    >>> est = mean_se([1.0, 2.0, 3.0])
    >>> float(est.value), round(float(est.stderr), 4), est.n
    (2.0, 0.5774, 3)
    >>> est = mean_se([[1.0, 1.0], [3.0, np.nan], [5.0, 3.0]], omit_nan=True)
    >>> est.value.tolist(), est.n
    ([3.0, 2.0], 2)
    """
    x = np.asarray(samples, dtype=float)
    if not omit_nan:
        n = x.shape[axis] if x.ndim else 0
        if n < 2:
            raise ValueError(f"mean_se needs at least 2 samples along axis {axis}, got shape {x.shape}")
        return Estimate(x.mean(axis), x.std(axis, ddof=1) / np.sqrt(n), int(n), "mean")
    count = np.sum(~np.isnan(x), axis=axis) if x.ndim else np.array(0)
    if np.any(count < 2):
        raise ValueError(f"mean_se needs at least 2 non-NaN samples along axis {axis} for every mean, got "
                         f"counts {np.asarray(count).tolist()}")
    return Estimate(np.nanmean(x, axis), np.nanstd(x, axis, ddof=1) / np.sqrt(count), int(np.min(count)), "mean")


def loglog_slope(x, y) -> Estimate:
    """Least-squares slope of ``log y`` against ``log x``, with its standard error.

    Fits ``log y = a + b log x``; the standard error of ``b`` is the usual OLS one,
    ``sqrt(RSS / (m - 2) / sum((log x - mean)^2))`` for ``m`` points (needs ``m >= 3``).

    >>> x = np.array([1.0, 2.0, 4.0, 8.0])
    >>> est = loglog_slope(x, 3.0 * x**-0.5)
    >>> round(float(est.value), 6), float(est.stderr) < 1e-9
    (-0.5, True)
    """
    lx, ly = np.log(_validate.positive_array("x", x)), np.log(_validate.positive_array("y", y))
    if lx.shape != ly.shape or lx.ndim != 1:
        raise ValueError(f"x and y must be 1-D arrays of the same length, got {lx.shape} and {ly.shape}")
    m = lx.size
    if m < 3:
        raise ValueError(f"a slope with a standard error needs at least 3 points, got {m}")
    dx = lx - lx.mean()
    slope = np.sum(dx * (ly - ly.mean())) / np.sum(dx**2)
    resid = ly - ly.mean() - slope * dx
    stderr = np.sqrt(np.sum(resid**2) / (m - 2) / np.sum(dx**2))
    return Estimate(np.asarray(slope), np.asarray(stderr), m, "slope")


def crossing_time(times, trajectory, level):
    """First time a rising trajectory reaches ``level``, by linear interpolation between samples.

    Works on the last axis: ``trajectory`` has shape ``(..., T)`` and ``times`` shape ``(T,)``; ``level``
    broadcasts against ``trajectory[..., 0]``. Returns ``nan`` where the level is never reached.

    >>> float(crossing_time(np.array([0., 1., 2.]), np.array([0., 2., 4.]), 3.0))
    1.5
    """
    t = np.asarray(times, float)
    u = np.asarray(trajectory, float)
    if u.shape[-1] != t.shape[0]:
        raise ValueError(f"trajectory's last axis ({u.shape[-1]}) must match len(times) ({t.shape[0]})")
    lvl = np.broadcast_to(np.asarray(level, float), u.shape[:-1])[..., None]
    above = u >= lvl
    idx = np.argmax(above, axis=-1)
    reached = above.any(axis=-1) & (idx > 0)
    i1 = np.clip(idx, 1, t.size - 1)
    u0 = np.take_along_axis(u, (i1 - 1)[..., None], -1)[..., 0]
    u1 = np.take_along_axis(u, i1[..., None], -1)[..., 0]
    frac = (lvl[..., 0] - u0) / np.where(u1 > u0, u1 - u0, 1.0)
    out = t[i1 - 1] + frac * (t[i1] - t[i1 - 1])
    return np.where(reached, out, np.nan)
