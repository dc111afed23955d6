"""``make bench``: how close the book's simulations run to this machine's limit, as ratios on one machine.

Every number is a ratio against something measured in the same process, so the table means the same on a
laptop, a 2-core CI runner or a GPU:

* **training loop** -- the chapters' ``lax.scan`` gradient-descent driver (:func:`lmtheory.train.gradient_descent`)
  on an MLP of width 256-1024, achieved GFLOP/s against a jitted ``jnp.dot`` of the same matrix shapes
  (goal >= 70%);
* **ensemble** -- a 16-seed ``vmap`` against 16 sequential single-seed runs of a chapter-sized problem
  (speed-up, goal >= 1x), compilation and execution timed apart;
* **empirical NTK** -- :func:`lmtheory.measure.empirical_ntk` against a per-example-Jacobian baseline written
  here (same inputs, same answer to 1e-5; goal >= 1x);
* **notebooks** -- each chapter's time at ``ci`` scale from the nbval timing table of a ``make notebooks`` run,
  split into XLA compilation (traced, lowered and compiled: JAX's ``/jax/core/compile/*`` duration events,
  collected when ``LMTHEORY_COMPILE_LOG`` is set) and the rest, against the 60 s budget (median <= 25 s,
  max <= 45 s on a quiet 2-core machine).

``python -m lmtheory.book.bench [--smoke] [--records DIR] [--book-seconds S] [--out DIR]`` writes
``bench.md`` and ``bench.json`` under ``--out`` (default ``_build/bench``) and prints the table.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time

from lmtheory.contract.config import COMPILE_EVENTS

_COMPILE = {"seconds": 0.0}


def _on_event(name: str, seconds: float, **_) -> None:
    if name in COMPILE_EVENTS:
        _COMPILE["seconds"] += seconds


def compile_seconds() -> float:
    """Seconds spent compiling JAX programs in this process since :func:`watch_compilation` was called."""
    return _COMPILE["seconds"]


def watch_compilation() -> None:
    """Start adding up JAX's compilation-duration events (once per process)."""
    import jax

    if not _COMPILE.get("watching"):
        jax.monitoring.register_event_duration_secs_listener(_on_event)
        _COMPILE["watching"] = True


def timed(fn, *args, repeats: int = 3) -> dict:
    """``{"first_s", "compile_s", "run_s"}``: the first call (with compilation), the compilation within it,
    and the best of ``repeats`` later calls (execution only). ``fn`` must return a JAX array pytree."""
    import jax

    watch_compilation()
    c0, t0 = compile_seconds(), time.perf_counter()
    jax.block_until_ready(fn(*args))
    first, comp = time.perf_counter() - t0, compile_seconds() - c0
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t0)
    return {"first_s": first, "compile_s": comp, "run_s": best}


def _mlp(width: int, depth: int, key):
    import jax

    from lmtheory.simulation import models
    from flax import nnx
    net = models.MLP(width, width, width, depth=depth, activation="tanh", rngs=nnx.Rngs(int(jax.random.randint(
        key, (), 0, 2**31 - 1))))
    return models.functional(net)


def training_loop(width: int, *, batch: int, steps: int, depth: int = 3) -> dict:
    """GFLOP/s of the chapters' GD driver on a width-``width`` MLP against ``jnp.dot`` of the same shapes.

    FLOPs per step: forward ``2 B sum_l n_l n_{l+1}`` and backward twice that (``3x`` forward).
    """
    import jax
    import jax.numpy as jnp

    from lmtheory.simulation import train
    key = jax.random.key(0)
    apply, params = _mlp(width, depth, key)
    x = jax.random.normal(key, (batch, width), jnp.float32)
    loss = train.mse_loss(apply, x, jnp.zeros((batch, width), jnp.float32))
    run = jax.jit(lambda p: train.gradient_descent(loss, p, lr=1e-3, steps=steps, every=steps)[0])
    t = timed(run, params)
    flops = 3 * 2 * batch * width * width * depth * steps
    a, w = x, jax.random.normal(key, (width, width), jnp.float32)
    dot = jax.jit(lambda a, w: (a @ w) @ w)                   # two matmuls per call: same shapes as a layer
    td = timed(dot, a, w, repeats=10)
    gemm = 2 * 2 * batch * width * width / td["run_s"] / 1e9
    achieved = flops / t["run_s"] / 1e9
    return {"case": f"train width {width}, batch {batch}, {steps} steps", "gflops": achieved,
            "sgemm_gflops": gemm, "ratio": achieved / gemm, "goal": 0.7, **t}


def ensemble(n_seeds: int = 16, *, width: int = 64, steps: int = 2000) -> dict:
    """A ``vmap`` over ``n_seeds`` initializations against ``n_seeds`` sequential runs of the same program.

    *Sequential* means one run after the other (each waited for, as a Python loop over seeds that uses its
    results does). JAX's asynchronous dispatch can also overlap the single runs on several cores, while a small
    vmapped program runs on one; that time is reported as ``overlapped_s`` (not the goal's reference). At small
    widths the step is overhead-bound and vmap wins by several times; once a single run's matmuls reach the
    machine's GEMM rate both sit at that limit and the ratio tends to 1.
    """
    import jax
    import jax.numpy as jnp

    from lmtheory.simulation import train
    x = jax.random.normal(jax.random.key(1), (width, width), jnp.float32)
    y = jnp.tanh(x[:, :1])

    def one(key):
        apply, params = _unbox_init(width, key)
        loss = train.mse_loss(apply, x, y)
        return train.gradient_descent(loss, params, lr=0.05, steps=steps, every=steps)[1]

    keys = jax.random.split(jax.random.key(2), n_seeds)
    vm = timed(jax.jit(jax.vmap(one)), keys, repeats=2)
    single = jax.jit(one)
    seq = timed(lambda ks: [jax.block_until_ready(single(k)) for k in ks], keys, repeats=2)
    overlapped = timed(lambda ks: [single(k) for k in ks], keys, repeats=2)
    return {"case": f"{n_seeds} seeds x {steps} GD steps, width {width}", "vmap_s": vm["run_s"],
            "sequential_s": seq["run_s"], "overlapped_s": overlapped["run_s"], "ratio": seq["run_s"] / vm["run_s"],
            "goal": 1.0, "compile_s": vm["compile_s"], "first_s": vm["first_s"]}


def _unbox_init(width: int, key):
    """A pure (apply, params) of a 2-layer tanh MLP initialized from ``key`` (traceable under vmap)."""
    import jax
    import jax.numpy as jnp

    k1, k2 = jax.random.split(key)
    params = {"w1": jax.random.normal(k1, (width, width)) / jnp.sqrt(width),
              "w2": jax.random.normal(k2, (width, 1)) / jnp.sqrt(width)}
    return (lambda p, x: jnp.tanh(x @ p["w1"]) @ p["w2"]), params


def ntk(width: int = 256, n_inputs: int = 64) -> dict:
    """:func:`lmtheory.measure.empirical_ntk` against a per-example-Jacobian baseline (same answer to 1e-5)."""
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree

    from lmtheory.simulation import measure
    apply, params = _unbox_init(width, jax.random.key(3))
    x = jax.random.normal(jax.random.key(4), (n_inputs, width), jnp.float32)

    def baseline(p, x):
        def row(xi):
            return ravel_pytree(jax.grad(lambda q: apply(q, xi[None])[0, 0])(p))[0]
        jac = jnp.stack([row(xi) for xi in x])              # one reverse pass per example
        return jac @ jac.T

    ours = jax.jit(lambda p, x: measure.empirical_ntk(apply, p, x))
    base = jax.jit(baseline)
    t_ours, t_base = timed(ours, params, x), timed(base, params, x)
    a, b = ours(params, x), base(params, x)
    err = float(jnp.max(jnp.abs(jnp.squeeze(a) - b)) / jnp.max(jnp.abs(b)))
    if err > 1e-5:
        raise AssertionError(f"empirical_ntk and the per-example baseline differ by {err:.2e} (relative)")
    return {"case": f"NTK of {n_inputs} inputs, width {width}", "ours_s": t_ours["run_s"],
            "baseline_s": t_base["run_s"], "ratio": t_base["run_s"] / t_ours["run_s"], "goal": 1.0,
            "max_rel_diff": err, "compile_s": t_ours["compile_s"]}


def notebooks(records) -> dict:
    """Per-notebook seconds (from ``timings.json``) and compilation seconds (``compile.json``) of a run."""
    folder = pathlib.Path(records)
    times = json.loads((folder / "timings.json").read_text()) if (folder / "timings.json").exists() else {}
    comp = json.loads((folder / "compile.json").read_text()) if (folder / "compile.json").exists() else {}
    rows = []
    for path, seconds in sorted(times.items(), key=lambda kv: -kv[1]):
        chapter = pathlib.Path(path).stem
        c = comp.get(chapter)
        rows.append({"notebook": path, "seconds": seconds, "compile_s": c,
                     "execute_s": None if c is None else seconds - c, "over_budget": seconds > 60})
    secs = [r["seconds"] for r in rows]
    return {"rows": rows, "median_s": statistics.median(secs) if secs else None,
            "max_s": max(secs) if secs else None, "total_s": sum(secs)}


def _fmt(v, spec=".3g") -> str:
    return "-" if v is None else format(v, spec)


def to_markdown(result: dict) -> str:
    """The bench as Markdown tables (kernels, then notebooks)."""
    lines = ["| case | measured | against | ratio | goal | compile s |", "|---|---|---|---|---|---|"]
    for r in result["kernels"]:
        if "gflops" in r:
            meas, ref = f"{r['gflops']:.3g} GFLOP/s", f"sgemm {r['sgemm_gflops']:.3g} GFLOP/s"
        elif "vmap_s" in r:
            meas = f"vmap {r['vmap_s']:.3g} s"
            ref = f"sequential {r['sequential_s']:.3g} s (overlapped {_fmt(r.get('overlapped_s'))} s)"
        else:
            meas, ref = f"lmt {r['ours_s']:.3g} s", f"per-example {r['baseline_s']:.3g} s"
        ok = "met" if r["ratio"] >= r["goal"] else "NOT MET"
        lines.append(f"| {r['case']} | {meas} | {ref} | {r['ratio']:.2f} | >= {r['goal']:g} ({ok}) | "
                     f"{_fmt(r.get('compile_s'))} |")
    nb = result.get("notebooks") or {}
    if nb.get("rows"):
        lines += ["", "| notebook | seconds | compile s | execute s | budget |", "|---|---|---|---|---|"]
        lines += [f"| {r['notebook']} | {r['seconds']:.1f} | {_fmt(r['compile_s'], '.1f')} | "
                  f"{_fmt(r['execute_s'], '.1f')} | {'OVER 60 s' if r['over_budget'] else 'ok'} |"
                  for r in nb["rows"]]
        lines += ["", f"median {nb['median_s']:.1f} s (goal <= 25), max {nb['max_s']:.1f} s (goal <= 45), "
                      f"total {nb['total_s']:.0f} s"]
    if result.get("book_warm_s") is not None:
        lines += ["", f"`make book` with a warm execution cache: {result['book_warm_s']:.1f} s (goal <= 60)"]
    return "\n".join(lines) + "\n"


def run(*, smoke: bool = False, records=None, book_seconds=None) -> dict:
    """All benches (``smoke``: one tiny case of each, for the test suite)."""
    if smoke:
        kernels = [training_loop(32, batch=32, steps=4), ensemble(2, width=8, steps=8), ntk(16, 4)]
    else:
        kernels = [training_loop(w, batch=512, steps=100) for w in (256, 512, 1024)]
        kernels += [ensemble(16, width=16), ensemble(16, width=64), ntk()]
    return {"kernels": kernels, "notebooks": notebooks(records) if records else None, "book_warm_s": book_seconds}


def main(argv=None) -> int:
    """Command line; returns 0 (the bench reports, it does not fail)."""
    parser = argparse.ArgumentParser(prog="python -m lmtheory.book.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="one tiny case of each kernel bench")
    parser.add_argument("--records", default=None, help="records folder of a make-notebooks run (timings)")
    parser.add_argument("--book-seconds", type=float, default=None, help="measured warm `make book` seconds")
    parser.add_argument("--out", default="_build/bench", help="output folder")
    args = parser.parse_args(argv)
    result = run(smoke=args.smoke, records=args.records, book_seconds=args.book_seconds)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = to_markdown(result)
    (out / "bench.md").write_text(text, encoding="utf-8")
    (out / "bench.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
