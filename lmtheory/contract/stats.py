"""Estimates with standard errors and degrees of freedom: seed means, fitted slopes, and functions of them.

An :class:`Estimate` is what a simulation hands to the prediction contract when the measurement has a
statistical error: ``value``, ``stderr`` (one standard error, same units) and ``dof``, the degrees of freedom
of that standard error (``n - 1`` for a mean of ``n`` seeds, ``m - 2`` for a least-squares slope through
``m`` points, ``S - 1`` for a jackknife over ``S`` seeds). The contract turns a false-alarm probability and
``dof`` into a tolerance (a Student-t quantile), so an error estimated from few samples is not read as if it
were exact.

All the book's estimators live here: :func:`mean_se`, :func:`slope` (one slope estimator, three error
models), :func:`jackknife` (any smooth statistic of seed means), :func:`crossing_time`, and
:meth:`Estimate.map` (delta-method error propagation), :meth:`Estimate.stack` and indexing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lmtheory import _validate

KINDS = ("mean", "slope", "derived")


@dataclass(frozen=True)
class Estimate:
    """A measured value with its standard error and the degrees of freedom of that error.

    Attributes:
        value: the estimate (scalar or array), in the units of the measured quantity.
        stderr: one standard error of ``value``, same shape and units.
        n: number of independent samples (seeds, or points in a fit) behind it.
        kind: ``"mean"`` (a sample mean or a statistic of means), ``"slope"`` (a fitted slope) or
            ``"derived"`` (a function of estimates, :meth:`map`).
        dof: degrees of freedom of ``stderr``; ``None`` means ``n - 1`` for a mean, ``n - 2`` for a slope
            and infinity for a derived estimate without a stated one. ``math.inf`` when the error is known.

    >>> e = Estimate([1.0, 4.0], [0.1, 0.2], n=16)
    >>> e.dof, float(e[1].value)
    (15, 4.0)
    """

    value: np.ndarray
    stderr: np.ndarray
    n: int
    kind: str = "mean"
    dof: float | None = None

    def __post_init__(self):
        _validate.one_of("kind", self.kind, set(KINDS))
        value, stderr = np.asarray(self.value, float), np.asarray(self.stderr, float)
        if value.shape != stderr.shape:
            raise ValueError(f"value and stderr must have the same shape, got {value.shape} and {stderr.shape}")
        if np.any(stderr < 0):
            raise ValueError(f"stderr must be >= 0, got {stderr}")
        dof = self.dof
        if dof is None:
            dof = {"mean": self.n - 1, "slope": self.n - 2, "derived": math.inf}[self.kind]
        if not dof >= 1:
            raise ValueError(f"dof (degrees of freedom of the standard error) must be >= 1, got {dof} "
                             f"(n={self.n}, kind={self.kind!r})")
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "stderr", stderr)
        object.__setattr__(self, "dof", dof if math.isinf(dof) else int(dof))

    @property
    def shape(self) -> tuple:
        return self.value.shape

    def __getitem__(self, index) -> Estimate:
        """The estimate of some elements (numpy indexing), with the same ``n``, ``kind`` and ``dof``."""
        return Estimate(self.value[index], self.stderr[index], self.n, self.kind, self.dof)

    @staticmethod
    def stack(estimates, axis: int = 0) -> Estimate:
        """Stack estimates into one array estimate; ``n`` and ``dof`` are the smallest of the parts.

        >>> e = Estimate.stack([Estimate(1.0, 0.1, 8), Estimate(2.0, 0.2, 16)])
        >>> e.value.tolist(), e.dof
        ([1.0, 2.0], 7)
        """
        parts = list(estimates)
        if not parts or not all(isinstance(e, Estimate) for e in parts):
            raise ValueError("Estimate.stack needs a non-empty sequence of Estimates")
        kinds = {e.kind for e in parts}
        if len(kinds) != 1:
            raise ValueError(f"cannot stack estimates of different kinds {sorted(kinds)}")
        return Estimate(np.stack([e.value for e in parts], axis), np.stack([e.stderr for e in parts], axis),
                        min(e.n for e in parts), kinds.pop(), min(e.dof for e in parts))

    def map(self, f, *, kind: str | None = None) -> Estimate:
        """``f(value)`` with its standard error by the delta method, ``SE_j^2 = sum_i (df_j/dx_i)^2 SE_i^2``.

        The elements of ``value`` are treated as independent (their covariances are not known to an
        Estimate); when they share seeds, propagate with :func:`jackknife` instead. The Jacobian is taken by
        central differences with steps of 1e-4 standard errors. ``dof`` is kept (the error of ``f`` is
        estimated from the same samples).

        >>> e = Estimate(4.0, 0.4, n=16).map(np.sqrt)                    # d sqrt(x) = dx / (2 sqrt(x))
        >>> round(float(e.value), 6), round(float(e.stderr), 6), e.dof
        (2.0, 0.1, 15)
        """
        if not callable(f):
            raise ValueError(f"f must be callable, got {f!r}")
        x, se = self.value.ravel(), self.stderr.ravel()
        out = np.asarray(f(self.value), float)
        var = np.zeros(out.shape)
        for i in np.flatnonzero(se > 0):
            h = 1e-4 * se[i]
            up, down = x.copy(), x.copy()
            up[i] += h
            down[i] -= h
            deriv = (np.asarray(f(up.reshape(self.shape)), float) - np.asarray(f(down.reshape(self.shape)),
                                                                                 float)) / (2 * h)
            var = var + (deriv * se[i]) ** 2
        return Estimate(out, np.sqrt(var), self.n, kind or self.kind, self.dof)


def mean_se(samples, axis: int = 0, *, omit_nan: bool = False) -> Estimate:
    """Sample mean and its standard error ``std(ddof=1) / sqrt(n)`` along ``axis`` (the seed axis); dof ``n - 1``.

    With ``omit_nan=True``, NaN entries (runs that produced no value, e.g. never entered the regime a law is
    about) are left out of each mean separately; ``n`` is then the smallest count, and every mean needs two
    values. Say in the chapter how many runs were left out and why: leaving runs out is a selection.

    >>> est = mean_se([1.0, 2.0, 3.0])
    >>> float(est.value), round(float(est.stderr), 4), est.n, est.dof
    (2.0, 0.5774, 3, 2)
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


def jackknife(statistic, samples, *, axis: int = -1):
    """Value and jackknife standard error of ``statistic(mean of samples over axis)``.

    ``samples``: array with the seeds along ``axis`` (at least 3); ``statistic`` maps the seed mean (``samples``
    with that axis removed) to a number or an array. Returns ``(value, stderr)`` where ``value = statistic(mean)``
    and ``stderr = sqrt((S - 1)/S sum_s (stat_(-s) - mean_s stat_(-s))^2)`` over the ``S`` leave-one-out means;
    it has ``S - 1`` degrees of freedom. Reference: Efron & Stein, Ann. Stat. 9, 586 (1981).

    >>> value, se = jackknife(lambda m: m, np.array([1.0, 2.0, 3.0, 4.0]))       # for the mean: the usual SE
    >>> float(value), round(float(se), 6), round(float(np.std([1, 2, 3, 4], ddof=1) / 2), 6)
    (2.5, 0.645497, 0.645497)
    """
    x = np.moveaxis(np.asarray(samples, dtype=float), axis, -1)
    s = x.shape[-1]
    if s < 3:
        raise ValueError(f"jackknife needs at least 3 seeds along axis {axis}, got shape {np.shape(samples)}")
    if not callable(statistic):
        raise ValueError(f"statistic must be callable, got {statistic!r}")
    total = x.sum(-1)
    value = np.asarray(statistic(total / s), dtype=float)
    leave = np.stack([np.asarray(statistic((total - x[..., i]) / (s - 1)), dtype=float) for i in range(s)])
    stderr = np.sqrt((s - 1) / s * np.sum((leave - leave.mean(0)) ** 2, axis=0))
    return value, stderr


def _axes(x, log):
    """The fit's abscissa (log x or x) and the transform of the ordinate, for ``log`` in True/'x'/'y'/False."""
    _validate.one_of("log", log, {True, False, "x", "y"})
    if log in (True, "x"):
        x = np.log(_validate.positive_array("x", x))
    return np.asarray(x, float), (np.log if log in (True, "y") else (lambda y: y))


def _ols(lx, ly):
    dx = lx - lx.mean()
    b = np.sum(dx * (ly - ly.mean())) / np.sum(dx**2)
    return b, dx


def slope(x, samples, *, log=True, error: str = "ols", transform=None) -> Estimate:
    """Least-squares slope of ``g(y)`` against ``h(x)``, with a standard error from one of three error models.

    ``log``: ``True`` fits ``log y`` on ``log x`` (a power-law exponent), ``"y"`` fits ``log y`` on ``x`` (a
    rate), ``"x"`` fits ``y`` on ``log x``, ``False`` fits ``y`` on ``x``. ``samples``: shape ``(m,)`` (one curve)
    or ``(S, m)`` (one curve per seed; the fit is to the seed mean). ``transform`` (optional) maps the seed-mean
    curve to the ``y`` that is fitted, e.g. ``lambda c: abs(c - limit)`` for a relaxation rate.

    ``error``:

    * ``"ols"`` -- from the scatter about the line, ``sqrt(RSS / (m - 2) / sum dx^2)``; ``m - 2`` dof. Counts a
      curved (pre-asymptotic) law as noise; use it for a single deterministic-ish curve.
    * ``"jackknife"`` -- leave one seed out and refit; ``S - 1`` dof. Handles seeds shared by all points.
    * ``"delta"`` -- propagate the per-point standard errors of the seed means (independent seeds per point)
      through the linear fit, ``SE^2 = sum_i w_i^2 Var(g(y_i))``; ``S - 1`` dof. Neither of the last two counts a
      misfit of the law: state a systematic floor for it separately.

    >>> x = np.array([1.0, 2.0, 4.0, 8.0])
    >>> est = slope(x, 3.0 * x**-0.5)
    >>> round(float(est.value), 6), float(est.stderr) < 1e-9, est.dof
    (-0.5, True, 2)
    >>> est = slope(x, np.outer([0.9, 1.0, 1.1, 1.0], x**2), error="jackknife")
    >>> round(float(est.value), 6), est.dof
    (2.0, 3)
    """
    _validate.one_of("error", error, {"ols", "jackknife", "delta"})
    hx, g = _axes(x, log)
    ys = np.asarray(samples, float)
    if hx.ndim != 1 or ys.shape[-1:] != hx.shape or ys.ndim not in (1, 2):
        raise ValueError(f"x must be (m,) and samples (m,) or (seeds, m); got {hx.shape} and {ys.shape}")
    if hx.size < (3 if error == "ols" else 2):
        raise ValueError(f"a slope with a standard error needs at least 3 points (2 with seeds), got {hx.size}")
    tf = transform or (lambda c: c)

    def fit(mean_curve):
        return _ols(hx, g(tf(mean_curve)))[0]

    if error == "ols":
        curve = ys if ys.ndim == 1 else ys.mean(0)
        b, dx = _ols(hx, g(tf(curve)))
        resid = g(tf(curve)) - g(tf(curve)).mean() - b * dx
        se = np.sqrt(np.sum(resid**2) / (hx.size - 2) / np.sum(dx**2))
        return Estimate(b, se, hx.size, "slope")
    if ys.ndim != 2 or ys.shape[0] < 3:
        raise ValueError(f"error={error!r} needs samples of shape (seeds >= 3, m), got {ys.shape}")
    if error == "jackknife":
        value, se = jackknife(fit, ys, axis=0)
        return Estimate(value, se, ys.shape[0], "slope", ys.shape[0] - 1)
    points = Estimate(ys.mean(0), ys.std(0, ddof=1) / np.sqrt(ys.shape[0]), ys.shape[0])
    gy = points.map(lambda c: g(tf(c)))                         # per-point error of the fitted ordinate
    w = (hx - hx.mean()) / np.sum((hx - hx.mean()) ** 2)
    return Estimate(fit(points.value), np.sqrt(np.sum(w**2 * gy.stderr**2)), ys.shape[0], "slope",
                    ys.shape[0] - 1)


def loglog_slope(x, y) -> Estimate:
    """``slope(x, y, log=True, error="ols")``: the log-log slope of one curve with its OLS standard error.

    >>> x = np.array([1.0, 2.0, 4.0, 8.0])
    >>> round(float(loglog_slope(x, 3.0 * x**-0.5).value), 6)
    -0.5
    """
    lx = np.asarray(x, float)
    if lx.ndim != 1 or np.shape(y) != lx.shape:
        raise ValueError(f"x and y must be 1-D arrays of the same length, got {lx.shape} and {np.shape(y)}")
    _validate.positive_array("y", y)
    return slope(x, y, log=True, error="ols")


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


def moment_ratio(samples, axis: int = 0) -> Estimate:
    """``E[s^2] / E[s]^2`` from independent draws of ``s`` along ``axis``, with a delta-method standard error.

    The value is ``m_2 / m_1^2`` of the sample moments ``m_k = mean(s^k)``. Its standard error linearizes the ratio
    (influence function ``psi = s^2 / m_1^2 - 2 m_2 s / m_1^3``): ``SE = std(psi) / sqrt(M)`` over the ``M`` draws,
    which equals the leave-one-out jackknife to leading order and costs ``O(M)``; ``M - 1`` dof. For a zero-mean
    ``x`` the excess kurtosis is ``moment_ratio(x**2) - 3`` (0 for a Gaussian). Unreliable once the fourth moment
    of ``s`` is not sampled (``E[s^4] / E[s^2]^2`` comparable to ``M``): heavy tails hide the second moment.

    >>> est = moment_ratio(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> round(float(est.value), 6), est.dof                              # 7.5 / 2.5^2
    (1.2, 3)
    """
    s = np.asarray(samples, dtype=float)
    if s.ndim == 0 or s.shape[axis] < 3:
        raise ValueError(f"moment_ratio needs at least 3 samples along axis {axis}, got shape {np.shape(samples)}")
    s = np.moveaxis(s, axis, 0)
    m1, m2 = s.mean(0), (s * s).mean(0)
    if np.any(m1 == 0):
        raise ValueError("moment_ratio needs a non-zero mean E[s]")
    influence = mean_se(s * s / m1**2 - 2 * m2 * s / m1**3)
    return Estimate(m2 / m1**2, influence.stderr, s.shape[0], "mean")
