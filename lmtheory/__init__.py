"""lmtheory -- the helper package of *Learning Mechanics*.

Layout: ``theory`` (closed forms only), ``data``/``models``/``train``/``measure`` (simulation),
``check`` + ``stats`` (the prediction contract), ``config`` (seed, scale, run records), ``plot`` (figures).

>>> import lmtheory as lmt
>>> run = lmt.setup("demo", seed=0)
>>> v = lmt.check("demo-one", "one equals one", predicted=1.0, measured=1.0, tol=lmt.absolute(1e-12),
...               reference="none", quiet=True)
>>> v.passed
True
"""

from lmtheory import data, measure, models, plot, theory, train
from lmtheory.check import PredictionFailed, Tolerance, Verdict, absolute, check, evaluate, relative, within_se
from lmtheory.config import Run, progress, setup
from lmtheory.stats import Estimate, crossing_time, loglog_slope, mean_se

__version__ = "0.1.0"

__all__ = [
    "Estimate", "PredictionFailed", "Run", "Tolerance", "Verdict", "absolute", "check", "crossing_time",
    "data", "evaluate", "loglog_slope", "mean_se", "measure", "models", "plot", "progress", "relative",
    "setup", "theory", "train", "within_se",
]
