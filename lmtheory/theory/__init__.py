"""Closed-form theory. Imports only numpy/scipy/jax.numpy -- never models, training or measurement code."""

from lmtheory.theory import linear_networks

__all__ = ["linear_networks"]
