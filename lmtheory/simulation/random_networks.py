"""Random fully connected networks at initialization: three samplers of one network, and their layer statistics.

The network is the one of :mod:`lmtheory.theory.kernels` (NNGP/NTK parameterization; Poole et al. 2016; Lee et al.
2018): ``depth`` is the number of weight matrices, ``widths = (in_dim, n_1, ..., n_depth)`` the layer sizes, and

    ``h^l = sigma_w W^l phi(h^{l-1}) / sqrt(n_{l-1}) + sigma_b b^l``   (``phi(h^0) := x``),

every entry of ``W^l`` and ``b^l`` i.i.d. ``N(0, 1)``; ``phi`` comes from the activation registry
(:mod:`lmtheory.theory.activations`). The same parameters describe the analytic kernels, so a
:class:`lmtheory.theory.kernels.Network` unpacks into both: ``nngp_kernel(x, **net)`` and
``sample_network_outputs(key, x, width=n, **net)``. Every sampler is a pure function of a PRNG ``key``
(``jax.vmap`` over keys draws an ensemble). Three samplers, one law:

* **explicit weights** -- :func:`random_network_preactivations` (any widths; ``jax.jvp`` in ``x`` gives tangents);
  :func:`layer_norms`/:func:`simulate_norms` are its one-input, leaky-ReLU, no-bias case (He scale);
* **weights integrated out, P inputs** -- :func:`sample_layer_kernels`, :func:`sample_network_outputs`: given
  layer ``l`` the rows of ``W^{l+1} phi(h^l)`` are i.i.d. Gaussian with the Gram matrix of ``phi(h^l)`` over the
  ``P`` inputs as covariance, because the weights are Gaussian and fresh in every layer; ``O(width P)`` per layer
  instead of ``O(width^2)``, the joint law of the pre-activations unchanged;
* **one input, O(width)** -- :func:`kernel_flow_sample`: the ``P = 1`` case, with common random numbers across
  activations and no Cholesky factor.

Estimates from the draws use :mod:`lmtheory.contract.stats`: a relaxation rate is ``stats.slope(layers, curves,
log="y", error="jackknife", transform=lambda c: abs(c - limit))``, an excess kurtosis ``stats.moment_ratio(f**2)``
minus 3, a variance ratio ``stats.moment_ratio(s)``. The two estimator names kept here
(:func:`moment_ratio_estimate`, :func:`variance_slope`) are thin deprecated wrappers for the notebook that still
calls them.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from lmtheory import _validate
from lmtheory.contract import stats
from lmtheory.theory import activations as registry


def _phi(name):
    return registry.jax_phi(_validate.one_of("activation", name, set(registry.REGISTRY)))


# ---- explicit weights ----------------------------------------------------------------------------------------

def _check_widths(widths, x, depth):
    widths = tuple(widths)
    if len(widths) < 2:
        raise ValueError(f"widths must list at least (in_dim, out_dim), got {widths!r}")
    for i, n in enumerate(widths):
        _validate.positive(f"widths[{i}]", n, integer=True)
    if x.ndim != 2 or x.shape[1] != widths[0]:
        raise ValueError(f"x must have shape (n_inputs, widths[0]={widths[0]}), got {x.shape}")
    if depth is not None and depth != len(widths) - 1:
        raise ValueError(f"depth={depth!r} must equal len(widths) - 1 = {len(widths) - 1} (weight matrices)")
    return widths


def _dense(key, a, fan_out, sigma_w, sigma_b):
    """One layer ``sigma_w a W^T / sqrt(fan_in) + sigma_b b``; ``W`` and ``b`` from one flat draw (same law, and
    several times faster to compile on CPU than separate or two-dimensional draws)."""
    fan_in = a.shape[-1]
    z = jax.random.normal(key, (fan_out * (fan_in + 1),), a.dtype)
    w, b = z[:-fan_out].reshape(fan_out, fan_in), z[-fan_out:]
    return sigma_w * (a @ w.T) / jnp.sqrt(fan_in).astype(a.dtype) + sigma_b * b


def random_network_preactivations(key, x, widths, *, sigma_w, sigma_b, activation: str = "tanh", depth=None):
    """Pre-activations ``[h^1, ..., h^depth]`` of one random fully connected network on the inputs ``x``.

    Args:
        key: PRNG key; it fixes every weight and bias (layer ``l`` uses ``split(key, depth)[l-1]``).
        x: inputs, shape ``(n_inputs, widths[0])``.
        widths: ``(in_dim, n_1, ..., n_depth)``; ``depth = len(widths) - 1`` weight matrices (``depth=``, if
            given, e.g. from a :class:`lmtheory.theory.kernels.Network`, must agree).
        sigma_w, sigma_b: weight and bias scales (``Var W = sigma_w^2 / fan_in``, ``Var b = sigma_b^2``); may be
            traced, e.g. vmapped over a grid (the same ``key`` then gives the same standard-normal draws).
        activation: a name of the registry :mod:`lmtheory.theory.activations`.

    Returns a list of ``depth`` arrays, ``h^l`` of shape ``(n_inputs, widths[l])``, in the units of ``x``. Runs of
    layers of equal shape are computed with ``lax.scan`` (one compiled layer).

    >>> hs = random_network_preactivations(jax.random.key(0), jnp.ones((3, 4)), (4, 8, 8, 8, 1),
    ...                                    sigma_w=1.5, sigma_b=0.1)
    >>> [h.shape for h in hs]
    [(3, 8), (3, 8), (3, 8), (3, 1)]
    """
    phi = _phi(activation)
    x = jnp.asarray(x)
    widths = _check_widths(widths, x, depth)
    _validate.positive("sigma_w", sigma_w)
    chunks = _forward(jax.random.split(key, len(widths) - 1), x, widths, phi, sigma_w, sigma_b)
    return [h for chunk in chunks for h in chunk]


def _forward(keys, x, widths, phi, sigma_w, sigma_b, readout=lambda h: h):
    """``readout(h^l)`` for every layer, as a list of chunks ``(k, ...)`` of consecutive layers: each run of layers
    with the same ``(fan_in, fan_out)`` is one ``lax.scan`` (one compiled layer), whose carry is ``phi(h)``."""
    chunks, act, layer, n_layers = [], x, 0, len(widths) - 1
    while layer < n_layers:
        shape = widths[layer:layer + 2]
        run = layer + 1
        while run < n_layers and widths[run:run + 2] == shape:
            run += 1

        def step(a, k, fan_out=shape[1]):
            h = _dense(k, a, fan_out, sigma_w, sigma_b)
            return phi(h), readout(h)

        if run - layer >= 2:
            act, out = jax.lax.scan(step, act, keys[layer:run])
        else:
            act, out = step(act, keys[layer])
            out = jax.tree.map(lambda o: o[None], out)
        chunks.append(out)
        layer = run
    return chunks


def layer_norms(key, *, width: int, depth: int, slope=0.0):
    """``[s^1, ..., s^depth]``, ``s^l = ||h^l||^2 / width``, of one random leaky-ReLU network with explicit weights.

    :func:`random_network_preactivations` with ``x = (1, ..., 1)`` (``||x||^2 / width = 1``), every layer of
    ``width`` units, no biases, ``phi(z) = max(z, slope z)`` (``slope=1``: linear, ``0``: ReLU) and He scale
    ``sigma_w^2 = C_W = 2/(1 + slope^2)``, so that ``E[s^l] = C_W``. ``slope`` may be traced, so one compiled
    function serves every activation (``jax.vmap`` over it reuses the same weights). Dimensionless.

    >>> s = layer_norms(jax.random.key(0), width=8, depth=3, slope=1.0)
    >>> s.shape
    (3,)
    """
    _validate.positive("width", width, integer=True)
    _validate.positive("depth", depth, integer=True)
    c_w = 2.0 / (1.0 + slope * slope)
    (s,) = _forward(jax.random.split(key, depth), jnp.ones((1, width)), (width,) * (depth + 1),
                    lambda h: jnp.maximum(h, slope * h), jnp.sqrt(c_w), 0.0, readout=lambda h: jnp.mean(h * h))
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


# ---- weights integrated out: P inputs -------------------------------------------------------------------------

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

    The network of :func:`random_network_preactivations` with ``widths = (in_dim, width, ..., width)``, sampled
    exactly in ``O(width * P)`` per layer (module docstring).

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
    phi = _phi(activation)
    _validate.positive("width", width, integer=True)
    _validate.positive("depth", depth, integer=True)
    x = jnp.asarray(x)
    act, t = _with_tangents(x, tangents)
    step = functools.partial(_kernel_step, n=x.shape[0], t=t, width=width, sigma_w=sigma_w, sigma_b=sigma_b,
                             phi=phi)
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
    ``O(width * P)`` per layer. ``x``: ``(P, in_dim)``. Returns ``(P, n_outputs)``; its covariance over draws
    is :func:`lmtheory.theory.kernels.nngp_kernel` as ``width -> infinity``.

    >>> sample_network_outputs(jax.random.key(0), jnp.ones((3, 2)), width=16, depth=3, sigma_w=1.4,
    ...                        sigma_b=0.1).shape
    (3, 1)
    """
    phi = _phi(activation)
    for name, v in (("width", width), ("depth", depth), ("n_outputs", n_outputs)):
        _validate.positive(name, v, integer=True)
    x = jnp.asarray(x)
    n = x.shape[0]
    keys = jax.random.split(key, depth)
    if depth == 1:
        return _next_layer(keys[0], x, n, n_outputs, sigma_w, sigma_b)
    act = phi(_next_layer(keys[0], x, n, width, sigma_w, sigma_b))
    act, _ = jax.lax.scan(lambda a, k: (phi(_next_layer(k, a, n, width, sigma_w, sigma_b)), None), act,
                          keys[1:-1])
    return _next_layer(keys[-1], act, n, n_outputs, sigma_w, sigma_b)


# ---- one input, O(width) ----------------------------------------------------------------------------------------

def kernel_flow_sample(key, *, width: int, depth: int, k1, sigma_w, sigma_b=0.0, activations=("tanh",)):
    """Kernels ``K^l = ||h^l||^2 / width``, ``l = 1..depth``, of random networks on one input: shape (depth, A).

    Column ``a`` is a network with activation ``activations[a]`` and scales ``sigma_w[a]``, ``sigma_b[a]``
    (broadcast); its first layer has conditional variance ``k1`` (set by the input). Given layer ``l``, ``h^{l+1}``
    is exactly ``N(0, sigma_w^2 ||phi(h^l)||^2 / width + sigma_b^2)`` per unit, so each layer costs ``O(width)``.
    All columns share the same standard-normal draws (common random numbers), so differences between them are
    measured precisely. The ``P = 1`` case of :func:`sample_layer_kernels`; the infinite-width flow is
    :func:`lmtheory.theory.renormalization.kernel_flow`.

    >>> k = kernel_flow_sample(jax.random.key(0), width=64, depth=5, k1=1.0, sigma_w=[1.0, 1.0],
    ...                        activations=("tanh", "sin"))
    >>> k.shape
    (5, 2)
    """
    _validate.positive("width", width, integer=True)
    _validate.positive("depth", depth, integer=True)
    phis = [_phi(name) for name in activations]
    n_act = len(activations)
    c_w = jnp.broadcast_to(jnp.asarray(sigma_w, float) ** 2, (n_act,))
    c_b = jnp.broadcast_to(jnp.asarray(sigma_b, float) ** 2, (n_act,))

    def step(var, layer):
        h = jnp.sqrt(var)[:, None] * jax.random.normal(jax.random.fold_in(key, layer), (width,))
        act = jnp.stack([phi(h[a]) for a, phi in enumerate(phis)])
        return c_w * jnp.mean(act**2, axis=-1) + c_b, jnp.mean(h * h, axis=-1)

    var1 = jnp.broadcast_to(jnp.asarray(k1, float), (n_act,))
    _, kernels = jax.lax.scan(step, var1, jnp.arange(depth))
    return kernels


# ---- deprecated estimator names (use lmtheory.contract.stats) --------------------------------------------------

def moment_ratio_estimate(samples, *, axis: int = -1):
    """Deprecated: ``stats.moment_ratio(samples, axis)``, ``E[s^2] / E[s]^2`` over independent draws.

    >>> round(float(moment_ratio_estimate(np.array([1.0, 2.0, 3.0, 4.0])).value), 6)      # 7.5 / 2.5^2
    1.2
    """
    return stats.moment_ratio(samples, axis=axis)


def variance_slope(depths, samples):
    """Deprecated: slope of ``Var[y]`` against depth, ``stats.slope`` of the squared deviations, jackknife error.

    ``samples``: ``(len(depths), n_draws)``, the same draws (networks) at every depth. The seed mean of
    ``(y - mean y)^2`` is the variance curve, so ``stats.slope(depths, (y - mean y)^2, log=False,
    error="jackknife")`` fits it and leaves one network out at all depths at once (correlations between depths
    are accounted for; ``n_draws - 1`` dof).

    >>> y = np.cumsum(np.random.default_rng(0).normal(size=(6, 4000)), axis=0)     # Var grows by 1 per step
    >>> est = variance_slope(np.arange(1, 7), y)
    >>> bool(abs(float(est.value) - 1) < 4 * float(est.stderr))
    True
    """
    x = np.asarray(_validate.positive_array("depths", depths), float)
    y = np.asarray(samples, float)
    if y.ndim != 2 or y.shape[0] != x.size or x.size < 2 or y.shape[1] < 3:
        raise ValueError(f"samples must have shape (len(depths) >= 2, n_draws >= 3), got {y.shape}")
    return stats.slope(x, ((y - y.mean(1, keepdims=True)) ** 2).T, log=False, error="jackknife")


def sample_input_kernels(key, xs, *, width: int, depth: int, sigma_w, sigma_b, activations=("tanh",)):
    """Layer kernels of a few inputs in random networks of several settings: shape ``(depth, A, P, P)``.

    Setting ``a`` is the network of :func:`sample_layer_kernels` with activation ``activations[a]``, scales
    ``sigma_w[a]``, ``sigma_b[a]`` and inputs ``xs[a]`` (``xs``: ``(A, P, in_dim)``), sampled from the same exact
    law, but with an unrolled Cholesky factor of the small ``P x P`` Gram matrix (fast to compile) and common
    random numbers across settings (one ``(P, width)`` normal draw per layer). For ``P <= 4`` inputs.

    >>> k = sample_input_kernels(jax.random.key(0), jnp.ones((2, 3, 2)), width=16, depth=4, sigma_w=[1.0, 1.4],
    ...                          sigma_b=[0.1, 0.0], activations=("tanh", "relu"))
    >>> k.shape
    (4, 2, 3, 3)
    """
    _validate.positive("width", width, integer=True)
    _validate.positive("depth", depth, integer=True)
    xs = jnp.asarray(xs)
    if xs.ndim != 3 or len(activations) != xs.shape[0] or xs.shape[1] > 4:
        raise ValueError(f"xs must have shape (len(activations), P <= 4, in_dim), got {xs.shape}")
    (n_set, p, _), phis = xs.shape, [_phi(name) for name in activations]
    c_w = jnp.broadcast_to(jnp.asarray(sigma_w, xs.dtype) ** 2, (n_set,))
    c_b = jnp.broadcast_to(jnp.asarray(sigma_b, xs.dtype) ** 2, (n_set,))

    def step(acts, layer):
        z = jax.random.normal(jax.random.fold_in(key, layer), (p, width), xs.dtype)
        new, kern = [], []
        for a in range(n_set):
            g = c_w[a] * acts[a] @ acts[a].T / acts[a].shape[-1] + c_b[a]
            low = [[None] * p for _ in range(p)]
            for j in range(p):
                d = g[j, j] - sum(low[j][k] ** 2 for k in range(j))
                ok = d > 1e-6 * g[j, j]                  # below: a rounding-level pivot, set to 0 (PSD case)
                low[j][j] = jnp.where(ok, jnp.sqrt(jnp.where(ok, d, 1.0)), 0.0)
                for i in range(j + 1, p):
                    low[i][j] = jnp.where(ok, (g[i, j] - sum(low[i][k] * low[j][k] for k in range(j)))
                                          / jnp.where(ok, low[j][j], 1.0), 0.0)
            h = jnp.stack([sum(low[i][j] * z[j] for j in range(i + 1)) for i in range(p)])
            new.append(phis[a](h))
            kern.append(h @ h.T / width)
        return jnp.stack(new), jnp.stack(kern)

    acts, first = step(xs, 0)
    return jnp.concatenate([first[None], jax.lax.scan(step, acts, jnp.arange(1, depth))[1]])
