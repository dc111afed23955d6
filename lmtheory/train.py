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
