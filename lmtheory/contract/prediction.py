"""Predictions that remember which theory produced them.

A chapter makes every prediction through a recorded call, ``pred = run.predict(dln.expected_half_time, ...)``
(or :func:`predict`): the result is a :class:`Prediction`, a numpy-like value that carries the dotted path of
the theory function(s) it came from. Arithmetic and numpy functions on predictions keep the union of their
sources, so ``2 * pred_a - np.log(pred_b)`` remembers both theories. :func:`lmtheory.check` refuses a
prediction without a recorded source, and the record's ``theory`` field holds the paths, which the ledger links
to the API reference. A prediction comes from :mod:`lmtheory.theory` only: the contract's promise is that it
was computed without looking at the simulation (the arguments may be the run's inputs -- sizes, a measured
initialization, the data's spectrum -- never its outcomes; the chapter says which).
"""

from __future__ import annotations

import numbers

import numpy as np

THEORY_PACKAGE = "lmtheory.theory."


def source_of(fn) -> str:
    """The dotted path ``module.qualname`` of a theory function; ValueError for anything not in lmtheory.theory.

    >>> from lmtheory.theory import linear_networks
    >>> source_of(linear_networks.rise_time)
    'lmtheory.theory.linear_networks.rise_time'
    """
    module, name = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if not callable(fn) or not isinstance(module, str) or not isinstance(name, str):
        raise ValueError(f"a prediction must come from a function of lmtheory.theory, got {fn!r}")
    if not module.startswith(THEORY_PACKAGE) or "<" in name:
        raise ValueError(f"a prediction must come from a public function of lmtheory.theory (closed forms, no "
                         f"simulation), got {module}.{name}")
    return f"{module}.{name}"


def predict(fn, *args, **kwargs) -> Prediction:
    """Call the theory function ``fn(*args, **kwargs)`` and return its value as a recorded :class:`Prediction`.

    Arguments that are themselves predictions are unwrapped, and their sources join this one.

    >>> from lmtheory.theory import linear_networks
    >>> p = predict(linear_networks.rise_time, strength=2.0)
    >>> round(float(p), 4), p.theory
    (1.0986, ('lmtheory.theory.linear_networks.rise_time',))
    """
    sources = {source_of(fn)}
    args = [_unwrap(a, sources) for a in args]
    kwargs = {k: _unwrap(v, sources) for k, v in kwargs.items()}
    return Prediction(fn(*args, **kwargs), tuple(sources))


def _unwrap(x, sources: set):
    """``x`` with every Prediction inside (also in lists, tuples, dicts) replaced by its value."""
    if isinstance(x, Prediction):
        sources.update(x.theory)
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v, sources) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v, sources) for k, v in x.items()}
    return x


class Prediction(np.lib.mixins.NDArrayOperatorsMixin):
    """A theory's value (float array) with ``theory``, the sorted tuple of the dotted paths that produced it.

    Supports arithmetic, comparisons, indexing and numpy functions (results keep the union of the sources);
    ``np.asarray(p)`` or ``p.value`` gives the bare array (for plots), ``float(p)`` a number.

    >>> from lmtheory.theory import linear_networks as dln
    >>> p = 2 * predict(dln.rise_time, strength=np.array([1.0, 2.0]))
    >>> np.round(np.log(p).value, 4).tolist(), len(np.log(p).theory)
    ([1.4803, 0.7872], 1)
    """

    __array_priority__ = 1000

    def __init__(self, value, theory):
        if isinstance(theory, str):
            theory = (theory,)
        theory = tuple(sorted(set(theory)))
        if not theory or not all(isinstance(t, str) and t.startswith(THEORY_PACKAGE) for t in theory):
            raise ValueError(f"a Prediction needs the dotted path(s) of lmtheory.theory functions, got {theory}")
        self.value = np.asarray(value, dtype=float)
        self.theory = theory

    def _wrap(self, result, sources):
        if isinstance(result, tuple):
            return tuple(self._wrap(r, sources) for r in result)
        if isinstance(result, (np.ndarray, numbers.Number, np.generic)) and np.asarray(result).dtype != object:
            if np.asarray(result).dtype.kind in "fiu":
                return Prediction(result, sources)
        return result

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        sources = set()
        inputs = [_unwrap(x, sources) for x in inputs]
        kwargs = {k: _unwrap(v, sources) for k, v in kwargs.items()}
        return self._wrap(getattr(ufunc, method)(*inputs, **kwargs), sources)

    def __array_function__(self, func, types, args, kwargs):
        sources = set()
        result = func(*_unwrap(list(args), sources), **_unwrap(dict(kwargs), sources))
        return self._wrap(result, sources)

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype)

    def __getitem__(self, index):
        return Prediction(self.value[index], self.theory)

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        return (Prediction(v, self.theory) for v in self.value)

    def __float__(self):
        return float(self.value)

    @property
    def shape(self):
        return self.value.shape

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def size(self):
        return self.value.size

    def __repr__(self):
        return f"Prediction({np.array2string(self.value, precision=4)}, theory={list(self.theory)})"
