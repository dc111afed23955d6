"""The activation registry against independent computations: autodiff, Taylor series, quadrature, sampling."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

from lmtheory.simulation import models
from lmtheory.theory import activations, finite_width, kernels, meanfield, renormalization

U = np.linspace(-2.5, 2.5, 41) + 0.013                  # avoids the ReLU kink at exactly 0


@pytest.mark.parametrize("name", sorted(activations.REGISTRY))
def test_numpy_and_jax_phi_agree_and_dphi_is_the_derivative(name):
    a = activations.get(name)
    phi_j, dphi_j = activations.jax_phi(name), activations.jax_dphi(name)
    np.testing.assert_allclose(np.asarray(phi_j(jnp.asarray(U))), a.phi(U), rtol=1e-12, atol=1e-15)
    grad = np.asarray(jax.vmap(jax.grad(phi_j))(jnp.asarray(U)))
    np.testing.assert_allclose(a.dphi(U), grad, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(np.asarray(dphi_j(jnp.asarray(U))), grad, rtol=1e-10, atol=1e-14)
    assert models.ACTIVATIONS[name] is phi_j                           # the networks use the same function


@pytest.mark.parametrize("name", activations.names(taylor=True))
def test_taylor_coefficients_are_the_derivatives_at_zero(name):
    f, coeffs = activations.jax_phi(name), []
    for _ in range(6):
        coeffs.append(float(f(0.0)))
        f = jax.grad(f)
    np.testing.assert_allclose(activations.get(name).taylor, coeffs, atol=1e-12)


@pytest.mark.parametrize("name", activations.names(scale_invariant=True))
def test_scale_invariant_slopes(name):
    a_plus, a_minus = activations.get(name).slopes
    phi = activations.get(name).phi
    np.testing.assert_allclose(phi(U), np.where(U > 0, a_plus * U, a_minus * U), rtol=1e-15)
    assert finite_width.VERTEX[name] == pytest.approx(
        integrate.quad(lambda z: phi(z) ** 4 * math.exp(-z * z / 2), -np.inf, np.inf)[0] * math.sqrt(2 * math.pi)
        / integrate.quad(lambda z: phi(z) ** 2 * math.exp(-z * z / 2), -np.inf, np.inf)[0] ** 2 - 1, rel=1e-9)


CASES = ((1.0, 0.3, 2.0), (0.5, -0.4, 0.7), (2.0, 1.9, 2.0))               # (Var u, Cov(u, v), Var v)


@pytest.mark.parametrize("name", ["erf", "linear"])
def test_smooth_closed_form_duals_match_quadrature(name):
    a = activations.get(name)
    for var1, cov, var2 in CASES:
        expected = [meanfield.gaussian_mean_2d(lambda u, v, f=f: f(u) * f(v), var1, var2, cov) for f in (a.phi, a.dphi)]
        np.testing.assert_allclose(activations.dual(var1, cov, var2, activation=name), expected, rtol=1e-8)


def test_relu_dual_is_half_the_arccos_kernels():
    """u = w.x, v = w.y with w ~ N(0, I): E[relu(u) relu(v)] = k_1(x, y)/2, P(u > 0, v > 0) = k_0(x, y)/2."""
    for var1, cov, var2 in CASES:
        x = np.array([[np.sqrt(var1), 0.0]])
        y = np.array([[cov / np.sqrt(var1), np.sqrt(var2 - cov**2 / var1)]])
        expected = [kernels.arccos_kernel(x, y, order=1)[0, 0] / 2, kernels.arccos_kernel(x, y, order=0)[0, 0] / 2]
        np.testing.assert_allclose(activations.dual(var1, cov, var2, activation="relu"), expected, rtol=1e-12)


def test_theory_modules_read_the_registry():
    assert set(kernels.ACTIVATIONS) == {"relu", "erf", "linear"}
    assert set(finite_width.ACTIVATIONS) == {"relu", "linear"}
    assert set(renormalization.TAYLOR) == {"tanh", "erf", "sin"}
    assert meanfield.ACTIVATIONS["tanh"][0] is activations.get("tanh").phi


@pytest.mark.parametrize("call, match", [
    (lambda: activations.get("gelu"), "activation"),
    (lambda: activations.jax_phi("swish"), "activation"),
    (lambda: activations.dual(1.0, 0.5, 1.0, activation="tanh"), "activation"),
    (lambda: activations.dual(-1.0, 0.0, 1.0), "var1"),
    (lambda: activations.vertex_coefficient(1.5), "slope"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
