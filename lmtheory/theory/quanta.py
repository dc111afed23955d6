"""The quanta hypothesis: Zipf-distributed subtasks learned one at a time, and the power laws that follow.

Set-up (Michaud, Liu, Girit & Tegmark 2023, arXiv:2303.13506). A task is a mixture of ``n_tasks`` subtasks
("quanta"); subtask ``k = 1, 2, ...`` is used with frequency ``p_k = k^-(alpha+1) / Z`` (a Zipf law). The
hypothesis: a network either has a quantum (loss ``~0`` on its subtask) or not (loss ``loss_unlearned``, ``ln 2``
for a fair binary label), and quanta are learned in order of frequency. Then

* with the ``n`` most frequent quanta learned, ``L(n) = loss_unlearned * sum_{k>n} p_k ~ n^-alpha`` (asymptotic,
  ``1 << n << n_tasks``; :func:`tail_loss` is the exact finite sum, :func:`tail_asymptotic` the integral);
* if a quantum is learned once about ``tau`` examples of it have been seen (the paper's data-scaling argument,
  heuristic), its learning time in online training with batch ``B`` is ``t_k = tau / (B p_k)``, so
  ``t_k ~ p_k^-1 ~ k^(alpha+1)`` (:func:`learning_time_exponent`) and the loss after ``S`` steps falls as ``S^-alpha/(alpha+1)`` (:func:`step_exponent`).

Units: losses in nats; times in optimizer steps. Everything here is closed form (numpy/scipy); the multitask
sparse-parity task on which the chapter tests it (data, training, per-subtask losses) is
:mod:`lmtheory.simulation.sparse_parity`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import zeta

from lmtheory import _validate

LN2 = float(np.log(2.0))


def _check(n_tasks, alpha):
    _validate.positive("n_tasks", n_tasks, integer=True)
    _validate.positive("alpha", alpha)


def zipf_frequencies(n_tasks: int, alpha: float) -> np.ndarray:
    """Subtask frequencies ``p_k = k^-(alpha+1) / sum_j j^-(alpha+1)``, ``k = 1..n_tasks`` (they sum to 1).

    >>> p = zipf_frequencies(3, 1.0)
    >>> np.round(p * (1 + 1/4 + 1/9), 6).tolist()
    [1.0, 0.25, 0.111111]
    """
    _check(n_tasks, alpha)
    w = np.arange(1, n_tasks + 1, dtype=float) ** -(alpha + 1.0)
    return w / w.sum()


def tail_loss(n_learned, *, n_tasks: int, alpha: float, loss_unlearned: float = LN2) -> np.ndarray:
    """Loss with the ``n`` most frequent quanta learned: ``L(n) = loss_unlearned * sum_{k > n} p_k`` (exact sum).

    ``n_learned`` may be an array of integers in ``0..n_tasks``. ``L(0) = loss_unlearned``, ``L(n_tasks) = 0``.

    >>> float(tail_loss(0, n_tasks=4, alpha=0.5)) == LN2, float(tail_loss(4, n_tasks=4, alpha=0.5))
    (True, 0.0)
    """
    _check(n_tasks, alpha)
    _validate.positive("loss_unlearned", loss_unlearned)
    n = np.asarray(n_learned)
    if np.any(n < 0) or np.any(n > n_tasks) or np.any(n != np.round(n)):
        raise ValueError(f"n_learned must be integers in 0..n_tasks={n_tasks}, got {n_learned!r}")
    tails = np.concatenate([np.cumsum(zipf_frequencies(n_tasks, alpha)[::-1])[::-1], [0.0]])
    return loss_unlearned * tails[n.astype(int)]


def tail_asymptotic(n_learned, *, alpha: float) -> np.ndarray:
    """Large-``n`` tail of an infinite Zipf law: ``sum_{k>n} p_k ~ n^-alpha / (alpha zeta(alpha+1))``.

    From ``sum_{k>n} k^-(alpha+1) ~ integral_n^inf x^-(alpha+1) dx = n^-alpha / alpha`` and ``Z = zeta(alpha+1)``;
    the relative error is ``O(1/n)``. This is where the loss exponent ``alpha`` comes from.

    >>> round(float(tail_asymptotic(1000, alpha=1.0) * 1000 * np.pi**2 / 6), 6)
    1.0
    """
    _validate.positive("alpha", alpha)
    n = _validate.positive_array("n_learned", n_learned)
    return n**-alpha / (alpha * zeta(alpha + 1.0))


def tail_loss_slope(n_values, *, n_tasks: int, alpha: float) -> float:
    """Log-log slope of the exact tail loss ``L(n)`` (:func:`tail_loss`) over the grid ``n_values``: closed form.

    ``sum_i w_i ln L(n_i)`` with ``w_i = (ln n_i - m) / sum_j (ln n_j - m)^2`` (``m`` the mean of ``ln n``), i.e.
    the slope a straight-line fit of ``ln L`` on ``ln n`` over the same ``n`` reports. The asymptotic slope is
    ``-alpha``; with few tasks the truncation at ``n_tasks`` bends the curve down. Dimensionless.

    >>> round(tail_loss_slope(np.arange(100, 200), n_tasks=10**6, alpha=0.5), 2)
    -0.5
    """
    _check(n_tasks, alpha)
    n = np.asarray(n_values, dtype=float)
    if n.ndim != 1 or n.size < 2 or not np.all(np.isfinite(n)) or np.any(n < 1) or np.any(n >= n_tasks) \
            or np.any(n != np.round(n)):
        raise ValueError(f"n_values must be >= 2 integers in 1..n_tasks-1={n_tasks - 1}, got {n_values!r}")
    x, y = np.log(n), np.log(tail_loss(n.astype(int), n_tasks=n_tasks, alpha=alpha))
    dx = x - x.mean()
    return float(np.sum(dx * (y - y.mean())) / np.sum(dx**2))




def learning_times(frequencies, *, examples_needed: float, batch: int) -> np.ndarray:
    """Heuristic learning time (steps) of each quantum: seen ``examples_needed`` times, ``t_k = tau / (B p_k)``.

    >>> learning_times([0.5, 0.25], examples_needed=100.0, batch=10).tolist()
    [20.0, 40.0]
    """
    p = _validate.positive_array("frequencies", frequencies)
    _validate.positive("examples_needed", examples_needed)
    _validate.positive("batch", batch, integer=True)
    return examples_needed / (batch * p)


def time_exponent() -> float:
    """Predicted log-log slope of learning time against frequency, ``d ln t_k / d ln p_k = -1``.

    >>> time_exponent()
    -1.0
    """
    return -1.0


def learning_time_exponent(alpha: float) -> float:
    """Log-log slope of learning time against subtask rank, ``d ln t_k / d ln k = alpha + 1`` (dimensionless).

    From ``t_k = tau / (B p_k)`` (:func:`learning_times`) and ``p_k = k^-(alpha+1) / Z``: ``ln t_k = const +
    (alpha + 1) ln k`` for *every* ``k``, finite ``n_tasks`` included (``Z``, ``tau`` and ``B`` only shift the
    constant), so a straight-line fit over any set of ranks returns exactly ``alpha + 1`` if ``tau`` is the same for
    all quanta (the heuristic of Michaud et al. 2023). Equivalent to ``d ln t_k / d ln p_k = -1``.

    >>> learning_time_exponent(0.4)
    1.4
    """
    _validate.positive("alpha", alpha)
    return alpha + 1.0


def step_exponent(alpha: float) -> float:
    """Exponent of the loss against steps (or examples): ``L(S) ~ S^-alpha/(alpha+1)``.

    From ``t_n ~ p_n^-1 ~ n^(alpha+1)``, i.e. ``n(S) ~ S^(1/(alpha+1))``, and ``L ~ n^-alpha``.

    >>> step_exponent(1.0)
    0.5
    """
    _validate.positive("alpha", alpha)
    return alpha / (alpha + 1.0)


def ordered_loss(n_effective, *, n_tasks: int, alpha: float, loss_unlearned: float = LN2) -> np.ndarray:
    """Loss when quanta are learned strictly one at a time, in order, with ``n_effective`` (real) learned.

    With ``n`` quanta learned and a fraction ``f`` of quantum ``n + 1``: ``L = L(n) - f * loss_unlearned * p_{n+1}``,
    i.e. the linear interpolation of :func:`tail_loss` between integers (exact under the hypothesis).

    >>> a = float(ordered_loss(1.5, n_tasks=3, alpha=1.0))
    >>> b = float(tail_loss(np.array([1, 2]), n_tasks=3, alpha=1.0).mean())
    >>> abs(a - b) < 1e-12
    True
    """
    _check(n_tasks, alpha)
    n = _validate.finite_array("n_effective", n_effective)
    if np.any(n < 0) or np.any(n > n_tasks):
        raise ValueError(f"n_effective must lie in [0, n_tasks={n_tasks}], got {n_effective!r}")
    ints = np.arange(n_tasks + 1)
    return np.interp(n, ints, tail_loss(ints, n_tasks=n_tasks, alpha=alpha, loss_unlearned=loss_unlearned))
