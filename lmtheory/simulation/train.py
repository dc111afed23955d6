"""Training loops as pure functions over parameter pytrees, compiled with ``lax.scan``.

Each loop returns ``(params, history)``: ``history`` is whatever ``observe(params)`` returns, stacked over
``steps // every + 1`` records taken at steps ``0, every, 2*every, ...``. Time in the theory chapters is
``lr * step`` (see :func:`record_times`). The loops are ``jit``/``vmap`` friendly: vmap over seeds outside.
"""

from __future__ import annotations

from typing import Callable

import jax
import numpy as np
import optax

from lmtheory import _validate


def _check_schedule(steps, every):
    _validate.positive("steps", steps, integer=True)
    _validate.positive("every", every, integer=True)
    if steps % every:
        raise ValueError(f"steps ({steps}) must be a multiple of every ({every})")


def train(loss: Callable, params, optimizer: optax.GradientTransformation, *, steps: int,
          observe: Callable | None = None, every: int = 1):
    """Run ``steps`` full-batch updates of ``optimizer`` on ``loss(params)``.

    >>> import jax.numpy as jnp
    >>> p, hist = train(lambda p: 0.5 * p**2, jnp.array(1.0), optax.sgd(0.1), steps=10, every=5)
    >>> round(float(p), 6), hist.shape
    (0.348678, (3,))
    """
    _check_schedule(steps, every)
    observe = observe or (lambda p: p)
    grad = jax.grad(loss)

    def one_step(carry, _):
        p, state = carry
        updates, state = optimizer.update(grad(p), state, p)
        return (optax.apply_updates(p, updates), state), None

    def block(carry, _):
        carry, _ = jax.lax.scan(one_step, carry, None, length=every)
        return carry, observe(carry[0])

    (params_out, _), hist = jax.lax.scan(block, (params, optimizer.init(params)), None, length=steps // every)
    first = observe(params)
    hist = jax.tree.map(lambda h0, h: jax.numpy.concatenate([h0[None], h]), first, hist)
    return params_out, hist


def gradient_descent(loss: Callable, params, *, lr: float, steps: int, observe: Callable | None = None,
                     every: int = 1):
    """Full-batch gradient descent ``theta <- theta - lr * grad L(theta)``; see :func:`train`.

    >>> import jax.numpy as jnp
    >>> p, _ = gradient_descent(lambda p: 0.5 * p**2, jnp.array(1.0), lr=0.5, steps=2)
    >>> float(p)
    0.25
    """
    _validate.positive("lr", lr)
    return train(loss, params, optax.sgd(lr), steps=steps, observe=observe, every=every)


def stochastic_train(loss: Callable, params, optimizer: optax.GradientTransformation, *, key, sample: Callable,
                     steps: int, observe: Callable | None = None, every: int = 1):
    """Minibatch training: at each step draw ``batch = sample(step_key)`` and update on ``loss(params, batch)``.

    >>> import jax.numpy as jnp
    >>> sample = lambda k: jax.random.normal(k, (4,))
    >>> p, hist = stochastic_train(lambda p, b: jnp.mean((p - b) ** 2), jnp.array(3.0), optax.sgd(0.1),
    ...                            key=jax.random.key(0), sample=sample, steps=200, every=100)
    >>> hist.shape, abs(float(p)) < 0.5
    ((3,), True)
    """
    _check_schedule(steps, every)
    observe = observe or (lambda p: p)
    grad = jax.grad(loss)

    def one_step(carry, step_key):
        p, state = carry
        updates, state = optimizer.update(grad(p, sample(step_key)), state, p)
        return (optax.apply_updates(p, updates), state), None

    def block(carry, block_key):
        carry, _ = jax.lax.scan(one_step, carry, jax.random.split(block_key, every))
        return carry, observe(carry[0])

    keys = jax.random.split(key, steps // every)
    (params_out, _), hist = jax.lax.scan(block, (params, optimizer.init(params)), keys)
    hist = jax.tree.map(lambda h0, h: jax.numpy.concatenate([h0[None], h]), observe(params), hist)
    return params_out, hist


def gradient_flow_rk4(loss: Callable, params, *, dt: float, steps: int, observe: Callable | None = None,
                      every: int = 1):
    """Gradient flow ``d theta/dt = -grad L(theta)`` by classical 4th-order Runge-Kutta with a fixed step ``dt``.

    Time is ``t = dt * steps``. The error is ``O(dt^4)`` per unit time on smooth stretches (gradient descent,
    the Euler method, is ``O(dt)``); the scheme is stable for ``dt * lambda_max(H) < 2.78``. Compiled with
    ``lax.scan`` like :func:`train` (same ``observe``/``every`` records); ``dt`` may be traced, so one can
    ``vmap`` over step sizes. For adaptive high-accuracy solves see :mod:`lmtheory.simulation.flow`.

    >>> import jax.numpy as jnp
    >>> p, hist = gradient_flow_rk4(lambda p: 0.5 * p**2, jnp.array(1.0), dt=0.1, steps=10, every=5)
    >>> abs(float(p) - float(jnp.exp(-1.0))) < 1e-6, hist.shape
    (True, (3,))
    """
    _validate.positive("dt", dt)
    _check_schedule(steps, every)
    observe = observe or (lambda p: p)
    grad = jax.grad(loss)

    def shifted(p, h, k):                       # p - h * k: a point along minus the gradient k
        return jax.tree.map(lambda a, b: a - h * b, p, k)

    def one_step(p, _):
        k1 = grad(p)
        k2 = grad(shifted(p, dt / 2, k1))
        k3 = grad(shifted(p, dt / 2, k2))
        k4 = grad(shifted(p, dt, k3))
        return jax.tree.map(lambda a, b, c, d, e: a - dt * (b + 2 * c + 2 * d + e) / 6, p, k1, k2, k3, k4), None

    def block(p, _):
        p, _ = jax.lax.scan(one_step, p, None, length=every)
        return p, observe(p)

    params_out, hist = jax.lax.scan(block, params, None, length=steps // every)
    hist = jax.tree.map(lambda h0, h: jax.numpy.concatenate([h0[None], h]), observe(params), hist)
    return params_out, hist


def gradient_descent_sharpness(loss: Callable, params, *, lr: float, steps: int, every: int, key, iters: int = 10):
    """Full-batch gradient descent that records the loss and the sharpness ``lambda_max(H)`` every ``every`` steps.

    The sharpness is measured by power iteration on Hessian-vector products
    (:func:`lmtheory.simulation.measure.sharpness`), warm-started from the previous record's eigenvector, so ``iters``
    iterations per record suffice when records are close in time; the first record uses ``5 * iters`` from a
    random direction drawn with ``key``. ``lr`` may be traced (``vmap`` over learning rates). Returns
    ``(params, (losses, sharpnesses))`` with ``steps // every + 1`` records at times ``lr * every * k``.

    >>> import jax.numpy as jnp
    >>> loss = lambda p: 0.5 * (4.0 * p[0] ** 2 + p[1] ** 2)
    >>> p, (ls, lam) = gradient_descent_sharpness(loss, jnp.array([1.0, 1.0]), lr=0.1, steps=4, every=2,
    ...                                           key=jax.random.key(0))
    >>> [round(float(v), 4) for v in lam]
    [4.0, 4.0, 4.0]
    """
    from lmtheory.simulation import measure

    _validate.positive("lr", lr)
    _check_schedule(steps, every)
    grad = jax.grad(loss)

    def one_step(p, _):
        return jax.tree.map(lambda a, g: a - lr * g, p, grad(p)), None

    def block(carry, _):
        p, v = carry
        p, _ = jax.lax.scan(one_step, p, None, length=every)
        lam, v = measure.sharpness(loss, p, vector=v, iters=iters, return_vector=True)
        return (p, v), (loss(p), lam)

    lam0, v0 = measure.sharpness(loss, params, key=key, iters=5 * iters, return_vector=True)
    (params_out, _), (losses, lams) = jax.lax.scan(block, (params, v0), None, length=steps // every)
    first = (loss(params), lam0)
    return params_out, jax.tree.map(lambda h0, h: jax.numpy.concatenate([h0[None], h]), first, (losses, lams))


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

    >>> import jax.numpy as jnp
    >>> float(mse_loss(lambda p, x: p * x, jnp.ones((2, 1)), jnp.zeros((2, 1)))(3.0))
    4.5
    """
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y need the same number of rows, got {x.shape[0]} and {y.shape[0]}")

    def loss(params):
        resid = y - apply(params, x)
        return 0.5 * jax.numpy.sum(resid**2) / x.shape[0]

    return loss


def least_squares(x, y, *, ridge: float = 0.0):
    """Closed-form (ridge) least squares ``beta = (X^T X + n ridge I)^{-1} X^T y``; ``ridge = 0``: minimum norm.

    ``x``: (n, p), ``y``: (n,). Uses the ``p x p`` system when ``p <= n`` and the dual ``n x n`` system
    ``beta = X^T (X X^T + n ridge I)^{-1} y`` when ``p > n``, which at ``ridge = 0`` is the minimum-norm interpolator
    (the limit of gradient descent from zero). Scaling of ``ridge`` as in Hastie et al. (arXiv:1903.08560).

    >>> import jax.numpy as jnp
    >>> least_squares(jnp.array([[1.0, 1.0]]), jnp.array([2.0])).tolist()        # min-norm: split evenly
    [1.0, 1.0]
    """
    _validate.nonnegative("ridge", ridge)
    n, p = x.shape
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), got {y.shape}")
    jnp = jax.numpy
    if p <= n:
        return jnp.linalg.solve(x.T @ x + n * ridge * jnp.eye(p), x.T @ y)
    return x.T @ jnp.linalg.solve(x @ x.T + n * ridge * jnp.eye(n), y)


def gradient_descent_endpoint(loss: Callable, params, *, lr, steps):
    """Parameters after ``steps`` full-batch GD steps ``theta <- theta - lr * grad L(theta)``, with no records.

    A ``lax.fori_loop``: ``lr`` *and* ``steps`` may be traced, so one compiled function serves every step count
    and ``vmap`` runs many ``(lr, steps)`` pairs at once (each pair stops at its own ``steps``). Time ``lr * steps``.

    >>> import jax.numpy as jnp
    >>> float(gradient_descent_endpoint(lambda p: 0.5 * p**2, jnp.array(1.0), lr=0.5, steps=3))
    0.125
    """
    _validate.positive("lr", lr)
    _validate.positive("steps", steps, integer=True)
    grad = jax.grad(loss)

    def one_step(_, p):
        return jax.tree.map(lambda w, g: w - lr * g, p, grad(p))

    return jax.lax.fori_loop(0, steps, one_step, params)


def cross_entropy_loss(apply: Callable, x, labels) -> Callable:
    """The loss ``L(params) = -(1/P) sum_mu log softmax(apply(params, x))_mu[labels_mu]`` (integer labels).

    >>> import jax.numpy as jnp
    >>> loss = cross_entropy_loss(lambda p, x: x @ p, jnp.eye(2), jnp.array([0, 1]))
    >>> round(float(loss(jnp.zeros((2, 3)))), 6) == round(float(np.log(3.0)), 6)
    True
    """
    if x.shape[0] != labels.shape[0]:
        raise ValueError(f"x and labels need the same number of rows, got {x.shape[0]} and {labels.shape[0]}")

    def loss(params):
        return optax.softmax_cross_entropy_with_integer_labels(apply(params, x), labels).mean()

    return loss
