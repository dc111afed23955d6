"""Standard errors by resampling seeds: for statistics of seed means that are not themselves means.

A fitted log-log slope over a sweep (widths, learning rates, ...) is a function of the seed means at each
point of the sweep. Its standard error from the fit residuals (:func:`lmtheory.loglog_slope`) rests on the few
points of the sweep and is itself very noisy; the seed-to-seed variation is the better-measured source of
error. The leave-one-seed-out jackknife turns it into a standard error for any smooth statistic, including
when the same seeds (keys) are reused at every point of the sweep.

Reference: B. Efron, C. Stein, "The jackknife estimate of variance", Ann. Stat. 9, 586 (1981).
"""

from __future__ import annotations

import numpy as np

from lmtheory import _validate
from lmtheory.contract.stats import Estimate, jackknife, slope

__all__ = ["jackknife", "seed_loglog_slope"]


def seed_loglog_slope(x, samples) -> Estimate:
    """Log-log slope of the seed means of ``samples`` against ``x``, with a leave-one-seed-out jackknife SE.

    ``x``: (m,) positive sweep values (m >= 2); ``samples``: (m, S) positive measurements, one column per seed.
    The slope is the least-squares slope of ``log mean_s samples`` on ``log x`` (as :func:`lmtheory.loglog_slope`);
    the standard error reflects the seed-to-seed noise only, not a misfit of the power law (state any
    allowance for that separately). Returns an :class:`lmtheory.Estimate` of kind ``"slope"``.

    >>> w = np.array([1.0, 2.0, 4.0])
    >>> est = seed_loglog_slope(w, np.outer(w**-0.5, [0.9, 1.0, 1.1, 1.0]))
    >>> round(float(est.value), 6), float(est.stderr) < 1e-9
    (-0.5, True)
    """
    xs = _validate.positive_array("x", x)
    ys = np.asarray(samples, dtype=float)
    if xs.ndim != 1 or ys.ndim != 2 or ys.shape[0] != xs.size or xs.size < 2:
        raise ValueError(f"need x of shape (m,) with m >= 2 and samples of shape (m, seeds), got {xs.shape} and "
                         f"{ys.shape}")
    if np.any(ys.mean(1) <= 0):
        raise ValueError("the seed means of samples must be > 0 to take logarithms")
    return slope(xs, ys.T, log=True, error="jackknife")
