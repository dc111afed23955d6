"""Ensembles of random networks at initialization: forward passes in pure ``jax.numpy`` and layer statistics.

Convention (as in :mod:`lmtheory.simulation.models`): ``depth`` is the number of weight matrices; ``widths`` lists the layer
sizes ``(in_dim, n_1, ..., n_depth)``. Layer ``l`` computes the pre-activation
``h^l = sigma_w / sqrt(n_{l-1}) * W^l phi(h^{l-1}) + sigma_b * b^l`` (with ``phi(h^0) := x``), where every entry
of ``W^l`` and ``b^l`` is an independent standard normal: weights of variance ``sigma_w^2 / fan_in`` and biases of
variance ``sigma_b^2``, the set-up of Poole et al. (2016) and of the NNGP (Neal 1996; Lee et al. 2018).
The whole network is a pure function of a PRNG ``key``, so ``jax.vmap`` over keys draws an ensemble, and
``jax.jvp`` with respect to ``x`` propagates an infinitesimal input perturbation alongside.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from lmtheory import _validate
from lmtheory.simulation.models import ACTIVATIONS
from lmtheory.contract.resample import jackknife
from lmtheory.contract.stats import Estimate


def _check_widths(widths, x):
    widths = tuple(widths)
    if len(widths) < 2:
        raise ValueError(f"widths must list at least (in_dim, out_dim), got {widths!r}")
    for i, n in enumerate(widths):
        _validate.positive(f"widths[{i}]", n, integer=True)
    if x.ndim != 2 or x.shape[1] != widths[0]:
        raise ValueError(f"x must have shape (n_inputs, widths[0]={widths[0]}), got {x.shape}")
    return widths


def _layer(key, a, fan_out, sigma_w, sigma_b):
    k_w, k_b = jax.random.split(key)
    w = jax.random.normal(k_w, (fan_out, a.shape[-1]), a.dtype)
    b = jax.random.normal(k_b, (fan_out,), a.dtype)
    return sigma_w * (a @ w.T) / jnp.sqrt(a.shape[-1]).astype(a.dtype) + sigma_b * b


def random_network_preactivations(key, x, widths, *, sigma_w, sigma_b, activation: str = "tanh"):
    """Pre-activations ``[h^1, ..., h^depth]`` of one random fully connected network on the inputs ``x``.

    Args:
        key: PRNG key; it fixes every weight and bias (layer ``l`` uses ``split(key, depth)[l-1]``).
        x: inputs, shape ``(n_inputs, widths[0])``.
        widths: ``(in_dim, n_1, ..., n_depth)``; ``depth = len(widths) - 1`` weight matrices.
        sigma_w, sigma_b: weight and bias scales (``Var W = sigma_w^2 / fan_in``, ``Var b = sigma_b^2``); may be
            traced, e.g. vmapped over a grid (the same ``key`` then gives the same standard-normal draws).
        activation: a name from :data:`lmtheory.simulation.models.ACTIVATIONS`.

    Returns a list of ``depth`` arrays, ``h^l`` of shape ``(n_inputs, widths[l])``. Runs of equal hidden widths
    are computed with ``lax.scan`` (one compiled layer).

    >>> hs = random_network_preactivations(jax.random.key(0), jnp.ones((3, 4)), (4, 8, 8, 8, 1),
    ...                                    sigma_w=1.5, sigma_b=0.1)
    >>> [h.shape for h in hs]
    [(3, 8), (3, 8), (3, 8), (3, 1)]
    """
    _validate.one_of("activation", activation, set(ACTIVATIONS))
    x = jnp.asarray(x)
    widths = _check_widths(widths, x)
    _validate.positive("sigma_w", sigma_w)
    return _forward(jax.random.split(key, len(widths) - 1), x, widths, ACTIVATIONS[activation], sigma_w, sigma_b)


def _forward(keys, x, widths, phi, sigma_w, sigma_b):
    """The layers of :func:`random_network_preactivations`; runs of >= 2 square layers go through ``lax.scan``."""
    out = [_layer(keys[0], x, widths[1], sigma_w, sigma_b)]
    layer = 1
    while layer < len(widths) - 1:
        run = layer
        while run < len(widths) - 1 and widths[run + 1] == widths[run] == widths[layer]:
            run += 1
        if run - layer >= 2:

            def step(h, k):
                h = _layer(k, phi(h), h.shape[-1], sigma_w, sigma_b)
                return h, h

            _, hs = jax.lax.scan(step, out[-1], keys[layer:run])
            out += list(hs)
            layer = run
        else:
            out.append(_layer(keys[layer], phi(out[-1]), widths[layer + 1], sigma_w, sigma_b))
            layer += 1
    return out


def layer_kernels(preactivations):
    """Empirical kernels ``K^l_ab = (1/n_l) sum_i h^l_i(x_a) h^l_i(x_b)``, stacked: shape ``(depth, P, P)``.

    The diagonal is the measured variance ``q^l`` of each input, ``K_ab / sqrt(K_aa K_bb)`` the correlation
    ``c^l_ab``. Needs equal widths of the layers passed in.

    >>> h = [jnp.array([[1.0, -1.0], [1.0, 1.0]])]
    >>> layer_kernels(h)[0].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    if not preactivations:
        raise ValueError("preactivations must be a non-empty list of (n_inputs, width) arrays")
    h = jnp.stack(list(preactivations))
    return jnp.einsum("lai,lbi->lab", h, h) / h.shape[-1]


def correlations(kernels):
    """Correlation coefficients ``K_ab / sqrt(K_aa K_bb)`` of a stack of kernels ``(..., P, P)``.

    >>> correlations(jnp.array([[4.0, 2.0], [2.0, 1.0]])).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    d = jnp.sqrt(jnp.diagonal(kernels, axis1=-2, axis2=-1))
    return kernels / (d[..., :, None] * d[..., None, :])


def decay_rate(layers, curves, *, limit=0.0):
    """Rate of exponential approach of an ensemble-mean curve to ``limit``: slope of ``ln|mean - limit|`` vs layer.

    ``curves``: shape ``(n_seeds, len(layers))``, one measured curve per independent network. The slope is an
    ordinary least-squares fit to the seed mean (``-1/xi`` for ``|c^l - c*| ~ e^{-l/xi}``); its standard error is
    the jackknife over seeds (refit with each seed left out), which accounts for the correlations between layers.
    Returns an :class:`lmtheory.Estimate` of kind ``"slope"``.

    >>> l = np.arange(10.0)
    >>> est = decay_rate(l, 1 + np.exp(-l / 4) * np.array([[1.0], [1.1], [0.9]]), limit=1.0)
    >>> round(float(est.value), 6), float(est.stderr) < 1e-6
    (-0.25, True)
    """
    x = np.asarray(layers, float)
    y = np.asarray(curves, float)
    if y.ndim != 2 or y.shape[1] != x.size or y.shape[0] < 3 or x.size < 3:
        raise ValueError(f"curves must have shape (n_seeds >= 3, len(layers) >= 3), got {y.shape} for "
                         f"{x.size} layers")
    dx = x - x.mean()

    def slope(mean_curve):
        dev = np.abs(mean_curve - limit)
        if np.any(dev <= 0):
            raise ValueError("the mean curve touches the limit inside the window; shorten the window")
        return np.log(dev) @ dx / np.sum(dx**2)

    value, stderr = jackknife(slope, y, axis=0)
    return Estimate(value, stderr, y.shape[0], "slope")


def _psd_factor(g):
    """Lower-triangular ``L`` with ``L L^T = g`` for a positive semi-definite ``g`` (zero pivots give zero columns).

    A plain column-by-column Cholesky in ``jax.numpy``: no LAPACK call, so it cannot meet the CPU deadlock that
    jax 0.10 shows when several LAPACK calls run concurrently inside one compiled function.
    """
    n = g.shape[-1]
    rows = jnp.arange(n)

    def column(j, low):
        d = g[j, j] - jnp.sum(low[j] ** 2)
        pivot = jnp.sqrt(jnp.maximum(d, 0.0))
        col = (g[:, j] - low @ low[j]) / jnp.where(pivot > 0, pivot, 1.0)
        col = jnp.where((rows > j) & (pivot > 0), col, 0.0).at[j].set(pivot)
        return low.at[:, j].set(col)

    return jax.lax.fori_loop(0, n, column, jnp.zeros_like(g))


def _next_layer(key, act, n_inputs, width, sigma_w, sigma_b):
    """Rows of ``W act`` for a fresh Gaussian ``W``, sampled from their exact law (Gram matrix of ``act``)."""
    gram = sigma_w**2 * act @ act.T / act.shape[-1]
    gram = gram.at[:n_inputs, :n_inputs].add(sigma_b**2)
    z = jax.random.normal(key, (width, act.shape[0]), act.dtype)
    return (z @ _psd_factor(gram).T).T


def sample_layer_kernels(key, x, *, width: int, depth: int, sigma_w, sigma_b, activation: str = "tanh",
                         tangents=None):
    """Layer kernels of one random network of equal hidden widths, sampled with the weights integrated out.

    Same network as :func:`random_network_preactivations` with ``widths = (in_dim, width, ..., width)``, but
    sampled exactly in ``O(width * P)`` per layer instead of ``O(width^2)``: given layer ``l``, each row ``i`` of
    ``W^{l+1} phi(h^l)`` is Gaussian with covariance ``phi(h^l)^T phi(h^l)`` over the ``P`` inputs, independently
    across ``i``, because the weights are Gaussian and fresh in every layer. The joint law of all pre-activations
    on the inputs is unchanged; only the weights are never stored.

    Args:
        x: inputs ``(P, in_dim)``. ``tangents``: optional ``(T, in_dim)`` perturbations ``v_a`` of the first ``T``
            inputs; each is propagated linearly (``delta h^{l+1} = W (phi'(h^l) * delta h^l)``, sampled jointly).
    Returns ``kernels`` of shape ``(depth, P, P)``: ``K^l_ab = h^l(x_a) . h^l(x_b) / width``; with ``tangents``
    also ``log_growth`` ``(depth, T)``: ``ln`` of the mean square of ``delta h^l`` divided by that of
    ``delta h^{l-1}`` (``delta h^0 = v``), i.e. the per-layer growth of ``||delta h||^2`` (the tangents are
    renormalized every layer, so any depth is safe in float32).

    >>> k = sample_layer_kernels(jax.random.key(0), jnp.ones((2, 3)), width=64, depth=5, sigma_w=1.2, sigma_b=0.1)
    >>> k.shape
    (5, 2, 2)
    """
    _validate.one_of("activation", activation, set(ACTIVATIONS))
    _validate.positive("width", width, integer=True)
    _validate.positive("depth", depth, integer=True)
    x = jnp.asarray(x)
    act, t = _with_tangents(x, tangents)
    step = functools.partial(_kernel_step, n=x.shape[0], t=t, width=width, sigma_w=sigma_w, sigma_b=sigma_b,
                             phi=ACTIVATIONS[activation])
    keys = jax.random.split(key, depth)
    act, first = step(act, keys[0])                     # layer 1 reads the inputs (fan-in in_dim)
    _, rest = jax.lax.scan(step, act, keys[1:])
    return jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), first, rest)


def _with_tangents(x, tangents):
    """Rows fed to the first layer: the inputs, then the tangents scaled to unit mean square; and ``T`` (or None)."""
    if tangents is None:
        return x, None
    v = jnp.asarray(tangents, x.dtype)
    if v.ndim != 2 or v.shape[1] != x.shape[1] or v.shape[0] > x.shape[0]:
        raise ValueError(f"tangents must have shape (T <= {x.shape[0]}, {x.shape[1]}), got {v.shape}")
    return jnp.concatenate([x, v / jnp.sqrt(jnp.mean(v**2, -1, keepdims=True))]), v.shape[0]


def _kernel_step(act, key, *, n, t, width, sigma_w, sigma_b, phi):
    """One sampled layer: the kernel of the ``n`` inputs and, with ``t`` tangents, their log growth."""
    h = _next_layer(key, act, n, width, sigma_w, sigma_b)
    kern = h[:n] @ h[:n].T / width
    if t is None:
        return phi(h), kern
    ms = jnp.mean(h[n:] ** 2, -1, keepdims=True)
    dfh = jax.jvp(phi, (h[:t],), (h[n:] / jnp.sqrt(ms),))[1]          # phi'(h_a) * delta h_a, unit scale
    return jnp.concatenate([phi(h[:n]), dfh]), (kern, jnp.log(ms[:, 0]))


def sample_network_outputs(key, x, *, width: int, depth: int, sigma_w, sigma_b, activation: str = "relu",
                           n_outputs: int = 1):
    """Outputs ``h^depth`` of one random network, sampled layer by layer with the weights integrated out.

    The network of :func:`random_network_preactivations` with ``widths = (in_dim, width, ..., width, n_outputs)``
    (``depth - 1`` hidden layers), sampled exactly as in :func:`sample_layer_kernels` at a cost of
    ``O(width * P)`` per layer. ``x``: ``(P, in_dim)``. Returns ``(P, n_outputs)``.

    >>> sample_network_outputs(jax.random.key(0), jnp.ones((3, 2)), width=16, depth=3, sigma_w=1.4,
    ...                        sigma_b=0.1).shape
    (3, 1)
    """
    _validate.one_of("activation", activation, set(ACTIVATIONS))
    for name, v in (("width", width), ("depth", depth), ("n_outputs", n_outputs)):
        _validate.positive(name, v, integer=True)
    x = jnp.asarray(x)
    n, phi = x.shape[0], ACTIVATIONS[activation]
    keys = jax.random.split(key, depth)
    if depth == 1:
        return _next_layer(keys[0], x, n, n_outputs, sigma_w, sigma_b)
    act = phi(_next_layer(keys[0], x, n, width, sigma_w, sigma_b))
    act, _ = jax.lax.scan(lambda a, k: (phi(_next_layer(k, a, n, width, sigma_w, sigma_b)), None), act,
                          keys[1:-1])
    return _next_layer(keys[-1], act, n, n_outputs, sigma_w, sigma_b)


def excess_kurtosis(samples, axis: int = 0):
    """Excess kurtosis ``m4 / m2^2 - 3`` of a zero-mean quantity from its raw moments, with a delta-method SE.

    For outputs of random networks, whose ensemble mean is exactly zero by symmetry (``W -> -W``), moments are
    taken about zero. The standard error linearizes the ratio: ``SE = std(x^4/m2^2 - 2 m4 x^2/m2^3) / sqrt(M)``
    over the ``M`` samples along ``axis``. Returns an :class:`lmtheory.Estimate`; 0 for a Gaussian.

    >>> x = np.random.default_rng(0).standard_normal(200_000)
    >>> est = excess_kurtosis(x)
    >>> bool(abs(est.value) < 4 * est.stderr), round(float(est.stderr), 3)
    (True, 0.011)
    """
    x = np.moveaxis(np.asarray(samples, dtype=float), axis, 0)
    if x.shape[0] < 10:
        raise ValueError(f"excess_kurtosis needs at least 10 samples along axis {axis}, got {x.shape[0]}")
    m2, m4 = np.mean(x**2, 0), np.mean(x**4, 0)
    influence = x**4 / m2**2 - 2 * m4 * x**2 / m2**3
    return Estimate(m4 / m2**2 - 3.0, influence.std(0, ddof=1) / np.sqrt(x.shape[0]), x.shape[0], "mean")
