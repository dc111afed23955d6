"""The API reference (book/reference/) covers the package, and api_url points at the anchors autodoc makes."""

import importlib
import inspect
import io
import pathlib
import re

import pytest
import yaml

from lmtheory.book import reference

ROOT = pathlib.Path(__file__).resolve().parents[1]
DIRECTIVE = re.compile(r"^\.\. automodule:: (\S+)[ \t]*\n((?:[ \t]+:[^\n]*\n)*)", re.MULTILINE)


def automodules(docname: str) -> dict[str, dict[str, str]]:
    """``{module: {option: value}}`` of the automodule directives on a reference page."""
    text = (ROOT / f"{docname}.md").read_text(encoding="utf-8")
    out = {}
    for module, block in DIRECTIVE.findall(text):
        assert module not in out, f"{docname}: {module} is documented twice"
        options = dict(re.match(r"\s*:([\w-]+):\s*(.*)", line).groups() for line in block.splitlines())
        out[module] = options
    return out


def test_api_url_is_relative_to_the_ledger_and_anchored_at_the_dotted_path():
    path = "lmtheory.theory.linear_networks.expected_half_time"
    assert reference.api_url(path) == f"reference/theory.html#{path}"
    assert reference.api_url(path, from_doc="book/reference/index") == f"theory.html#{path}"
    assert reference.api_url(path, from_doc="intro") == f"book/reference/theory.html#{path}"


@pytest.mark.parametrize("path", [
    "lmtheory.contract.check.check",                        # not a theory function
    "lmtheory.theory.linear_networks.no_such_function",
    "lmtheory.theory.linear_networks._private",
    "lmtheory.theory.linear_networks.np",                  # an imported module, not a function
    "lmtheory.theory.no_such_module.f",
    "expected_half_time",
])
def test_api_url_refuses_what_the_reference_does_not_document(path):
    with pytest.raises(ValueError):
        reference.api_url(path)


def test_every_public_theory_function_gets_an_anchor_on_the_theory_page():
    """autodoc documents a function (and anchors it at its dotted path) when its module is on the page with
    ``:members:`` (all of them: no list, no exclusions) and either ``:undoc-members:`` or a docstring, and
    ``:ignore-module-all:`` or the function in ``__all__``."""
    page = automodules(reference.PAGES[reference.THEORY_PACKAGE])
    modules = reference.modules(reference.THEORY_PACKAGE)
    assert len(modules) >= 19
    assert set(page) == set(modules), (f"theory modules missing from the reference: {set(modules) - set(page)}; "
                                       f"on the reference but gone: {set(page) - set(modules)}")
    for name in modules:
        options, module = page[name], importlib.import_module(name)
        assert "members" in options and not options["members"], f"{name}: ':members:' must list no names"
        assert "exclude-members" not in options, name
        functions = reference.public_functions(name)
        assert functions, f"{name} has no public function"
        for fn in functions:
            assert "undoc-members" in options or getattr(module, fn).__doc__, f"{name}.{fn}"
            assert "ignore-module-all" in options or fn in getattr(module, "__all__", [fn]), f"{name}.{fn}"
            assert reference.api_url(f"{name}.{fn}").endswith(f"theory.html#{name}.{fn}")


@pytest.mark.parametrize("package", ["lmtheory.simulation", "lmtheory.contract"])
def test_every_module_of_the_other_layers_is_on_its_page(package):
    page = automodules(reference.PAGES[package])
    modules = reference.modules(package)
    assert set(page) == set(modules), f"missing: {set(modules) - set(page)}; gone: {set(page) - set(modules)}"
    assert all("members" in options for options in page.values())


def test_the_contract_page_has_the_five_contract_modules():
    assert {f"lmtheory.contract.{m}" for m in ("check", "prediction", "stats", "config", "resample")} <= set(
        automodules(reference.PAGES["lmtheory.contract"]))


def test_plot_page_and_toc_and_config():
    assert "lmtheory.plot" in automodules(reference.PAGES["lmtheory.plot"])
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for docname in ["book/reference/index", *reference.PAGES.values()]:
        assert (ROOT / f"{docname}.md").is_file(), docname
        assert f"file: {docname}\n" in toc, f"{docname} is not in _toc.yml"
    assert toc.index("file: book/reference/index") > toc.index("file: book/ledger")
    extensions = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["extra_extensions"]
    assert {"sphinx.ext.autodoc", "sphinx.ext.napoleon"} <= set(extensions)
    # api_url's links are relative to the ledger page, which must stay where LEDGER_DOC says
    assert f"file: {reference.LEDGER_DOC}\n" in toc



def _documented(package: str):
    """``(dotted path, docstring)`` of every module, public function, class and method that autodoc documents
    on the reference page of ``package`` (a package, or a single module such as ``lmtheory.plot``)."""
    names = reference.modules(package) if hasattr(importlib.import_module(package), "__path__") else [package]
    for name in names:
        module = importlib.import_module(name)
        yield name, module.__doc__
        for key, obj in vars(module).items():
            if key.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{name}.{key}", obj.__doc__
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    member = getattr(member, "__func__", getattr(member, "fget", member))
                    if not attr.startswith("_") and inspect.isfunction(member):
                        yield f"{name}.{key}.{attr}", member.__doc__


# plain docutils does not know Sphinx's roles and directives (:func:, .. attribute::); the book build checks those
SPHINX_ONLY = ("Unknown interpreted text role", "Unknown directive type", "No role entry for",
               "No directive entry for")


@pytest.mark.parametrize("package", list(reference.PAGES))
def test_docstrings_are_valid_restructuredtext(package):
    """``make book-check`` fails on any RST warning in these docstrings; catch them here, in a second.

    Google-style sections are converted as napoleon converts them, then parsed by docutils."""
    from docutils.core import publish_doctree
    from sphinx.ext.napoleon import Config, GoogleDocstring

    config, bad = Config(napoleon_numpy_docstring=False), []
    for path, doc in _documented(package):
        if not doc:
            continue
        stream = io.StringIO()
        publish_doctree(str(GoogleDocstring(inspect.cleandoc(doc), config)),
                        settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": stream})
        messages = [m for m in re.split(r"\n(?=<string>:\d+: )", stream.getvalue().strip()) if m]
        bad += [f"{path}: {m.splitlines()[0]}" for m in messages if not any(s in m for s in SPHINX_ONLY)]
    assert not bad, "docstrings that would fail `make book-check`:\n" + "\n".join(bad)
