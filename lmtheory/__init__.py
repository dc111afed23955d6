"""lmtheory -- the helper package of *Learning Mechanics*.

The folders are the layers (``ls lmtheory`` shows the architecture):

* ``theory/`` -- closed forms only. A theory module never imports a simulation, contract or book module
  (``tests/test_layering.py`` proves it). It may use ``jax.numpy`` for pure, traceable closed forms; nothing
  in it samples or trains.
* ``simulation/`` -- tasks (``data``), Flax NNX networks (``models``), training loops (``train``),
  measurements (``measure``), accurate flows (``flow``), diagonal networks, learnabilities, random networks at
  initialization (``random_networks``) and the multitask sparse-parity task (``sparse_parity``).
* ``contract/`` -- the prediction contract (``check``), estimates with standard errors (``stats``,
  ``resample``) and the per-notebook run (``config``).
* ``book/`` -- build tooling: the ledger of predictions, its Sphinx extension, the audits.
* ``_validate`` and ``plot`` sit beside them.

The package face is lazy (a module-level ``__getattr__``): ``import lmtheory.theory.kernels`` loads no
simulation code, flax, optax or seaborn, while the short names the notebooks use keep working --
``lmt.data``, ``lmt.models``, ``lmt.train``, ``lmt.measure``, ``lmt.plot``, ``from lmtheory import flow``,
``lmt.setup``, ``lmt.mean_se``, ``lmt.within_se`` ...

>>> import lmtheory as lmt
>>> from lmtheory.theory import linear_networks as dln
>>> run = lmt.setup("demo", seed=0)
>>> pred = run.predict(dln.rise_time, strength=1.0)              # ln 9 / s, recorded with its source
>>> v = lmt.check("demo-rise", "rise time ln(9)/s", predicted=pred, measured=2.19722, tol=lmt.absolute(1e-5),
...               evidence="solvable-model", reference="saxe2014exact", quiet=True)
>>> v.passed, v.theory
(True, ('lmtheory.theory.linear_networks.rise_time',))
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

# short name -> module path (a submodule of a layer)
_MODULES = {
    "theory": "lmtheory.theory",
    "plot": "lmtheory.plot",
    **{name: f"lmtheory.simulation.{name}" for name in (
        "data", "models", "train", "measure", "flow", "diagonal", "learnability", "random_networks",
        "sparse_parity")},
    "ensembles": "lmtheory.simulation.random_networks",  # deprecated name (merged into random_networks)
    **{name: f"lmtheory.contract.{name}" for name in ("stats", "resample", "config")},
    **{name: f"lmtheory.book.{name}" for name in ("ledger", "audit")},
}
# short name -> (module path, attribute) for the contract's functions and classes
_ATTRIBUTES = {
    **{name: ("lmtheory.contract.check", name) for name in (
        "EVIDENCE", "Prediction", "PredictionFailed", "Record", "Tolerance", "Verdict", "absolute", "check",
        "check_breaks", "evaluate", "predict", "relative", "within_se")},
    **{name: ("lmtheory.contract.config", name) for name in ("Run", "progress", "setup")},
    **{name: ("lmtheory.contract.stats", name) for name in (
        "Estimate", "crossing_time", "loglog_slope", "mean_se", "slope")},
}

__all__ = sorted([*_MODULES, *_ATTRIBUTES])


def __getattr__(name: str):
    """Load a short name on first use (PEP 562), so that importing one layer does not load the others."""
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    elif name in _ATTRIBUTES:
        module, attribute = _ATTRIBUTES[name]
        value = getattr(importlib.import_module(module), attribute)
    else:
        raise AttributeError(f"module 'lmtheory' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
