"""Bad input stays loud: every public theory function rejects NaN, infinity and negative sizes by name.

A property-style test over the whole of ``lmtheory.theory``: for each public function, the first call in its
own doctest is a valid call (the doctest proves it). Each numeric argument of that call is replaced in turn by
NaN, by +inf and -- for a size (a width, a depth, a number of steps or samples) -- by a negative number, and the
function must raise a ``ValueError`` whose message names that argument. Arguments whose infinite value is
meaningful (a degrees-of-freedom or a time horizon that may be infinite) are listed in ``INF_ALLOWED``.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import lmtheory.theory

SIZE_NAMES = ("width", "depth", "steps", "n", "n_samples", "n_train", "n_test", "n_features", "n_tasks", "dim",
              "samples", "p", "d", "k", "n_modes", "layers", "batch", "n_inputs")
INF_ALLOWED = {"dof", "time", "t", "ridge_limit"}


def _modules():
    pkg = lmtheory.theory
    return [importlib.import_module(f"{pkg.__name__}.{m.name}") for m in pkgutil.iter_modules(pkg.__path__)]


def _functions():
    out = []
    for mod in _modules():
        for name, fn in vars(mod).items():
            if inspect.isfunction(fn) and not name.startswith("_") and fn.__module__ == mod.__name__:
                out.append(pytest.param(mod, fn, id=f"{mod.__name__.rsplit('.', 1)[1]}.{name}"))
    return out


def _first_call(mod, fn):
    """``(globs, args, kwargs)`` of the first doctest call of ``fn``, evaluated; None if there is none."""
    examples = doctest.DocTestParser().get_examples(fn.__doc__ or "")
    globs = dict(vars(mod))
    for ex in examples:
        try:
            tree = ast.parse(ex.source)
        except SyntaxError:
            return None
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute))
                 and (getattr(n.func, "id", None) or getattr(n.func, "attr", None)) == fn.__name__]
        if calls:
            call = calls[0]
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                return None
            args = [eval(compile(ast.Expression(a), "<doctest>", "eval"), globs) for a in call.args]
            kwargs = {k.arg: eval(compile(ast.Expression(k.value), "<doctest>", "eval"), globs)
                      for k in call.keywords}
            return args, kwargs
        exec(compile(tree, "<doctest>", "exec"), globs)
    return None


def _numeric(value) -> bool:
    if isinstance(value, bool):
        return False
    try:
        arr = np.asarray(value) if isinstance(value, (int, float, np.ndarray, np.generic, list)) else None
    except ValueError:          # a ragged list (e.g. subsets of coordinates) is not a numeric argument
        return False
    return arr is not None and arr.dtype.kind in "fi" and arr.size > 0


def _replaced(value, bad):
    arr = np.asarray(value, float)
    out = arr.copy()
    out.flat[0] = bad
    return float(out) if arr.ndim == 0 else out


def _cases(fn, args, kwargs):
    names = list(inspect.signature(fn).parameters)
    named = [(names[i], v, ("arg", i)) for i, v in enumerate(args)] + [(k, v, ("kw", k)) for k, v in kwargs.items()]
    for name, value, where in named:
        if not _numeric(value):
            continue
        yield name, where, "nan", _replaced(value, np.nan)
        if name not in INF_ALLOWED:
            yield name, where, "inf", _replaced(value, np.inf)
        if name in SIZE_NAMES and np.ndim(value) == 0:
            yield name, where, "negative", -3


FUNCTIONS = _functions()


@pytest.mark.parametrize("mod,fn", FUNCTIONS)
def test_theory_function_rejects_bad_numbers_by_name(mod, fn):
    found = _first_call(mod, fn)
    if found is None:
        pytest.skip("no doctest call to start from")
    args, kwargs = found
    problems = []
    for name, (kind, key), label, bad in _cases(fn, args, kwargs):
        a, k = list(args), dict(kwargs)
        if kind == "arg":
            a[key] = bad
        else:
            k[key] = bad
        try:
            fn(*a, **k)
        except ValueError as exc:
            if name not in str(exc):
                problems.append(f"{label} {name}: ValueError does not name it ({exc})")
            continue
        except Exception as exc:  # noqa: BLE001 -- any other exception is a problem too
            problems.append(f"{label} {name}: {type(exc).__name__} instead of ValueError ({exc})")
            continue
        problems.append(f"{label} {name}: accepted")
    assert not problems, f"{fn.__module__}.{fn.__name__}: " + "; ".join(problems)


def test_every_theory_module_is_covered():
    covered = {p.values[0].__name__ for p in FUNCTIONS}
    assert covered == {m.__name__ for m in _modules()} - {m.__name__ for m in _modules() if not any(
        inspect.isfunction(f) and not n.startswith("_") and f.__module__ == m.__name__ for n, f in vars(m).items())}
