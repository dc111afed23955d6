"""The activation registry: every nonlinearity of the book defined once, with what the theory knows about it.

Each :class:`Activation` carries

* ``phi`` and ``dphi`` -- the function and its derivative, each written once against an array namespace and
  made available for numpy (:attr:`Activation.phi`, :attr:`Activation.dphi`: quadratures in
  :mod:`lmtheory.theory.meanfield`) and for ``jax.numpy`` (:func:`jax_phi`: the networks of
  :mod:`lmtheory.simulation.models` and :mod:`lmtheory.simulation.random_networks`; jax is imported only then);
* ``taylor`` -- ``(sigma_0, ..., sigma_5)``, ``sigma_k = phi^(k)(0)``, for an activation analytic at 0 (the
  critical flow of :mod:`lmtheory.theory.renormalization`);
* ``slopes`` -- ``(a_+, a_-)`` for a scale-invariant ``phi(z) = a_+ z (z > 0), a_- z (z < 0)`` (ReLU, linear:
  the exactly solvable class of :mod:`lmtheory.theory.finite_width`);
* ``dual`` -- whether the Gaussian expectations ``E[phi(u) phi(v)]`` and ``E[phi'(u) phi'(v)]`` have a closed form
  (:func:`dual`, used by the kernel recursions of :mod:`lmtheory.theory.kernels`): ReLU (arc-cosine kernels,
  Cho & Saul 2009), erf (Williams 1997) and linear.

Theory modules declare which closed forms they support by filtering the registry (:func:`names`), so "tanh" or
"relu" means the same function everywhere. Pre-activations ``u`` are dimensionless numbers; ``phi`` returns the
units of the post-activation.

>>> get("tanh").taylor[:4], get("relu").slopes, names(dual=True)
((0.0, 1.0, 0.0, -2.0), (1.0, 0.0), ('linear', 'relu', 'erf'))
"""

from __future__ import annotations

import functools
import types
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

from lmtheory import _validate

_SQRT_PI = float(np.sqrt(np.pi))


def _definitions(m):
    """``name -> (phi, phi')`` written against the namespace ``m`` (numpy+scipy or jax.numpy+jax.scipy)."""
    return {
        "linear": (lambda u: u, m.ones_like),
        "relu": (m.relu, lambda u: m.where(u > 0, 1.0, 0.0)),
        "tanh": (m.tanh, lambda u: 1.0 / m.cosh(u) ** 2),
        "erf": (m.erf, lambda u: 2.0 / _SQRT_PI * m.exp(-u * u)),
        "sin": (m.sin, m.cos),                  # a smooth K* = 0 activation with a_1 = -1 (renormalization chapter)
    }


_NUMPY = types.SimpleNamespace(ones_like=np.ones_like, relu=lambda u: np.maximum(u, 0.0), where=np.where,
                               tanh=np.tanh, cosh=np.cosh, erf=special.erf, exp=np.exp, sin=np.sin, cos=np.cos)


@dataclass(frozen=True)
class Activation:
    """One registered nonlinearity: numpy ``phi``/``dphi`` and the closed forms the theory has for it.

    >>> a = get("erf")
    >>> round(float(a.phi(1.0)), 6), round(float(a.dphi(0.0)), 6), bool(a.taylor[1] == a.dphi(0.0)), a.dual
    (0.842701, 1.128379, True, True)
    """

    name: str
    phi: Callable
    dphi: Callable
    taylor: tuple | None = None
    slopes: tuple | None = None
    dual: bool = False

    @property
    def scale_invariant(self) -> bool:
        """``phi(lambda z) = lambda phi(z)`` for ``lambda > 0``."""
        return self.slopes is not None


_CLOSED_FORMS = {  # name -> (taylor, slopes, dual)
    "linear": ((0.0, 1.0, 0.0, 0.0, 0.0, 0.0), (1.0, 1.0), True),
    "relu": (None, (1.0, 0.0), True),
    "erf": ((0.0, 2 / _SQRT_PI, 0.0, -4 / _SQRT_PI, 0.0, 24 / _SQRT_PI), None, True),
    "tanh": ((0.0, 1.0, 0.0, -2.0, 0.0, 16.0), None, False),     # tanh z = z - z^3/3 + 2 z^5/15
    "sin": ((0.0, 1.0, 0.0, -1.0, 0.0, 1.0), None, False),
}
REGISTRY = {name: Activation(name, phi, dphi, *_CLOSED_FORMS[name])
            for name, (phi, dphi) in _definitions(_NUMPY).items()}


def get(name: str) -> Activation:
    """The registered activation ``name`` (``ValueError`` listing the choices otherwise).

    >>> float(get("sin").phi(0.0)), get("relu").scale_invariant
    (0.0, True)
    """
    return REGISTRY[_validate.one_of("activation", name, set(REGISTRY))]


def names(*, dual: bool | None = None, scale_invariant: bool | None = None, taylor: bool | None = None) -> tuple:
    """Registered names, optionally only those with (``True``) or without (``False``) a given closed form.

    >>> names(scale_invariant=True), names(taylor=True, scale_invariant=False)
    (('linear', 'relu'), ('tanh', 'erf', 'sin'))
    """
    def keep(a):
        return all(want is None or bool(have) == want for want, have in
                   ((dual, a.dual), (scale_invariant, a.slopes), (taylor, a.taylor)))

    return tuple(name for name, a in REGISTRY.items() if keep(a))


@functools.lru_cache(maxsize=None)
def _jax_definitions():
    import jax
    import jax.numpy as jnp
    import jax.scipy.special

    m = types.SimpleNamespace(ones_like=jnp.ones_like, relu=jax.nn.relu, where=jnp.where, tanh=jnp.tanh,
                              cosh=jnp.cosh, erf=jax.scipy.special.erf, exp=jnp.exp, sin=jnp.sin, cos=jnp.cos)
    return _definitions(m)


def jax_phi(name: str) -> Callable:
    """``phi`` of the registered activation ``name`` in ``jax.numpy`` (traceable, differentiable).

    >>> import jax.numpy as jnp
    >>> jax_phi("relu")(jnp.array([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    return _jax_definitions()[get(name).name][0]


def jax_dphi(name: str) -> Callable:
    """``phi'`` of the registered activation ``name`` in ``jax.numpy``.

    >>> import jax.numpy as jnp
    >>> float(jax_dphi("tanh")(jnp.array(0.0)))
    1.0
    """
    return _jax_definitions()[get(name).name][1]


def vertex_coefficient(slope: float) -> float:
    """``c = E[phi(z)^4] / E[phi(z)^2]^2 - 1`` for ``phi(z) = max(z, slope z)`` and Gaussian ``z`` (0 <= slope <= 1).

    With ``A_k = (1 + slope^k)/2``: ``E[phi^2] = A_2 q``, ``E[phi^4] = 3 A_4 q^2``, so ``c = 6 (1 + slope^4) /
    (1 + slope^2)^2 - 1``, independent of ``q`` (Roberts, Yaida & Hanin, arXiv:2106.10165, sec. 5.5). Linear: 2,
    ReLU: 5. Dimensionless.

    >>> vertex_coefficient(1.0), vertex_coefficient(0.0)
    (2.0, 5.0)
    """
    if not 0.0 <= float(slope) <= 1.0:
        raise ValueError(f"slope must lie in [0, 1], got {slope!r}")
    a2 = float(slope) ** 2
    return 6.0 * (1.0 + a2 * a2) / (1.0 + a2) ** 2 - 1.0


def dual(var1, cov, var2, *, activation: str = "relu"):
    """``(E[phi(u) phi(v)], E[phi'(u) phi'(v)])`` for a centred Gaussian pair in closed form (arrays broadcast).

    ``Var u = var1``, ``Var v = var2``, ``Cov(u, v) = cov``; defined for the activations with ``dual=True``:

    * ``relu``: ``sqrt(var1 var2) J_1(theta) / (2 pi)`` and ``(pi - theta) / (2 pi)`` with ``cos theta = cov /
      sqrt(var1 var2)`` and ``J_1 = sin theta + (pi - theta) cos theta`` (Cho & Saul 2009, eq. 6: half the
      arc-cosine kernels of orders 1 and 0).
    * ``erf``: ``(2/pi) arcsin(2 cov / sqrt((1 + 2 var1)(1 + 2 var2)))`` and ``(4/pi) / sqrt((1 + 2 var1)(1 +
      2 var2) - 4 cov^2)`` (Williams 1997).
    * ``linear``: ``cov`` and ``1``.

    Units: those of ``phi^2`` and ``phi'^2``.

    >>> [round(float(v), 6) for v in dual(1.0, 1.0, 1.0)]            # E[ReLU(u)^2] = 1/2, P(u > 0) = 1/2
    [0.5, 0.5]
    """
    _validate.one_of("activation", activation, set(names(dual=True)))
    v1, c, v2 = (np.asarray(v, dtype=float) for v in (var1, cov, var2))
    for name, v in (("var1", v1), ("cov", c), ("var2", v2)):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must be finite, got {v}")
    if np.any(v1 < 0) or np.any(v2 < 0):
        raise ValueError(f"var1 and var2 must be >= 0, got var1={v1}, var2={v2}")
    if activation == "linear":
        return np.broadcast_arrays(c, np.ones_like(c))
    if activation == "erf":
        s = (1.0 + 2.0 * v1) * (1.0 + 2.0 * v2)
        return (2.0 / np.pi) * np.arcsin(np.clip(2.0 * c / np.sqrt(s), -1.0, 1.0)), \
            (4.0 / np.pi) / np.sqrt(np.maximum(s - 4.0 * c**2, 1e-300))
    scale = np.sqrt(v1 * v2)
    cos = np.clip(c / np.where(scale > 0, scale, 1.0), -1.0, 1.0)
    theta = np.arccos(cos)
    return scale * (np.sin(theta) + (np.pi - theta) * cos) / (2 * np.pi), (np.pi - theta) / (2 * np.pi)
