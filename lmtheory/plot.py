"""The book's figure style and its standard figure: theory as lines, simulation as markers with error bars."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np
import seaborn as sns

PALETTE = "colorblind"


def use_style() -> None:
    """Apply the book's seaborn style (call once per notebook, in the imports cell)."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE,
                  rc={"figure.dpi": 110, "axes.titlesize": "medium", "legend.fontsize": "small",
                      "figure.constrained_layout.use": True})


def colors(n: int):
    """``n`` colours from the book's palette."""
    return sns.color_palette(PALETTE, n)


def theory_vs_simulation(ax, *, x_theory, y_theory, x, y, yerr=None, label=None, color=None,
                         logx: bool = False, logy: bool = False, marker: str = "o"):
    """Draw a theory curve (line) and measurements (markers, with ``yerr`` error bars) on ``ax``.

    Legend: with ``label=None`` the line is "theory" and the markers "simulation"; with a ``label`` only the
    line carries it (say in the caption that markers are simulations). Log axes get plain-number ticks.
    Returns ``ax``.

    >>> fig, ax = plt.subplots()
    >>> _ = theory_vs_simulation(ax, x_theory=[0, 1], y_theory=[0, 1], x=[0.5], y=[0.5], yerr=[0.1])
    >>> plt.close(fig)
    """
    x_theory, y_theory = np.asarray(x_theory, float), np.asarray(y_theory, float)
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x_theory.shape != y_theory.shape or x.shape != y.shape:
        raise ValueError("x_theory/y_theory and x/y must have matching shapes")
    line, = ax.plot(x_theory, y_theory, "-", color=color, lw=1.8, label=label or "theory")
    ax.errorbar(x, y, yerr=yerr, fmt=marker, ms=4.5, color=line.get_color(), elinewidth=1, capsize=2,
                mfc="white", mew=1.2, label=None if label else "simulation")
    for axis, use_log in ((ax.xaxis, logx), (ax.yaxis, logy)):
        if use_log:
            (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
            axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(ticker.NullFormatter())
    return ax


def hidden_units_polar(ax, weights_in, weights_out, *, directions=None, max_size: float = 150.0):
    """Draw the hidden units of a two-layer network with 2-D inputs on a polar ``ax``.

    Unit ``i`` sits at the angle of ``w_i`` (a row of ``weights_in``, shape (width, 2)) and at radius
    ``||w_i||``; its marker area is proportional to its mass ``||a_i|| ||w_i||`` (``weights_out``: (out_dim,
    width)) and its colour gives the sign of ``a_i`` (first output). ``directions`` ((k, 2), optional): teacher
    unit vectors, drawn dashed, with their opposites (the same ReLU kink line) dotted. Returns ``ax``.

    >>> fig, ax = plt.subplots(subplot_kw={"projection": "polar"})
    >>> _ = hidden_units_polar(ax, np.eye(2), np.array([[1.0, -1.0]]), directions=np.array([[1.0, 0.0]]))
    >>> plt.close(fig)
    """
    w_in, w_out = np.asarray(weights_in, float), np.asarray(weights_out, float)
    if w_in.ndim != 2 or w_in.shape[1] != 2 or w_out.ndim != 2 or w_out.shape[1] != w_in.shape[0]:
        raise ValueError(f"need weights_in (width, 2) and weights_out (out_dim, width), got {w_in.shape} and "
                         f"{w_out.shape}")
    radius = np.linalg.norm(w_in, axis=1)
    masses = np.linalg.norm(w_out, axis=0) * radius
    for sign, color, name in ((1, colors(2)[0], "$a_i > 0$"), (-1, colors(2)[1], "$a_i < 0$")):
        sel = np.sign(w_out[0]) == sign
        ax.scatter(np.arctan2(w_in[sel, 1], w_in[sel, 0]), radius[sel],
                   s=4 + max_size * masses[sel] / masses.max(), color=color, alpha=0.6, lw=0, label=name)
    teacher = np.zeros((0, 2)) if directions is None else np.asarray(directions, float)
    for phi in np.arctan2(teacher[:, 1], teacher[:, 0]):
        ax.plot([phi, phi], [0, radius.max()], "k--", lw=1.2)
        ax.plot([phi + np.pi, phi + np.pi], [0, radius.max()], "k:", lw=1.0)
    ax.set_yticklabels([])
    return ax
