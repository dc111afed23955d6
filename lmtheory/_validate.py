"""Argument checks shared by the public functions (they raise ``ValueError`` with a readable message)."""

from __future__ import annotations

import math

import numpy as np


def _traced(value) -> bool:
    """True for a value being traced by jax (its number is unknown until run time: skip the check)."""
    import jax

    return isinstance(value, jax.core.Tracer)


def positive(name: str, value, *, integer: bool = False):
    """Return ``value`` if it is a finite number > 0 (an ``int`` when ``integer``), else raise ``ValueError``.

    Values traced by ``jax.jit``/``vmap`` pass unchecked (they are checked where they are made concrete).
    """
    if _traced(value):
        return value
    if integer:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    elif not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not math.isfinite(float(value)) or value <= 0:
        raise ValueError(f"{name} must be > 0 (and finite), got {value!r}")
    return value


def nonnegative(name: str, value):
    """Return ``value`` if it is a finite number >= 0, else raise ``ValueError``.

    Values traced by ``jax.jit``/``vmap`` pass unchecked, as in :func:`positive`.
    """
    if _traced(value):
        return value
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    if not math.isfinite(float(value)) or value < 0:
        raise ValueError(f"{name} must be >= 0 (and finite), got {value!r}")
    return value


def positive_array(name: str, value):
    """Return ``value`` as a float array if every entry is finite and > 0, else raise ``ValueError``.

    A jax-traced value is returned unchanged (unchecked).
    """
    if _traced(value):
        return value
    arr = np.asarray(value, dtype=float)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must contain only finite values > 0, got {value!r}")
    return arr


def one_of(name: str, value, allowed):
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError`` listing the choices."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed, key=repr)}, got {value!r}")
    return value


def fraction(name: str, value):
    """Return ``value`` if 0 < value < 1, else raise ``ValueError``."""
    if not isinstance(value, (int, float, np.integer, np.floating)) or not 0 < value < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}")
    return value


def finite(name: str, value, *, allow_inf: bool = False):
    """Return ``value`` unchanged if it is a number or an array of numbers with no NaN (and no +-inf unless
    ``allow_inf``), else raise ``ValueError`` naming ``name``.

    Scalars and arrays (numpy, jax, nested lists; real or complex) are accepted alike, so a scalar argument that a
    caller broadcasts over an array passes. Values traced by ``jax.jit``/``vmap`` pass unchecked, as in
    :func:`positive`.
    """
    if _traced(value):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        import jax

        if any(_traced(leaf) for leaf in jax.tree_util.tree_leaves(value)):   # e.g. a list of traced scalars
            return value
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r}") from None
    if arr.dtype.kind not in "biufc":
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r}")
    if arr.dtype.kind in "fc":
        bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
        if np.any(bad):
            what = "must not be NaN" if allow_inf else "must be finite (no NaN or infinity)"
            raise ValueError(f"{name} {what}, got {value!r}")
    return value


def finite_array(name: str, value, *, allow_inf: bool = False):
    """Return ``value`` as a float numpy array if every entry is finite (see :func:`finite`), else raise
    ``ValueError`` naming ``name``. A jax-traced value is returned unchanged (unchecked)."""
    if _traced(value):
        return value
    finite(name, value, allow_inf=allow_inf)
    if np.iscomplexobj(value):
        raise ValueError(f"{name} must be real, got {value!r}")
    return np.asarray(value, dtype=float)

