"""Seeds, scale and the per-notebook run: the two lines of every chapter's parameter cell.

>>> run = setup("demo", seed=3)           # LMTHEORY_SEED / LMTHEORY_SCALE override the defaults
>>> n_seeds = run.pick(ci=8, full=256)    # sizes depend on the scale

Environment variables
---------------------
``LMTHEORY_SEED``     integer seed that replaces every notebook's default seed.
``LMTHEORY_SCALE``    ``ci`` (default: each chapter <= 60 s on a 2-core CPU) or ``full`` (bigger, for a GPU).
``LMTHEORY_RECORDS``  folder; when set, every verdict is appended as a JSON line to ``<folder>/<chapter>.jsonl``.
``LMTHEORY_RUN_ID``   label shared by all notebooks of one build/test run (defaults to a fresh random id).
"""

from __future__ import annotations

import json
import os
import pathlib
import time
import uuid
from dataclasses import dataclass, field

import jax

from lmtheory import _validate
from lmtheory.check import PredictionFailed, Tolerance, Verdict, check

SCALES = ("ci", "full")


@dataclass(frozen=True)
class Run:
    """One execution of one chapter: its seed, scale and identity, and the recorder of its verdicts."""

    chapter: str
    seed: int
    scale: str = "ci"
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: float = field(default_factory=time.time)

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

    def check(self, id: str, statement: str, *, predicted, measured, tol: Tolerance,
              reference: str) -> None:
        """:func:`lmtheory.check.check`, plus a record of the verdict (pass or fail) when recording is on.

        Prints the verdict line; raises :class:`lmtheory.PredictionFailed` after recording a failure.
        """
        verdict = check(id, statement, predicted=predicted, measured=measured, tol=tol, reference=reference,
                        raise_on_fail=False)
        self._record(verdict)
        if not verdict.passed:
            raise PredictionFailed(verdict)

    def _record(self, verdict: Verdict) -> None:
        folder = os.environ.get("LMTHEORY_RECORDS")
        if not folder:
            return
        path = pathlib.Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        row = dict(verdict.to_record(), chapter=self.chapter, seed=self.seed, scale=self.scale,
                   run_id=self.run_id, started=self.started, recorded=time.time(),
                   elapsed_s=round(time.time() - self.started, 3))
        with open(path / f"{self.chapter}.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")


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
    return Run(chapter, seed, scale, run_id)


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
