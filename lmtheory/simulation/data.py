"""Synthetic tasks. Every generator takes an explicit PRNG ``key`` and returns plain arrays."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from lmtheory import _validate


class LinearTask(NamedTuple):
    """A linear regression task ``y = M x`` with ``M = left @ diag(strengths) @ right.T``.

    ``x``: (n_samples, in_dim); ``y``: (n_samples, out_dim); ``left``: (out_dim, k) and ``right``: (in_dim, k)
    have orthonormal columns (the singular vectors of ``Sigma_yx``); ``strengths``: (k,) singular values.
    """

    x: jax.Array
    y: jax.Array
    left: jax.Array
    right: jax.Array
    strengths: jax.Array


@jax.jit
def orthonormalize(z: jax.Array) -> jax.Array:
    """The ``Q`` of the QR factorization ``z = Q R`` with ``diag(R) > 0`` (``z``: (n, k), full column rank).

    Computed by classical Gram-Schmidt applied twice per column ("CGS2", orthogonal to working precision),
    using matrix products only. It deliberately avoids LAPACK's QR: on jaxlib 0.10's CPU backend a jitted
    program holding several LAPACK calls (e.g. two batched QRs under ``vmap``) can deadlock on few cores.
    Jitted, so that eager calls compile once per shape (not once per call).

    >>> z = jax.random.normal(jax.random.key(0), (5, 3))
    >>> q = orthonormalize(z)
    >>> bool(jnp.allclose(q.T @ q, jnp.eye(3), atol=1e-5)), bool(jnp.all(jnp.diag(q.T @ z) > 0))
    (True, True)
    """
    n, k = z.shape
    if k > n:
        raise ValueError(f"orthonormalize needs at most as many columns as rows, got shape {z.shape}")

    def add_column(j, q):
        v = z[:, j]
        v = v - q @ (q.T @ v)                        # columns >= j of q are still zero: only earlier ones act
        v = v - q @ (q.T @ v)                        # second pass removes the rounding error of the first
        return q.at[:, j].set(v / jnp.linalg.norm(v))

    return jax.lax.fori_loop(0, k, add_column, jnp.zeros_like(z))


def random_orthogonal(key, n: int, k: int | None = None) -> jax.Array:
    """An ``n x k`` matrix with orthonormal columns, Haar-distributed (Gram-Schmidt of a Gaussian matrix).

    >>> q = random_orthogonal(jax.random.key(0), 4)
    >>> bool(jnp.allclose(q.T @ q, jnp.eye(4), atol=1e-5))
    True
    """
    _validate.positive("n", n, integer=True)
    k = n if k is None else _validate.positive("k", k, integer=True)
    if k > n:
        raise ValueError(f"k must be <= n, got k={k}, n={n}")
    return orthonormalize(jax.random.normal(key, (n, k)))


def whitened_inputs(key, n_samples: int, dim: int) -> jax.Array:
    """``n_samples x dim`` inputs with *exactly* white second moment: ``x.T @ x / n_samples = I``.

    >>> x = whitened_inputs(jax.random.key(1), 10, 3)
    >>> bool(jnp.allclose(x.T @ x / 10, jnp.eye(3), atol=1e-5))
    True
    """
    _validate.positive("n_samples", n_samples, integer=True)
    _validate.positive("dim", dim, integer=True)
    if n_samples < dim:
        raise ValueError(f"whitening needs n_samples >= dim, got n_samples={n_samples}, dim={dim}")
    return jnp.sqrt(n_samples) * random_orthogonal(key, n_samples, dim)


def linear_teacher_task(key, *, in_dim: int, out_dim: int, strengths, n_samples: int,
                        input_variances=None) -> LinearTask:
    """Whitened inputs and targets ``y = M x`` whose input-output correlation has singular values ``strengths``.

    Because ``x.T x / P = I`` exactly, ``Sigma_yx = y.T x / P = M``, whose SVD is known by construction.
    With ``input_variances`` (``in_dim`` positive numbers) the inputs are *not* white: ``Sigma_xx = R diag(c)
    R^T`` exactly, for a random rotation ``R``; then ``Sigma_yx = M Sigma_xx`` and ``left``, ``right``,
    ``strengths`` still describe the teacher ``M`` (the map the network must end up computing).

    >>> task = linear_teacher_task(jax.random.key(0), in_dim=4, out_dim=3, strengths=[2.0, 1.0], n_samples=8)
    >>> sigma_yx = task.y.T @ task.x / 8
    >>> bool(jnp.allclose(task.left.T @ sigma_yx @ task.right, jnp.diag(jnp.array([2.0, 1.0])), atol=1e-5))
    True
    """
    s = jnp.asarray(_validate.positive_array("strengths", strengths))
    k = s.shape[0]
    if k > min(in_dim, out_dim):
        raise ValueError(f"at most min(in_dim, out_dim) = {min(in_dim, out_dim)} strengths, got {k}")
    k_x, k_u, k_v, k_r = jax.random.split(key, 4)
    x = whitened_inputs(k_x, n_samples, in_dim)
    if input_variances is not None:
        c = jnp.asarray(_validate.positive_array("input_variances", input_variances))
        if c.shape != (in_dim,):
            raise ValueError(f"input_variances must have shape ({in_dim},), got {c.shape}")
        rot = random_orthogonal(k_r, in_dim)
        x = x @ (rot * jnp.sqrt(c)) @ rot.T
    left, right = random_orthogonal(k_u, out_dim, k), random_orthogonal(k_v, in_dim, k)
    y = x @ (right * s) @ left.T
    return LinearTask(x, y, left, right, s)


def ranks_above(strengths) -> np.ndarray:
    """For each strength, how many strengths are strictly larger (0 for the strongest mode).

    >>> ranks_above([1.0, 3.0, 2.0]).tolist()
    [2, 0, 1]
    """
    s = np.asarray(strengths, float)
    return (s[None, :] > s[:, None]).sum(axis=1)


class ReluTeacherTask(NamedTuple):
    """A regression task ``y = sum_j a_j ReLU(w_j . x)`` from a one-hidden-layer ReLU teacher (no biases).

    ``x``: (n_samples, in_dim) standard Gaussian inputs; ``y``: (n_samples, 1); ``directions``: (n_teacher,
    in_dim) unit vectors ``w_j``; ``output_weights``: (n_teacher,) ``a_j``.
    """

    x: jax.Array
    y: jax.Array
    directions: jax.Array
    output_weights: jax.Array


def relu_teacher_task(key, *, n_samples: int, n_teacher: int, in_dim: int, directions=None,
                      output_weights=None) -> ReluTeacherTask:
    """Gaussian inputs ``x ~ N(0, I)`` labelled by a ReLU teacher ``y = sum_j a_j ReLU(w_j . x)``.

    ``directions`` (``n_teacher x in_dim``; rows are normalized to unit length) default to independent uniform
    directions on the sphere; ``output_weights`` default to ``a_j = 1``. A teacher of the kind used by Chizat,
    Oyallon & Bach (arXiv:1812.07956) for two-layer networks; used by the chapter on lazy and rich training.

    >>> task = relu_teacher_task(jax.random.key(0), n_samples=5, n_teacher=3, in_dim=2)
    >>> task.x.shape, task.y.shape, task.directions.shape
    ((5, 2), (5, 1), (3, 2))
    >>> bool(jnp.allclose(jnp.linalg.norm(task.directions, axis=1), 1.0, atol=1e-6))
    True
    """
    for name, v in (("n_samples", n_samples), ("n_teacher", n_teacher), ("in_dim", in_dim)):
        _validate.positive(name, v, integer=True)
    k_dir, k_x = jax.random.split(key)
    w = jax.random.normal(k_dir, (n_teacher, in_dim)) if directions is None else jnp.asarray(directions, float)
    if w.shape != (n_teacher, in_dim):
        raise ValueError(f"directions must have shape ({n_teacher}, {in_dim}), got {w.shape}")
    w = w / jnp.linalg.norm(w, axis=1, keepdims=True)
    a = jnp.ones(n_teacher) if output_weights is None else jnp.asarray(output_weights, float)
    if a.shape != (n_teacher,):
        raise ValueError(f"output_weights must have shape ({n_teacher},), got {a.shape}")
    x = jax.random.normal(k_x, (n_samples, in_dim))
    y = jax.nn.relu(x @ w.T) @ a
    return ReluTeacherTask(x, y[:, None], w, a)


def linear_regression_sampler(teacher, *, batch: int, noise: float, spectrum=None, inputs: str = "gaussian"):
    """A sampler ``key -> (x, y)`` of fresh minibatches for online least squares: ``y = x . teacher + eps``.

    ``x``: (batch, d) with ``E[x x^T] = diag(spectrum)`` (identity by default); ``y``: (batch,), ``eps ~ N(0,
    noise^2)``. ``inputs="gaussian"``: ``x ~ N(0, H)``. ``inputs="scale-mixture"``: ``x = sqrt(rho) H^{1/2} z``
    with ``rho ~ Exponential(1)`` per sample -- same covariance, but fourth moments twice the Gaussian ones
    (``E rho^2 = 2``), heavier tails. Used with :func:`lmtheory.simulation.train.stochastic_train` (chapter sgd-temperature).

    >>> sample = linear_regression_sampler(jnp.ones(3), batch=4, noise=0.0)
    >>> x, y = sample(jax.random.key(0))
    >>> x.shape, y.shape, bool(jnp.allclose(y, x.sum(1)))
    ((4, 3), (4,), True)
    """
    _validate.positive("batch", batch, integer=True)
    _validate.nonnegative("noise", noise)
    _validate.one_of("inputs", inputs, {"gaussian", "scale-mixture"})
    w = jnp.asarray(teacher)
    if w.ndim != 1:
        raise ValueError(f"teacher must be a 1-D weight vector, got shape {w.shape}")
    std = jnp.ones_like(w) if spectrum is None else jnp.sqrt(jnp.asarray(_validate.positive_array(
        "spectrum", spectrum)))
    if std.shape != w.shape:
        raise ValueError(f"spectrum must have shape {w.shape}, got {std.shape}")

    def sample(key):
        k_x, k_eps, k_rho = jax.random.split(key, 3)
        x = jax.random.normal(k_x, (batch, w.shape[0])) * std
        if inputs == "scale-mixture":
            x = x * jnp.sqrt(jax.random.exponential(k_rho, (batch, 1)))
        return x, x @ w + noise * jax.random.normal(k_eps, (batch,))

    return sample


def random_sphere(key, dim: int, radius: float = 1.0) -> jax.Array:
    """A vector drawn uniformly from the sphere of the given ``radius`` in ``R^dim``.

    >>> v = random_sphere(jax.random.key(0), 5, radius=2.0)
    >>> v.shape, round(float(jnp.linalg.norm(v)), 5)
    ((5,), 2.0)
    """
    _validate.positive("dim", dim, integer=True)
    _validate.positive("radius", radius)
    v = jax.random.normal(key, (dim,))
    return radius * v / jnp.linalg.norm(v)


class RegressionData(NamedTuple):
    """Training data ``y = x @ beta + eps`` of a linear model: ``x`` (n, p), ``y`` (n,), ``beta`` (p,)."""

    x: jax.Array
    y: jax.Array
    beta: jax.Array


def gaussian_regression(key, *, n_samples: int, dim: int, signal: float, noise: float,
                        variances=None) -> RegressionData:
    """Gaussian design ``x ~ N(0, diag(variances))``, a teacher ``beta`` uniform on the sphere ``||beta|| = signal``,
    and labels ``y = x . beta + eps``, ``eps ~ N(0, noise^2)`` (Hastie et al. 2022, arXiv:1903.08560, Sec. 2).

    >>> data = gaussian_regression(jax.random.key(0), n_samples=6, dim=3, signal=1.0, noise=0.0)
    >>> data.x.shape, data.y.shape, bool(jnp.allclose(data.y, data.x @ data.beta, atol=1e-6))
    ((6, 3), (6,), True)
    """
    return nested_regressions(key, n_samples=n_samples, dims=(dim,), signal=signal, noise=noise,
                              variances=variances)[0]


def nested_regressions(key, *, n_samples: int, dims, signal: float, noise: float, variances=None):
    """One :func:`gaussian_regression` task per entry of ``dims``, all built from one draw of randomness.

    Task ``p`` uses the first ``p`` columns of one ``n_samples x max(dims)`` Gaussian design (column ``j`` has
    variance ``variances[j]``, default 1), the first ``p`` coordinates of one Gaussian vector rescaled to norm
    ``signal`` as its teacher, and the same label-noise vector. Each task has exactly the distribution of
    :func:`gaussian_regression`; only their correlations differ. Drawing the random numbers once (one
    compilation) makes a sweep over ``p`` cheap. Returns a tuple of :class:`RegressionData`.

    >>> tasks = nested_regressions(jax.random.key(0), n_samples=5, dims=(2, 4), signal=2.0, noise=0.1)
    >>> [t.x.shape for t in tasks], bool(jnp.allclose(tasks[0].x, tasks[1].x[:, :2]))
    ([(5, 2), (5, 4)], True)
    """
    _validate.positive("n_samples", n_samples, integer=True)
    dims = tuple(_validate.positive("dims", int(p), integer=True) for p in np.atleast_1d(dims))
    _validate.positive("signal", signal)
    _validate.nonnegative("noise", noise)
    k_b, k_x, k_e = jax.random.split(key, 3)
    top = max(dims)
    x = jax.random.normal(k_x, (n_samples, top))
    if variances is not None:
        var = jnp.asarray(_validate.positive_array("variances", variances))
        if var.shape != (top,):
            raise ValueError(f"variances must have shape ({top},), got {var.shape}")
        x = x * jnp.sqrt(var)
    direction, eps = jax.random.normal(k_b, (top,)), noise * jax.random.normal(k_e, (n_samples,))
    tasks = []
    for p in dims:
        beta = signal * direction[:p] / jnp.linalg.norm(direction[:p])
        tasks.append(RegressionData(x[:, :p], x[:, :p] @ beta + eps, beta))
    return tuple(tasks)


def spiked_matrix(key, *, rows: int, cols: int, spikes=(), scale: float = 1.0, df: float | None = None):
    """``W = scale (Z + sqrt(rows) sum_i theta_i u_i v_i^T)``: i.i.d. noise of variance scale^2 plus a low-rank signal.

    ``Z``: (rows, cols) i.i.d. standard Gaussian, or Student-t with ``df > 2`` degrees of freedom rescaled to unit
    variance (heavy tails); ``u_i`` (rows) and ``v_i`` (cols) are Haar-random orthonormal sets; ``spikes`` are the
    strengths ``theta_i`` in units where the bulk of ``W^T W / rows`` has edges ``scale^2 (1 +- sqrt(cols/rows))^2``
    (the rectangular spiked model of Benaych-Georges & Nadakuditi 2012, arXiv:1103.2221).

    >>> w = spiked_matrix(jax.random.key(0), rows=40, cols=20, spikes=[3.0])
    >>> w.shape
    (40, 20)
    """
    _validate.positive("rows", rows, integer=True)
    _validate.positive("cols", cols, integer=True)
    _validate.positive("scale", scale)
    theta = jnp.asarray(spikes, dtype=float).reshape(-1)
    k_z, k_u, k_v = jax.random.split(key, 3)
    if df is None:
        w = jax.random.normal(k_z, (rows, cols))
    elif _validate.positive("df", df) <= 2:
        raise ValueError(f"df must be > 2 (finite variance), got {df!r}")
    elif float(df).is_integer() and df <= 30:        # t = z / sqrt(chi2_df / df), chi2 as a sum of squares (fast)
        g = jax.random.normal(k_z, (int(df) + 1, rows, cols))
        w = g[0] / jnp.sqrt(jnp.mean(g[1:] ** 2, axis=0)) * np.sqrt((df - 2.0) / df)
    else:
        w = jax.random.t(k_z, df, (rows, cols)) * np.sqrt((df - 2.0) / df)
    if theta.size:
        if theta.size > min(rows, cols):
            raise ValueError(f"at most min(rows, cols) = {min(rows, cols)} spikes, got {theta.size}")
        if theta.size == 1:       # a normalized Gaussian vector is Haar-distributed: no QR (see below)
            u, v = jax.random.normal(k_u, (rows, 1)), jax.random.normal(k_v, (cols, 1))
            u, v = u / jnp.linalg.norm(u), v / jnp.linalg.norm(v)
        else:                     # two batched QRs under jit(vmap) can deadlock jaxlib's CPU pool on 2 cores
            u, v = random_orthogonal(k_u, rows, theta.size), random_orthogonal(k_v, cols, theta.size)
        w = w + jnp.sqrt(rows) * (u * theta) @ v.T
    return scale * w


def hypercube_inputs(key, n_samples: int, dim: int) -> jax.Array:
    """``n_samples`` points drawn uniformly (with replacement) from the Boolean hypercube ``{-1, +1}^dim``.

    Returns (n_samples, dim) floats. Two of ``n`` points coincide with probability ``~ n^2 / 2^(dim + 1)``.

    >>> x = hypercube_inputs(jax.random.key(0), 4, 3)
    >>> x.shape, bool(jnp.all(jnp.abs(x) == 1))
    ((4, 3), True)
    """
    _validate.positive("n_samples", n_samples, integer=True)
    _validate.positive("dim", dim, integer=True)
    return jax.random.rademacher(key, (n_samples, dim)).astype(float)


def circle_inputs(key, n_samples: int) -> jax.Array:
    """``n_samples`` angles drawn uniformly from ``[0, 2 pi)``: points on the unit circle, shape (n_samples,).

    >>> x = circle_inputs(jax.random.key(0), 5)
    >>> x.shape, bool(jnp.all((x >= 0) & (x < 2 * jnp.pi)))
    ((5,), True)
    """
    _validate.positive("n_samples", n_samples, integer=True)
    return jax.random.uniform(key, (n_samples,), maxval=2 * jnp.pi)


class TeacherTask(NamedTuple):
    """Inputs ``x`` (n_samples, in_dim) and targets ``y`` (n_samples, 1) of a nonlinear teacher network."""

    x: jax.Array
    y: jax.Array


def tanh_teacher_task(key, *, n_samples: int, in_dim: int, width: int, input_scale: float = 3.0,
                      target_std: float = 1.0) -> TeacherTask:
    """Gaussian inputs ``x ~ N(0, I)`` and targets of a random two-layer tanh teacher, rescaled to a given spread.

    ``y = c * tanh(input_scale * x W^T / sqrt(in_dim)) a`` with ``W``, ``a`` i.i.d. ``N(0, 1)`` (``width`` hidden
    units) and ``c`` chosen so that the targets' sample standard deviation is ``target_std``. A larger
    ``input_scale`` makes the function more nonlinear; a larger ``target_std`` asks a student for larger outputs.

    >>> task = tanh_teacher_task(jax.random.key(0), n_samples=50, in_dim=3, width=8, target_std=2.0)
    >>> task.x.shape, task.y.shape, round(float(jnp.std(task.y)), 4)
    ((50, 3), (50, 1), 2.0)
    """
    for name, value in (("n_samples", n_samples), ("in_dim", in_dim), ("width", width)):
        _validate.positive(name, value, integer=True)
    _validate.positive("input_scale", input_scale)
    _validate.positive("target_std", target_std)
    k_x, k_w, k_a = jax.random.split(key, 3)
    x = jax.random.normal(k_x, (n_samples, in_dim))
    w = jax.random.normal(k_w, (width, in_dim))
    y = jnp.tanh(input_scale * x @ w.T / jnp.sqrt(in_dim)) @ jax.random.normal(k_a, (width, 1))
    return TeacherTask(x, target_std * y / jnp.std(y))
