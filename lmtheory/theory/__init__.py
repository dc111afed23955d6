"""Closed-form theory. Imports only numpy/scipy/jax.numpy -- never models, training or measurement code.

Modules (import the one a chapter needs, e.g. ``from lmtheory.theory import kernels``):

Part I    ``linear_networks`` (Saxe mode dynamics), ``gradient_flow`` (GD vs flow, modified flows),
          ``conservation`` (Noether charges and their GD drift), ``implicit_bias`` (diagonal nets, min-l1/l2),
          ``kernels`` (NNGP/NTK, arc-cosine kernels, kernel regression -- shared with Parts II and III),
          ``lazy`` (output-scale limit), ``silent_alignment``, ``stability`` (2/lambda_max, edge of stability).
Part II   ``meanfield`` (signal propagation by Gauss-Hermite quadrature), ``nngp``, ``sgd`` (online least
          squares: temperature, divergence), ``random_matrix`` (Marchenko-Pastur, BBP), ``double_descent``,
          ``eigenlearning`` (kappa, learnabilities, learning curves), ``scaling`` (power-law exponents),
          ``exact_spectra`` (hypercube and circle kernels with closed-form eigensystems).
Part III  ``finite_width`` (1/width expansion, log-normal limit), ``renormalization`` (kernel RG flow),
          ``quanta`` (Zipf quanta, tail sums); ``eigenlearning`` and ``linear_networks`` again.
"""

from lmtheory.theory import linear_networks

__all__ = ["linear_networks"]
