"""Training as ``(init, step)`` pairs driven by one recorded scan, compiled with ``lax.scan``.

An update rule is a pair of pure functions (the optax / jax-md pattern): ``init(params) -> state`` and
``step(state, key) -> state`` (``key`` is ``None`` for deterministic rules): :func:`optimizer_step` (any optax
optimizer, full batch or minibatches), :func:`gd_step` (plain gradient descent, ``lr`` may be traced) and
:func:`rk4_step` (gradient flow by Runge-Kutta). :func:`recorded_scan` is the one driver: it applies ``step`` under
``lax.scan`` and takes a record ``state, out = record(state)`` at steps ``0, every, 2*every, ...``, so a history has
``steps // every + 1`` records; a record may update the state (the warm-started eigenvector of
:func:`gradient_descent_sharpness`). The loops :func:`train`, :func:`gradient_descent`, :func:`stochastic_train`,
:func:`gradient_flow_rk4` and :func:`gradient_descent_sharpness` are these pieces put together; each returns
``(params, history)`` with ``history`` what ``observe(params)`` returns, stacked. Time in the theory chapters is
``lr * step`` (see :func:`record_times`). Everything is ``jit``/``vmap`` friendly: vmap over seeds outside.

References: the ``(init, update)`` gradient transformations of optax (Babuschkin et al., "The DeepMind JAX
Ecosystem", 2020) and the ``(init, apply)`` integrators of jax-md (Schoenholz & Cubuk, NeurIPS 2020).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from lmtheory import _validate


def _check_schedule(steps, every):
    _validate.positive("steps", steps, integer=True)
    _validate.positive("every", every, integer=True)
    if steps % every:
        raise ValueError(f"steps ({steps}) must be a multiple of every ({every})")


def recorded_scan(step: Callable, state, *, steps: int, every: int = 1, record: Callable, key=None):
    """The training driver: ``steps`` applications of ``state = step(state, key_t)``, recorded every ``every``.

    ``record(state) -> (state, out)`` is called on the initial state and after every block of ``every`` steps;
    returns ``(final_state, history)`` with the ``steps // every + 1`` outputs stacked along a new first axis.
    With a ``key``, block ``b`` uses ``split(key, steps // every)[b]``, split again into one key per step;
    without, ``step`` receives ``None``. Two nested ``lax.scan``: one compiled step, one compiled record.

    >>> state, hist = recorded_scan(lambda s, k: s + 1, 0, steps=4, every=2, record=lambda s: (s, 10 * s))
    >>> int(state), hist.tolist()
    (4, [0, 20, 40])
    """
    _check_schedule(steps, every)
    blocks = steps // every

    def block(carry, block_key):
        keys = None if block_key is None else jax.random.split(block_key, every)
        carry, _ = jax.lax.scan(lambda c, k: (step(c, k), None), carry, keys, length=every)
        return record(carry)

    state, first = record(state)
    state, hist = jax.lax.scan(block, state, None if key is None else jax.random.split(key, blocks), length=blocks)
    return state, jax.tree.map(lambda h0, h: jnp.concatenate([jnp.asarray(h0)[None], h]), first, hist)


def optimizer_step(loss: Callable, optimizer: optax.GradientTransformation, *, sample: Callable | None = None):
    """``(init, step)`` of an optax optimizer: state ``(params, opt_state)``.

    Full batch (``sample=None``): the update uses ``grad loss(params)``. Minibatches: ``step(state, key)`` draws
    ``batch = sample(key)`` and uses ``grad loss(params, batch)``.

    >>> init, step = optimizer_step(lambda p: 0.5 * p**2, optax.sgd(0.5))
    >>> float(step(init(jnp.array(1.0)), None)[0])
    0.5
    """
    grad = jax.grad(loss)

    def init(params):
        return params, optimizer.init(params)

    def step(state, key=None):
        p, opt_state = state
        updates, opt_state = optimizer.update(grad(p) if sample is None else grad(p, sample(key)), opt_state, p)
        return optax.apply_updates(p, updates), opt_state

    return init, step


def gd_step(loss: Callable, *, lr):
    """``(init, step)`` of full-batch gradient descent ``theta <- theta - lr grad L(theta)``; state = params.

    Without optax, so ``lr`` may be traced (``vmap`` over learning rates).

    >>> init, step = gd_step(lambda p: 0.5 * p**2, lr=0.5)
    >>> float(step(init(jnp.array(1.0)), None))
    0.5
    """
    _validate.positive("lr", lr)
    grad = jax.grad(loss)

    def step(params, key=None):
        return jax.tree.map(lambda w, g: w - lr * g, params, grad(params))

    return (lambda params: params), step


def rk4_step(loss: Callable, *, dt):
    """``(init, step)`` of gradient flow ``d theta/dt = -grad L(theta)`` by classical 4th-order Runge-Kutta.

    One step advances time by ``dt`` with an ``O(dt^5)`` local error; state = params; ``dt`` may be traced.

    >>> init, step = rk4_step(lambda p: 0.5 * p**2, dt=0.1)
    >>> abs(float(step(init(jnp.array(1.0)), None)) - float(jnp.exp(-0.1))) < 1e-7
    True
    """
    _validate.positive("dt", dt)
    grad = jax.grad(loss)

    def shifted(p, h, k):                       # p - h * k: a point along minus the gradient k
        return jax.tree.map(lambda a, b: a - h * b, p, k)

    def step(p, key=None):
        k1 = grad(p)
        k2 = grad(shifted(p, dt / 2, k1))
        k3 = grad(shifted(p, dt / 2, k2))
        k4 = grad(shifted(p, dt, k3))
        return jax.tree.map(lambda a, b, c, d, e: a - dt * (b + 2 * c + 2 * d + e) / 6, p, k1, k2, k3, k4)

    return (lambda params: params), step


def _observing(observe, params_of=lambda state: state):
    observe = observe or (lambda p: p)
    return lambda state: (state, observe(params_of(state)))


def train(loss: Callable, params, optimizer: optax.GradientTransformation, *, steps: int,
          observe: Callable | None = None, every: int = 1):
    """Run ``steps`` full-batch updates of ``optimizer`` on ``loss(params)``: :func:`optimizer_step` driven by
    :func:`recorded_scan`, recording ``observe(params)`` (default: the parameters) every ``every`` steps.

    >>> p, hist = train(lambda p: 0.5 * p**2, jnp.array(1.0), optax.sgd(0.1), steps=10, every=5)
    >>> round(float(p), 6), hist.shape
    (0.348678, (3,))
    """
    init, step = optimizer_step(loss, optimizer)
    state, hist = recorded_scan(step, init(params), steps=steps, every=every,
                                record=_observing(observe, lambda s: s[0]))
    return state[0], hist


def gradient_descent(loss: Callable, params, *, lr: float, steps: int, observe: Callable | None = None,
                     every: int = 1):
    """Full-batch gradient descent ``theta <- theta - lr * grad L(theta)``; see :func:`train`.

    >>> p, _ = gradient_descent(lambda p: 0.5 * p**2, jnp.array(1.0), lr=0.5, steps=2)
    >>> float(p)
    0.25
    """
    _validate.positive("lr", lr)
    return train(loss, params, optax.sgd(lr), steps=steps, observe=observe, every=every)


def stochastic_train(loss: Callable, params, optimizer: optax.GradientTransformation, *, key, sample: Callable,
                     steps: int, observe: Callable | None = None, every: int = 1):
    """Minibatch training: at each step draw ``batch = sample(step_key)`` and update on ``loss(params, batch)``.

    >>> sample = lambda k: jax.random.normal(k, (4,))
    >>> p, hist = stochastic_train(lambda p, b: jnp.mean((p - b) ** 2), jnp.array(3.0), optax.sgd(0.1),
    ...                            key=jax.random.key(0), sample=sample, steps=200, every=100)
    >>> hist.shape, abs(float(p)) < 0.5
    ((3,), True)
    """
    init, step = optimizer_step(loss, optimizer, sample=sample)
    state, hist = recorded_scan(step, init(params), steps=steps, every=every, key=key,
                                record=_observing(observe, lambda s: s[0]))
    return state[0], hist


def gradient_flow_rk4(loss: Callable, params, *, dt: float, steps: int, observe: Callable | None = None,
                      every: int = 1):
    """Gradient flow ``d theta/dt = -grad L(theta)`` by classical 4th-order Runge-Kutta with a fixed step ``dt``.

    Time is ``t = dt * steps``. The error is ``O(dt^4)`` per unit time on smooth stretches (gradient descent,
    the Euler method, is ``O(dt)``); the scheme is stable for ``dt * lambda_max(H) < 2.78``. :func:`rk4_step`
    driven by :func:`recorded_scan` (same ``observe``/``every`` records as :func:`train`); ``dt`` may be traced,
    so one can ``vmap`` over step sizes. For adaptive high-accuracy solves see :mod:`lmtheory.simulation.flow`.

    >>> p, hist = gradient_flow_rk4(lambda p: 0.5 * p**2, jnp.array(1.0), dt=0.1, steps=10, every=5)
    >>> abs(float(p) - float(jnp.exp(-1.0))) < 1e-6, hist.shape
    (True, (3,))
    """
    init, step = rk4_step(loss, dt=dt)
    return recorded_scan(step, init(params), steps=steps, every=every, record=_observing(observe))


def gradient_descent_sharpness(loss: Callable, params, *, lr: float, steps: int, every: int, key, iters: int = 10):
    """Full-batch gradient descent that records the loss and the sharpness ``lambda_max(H)`` every ``every`` steps.

    :func:`gd_step` composed with sharpness tracking: the state carries the current top Hessian eigenvector, and
    each record refines it by ``iters`` power iterations on Hessian-vector products
    (:func:`lmtheory.simulation.measure.sharpness`), warm-started from the previous record's, which suffices when
    records are close in time; the first record uses ``5 * iters`` from a random direction drawn with ``key``.
    ``lr`` may be traced (``vmap`` over learning rates). Returns ``(params, (losses, sharpnesses))`` with
    ``steps // every + 1`` records at times ``lr * every * k``.

    >>> loss = lambda p: 0.5 * (4.0 * p[0] ** 2 + p[1] ** 2)
    >>> p, (ls, lam) = gradient_descent_sharpness(loss, jnp.array([1.0, 1.0]), lr=0.1, steps=4, every=2,
    ...                                           key=jax.random.key(0))
    >>> [round(float(v), 4) for v in lam]
    [4.0, 4.0, 4.0]
    """
    from lmtheory.simulation import measure

    _validate.positive("iters", iters, integer=True)
    init, gd = gd_step(loss, lr=lr)

    def step(state, key):
        return gd(state[0], key), state[1]

    def record(state):
        lam, v = measure.sharpness(loss, state[0], vector=state[1], iters=iters, return_vector=True)
        return (state[0], v), (loss(state[0]), lam)

    _, v0 = measure.sharpness(loss, params, key=key, iters=4 * iters, return_vector=True)
    (params_out, _), hist = recorded_scan(step, (init(params), v0), steps=steps, every=every, record=record)
    return params_out, hist


def record_times(*, lr: float, steps: int, every: int = 1) -> np.ndarray:
    """Times ``lr * step`` of the records of a loop: ``lr * every * [0, 1, ..., steps // every]``.

    >>> record_times(lr=0.1, steps=4, every=2).tolist()
    [0.0, 0.2, 0.4]
    """
    _validate.positive("lr", lr)
    _check_schedule(steps, every)
    return lr * every * np.arange(steps // every + 1)


def mse_loss(apply: Callable, x, y) -> Callable:
    """The loss ``L(params) = 1/(2P) sum_mu ||y_mu - apply(params, x_mu)||^2`` (P = number of rows of x).

    >>> float(mse_loss(lambda p, x: p * x, jnp.ones((2, 1)), jnp.zeros((2, 1)))(3.0))
    4.5
    """
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y need the same number of rows, got {x.shape[0]} and {y.shape[0]}")

    def loss(params):
        resid = y - apply(params, x)
        return 0.5 * jnp.sum(resid**2) / x.shape[0]

    return loss


def least_squares(x, y, *, ridge: float = 0.0):
    """Closed-form (ridge) least squares ``beta = (X^T X + n ridge I)^{-1} X^T y``; ``ridge = 0``: minimum norm.

    ``x``: (n, p), ``y``: (n,). Uses the ``p x p`` system when ``p <= n`` and the dual ``n x n`` system
    ``beta = X^T (X X^T + n ridge I)^{-1} y`` when ``p > n``, which at ``ridge = 0`` is the minimum-norm interpolator
    (the limit of gradient descent from zero). Scaling of ``ridge`` as in Hastie et al. (arXiv:1903.08560).

    It stands in for *training* a linear model (gradient descent from zero converges to it), so it belongs to the
    simulation: a solvable model's fitted parameters, to be compared with a theory's prediction of them (e.g.
    :mod:`lmtheory.theory.double_descent`), never the prediction itself.

    >>> least_squares(jnp.array([[1.0, 1.0]]), jnp.array([2.0])).tolist()        # min-norm: split evenly
    [1.0, 1.0]
    """
    _validate.nonnegative("ridge", ridge)
    n, p = x.shape
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), got {y.shape}")
    if p <= n:
        return jnp.linalg.solve(x.T @ x + n * ridge * jnp.eye(p), x.T @ y)
    return x.T @ jnp.linalg.solve(x @ x.T + n * ridge * jnp.eye(n), y)


def gradient_descent_endpoint(loss: Callable, params, *, lr, steps):
    """Parameters after ``steps`` full-batch GD steps ``theta <- theta - lr * grad L(theta)``, with no records.

    A ``lax.fori_loop``: ``lr`` *and* ``steps`` may be traced, so one compiled function serves every step count
    and ``vmap`` runs many ``(lr, steps)`` pairs at once (each pair stops at its own ``steps``). Time ``lr * steps``.

    >>> float(gradient_descent_endpoint(lambda p: 0.5 * p**2, jnp.array(1.0), lr=0.5, steps=3))
    0.125
    """
    _validate.positive("steps", steps, integer=True)
    init, step = gd_step(loss, lr=lr)
    return jax.lax.fori_loop(0, steps, lambda _, p: step(p, None), init(params))


def cross_entropy_loss(apply: Callable, x, labels) -> Callable:
    """The loss ``L(params) = -(1/P) sum_mu log softmax(apply(params, x))_mu[labels_mu]`` (integer labels).

    >>> loss = cross_entropy_loss(lambda p, x: x @ p, jnp.eye(2), jnp.array([0, 1]))
    >>> round(float(loss(jnp.zeros((2, 3)))), 6) == round(float(np.log(3.0)), 6)
    True
    """
    if x.shape[0] != labels.shape[0]:
        raise ValueError(f"x and labels need the same number of rows, got {x.shape[0]} and {labels.shape[0]}")

    def loss(params):
        return optax.softmax_cross_entropy_with_integer_labels(apply(params, x), labels).mean()

    return loss


def layer_scaled(optimizer: optax.GradientTransformation, scales) -> optax.GradientTransformation:
    """``optimizer`` followed by a fixed per-leaf multiplication of its updates: per-layer learning rates.

    ``scales`` is a pytree of numbers with the structure of the parameters (e.g. the list of
    :func:`lmtheory.simulation.models.abc_lr_scales`); the update of leaf ``p`` becomes ``scale_p * update_p``.

    >>> opt = layer_scaled(optax.sgd(1.0), [1.0, 0.5])
    >>> p, _ = train(lambda p: 0.5 * (p[0] ** 2 + p[1] ** 2), [jnp.array(1.0), jnp.array(1.0)], opt, steps=1)
    >>> [float(v) for v in p]
    [0.0, 0.5]
    """
    def scale(updates, params=None):
        return jax.tree.map(lambda u, s: u * s, updates, scales)

    return optax.chain(optimizer, optax.stateless(scale))
