"""Gradient flow and its modified flows, integrated accurately over parameter pytrees.

Gradient descent ``theta <- theta - lr * grad L(theta)`` is the explicit Euler method, with step ``lr``, for the
*gradient flow* ``d theta/dt = -grad L(theta)``; time is ``t = lr * steps``. To measure how far gradient descent
is from a flow we need the flow itself far more accurately than the gap we measure, so this module solves
flows with an adaptive high-order Runge-Kutta method (scipy's ``DOP853``, order 8, error per unit time controlled
by ``rtol``/``atol``) on the flattened parameter vector (``jax.flatten_util.ravel_pytree``).

Backward error analysis (Barrett & Dherin 2021, arXiv:2009.11162) says that gradient descent follows, to
``O(lr^2)`` at fixed time, the gradient flow of the *modified loss* ``L + (lr/4) ||grad L||^2``
(:func:`modified_loss`). Computing that loss needs gradients of ``L``, i.e. the network itself, so it lives here
with the simulation code rather than in :mod:`lmtheory.theory`, which only holds the closed forms.

Many independent systems (one per seed) are integrated at once by passing a loss that *sums* their losses over a
leading axis: the gradient of a sum of decoupled losses is the stack of their gradients, so the flow of the sum
is the stack of the individual flows (``rtol``/``atol`` then hold for the whole stack).

The state must be float64: enable it with ``jax.config.update("jax_enable_x64", True)`` (or the
``jax.enable_x64(True)`` context manager).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from scipy import integrate as _integrate

from lmtheory import _validate

METHODS = ("DOP853", "RK45", "Radau")


def _flat_field(vector_field: Callable, state):
    flat, unravel = ravel_pytree(state)
    if flat.dtype != jnp.float64:
        raise ValueError(f"state must be float64 (enable jax_enable_x64), got dtype {flat.dtype}")
    field = jax.jit(lambda y: ravel_pytree(vector_field(unravel(y)))[0])
    return np.asarray(flat), unravel, field


def integrate(vector_field: Callable, state, *, time: float, rtol: float = 1e-11, atol: float = 1e-13,
              method: str = "DOP853", times=None, observe: Callable | None = None):
    """Solve ``d state/dt = vector_field(state)`` from ``t = 0`` to ``t = time`` (an autonomous ODE on a pytree).

    ``rtol``/``atol`` bound scipy's local error per step; the global error of ``DOP853`` (order 8) is then of the
    same order times a stability factor of ``exp(time * max(0, -lambda_min(H)))``, tiny for the times used here.
    With ``times`` (increasing, within ``[0, time]``) also returns ``observe(state)`` at those times, stacked.
    Returns ``(final_state, history)``; ``history`` is ``None`` without ``times``.

    >>> with jax.enable_x64(True):
    ...     x, _ = integrate(lambda s: -s, jnp.array([1.0, 2.0]), time=1.0)
    >>> np.allclose(x, np.exp(-1.0) * np.array([1.0, 2.0]), rtol=1e-10)
    True
    """
    _validate.positive("time", time)
    _validate.positive("rtol", rtol)
    _validate.positive("atol", atol)
    _validate.one_of("method", method, set(METHODS))
    t_eval = None if times is None else np.asarray(times, float)
    if t_eval is not None and (t_eval.ndim != 1 or np.any(np.diff(t_eval) <= 0) or t_eval[0] < 0
                               or t_eval[-1] > time):
        raise ValueError(f"times must be increasing and lie in [0, time={time}], got {times!r}")
    y0, unravel, field = _flat_field(vector_field, state)
    extra = t_eval is not None and t_eval[-1] < time
    t_all = None if t_eval is None else (np.append(t_eval, time) if extra else t_eval)
    sol = _integrate.solve_ivp(lambda _, y: np.asarray(field(y)), (0.0, float(time)), y0, method=method,
                               rtol=rtol, atol=atol, t_eval=t_all)
    if not sol.success:
        raise RuntimeError(f"the ODE solver failed: {sol.message}")
    final = unravel(jnp.asarray(sol.y[:, -1]))
    if t_eval is None:
        return final, None
    observe = observe or (lambda s: s)
    hist = [observe(unravel(jnp.asarray(y))) for y in sol.y.T[:t_eval.size]]
    return final, jax.tree.map(lambda *leaves: jnp.stack(leaves), *hist)


def gradient_flow(loss: Callable, params, *, time: float, rtol: float = 1e-11, atol: float = 1e-13,
                  times=None, observe: Callable | None = None):
    """Gradient flow ``d theta/dt = -grad L(theta)`` up to ``time`` (units of lr x steps); see :func:`integrate`.

    >>> with jax.enable_x64(True):
    ...     p, _ = gradient_flow(lambda p: 0.5 * 2.0 * p["w"] ** 2, {"w": jnp.array(1.0)}, time=0.5)
    >>> bool(np.isclose(p["w"], np.exp(-1.0), rtol=1e-10))
    True
    """
    grad = jax.grad(loss)
    return integrate(lambda p: jax.tree.map(jnp.negative, grad(p)), params, time=time, rtol=rtol, atol=atol,
                     times=times, observe=observe)


def modified_loss(loss: Callable, lr: float, *, coefficient: float = 0.25) -> Callable:
    """The modified loss ``L~(theta) = L(theta) + coefficient * lr * ||grad L(theta)||^2``.

    With the default ``coefficient = 1/4`` this is the loss whose gradient flow gradient descent with learning
    rate ``lr`` follows to second order (implicit gradient regularization, Barrett & Dherin 2021, Thm 3.1):
    its flow is ``d theta/dt = -grad L - (lr/2) H grad L``. Other coefficients are there to show that only
    ``1/4`` works. ``lr`` may be a traced value (for ``vmap`` over learning rates).

    >>> lt = modified_loss(lambda w: 0.5 * 3.0 * w**2, 0.1)    # L = 3w^2/2: L~ = 3w^2/2 + 0.1/4 (3w)^2
    >>> bool(np.isclose(lt(1.0), 1.5 + 0.025 * 9.0))
    True
    """
    _validate.positive("coefficient", coefficient)
    _validate.positive("lr", lr)
    grad = jax.grad(loss)

    def tilde(params):
        g = grad(params)
        return loss(params) + coefficient * lr * sum(jnp.sum(leaf**2) for leaf in jax.tree.leaves(g))

    return tilde


def flow_response(loss: Callable, perturbation: Callable, params, *, time: float, rtol: float = 1e-11,
                  atol: float = 1e-13):
    """Endpoint ``theta(T)`` of the gradient flow of ``L`` and its linear response to the loss ``L + eps R``.

    Returns ``(theta(T), e(T))`` with ``e(T) = d theta_eps(T) / d eps`` at ``eps = 0``, where ``theta_eps`` is the
    gradient flow of ``L + eps R`` from the same start. ``e`` solves the variational (tangent) equation
    ``de/dt = -H(theta) e - grad R(theta)``, ``e(0) = 0`` (``H`` the Hessian of ``L``), integrated together with
    the flow. For ``R = ||grad L||^2`` and ``eps = lr/4`` this is the first-order effect of implicit gradient
    regularization: gradient descent ends at ``theta(T) + (lr/4) e(T) + O(lr^2)``.

    >>> with jax.enable_x64(True):                         # L = w^2/2, R = w: e(T) = -(1 - e^{-T})
    ...     w, e = flow_response(lambda w: 0.5 * w**2, lambda w: w, jnp.array(1.0), time=1.0)
    >>> bool(np.isclose(e, -(1 - np.exp(-1.0)), rtol=1e-9))
    True
    """
    grad, grad_r = jax.grad(loss), jax.grad(perturbation)

    def field(state):
        theta, e = state
        g, hess_e = jax.jvp(grad, (theta,), (e,))
        return (jax.tree.map(jnp.negative, g), jax.tree.map(lambda a, b: -a - b, hess_e, grad_r(theta)))

    zero = jax.tree.map(jnp.zeros_like, params)
    (theta, e), _ = integrate(field, (params, zero), time=time, rtol=rtol, atol=atol)
    return theta, e
