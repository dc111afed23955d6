"""Part I additions to lmtheory.theory.lazy: the movement exponents, against small independent simulations (plain JAX).

The width exponents of :func:`lazy.linearization_error_exponent` are tested by the linearization chapter
(widths 1024-8192); a toy small enough for a unit test is not yet in their asymptotic regime.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lmtheory.theory import lazy

X = jax.random.normal(jax.random.key(0), (8, 2))
Y = jnp.sin(X[:, 0]) + 0.5 * X[:, 1]


def strain(alphas, *, act, lr_scale, steps, width=32, seed=1):
    """Relative movement ||theta_T - theta_0|| / ||theta_0|| of GD on the centered scaled model, loss / alpha^2.

    ``lr_scale``: the step at each alpha (an array like ``alphas``). One compiled run for all alphas (vmap).
    """
    k1, k2 = jax.random.split(jax.random.key(seed))
    p0 = {"w": jax.random.normal(k1, (width, 2)), "a": jax.random.normal(k2, (width,))}

    def f(p):
        return act(X @ p["w"].T) @ p["a"] / width

    def one(alpha, lr):
        def loss(p):
            return 0.5 * jnp.mean((Y - alpha * (f(p) - f(p0))) ** 2) / alpha**2

        def step(q, _):
            return jax.tree.map(lambda w, g: w - lr * g, q, jax.grad(loss)(q)), None

        pt = jax.lax.scan(step, p0, None, length=steps)[0]
        norm = lambda t: jnp.sqrt(sum(jnp.sum(v**2) for v in jax.tree.leaves(t)))  # noqa: E731
        return norm(jax.tree.map(jnp.subtract, pt, p0)) / norm(p0)

    return np.asarray(jax.jit(jax.vmap(one))(jnp.asarray(alphas), jnp.asarray(lr_scale)))


def test_lazy_exponent_matches_a_centered_tanh_network():
    alphas = np.array([100.0, 300.0, 1000.0])
    moves = strain(alphas, act=jnp.tanh, lr_scale=np.full(3, 32.0), steps=200)
    slope = np.polyfit(np.log(alphas), np.log(moves), 1)[0]
    assert abs(slope - lazy.displacement_exponent("lazy")) < 0.02


def test_rich_exponent_matches_a_homogeneous_relu_network_from_small_init():
    # degree-2 homogeneous (no biases); lr = c * alpha for alpha < 1, as in Proposition lazy-prop-rich
    alphas = np.array([1e-6, 1e-5, 1e-4])
    moves = strain(alphas, act=jax.nn.relu, lr_scale=32.0 * alphas, steps=3000)
    slope = np.polyfit(np.log(alphas), np.log(moves), 1)[0]
    assert abs(slope - lazy.displacement_exponent("rich")) < 0.03


def test_linearization_exponents_and_validation():
    assert lazy.linearization_error_exponent("smooth", "kernel") == -1.0
    assert lazy.linearization_error_exponent("relu", "kernel") == -0.75
    with pytest.raises(ValueError, match="ReLU"):
        lazy.linearization_error_exponent("relu", "function")
    with pytest.raises(ValueError, match="activation"):
        lazy.linearization_error_exponent("gelu")
    with pytest.raises(ValueError, match="regime"):
        lazy.displacement_exponent("mean-field")
