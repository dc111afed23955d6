"""Width exponents of one training step: the abc-parameterization table and power counting (Part IV).

Set-up and units. An MLP of depth ``L >= 3`` (number of weight matrices) with input dimension ``d`` fixed, hidden
width ``n``, a scalar output and a smooth activation ``phi``: ``h_1 = W_1 x``, ``h_l = W_l phi(h_{l-1})``,
``f = W_L phi(h_{L-1})``. In Yang & Hu's *abc-parameterization* each layer is ``W_l = n^{-a_l} w_l`` with trained
parameters ``w_l ~ N(0, n^{-2 b_l})`` and learning rate ``lr n^{-c}`` on ``w_l``; ``lr`` is the width-independent
base rate. The *effective* weight ``W_l`` then has entries of size ``n^{-(a_l + b_l)}``, and one step moves it by
``lr n^{-(2 a_l + c)} dL/dW_l`` (SGD: the chain rule brings one ``n^{-a_l}``, the update another) or by
``lr n^{-(a_l + c)} sign-like(dL/dW_l)`` (Adam's first step, which normalizes every entry).

Every function returns an *exponent* ``p`` in ``size ~ n^p`` of the per-coordinate (RMS over units) change after one
step at fixed ``lr``, batch size and inputs -- dimensionless. The exponents are asymptotic (``n -> infinity`` at
fixed ``lr``) and describe the leading order in ``lr`` (linear response); they are exact for the terms they count.

References: G. Yang & E. J. Hu, "Tensor Programs IV: Feature Learning in Infinite-Width Neural Networks", ICML 2021,
arXiv:2011.14522 (Tables 1-3); G. Yang, J. B. Simon & J. Bernstein, "A Spectral Condition for Feature Learning",
arXiv:2310.17813 (2023); G. Yang & E. Littwin, arXiv:2308.01814 (2023) for Adam.
"""

from __future__ import annotations

import numpy as np

from lmtheory import _validate

PARAMETERIZATIONS = ("standard", "ntk", "mup")
QUANTITIES = ("input_features", "hidden_features", "output")
OPTIMIZERS = ("sgd", "adam")
# rows: input layer, hidden layers, output layer; columns: a, b (the learning-rate exponent c is 0 in all three)
_ABC = {"standard": [[0.0, 0.0], [0.0, 0.5], [0.0, 0.5]],
        "ntk": [[0.0, 0.0], [0.5, 0.0], [0.5, 0.0]],
        "mup": [[-0.5, 0.5], [0.0, 0.5], [0.5, 0.5]]}


def abc_table(parameterization: str) -> np.ndarray:
    """Yang & Hu's ``(a_l, b_l, c)`` of a parameterization: rows input / hidden / output layer.

    ``standard`` (SP): ``a = 0``, ``b = (0, 1/2, 1/2)``; ``ntk``: ``a = (0, 1/2, 1/2)``, ``b = 0``; ``mup`` (for SGD):
    ``a = (-1/2, 0, 1/2)``, ``b = 1/2``; ``c = 0`` in all three, i.e. the base learning rate on the ``w_l`` is
    width-independent. Dimensionless exponents of the width ``n`` (the input dimension is O(1)).
    Reference: Yang & Hu 2021, arXiv:2011.14522, Table 3 (a, b, c up to their symmetry ``a -> a + t, b -> b - t,
    c -> c - 2t``).

    >>> abc_table("mup").tolist()
    [[-0.5, 0.5, 0.0], [0.0, 0.5, 0.0], [0.5, 0.5, 0.0]]
    """
    _validate.one_of("parameterization", parameterization, set(PARAMETERIZATIONS))
    return np.hstack([np.array(_ABC[parameterization]), np.zeros((3, 1))])


def effective_exponents(parameterization: str, optimizer: str = "sgd") -> tuple[np.ndarray, np.ndarray]:
    """``(init, lr)``: the exponents ``-(a + b)`` of the effective weights' entries and ``-(2a + c)`` (SGD) or
    ``-(a + c)`` (Adam) of their per-layer learning rates, rows input / hidden / output.

    SP: init ``(0, -1/2, -1/2)``, lr ``(0, 0, 0)``. NTK (SGD): lr ``(0, -1, -1)`` = ``1/fan_in``. muP (SGD): init
    ``(0, -1/2, -1)``, lr ``(1, 0, -1)`` = ``fan_out/fan_in`` -- the spectral condition
    ``||Delta W_l||_op ~ sqrt(fan_out/fan_in)`` for a rank-one gradient (Yang, Simon & Bernstein 2023). Dimensionless.

    >>> [e.tolist() for e in effective_exponents("mup")]
    [[-0.0, -0.5, -1.0], [1.0, -0.0, -1.0]]
    """
    _validate.one_of("optimizer", optimizer, set(OPTIMIZERS))
    a, b, c = abc_table(parameterization).T
    return -(a + b), -((2.0 if optimizer == "sgd" else 1.0) * a + c)


def update_exponent(parameterization: str, quantity: str, optimizer: str = "sgd") -> float:
    """Exponent ``p`` of the per-coordinate change ``~ n^p`` of a layer's pre-activations after one step.

    Power counting for one step on ``O(1)`` inputs, assuming a stable forward pass at initialization (activations of
    size ``O(1)``: the effective init exponents are ``(0, -1/2, .)``, true in all three tabulated parameterizations).
    With ``beta`` the output layer's init exponent and ``g_l`` the lr exponents of :func:`effective_exponents`:

    * backward signals ``delta_l = d f/d h_l`` have coordinates ``n^beta`` in every hidden layer (a hidden
      ``W^T`` with entries ``n^{-1/2}`` preserves the size of a random vector); so an SGD step changes ``W_l``
      by entries ``n^{u_l}``, ``u_l = g_l + beta`` (``u_L = g_L``); Adam's first step by ``u_l = g_l``;
    * input layer: ``Delta h_1 = Delta W_1 x`` sums over ``d = O(1)`` inputs: ``p_1 = u_1``;
    * hidden layer: ``Delta W_l x_{l-1}`` is a *coherent* sum of ``n`` aligned terms (``Delta W_l`` is rank one
      along ``x_{l-1}``): ``n^{u_l + 1}``; ``W_l Delta x_{l-1}`` keeps the size of ``Delta x_{l-1}``
      (``||W_l||_op = O(1)``): ``p_l = max(u_l + 1, p_{l-1})``;
    * output: ``Delta W_L x_{L-1}`` gives ``n^{u_L + 1}``; ``W_L Delta x_{L-1}`` is coherent too (``Delta x_{L-1}``
      is aligned with ``W_L^T`` through ``delta``): ``n^{1 + beta + p_{L-1}}``; ``p_L = max`` of the two.

    Results (SGD): hidden features SP ``+1/2``, muP ``0``, NTK ``-1/2``; output SP ``+1``, muP ``0``, NTK ``0``;
    input-layer features SP ``-1/2``, muP ``0``, NTK ``-1/2``. Adam in SP: input ``0``, hidden ``+1``, output
    ``+3/2``. ``quantity`` is ``"input_features"`` (``h_1``), ``"hidden_features"`` (``h_l``, ``2 <= l < L``, all
    equal) or ``"output"`` (``f``). Asymptotic in ``n``, leading order in ``lr``. Dimensionless.
    Reference: Yang & Hu 2021 (arXiv:2011.14522), Sec. 3 and Table 1; Yang, Simon & Bernstein 2023.

    >>> update_exponent("standard", "output")
    1.0
    >>> [update_exponent(p, "hidden_features") for p in ("standard", "mup", "ntk")]
    [0.5, 0.0, -0.5]
    """
    _validate.one_of("quantity", quantity, set(QUANTITIES))
    init, lr = effective_exponents(parameterization, optimizer)
    if init[0] != 0 or init[1] != -0.5:
        raise ValueError(f"parameterization {parameterization!r} has no stable forward pass at initialization")
    beta = init[2]
    u = lr + (np.array([beta, beta, 0.0]) if optimizer == "sgd" else 0.0)
    p_input = u[0]
    p_hidden = max(u[1] + 1.0, p_input)
    p_output = max(u[2] + 1.0, 1.0 + beta + p_hidden)
    return float({"input_features": p_input, "hidden_features": p_hidden, "output": p_output}[quantity])


def weight_update_opnorm_exponent(parameterization: str, layer: str, optimizer: str = "sgd") -> float:
    """Exponent of ``||Delta W_l||_op`` after one step (batch ``O(1)``), for ``layer`` ``"input"``, ``"hidden"``
    or ``"output"``.

    A rank-one update with entries ``n^{u_l}`` (see :func:`update_exponent`) of shape (fan_out, fan_in) has operator
    norm ``n^{u_l} sqrt(fan_out fan_in)``. The spectral condition of Yang, Simon & Bernstein (2023) asks for
    ``sqrt(fan_out/fan_in)``: ``+1/2``, ``0``, ``-1/2`` for input, hidden, output -- which muP meets for SGD.
    Dimensionless.

    >>> weight_update_opnorm_exponent("mup", "hidden")
    0.0
    >>> [weight_update_opnorm_exponent("mup", l) for l in ("input", "hidden", "output")]
    [0.5, 0.0, -0.5]
    """
    _validate.one_of("layer", layer, {"input", "hidden", "output"})
    init, lr = effective_exponents(parameterization, optimizer)
    row = ("input", "hidden", "output").index(layer)
    u = lr[row] + (init[2] if optimizer == "sgd" and row < 2 else 0.0)
    fan_out, fan_in = ((1.0, 0.0), (1.0, 1.0), (0.0, 1.0))[row]      # exponents of n
    return float(u + 0.5 * (fan_out + fan_in))


def _gauss(f, var: float = 1.0) -> float:
    """``E f(sqrt(var) z)`` for ``z ~ N(0, 1)`` by 80-point Gauss-Hermite quadrature."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    return float(np.sum(weights * f(np.sqrt(var) * nodes)) / np.sqrt(2.0 * np.pi))


def sp_hidden_change_rms(width, *, lr: float, target: float, activation: str = "tanh"):
    """Leading-order RMS over units of ``Delta h_2`` after one SGD step, standard parameterization, depth 3.

    Set-up: ``f = W_3 phi(W_2 phi(W_1 x))`` with ``W_l ~ N(0, 1/fan_in)``, one input with ``|x|^2 = d``, the model
    centred (``f(theta_0) = 0``) and one step of SGD at rate ``lr`` on ``L = (f - y)^2 / 2`` (so ``dL/df = -y``).
    The step changes ``W_2`` by the rank-one ``lr y delta_2 x_1^T`` with ``delta_2 = W_3^T * phi'(h_2)``, which
    acts on the ``n`` coordinates of ``x_1 = phi(h_1)`` coherently: ``Delta h_2 = lr y |x_1|^2 delta_2 + ...``. With
    ``|x_1|^2 -> n q_1``, ``q_1 = E phi(z)^2``, and ``|delta_2|^2 -> E phi'(sqrt(q_1) z)^2`` (``z ~ N(0,1)``),

    ``RMS(Delta h_2) = lr |y| q_1 sqrt(n E phi'(sqrt(q_1) z)^2) (1 + O(1/n))``.

    The largest correction is the first layer's own update acting through ``W_2``: a relative ``c/n`` with
    ``c = d E phi'(z)^2 / E phi(z)^2`` (:func:`sp_next_order_coefficient`). Asymptotic in the width ``n``; exact in
    ``lr`` up to the first layer's ``O(lr n^{-1/2})`` change. Units of ``h``; ``width`` may be an array.
    Reference: the power counting of Yang & Hu 2021 (arXiv:2011.14522), made explicit for one step.

    >>> round(float(sp_hidden_change_rms(1024, lr=0.01, target=1.0)), 4)
    0.1007
    """
    n = _validate.positive_array("width", width)
    _validate.positive("lr", lr)
    _validate.finite("target", target)
    phi, dphi = _activation(activation)
    q1 = _gauss(lambda z: phi(z) ** 2)
    return lr * abs(float(target)) * q1 * np.sqrt(n * _gauss(lambda z: dphi(z) ** 2, q1))


def sp_next_order_coefficient(dim: int, *, activation: str = "tanh") -> float:
    """``c = d E phi'(z)^2 / E phi(z)^2`` (``z ~ N(0, 1)``): the next-order relative correction ``c/n`` to
    :func:`sp_hidden_change_rms`.

    The first layer's update ``Delta W_1 = lr y delta_1 x^T`` (``|x|^2 = d``) changes ``x_1`` by ``lr y d
    phi'(h_1)^2 * W_2^T delta_2``, and ``W_2`` maps it back onto ``delta_2``: its overlap with the leading term is
    ``lr^2 y^2 d |x_1|^2 tr(D_2 W_2 D_1^2 W_2^T D_2)/n``, a relative ``2c/n`` of the mean square (``D`` the diagonal
    of ``phi'``), i.e. ``c/n`` of the RMS. Dimensionless; heuristic (the correlation of ``D_2`` with ``W_2`` is
    neglected, itself ``O(1/n)``).

    >>> round(sp_next_order_coefficient(2), 3)
    2.356
    """
    _validate.positive("dim", dim, integer=True)
    phi, dphi = _activation(activation)
    return dim * _gauss(lambda z: dphi(z) ** 2) / _gauss(lambda z: phi(z) ** 2)


def _activation(name):
    from lmtheory.theory import activations

    _validate.one_of("activation", name, {"tanh", "erf"})
    act = activations.get(name)
    return act.phi, act.dphi
