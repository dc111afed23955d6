"""Flax NNX networks, and the bridge to pure functions ``apply(params, x)`` for training under jit/vmap/scan.

Conventions: ``depth`` is the number of weight matrices; ``width`` is the number of units of each hidden
layer; weights are stored as (fan_out, fan_in) and act on rows of ``x`` as ``x @ W.T``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from lmtheory import _validate
from lmtheory.theory import activations

PARAMETERIZATIONS = ("standard", "ntk", "meanfield")
# name -> phi in jax.numpy, one entry per activation of the registry (lmtheory.theory.activations)
ACTIVATIONS = {name: activations.jax_phi(name) for name in activations.REGISTRY}


def _layer_dims(in_dim, width, out_dim, depth):
    for name, v in (("in_dim", in_dim), ("width", width), ("out_dim", out_dim), ("depth", depth)):
        _validate.positive(name, v, integer=True)
    return [in_dim] + [width] * (depth - 1) + [out_dim]


def end_to_end(weights):
    """Product ``W_depth ... W_1`` of a list of (fan_out, fan_in) weight matrices: a deep linear network's map.

    >>> end_to_end([jnp.ones((2, 3)), 2 * jnp.ones((1, 2))]).tolist()
    [[4.0, 4.0, 4.0]]
    """
    if not weights:
        raise ValueError("end_to_end needs at least one weight matrix")
    out = weights[0]
    for w in weights[1:]:
        out = w @ out
    return out


class DeepLinear(nnx.Module):
    """``f(x) = W_depth ... W_1 x`` with i.i.d. ``N(0, init_scale^2)`` entries (no fan-in scaling).

    >>> net = DeepLinear(3, 5, 2, depth=2, init_scale=0.1, rngs=nnx.Rngs(0))
    >>> net(jnp.ones((4, 3))).shape
    (4, 2)
    """

    def __init__(self, in_dim: int, width: int, out_dim: int, *, depth: int = 2, init_scale: float,
                 rngs: nnx.Rngs):
        dims = _layer_dims(in_dim, width, out_dim, depth)
        _validate.positive("init_scale", init_scale)
        self.weights = nnx.List([nnx.Param(init_scale * jax.random.normal(rngs.params(), (o, i)))
                                 for i, o in zip(dims[:-1], dims[1:])])

    def __call__(self, x):
        for w in self.weights:
            x = x @ w[...].T
        return x

    def end_to_end(self):
        """The product ``W_depth ... W_1`` (out_dim x in_dim): :func:`end_to_end` of the weights."""
        return end_to_end([w[...] for w in self.weights])


class MLP(nnx.Module):
    """Fully connected network with a named parameterization and an output scale.

    ``standard``: ``W ~ N(0, 1/fan_in)``, ``h = phi(z) @ W.T``. ``ntk``: ``W ~ N(0, 1)``, ``h = phi(z) @ W.T /
    sqrt(fan_in)``. ``meanfield``: as ``ntk`` but the last layer divides by ``fan_in`` instead of its square
    root. The output is multiplied by ``output_scale`` (Chizat-Oyallon-Bach's alpha). Biases are omitted.

    >>> net = MLP(2, 16, 1, depth=2, activation="relu", parameterization="ntk", rngs=nnx.Rngs(0))
    >>> net(jnp.ones((3, 2))).shape
    (3, 1)
    """

    def __init__(self, in_dim: int, width: int, out_dim: int, *, depth: int = 2, activation: str = "relu",
                 parameterization: str = "standard", output_scale: float = 1.0, rngs: nnx.Rngs):
        dims = _layer_dims(in_dim, width, out_dim, depth)
        _validate.one_of("activation", activation, set(ACTIVATIONS))
        _validate.one_of("parameterization", parameterization, set(PARAMETERIZATIONS))
        _validate.positive("output_scale", output_scale)
        self.activation, self.parameterization, self.output_scale = activation, parameterization, output_scale
        std = (lambda fan_in: fan_in**-0.5) if parameterization == "standard" else (lambda fan_in: 1.0)
        # Drawn flat and reshaped: the same numbers as shape (o, i) (threefry counts elements in row-major order),
        # but a 1-d draw compiles to a several times smaller XLA kernel, above all under vmap over seeds.
        self.weights = nnx.List([nnx.Param(std(i) * jax.random.normal(rngs.params(), (o * i,)).reshape(o, i))
                                 for i, o in zip(dims[:-1], dims[1:])])

    def _multiplier(self, layer: int, fan_in: int) -> float:
        if self.parameterization == "standard":
            return 1.0
        last = layer == len(self.weights) - 1
        return fan_in**-1.0 if (last and self.parameterization == "meanfield") else fan_in**-0.5

    def __call__(self, x):
        phi = ACTIVATIONS[self.activation]
        for layer, w in enumerate(self.weights):
            if layer > 0:
                x = phi(x)
            x = self._multiplier(layer, w.shape[1]) * (x @ w[...].T)
        return self.output_scale * x


def functional(model: nnx.Module, method: str = "__call__"):
    """Split an NNX model into ``(apply, params)`` with ``apply(params, *args)`` a pure function.

    ``apply`` rebuilds the model from ``params`` and calls ``method`` on it (default: the forward pass), so
    it can be differentiated, jitted, vmapped and scanned.

    >>> net = DeepLinear(3, 4, 2, init_scale=1.0, rngs=nnx.Rngs(0))
    >>> apply, params = functional(net)
    >>> apply(params, jnp.ones((1, 3))).shape
    (1, 2)
    >>> functional(net, "end_to_end")[0](params).shape
    (2, 3)
    """
    if not callable(getattr(model, method, None)):
        raise ValueError(f"method must name a method of {type(model).__name__}, got {method!r}")
    graphdef, params = nnx.split(model)

    def apply(p, *args):
        return getattr(nnx.merge(graphdef, p), method)(*args)

    return apply, params


def centered_scaled(apply, params0, alpha: float, *, displacement: bool = False):
    """The centered, output-scaled model of Chizat, Oyallon & Bach: ``h(p, x) = alpha (f(p, x) - f(params0, x))``.

    ``apply(params, x)`` is a pure forward pass (see :func:`functional`) and ``params0`` the initialization, so
    ``h(params0, x) = 0`` for every ``x`` whatever ``alpha`` (the paper's assumption ``h(w_0) = 0``). With
    ``displacement=True`` the returned function takes the *displacement* ``d = params - params0`` (a pytree
    like ``params0``) instead: ``h(d, x) = alpha (f(params0 + d, x) - f(params0, x))``, which keeps full
    floating-point precision when the parameters barely move (large ``alpha``). ``alpha`` is dimensionless;
    train it on the loss divided by ``alpha**2`` so that the lazy limit ``alpha -> infinity`` is well defined.
    Reference: L. Chizat, E. Oyallon, F. Bach, arXiv:1812.07956 (2019), Sec. 2.

    >>> net = MLP(2, 8, 1, activation="relu", parameterization="meanfield", rngs=nnx.Rngs(0))
    >>> apply, p0 = functional(net)
    >>> h = centered_scaled(apply, p0, 10.0)
    >>> float(jnp.abs(h(p0, jnp.ones((3, 2)))).max())
    0.0
    >>> p1, x = jax.tree.map(lambda w: 1.1 * w, p0), jnp.ones((1, 2))
    >>> bool(jnp.allclose(h(p1, x), 10 * (apply(p1, x) - apply(p0, x))))
    True
    """
    _validate.positive("alpha", alpha)
    if not callable(apply):
        raise ValueError(f"apply must be a callable apply(params, x), got {apply!r}")

    def h(p, *args):
        full = jax.tree.map(jnp.add, params0, p) if displacement else p
        return alpha * (apply(full, *args) - apply(params0, *args))

    return h


class NormalizedMLP(nnx.Module):
    """A small classifier with one instance of each continuous symmetry of Kunin et al. (2021, arXiv:2012.04728).

    ``f(x) = W3 relu(BN(W2 relu(W1 x + b1))) + b3`` (depth 3), where ``BN`` standardizes every unit over the
    batch with no affine part and no epsilon (``epsilon=0`` keeps the symmetry exact; a positive ``epsilon``, as
    in practice, breaks it). Standard initialization ``N(0, 1/fan_in)``, ``b1 ~ N(0, bias_scale^2)``, ``b3 = 0``.

    * rescale: hidden unit ``j`` of the first layer, ``(W1[j], b1[j]) -> a (W1[j], b1[j])``, ``W2[:, j] -> W2[:, j]/a``;
    * scale: each row ``W2[i] -> a W2[i]`` (the normalization removes it);
    * translation: every row of ``W3`` (and entry of ``b3``) shifted by the same vector (number), for a softmax loss.

    >>> net = NormalizedMLP(3, 4, 2, rngs=nnx.Rngs(0))
    >>> x = jax.random.normal(jax.random.key(1), (5, 3))
    >>> net(x).shape
    (5, 2)
    """

    def __init__(self, in_dim: int, width: int, n_classes: int, *, bias_scale: float = 0.1,
                 epsilon: float = 0.0, rngs: nnx.Rngs):
        _layer_dims(in_dim, width, n_classes, 3)
        _validate.nonnegative("bias_scale", bias_scale)
        _validate.nonnegative("epsilon", epsilon)
        self.epsilon = epsilon
        key = rngs.params
        self.w1 = nnx.Param(jax.random.normal(key(), (width, in_dim)) / jnp.sqrt(in_dim))
        self.b1 = nnx.Param(bias_scale * jax.random.normal(key(), (width,)))
        self.w2 = nnx.Param(jax.random.normal(key(), (width, width)) / jnp.sqrt(width))
        self.w3 = nnx.Param(jax.random.normal(key(), (n_classes, width)) / jnp.sqrt(width))
        self.b3 = nnx.Param(jnp.zeros((n_classes,)))

    def __call__(self, x):
        h = jax.nn.relu(x @ self.w1[...].T + self.b1[...])
        z = h @ self.w2[...].T
        z = (z - z.mean(0)) / jnp.sqrt(z.var(0) + self.epsilon)
        return jax.nn.relu(z) @ self.w3[...].T + self.b3[...]


# --- abc-parameterized MLP as pure functions (Part IV): effective weights, per-layer init and learning-rate scales ---
ABC_PARAMETERIZATIONS = ("standard", "ntk", "mup")


def _abc_dims(in_dim, width, out_dim, depth):
    dims = _layer_dims(in_dim, width, out_dim, depth)
    if depth < 3:
        raise ValueError(f"depth must be >= 3 (input, hidden and output layers), got {depth}")
    return dims


def abc_standard_normals(key, in_dim: int, width: int, out_dim: int, *, depth: int = 3):
    """Standard normal matrices ``[Z_1, ..., Z_depth]`` of the shapes (fan_out, fan_in) of an MLP of width ``width``.

    Drawn flat and reshaped, as in :class:`MLP`. :func:`abc_scale` turns them into the weights of a
    parameterization; :func:`abc_truncate` cuts them down to a narrower network made of the first units.

    >>> [z.shape for z in abc_standard_normals(jax.random.key(0), 4, 16, 1)]
    [(16, 4), (16, 16), (1, 16)]
    """
    dims = _abc_dims(in_dim, width, out_dim, depth)
    keys = jax.random.split(key, depth)
    return [jax.random.normal(k, (o * i,)).reshape(o, i) for k, i, o in zip(keys, dims[:-1], dims[1:])]


def abc_truncate(normals, width: int):
    """The first ``width`` hidden units of :func:`abc_standard_normals` (leading axes, e.g. seeds, are kept).

    Networks cut from the same draws are *nested*: the narrow one is a sub-network of the wide one.

    >>> [z.shape for z in abc_truncate(abc_standard_normals(jax.random.key(0), 4, 16, 1), 8)]
    [(8, 4), (8, 8), (1, 8)]
    """
    _validate.positive("width", width, integer=True)
    if width > normals[0].shape[-2]:
        raise ValueError(f"width must be at most the drawn width {normals[0].shape[-2]}, got {width}")
    last = len(normals) - 1
    return [z[..., : (z.shape[-2] if layer == last else width), : (z.shape[-1] if layer == 0 else width)]
            for layer, z in enumerate(normals)]


def abc_scale(normals, parameterization: str = "standard"):
    """Effective weights ``W_l = sigma_l Z_l`` of a parameterization from standard normal matrices ``Z_l``.

    ``sigma_l^2 = 1/fan_in`` for every layer in ``standard`` and ``ntk`` (the two differ only in their learning rates,
    :func:`abc_lr_scales`), and in ``mup`` the same except the output layer, ``sigma_L^2 = 1/fan_in^2`` (Yang & Hu
    2021, arXiv:2011.14522, Table 3; Yang, Simon & Bernstein 2023, arXiv:2310.17813).

    >>> ws = abc_scale([jnp.ones((4, 2)), jnp.ones((4, 4)), jnp.ones((1, 4))], "mup")
    >>> [round(float(w[0, 0]), 4) for w in ws]
    [0.7071, 0.5, 0.25]
    """
    _validate.one_of("parameterization", parameterization, set(ABC_PARAMETERIZATIONS))
    last = len(normals) - 1
    return [z * z.shape[-1] ** (-1.0 if (parameterization == "mup" and layer == last) else -0.5)
            for layer, z in enumerate(normals)]


def abc_init(key, in_dim: int, width: int, out_dim: int, *, depth: int = 3, parameterization: str = "standard"):
    """Initial *effective* weights ``[W_1, ..., W_depth]`` (each (fan_out, fan_in)) of an abc-parameterized MLP.

    The network is ``h_1 = W_1 x``, ``h_l = W_l phi(h_{l-1})``, ``f = h_depth`` (no biases, no multipliers: the
    multipliers ``n^{-a}`` of Yang & Hu's abc-parameterization are folded into the effective weights):
    :func:`abc_scale` of :func:`abc_standard_normals`. The same ``key`` gives the same underlying draws in every
    parameterization.

    >>> ws = abc_init(jax.random.key(0), 4, 16, 1, parameterization="mup")
    >>> [w.shape for w in ws]
    [(16, 4), (16, 16), (1, 16)]
    """
    _validate.one_of("parameterization", parameterization, set(ABC_PARAMETERIZATIONS))
    return abc_scale(abc_standard_normals(key, in_dim, width, out_dim, depth=depth), parameterization)


def abc_lr_scales(in_dim: int, width: int, out_dim: int, *, depth: int = 3, parameterization: str = "standard"):
    """Per-layer SGD learning-rate multipliers ``s_l`` on the effective weights: ``W_l <- W_l - lr s_l dL/dW_l``.

    ``lr`` is the width-independent base rate.

    * ``standard``: ``s_l = 1`` (one global rate, as in a default PyTorch set-up).
    * ``ntk``: SGD with rate ``lr`` on the NTK parameters ``w_l = sqrt(fan_in) W_l`` is SGD on ``W_l`` with
      ``s_l = 1/fan_in`` (``W = w/sqrt(fan_in)``: the gradient picks up one factor, the update another).
    * ``mup``: ``s_l = fan_out/fan_in`` (muP for SGD; the spectral condition of Yang, Simon & Bernstein 2023,
      arXiv:2310.17813).

    For an entrywise-normalized optimizer (Adam) these are not the multipliers of muP (see Yang & Littwin 2023,
    arXiv:2308.01814); the standard parameterization's ``s_l = 1`` is the same for every optimizer.

    >>> abc_lr_scales(4, 16, 1, parameterization="mup")
    [4.0, 1.0, 0.0625]
    """
    dims = _abc_dims(in_dim, width, out_dim, depth)
    _validate.one_of("parameterization", parameterization, set(ABC_PARAMETERIZATIONS))
    if parameterization == "standard":
        return [1.0] * depth
    if parameterization == "ntk":
        return [1.0 / i for i in dims[:-1]]
    return [float(o) / i for i, o in zip(dims[:-1], dims[1:])]


def abc_preactivations(weights, x, *, activation: str = "tanh"):
    """Pre-activations ``[h_1, ..., h_depth]`` of the MLP of :func:`abc_init` on the rows of ``x``; ``h_depth = f``.

    >>> ws = abc_init(jax.random.key(0), 4, 16, 1)
    >>> [h.shape for h in abc_preactivations(ws, jnp.ones((2, 4)))]
    [(2, 16), (2, 16), (2, 1)]
    """
    _validate.one_of("activation", activation, set(ACTIVATIONS))
    phi, hs = ACTIVATIONS[activation], []
    for layer, w in enumerate(weights):
        x = (phi(x) if layer else x) @ w.T
        hs.append(x)
    return hs


def abc_apply(weights, x, *, activation: str = "tanh"):
    """Output ``f(x)`` of the MLP of :func:`abc_init`: the last of :func:`abc_preactivations`.

    >>> abc_apply(abc_init(jax.random.key(0), 4, 16, 1), jnp.ones((2, 4))).shape
    (2, 1)
    """
    return abc_preactivations(weights, x, activation=activation)[-1]
