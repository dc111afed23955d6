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


def test_lazy_training_keeps_the_random_kink_alignment():
    """Formerly the chapter's check `lazy-alignment`: at large alpha units rotate by O(1/alpha), so the kink alignment
    keeps its value at initialization (whose expectation is lazy.random_alignment, tested in test_lazy.py)."""
    import lmtheory as lmt

    width, alpha = 64, 1e3
    w_in = jax.random.normal(jax.random.key(5), (width, 2))
    a = jax.random.normal(jax.random.key(6), (width,))
    p0 = {"w": w_in, "a": a}

    def f(p):
        return jax.nn.relu(X @ p["w"].T / np.sqrt(2)) @ p["a"] / width

    def loss(d):
        p = jax.tree.map(jnp.add, p0, d)
        return 0.5 * jnp.mean((Y - alpha * (f(p) - f(p0))) ** 2) / alpha**2

    d = jax.tree.map(jnp.zeros_like, p0)
    for _ in range(300):
        d = jax.tree.map(lambda v, g: v - 0.5 * width * g, d, jax.grad(loss)(d))
    w_t = w_in + d["w"]
    cos = np.sum(np.asarray(w_t * w_in), 1) / np.linalg.norm(w_t, axis=1) / np.linalg.norm(w_in, axis=1)
    assert np.max(np.arccos(np.clip(cos, -1, 1))) < 30 / alpha                 # every unit turns by O(1/alpha)
    dirs = jnp.array([[1.0, 0.2], [-0.3, 1.0]])
    before = lmt.measure.kink_alignment(w_in, a[None], dirs, 0.2)
    after = lmt.measure.kink_alignment(w_t, (a + d["a"])[None], dirs, 0.2)
    assert abs(float(after) - float(before)) < 30 / alpha


def _grid_maximum(x, y):
    th = np.linspace(0, 2 * np.pi, 400_001)
    u = np.stack([np.cos(th), np.sin(th)], 1)
    g = np.maximum(x @ u.T, 0).T @ y / y.size
    return g.max(), u[g.argmax()]


def test_escape_rate_and_direction_match_a_fine_grid():
    rng = np.random.default_rng(7)
    for _ in range(4):
        x = rng.normal(size=(40, 2))
        y = rng.normal(size=40) + 0.3
        g, u = _grid_maximum(x, y)
        assert 2 * g <= lazy.escape_rate(x, y) * (1 + 1e-12)                 # the exact maximum is not below a grid's
        assert lazy.escape_rate(x, y) == pytest.approx(2 * g, rel=1e-5)
        assert lazy.escape_rate(x, y, lr=0.3) == pytest.approx(2 * np.log1p(0.3 * g), rel=1e-5)
        assert np.allclose(lazy.escape_direction(x, y), u, atol=1e-4)


def test_escape_rate_matches_gradient_descent_of_a_tiny_relu_network():
    """Independent simulation (plain JAX): the fastest unit's a^2 + |w|^2 grows by (1 + lr G*)^2 per step."""
    x = np.asarray(jax.random.normal(jax.random.key(8), (32, 2)))
    y = np.abs(np.asarray(jax.random.normal(jax.random.key(9), (32,))))
    width, lr, scale = 128, 0.4, 1e-8
    p = {"w": scale * jax.random.normal(jax.random.key(10), (width, 2)),
         "a": scale * jax.random.normal(jax.random.key(11), (width,))}

    def loss(q):
        return 0.5 * jnp.mean((y - jax.nn.relu(x @ q["w"].T) @ q["a"] / width) ** 2)

    sizes = []
    for _ in range(31):
        sizes.append(np.asarray(jnp.sum(p["w"] ** 2, 1) + p["a"] ** 2))
        p = jax.tree.map(lambda v, g: v - lr * width * g, p, jax.grad(loss)(p))
    rate = (np.log(sizes[30]) - np.log(sizes[15])).max() / 15
    assert rate == pytest.approx(lazy.escape_rate(x, y, lr=lr), rel=1e-3)


def test_escape_rate_rejects_bad_input():
    with pytest.raises(ValueError, match="x"):
        lazy.escape_rate(np.ones((3, 3)), np.ones(3))
    with pytest.raises(ValueError, match="lr"):
        lazy.escape_rate(np.ones((3, 2)), np.ones(3), lr=-1.0)
