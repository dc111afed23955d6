"""Links into the book's API reference ("Reference: the lmtheory package", ``book/reference/``).

The reference documents every layer with Sphinx autodoc, one page per layer (:data:`PAGES`). Autodoc gives
every documented object an HTML anchor equal to its dotted path, so a theory function's formula, units and
reference are at ``<page>.html#<dotted path>``. :func:`api_url` builds that link for the ``theory`` paths
the ledger shows (``tests/test_reference.py`` proves that the theory page covers every public function of
every :mod:`lmtheory.theory` module).

>>> api_url("lmtheory.theory.linear_networks.expected_half_time")
'reference/theory.html#lmtheory.theory.linear_networks.expected_half_time'
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import posixpath

THEORY_PACKAGE = "lmtheory.theory"
LEDGER_DOC = "book/ledger"  # docname of the page the links are relative to, by default
PAGES = {  # package or module -> docname of the reference page that documents it
    "lmtheory.theory": "book/reference/theory",
    "lmtheory.simulation": "book/reference/simulation",
    "lmtheory.contract": "book/reference/contract",
    "lmtheory.plot": "book/reference/plot",
}


def modules(package: str = THEORY_PACKAGE) -> list[str]:
    """Dotted names of the modules of ``package`` (found by :mod:`pkgutil`, private ones left out), sorted.

    >>> "lmtheory.theory.linear_networks" in modules()
    True
    """
    pkg = importlib.import_module(package)
    return sorted(f"{package}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def public_functions(module: str) -> list[str]:
    """Names of the public functions defined in ``module`` (not imported into it), in source order.

    >>> public_functions("lmtheory.theory.linear_networks")[:2]
    ['mode_trajectory', 'half_time']
    """
    mod = importlib.import_module(module)
    found = [(obj.__code__.co_firstlineno, name) for name, obj in vars(mod).items()
             if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == module]
    return [name for _, name in sorted(found)]


def api_url(dotted_path: str, *, from_doc: str = LEDGER_DOC) -> str:
    """Relative URL, from the page ``from_doc`` (default: the ledger), of a theory function's API reference.

    ``dotted_path`` is a ``theory`` path of a check record, ``lmtheory.theory.<module>.<function>``; the
    anchor is the dotted path itself (autodoc's). ValueError when the path is not a public function of a
    :mod:`lmtheory.theory` module (e.g. a renamed function in an old record).

    >>> api_url("lmtheory.theory.kernels.ntk_kernel", from_doc="notebooks/part1/linearization")
    '../../book/reference/theory.html#lmtheory.theory.kernels.ntk_kernel'
    """
    module, _, name = str(dotted_path).rpartition(".")
    if module not in modules(THEORY_PACKAGE):
        raise ValueError(f"not a function of a module of {THEORY_PACKAGE}: {dotted_path!r}")
    if name not in public_functions(module):
        raise ValueError(f"{module} has no public function {name!r} (documented in the API reference)")
    page = posixpath.relpath(PAGES[THEORY_PACKAGE], posixpath.dirname(from_doc) or ".")
    return f"{page}.html#{dotted_path}"
