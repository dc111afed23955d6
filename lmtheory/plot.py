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
