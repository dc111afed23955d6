"""Conservation laws: theory (lmtheory.theory.conservation), charges (measure), the symmetric model, the loss."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from lmtheory.simulation import flow, measure, models, train
from lmtheory.theory import conservation as cons

KEY = jax.random.key(3)


def relu_net(key, d=4, h=6, k=2):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    params = {"w1": jax.random.normal(k1, (h, d)), "b1": jax.random.normal(k2, (h,)),
              "w2": jax.random.normal(k3, (k, h)) / np.sqrt(h)}
    x, y = jax.random.normal(k4, (10, d)), jnp.ones((10, k))

    def loss(p):
        return 0.5 * jnp.mean(jnp.sum((jax.nn.relu(x @ p["w1"].T + p["b1"]) @ p["w2"].T - y) ** 2, -1))

    return params, loss


@functools.partial(jax.jit, static_argnums=1)
def gd_step(params, loss, lr):
    """One GD step and its gradient, compiled once per loss (eager dispatch dominates these small tests)."""
    g = jax.grad(loss)(params)
    return jax.tree.map(lambda w, gi: w - lr * gi, params, g), g


def test_rescale_step_change_matches_a_gd_step_of_a_relu_net():
    params, loss = relu_net(KEY)
    lr = 0.3
    new, g = gd_step(params, loss, lr)
    q = lambda p: np.asarray(measure.rescale_charges(p["w1"], p["w2"], p["b1"]))  # noqa: E731
    predicted = cons.rescale_step_change(g["w1"], g["w2"], lr=lr, grad_bias=g["b1"])
    np.testing.assert_allclose(q(new) - q(params), predicted, atol=1e-13)
    assert np.abs(predicted).max() > 1e-4                                  # the identity is not trivially zero


def test_rescale_charges_are_conserved_by_gradient_flow():
    """A smooth (linear-unit) network, so that the flow can be integrated to high accuracy."""
    k1, k2, k3 = jax.random.split(jax.random.key(5), 3)
    x, y = jax.random.normal(k1, (8, 3)), jax.random.normal(k2, (8, 2))
    p0 = {"w1": jax.random.normal(k3, (4, 3)), "w2": jax.random.normal(jax.random.key(6), (2, 4))}
    loss = lambda p: 0.5 * jnp.mean(jnp.sum((x @ p["w1"].T @ p["w2"].T - y) ** 2, -1))  # noqa: E731
    end, _ = flow.gradient_flow(loss, p0, time=1.0)
    before = measure.rescale_charges(p0["w1"], p0["w2"])
    np.testing.assert_allclose(measure.rescale_charges(end["w1"], end["w2"]), before, atol=1e-8)
    assert float(jnp.abs(end["w1"] - p0["w1"]).max()) > 0.1                  # the weights did move


def test_scale_step_change_matches_a_gd_step_of_a_scale_invariant_loss():
    w = jax.random.normal(KEY, (3, 5))
    target = jax.random.normal(jax.random.key(1), (3, 5))
    loss = lambda v: jnp.sum((v / jnp.linalg.norm(v, axis=1, keepdims=True) - target) ** 2)  # noqa: E731
    lr = 0.5
    new, g = gd_step(w, loss, lr)
    np.testing.assert_allclose(measure.scale_charges(new) - measure.scale_charges(w),
                               cons.scale_step_change(g, lr=lr), atol=1e-13)


def test_normalized_mlp_has_its_three_symmetries():
    net = models.NormalizedMLP(4, 5, 3, rngs=nnx.Rngs(0))
    apply, p = models.functional(net)
    apply = jax.jit(apply)                                                  # compiled once, called twice
    x = jax.random.normal(KEY, (12, 4))
    base = jax.nn.softmax(apply(p, x))
    d = nnx.to_pure_dict(p)
    a = jnp.exp(jax.random.normal(jax.random.key(1), (5,)))               # per-unit rescaling factors
    moved = dict(d, w1=d["w1"] * a[:, None], b1=d["b1"] * a, w2=d["w2"] / a[None, :] * 3.0,   # rescale + scale
                 w3=d["w3"] + jnp.arange(5.0)[None, :], b3=d["b3"] + 2.0)                   # translation
    nnx.replace_by_pure_dict(p, moved)
    np.testing.assert_allclose(jax.nn.softmax(apply(p, x)), base, rtol=1e-10, atol=1e-12)


def test_batch_norm_epsilon_breaks_the_scale_symmetry():
    net = models.NormalizedMLP(4, 5, 3, epsilon=0.1, rngs=nnx.Rngs(0))
    apply, p = models.functional(net)
    x = jax.random.normal(KEY, (12, 4))
    before = apply(p, x)
    d = nnx.to_pure_dict(p)
    nnx.replace_by_pure_dict(p, dict(d, w2=3.0 * d["w2"]))
    assert float(jnp.abs(apply(p, x) - before).max()) > 1e-3


def test_translation_charge_is_exactly_conserved_by_gd_on_a_softmax_layer():
    x = jax.random.normal(KEY, (20, 4))
    labels = jnp.arange(20) % 3
    loss = train.cross_entropy_loss(lambda p, x: x @ p["w"].T + p["b"], x, labels)
    p0 = {"w": jax.random.normal(jax.random.key(2), (3, 4)), "b": jnp.array([0.3, -0.1, 0.5])}
    p = train.gradient_descent_endpoint(loss, p0, lr=2.0, steps=50)
    np.testing.assert_allclose(measure.translation_charge(p["w"], p["b"]), measure.translation_charge(p0["w"], p0["b"]),
                               atol=1e-13)


def test_cross_entropy_loss_matches_a_direct_computation():
    logits = jnp.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    labels = jnp.array([1, 2])
    loss = train.cross_entropy_loss(lambda p, x: p, jnp.zeros((2, 1)), labels)
    expected = -np.mean([np.log(np.exp(r[c]) / np.exp(r).sum()) for r, c in zip(np.asarray(logits), [1, 2])])
    assert float(loss(logits)) == pytest.approx(expected, rel=1e-12)


def test_fixed_time_drift_matches_gd_at_small_learning_rate():
    """Q(T) - Q(0) under GD vs lr * int_0^T q dt along an accurately integrated flow (two-layer linear net)."""
    k1, k2, k3 = jax.random.split(jax.random.key(7), 3)
    x, y = jax.random.normal(k1, (8, 3)), jax.random.normal(k2, (8, 2))
    p0 = {"w1": 0.7 * jax.random.normal(k3, (4, 3)), "w2": 0.5 * jax.random.normal(jax.random.key(8), (2, 4))}
    loss = lambda p: 0.5 * jnp.mean(jnp.sum((x @ p["w1"].T @ p["w2"].T - y) ** 2, -1))  # noqa: E731
    grad = jax.grad(loss)

    def field(state):
        p, _ = state
        g = grad(p)
        return jax.tree.map(jnp.negative, g), measure.rescale_charges(g["w1"], g["w2"])

    time = 1.0
    (_, integral), _ = flow.integrate(field, (p0, jnp.zeros(4)), time=time)
    drifts = []
    lrs = np.array([0.004, 0.002, 0.001])
    for lr in lrs:
        end = train.gradient_descent_endpoint(loss, p0, lr=float(lr), steps=int(round(time / lr)))
        drifts.append(measure.rescale_charges(end["w1"], end["w2"]) - measure.rescale_charges(p0["w1"], p0["w2"]))
    predicted = cons.fixed_time_drift(integral, lr=lrs[-1])
    np.testing.assert_allclose(drifts[-1], predicted, rtol=0.02, atol=1e-3 * np.abs(predicted).max())
    slope = np.polyfit(np.log(lrs), np.log([np.linalg.norm(d) for d in drifts]), 1)[0]
    assert slope == pytest.approx(cons.drift_exponent(2.0), abs=0.02)


def test_measured_roundoff_of_a_step_is_below_the_bound():
    params, loss = relu_net(jax.random.key(11), d=6, h=10, k=3)
    lr, worst = 0.1, 0.0
    for _ in range(20):
        new, g = gd_step(params, loss, lr)
        q = lambda p: np.asarray(measure.rescale_charges(p["w1"], p["w2"], p["b1"]))  # noqa: E731
        err = np.abs(q(new) - q(params) - cons.rescale_step_change(g["w1"], g["w2"], lr=lr, grad_bias=g["b1"]))
        size = np.sum(params["w1"] ** 2, -1) + params["b1"] ** 2 + np.sum(params["w2"] ** 2, -2)
        worst = max(worst, float(np.max(err / cons.roundoff_bound(np.asarray(size), n_terms=6 + 1 + 3))))
        params = new
    assert worst < 1.0


def test_hessian_eigenvalues_match_numpy():
    m = np.array([[2.0, 1.0], [1.0, -3.0]])
    got = measure.hessian_eigenvalues(lambda v: 0.5 * v @ jnp.asarray(m) @ v, jnp.zeros(2))
    np.testing.assert_allclose(got, np.linalg.eigvalsh(m), rtol=1e-12)


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="hidden units"):
        cons.rescale_step_change(np.ones((3, 2)), np.ones((1, 4)), lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        cons.scale_step_change(np.ones((2, 2)), lr=0.0)
    with pytest.raises(ValueError, match="lr"):
        cons.fixed_time_drift(1.0, lr=-1.0)
    with pytest.raises(ValueError, match="n_terms"):
        cons.roundoff_bound(1.0, n_terms=0)
    with pytest.raises(ValueError, match="sum_of_squares"):
        cons.roundoff_bound(-1.0, n_terms=2)
    with pytest.raises(ValueError, match="step_exponent"):
        cons.drift_exponent(0.0)
    with pytest.raises(ValueError, match="width"):
        measure.rescale_charges(jnp.ones((3, 2)), jnp.ones((1, 4)))
    with pytest.raises(ValueError, match="rows"):
        train.cross_entropy_loss(lambda p, x: x, jnp.ones((3, 2)), jnp.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="epsilon"):
        models.NormalizedMLP(2, 3, 2, epsilon=-1.0, rngs=nnx.Rngs(0))


def test_normalized_mlp_gd_steps_obey_the_three_per_step_identities():
    """Theorem cl-thm-step on the chapter's own network, to the float64 roundoff bound (formerly chapter checks
    cl-rescale-step, cl-scale-step and cl-translation: identities on the gradients of a run, so unit tests)."""
    net = models.NormalizedMLP(5, 8, 3, rngs=nnx.Rngs(4))
    apply, p = models.functional(net)
    x = jax.random.normal(KEY, (32, 5))
    labels = jnp.arange(32) % 3
    loss = jax.jit(train.cross_entropy_loss(apply, x, labels))
    params, lr = nnx.to_pure_dict(p), 0.2
    step = jax.jit(lambda q: (jax.tree.map(lambda w, g: w - lr * g, q, jax.grad(loss)(q)), jax.grad(loss)(q)))
    translation0 = np.asarray(measure.translation_charge(params["w3"], params["b3"]))
    for _ in range(5):
        new, g = step(params)
        rescale = lambda q: np.asarray(measure.rescale_charges(q["w1"], q["w2"], q["b1"]))  # noqa: E731
        size = np.max(np.sum(params["w1"] ** 2, -1) + params["b1"] ** 2 + np.sum(params["w2"] ** 2, -2))
        predicted = cons.rescale_step_change(g["w1"], g["w2"], lr=lr, grad_bias=g["b1"])
        assert np.abs(predicted).max() > 1e-6
        np.testing.assert_allclose(rescale(new) - rescale(params), predicted, rtol=0,
                                   atol=float(cons.roundoff_bound(size, n_terms=5 + 1 + 8)))
        scale_new = np.asarray(measure.scale_charges(new["w2"]))
        scale_old = np.asarray(measure.scale_charges(params["w2"]))
        np.testing.assert_allclose(scale_new - scale_old, cons.scale_step_change(g["w2"], lr=lr), rtol=0,
                                   atol=float(cons.roundoff_bound(scale_old.max(), n_terms=8)))
        params = new
    np.testing.assert_allclose(measure.translation_charge(params["w3"], params["b3"]), translation0, atol=1e-13)


def test_balance_step_change_matches_a_gd_step_of_a_linear_net():
    k1, k2, k3 = jax.random.split(jax.random.key(9), 3)
    x, y = jax.random.normal(k1, (10, 4)), jax.random.normal(k2, (10, 3))
    p = {"w1": jax.random.normal(k3, (5, 4)), "w2": jax.random.normal(jax.random.key(10), (3, 5))}
    loss = lambda q: 0.5 * jnp.mean(jnp.sum((x @ q["w1"].T @ q["w2"].T - y) ** 2, -1))  # noqa: E731
    new, g = gd_step(p, loss, 0.05)
    balance = lambda q: np.asarray(q["w1"] @ q["w1"].T - q["w2"].T @ q["w2"])  # noqa: E731
    predicted = cons.balance_step_change(g["w1"], g["w2"], lr=0.05)
    np.testing.assert_allclose(balance(new) - balance(p), predicted, atol=1e-12)
    assert np.abs(predicted - np.diag(np.diag(predicted))).max() > 1e-4        # off-diagonal entries are new
    np.testing.assert_allclose(np.diag(predicted), cons.rescale_step_change(g["w1"], g["w2"], lr=0.05), atol=1e-15)


def test_flow_drift_integrates_exactly_for_cubics_and_matches_fixed_time_drift():
    t = np.linspace(0.0, 2.0, 7)
    rates = np.stack([t**3, 1 + t], axis=1)                     # Simpson's rule is exact for cubics
    np.testing.assert_allclose(cons.flow_drift(t, rates, lr=0.1), [0.1 * 4.0, 0.1 * 4.0], rtol=1e-12)
    np.testing.assert_allclose(cons.flow_drift(t, 3.0 + 0 * t, lr=0.01), cons.fixed_time_drift(6.0, lr=0.01))
    with pytest.raises(ValueError, match="times"):
        cons.flow_drift(t[::-1], rates, lr=0.1)


def test_equilibrium_norm_is_the_fixed_point_of_the_norm_map():
    """s' = (1 - lr wd)^2 s + lr^2 G / s converges to s^2 = lr G / (2 wd) (1 + O(lr wd))."""
    lr, wd, g = 0.1, 0.05, 0.3
    s = 5.0
    for _ in range(20000):
        s = (1 - lr * wd) ** 2 * s + lr**2 * g / s
    predicted = float(cons.equilibrium_norm(g, lr=lr, weight_decay=wd))
    assert np.sqrt(s) == pytest.approx(predicted, rel=lr * wd)             # leading order in lr * wd
    exact = (lr**2 * g / (1 - (1 - lr * wd) ** 2)) ** 0.25
    assert np.sqrt(s) == pytest.approx(exact, rel=1e-10)
    # at fixed lr * wd the norm scales as (lr / wd)^(1/4)
    ratio = cons.equilibrium_norm(g, lr=4 * lr, weight_decay=wd / 4) / cons.equilibrium_norm(g, lr=lr, weight_decay=wd)
    assert float(ratio) == pytest.approx(16.0 ** cons.equilibrium_norm_exponent(), rel=1e-12)


def test_new_conservation_functions_validate():
    with pytest.raises(ValueError, match="hidden units"):
        cons.balance_step_change(np.ones((3, 2)), np.ones((1, 4)), lr=0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        cons.equilibrium_norm(1.0, lr=0.1, weight_decay=0.0)
    with pytest.raises(ValueError, match="angular_grad_sq"):
        cons.equilibrium_norm(-1.0, lr=0.1, weight_decay=0.1)
    with pytest.raises(ValueError, match="rates"):
        cons.flow_drift(np.linspace(0, 1, 5), [np.nan] * 5, lr=0.1)
