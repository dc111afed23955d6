"""Closed-form theory. Imports only numpy/scipy/jax.numpy -- never models, training or measurement code.

The rule, and the decision on jax (``tests/test_layering.py`` proves both):

* a theory module imports no ``lmtheory.simulation``, ``lmtheory.contract`` or ``lmtheory.book`` module (nor the
  package face's short names for them), no flax, optax or seaborn, and importing it loads none of them;
* ``jax.numpy`` is allowed for *pure, traceable closed forms* (a kernel, its eigenfunctions, a ridge solve), so
  that a simulation may call them inside ``jax.vmap``; anything that *samples* (``jax.random``, ``numpy.random``)
  or *trains* is simulation and lives in :mod:`lmtheory.simulation`. A theory function returns what the theory
  predicts from a run's inputs; it never estimates from samples (estimates are :mod:`lmtheory.contract.stats`).
* What the theory knows about each nonlinearity lives in one registry, :mod:`lmtheory.theory.activations`.

Modules (import the one a chapter needs, e.g. ``from lmtheory.theory import kernels``):

Part I    ``linear_networks`` (Saxe mode dynamics), ``gradient_flow`` (GD vs flow, modified flows),
          ``conservation`` (Noether charges and their GD drift), ``implicit_bias`` (diagonal nets, min-l1/l2),
          ``kernels`` (NNGP/NTK, arc-cosine kernels, kernel regression, the ``Network`` description shared with
          the samplers -- Parts II and III), ``activations`` (the activation registry),
          ``lazy`` (output-scale limit), ``silent_alignment``, ``stability`` (2/lambda_max, edge of stability).
Part II   ``perceptron`` (Cover's count, Gardner capacity, online Hebb/perceptron learning curves),
          ``meanfield`` (signal propagation by Gauss-Hermite quadrature), ``nngp``, ``sgd`` (online least
          squares: temperature, divergence), ``random_matrix`` (Marchenko-Pastur, BBP), ``double_descent``,
          ``eigenlearning`` (kappa, learnabilities, learning curves), ``scaling`` (power-law exponents),
          ``exact_spectra`` (hypercube and circle kernels with closed-form eigensystems).
Part III  ``finite_width`` (1/width expansion, log-normal limit), ``renormalization`` (kernel RG flow),
          ``quanta`` (Zipf quanta, tail sums; the task that tests it is :mod:`lmtheory.simulation.sparse_parity`);
          ``eigenlearning`` and ``linear_networks`` again.
"""

from lmtheory.theory import linear_networks

__all__ = ["linear_networks"]
