"""Random networks at initialization: the explicit-weight network against the weight-marginal samplers (same law),
both against exact statistics of the first layers, and the estimators built on lmtheory.contract.stats.

Each sampler is compiled once per module (fixtures): the ensembles below are cheap to run, their compilation is not.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lmtheory.contract import stats
from lmtheory.simulation import random_networks as rn
from lmtheory.theory import kernels, meanfield

X = jnp.array([[1.0, 0.0, 0.5], [0.3, 1.0, -0.2]])
V = jnp.array([[0.0, 1.0, 1.0]])                       # a perturbation of the first input
WIDTH, DEPTH, SW, SB, DRAWS = 6, 3, 1.6, 0.3, 6000


def _z(a, b):
    """Two-sample z-scores of the means of two independent samples (axis 0)."""
    se = np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b))
    return np.abs(a.mean(0) - b.mean(0)) / se


def _explicit(key):
    """Layer kernels on X and the cumulative log growth of ||dh||^2 along V at X[0], from explicit weights."""
    tangent = jnp.concatenate([V, jnp.zeros_like(V)])
    net = lambda x: rn.random_network_preactivations(key, x, (3,) + (WIDTH,) * DEPTH, sigma_w=SW,  # noqa: E731
                                                     sigma_b=SB)
    hs, dh = jax.jvp(net, (X,), (tangent,))
    growth = jnp.log(jnp.stack([jnp.mean(d[0] ** 2) for d in dh])) - jnp.log(jnp.mean(V**2))
    return rn.layer_kernels(hs), growth


def _sampled(key):
    kern, growth = rn.sample_layer_kernels(key, X, width=WIDTH, depth=DEPTH, sigma_w=SW, sigma_b=SB, tangents=V)
    return kern, jnp.cumsum(growth[:, 0])


@pytest.fixture(scope="module")
def ensembles():
    """(explicit, sampled) draws of (kernels (DRAWS, DEPTH, 2, 2), growth (DRAWS, DEPTH)), independent keys."""
    draw = lambda f, seed: jax.tree.map(np.asarray, jax.jit(jax.vmap(f))(  # noqa: E731
        jax.random.split(jax.random.key(seed), DRAWS)))
    return draw(_explicit, 1), draw(_sampled, 2)


def test_first_two_layer_kernels_are_exact_in_expectation(ensembles):
    """E[K^1] = sigma_w^2 x.x'/d + sigma_b^2 and E[K^2] = sigma_w^2 E[tanh(u) tanh(v)] + sigma_b^2 with (u, v) of
    covariance K^1 (Gauss-Hermite quadrature), exactly at any width."""
    k1 = SW**2 * np.asarray(X @ X.T) / 3 + SB**2
    k2 = np.array([[SW**2 * meanfield.gaussian_mean_2d(lambda u, v: np.tanh(u) * np.tanh(v), k1[a, a], k1[b, b],
                                                       k1[a, b]) + SB**2 for b in range(2)] for a in range(2)])
    for layer, expected in enumerate((k1, k2)):
        est = stats.mean_se(ensembles[0][0][:, layer])
        assert np.all(np.abs(est.value - expected) < 4 * est.stderr)


def test_sampler_and_explicit_network_have_the_same_law(ensembles):
    """Means and mean squares of every kernel entry in every layer agree (narrow net: large fluctuations)."""
    a, b = (e[0].reshape(DRAWS, -1) for e in ensembles)
    assert np.all(_z(a, b) < 4.5)            # 12 entries x 2 moments: Bonferroni ~ 4 SE at 1% family-wise
    assert np.all(_z(a**2, b**2) < 4.5)


def test_sampled_tangent_growth_matches_jvp_of_the_explicit_network(ensembles):
    assert np.all(_z(ensembles[0][1], ensembles[1][1]) < 4)


def test_sampled_outputs_have_the_law_of_explicit_networks():
    net = kernels.Network(depth=3, sigma_w=SW, sigma_b=SB, activation="relu")     # one description for both

    def both(key):
        k_a, k_b = jax.random.split(key)
        explicit = rn.random_network_preactivations(k_a, X, (3, WIDTH, WIDTH, 1), **net)[-1][:, 0]
        return explicit, rn.sample_network_outputs(k_b, X, width=WIDTH, **net)[:, 0]

    a, b = map(np.asarray, jax.jit(jax.vmap(both))(jax.random.split(jax.random.key(6), DRAWS)))
    pairs = lambda f: np.stack([f[:, 0] ** 2, f[:, 0] * f[:, 1], f[:, 1] ** 2, f[:, 0] ** 4], 1)  # noqa: E731
    assert np.all(_z(pairs(a), pairs(b)) < 4)


def test_outputs_shapes_determinism_and_the_layer_norm_special_case():
    f = jax.jit(lambda key: rn.random_network_preactivations(key, X, (3, 4, 4, 4, 2), sigma_w=1.0, sigma_b=0.0,
                                                              depth=4))
    hs, again = f(jax.random.key(5)), f(jax.random.key(5))
    assert [h.shape for h in hs] == [(2, 4), (2, 4), (2, 4), (2, 2)]
    assert all(bool(jnp.all(a == b)) for a, b in zip(hs, again))
    c = rn.correlations(rn.layer_kernels(hs[:3]))
    np.testing.assert_allclose(np.diagonal(np.asarray(c), axis1=1, axis2=2), 1.0, rtol=1e-6)
    # layer_norms is the explicit sampler on x = 1 with He scale and no bias: same weights, same norms
    def both(key):
        hs = rn.random_network_preactivations(key, jnp.ones((1, 5)), (5,) * 5, sigma_w=np.sqrt(2.0), sigma_b=0.0,
                                              activation="relu")
        return rn.layer_norms(key, width=5, depth=4, slope=0.0), jnp.stack([jnp.mean(h**2) for h in hs])

    np.testing.assert_allclose(*jax.jit(both)(jax.random.key(8)), rtol=1e-10)


def test_relaxation_rate_by_the_one_slope_estimator_is_unbiased_and_its_jackknife_error_honest():
    """``stats.slope(..., log="y", error="jackknife", transform=|c - limit|)`` (what replaced ``decay_rate``)."""
    rng = np.random.default_rng(0)
    layers = np.arange(1, 16)
    slopes, errors = [], []
    for _ in range(200):
        curves = 0.3 + np.exp(-layers / 4.0) * (1 + 0.2 * rng.standard_normal((20, 1))) \
            + 0.002 * rng.standard_normal((20, layers.size))
        est = stats.slope(layers, curves, log="y", error="jackknife", transform=lambda c: np.abs(c - 0.3))
        slopes.append(float(est.value))
        errors.append(float(est.stderr))
    assert np.mean(slopes) == pytest.approx(-0.25, abs=0.005)
    assert np.std(slopes) == pytest.approx(np.mean(errors), rel=0.3)   # jackknife SE ~ true spread
    assert est.dof == 19                                               # seeds - 1


def test_excess_kurtosis_of_known_laws_from_the_moment_ratio():
    rng = np.random.default_rng(3)
    lap = stats.moment_ratio(rng.laplace(size=400_000) ** 2).map(lambda r: r - 3)           # Laplace: 3
    assert abs(lap.value - 3.0) < 4 * lap.stderr
    uni = stats.moment_ratio(rng.uniform(-1, 1, size=(100_000, 2)) ** 2).map(lambda r: r - 3)   # uniform: -6/5
    assert np.all(np.abs(uni.value + 1.2) < 4 * uni.stderr)


def test_moment_ratio_error_matches_the_jackknife():
    s = np.random.default_rng(4).exponential(size=(4000, 3))
    est = rn.moment_ratio_estimate(s, axis=0)
    value, se = stats.jackknife(lambda m: m[1] / m[0] ** 2, np.stack([s, s * s]), axis=1)
    np.testing.assert_allclose(est.value, value, rtol=1e-12)
    np.testing.assert_allclose(est.stderr, se, rtol=0.02)              # equal to leading order in 1/M


def test_the_old_ensembles_name_is_the_random_network_module():
    import lmtheory

    assert lmtheory.ensembles is rn


@pytest.mark.parametrize("call, match", [
    (lambda: rn.random_network_preactivations(jax.random.key(0), X, (4, 5), sigma_w=1.0, sigma_b=0.0),
     "x must have shape"),
    (lambda: rn.random_network_preactivations(jax.random.key(0), X, (3,), sigma_w=1.0, sigma_b=0.0), "widths"),
    (lambda: rn.random_network_preactivations(jax.random.key(0), X, (3, 4), sigma_w=1.0, sigma_b=0.0, depth=2),
     "depth"),
    (lambda: rn.random_network_preactivations(jax.random.key(0), X, (3, 4), sigma_w=1.0, sigma_b=0.0,
                                              activation="gelu"), "activation"),
    (lambda: rn.sample_layer_kernels(jax.random.key(0), X, width=0, depth=2, sigma_w=1.0, sigma_b=0.0), "width"),
    (lambda: rn.sample_layer_kernels(jax.random.key(0), X, width=4, depth=2, sigma_w=1.0, sigma_b=0.0,
                                     tangents=jnp.ones((3, 3))), "tangents"),
    (lambda: rn.layer_kernels([]), "non-empty"),
    (lambda: rn.sample_network_outputs(jax.random.key(0), X, width=4, depth=2, sigma_w=1.0, sigma_b=0.0,
                                       n_outputs=0), "n_outputs"),
    (lambda: rn.variance_slope([1.0, 2.0], np.ones((2, 2))), "samples"),
    (lambda: kernels.Network(depth=0), "depth"),
    (lambda: kernels.Network(depth=2, activation="gelu"), "activation"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
