"""lmtheory.theory.parameterizations against independent computations: an exact one-step update of small networks
written out by hand in numpy (float64), Monte Carlo over initializations, and quadrature."""

import jax
import numpy as np
import pytest
from scipy import integrate

from lmtheory.simulation import models
from lmtheory.theory import parameterizations as th

WIDTHS = np.array([64, 128, 256, 512, 1024])


def _init(rng, d, n, parameterization):
    """Effective weights of the table: std 1/sqrt(fan_in), muP output 1/fan_in."""
    w1 = rng.standard_normal((n, d)) / np.sqrt(d)
    w2 = rng.standard_normal((n, n)) / np.sqrt(n)
    w3 = rng.standard_normal((1, n)) / (n if parameterization == "mup" else np.sqrt(n))
    return w1, w2, w3


def _rates(d, n, parameterization):
    return {"standard": (1.0, 1.0, 1.0), "ntk": (1 / d, 1 / n, 1 / n), "mup": (n / d, 1.0, 1 / n)}[parameterization]


def _one_step(rng, n, parameterization, *, phi=np.tanh, dphi=lambda u: 1 / np.cosh(u) ** 2, d=2, lr=0.02, y=1.0,
              adam=False):
    """(|Delta h_1|, |Delta h_2|, |Delta f|) per coordinate after one step of the centred network on one input,
    with the gradients written out by hand (chi = dL/df = -y at the first step)."""
    x = rng.standard_normal(d)
    x *= np.sqrt(d) / np.linalg.norm(x)
    w1, w2, w3 = _init(rng, d, n, parameterization)
    h1 = w1 @ x
    x1 = phi(h1)
    h2 = w2 @ x1
    x2 = phi(h2)
    chi = -y
    delta2 = w3[0] * dphi(h2)
    delta1 = (w2.T @ delta2) * dphi(h1)
    grads = (chi * np.outer(delta1, x), chi * np.outer(delta2, x1), chi * x2[None, :])
    if adam:
        grads = tuple(np.sign(g) for g in grads)
    new = [w - r * lr * g for w, r, g in zip((w1, w2, w3), _rates(d, n, parameterization), grads)]
    h1n = new[0] @ x
    h2n = new[1] @ phi(h1n)
    fn = new[2] @ phi(h2n)
    rms = lambda a: np.sqrt(np.mean(a**2))
    return rms(h1n - h1), rms(h2n - h2), abs(float(fn[0] - (w3 @ x2)[0]))


def _slopes(parameterization, seeds=24, **kw):
    rng = np.random.default_rng(0)
    vals = np.array([[_one_step(rng, n, parameterization, **kw) for _ in range(seeds)] for n in WIDTHS])
    return np.polyfit(np.log(WIDTHS), np.log(vals.mean(1)), 1)[0]     # (quantity,) slopes


@pytest.mark.parametrize("parameterization", th.PARAMETERIZATIONS)
def test_exponents_match_a_hand_written_one_step_update(parameterization):
    measured = _slopes(parameterization)
    predicted = [th.update_exponent(parameterization, q) for q in th.QUANTITIES]
    np.testing.assert_allclose(measured, predicted, atol=0.06)


def test_exponents_hold_for_a_linear_network_too():
    measured = _slopes("standard", phi=lambda u: u, dphi=np.ones_like)
    np.testing.assert_allclose(measured, [-0.5, 0.5, 1.0], atol=0.06)


def test_adam_exponents_match_a_sign_update():
    measured = _slopes("standard", adam=True, lr=2e-4)
    predicted = [th.update_exponent("standard", q, optimizer="adam") for q in th.QUANTITIES]
    np.testing.assert_allclose(measured, predicted, atol=0.08)


def test_sp_coefficient_matches_monte_carlo_at_large_width():
    rng = np.random.default_rng(1)
    n = 2048
    samples = np.array([_one_step(rng, n, "standard")[1] for _ in range(24)])
    pred = th.sp_hidden_change_rms(n, lr=0.02, target=1.0)
    corr = 1 + th.sp_next_order_coefficient(2) / n
    assert abs(samples.mean() - pred * corr) < 4 * samples.std(ddof=1) / np.sqrt(samples.size) + 0.003 * pred


def test_next_order_coefficient_by_quadrature():
    gauss = lambda f: integrate.quad(lambda z: f(z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi), -12, 12)[0]
    expected = 3 * gauss(lambda z: 1 / np.cosh(z) ** 4) / gauss(lambda z: np.tanh(z) ** 2)
    assert th.sp_next_order_coefficient(3) == pytest.approx(expected, rel=1e-6)


def test_spectral_condition_is_met_by_mup_and_only_by_mup():
    target = [0.5, 0.0, -0.5]                  # sqrt(fan_out/fan_in) for input, hidden, output
    layers = ("input", "hidden", "output")
    assert [th.weight_update_opnorm_exponent("mup", l) for l in layers] == target
    for p in ("standard", "ntk"):
        assert [th.weight_update_opnorm_exponent(p, l) for l in layers] != target


def test_opnorm_exponent_matches_a_rank_one_update():
    rng = np.random.default_rng(2)
    norms = []
    for n in WIDTHS:
        d, one = 2, []
        for _ in range(16):
            x = rng.standard_normal(d)
            x *= np.sqrt(d) / np.linalg.norm(x)
            w1, w2, w3 = _init(rng, d, n, "mup")
            x1 = np.tanh(w1 @ x)
            delta2 = w3[0] / np.cosh(w2 @ x1) ** 2
            one.append(np.linalg.norm(np.outer(delta2, x1), 2))      # rate 1 on the hidden layer in muP
        norms.append(np.mean(one))
    slope = np.polyfit(np.log(WIDTHS), np.log(norms), 1)[0]
    assert slope == pytest.approx(th.weight_update_opnorm_exponent("mup", "hidden"), abs=0.05)


@pytest.mark.parametrize("parameterization", th.PARAMETERIZATIONS)
def test_model_learning_rates_follow_the_abc_table(parameterization):
    scales = np.array([models.abc_lr_scales(2, n, 1, parameterization=parameterization) for n in (256, 1024)])
    measured = np.log(scales[1] / scales[0]) / np.log(4.0)
    np.testing.assert_allclose(measured, th.effective_exponents(parameterization)[1], atol=1e-12)
    ws = [models.abc_init(jax.random.key(0), 2, n, 1, parameterization=parameterization) for n in (256, 1024)]
    stds = np.array([[float(np.std(w)) for w in wn] for wn in ws])
    np.testing.assert_allclose(np.log(stds[1] / stds[0])[1:] / np.log(4.0), th.effective_exponents(parameterization)[0][1:],
                               atol=0.02)


@pytest.mark.parametrize("call", [
    lambda: th.update_exponent("sp", "output"),
    lambda: th.update_exponent("mup", "features"),
    lambda: th.update_exponent("mup", "output", optimizer="lion"),
    lambda: th.weight_update_opnorm_exponent("mup", "middle"),
    lambda: th.sp_hidden_change_rms(np.nan, lr=0.1, target=1.0),
    lambda: th.sp_hidden_change_rms(64, lr=-0.1, target=1.0),
    lambda: th.sp_hidden_change_rms(64, lr=0.1, target=1.0, activation="relu"),
])
def test_bad_arguments_are_named(call):
    with pytest.raises(ValueError, match="parameterization|quantity|optimizer|layer|width|lr|activation"):
        call()
