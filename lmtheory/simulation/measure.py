"""Measurements on trained (or training) networks: small pure functions of parameters and data.

Estimates with standard errors (means, slopes) are made from these measurements by :mod:`lmtheory.contract.stats`;
the end-to-end map of a deep linear network is :func:`lmtheory.simulation.models.end_to_end`.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from lmtheory import _validate


def mode_strengths(product, left, right):
    """Strengths ``u_a = left[:, a]^T @ product @ right[:, a]`` of a linear map along given singular directions.

    ``product``: (out_dim, in_dim), e.g. a deep linear net's end-to-end map; ``left``: (out_dim, k);
    ``right``: (in_dim, k). Returns shape (k,).

    >>> import jax.numpy as jnp
    >>> mode_strengths(jnp.diag(jnp.array([3.0, 1.0])), jnp.eye(2), jnp.eye(2)).tolist()
    [3.0, 1.0]
    """
    if product.shape != (left.shape[0], right.shape[0]) or left.shape[1] != right.shape[1]:
        raise ValueError(f"shapes do not match: product {product.shape}, left {left.shape}, right {right.shape}")
    return jnp.einsum("ok,oi,ik->k", left, product, right)


def displacement(params, params0):
    """Euclidean distance ``||theta - theta_0||`` between two parameter pytrees of the same structure.

    >>> import jax.numpy as jnp
    >>> theta, theta0 = {"a": jnp.array([3.0]), "b": jnp.zeros(2)}, {"a": jnp.zeros(1), "b": jnp.array([0.0, 4.0])}
    >>> float(displacement(theta, theta0))
    5.0
    """
    import jax

    diffs = jax.tree.leaves(jax.tree.map(lambda p, q: jnp.sum((p - q) ** 2), params, params0))
    return jnp.sqrt(sum(diffs))


def relative_movement(params, params0):
    """Relative weight movement ``||theta - theta_0|| / ||theta_0||`` (dimensionless), e.g. after training.

    >>> import jax.numpy as jnp
    >>> round(float(relative_movement(jnp.array([1.1, 0.0]), jnp.array([1.0, 0.0]))), 6)
    0.1
    """
    import jax

    zero = jax.tree.map(jnp.zeros_like, params0)
    return displacement(params, params0) / displacement(params0, zero)


def neuron_masses(weights_in, weights_out):
    """Mass ``m_i = ||a_i|| ||w_i||`` of each hidden unit of a two-layer network (its output scale if homogeneous).

    ``weights_in``: (width, in_dim), rows ``w_i``; ``weights_out``: (out_dim, width), columns ``a_i`` (the
    storage of :class:`lmtheory.simulation.models.MLP`). For ReLU units ``a_i ReLU(w_i . x)`` is 2-homogeneous in
    ``(a_i, w_i)`` and ``m_i`` sets its size. Returns shape (width,).

    >>> import jax.numpy as jnp
    >>> neuron_masses(jnp.array([[3.0, 4.0], [1.0, 0.0]]), jnp.array([[2.0, -1.0]])).tolist()
    [10.0, 1.0]
    """
    if weights_in.ndim != 2 or weights_out.ndim != 2 or weights_out.shape[1] != weights_in.shape[0]:
        raise ValueError(f"need weights_in (width, in_dim) and weights_out (out_dim, width), got "
                         f"{weights_in.shape} and {weights_out.shape}")
    return jnp.linalg.norm(weights_out, axis=0) * jnp.linalg.norm(weights_in, axis=1)


def kink_alignment(weights_in, weights_out, directions, half_width: float):
    """Fraction of the hidden units' mass whose ReLU kink lies within ``half_width`` of a teacher unit's kink.

    A unit ``ReLU(w . x)`` bends along the hyperplane ``w . x = 0``; two units share that *kink* when their
    weight vectors are parallel or antiparallel. With ``theta_ij = arccos |cos(w_i, directions_j)|`` (radians,
    in ``[0, pi/2]``) and masses ``m_i`` from :func:`neuron_masses`, returns
    ``sum_i m_i 1[min_j theta_ij <= half_width] / sum_i m_i`` (dimensionless, in [0, 1]).
    ``directions``: (n_teacher, in_dim). Reference: the lazy/non-lazy pictures of Chizat, Oyallon & Bach
    (arXiv:1812.07956); random isotropic weights give ``lmtheory.theory.lazy.random_alignment``.

    >>> import jax.numpy as jnp
    >>> w_in = jnp.array([[1.0, 0.0], [-2.0, 0.0], [0.0, 1.0]])       # the second unit is antiparallel
    >>> float(kink_alignment(w_in, jnp.ones((1, 3)), jnp.array([[1.0, 0.1]]), half_width=0.2))
    0.75
    """
    if not 0 < half_width <= jnp.pi / 2:
        raise ValueError(f"half_width must lie in (0, pi/2] radians, got {half_width!r}")
    if directions.ndim != 2 or directions.shape[1] != weights_in.shape[1]:
        raise ValueError(f"directions must have shape (n_teacher, {weights_in.shape[1]}), got {directions.shape}")
    m = neuron_masses(weights_in, weights_out)
    unit = weights_in / jnp.linalg.norm(weights_in, axis=1, keepdims=True)
    teach = directions / jnp.linalg.norm(directions, axis=1, keepdims=True)
    cos = jnp.max(jnp.abs(unit @ teach.T), axis=1)
    return jnp.sum(m * (cos >= jnp.cos(half_width))) / jnp.sum(m)


def _flat_jacobian(apply, params, x, batch_size):
    """Jacobian of ``apply(params, x)`` with respect to all parameters, as one array of shape (n, k, P)."""
    import jax

    def block(xb):
        n, k = xb.shape[0], math.prod(jax.eval_shape(apply, params, xb).shape[1:])
        jac = jax.jacrev(lambda p: apply(p, xb))(params)
        return jnp.concatenate([leaf.reshape(n, k, -1) for leaf in jax.tree.leaves(jac)], axis=-1)

    size = x.shape[0] if batch_size is None else batch_size
    return jnp.concatenate([block(x[i:i + size]) for i in range(0, x.shape[0], size)], axis=0)


def empirical_ntk(apply, params, x1, x2=None, *, batch_size: int | None = None):
    """Empirical neural tangent kernel ``Theta(x, x') = sum_p df(x)/dtheta_p df(x')/dtheta_p`` at ``params``.

    ``apply(params, x)`` is a pure forward pass (:func:`lmtheory.simulation.models.functional`) returning (n,) or (n, k);
    ``x1``: (n1, d), ``x2``: (n2, d) (default ``x1``). Returns (n1, n2) for one output, else (n1, n2, k, k).
    Computed from the explicit Jacobian (``jax.jacrev``), ``batch_size`` inputs at a time to bound memory
    (n k P numbers per batch); jit- and vmap-friendly. Units: f^2 per unit parameter^2. Reference: Jacot,
    Gabriel & Hongler, arXiv:1806.07572 (2018), Sec. 4.

    >>> import jax
    >>> apply = lambda p, x: x @ p                       # a linear model: Theta = x x'^T
    >>> x = jnp.array([[1.0, 2.0], [0.0, 1.0]])
    >>> empirical_ntk(apply, jnp.zeros(2), x).tolist()
    [[5.0, 2.0], [2.0, 1.0]]
    """
    if x1.ndim != 2 or (x2 is not None and (x2.ndim != 2 or x2.shape[1] != x1.shape[1])):
        raise ValueError(f"x1 and x2 must be (n, d) arrays with the same d, got {x1.shape} and "
                         f"{None if x2 is None else x2.shape}")
    if batch_size is not None:
        _validate.positive("batch_size", batch_size, integer=True)
    j1 = _flat_jacobian(apply, params, x1, batch_size)
    j2 = j1 if x2 is None else _flat_jacobian(apply, params, x2, batch_size)
    theta = jnp.einsum("aip,bjp->abij", j1, j2)
    return theta[:, :, 0, 0] if theta.shape[-1] == 1 else theta


def kernel_alignment(kernel, y):
    """Kernel-target alignment ``A = <K, y y^T>_F / (||K||_F ||y y^T||_F)``; for one output ``y^T K y / (||K||_F
    ||y||^2)``.

    ``kernel``: (n, n); ``y``: (n,) or (n, k) targets. Dimensionless, in [-1, 1]; ``A = 1`` iff ``K`` is a
    positive multiple of ``y y^T`` (the kernel "sees" only the target direction). Reference: Cristianini et
    al., NeurIPS 2001 ("On kernel-target alignment"); Atanasov, Bordelon & Pehlevan, arXiv:2111.00034, eq. (7).

    >>> y = jnp.array([1.0, -1.0])
    >>> round(float(kernel_alignment(jnp.outer(y, y), y)), 6), round(float(kernel_alignment(jnp.eye(2), y)), 6)
    (1.0, 0.707107)
    """
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or y.shape[0] != kernel.shape[0]:
        raise ValueError(f"need a square kernel (n, n) and targets (n,) or (n, k), got {kernel.shape} and {y.shape}")
    yy = y.reshape(y.shape[0], -1)
    target = yy @ yy.T
    return jnp.sum(kernel * target) / (jnp.linalg.norm(kernel) * jnp.linalg.norm(target))


def linearize(apply, params0):
    """The linearized model ``f_lin(theta, x) = f(theta_0, x) + J(theta_0) (theta - theta_0)`` as a pure function.

    ``apply(params, x)``: a pure forward pass; ``params0``: the expansion point (initialization). The returned
    ``apply_lin(params, *args)`` evaluates one Jacobian-vector product (``jax.jvp``), so it can be trained
    with the same loops as the network (Lee et al., arXiv:1902.06720, eq. 4).

    >>> apply = lambda p, x: jnp.sin(x * p)
    >>> lin = linearize(apply, jnp.array(0.0))
    >>> float(lin(jnp.array(0.5), jnp.array(2.0)))            # sin(0) + 2 cos(0) * 0.5
    1.0
    """
    import jax

    if not callable(apply):
        raise ValueError(f"apply must be a callable apply(params, x), got {apply!r}")

    def apply_lin(params, *args):
        tangent = jax.tree.map(jnp.subtract, params, params0)
        f0, df = jax.jvp(lambda p: apply(p, *args), (params0,), (tangent,))
        return f0 + df

    return apply_lin


def kernel_predictor_error(alpha, gram_squared, smoothed_target, target_norm2):
    """Exact population error ``||f_hat - f||^2 = E_x (f_hat(x) - f(x))^2`` of a kernel predictor.

    For ``f_hat = sum_mu alpha_mu K(., x_mu)`` and inputs ``x ~ p``, expanding the square gives
    ``alpha^T K2(X, X) alpha - 2 alpha^T (T f)(X) + ||f||^2``, where ``K2(x, x') = E_z K(x, z) K(z, x')`` is the
    kernel of the squared integral operator (eigenvalues ``lambda_i^2``) and ``(T f)(x) = E_z K(x, z) f(z)``
    (coefficients ``lambda_i v_i``). Needs no test set when the eigensystem is known. ``alpha``: (n,);
    ``gram_squared``: (n, n) = ``K2(X, X)``; ``smoothed_target``: (n,) = ``(T f)(X)``; ``target_norm2`` =
    ``E f^2``. Units of ``f^2``.

    >>> import jax.numpy as jnp                        # linear kernel x.x' with x ~ N(0, I_2): K2 = K, T f = f
    >>> x = jnp.eye(2); w = jnp.array([1.0, 2.0]); alpha = jnp.array([1.0, 0.0])      # f_hat(x) = x_1
    >>> float(kernel_predictor_error(alpha, x @ x.T, x @ w, w @ w))                # (1 - 1)^2 + (0 - 2)^2
    4.0
    """
    return alpha @ gram_squared @ alpha - 2 * alpha @ smoothed_target + target_norm2


def hessian_vector_product(loss, params, vector):
    """``H v`` for the Hessian ``H`` of ``loss`` at ``params`` (pytrees), without forming ``H``: ``jvp`` of ``grad``.

    >>> import jax
    >>> hv = hessian_vector_product(lambda p: p[0] ** 2 * p[1], jnp.array([1.0, 2.0]), jnp.array([1.0, 0.0]))
    >>> hv.tolist()                                       # H = [[2 p1, 2 p0], [2 p0, 0]] = [[4, 2], [2, 0]]
    [4.0, 2.0]
    """
    import jax

    return jax.jvp(jax.grad(loss), (params,), (vector,))[1]


def sharpness(loss, params, *, key=None, iters: int = 20, vector=None, return_vector: bool = False):
    """Sharpness ``lambda_max(H)``, the top Hessian eigenvalue of ``loss`` at ``params``, by power iteration.

    Each iteration is one Hessian-vector product (:func:`hessian_vector_product`), ``v <- H v / ||H v||``; the
    estimate is the Rayleigh quotient ``v.Hv``. Power iteration finds the eigenvalue of largest *magnitude*; for
    the losses of this book near a minimum it is the largest positive one. The error after ``iters`` steps
    shrinks like ``(lambda_2/lambda_1)^(2 iters)``, so a warm start (``vector``: the previous eigenvector, e.g.
    from ``return_vector=True`` at an earlier training step) makes a few iterations enough. Start from a random
    direction drawn with ``key`` when ``vector`` is None. Units: loss per parameter squared. Reference for its
    use in training: Cohen et al. 2021, arXiv:2103.00065.

    >>> import jax
    >>> loss = lambda p: 0.5 * (3.0 * p["a"] ** 2 + p["b"] @ p["b"])      # Hessian diag(3, 1, 1)
    >>> p = {"a": jnp.array(0.0), "b": jnp.zeros(2)}
    >>> round(float(sharpness(loss, p, key=jax.random.key(0), iters=30)), 6)
    3.0
    """
    import jax
    from jax.flatten_util import ravel_pytree

    _validate.positive("iters", iters, integer=True)
    flat, unravel = ravel_pytree(params)
    if vector is None:
        if key is None:
            raise ValueError("sharpness needs a PRNG key (or a starting vector)")
        vector = jax.random.normal(key, flat.shape, flat.dtype)
    v = vector / jnp.linalg.norm(vector)

    def hvp(u):
        return ravel_pytree(hessian_vector_product(loss, params, unravel(u)))[0]

    def step(u, _):
        hu = hvp(u)
        return hu / jnp.linalg.norm(hu), None

    v, _ = jax.lax.scan(step, v, None, length=iters)
    value = v @ hvp(v)
    return (value, v) if return_vector else value


def rescale_charges(w_in, w_out, b_in=None):
    """Rescale charges ``Q_j = ||w_in[j]||^2 (+ b_in[j]^2) - ||w_out[:, j]||^2`` of the hidden units of a layer.

    Conserved by gradient flow for ReLU or linear units (Kunin et al. 2021; Du, Hu & Lee 2018). ``w_in``:
    (..., width, fan_in) incoming weights, ``b_in``: (..., width) their biases, ``w_out``: (..., fan_out, width)
    outgoing weights; leading axes (seeds, records) broadcast. Applied to *gradients* it gives the per-step change
    divided by ``lr^2``. Returns (..., width), in (weight units)^2.

    >>> rescale_charges(jnp.ones((2, 3)), 2 * jnp.ones((1, 2)), b_in=jnp.ones(2)).tolist()
    [0.0, 0.0]
    """
    if w_in.shape[-2] != w_out.shape[-1] or (b_in is not None and b_in.shape[-1] != w_in.shape[-2]):
        raise ValueError(f"w_in (..., width, fan_in), w_out (..., fan_out, width) and b_in (..., width) must agree "
                         f"on width, got {w_in.shape}, {w_out.shape}, {None if b_in is None else b_in.shape}")
    charge = jnp.sum(w_in**2, axis=-1) - jnp.sum(w_out**2, axis=-2)
    return charge if b_in is None else charge + b_in**2


def scale_charges(w):
    """Squared norms ``||w[i]||^2`` of the rows of ``w`` (..., rows, fan_in): the charges of a scale symmetry.

    For weights that feed a normalization, gradient flow conserves them and each GD step raises them by exactly
    ``lr^2 ||g_i||^2`` (Kunin et al. 2021).

    >>> scale_charges(jnp.array([[3.0, 4.0], [1.0, 0.0]])).tolist()
    [25.0, 1.0]
    """
    return jnp.sum(w**2, axis=-1)


def translation_charge(w, b=None):
    """Sum over the classes of the rows of a softmax layer ``w`` (..., classes, fan_in) (and of its bias ``b``).

    Shifting all logits by the same amount leaves a softmax unchanged, so the gradient rows sum to zero and GD
    conserves this sum *exactly*, for any learning rate (Kunin et al. 2021). Returns (..., fan_in [+ 1]).

    >>> translation_charge(jnp.array([[1.0, 2.0], [3.0, 4.0]]), jnp.array([0.5, 0.5])).tolist()
    [4.0, 6.0, 1.0]
    """
    total = jnp.sum(w, axis=-2)
    return total if b is None else jnp.concatenate([total, jnp.sum(b, axis=-1)[..., None]], axis=-1)


def hessian_eigenvalues(loss, params):
    """All eigenvalues of the Hessian of ``loss`` at ``params`` (ascending), from the dense Hessian.

    For small models only (the Hessian has ``n_params^2`` entries); unlike :func:`sharpness` it also returns the
    largest *positive* eigenvalue when a negative one is larger in magnitude. Units: loss per parameter squared.

    >>> loss = lambda p: 0.5 * (3.0 * p["a"] ** 2 - p["b"] @ p["b"])      # Hessian diag(3, -1, -1)
    >>> hessian_eigenvalues(loss, {"a": jnp.array(0.0), "b": jnp.zeros(2)}).round(6).tolist()
    [-1.0, -1.0, 3.0]
    """
    import jax
    from jax.flatten_util import ravel_pytree

    flat, unravel = ravel_pytree(params)
    return jnp.linalg.eigvalsh(jax.hessian(lambda v: loss(unravel(v)))(flat))
