"""Random-network ensembles: the explicit-weight network against the weight-marginal sampler (same law),
both against exact first-layer statistics, and the jackknife decay-rate fit against known rates."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lmtheory.simulation import ensembles

X = jnp.array([[1.0, 0.0, 0.5], [0.3, 1.0, -0.2]])
WIDTH, DEPTH, SW, SB, DRAWS = 6, 3, 1.6, 0.3, 6000


def _explicit(key):
    hs = ensembles.random_network_preactivations(key, X, (3,) + (WIDTH,) * DEPTH, sigma_w=SW, sigma_b=SB)
    return ensembles.layer_kernels(hs)


def _sampled(key):
    return ensembles.sample_layer_kernels(key, X, width=WIDTH, depth=DEPTH, sigma_w=SW, sigma_b=SB)


def _z(a, b):
    """Two-sample z-scores of the means of two independent samples (axis 0)."""
    se = np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b))
    return np.abs(a.mean(0) - b.mean(0)) / se


def test_first_layer_kernel_is_exact_in_expectation():
    k = np.asarray(jax.vmap(_explicit)(jax.random.split(jax.random.key(0), DRAWS)))[:, 0]
    expected = SW**2 * np.asarray(X @ X.T) / 3 + SB**2
    se = k.std(0, ddof=1) / np.sqrt(DRAWS)
    assert np.all(np.abs(k.mean(0) - expected) < 4 * se)


def test_sampler_and_explicit_network_have_the_same_law():
    """Means and mean squares of every kernel entry in every layer agree (narrow net: large fluctuations)."""
    a = np.asarray(jax.vmap(_explicit)(jax.random.split(jax.random.key(1), DRAWS))).reshape(DRAWS, -1)
    b = np.asarray(jax.vmap(_sampled)(jax.random.split(jax.random.key(2), DRAWS))).reshape(DRAWS, -1)
    assert np.all(_z(a, b) < 4.5)            # 36 entries: Bonferroni ~ 4.3 SE at 1% family-wise
    assert np.all(_z(a**2, b**2) < 4.5)


def test_sampled_tangent_growth_matches_jvp_of_the_explicit_network():
    v = jnp.array([[0.0, 1.0, 1.0]])
    x0 = X[:1]

    def explicit(key):
        net = lambda x: ensembles.random_network_preactivations(key, x, (3,) + (WIDTH,) * DEPTH,  # noqa: E731
                                                                sigma_w=SW, sigma_b=SB)
        _, dh = jax.jvp(net, (x0,), (v,))
        return jnp.log(jnp.stack([jnp.mean(d**2) for d in dh])) - jnp.log(jnp.mean(v**2))

    def sampled(key):
        _, growth = ensembles.sample_layer_kernels(key, x0, width=WIDTH, depth=DEPTH, sigma_w=SW, sigma_b=SB,
                                                   tangents=v)
        return jnp.cumsum(growth[:, 0])

    a = np.asarray(jax.vmap(explicit)(jax.random.split(jax.random.key(3), DRAWS)))
    b = np.asarray(jax.vmap(sampled)(jax.random.split(jax.random.key(4), DRAWS)))
    assert np.all(_z(a, b) < 4)


def test_outputs_shapes_and_determinism():
    key = jax.random.key(5)
    hs = ensembles.random_network_preactivations(key, X, (3, 4, 4, 4, 2), sigma_w=1.0, sigma_b=0.0)
    assert [h.shape for h in hs] == [(2, 4), (2, 4), (2, 4), (2, 2)]
    again = ensembles.random_network_preactivations(key, X, (3, 4, 4, 4, 2), sigma_w=1.0, sigma_b=0.0)
    assert all(bool(jnp.all(a == b)) for a, b in zip(hs, again))
    c = ensembles.correlations(ensembles.layer_kernels(hs[:3]))
    np.testing.assert_allclose(np.diagonal(np.asarray(c), axis1=1, axis2=2), 1.0, rtol=1e-6)


def test_decay_rate_recovers_the_rate_and_its_jackknife_error_is_honest():
    rng = np.random.default_rng(0)
    layers = np.arange(1, 16)
    slopes, errors = [], []
    for _ in range(200):
        curves = 0.3 + np.exp(-layers / 4.0) * (1 + 0.2 * rng.standard_normal((20, 1))) \
            + 0.002 * rng.standard_normal((20, layers.size))
        est = ensembles.decay_rate(layers, curves, limit=0.3)
        slopes.append(float(est.value))
        errors.append(float(est.stderr))
    assert np.mean(slopes) == pytest.approx(-0.25, abs=0.005)
    assert np.std(slopes) == pytest.approx(np.mean(errors), rel=0.3)   # jackknife SE ~ true spread


def test_sampled_outputs_have_the_law_of_explicit_networks():
    def explicit(key):
        return ensembles.random_network_preactivations(key, X, (3, WIDTH, WIDTH, 1), sigma_w=SW, sigma_b=SB,
                                                       activation="relu")[-1][:, 0]

    def sampled(key):
        return ensembles.sample_network_outputs(key, X, width=WIDTH, depth=3, sigma_w=SW, sigma_b=SB)[:, 0]

    a = np.asarray(jax.vmap(explicit)(jax.random.split(jax.random.key(6), DRAWS)))
    b = np.asarray(jax.vmap(sampled)(jax.random.split(jax.random.key(7), DRAWS)))
    pairs = lambda f: np.stack([f[:, 0] ** 2, f[:, 0] * f[:, 1], f[:, 1] ** 2, f[:, 0] ** 4], 1)  # noqa: E731
    assert np.all(_z(pairs(a), pairs(b)) < 4)


def test_excess_kurtosis_of_known_laws():
    rng = np.random.default_rng(3)
    lap = ensembles.excess_kurtosis(rng.laplace(size=400_000))           # Laplace: 3
    assert abs(lap.value - 3.0) < 4 * lap.stderr
    uni = ensembles.excess_kurtosis(rng.uniform(-1, 1, size=(100_000, 2)))   # uniform: -6/5, per column
    assert np.all(np.abs(uni.value + 1.2) < 4 * uni.stderr)


@pytest.mark.parametrize("call, match", [
    (lambda: ensembles.random_network_preactivations(jax.random.key(0), X, (4, 5), sigma_w=1.0, sigma_b=0.0),
     "x must have shape"),
    (lambda: ensembles.random_network_preactivations(jax.random.key(0), X, (3,), sigma_w=1.0, sigma_b=0.0),
     "widths"),
    (lambda: ensembles.random_network_preactivations(jax.random.key(0), X, (3, 4), sigma_w=1.0, sigma_b=0.0,
                                                     activation="gelu"), "activation"),
    (lambda: ensembles.sample_layer_kernels(jax.random.key(0), X, width=0, depth=2, sigma_w=1.0, sigma_b=0.0),
     "width"),
    (lambda: ensembles.sample_layer_kernels(jax.random.key(0), X, width=4, depth=2, sigma_w=1.0, sigma_b=0.0,
                                            tangents=jnp.ones((3, 3))), "tangents"),
    (lambda: ensembles.decay_rate(np.arange(3), np.ones((2, 3))), "curves"),
    (lambda: ensembles.layer_kernels([]), "non-empty"),
    (lambda: ensembles.sample_network_outputs(jax.random.key(0), X, width=4, depth=2, sigma_w=1.0, sigma_b=0.0,
                                              n_outputs=0), "n_outputs"),
    (lambda: ensembles.excess_kurtosis(np.ones(5)), "at least 10"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
