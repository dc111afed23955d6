"""Random networks at initialization, one fixed input: squared norms layer by layer, and statistics over draws.

Convention: ``depth`` is the number of weight matrices; every layer (hidden and output) has ``width`` units.

* :func:`layer_norms` draws the **explicit** Gaussian weight matrices of one network and returns
  ``s^l = ||h^l||^2 / width`` for ``l = 1..depth``, for the leaky-ReLU family ``phi(z) = max(z, slope z)``
  (``slope=1``: linear, ``0``: ReLU) at He initialization ``C_W = 2 / (1 + slope^2)``. ``slope`` may be traced, so
  one compiled function serves both activations (``jax.vmap`` over it reuses the same weights).
* :func:`kernel_flow_sample` draws the single-input kernels ``K^l = ||h^l||^2 / width`` of wide networks from their
  exact law with the weights integrated out: since ``W^{l+1}`` is fresh and Gaussian, ``h^{l+1}`` given layer ``l``
  is exactly ``N(0, (C_W/width) ||phi(h^l)||^2 + C_b)`` per unit. ``O(width)`` work per layer instead of
  ``O(width^2)``; the joint law of the pre-activations is unchanged.
* :func:`moment_ratio_estimate` and :func:`variance_slope` turn draws into estimates with jackknife errors.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from lmtheory import _validate
from lmtheory.simulation.models import ACTIVATIONS
from lmtheory.contract.resample import jackknife
from lmtheory.contract.stats import Estimate


def layer_norms(key, *, width: int, depth: int, slope=0.0):
    """``[s^1, ..., s^depth]``, ``s^l = ||h^l||^2 / width``, of one random leaky-ReLU network with explicit weights.

    ``h^1 = W^1 x`` with ``x = (1, ..., 1)`` (``||x||^2 / width = 1``), ``h^{l+1} = W^{l+1} phi(h^l)``, entries of
    ``W^l`` i.i.d. ``N(0, C_W / width)`` with ``C_W = 2/(1 + slope^2)``; no biases. Then ``E[s^l] = C_W``.

    >>> s = layer_norms(jax.random.key(0), width=8, depth=3, slope=1.0)
    >>> s.shape
    (3,)
    """
    _validate.positive("width", width, integer=True)
    _validate.positive("depth", depth, integer=True)
    c_w = 2.0 / (1.0 + slope * slope)

    def step(act, layer):                      # flat draws + fold_in: the same law, much faster to compile
        w = jax.random.normal(jax.random.fold_in(key, layer), (width * width,)).reshape(width, width)
        h = jnp.sqrt(c_w / width) * (w @ act)
        return jnp.maximum(h, slope * h), jnp.mean(h * h)

    _, s = jax.lax.scan(step, jnp.ones(width), jnp.arange(depth))
    return s


def simulate_norms(key, *, width: int, depth: int, n_nets: int, slopes=(1.0, 0.0)):
    """:func:`layer_norms` of ``n_nets`` independent networks for each slope: shape ``(len(slopes), n_nets, depth)``.

    One ``jax.jit(jax.vmap(...))`` call; network ``i`` uses the same weights for every slope.

    >>> simulate_norms(jax.random.key(0), width=4, depth=3, n_nets=5).shape
    (2, 5, 3)
    """
    _validate.positive("n_nets", n_nets, integer=True)
    one = jax.vmap(lambda k, a: layer_norms(k, width=width, depth=depth, slope=a), in_axes=(None, 0))
    s = jax.jit(jax.vmap(one, in_axes=(0, None)))(jax.random.split(key, n_nets), jnp.asarray(slopes, float))
    return np.moveaxis(np.asarray(s), 1, 0)


def kernel_flow_sample(key, *, width: int, depth: int, k1, sigma_w, sigma_b=0.0, activations=("tanh",)):
    """Kernels ``K^l = ||h^l||^2 / width``, ``l = 1..depth``, of random networks on one input: shape (depth, A).

    Column ``a`` is a network with activation ``activations[a]`` and scales ``sigma_w[a]``, ``sigma_b[a]``
    (broadcast); its first layer has conditional variance ``k1`` (set by the input). All columns share the same
    standard-normal draws (common random numbers), so differences between them are measured precisely. Sampled
    from the exact law (module docstring). For one input and one activation this is the law that
    :func:`lmtheory.simulation.ensembles.sample_layer_kernels` samples for ``P`` inputs; this version exists for the common
    random numbers across activations and its ``O(width)`` cost per layer (no Cholesky factor).

    >>> k = kernel_flow_sample(jax.random.key(0), width=64, depth=5, k1=1.0, sigma_w=[1.0, 1.0],
    ...                        activations=("tanh", "sin"))
    >>> k.shape
    (5, 2)
    """
    _validate.positive("width", width, integer=True)
    _validate.positive("depth", depth, integer=True)
    for name in activations:
        _validate.one_of("activation", name, set(ACTIVATIONS))
    n_act = len(activations)
    c_w = jnp.broadcast_to(jnp.asarray(sigma_w, float) ** 2, (n_act,))
    c_b = jnp.broadcast_to(jnp.asarray(sigma_b, float) ** 2, (n_act,))

    def phi(h):
        return jnp.stack([ACTIVATIONS[name](h[a]) for a, name in enumerate(activations)])

    def step(var, layer):
        h = jnp.sqrt(var)[:, None] * jax.random.normal(jax.random.fold_in(key, layer), (width,))
        k_l = jnp.mean(h * h, axis=-1)
        return c_w * jnp.mean(phi(h) ** 2, axis=-1) + c_b, k_l

    var1 = jnp.broadcast_to(jnp.asarray(k1, float), (n_act,))
    _, kernels = jax.lax.scan(step, var1, jnp.arange(depth))
    return kernels


def moment_ratio_estimate(samples, *, axis: int = -1) -> Estimate:
    """``E[s^2] / E[s]^2`` from independent draws of ``s`` along ``axis``, with a jackknife standard error.

    The jackknife (leave one draw out) equals the delta method for a ratio of moments to leading order and
    needs no formula for the covariance of ``(s, s^2)``. Heavy tails make it unreliable once the fourth moment is
    not sampled (``E[s^4] / E[s^2]^2`` comparable to the number of draws).

    >>> est = moment_ratio_estimate(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> round(float(est.value), 6)                                       # 7.5 / 2.5^2
    1.2
    """
    s = np.moveaxis(np.asarray(samples, float), axis, -1)
    value, stderr = jackknife(lambda m: m[..., 1] / m[..., 0] ** 2, np.stack([s, s * s], axis=-2))
    return Estimate(value, stderr, int(s.shape[-1]), "mean")


def variance_slope(depths, samples) -> Estimate:
    """Least-squares slope of ``Var[y]`` against depth, with a jackknife error over the draws.

    ``samples``: shape ``(len(depths), n_draws)``, the same draws (networks) at every depth; the jackknife
    leaves one network out at all depths at once, so correlations between depths are accounted for.

    >>> rng = np.random.default_rng(0)
    >>> y = np.cumsum(rng.normal(size=(6, 4000)), axis=0)             # Var grows by 1 per step
    >>> est = variance_slope(np.arange(1, 7), y)
    >>> abs(float(est.value) - 1) < 4 * float(est.stderr)
    True
    """
    x = np.asarray(_validate.positive_array("depths", depths), float)
    y = np.asarray(samples, float)
    if y.ndim != 2 or y.shape[0] != x.size or x.size < 2:
        raise ValueError(f"samples must have shape (len(depths) >= 2, n_draws), got {y.shape}")
    dx = x - x.mean()

    def slope(m):
        var = m[1] - m[0] ** 2
        return np.sum(dx * (var - var.mean())) / np.sum(dx * dx)

    value, stderr = jackknife(slope, np.stack([y, y * y]))
    return Estimate(value, stderr, int(y.shape[1]), "slope")
