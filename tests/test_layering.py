"""The layers are real: closed-form theory never imports, nor loads, simulation, contract or book code.

Two independent proofs: an ``ast`` scan of every import statement under ``lmtheory/theory/`` (including imports
inside functions), and a fresh interpreter per theory module that imports it and lists what got loaded.
"""

import ast
import json
import os
import pathlib
import subprocess
import sys

import pytest

import lmtheory

PACKAGE = pathlib.Path(lmtheory.__file__).parent
THEORY = sorted(p for p in (PACKAGE / "theory").glob("*.py"))
MODULES = [f"lmtheory.theory.{p.stem}" for p in THEORY if p.stem != "__init__"]

# what theory may not import (prefixes of dotted module names) ...
FORBIDDEN_IMPORTS = ("lmtheory.simulation", "lmtheory.contract", "lmtheory.book", "flax", "optax", "seaborn")
# ... the random-network module and the simulation/contract short names of the package face, in any form
FORBIDDEN_NAMES = {"simulation", "contract", "book", "random_networks", "ensembles", "data", "models", "train",
                   "measure", "flow", "diagonal", "learnability", "sparse_parity", "check", "config", "stats",
                   "resample", "prediction", "ledger", "audit", "plot"}
# and what importing a theory module may not load
FORBIDDEN_LOADED = ("lmtheory.simulation", "lmtheory.contract", "lmtheory.book", "lmtheory.plot", "flax", "optax",
                    "seaborn", "matplotlib")


def _imports(path):
    """Every (module, names) imported anywhere in the file: ``import a.b`` -> ("a.b", ()), ``from a import b, c``
    -> ("a", ("b", "c")), relative imports resolved against ``lmtheory.theory``; also ``importlib.import_module``
    and ``__import__`` calls with a literal name."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = "lmtheory.theory".split(".")[: 2 - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            out.append((base, tuple(alias.name for alias in node.names)))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                out.append((node.args[0].value, ()))
    return out


def _violations(path):
    bad = []
    for module, names in _imports(path):
        dotted = [module] + [f"{module}.{n}" for n in names]
        if any(d == f or d.startswith(f + ".") for d in dotted for f in FORBIDDEN_IMPORTS):
            bad.append(module)
        elif module == "lmtheory" and set(names) & FORBIDDEN_NAMES:       # the package face's short names
            bad.append(f"{module}: {sorted(set(names) & FORBIDDEN_NAMES)}")
    return bad


def _samplers(path):
    """Uses of a random number generator (``jax.random``, ``numpy.random``, ``random``) in a file's code."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr == "random" and isinstance(node.value, ast.Name) \
                and node.value.id in ("jax", "np", "numpy"):
            found.append(f"{node.value.id}.random (line {node.lineno})")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            found += [f"import {n} (line {node.lineno})" for n in names
                      if n and (n == "random" or n.endswith(".random"))]
    return found


@pytest.mark.parametrize("path", THEORY, ids=lambda p: p.stem)
def test_theory_never_samples(path):
    """Closed forms may use jax.numpy (pure, traceable) but draw no random numbers: sampling is simulation."""
    assert _samplers(path) == []


def test_the_theory_folder_holds_the_modules_the_book_uses():
    assert {"kernels", "meanfield", "activations", "linear_networks", "quanta"} <= {p.stem for p in THEORY}


@pytest.mark.parametrize("path", THEORY, ids=lambda p: p.stem)
def test_theory_imports_no_simulation_contract_or_book_code(path):
    assert _violations(path) == []


def test_the_import_scan_catches_every_form(tmp_path):
    """The scan itself, on a file that breaks the rule in each way it can be written."""
    bad = tmp_path / "bad.py"
    bad.write_text("import flax.nnx\nfrom lmtheory.simulation import models\nfrom lmtheory import random_networks\n"
                   "from lmtheory import check as c\nfrom .. import ensembles\n"
                   "def f():\n    import optax\n    import importlib\n"
                   "    return importlib.import_module('lmtheory.contract.stats')\n"
                   "import numpy, scipy.special\nfrom lmtheory.theory import kernels\nfrom lmtheory import _validate\n")
    assert len(_violations(bad)) == 7
    sampling = tmp_path / "sampling.py"
    sampling.write_text("import jax\nfrom jax import random\nimport numpy as np\nx = np.random.default_rng(0)\n"
                        "y = jax.random.normal(jax.random.key(0), (2,))\n")
    assert len(_samplers(sampling)) == 4


def test_importing_the_theory_modules_loads_no_simulation_contract_book_or_plotting():
    """A fresh interpreter imports every theory module in turn and lists, after each, what has been loaded."""
    script = ("import json, sys\n"
              "out = {}\n"
              f"for m in {MODULES!r}:\n"
              "    __import__(m)\n"
              f"    out[m] = [x for x in sys.modules if x.startswith({FORBIDDEN_LOADED!r})]\n"
              "print(json.dumps(out))\n")
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "JAX_PLATFORMS": "cpu"})
    loaded = json.loads(res.stdout)
    assert set(loaded) == set(MODULES)
    assert {m: x for m, x in loaded.items() if x} == {}
