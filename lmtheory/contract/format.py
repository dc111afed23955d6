"""How a verdict is written: numbers for the verdict line and the JSON record (used by check and the ledger)."""

from __future__ import annotations

import numpy as np


def format_value(x) -> str:
    """A number or a short array for a verdict line: 4 significant digits, at most 6 elements.

    >>> format_value(np.array([1.0, 2.5])), format_value(3.14159)
    ('[1, 2.5]', '3.142')
    """
    a = np.asarray(x, float)
    if a.ndim == 0:
        return f"{float(a):.4g}"
    flat = a.ravel()
    body = ", ".join(f"{v:.4g}" for v in flat[:6]) + (", …" if flat.size > 6 else "")
    return f"[{body}]"


def error_summary(v) -> str:
    """The worst element's error, in standard errors, percent or units according to the tolerance."""
    ratio = np.where(np.isfinite(v.error), v.error / np.maximum(v.allowed, 1e-300), np.inf)
    i = int(np.nanargmin(ratio) if v.check_kind == "breaks" else np.nanargmax(ratio))
    e, p = v.error.ravel()[i], np.broadcast_to(np.abs(v.predicted), v.error.shape).ravel()[i]
    if v.tolerance.kind == "stderr":
        se = np.broadcast_to(v.stderr, v.error.shape).ravel()[i]
        return f"{e:.3g} = {e / se:.2f} SE" if se > 0 else f"{e:.3g}"
    if v.tolerance.kind == "relative":
        return f"{100 * e / p:.3g}%"
    return f"{e:.3g}"


def jsonable(a):
    """A number or array as JSON-ready floats, non-finite values as the strings 'nan', 'inf', '-inf'.

    >>> jsonable(np.array([1.0, np.nan]))
    [1.0, 'nan']
    """
    arr = np.asarray(a, float)
    conv = [float(v) if np.isfinite(v) else str(float(v)) for v in arr.ravel()]  # 'nan', 'inf'
    return conv[0] if arr.ndim == 0 else np.array(conv, dtype=object).reshape(arr.shape).tolist()
