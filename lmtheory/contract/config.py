"""Seeds, scale and the per-notebook run: the two lines of every chapter's parameter cell.

>>> run = setup("demo", seed=3)           # LMTHEORY_SEED / LMTHEORY_SCALE override the defaults
>>> n_seeds = run.pick(ci=8, full=256)    # sizes depend on the scale

Environment variables
---------------------
* ``LMTHEORY_SEED``     integer seed that replaces every notebook's default seed.
* ``LMTHEORY_SCALE``    ``ci`` (default: each chapter <= 60 s on a 2-core CPU) or ``full`` (bigger, for a GPU).
* ``LMTHEORY_RECORDS``  folder; when set, every verdict is appended as a JSON line to ``<folder>/<chapter>.jsonl``.
* ``LMTHEORY_RUN_ID``   label shared by all notebooks of one build/test run (defaults to a fresh random id).
* ``LMTHEORY_COMPILE_LOG``  JSON file; when set, the seconds this chapter spends compiling JAX programs are kept
  there under its name (read by ``make bench`` to split a notebook's time).

Inside a Jupyter kernel every verdict is also displayed with its record attached (MIME type
:data:`VERDICT_MIME`), so an executed notebook carries its own records; the book's ledger page is built
from them (see :mod:`lmtheory.book.ledger`).
"""

from __future__ import annotations

import itertools
import json
import os
import pathlib
import time
import uuid
from dataclasses import dataclass, field

import jax

from lmtheory import _validate
from lmtheory.contract.check import PredictionFailed, Record, Tolerance, Verdict, check, check_breaks
from lmtheory.contract.prediction import Prediction, predict

SCALES = ("ci", "full")
VERDICT_MIME = "application/vnd.lmtheory.verdict+json"  # the record attached to a verdict's notebook output
GLUE_PREFIX = "lmtheory-verdict-"  # myst-nb glue key of a verdict output: prefix, then number and check id
_GLUE_COUNTER = itertools.count(1)


@dataclass(frozen=True)
class Run:
    """One execution of one chapter: its seed, scale and identity, and the recorder of its verdicts."""

    chapter: str
    seed: int
    scale: str = "ci"
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: float = field(default_factory=time.time)
    _checked: set = field(default_factory=set, repr=False, compare=False)  # ids of in-regime checks so far

    def __post_init__(self):
        if not isinstance(self.chapter, str) or not self.chapter.strip():
            raise ValueError(f"chapter must be a non-empty string, got {self.chapter!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        _validate.one_of("scale", self.scale, set(SCALES))

    @property
    def key(self) -> jax.Array:
        """The root PRNG key of this run, ``jax.random.key(seed)``; split it, never reuse it."""
        return jax.random.key(self.seed)

    def pick(self, *, ci, full):
        """Return ``ci`` or ``full`` according to the run's scale.

        >>> Run("demo", 0, "full").pick(ci=8, full=256)
        256
        """
        return ci if self.scale == "ci" else full

    def predict(self, fn, *args, **kwargs) -> Prediction:
        """A recorded prediction: ``fn(*args, **kwargs)`` for a function of :mod:`lmtheory.theory`, remembering
        its dotted path (:func:`lmtheory.contract.prediction.predict`)."""
        return predict(fn, *args, **kwargs)

    def check(self, id: str, statement: str, *, predicted, measured, tol: Tolerance, evidence: str,
              reference: str, alternative: float | None = None) -> None:
        """:func:`lmtheory.contract.check.check`, plus a record of the verdict (pass or fail) when recording is on.

        Prints the verdict line; raises :class:`lmtheory.PredictionFailed` after recording a failure.
        """
        verdict = check(id, statement, predicted=predicted, measured=measured, tol=tol, evidence=evidence,
                        reference=reference, alternative=alternative, quiet=True, raise_on_fail=False)
        self._conclude(verdict)

    def check_breaks(self, id: str, statement: str, *, predicted, measured, tol: Tolerance, margin: float,
                     pair: str, evidence: str, reference: str) -> None:
        """:func:`lmtheory.contract.check.check_breaks` (the theory misses outside its regime), recorded.

        ``pair`` must be the id of a :meth:`check` of this run made before.
        """
        if pair not in self._checked:
            raise ValueError(f"{id}: pair={pair!r} must name an in-regime run.check of this chapter made before "
                             f"it; checked so far: {sorted(self._checked)}")
        verdict = check_breaks(id, statement, predicted=predicted, measured=measured, tol=tol, margin=margin,
                               pair=pair, evidence=evidence, reference=reference, quiet=True,
                               raise_on_fail=False)
        self._conclude(verdict)

    def _conclude(self, verdict: Verdict) -> None:
        row = self.record(verdict)
        self._record(row)
        if verdict.check_kind == "check":
            self._checked.add(verdict.id)
        _show(verdict.line(), row)
        if not verdict.passed:
            raise PredictionFailed(verdict)

    def record(self, verdict: Verdict) -> dict:
        """The JSON-ready :class:`~lmtheory.contract.check.Record` of a verdict, with this run's identity.

        >>> from lmtheory.contract.check import check, absolute
        >>> from lmtheory.theory import linear_networks as dln
        >>> v = check("demo-one", "rise time", predicted=predict(dln.rise_time, strength=1.0), measured=2.1972,
        ...           tol=absolute(1e-3), evidence="solvable-model", reference="none", quiet=True)
        >>> row = Run("demo", 3, run_id="r1").record(v)
        >>> row["chapter"], row["seed"], row["run_id"], row["passed"], row["evidence"]
        ('demo', 3, 'r1', True, 'solvable-model')
        """
        now = time.time()
        return Record.from_verdict(verdict, chapter=self.chapter, seed=self.seed, scale=self.scale,
                                   run_id=self.run_id, started=self.started, recorded=now,
                                   elapsed_s=round(now - self.started, 3)).to_json()

    def _record(self, row: dict) -> None:
        folder = os.environ.get("LMTHEORY_RECORDS")
        if not folder:
            return
        path = pathlib.Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        with open(path / f"{self.chapter}.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (notebook, nbval, jupyter-book execution); False in plain Python.

    >>> _in_kernel()
    False
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _show(line: str, row: dict) -> None:
    """Print the verdict line; in a kernel, display it with the record attached as :data:`VERDICT_MIME`.

    The notebook's reader sees the same text line either way. The output is also marked as myst-nb "glue"
    (``metadata.scrapbook.name``, a key unique within the kernel): myst-nb still shows the text line, and
    hands the record to the book build whether the notebook was executed or taken from the execution cache,
    where the book's ledger page (:mod:`lmtheory.book.sphinxext`) reads it.
    """
    if not _in_kernel():
        print(line)
        return
    from IPython.display import display
    key = f"{GLUE_PREFIX}{next(_GLUE_COUNTER)}-{row['id']}"
    display({"text/plain": line, VERDICT_MIME: row}, metadata={"scrapbook": {"name": key}}, raw=True)


def setup(chapter: str, *, seed: int = 0) -> Run:
    """The :class:`Run` for a chapter: ``seed`` unless ``LMTHEORY_SEED`` is set; scale from ``LMTHEORY_SCALE``.

    >>> setup("demo", seed=5).scale in SCALES
    True
    """
    env_seed = os.environ.get("LMTHEORY_SEED", "").strip()
    if env_seed:
        if not env_seed.isdigit():
            raise ValueError(f"LMTHEORY_SEED must be a non-negative integer, got {env_seed!r}")
        seed = int(env_seed)
    scale = os.environ.get("LMTHEORY_SCALE", "ci").strip().lower() or "ci"
    if scale not in SCALES:
        raise ValueError(f"LMTHEORY_SCALE must be one of {SCALES}, got {scale!r}")
    run_id = os.environ.get("LMTHEORY_RUN_ID", "").strip() or uuid.uuid4().hex[:12]
    if os.environ.get("LMTHEORY_COMPILE_LOG", "").strip():
        _log_compilation(chapter, pathlib.Path(os.environ["LMTHEORY_COMPILE_LOG"].strip()))
    return Run(chapter, seed, scale, run_id)


COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
                   "/jax/core/compile/backend_compile_duration")
_COMPILE_LOG: dict = {}


def _log_compilation(chapter: str, path: pathlib.Path) -> None:
    """Add up JAX's compilation-duration events of this process under ``chapter`` in the JSON file ``path``."""
    first = not _COMPILE_LOG
    _COMPILE_LOG.update(chapter=chapter, path=path, seconds=0.0)
    if not first:
        return

    def listener(name, seconds, **_):
        if name not in COMPILE_EVENTS:
            return
        _COMPILE_LOG["seconds"] += seconds
        log = _COMPILE_LOG["path"]
        data = json.loads(log.read_text()) if log.exists() else {}
        data[_COMPILE_LOG["chapter"]] = round(_COMPILE_LOG["seconds"], 3)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(json.dumps(data, indent=1))

    jax.monitoring.register_event_duration_secs_listener(listener)


def progress(iterable, *, desc: str = "", **kwargs):
    """A tqdm progress bar over ``iterable``: a widget in Jupyter when ipywidgets is installed, else text.

    >>> list(progress(range(3), desc="demo", disable=True))
    [0, 1, 2]
    """
    try:
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm.std import tqdm
    return tqdm(iterable, desc=desc, **kwargs)
